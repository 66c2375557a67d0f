//! End-to-end: a real `meso master` and two `meso agent` processes on loopback ports, with
//! `meso execute` runs for a finishing task, a failing task (exit code 3), a killed task,
//! and an agent killed with SIGKILL whose task is reported TASK_LOST after the (short) ping
//! timeout. Timeouts here are hang guards only.

use meso_testkit::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::{
    free_port, meso_bin, spawn_agent, spawn_logged, wait_exit, Lines, Proc,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Cluster {
    master_port: u16,
    agents: Vec<(Proc, PathBuf, PathBuf)>,
    master: Proc,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let master_port = free_port();
        let master = Cluster::spawn_master(dir.path(), master_port, "master.log");
        eventually("master answers /health", || {
            try_get(master_port, "/master/health")
                .map(|r| r.text())
                .is_some()
        });
        let master_addr = format!("127.0.0.1:{master_port}");
        let mut agents = Vec::new();
        for i in 0..2 {
            let name = format!("agent{i}");
            let p = spawn_agent(
                &master_addr,
                dir.path(),
                &name,
                "cpus:2;mem:256;disk:100",
                &[],
            );
            let work = dir.path().join(&name);
            let log = dir.path().join(format!("{name}.log"));
            agents.push((p, work, log));
        }
        eventually("two agents registered", || {
            try_get(master_port, "/master/state")
                .map(|r| r.text())
                .is_some_and(|s| s.contains("\"activated_slaves\":2"))
        });
        Cluster {
            master_port,
            agents,
            master,
            dir,
        }
    }

    /// Starts a master on `port` with a short ping timeout, logging to `log` in `dir`.
    fn spawn_master(dir: &Path, port: u16, log: &str) -> Proc {
        let port = port.to_string();
        spawn_logged(
            &[
                "master",
                "--port",
                &port,
                "--agent-ping-timeout",
                "500ms",
                "--max-agent-ping-timeouts",
                "2",
            ],
            &dir.join(log),
        )
    }

    /// Kills the master with SIGKILL and starts a new one on the same port.
    fn restart_master(&mut self) {
        self.master.0.kill().expect("SIGKILL the master");
        let _ = self.master.0.wait();
        self.master = Cluster::spawn_master(self.dir.path(), self.master_port, "master2.log");
    }

    fn execute_args(&self, name: &str, command: &str) -> Vec<String> {
        vec![
            "execute".into(),
            "--master".into(),
            format!("127.0.0.1:{}", self.master_port),
            "--name".into(),
            name.into(),
            "--command".into(),
            command.into(),
            "--resources".into(),
            "cpus:0.5;mem:32".into(),
        ]
    }

    /// Starts `meso execute` running `command` as task `name`, its stdout read line by line.
    fn spawn_execute(&self, name: &str, command: &str) -> (Proc, Lines) {
        let mut child = Command::new(meso_bin())
            .args(self.execute_args(name, command))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("meso execute starts");
        let lines = Lines::of(&mut child);
        (Proc(child), lines)
    }

    fn execute(&self, name: &str, command: &str, extra: &[&str]) -> Output {
        let mut child = Command::new(meso_bin())
            .args(self.execute_args(name, command))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("meso execute starts");
        wait_exit(&format!("meso execute {name}"), &mut child);
        child.wait_with_output().expect("output")
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn tasks_finish_fail_and_get_killed_through_real_processes() {
    let cluster = Cluster::start();

    let ok = cluster.execute("hello", "echo hello", &[]);
    let out = text(&ok);
    assert_eq!(ok.status.code(), Some(0), "{out}");
    assert!(
        out.contains("TASK_RUNNING") && out.contains("TASK_FINISHED"),
        "{out}"
    );

    let failed = cluster.execute("three", "exit 3", &[]);
    let out = text(&failed);
    assert_ne!(failed.status.code(), Some(0), "{out}");
    assert!(
        out.contains("TASK_FAILED") && out.contains("exited with status 3"),
        "{out}"
    );

    let killed = cluster.execute("sleeper", "sleep 60", &["--kill-after", "1secs"]);
    let out = text(&killed);
    assert_ne!(killed.status.code(), Some(0), "{out}");
    assert!(out.contains("TASK_KILLED"), "{out}");
}

/// `THP_enabled` of process `pid` (`/proc/<pid>/status`, Linux 5.0 and later).
fn thp_enabled(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_string())
}

#[test]
fn the_master_runs_without_transparent_huge_pages_and_agents_keep_them() {
    let cluster = Cluster::start();
    let master = cluster.master.0.id();
    let agent = cluster.agents[0].0 .0.id();
    let Some(master_thp) = thp_enabled(master) else {
        eprintln!("this kernel does not report THP_enabled; nothing to check");
        return;
    };
    assert_eq!(master_thp, "0", "meso master turns THP off");
    // Agents keep it: their tasks would inherit the setting.
    assert_eq!(
        thp_enabled(agent).as_deref(),
        Some("1"),
        "meso agent keeps THP"
    );
}

#[test]
fn killing_an_agent_reports_its_task_lost() {
    let mut cluster = Cluster::start();
    let (mut child, mut lines) = cluster.spawn_execute("doomed", "sleep 60");
    lines.wait_for("TASK_RUNNING");
    // Which agent runs it: the one whose work dir holds the executor's sandbox.
    let index = (0..2)
        .find(|&i| {
            let work = &cluster.agents[i].1;
            walk_has(work, "doomed")
        })
        .expect("one agent has the task's sandbox");
    let (mut agent, _, log) = cluster.agents.remove(index);
    agent.0.kill().expect("SIGKILL the agent");
    let _ = agent.0.wait();
    // The executor and its task outlive the agent; clean them up after the check.
    let executor_pids = launched_pids(&log);

    lines.wait_for("TASK_LOST");
    let status = wait_exit("meso execute exits", &mut child.0);
    assert_ne!(status.code(), Some(0), "{:?}", lines.seen);
    for pid in executor_pids {
        // Each executor leads its own process group.
        let _ = Command::new("kill")
            .args(["-9", "--", &format!("-{pid}")])
            .status();
    }
}

#[test]
fn a_task_survives_a_master_restart() {
    let mut cluster = Cluster::start();
    let (mut child, mut lines) = cluster.spawn_execute("survivor", "sleep 4");
    lines.wait_for("TASK_RUNNING");
    cluster.restart_master();
    // Both agents come back to the new master, the one running the task with it.
    eventually("agents re-registered with the new master", || {
        try_get(cluster.master_port, "/master/state")
            .map(|r| r.text())
            .is_some_and(|s| s.contains("\"activated_slaves\":2") && s.contains("survivor"))
    });
    lines.wait_for("TASK_FINISHED");
    let status = wait_exit("meso execute exits", &mut child.0);
    assert_eq!(status.code(), Some(0), "{:?}", lines.seen);
}

fn walk_has(dir: &Path, name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        (p.file_name().is_some_and(|n| n == name)
            && p.parent().is_some_and(|d| d.ends_with("executors")))
            || (p.is_dir() && walk_has(&p, name))
    })
}

fn launched_pids(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("launched executor"))
        .filter_map(|l| l.split("pid: ").nth(1))
        .filter_map(|rest| rest.split(',').next())
        .map(|p| p.trim().to_string())
        .collect()
}
