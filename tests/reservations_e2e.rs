//! Reservations and persistent volumes end to end with real processes: three `meso master`s
//! (`--peers`) and a `meso agent`; an operator reserves resources and creates a volume over
//! HTTP, a framework on the v1 scheduler HTTP API writes into the volume with one task, the
//! leader is killed with SIGKILL, and on the new leader the reservation and the volume are
//! still there (learnt from the agent's re-registration), a second task reads what the first
//! wrote, and DESTROY removes the data. Timeouts are hang guards only.

use std::net::SocketAddr;
use std::path::Path;

use meso_testkit::eventually;
use meso_testkit::http::blocking::{call, post_json, request, try_get, EventStream};
use meso_testkit::process::{free_port, spawn_agent, spawn_logged, Proc};
use serde_json::{json, Value};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn state(port: u16) -> Option<Value> {
    serde_json::from_str(&try_get(port, "/master/state").map(|r| r.text())?).ok()
}

fn slaves(port: u16) -> Option<Value> {
    serde_json::from_str(&try_get(port, "/master/slaves").map(|r| r.text())?).ok()
}

/// The master (index) that leads, once exactly one does.
fn leader(ports: &[u16], alive: &[bool]) -> Option<usize> {
    let elected: Vec<usize> = (0..ports.len())
        .filter(|i| alive[*i])
        .filter(|i| state(ports[*i]).is_some_and(|s| s["elected"] == true))
        .collect();
    match elected[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// A framework on the v1 scheduler HTTP API.
struct HttpScheduler {
    port: u16,
    events: EventStream,
    stream_id: String,
    id: String,
}

impl HttpScheduler {
    fn subscribe(port: u16, role: &str) -> HttpScheduler {
        let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "root", "name": format!("{role}-framework"), "roles": [role],
            "principal": "ops-admin",
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]}}});
        let mut events = EventStream::open(addr(port), "/api/v1/scheduler", &[], &body.to_string());
        assert_eq!(events.status, 200, "SUBSCRIBE refused");
        let stream_id = events
            .header("Mesos-Stream-Id")
            .expect("a stream id")
            .to_string();
        let subscribed = events.until("SUBSCRIBED");
        let id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("a framework id")
            .to_string();
        HttpScheduler {
            port,
            events,
            stream_id,
            id,
        }
    }

    fn call(&self, mut body: Value) -> u16 {
        body["framework_id"] = json!({"value": self.id});
        let header = format!("Mesos-Stream-Id: {}", self.stream_id);
        let r = request(
            addr(self.port),
            "POST",
            "/api/v1/scheduler",
            &["Content-Type: application/json", &header],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 202, "{}: {}", body["type"], r.text());
        r.status
    }

    /// The next offer that holds the persistent volume `id`.
    fn offer_with_volume(&mut self, id: &str) -> Value {
        loop {
            let event = self.events.until("OFFERS");
            for offer in event["offers"]["offers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let has = offer["resources"].as_array().is_some_and(|rs| {
                    rs.iter()
                        .any(|r| r["disk"]["persistence"]["id"].as_str() == Some(id))
                });
                if has {
                    return offer;
                }
                self.call(
                    json!({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]],
                    "filters": {"refuse_seconds": 0.1}}}),
                );
            }
        }
    }

    /// Launches `command` as task `task` with the offer's reserved cpus/mem and its volume.
    fn launch_with_volume(&self, offer: &Value, task: &str, command: &str) {
        let resources: Vec<Value> = offer["resources"]
            .as_array()
            .expect("offer resources")
            .iter()
            .filter(|r| {
                r["disk"]["persistence"].is_object()
                    || (r["name"] == "cpus" || r["name"] == "mem") && r["reservations"].is_array()
            })
            .cloned()
            .collect();
        self.call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                "name": task, "task_id": {"value": task}, "agent_id": offer["agent_id"],
                "command": {"value": command}, "resources": resources}]}}],
            "filters": {"refuse_seconds": 0.1}}}),
        );
    }

    /// Acknowledges updates until `task` ends; returns its final state.
    fn until_terminal(&mut self, task: &str) -> String {
        loop {
            let update = self.events.until("UPDATE");
            let status = &update["update"]["status"];
            if let Some(uuid) = status["uuid"].as_str() {
                self.call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
                    "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": uuid}}));
            }
            let state = status["state"].as_str().unwrap_or_default().to_string();
            if status["task_id"]["value"] == task
                && !matches!(
                    state.as_str(),
                    "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING"
                )
            {
                return state;
            }
        }
    }
}

