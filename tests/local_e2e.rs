//! End-to-end: `meso local` runs a task for `meso execute`, and Ctrl-C (SIGINT) stops it
//! cleanly, killing the tasks still running. Timeouts are hang guards only.

use meso_testkit::eventually;
use meso_testkit::process::{free_port, meso_bin, wait_exit, Lines, Proc};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Processes whose working directory is under `dir` (the sandboxes).
fn processes_under(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter(|e| std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn sigint(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn meso_local_runs_tasks_and_ctrl_c_kills_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    let port = free_port();
    let agent_port = free_port();
    let local = Command::new(meso_bin())
        .args([
            "local",
            "--port",
            &port.to_string(),
            "--agent-port",
            &agent_port.to_string(),
        ])
        .args([
            "--work-dir",
            work.to_str().expect("utf-8 path"),
            "--resources",
            "cpus:2;mem:256;disk:100",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("meso local starts");
    let mut local = Proc(local);
    let stdout = local.0.stdout.take().expect("piped");
    let mut banner = BufReader::new(stdout).lines();
    let first = banner.next().expect("a banner line").expect("utf-8");
    assert!(first.contains(&format!("127.0.0.1:{port}")), "{first}");
    let master = format!("127.0.0.1:{port}");

    let ok = Command::new(meso_bin())
        .args([
            "execute",
            "--master",
            &master,
            "--name",
            "hello",
            "--command",
            "echo hello",
        ])
        .output()
        .expect("meso execute runs");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    let mut long = Command::new(meso_bin())
        .args([
            "execute",
            "--master",
            &master,
            "--name",
            "long",
            "--command",
            "sleep 60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("meso execute starts");
    let mut lines = Lines::of(&mut long);
    let _long = Proc(long);
    lines.wait_for("TASK_RUNNING");
    assert!(
        !processes_under(&work).is_empty(),
        "the task runs in a sandbox under the work dir"
    );

    sigint(&local.0);
    let status = wait_exit("meso local exits", &mut local.0);
    assert!(status.success(), "meso local exits cleanly: {status:?}");
    eventually("no process left in the sandboxes", || {
        processes_under(&work).is_empty()
    });
}
