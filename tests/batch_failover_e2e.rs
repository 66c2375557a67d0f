//! The SDK's scheduler driver through a master failover, end to end with real processes:
//! three `meso master`s (`--peers`), one `meso agent` and `meso batch run` given the three
//! masters, once over libprocess messages and once over the v1 scheduler HTTP API
//! (`--http`). While the job's four tasks run, the leader is killed with SIGKILL: the driver
//! re-registers (re-subscribes) with the new leader under the same framework id, the
//! tasks' updates reach it and are acknowledged, and the job ends with every task finished,
//! each task's command started once (none relaunched). Waits are hang guards.

use std::path::Path;
use std::process::{Command, Stdio};

use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::{free_port, meso_bin, spawn_agent, spawn_logged, wait_exit, Proc};

fn state(port: u16) -> Option<serde_json::Value> {
    serde_json::from_str(&try_get(port, "/master/state").map(|r| r.text())?).ok()
}

/// The index of the one elected master among those alive, once exactly one is.
fn leader(ports: &[u16], alive: &[bool]) -> Option<usize> {
    let elected: Vec<usize> = (0..ports.len())
        .filter(|i| alive[*i] && state(ports[*i]).is_some_and(|s| s["elected"] == true))
        .collect();
    match elected[..] {
        [one] => Some(one),
        _ => None,
    }
}

fn lines_starting(path: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn job_survives_a_leader_failover(transport: &[&str]) {
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
        let work = work.to_str().expect("utf-8 temp path");
        let port = port.to_string();
        let args = [
            "master",
            "--port",
            &port,
            "--peers",
            &peers,
            "--work-dir",
            work,
        ];
        let log = dir.path().join(format!("master{i}.log"));
        masters.push(Some(spawn_logged(&args, &log)));
    }
    let mut alive = vec![true; 3];
    let mut first = None;
    eventually("a leader is elected", || {
        first = leader(&ports, &alive);
        first.is_some()
    });
    let first = first.expect("a leader");
    let _agent = spawn_agent(&peers, dir.path(), "agent", "cpus:2;mem:512;disk:100", &[]);
    eventually("the agent registered with the leader", || {
        state(ports[first]).is_some_and(|s| s["activated_slaves"] == 1)
    });

    let events = dir.path().join("events");
    let command = format!(
        "echo start $MESO_BATCH_TASK_INDEX >> {0}; sleep 4; echo end $MESO_BATCH_TASK_INDEX >> {0}",
        events.display()
    );
    let job = serde_json::json!({"name": "failover", "stages": [
        {"name": "long", "tasks": 4, "command": command, "resources": "cpus:0.25;mem:32"}]});
    let jobfile = dir.path().join("job.json");
    std::fs::write(&jobfile, job.to_string()).expect("job file");
    let mut batch = Command::new(meso_bin())
        .args(["batch", "run", "--master", &peers])
        .args(transport)
        .arg(&jobfile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meso batch run starts");
    eventually("the four tasks started", || {
        lines_starting(&events, "start").len() == 4
    });
    let framework = state(ports[first]).expect("the leader answers")["frameworks"][0]["id"]
        .as_str()
        .expect("the job's framework")
        .to_string();

    let mut old = masters[first].take().expect("the leader runs");
    old.kill9();
    alive[first] = false;
    let mut second = None;
    eventually("another master leads", || {
        second = leader(&ports, &alive);
        second.is_some()
    });
    let second = second.expect("a new leader");

    let status = wait_exit("meso batch run", &mut batch);
    let out = batch.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = meso_testkit::process::logs_in(
        dir.path(),
        &["master0.log", "master1.log", "master2.log", "agent.log"],
    );
    assert_eq!(status.code(), Some(0), "{text}\n{logs}");
    assert!(text.contains("all 4 tasks finished"), "{text}");
    assert!(text.contains("re-registered"), "{text}");
    // Each task's command ran once, to its end: nothing was relaunched.
    for prefix in ["start", "end"] {
        let mut seen = lines_starting(&events, prefix);
        seen.sort();
        let want: Vec<String> = (0..4).map(|i| format!("{prefix} {i}")).collect();
        assert_eq!(seen, want, "{text}");
    }
    // The new leader knows the job under the framework id it had before.
    let doc = state(ports[second]).expect("the new leader answers");
    let known = ["frameworks", "completed_frameworks"].iter().any(|list| {
        doc[*list]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["id"] == framework.as_str())
    });
    assert!(
        known,
        "framework {framework} unknown to the new leader: {doc}"
    );
}

#[test]
fn a_batch_job_survives_a_leader_failover_over_libprocess() {
    job_survives_a_leader_failover(&[]);
}

#[test]
fn a_batch_job_survives_a_leader_failover_over_http() {
    job_survives_a_leader_failover(&["--http"]);
}
