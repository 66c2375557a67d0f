//! Task health checks, general checks and kill policies end to end: a real `meso master`
//! and `meso agent`, a framework on the v1 scheduler HTTP API, tasks run by the built-in
//! command executor.
//!
//! - An HTTP health check against a small server the task starts: the task turns healthy
//!   (visible in the UPDATE events and in `/master/state`), then, once the server stops,
//!   unhealthy on each failure and killed at the third: TASK_KILLED with `healthy: false`
//!   and `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`.
//! - A COMMAND health check that fails within its grace period does not count (the task,
//!   allowed one failure, survives many), turns healthy, then one failure kills it.
//! - A TCP health check and a TCP general check: `healthy` and `check_status` updates.
//! - A kill policy: a task that traps SIGTERM gets it, survives its grace, then SIGKILL.
//! - A health check the master refuses: TASK_ERROR naming the field.
//! - `meso execute --health-check-cmd`: a failing check gets the task killed.
//!
//! The task's state is driven by files the test writes (a server stops when a file
//! appears), never by waiting a set time; timeouts are hang guards only.

use std::net::SocketAddr;
use std::path::Path;

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually;
use meso_testkit::http::blocking::{request, try_get, EventStream};
use meso_testkit::process::free_port;
use serde_json::{json, Value};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A framework on the v1 scheduler HTTP API that launches one task at a time.
struct Framework {
    port: u16,
    events: EventStream,
    stream_id: String,
    id: String,
}

impl Framework {
    fn subscribe(port: u16) -> Framework {
        let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "root", "name": "health-e2e"}}});
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
        Framework {
            port,
            events,
            stream_id,
            id,
        }
    }

    fn call(&self, mut body: Value) {
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
    }

    /// Launches `task` (a v1 TaskInfo without agent and resources) on the next offer.
    fn launch(&mut self, mut task: Value) {
        let offer = loop {
            let event = self.events.until("OFFERS");
            if let Some(offer) = event["offers"]["offers"].get(0) {
                break offer.clone();
            }
        };
        task["agent_id"] = offer["agent_id"].clone();
        task["resources"] = json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}
        ]);
        self.call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
            "filters": {"refuse_seconds": 1}}}),
        );
    }

    /// The next status update of `task`, acknowledged; offers that come meanwhile are
    /// declined.
    fn next_update(&mut self, task: &str) -> Value {
        loop {
            let event = self.events.next_event().expect("the event stream ended");
            match event["type"].as_str() {
                Some("OFFERS") => {
                    let ids: Vec<Value> = event["offers"]["offers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|o| o["id"].clone())
                        .collect();
                    if !ids.is_empty() {
                        self.call(json!({"type": "DECLINE", "decline": {"offer_ids": ids,
                            "filters": {"refuse_seconds": 1}}}));
                    }
                }
                Some("UPDATE") => {
                    let status = event["update"]["status"].clone();
                    if let Some(uuid) = status["uuid"].as_str() {
                        self.call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
                            "agent_id": status["agent_id"], "task_id": status["task_id"],
                            "uuid": uuid}}));
                    }
                    if status["task_id"]["value"] == task {
                        return status;
                    }
                }
                _ => {}
            }
        }
    }

    /// Updates of `task` until one satisfies `stop`; all of them, that one last.
    fn updates_until(&mut self, task: &str, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let status = self.next_update(task);
            let done = stop(&status);
            seen.push(status);
            if done {
                return seen;
            }
        }
    }

    fn kill(&self, task: &str, grace_secs: Option<f64>) {
        let mut kill = json!({"task_id": {"value": task}});
        if let Some(secs) = grace_secs {
            kill["kill_policy"] = json!({"grace_period": {"nanoseconds": (secs * 1e9) as i64}});
        }
        self.call(json!({"type": "KILL", "kill": kill}));
    }
}

fn state_of(status: &Value) -> &str {
    status["state"].as_str().unwrap_or("")
}

fn terminal(status: &Value) -> bool {
    matches!(
        state_of(status),
        "TASK_FINISHED" | "TASK_FAILED" | "TASK_KILLED" | "TASK_LOST" | "TASK_ERROR"
    )
}

fn shell(path: &Path) -> String {
    path.display().to_string()
}

/// A task running a small HTTP server (python3's) on `port` until `stop` exists, then
/// staying up without it.
fn server_task(id: &str, port: u16, stop: &Path) -> Value {
    let command = format!(
        "python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & s=$!; \
         while [ ! -e '{stop}' ]; do sleep 0.1; done; kill $s; wait $s; \
         while true; do sleep 0.1; done",
        stop = shell(stop)
    );
    json!({"name": id, "task_id": {"value": id}, "command": {"value": command}})
}

