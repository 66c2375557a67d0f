//! Reservations and persistent volumes end to end with real processes.
//!
//! - Three `meso master`s (`--peers`) and a `meso agent`: an operator reserves resources and
//!   creates a volume over HTTP, a framework on the v1 scheduler HTTP API writes into the
//!   volume with one task, the leader is killed with SIGKILL, and on the new leader the
//!   reservation and the volume are still there (learnt from the agent's re-registration),
//!   and still after the agent itself is killed and restarted; a second task reads what
//!   the first wrote, and DESTROY removes the data.
//! - Seed 000's scenario in one test: a static reservation offered only to its role, a
//!   dynamic reservation over HTTP, a volume written by one task and read by the next,
//!   weights 1 and 2 splitting a contended cluster 1:2 (offers counted over 100 cycles, on 30
//!   emulated agents), and a quota guarantee honoured while another role is greedy.
//!
//! Timeouts are hang guards only.

use std::net::SocketAddr;
use std::path::Path;

use meso_testkit::eventually;
use meso_testkit::http::blocking::{call, post_json, request, try_get, EventStream};
use meso_testkit::masters::Masters;
use meso_testkit::process::{free_port, meso_bin, spawn_agent, spawn_logged, Proc};
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

/// A framework on the v1 scheduler HTTP API.
struct HttpScheduler {
    port: u16,
    events: EventStream,
    stream_id: String,
    id: String,
}

/// Events of several frameworks read by one thread each, tagged with the framework's index.
type Pumped = std::sync::mpsc::Receiver<(usize, Value)>;

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

    /// Hands the event stream to a thread that sends each event, tagged `index`, to `tx`;
    /// returns what is left for making calls.
    fn pump(self, index: usize, tx: std::sync::mpsc::Sender<(usize, Value)>) -> Caller {
        let mut events = self.events;
        std::thread::spawn(move || {
            while let Some(event) = events.next_event() {
                if tx.send((index, event)).is_err() {
                    return;
                }
            }
        });
        Caller {
            port: self.port,
            stream_id: self.stream_id,
            id: self.id,
        }
    }

    fn call(&self, body: Value) -> u16 {
        Caller {
            port: self.port,
            stream_id: self.stream_id.clone(),
            id: self.id.clone(),
        }
        .call(body)
    }

    /// The first offer of the next OFFERS event.
    fn next_offer(&mut self) -> Value {
        loop {
            let event = self.events.until("OFFERS");
            if let Some(offer) = event["offers"]["offers"].get(0) {
                return offer.clone();
            }
        }
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

    /// Acknowledges updates until `task` ends; returns its final state. Offers that arrive
    /// meanwhile are declined, as a framework must: an offer left unanswered stays
    /// outstanding, and the resources in it (a volume freed by the task, say) are offered
    /// to nobody else until it is.
    fn until_terminal(&mut self, task: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "hang guard: {task} did not end"
            );
            let Some(update) = self.events.next_event() else {
                panic!("stream ended while waiting for {task} to end");
            };
            if update["type"] == "OFFERS" {
                for offer in update["offers"]["offers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    self.call(
                        json!({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]],
                        "filters": {"refuse_seconds": 0.1}}}),
                    );
                }
                continue;
            }
            if update["type"] != "UPDATE" {
                continue;
            }
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

/// The calls side of a framework whose events are pumped.
struct Caller {
    port: u16,
    stream_id: String,
    id: String,
}

impl Caller {
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

    fn decline(&self, offers: Vec<Value>) {
        if !offers.is_empty() {
            self.call(json!({"type": "DECLINE", "decline": {"offer_ids": offers,
                "filters": {"refuse_seconds": 0}}}));
        }
    }
}

/// The cpus of an offer.
fn cpus(offer: &Value) -> f64 {
    offer["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["name"] == "cpus")
                .filter_map(|r| r["scalar"]["value"].as_f64())
                .sum()
        })
        .unwrap_or(0.0)
}

/// Offers held by each framework, by offer id, with their cpus.
type Held = Vec<std::collections::HashMap<String, (Value, f64)>>;

