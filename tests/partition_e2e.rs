//! A real partition (issue 15): a real `meso master` with short health checks
//! (`--agent-ping-timeout 1secs --max-agent-ping-timeouts 2`), a real `meso agent`, and two
//! `tests/http_clients/scheduler.py` frameworks (no meso code) each running a `sleep` task:
//! one PARTITION_AWARE, one plain. The agent is cut off by SIGSTOP for longer than the ping
//! limit, then healed with SIGCONT. The PARTITION_AWARE framework must see TASK_RUNNING,
//! TASK_UNREACHABLE, TASK_RUNNING; the plain one TASK_RUNNING, TASK_LOST, TASK_RUNNING (since
//! Mesos 1.5 its task is not killed when the agent returns); each then kills its task and
//! sees TASK_KILLED. The master lists the agent unreachable and the tasks under
//! `unreachable_tasks` while it is cut off.
//!
//! The second test marks a live agent gone through the operator API: the PARTITION_AWARE
//! framework's task ends TASK_GONE_BY_OPERATOR and the real agent, told to shut down, exits
//! with status 0.
//!
//! Without python3 the test fails saying so. Timeouts are hang guards only.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::{free_port, spawn_agent, spawn_logged, wait_exit, Lines};
use meso_testkit::python_clients::{clients_dir, python3};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The body of `GET path` on loopback `port`, or `None` if the master did not answer.
fn http_get(port: u16, path: &str) -> Option<String> {
    try_get(port, path).map(|r| r.text())
}

/// Polls `ok` until it holds; panics naming `what` past the kit's hang guard.
fn wait_until(what: &str, ok: impl FnMut() -> bool) {
    eventually(what, ok);
}

/// Resumes a stopped process when dropped, so a failing test never leaves it stopped.
struct Stopped(Pid);

impl Stopped {
    fn stop(pid: u32) -> Stopped {
        let pid = Pid::from_raw(i32::try_from(pid).expect("a pid fits i32"));
        kill(pid, Signal::SIGSTOP).expect("SIGSTOP the agent");
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGCONT);
    }
}

/// A scheduler.py child killed when dropped.
struct Scheduler(Child);

