//! End-to-end: `meso local` runs a task for `meso execute`, and Ctrl-C (SIGINT) stops it
//! cleanly, killing the tasks still running. Timeouts are hang guards only.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MESO: &str = env!("CARGO_BIN_EXE_meso");
const HANG_GUARD: Duration = Duration::from_secs(120);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < HANG_GUARD, "hang guard: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

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
    let local = Command::new(MESO)
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

    let ok = Command::new(MESO)
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

    let mut long = Command::new(MESO)
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
    let out = long.stdout.take().expect("piped");
    let _long = Proc(long);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(HANG_GUARD)
            .expect("hang guard: TASK_RUNNING");
        if line.contains("TASK_RUNNING") {
            break;
        }
    }
    assert!(
        !processes_under(&work).is_empty(),
        "the task runs in a sandbox under the work dir"
    );

    sigint(&local.0);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = local.0.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < HANG_GUARD, "hang guard: meso local exits");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "meso local exits cleanly: {status:?}");
    wait_until("no process left in the sandboxes", || {
        processes_under(&work).is_empty()
    });
}