/// Takes pumped events until `done` holds for what the frameworks hold; counts the offers
/// each one got in `counts`.
fn hold_until(
    events: &Pumped,
    held: &mut Held,
    counts: &mut [usize],
    done: impl Fn(&Held) -> bool,
) {
    let deadline = std::time::Instant::now() + meso_testkit::HANG_GUARD;
    while !done(held) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok((i, event)) = events.recv_timeout(left) else {
            let what: Vec<(usize, f64)> = held
                .iter()
                .map(|h| (h.len(), h.values().map(|(_, c)| c).sum()))
                .collect();
            panic!("hang guard: the frameworks hold (offers, cpus) {what:?}");
        };
        match event["type"].as_str() {
            Some("OFFERS") => {
                for offer in event["offers"]["offers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    counts[i] += 1;
                    let id = offer["id"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let c = cpus(&offer);
                    held[i].insert(id, (offer["id"].clone(), c));
                }
            }
            Some("RESCIND") => {
                if let Some(id) = event["rescind"]["offer_id"]["value"].as_str() {
                    held[i].remove(id);
                }
            }
            _ => {}
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

fn operator(port: u16, body: Value) -> meso_testkit::http::Response {
    call(addr(port), &body.to_string())
}

/// A master of this test's own: a port that was free when asked may be taken by another
/// test's process before the master binds it, and then another test's master would answer
/// on it. The master is named (`--hostname`) so the test knows it is its own; one that
/// could not bind exits, and another port is tried.
fn start_own_master(dir: &Path) -> (Proc, u16) {
    let name = format!("seed000-{}", std::process::id());
    for attempt in 0..5 {
        let port = free_port();
        let mut master = spawn_logged(
            &[
                "master",
                "--port",
                &port.to_string(),
                "--hostname",
                &name,
                "--work-dir",
                dir.join(format!("master{attempt}"))
                    .to_str()
                    .expect("utf-8 temp path"),
            ],
            &dir.join(format!("master{attempt}.log")),
        );
        let ours = eventually("the master serves or exits", || {
            if master.0.try_wait().ok().flatten().is_some() {
                return Some(false);
            }
            state(port).map(|s| s["hostname"] == name.as_str())
        });
        if ours {
            return (master, port);
        }
        master.kill9();
    }
    panic!("no master of this test could bind a port in 5 attempts");
}

#[test]
fn seed_000_shares_a_cluster_with_reservations_volumes_weights_and_quota() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_master, port) = start_own_master(dir.path());
    let master = format!("127.0.0.1:{port}");
    let mut agent = spawn_agent(
        &master,
        dir.path(),
        "agent",
        "cpus:4;mem:2048;cpus(tuyucheng):8;mem(tuyucheng):4096",
        &[],
    );
    let agent_work = dir.path().join("agent");
    let agent_id = eventually("the agent registered", || {
        state(port)?["slaves"][0]["id"].as_str().map(str::to_string)
    });
    let static_reserved = state(port).expect("state")["slaves"][0]["reserved_resources"].clone();
    assert_eq!(
        static_reserved["tuyucheng"]["cpus"], 8.0,
        "{static_reserved}"
    );

    // A framework of another role is offered none of the reservation; one of the role is.
    let mut other = HttpScheduler::subscribe(port, "other");
    let offer = other.next_offer();
    let text = offer["resources"].to_string();
    assert!(!text.contains("tuyucheng"), "{text}");
    assert_eq!(cpus(&offer), 4.0, "{text}");
    other.call(
        json!({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]],
        "filters": {"refuse_seconds": 3600}}}),
    );
    let mut tuyucheng = HttpScheduler::subscribe(port, "tuyucheng");
    let offer = tuyucheng.next_offer();
    let text = offer["resources"].to_string();
    assert!(
        text.contains("tuyucheng") && text.contains("STATIC"),
        "{text}"
    );
    assert_eq!(cpus(&offer), 12.0, "{text}");
    tuyucheng.call(
        json!({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]],
        "filters": {"refuse_seconds": 0.1}}}),
    );

    // A dynamic reservation over HTTP, on top of the static one.
    let dynamic = json!([{"type": "DYNAMIC", "role": "tuyucheng", "principal": "ops-admin"}]);
    let r = operator(
        port,
        json!({"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": {"value": agent_id},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": dynamic},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 256}, "reservations": dynamic},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 64}, "reservations": dynamic}]}}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    eventually("the role has 8 static and 1 dynamic cpus", || {
        state(port)
            .is_some_and(|s| s["slaves"][0]["reserved_resources"]["tuyucheng"]["cpus"] == 9.0)
    });

    // A volume of the role, written by one task and read by the next.
    let r = operator(
        port,
        json!({"type": "CREATE_VOLUMES", "create_volumes": {"agent_id": {"value": agent_id},
            "volumes": [{"name": "disk", "type": "SCALAR", "scalar": {"value": 64},
                "reservations": dynamic,
                "disk": {"persistence": {"id": "tv", "principal": "ops-admin"},
                         "volume": {"mode": "RW", "container_path": "data"}}}]}}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let offer = tuyucheng.offer_with_volume("tv");
    tuyucheng.launch_with_volume(&offer, "writer", "echo shared > data/f");
    assert_eq!(tuyucheng.until_terminal("writer"), "TASK_FINISHED");
    let offer = tuyucheng.offer_with_volume("tv");
    tuyucheng.launch_with_volume(&offer, "reader", "test \"$(cat data/f)\" = shared");
    assert_eq!(tuyucheng.until_terminal("reader"), "TASK_FINISHED");
    assert!(agent_work.join("volumes/roles/tuyucheng/tv/f").is_file());
    for fw in [&tuyucheng.id, &other.id] {
        let r = operator(
            port,
            json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": fw}}}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    drop(tuyucheng);
    drop(other);

    // A contended cluster: 30 emulated agents of one cpu; the real agent goes away (marked
    // gone, so that its resources count nowhere).
    agent.kill9();
    let r = operator(
        port,
        json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": agent_id}}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    const AGENTS: usize = 30;
    let _emulator = meso_testkit::process::spawn_logged(
        &[
            "agent-emulator",
            "--master",
            &master,
            "--agents",
            &AGENTS.to_string(),
            "--tasks-per-agent",
            "0",
            "--resources",
            "cpus:1;mem:128",
        ],
        &dir.path().join("emulator.log"),
    );
    eventually(
        "the emulated agents registered and the real one is gone",
        || state(port).is_some_and(|s| s["activated_slaves"] == AGENTS as u64),
    );

    // Weights 1 and 2: each cycle both frameworks hold every offer until the whole cluster
    // is offered, then decline everything (no filter).
    let r = operator(
        port,
        json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "a", "weight": 1}, {"role": "b", "weight": 2}]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (tx, events) = std::sync::mpsc::channel();
    let a = HttpScheduler::subscribe(port, "a").pump(0, tx.clone());
    let b = HttpScheduler::subscribe(port, "b").pump(1, tx.clone());
    let mut held: Held = vec![Default::default(), Default::default()];
    let mut counts = vec![0usize, 0];
    let full = |h: &Held| h[0].len() + h[1].len() == AGENTS;
    for cycle in 0..102 {
        if cycle == 2 {
            // Two warm-up cycles settle who subscribed first.
            counts = vec![0, 0];
        }
        hold_until(&events, &mut held, &mut counts, full);
        a.decline(held[0].drain().map(|(_, (id, _))| id).collect());
        b.decline(held[1].drain().map(|(_, (id, _))| id).collect());
    }
    let ratio = counts[1] as f64 / counts[0] as f64;
    eprintln!(
        "100 cycles, {AGENTS} agents: offers to a (weight 1) {}, to b (weight 2) {}, ratio {ratio:.3}",
        counts[0], counts[1]
    );
    assert!(
        (ratio - 2.0).abs() <= 0.1,
        "offers to a: {}, to b: {}, ratio {ratio:.3} is not within 5% of 2",
        counts[0],
        counts[1]
    );
    for fw in [&a.id, &b.id] {
        let r = operator(
            port,
            json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": fw}}}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    // Quota: role q is guaranteed 5 cpus; the greedy role g comes first and keeps all it
    // gets, yet is held back from the guarantee's headroom, which q then gets.
    let r = operator(
        port,
        json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [{"role": "q",
            "guarantees": {"cpus": {"value": 5}, "mem": {"value": 640}}}]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (tx, events) = std::sync::mpsc::channel();
    let _g = HttpScheduler::subscribe(port, "g").pump(0, tx.clone());
    let mut held: Held = vec![Default::default(), Default::default()];
    let mut counts = vec![0usize, 0];
    let held_cpus = |h: &std::collections::HashMap<String, (Value, f64)>| -> f64 {
        h.values().map(|(_, c)| c).sum()
    };
    hold_until(&events, &mut held, &mut counts, |h| {
        held_cpus(&h[0]) >= (AGENTS - 5) as f64
    });
    let _q = HttpScheduler::subscribe(port, "q").pump(1, tx.clone());
    hold_until(&events, &mut held, &mut counts, |h| held_cpus(&h[1]) >= 5.0);
    assert_eq!(held_cpus(&held[1]), 5.0, "q gets its guarantee");
    assert_eq!(
        held_cpus(&held[0]),
        (AGENTS - 5) as f64,
        "the greedy role got no more than what the guarantee leaves"
    );
    let roles =
        serde_json::from_str::<Value>(&try_get(port, "/master/roles").expect("roles").text())
            .expect("roles JSON");
    let q = roles["roles"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "q").cloned())
        .expect("q listed");
    assert_eq!(q["quota"]["guarantee"]["cpus"], 5.0, "{q}");
}

#[test]
fn a_reservation_and_a_volume_survive_a_leader_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(&meso_bin(), dir.path(), 3, &[]);
    let ports = masters.ports.clone();
    let peers = masters.addresses();
    let first = masters.wait_leader(meso_testkit::HANG_GUARD);
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
    masters.kill9(first);
    let second = eventually("another master leads", || masters.leader_now());
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

    // The agent restarts (SIGKILL, same work dir): it recovers its checkpointed
    // reservations and volumes and re-registers with them.
    let old_pid = state(ports[second]).expect("the leader answers")["slaves"][0]["pid"].clone();
    let mut agent = agent;
    agent.kill9();
    let agent = spawn_agent(
        &peers,
        dir.path(),
        "agent",
        "cpus:4;mem:1024;disk:1000",
        &[],
    );
    eventually("the restarted agent is back with its reservation", || {
        let s = state(ports[second])?;
        let slave = &s["slaves"][0];
        (slave["active"] == true
            && slave["pid"] != old_pid
            && slave["id"] == agent_id.as_str()
            && slave["reserved_resources"]["ops"]["cpus"] == 1.0)
            .then_some(())
    });

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
