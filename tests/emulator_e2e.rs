//! The agent emulator against one real `meso master`: 1,000 emulated agents (5 tasks each)
//! register; after the master is killed with SIGKILL and restarted on its work dir, every one
//! re-registers with its tasks, which the master then lists (adopted under the emulator's
//! framework). Timeouts are hang guards only.

use meso_testkit::http::blocking::try_get;
use meso_testkit::masters::Masters;
use meso_testkit::process::Proc;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const MESO: &str = env!("CARGO_BIN_EXE_meso");
const GUARD: Duration = Duration::from_secs(120);
const AGENTS: usize = 1000;
const TASKS: usize = 5;

fn wait_wave(lines: &mpsc::Receiver<String>, wave: u64, seen: &mut Vec<String>) {
    let want = format!("emulator all_registered wave={wave} agents={AGENTS}");
    loop {
        let line = lines
            .recv_timeout(GUARD)
            .unwrap_or_else(|_| panic!("hang guard: waiting for {want}; saw {seen:?}"));
        seen.push(line.clone());
        if line.starts_with(&want) {
            return;
        }
    }
}

#[test]
fn a_thousand_emulated_agents_register_and_come_back_with_their_tasks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut master = Masters::start(Path::new(MESO), dir.path(), 1, &[]);
    master.wait_leader(GUARD);
    let mut child = Command::new(MESO)
        .args([
            "agent-emulator",
            "--master",
            &master.addresses(),
            "--agents",
            &AGENTS.to_string(),
            "--tasks-per-agent",
            &TASKS.to_string(),
            "--framework-id",
            "emulated-fw",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("emulator.log")).expect("log file"),
        ))
        .spawn()
        .expect("meso agent-emulator starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let _emulator = Proc(child);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    wait_wave(&lines, 1, &mut seen);
    let state = |port| -> Value {
        let body = try_get(port, "/master/state")
            .expect("master answers")
            .text();
        serde_json::from_str(&body).expect("state is JSON")
    };
    let metrics = |port| -> Value {
        let body = try_get(port, "/metrics/snapshot")
            .expect("master answers")
            .text();
        serde_json::from_str(&body).expect("metrics are JSON")
    };
    let first = state(master.ports[0]);
    assert_eq!(first["activated_slaves"].as_u64(), Some(AGENTS as u64));

    master.kill9(0);
    master.spawn(0);
    master.wait_leader(GUARD);
    wait_wave(&lines, 2, &mut seen);
    let after = state(master.ports[0]);
    assert_eq!(after["activated_slaves"].as_u64(), Some(AGENTS as u64));
    assert_eq!(
        metrics(master.ports[0])["master/tasks_running"].as_f64(),
        Some((AGENTS * TASKS) as f64)
    );
    let fw = after["frameworks"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "emulated-fw"))
        .expect("the emulated framework is adopted");
    assert_eq!(fw["tasks"].as_array().map(Vec::len), Some(AGENTS * TASKS));
    assert!(fw["tasks"]
        .as_array()
        .is_some_and(|t| t.iter().all(|t| t["state"] == "TASK_RUNNING")));
}
