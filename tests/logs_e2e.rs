//! End-to-end: the logs of real `meso master` and `meso agent` processes are one record per
//! line in both `--log-format`s, raft-rs's records included (with their key-values), and
//! with `--log-dir` the master serves its log as `/files/read?path=/master/log` and the
//! agent as `/slave/log`. Timeouts are hang guards only.

use std::path::Path;

use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::masters::serves_as_leader_on;
use meso_testkit::process::{free_port, logs_in, spawn_logged};

/// The non-empty lines of the file at `path`.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `/files/read` of `path` from offset 0 on the node at `port`: the data.
fn read_file(port: u16, path: &str) -> Option<String> {
    let r = try_get(
        port,
        &format!("/files/read?path={path}&offset=0&length=65536"),
    )?;
    (r.status == 200).then(|| r.json()["data"].as_str().unwrap_or_default().to_string())
}

#[test]
fn json_logs_are_one_object_per_line_raft_records_included_and_served_as_master_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_dir = dir.path().join("logs");
    let stderr = dir.path().join("master.log");
    let _master = spawn_logged(
        &[
            "master",
            "--port",
            &port.to_string(),
            "--log-format",
            "json",
            "--log-dir",
            log_dir.to_str().unwrap(),
        ],
        &stderr,
    );
    eventually("the master leads", || serves_as_leader_on(port));
    // raft-rs's records and the master's own, each a JSON object on one line.
    let records = eventually("raft-rs and the master have logged", || {
        let records: Vec<serde_json::Value> = lines(&stderr)
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .unwrap_or_else(|e| panic!("not one JSON object ({e}): {l:?}"))
            })
            .collect();
        let raft = records.iter().any(|r| {
            r["module"]
                .as_str()
                .is_some_and(|m| m.starts_with("raft::"))
                && r["msg"]
                    .as_str()
                    .is_some_and(|m| m.contains("became leader"))
        });
        let started = records.iter().any(|r| r["msg"] == "master started");
        (raft && started).then_some(records)
    });
    for r in &records {
        for key in ["time", "level", "msg", "module"] {
            assert!(r.get(key).is_some(), "no {key:?} in {r}");
        }
    }
    let leader = records
        .iter()
        .find(|r| {
            r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("became leader"))
        })
        .unwrap();
    assert_eq!(leader["raft_id"], 1, "{leader}");
    assert!(leader["term"].as_u64().is_some_and(|t| t >= 1), "{leader}");
    assert_eq!(leader["node"], format!("127.0.0.1:{port}"), "{leader}");
    // The same records in the file, served as /master/log.
    let served = eventually("/master/log holds `master started`", || {
        read_file(port, "/master/log").filter(|d| d.contains("\"master started\""))
    });
    assert!(
        served
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{served}"
    );
    let browse = try_get(port, "/files/browse?path=/master/log").unwrap();
    assert_eq!(browse.status, 200, "{}", browse.text());
    assert_eq!(browse.json()[0]["path"], "/master/log");
    assert_eq!(
        try_get(port, "/files/read?path=/etc/passwd")
            .unwrap()
            .status,
        404
    );
    let bad = try_get(port, "/files/read?path=/master/log&offset=x").unwrap();
    assert_eq!(bad.status, 400, "{}", bad.text());
}

#[test]
fn text_logs_keep_each_record_and_its_key_values_on_one_line_and_the_agent_serves_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let stderr = dir.path().join("master.log");
    let _master = spawn_logged(&["master", "--port", &port.to_string()], &stderr);
    eventually("the master leads", || serves_as_leader_on(port));
    let master = format!("127.0.0.1:{port}");
    let agent_logs = dir.path().join("agent-logs");
    let agent_port = free_port();
    let work = dir.path().join("agent");
    let _agent = spawn_logged(
        &[
            "agent",
            "--master",
            &master,
            "--port",
            &agent_port.to_string(),
            "--work-dir",
            work.to_str().unwrap(),
            "--resources",
            "cpus:1;mem:128",
            "--log-dir",
            agent_logs.to_str().unwrap(),
        ],
        &dir.path().join("agent.log"),
    );
    // The agent registers; its log, served as /slave/log, says so in one line with the id.
    let line = eventually("the agent's /slave/log has its registration", || {
        read_file(agent_port, "/slave/log")?
            .lines()
            .find(|l| l.contains(" registered ") && l.contains("agent_id="))
            .map(str::to_string)
    });
    assert!(line.contains(&format!("master=master@{master}")), "{line}");
    let become_leader = eventually("raft-rs logged its election", || {
        lines(&stderr)
            .into_iter()
            .find(|l| l.contains("became leader at term"))
    });
    // raft-rs's record, its own key-values and the node's context on one line.
    assert!(become_leader.contains(" INFO  "), "{become_leader}");
    assert!(become_leader.contains(" raft_id=1"), "{become_leader}");
    assert!(become_leader.contains(" term="), "{become_leader}");
    assert!(
        become_leader.contains(&format!(" node=127.0.0.1:{port}")),
        "{become_leader}"
    );
    // Every line is a record: it starts with its time and level, never indented.
    for path in [stderr.clone(), dir.path().join("agent.log")] {
        for l in lines(&path) {
            let (time, rest) = l.split_once(' ').unwrap_or(("", ""));
            assert!(
                time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
                "not a record line in {}: {l:?}\n{}",
                path.display(),
                logs_in(dir.path(), &["master.log", "agent.log"])
            );
            let level = rest.split_whitespace().next().unwrap_or("");
            assert!(
                ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRIT"].contains(&level),
                "{l:?}"
            );
        }
    }
    // Without --log-dir the master has no log to serve.
    assert_eq!(
        try_get(port, "/files/read?path=/master/log")
            .unwrap()
            .status,
        404
    );
}
