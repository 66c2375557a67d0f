//! `meso execute` against a master that is not there: it says it is retrying, then gives up
//! with exit code 3 after `--master-timeout` instead of retrying silently forever.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MESO: &str = env!("CARGO_BIN_EXE_meso");
/// Only a guard against a hang; the command gives up after 3 s on its own.
const HANG_GUARD: Duration = Duration::from_secs(120);

#[test]
fn execute_without_a_master_reports_progress_then_gives_up() {
    // A loopback port nobody listens on: bind one, note it, close it.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
        listener.local_addr().expect("bound address").port()
    };
    let master = format!("127.0.0.1:{port}");
    let mut child = Command::new(MESO)
        .args([
            "execute",
            "--master",
            &master,
            "--name",
            "nomaster",
            "--command",
            "true",
            "--master-timeout",
            "3secs",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meso execute starts");
    let start = Instant::now();
    while child.try_wait().expect("wait for meso execute").is_none() {
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("hang guard: meso execute kept retrying past --master-timeout");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output of meso execute");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("no master at {master} yet, retrying")),
        "{stdout}"
    );
    assert!(stderr.contains("gave up"), "{stderr}");
    assert!(stderr.contains("--master-timeout"), "{stderr}");
}