fn reserved_json() -> Value {
    let dynamic = json!([{"type": "DYNAMIC", "role": "ops", "principal": "ops-admin"}]);
    json!([
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": dynamic},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 128}, "reservations": dynamic},
        {"name": "disk", "type": "SCALAR", "scalar": {"value": 200}, "reservations": dynamic},
    ])
}

fn volume_json() -> Value {
    json!([{"name": "disk", "type": "SCALAR", "scalar": {"value": 100},
        "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "ops-admin"}],
        "disk": {"persistence": {"id": "v1", "principal": "ops-admin"},
                 "volume": {"mode": "RW", "container_path": "data"}}}])
}

fn volume_dir(work: &Path) -> std::path::PathBuf {
    work.join("volumes").join("roles").join("ops").join("v1")
}

#[test]
fn a_reservation_and_a_volume_survive_a_leader_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let peers = ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut masters: Vec<Option<Proc>> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let work = dir.path().join(format!("master{i}"));
        masters.push(Some(spawn_logged(
            &[
                "master",
                "--port",
                &port.to_string(),
                "--peers",
                &peers,
                "--work-dir",
                work.to_str().expect("utf-8 temp path"),
            ],
            &dir.path().join(format!("master{i}.log")),
        )));
    }
    let mut alive = vec![true; 3];
    let first = eventually("a leader is elected", || leader(&ports, &alive));
    let agent = spawn_agent(
        &peers,
        dir.path(),
        "agent",
        "cpus:4;mem:1024;disk:1000",
        &[],
    );
    let agent_work = dir.path().join("agent");
    let agent_id = eventually("the agent registered with the leader", || {
        let s = state(ports[first])?;
        s["slaves"][0]["id"].as_str().map(str::to_string)
    });

    // The operator reserves and creates a volume on the leader.
    let leader_addr = addr(ports[first]);
    let r = call(
        leader_addr,
        &json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
            "agent_id": {"value": agent_id}, "resources": reserved_json()}})
        .to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let r = call(
        leader_addr,
        &json!({"type": "CREATE_VOLUMES", "create_volumes": {
            "agent_id": {"value": agent_id}, "volumes": volume_json()}})
        .to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    eventually("the agent created the volume's directory", || {
        volume_dir(&agent_work).is_dir()
    });

    // A task of the role writes into the volume.
    let mut fw = HttpScheduler::subscribe(ports[first], "ops");
    let offer = fw.offer_with_volume("v1");
    fw.launch_with_volume(&offer, "writer", "echo persisted > data/note");
    assert_eq!(fw.until_terminal("writer"), "TASK_FINISHED");
    assert_eq!(
        std::fs::read_to_string(volume_dir(&agent_work).join("note")).expect("the note"),
        "persisted\n"
    );
    drop(fw);

    // SIGKILL the leader.
    let mut old = masters[first].take().expect("the leader runs");
    old.kill9();
    alive[first] = false;
    let second = eventually("another master leads", || leader(&ports, &alive));
    assert_ne!(second, first);
    eventually(
        "the new leader knows the reservation and the volume from the agent",
        || {
            let s = state(ports[second])?;
            let reserved = &s["slaves"][0]["reserved_resources"]["ops"];
            let full =
                slaves(ports[second])?["slaves"][0]["reserved_resources_full"]["ops"].to_string();
            (reserved["cpus"] == 1.0 && reserved["disk"] == 200.0 && full.contains("\"v1\""))
                .then_some(())
        },
    );

    // A task on the new leader reads what the first one wrote.
    let mut fw = HttpScheduler::subscribe(ports[second], "ops");
    let offer = fw.offer_with_volume("v1");
    fw.launch_with_volume(&offer, "reader", "test \"$(cat data/note)\" = persisted");
    assert_eq!(fw.until_terminal("reader"), "TASK_FINISHED");
    drop(fw);

    // DESTROY on the new leader removes the data.
    let r = call(
        addr(ports[second]),
        &json!({"type": "DESTROY_VOLUMES", "destroy_volumes": {
            "agent_id": {"value": agent_id}, "volumes": volume_json()}})
        .to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    eventually("the agent removed the volume's data", || {
        !volume_dir(&agent_work).exists()
    });
    let r = post_json(
        addr(ports[second]),
        "/api/v1",
        &json!({"type": "UNRESERVE_RESOURCES", "unreserve_resources": {
            "agent_id": {"value": agent_id}, "resources": reserved_json()}})
        .to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    eventually("the reservation is gone", || {
        state(ports[second]).is_some_and(|s| s["slaves"][0]["reserved_resources"] == json!({}))
    });
    drop(agent);
}
