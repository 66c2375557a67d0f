//! UPDATE_AGENT (a meso extension) with real processes: a `meso master`, a `meso agent`
//! whose `--resources` and `--attributes` are `file://` flags, and a v1 HTTP scheduler
//! speaking raw HTTP.
//!
//! - On the master's `/api/v1`: growing the total and changing attributes answers 200, shows
//!   in GET_AGENTS, and the framework's next offers carry the new attributes; shrinking
//!   above what a running task uses answers 200; shrinking below it is refused (409) naming the shortfall; with `force` it
//!   is accepted, nothing is killed, and once the task ends the offers hold the new total.
//! - On the agent's own `/api/v1`: the change reaches the master.
//! - The change survives a `kill -9` and restart of the agent with the same flags.
//! - SIGHUP after the flags files changed applies them, and they survive a restart too.
//! - With three masters, an update survives a leader kill (the registry has it: the agent
//!   is paused, so it cannot tell the new leader).
//!
//! Timeouts are hang guards only.

use std::net::SocketAddr;
use std::path::PathBuf;

use meso_testkit::eventually;
use meso_testkit::http::blocking::{call, request, try_get, EventStream};
use meso_testkit::masters::Masters;
use meso_testkit::process::{free_port, meso_bin, spawn_logged, Proc};
use serde_json::{json, Value};

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The first agent of the master's GET_AGENTS (`agents`, else `recovered_agents`).
fn agent_info(master_port: u16) -> Option<Value> {
    let r = call(loopback(master_port), r#"{"type":"GET_AGENTS"}"#);
    if r.status != 200 {
        return None;
    }
    let v = r.json();
    let agents = &v["get_agents"];
    if let Some(a) = agents["agents"].as_array().and_then(|a| a.first()) {
        return Some(a["agent_info"].clone());
    }
    agents["recovered_agents"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
}

fn scalar(resources: &Value, name: &str) -> Option<f64> {
    resources
        .as_array()?
        .iter()
        .filter(|r| r["name"] == name && r.get("reservations").is_none())
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .reduce(|a, b| a + b)
}

fn text_attribute(info: &Value, name: &str) -> Option<String> {
    info["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == name)
        .and_then(|a| a["text"]["value"].as_str().map(str::to_string))
}

fn update_agent(
    port: u16,
    agent_id: Option<&str>,
    resources: &str,
    attributes: Value,
    force: bool,
) -> (u16, String) {
    let mut payload = json!({ "force": force, "attributes": attributes });
    if !resources.is_empty() {
        payload["resources"] = resources_json(resources);
    }
    if let Some(id) = agent_id {
        payload["agent_id"] = json!({ "value": id });
    }
    let r = call(
        loopback(port),
        &json!({"type": "UPDATE_AGENT", "update_agent": payload}).to_string(),
    );
    (r.status, r.text())
}

/// `cpus:N;mem:M` as v1 JSON.
fn resources_json(text: &str) -> Value {
    Value::Array(
        text.split(';')
            .map(|kv| {
                let (k, v) = kv.split_once(':').expect("name:value");
                json!({"name": k, "type": "SCALAR", "scalar": {"value": v.parse::<f64>().expect("number")}})
            })
            .collect(),
    )
}

fn rack(value: &str) -> Value {
    json!([{ "name": "rack", "type": "TEXT", "text": { "value": value } }])
}

/// A master, and an agent whose `--resources` and `--attributes` are files.
struct Site {
    dir: tempfile::TempDir,
    master_port: u16,
    agent_port: u16,
    master: Proc,
    agent: Option<Proc>,
    agent_starts: usize,
}

impl Site {
    fn start(resources: &str, attributes: &str) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        let master_port = free_port();
        let master = spawn_logged(
            &[
                "master",
                "--port",
                &master_port.to_string(),
                "--allocation-interval",
                "100ms",
            ],
            &dir.path().join("master.log"),
        );
        eventually("master answers /health", || {
            try_get(master_port, "/master/health").is_some()
        });
        let mut site = Site {
            dir,
            master_port,
            agent_port: free_port(),
            master,
            agent: None,
            agent_starts: 0,
        };
        site.write_flags(resources, attributes);
        site.start_agent(&site.masters());
        site
    }

    fn masters(&self) -> String {
        format!("127.0.0.1:{}", self.master_port)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write_flags(&self, resources: &str, attributes: &str) {
        std::fs::write(self.file("resources"), resources).expect("write the resources file");
        std::fs::write(self.file("attributes"), attributes).expect("write the attributes file");
    }

    fn start_agent(&mut self, masters: &str) {
        self.agent_starts += 1;
        let resources = format!("file://{}", self.file("resources").display());
        let attributes = format!("file://{}", self.file("attributes").display());
        let work = self.file("agent");
        let log = self.file(&format!("agent.{}.log", self.agent_starts));
        self.agent = Some(spawn_logged(
            &[
                "agent",
                "--master",
                masters,
                "--port",
                &self.agent_port.to_string(),
                "--work-dir",
                work.to_str().expect("utf-8 path"),
                "--resources",
                &resources,
                "--attributes",
                &attributes,
            ],
            &log,
        ));
    }

    fn agent_pid(&self) -> u32 {
        self.agent.as_ref().expect("the agent runs").pid()
    }

    fn logs(&self) -> String {
        let mut names = vec!["master.log".to_string()];
        names.extend((1..=self.agent_starts).map(|i| format!("agent.{i}.log")));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        meso_testkit::process::logs_in(self.dir.path(), &names)
    }
}

/// A v1 HTTP scheduler on a raw stream.
struct Scheduler {
    stream: EventStream,
    stream_id: String,
    id: String,
    port: u16,
}

impl Scheduler {
    fn subscribe(port: u16) -> Scheduler {
        // The agent runs the task as this user (`--switch-user`): the test's own.
        let user = meso_testkit::agent_harness::os_user();
        let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info":
            {"user": user, "name": "resize", "roles": ["*"], "capabilities": [{"type": "MULTI_ROLE"}]}}});
        let mut stream =
            EventStream::open(loopback(port), "/api/v1/scheduler", &[], &body.to_string());
        assert_eq!(stream.status, 200, "SUBSCRIBE answered {}", stream.status);
        let stream_id = stream
            .header("Mesos-Stream-Id")
            .expect("a stream id")
            .to_string();
        let subscribed = stream.until("SUBSCRIBED");
        let id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("a framework id")
            .to_string();
        Scheduler {
            stream,
            stream_id,
            id,
            port,
        }
    }

    fn call(&self, body: Value) -> u16 {
        let sid = format!("Mesos-Stream-Id: {}", self.stream_id);
        let r = request(
            loopback(self.port),
            "POST",
            "/api/v1/scheduler",
            &["Content-Type: application/json", &sid],
            body.to_string().as_bytes(),
        );
        r.status
    }

    /// The next offer for which `wanted` holds; others are declined with no filter.
    fn offer_where(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let event = self.stream.until("OFFERS");
            for offer in event["offers"]["offers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                if wanted(&offer) {
                    return offer;
                }
                self.call(
                    json!({"type": "DECLINE", "framework_id": {"value": self.id},
                    "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 0}}}),
                );
            }
        }
    }

    fn launch_sleeper(&mut self, offer: &Value, cpus: f64) {
        let accept = json!({"type": "ACCEPT", "framework_id": {"value": self.id},
            "accept": {"offer_ids": [offer["id"]], "operations": [{"type": "LAUNCH", "launch": {
                "task_infos": [{"name": "sleeper", "task_id": {"value": "sleeper"},
                    "agent_id": offer["agent_id"], "command": {"value": "sleep 600"},
                    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                                  {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}]}]}}],
                "filters": {"refuse_seconds": 0}}});
        assert_eq!(self.call(accept), 202);
        loop {
            let update = self.stream.until("UPDATE");
            let status = &update["update"]["status"];
            if let Some(uuid) = status["uuid"].as_str() {
                self.call(json!({"type": "ACKNOWLEDGE", "framework_id": {"value": self.id},
                    "acknowledge": {"agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": uuid}}));
            }
            match status["state"].as_str() {
                Some("TASK_RUNNING") => return,
                Some("TASK_STAGING") | Some("TASK_STARTING") => {}
                other => panic!("the sleeper did not run: {other:?} {update}"),
            }
        }
    }

    /// Kills the sleeper and reads the stream up to its TASK_KILLED; returns the offers
    /// received meanwhile that were not rescinded (events arrive in order, so an offer made
    /// before a rescind that happened earlier is gone from the list).
    fn kill_sleeper(&mut self, agent_id: &Value) -> Vec<Value> {
        let kill = json!({"type": "KILL", "framework_id": {"value": self.id},
            "kill": {"task_id": {"value": "sleeper"}, "agent_id": agent_id}});
        assert_eq!(self.call(kill), 202);
        let mut live: Vec<Value> = Vec::new();
        loop {
            let event = self.stream.next_event().expect("the stream stays open");
            match event["type"].as_str() {
                Some("OFFERS") => live.extend(
                    event["offers"]["offers"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                ),
                Some("RESCIND") => {
                    let id = &event["rescind"]["offer_id"];
                    live.retain(|o| &o["id"] != id);
                }
                Some("UPDATE") if event["update"]["status"]["state"] == "TASK_KILLED" => {
                    return live;
                }
                _ => {}
            }
        }
    }
}