impl Drop for Scheduler {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts scheduler.py named `name` with one `sleep` task that must go through `sequence`.
fn scheduler(
    master_port: u16,
    dir: &Path,
    name: &str,
    sequence: &str,
    extra: &[&str],
) -> Scheduler {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file");
    let child = Command::new(python3())
        .arg(clients_dir().join("scheduler.py"))
        .args(["--master", &format!("127.0.0.1:{master_port}")])
        .args(["--timeout", "110", "--verbose", "--name", name])
        .args(["--command", "sleep 600", "--checkpoint"])
        .args(["--expect-sequence", sequence, "--want", "TASK_KILLED"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("python3 starts");
    Scheduler(child)
}

fn state(master_port: u16) -> serde_json::Value {
    let body = http_get(master_port, "/master/state").expect("the master answers /master/state");
    serde_json::from_str(&body).expect("the state is JSON")
}

fn logs(dir: &Path) -> String {
    ["master.log", "agent.log", "pa.log", "plain.log"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("--- {f}\n{}", tail.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_partitioned_agent_comes_back_and_each_framework_sees_what_mesos_promises() {
    let dir = tempfile::tempdir().expect("temp dir");
    let master_port = free_port();
    let port = master_port.to_string();
    let _master = spawn_logged(
        &[
            "master",
            "--port",
            &port,
            "--agent-ping-timeout",
            "1secs",
            "--max-agent-ping-timeouts",
            "2",
        ],
        &dir.path().join("master.log"),
    );
    wait_until("master answers /health", || {
        http_get(master_port, "/master/health").is_some()
    });
    let agent = spawn_agent(
        &format!("127.0.0.1:{master_port}"),
        dir.path(),
        "agent",
        "cpus:2;mem:512;disk:100",
        &[],
    );
    wait_until("the agent registered", || {
        http_get(master_port, "/master/state").is_some_and(|s| s.contains("\"activated_slaves\":1"))
    });

    let mut pa = scheduler(
        master_port,
        dir.path(),
        "pa",
        "TASK_RUNNING,TASK_UNREACHABLE,TASK_RUNNING",
        &["--capability", "PARTITION_AWARE"],
    );
    let mut plain = scheduler(
        master_port,
        dir.path(),
        "plain",
        "TASK_RUNNING,TASK_LOST,TASK_RUNNING",
        &[],
    );
    let mut pa_lines = Lines::of(&mut pa.0);
    let mut plain_lines = Lines::of(&mut plain.0);
    pa_lines.wait_for("pa-task-0 went through TASK_RUNNING");
    plain_lines.wait_for("plain-task-0 went through TASK_RUNNING");

    // Cut the agent off for longer than the ping limit.
    let stopped = Stopped::stop(agent.0.id());
    pa_lines.wait_for("pa-task-0 went through TASK_RUNNING,TASK_UNREACHABLE");
    plain_lines.wait_for("plain-task-0 went through TASK_RUNNING,TASK_LOST");
    let doc = state(master_port);
    assert_eq!(doc["unreachable_slaves"], 1, "{doc}\n{}", logs(dir.path()));
    let mut unreachable: Vec<(String, String)> = doc["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .flat_map(|f| {
            f["unreachable_tasks"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|t| {
            (
                t["id"].as_str().unwrap_or_default().to_string(),
                t["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    unreachable.sort();
    assert_eq!(
        unreachable,
        [
            ("pa-task-0".to_string(), "TASK_UNREACHABLE".to_string()),
            ("plain-task-0".to_string(), "TASK_LOST".to_string()),
        ],
        "{doc}"
    );

    // Heal: the agent notices it heard no ping and re-registers with its tasks.
    drop(stopped);
    pa_lines.wait_for("pa-task-0 went through TASK_RUNNING,TASK_UNREACHABLE,TASK_RUNNING");
    plain_lines.wait_for("plain-task-0 went through TASK_RUNNING,TASK_LOST,TASK_RUNNING");
    for (name, s) in [("pa", &mut pa), ("plain", &mut plain)] {
        let status = wait_exit(name, &mut s.0);
        assert!(
            status.success(),
            "{name} scheduler.py exited {status}\n{}",
            logs(dir.path())
        );
    }
    let doc = state(master_port);
    assert_eq!(doc["unreachable_slaves"], 0, "{doc}");
    assert_eq!(doc["activated_slaves"], 1, "{doc}");
    drop(agent);
}

/// POSTs `body` to the master's v1 operator API; the HTTP status.
fn operator_call(master_port: u16, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", master_port)).expect("connect");
    let request = format!(
        "POST /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer: {answer:?}"))
}

/// MARK_AGENT_GONE of a live agent: the PARTITION_AWARE framework's task ends
/// TASK_GONE_BY_OPERATOR, the real agent is told to shut down and exits cleanly, and the
/// master keeps it as gone.
#[test]
fn an_agent_marked_gone_shuts_down_and_its_task_is_gone_by_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let master_port = free_port();
    let port = master_port.to_string();
    let _master = spawn_logged(&["master", "--port", &port], &dir.path().join("master.log"));
    wait_until("master answers /health", || {
        http_get(master_port, "/master/health").is_some()
    });
    let mut agent = spawn_agent(
        &format!("127.0.0.1:{master_port}"),
        dir.path(),
        "agent",
        "cpus:2;mem:512;disk:100",
        &[],
    );
    wait_until("the agent registered", || {
        http_get(master_port, "/master/state").is_some_and(|s| s.contains("\"activated_slaves\":1"))
    });
    let log = std::fs::File::create(dir.path().join("pa.log")).expect("log file");
    let mut pa = Scheduler(
        Command::new(python3())
            .arg(clients_dir().join("scheduler.py"))
            .args(["--master", &format!("127.0.0.1:{master_port}")])
            .args(["--timeout", "110", "--verbose", "--name", "pa"])
            .args(["--command", "sleep 600", "--capability", "PARTITION_AWARE"])
            .args(["--want", "TASK_GONE_BY_OPERATOR"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("python3 starts"),
    );
    wait_until("the task runs", || {
        http_get(master_port, "/master/state").is_some_and(|s| s.contains("\"TASK_RUNNING\""))
    });
    let agent_id = state(master_port)["slaves"][0]["id"]
        .as_str()
        .expect("the agent's id")
        .to_string();
    let code = operator_call(
        master_port,
        &format!(
            r#"{{"type":"MARK_AGENT_GONE","mark_agent_gone":{{"agent_id":{{"value":"{agent_id}"}}}}}}"#
        ),
    );
    assert_eq!(code, 200, "{}", logs(dir.path()));
    let status = wait_exit("the scheduler", &mut pa.0);
    assert!(
        status.success(),
        "scheduler.py exited {status}\n{}",
        logs(dir.path())
    );
    let status = wait_exit("the agent told to shut down", &mut agent.0);
    assert!(
        status.success(),
        "meso agent exited {status}\n{}",
        logs(dir.path())
    );
    let doc = state(master_port);
    assert_eq!(doc["activated_slaves"], 0, "{doc}");
    assert_eq!(
        doc["frameworks"].as_array().map(Vec::len),
        Some(0),
        "the framework tore itself down: {doc}"
    );
}
