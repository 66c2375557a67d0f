//! End-to-end failover with real processes: three `meso master`s (`--peers`), two
//! `meso agent`s and `meso execute` running a long task, all given the three masters. The
//! leader is killed with SIGKILL: another master takes over, both agents and the framework
//! re-register with it, and the task keeps running (its command started once), until
//! `meso execute` is interrupted and kills it through the new leader. Timeouts here are
//! hang guards only.

use meso_testkit::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::masters::Masters;
use meso_testkit::process::{meso_bin, spawn_agent, Lines, Proc};
use std::path::Path;
use std::process::{Command, Stdio};

fn state(port: u16) -> Option<serde_json::Value> {
    serde_json::from_str(&try_get(port, "/master/state").map(|r| r.text())?).ok()
}

/// Files named `name` anywhere under `dir`.
fn find_files(dir: &Path, name: &str, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        // Skip symlinks: `runs/latest` points at a run already walked.
        if e.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        if p.is_dir() {
            find_files(&p, name, out);
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
}

#[test]
fn killing_the_leader_loses_no_task() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(&meso_bin(), dir.path(), 3, &[]);
    let ports = masters.ports.clone();
    let peers = masters.addresses();
    let first = masters.wait_leader(meso_testkit::HANG_GUARD);

    let mut agents = Vec::new();
    for i in 0..2 {
        agents.push(spawn_agent(
            &peers,
            dir.path(),
            &format!("agent{i}"),
            "cpus:2;mem:256;disk:100",
            &[],
        ));
    }
    eventually("two agents registered with the leader", || {
        state(ports[first]).is_some_and(|s| s["activated_slaves"] == 2)
    });

    let mut execute = Command::new(meso_bin())
        .args([
            "execute",
            "--master",
            &peers,
            "--name",
            "long",
            "--command",
            "echo started >> starts; sleep 600",
            "--resources",
            "cpus:0.5;mem:32",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meso execute starts");
    let mut lines = Lines::of(&mut execute);
    let execute = Proc(execute);
    lines.wait_for("TASK_RUNNING");

    // SIGKILL the leader.
    masters.kill9(first);
    let second = eventually("another master leads", || masters.leader_now());
    assert_ne!(second, first);
    eventually(
        "both agents and the framework re-register with the new leader, the task running",
        || {
            state(ports[second]).is_some_and(|s| {
                s["activated_slaves"] == 2
                    && s["frameworks"][0]["connected"] == true
                    && s["frameworks"][0]["tasks"][0]["id"] == "long"
                    && s["frameworks"][0]["tasks"][0]["state"] == "TASK_RUNNING"
            })
        },
    );
    // The follower left points at the new leader.
    let follower = (0..3)
        .find(|i| *i != first && *i != second)
        .expect("a follower");
    let doc = state(ports[follower]).expect("the follower answers");
    assert_eq!(doc["elected"], false);
    assert_eq!(doc["leader"], format!("master@127.0.0.1:{}", ports[second]));
    // The task's command ran once: not restarted.
    let mut starts = Vec::new();
    find_files(dir.path(), "starts", &mut starts);
    assert_eq!(starts.len(), 1, "{starts:?}");
    let text = std::fs::read_to_string(&starts[0]).expect("readable");
    assert_eq!(text.lines().count(), 1, "{text}");

    // The new leader kills the task for the framework.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(execute.0.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT meso execute");
    lines.wait_for("TASK_KILLED");
    assert!(
        !lines
            .seen
            .iter()
            .any(|l| l.contains("TASK_LOST") || l.contains("TASK_FAILED")),
        "{:?}",
        lines.seen
    );
    drop(execute);
    drop(agents);
}