fn offered_cpus(offer: &Value) -> f64 {
    scalar(&offer["resources"], "cpus").unwrap_or(0.0)
}

#[test]
fn update_agent_grows_refuses_forces_and_offers_the_new_attributes() {
    let mut site = Site::start("cpus:4;mem:1024", "rack:r1");
    let port = site.master_port;
    let info = eventually("the agent registers", || agent_info(port));
    let agent_id = info["id"]["value"].as_str().expect("agent id").to_string();
    assert_eq!(text_attribute(&info, "rack").as_deref(), Some("r1"));

    let mut scheduler = Scheduler::subscribe(port);
    let offer = scheduler.offer_where(|o| offered_cpus(o) == 4.0);
    scheduler.launch_sleeper(&offer, 2.0);

    // Grow, with new attributes: in GET_AGENTS, and in the next offers.
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:8;mem:2048", rack("r2"), false);
    assert_eq!(status, 200, "{body}\n{}", site.logs());
    let info = agent_info(port).expect("GET_AGENTS");
    assert_eq!(scalar(&info["resources"], "cpus"), Some(8.0));
    assert_eq!(text_attribute(&info, "rack").as_deref(), Some("r2"));
    // The growth is offered (in one offer or in several, as rounds go), each offer with the
    // new attributes; never more than the 8 cpus less the sleeper's 2.
    let mut live: Vec<Value> = Vec::new();
    while live.iter().map(offered_cpus).sum::<f64>() < 6.0 {
        let event = scheduler
            .stream
            .next_event()
            .expect("the stream stays open");
        match event["type"].as_str() {
            Some("OFFERS") => live.extend(
                event["offers"]["offers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            ),
            Some("RESCIND") => live.retain(|o| o["id"] != event["rescind"]["offer_id"]),
            _ => {}
        }
        live.retain(|o| text_attribute(o, "rack").as_deref() == Some("r2"));
    }
    assert_eq!(live.iter().map(offered_cpus).sum::<f64>(), 6.0, "{live:?}");
    let offer = live[0].clone();
    let ids: Vec<Value> = live.iter().map(|o| o["id"].clone()).collect();
    scheduler.call(
        json!({"type": "DECLINE", "framework_id": {"value": scheduler.id},
        "decline": {"offer_ids": ids, "filters": {"refuse_seconds": 0}}}),
    );

    // Shrink, still above the sleeper's use: accepted.
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:6;mem:2048", rack("r2"), false);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(&agent_info(port).expect("GET_AGENTS")["resources"], "cpus"),
        Some(6.0)
    );

    // Shrink below the sleeper's use: refused, naming the shortfall.
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:1;mem:2048", rack("r2"), false);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("short of 'cpus:1'"), "{body}");
    assert_eq!(
        scalar(&agent_info(port).expect("GET_AGENTS")["resources"], "cpus"),
        Some(6.0),
        "a refused update changes nothing"
    );
    // An unknown agent is 404, a bad payload 400.
    assert_eq!(
        update_agent(port, Some("nope"), "cpus:1", rack("r"), false).0,
        404
    );
    let r = call(
        loopback(port),
        r#"{"type":"UPDATE_AGENT","update_agent":{"agent_id":{"value":"a"}}}"#,
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // Forced: accepted, the sleeper keeps running; once it ends the offers hold 1 cpu.
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:1;mem:2048", rack("r2"), true);
    assert_eq!(status, 200, "{body}");
    let state = call(loopback(port), r#"{"type":"GET_TASKS"}"#).json();
    assert_eq!(
        state["get_tasks"]["tasks"][0]["state"], "TASK_RUNNING",
        "{state}"
    );
    // Every offer made after the forced update holds at most the new total.
    let live = scheduler.kill_sleeper(&offer["agent_id"]);
    for offer in &live {
        assert!(
            offered_cpus(offer) <= 1.0,
            "offered beyond the new total: {offer}\n{}",
            site.logs()
        );
    }
    let offer = match live.into_iter().find(|o| offered_cpus(o) > 0.0) {
        Some(offer) => offer,
        None => scheduler.offer_where(|o| offered_cpus(o) > 0.0),
    };
    assert_eq!(offered_cpus(&offer), 1.0, "{offer}");

    // The agent's own API: the master learns of it.
    let (status, body) = update_agent(site.agent_port, None, "", rack("r3"), false);
    assert_eq!(status, 200, "{body}");
    eventually("the master shows the agent's own change", || {
        agent_info(port).is_some_and(|i| text_attribute(&i, "rack").as_deref() == Some("r3"))
    });

    // A restart with the same flags keeps the online change (and passes the restart check).
    site.agent.take().expect("the agent runs").kill9();
    site.start_agent(&site.masters());
    let agent_port = site.agent_port;
    let state = eventually("the restarted agent answers /state", || {
        try_get(agent_port, "/state").map(|r| r.json())
    });
    assert_eq!(state["id"], agent_id.as_str(), "{}", site.logs());
    assert_eq!(state["resources"]["cpus"], 1.0, "{state}");
    assert_eq!(state["attributes"]["rack"], "r3", "{state}");

    // SIGHUP with changed flag files: applied, and kept over the next restart.
    site.write_flags("cpus:3;mem:1024", "rack:r4;zone:z1");
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &site.agent_pid().to_string()])
        .status()
        .expect("run kill");
    assert!(hup.success());
    eventually("the master shows the flags of the SIGHUP", || {
        agent_info(port).is_some_and(|i| {
            scalar(&i["resources"], "cpus") == Some(3.0)
                && text_attribute(&i, "zone").as_deref() == Some("z1")
        })
    });
    site.agent.take().expect("the agent runs").kill9();
    site.start_agent(&site.masters());
    let state = eventually("the agent answers /state again", || {
        try_get(agent_port, "/state").map(|r| r.json())
    });
    assert_eq!(state["resources"]["cpus"], 3.0, "{state}\n{}", site.logs());
    assert_eq!(state["attributes"]["rack"], "r4", "{state}");
    drop(site.master);
}

#[test]
fn an_update_survives_a_leader_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(&meso_bin(), dir.path(), 3, &[]);
    let leader = masters.wait_leader(std::time::Duration::from_secs(120));
    let mut agent = spawn_logged(
        &[
            "agent",
            "--master",
            &masters.addresses(),
            "--port",
            &free_port().to_string(),
            "--work-dir",
            dir.path().join("agent").to_str().expect("utf-8 path"),
            "--resources",
            "cpus:2;mem:512",
        ],
        &dir.path().join("agent.log"),
    );
    let port = masters.ports[leader];
    let info = eventually("the agent registers", || agent_info(port));
    let agent_id = info["id"]["value"].as_str().expect("agent id").to_string();
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:6;mem:512", rack("r9"), false);
    assert_eq!(status, 200, "{body}");

    // The agent cannot re-register with a new leader while paused: what the new leader
    // shows comes from the registry.
    agent.stop();
    masters.kill9(leader);
    let next = masters.wait_leader(std::time::Duration::from_secs(120));
    let info = eventually("the new leader shows the agent", || {
        agent_info(masters.ports[next])
    });
    assert_eq!(scalar(&info["resources"], "cpus"), Some(6.0), "{info}");
    assert_eq!(
        text_attribute(&info, "rack").as_deref(),
        Some("r9"),
        "{info}"
    );
    agent.cont();
    agent.kill9();
}