#[test]
fn http_health_check_goes_healthy_then_kills_the_task_when_the_server_stops() {
    let cluster = Cluster::start();
    let mut fw = Framework::subscribe(cluster.master_port);
    let dir = tempfile::tempdir().unwrap();
    let stop = dir.path().join("stop");
    let port = free_port();
    let mut task = server_task("web", port, &stop);
    task["health_check"] = json!({"type": "HTTP", "http": {"port": port, "path": "/"},
        "delay_seconds": 0, "interval_seconds": 0.2, "timeout_seconds": 5,
        "consecutive_failures": 3, "grace_period_seconds": 120});
    fw.launch(task);

    let before = fw.updates_until("web", |s| s["healthy"] == true || terminal(s));
    let healthy = before.last().unwrap();
    assert_eq!(
        state_of(healthy),
        "TASK_RUNNING",
        "{before:?}\n{}",
        cluster.logs()
    );
    assert_eq!(healthy["reason"], "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
    assert!(
        before[..before.len() - 1]
            .iter()
            .all(|s| s.get("healthy").is_none()),
        "no health verdict before the first pass: {before:?}"
    );
    eventually("/master/state shows the task healthy", || {
        let state: Value =
            serde_json::from_str(&try_get(cluster.master_port, "/master/state")?.text()).ok()?;
        let statuses = state["frameworks"][0]["tasks"][0]["statuses"]
            .as_array()?
            .clone();
        statuses.iter().any(|s| s["healthy"] == true).then_some(())
    });

    std::fs::write(&stop, "").unwrap();
    let after = fw.updates_until("web", terminal);
    let (killed, unhealthy) = after.split_last().unwrap();
    assert_eq!(
        state_of(killed),
        "TASK_KILLED",
        "{after:?}\n{}",
        cluster.logs()
    );
    assert_eq!(killed["healthy"], false);
    assert_eq!(killed["reason"], "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
    assert_eq!(
        unhealthy.len(),
        3,
        "one unhealthy update per failure: {after:?}"
    );
    for status in unhealthy {
        assert_eq!(state_of(status), "TASK_RUNNING");
        assert_eq!(status["healthy"], false);
        assert_eq!(status["reason"], "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
    }
}

#[test]
fn command_health_check_failures_within_the_grace_period_do_not_count() {
    let cluster = Cluster::start();
    let mut fw = Framework::subscribe(cluster.master_port);
    let dir = tempfile::tempdir().unwrap();
    let (runs, ready) = (dir.path().join("runs"), dir.path().join("ready"));
    let check = format!(
        "echo run >> '{}'; test -e '{}'",
        shell(&runs),
        shell(&ready)
    );
    let task = json!({"name": "cmd", "task_id": {"value": "cmd"},
        "command": {"value": "while true; do sleep 0.1; done"},
        "health_check": {"type": "COMMAND", "command": {"value": check},
            "delay_seconds": 0, "interval_seconds": 0.1, "timeout_seconds": 10,
            "consecutive_failures": 1, "grace_period_seconds": 3600}});
    fw.launch(task);
    let started = fw.updates_until("cmd", |s| state_of(s) == "TASK_RUNNING" || terminal(s));
    assert_eq!(state_of(started.last().unwrap()), "TASK_RUNNING");
    // Five failed checks, each of which would kill the task (one failure allowed) were it
    // not in its grace period.
    eventually("five checks ran and failed", || {
        std::fs::read_to_string(&runs).is_ok_and(|text| text.lines().count() >= 5)
    });
    std::fs::write(&ready, "").unwrap();
    let next = fw.next_update("cmd");
    assert_eq!(
        state_of(&next),
        "TASK_RUNNING",
        "{next}\n{}",
        cluster.logs()
    );
    assert_eq!(next["healthy"], true, "{next}");

    // After a pass the grace period no longer protects the task.
    std::fs::remove_file(&ready).unwrap();
    let unhealthy = fw.next_update("cmd");
    assert_eq!(unhealthy["healthy"], false, "{unhealthy}");
    let killed = fw.next_update("cmd");
    assert_eq!(state_of(&killed), "TASK_KILLED", "{killed}");
    assert_eq!(killed["reason"], "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
}

#[test]
fn tcp_health_check_and_tcp_general_check_report_their_results() {
    let cluster = Cluster::start();
    let mut fw = Framework::subscribe(cluster.master_port);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut task = server_task("tcp", port, &dir.path().join("stop"));
    task["health_check"] = json!({"type": "TCP", "tcp": {"port": port},
        "delay_seconds": 0, "interval_seconds": 0.2, "grace_period_seconds": 120});
    task["check"] = json!({"type": "TCP", "tcp": {"port": port},
        "delay_seconds": 0, "interval_seconds": 0.2});
    fw.launch(task);
    let seen = fw.updates_until("tcp", |s| {
        terminal(s)
            || s["check_status"]["tcp"]["succeeded"] == true
                && s["reason"] == "REASON_TASK_CHECK_STATUS_UPDATED"
    });
    let last = seen.last().unwrap();
    assert_eq!(
        state_of(last),
        "TASK_RUNNING",
        "{seen:?}\n{}",
        cluster.logs()
    );
    // Every update of a task with a check carries a check status of its kind.
    for status in &seen {
        assert_eq!(status["check_status"]["type"], "TCP", "{status}");
    }
    let healthy = if seen.iter().any(|s| s["healthy"] == true) {
        None
    } else {
        Some(fw.updates_until("tcp", |s| s["healthy"] == true || terminal(s)))
    };
    if let Some(more) = healthy {
        let last = more.last().unwrap();
        assert_eq!(last["healthy"], true, "{more:?}");
        assert_eq!(last["reason"], "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
    }
    fw.kill("tcp", Some(0.0));
    let end = fw.updates_until("tcp", terminal);
    let killed = end.last().unwrap();
    assert_eq!(state_of(killed), "TASK_KILLED", "{end:?}");
    assert!(
        killed.get("healthy").is_none(),
        "an ordinary kill: {killed}"
    );
}

#[test]
fn kill_policy_grace_lets_a_task_that_traps_sigterm_run_until_sigkill() {
    let cluster = Cluster::start();
    let mut fw = Framework::subscribe(cluster.master_port);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let command = format!(
        "trap 'echo term >> \"{}\"' TERM; echo up >> \"{}\"; while true; do sleep 0.1; done",
        shell(&log),
        shell(&log)
    );
    fw.launch(json!({"name": "stubborn", "task_id": {"value": "stubborn"},
        "command": {"value": command},
        "kill_policy": {"grace_period": {"nanoseconds": 2_000_000_000i64}}}));
    let started = fw.updates_until("stubborn", |s| state_of(s) == "TASK_RUNNING" || terminal(s));
    assert_eq!(state_of(started.last().unwrap()), "TASK_RUNNING");
    eventually("the task is up", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("up"))
    });
    fw.kill("stubborn", None);
    let end = fw.updates_until("stubborn", terminal);
    let killed = end.last().unwrap();
    assert_eq!(
        state_of(killed),
        "TASK_KILLED",
        "{end:?}\n{}",
        cluster.logs()
    );
    assert!(
        killed["message"]
            .as_str()
            .is_some_and(|m| m.contains("SIGKILL")),
        "ended by SIGKILL after ignoring SIGTERM: {killed}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("term"), "the task saw SIGTERM first: {text}");
}

#[test]
fn a_bad_health_check_is_refused_with_task_error_naming_the_field() {
    let cluster = Cluster::start();
    let mut fw = Framework::subscribe(cluster.master_port);
    fw.launch(json!({"name": "bad", "task_id": {"value": "bad"},
        "command": {"value": "true"},
        "health_check": {"type": "TCP", "tcp": {"port": 80}, "interval_seconds": -1}}));
    let status = fw.next_update("bad");
    assert_eq!(state_of(&status), "TASK_ERROR", "{status}");
    let message = status["message"].as_str().unwrap_or("");
    assert!(
        message.contains("health check") && message.contains("'interval_seconds'"),
        "{status}"
    );
    fw.launch(json!({"name": "bad2", "task_id": {"value": "bad2"},
        "command": {"value": "true"},
        "check": {"type": "HTTP", "tcp": {"port": 80}}}));
    let status = fw.next_update("bad2");
    assert_eq!(state_of(&status), "TASK_ERROR", "{status}");
    assert!(
        status["message"].as_str().unwrap_or("").contains("'http'"),
        "{status}"
    );
}

#[test]
fn meso_execute_health_check_flags_get_a_failing_task_killed() {
    let cluster = Cluster::start();
    let out = std::process::Command::new(meso_testkit::process::meso_bin())
        .args([
            "execute",
            "--master",
            &format!("127.0.0.1:{}", cluster.master_port),
            "--name",
            "checked",
            "--command",
            "sleep 1000",
            "--health-check-cmd",
            "false",
            "--health-check-delay",
            "0secs",
            "--health-check-grace-period",
            "0secs",
            "--health-check-consecutive-failures",
            "1",
        ])
        .env_remove("MESO_MASTER")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("meso execute runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", cluster.logs());
    assert!(stdout.contains("unhealthy"), "{stdout}");
    assert!(
        stdout.contains("TASK_KILLED (REASON_TASK_HEALTH_CHECK_STATUS_UPDATED)"),
        "{stdout}"
    );
    let bad = std::process::Command::new(meso_testkit::process::meso_bin())
        .args(["execute", "--master", "127.0.0.1:1", "--name", "x"])
        .args(["--command", "true", "--health-check-http", "web/health"])
        .output()
        .expect("meso execute runs");
    assert_ne!(bad.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--health-check-http"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