/// The agent's dynamically reserved cpus in GET_AGENTS.
fn reserved_cpus(resources: &Value) -> f64 {
    resources
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus" && r.get("reservations").is_some())
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

#[test]
fn an_update_keeps_the_agents_reservations_and_refuses_to_drop_them() {
    let site = Site::start("cpus:4;mem:1024", "rack:r1");
    let port = site.master_port;
    let info = eventually("the agent registers", || agent_info(port));
    let agent_id = info["id"]["value"].as_str().expect("agent id").to_string();
    let dynamic = json!([{"type": "DYNAMIC", "role": "ops", "principal": "ops-admin"}]);
    let reserve = json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": agent_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
                       "reservations": dynamic}]}});
    let r = call(loopback(port), &reserve.to_string());
    assert_eq!(r.status, 202, "{}\n{}", r.text(), site.logs());
    eventually("the reservation shows in GET_AGENTS", || {
        let info = agent_info(port)?;
        (reserved_cpus(&info["resources"]) == 1.0).then_some(())
    });

    // Growing the static resources keeps the reservation on top of them.
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:8;mem:2048", rack("r1"), false);
    assert_eq!(status, 200, "{body}\n{}", site.logs());
    let info = agent_info(port).expect("GET_AGENTS");
    assert_eq!(reserved_cpus(&info["resources"]), 1.0, "{info}");
    assert_eq!(scalar(&info["resources"], "cpus"), Some(7.0), "{info}");

    // A total that cannot hold the reservation is refused, naming why; nothing changes.
    let (status, body) = update_agent(port, Some(&agent_id), "cpus:0.5;mem:2048", rack("r1"), true);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("reservations and volumes"), "{body}");
    let info = agent_info(port).expect("GET_AGENTS");
    assert_eq!(reserved_cpus(&info["resources"]), 1.0, "{info}");
    assert_eq!(scalar(&info["resources"], "cpus"), Some(7.0), "{info}");
}
