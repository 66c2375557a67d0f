//! Running the standard-library Python clients in `tests/http_clients/` from root e2e tests:
//! finding python3 (a missing one fails the test saying so, never a silent pass) and
//! running `scheduler.py` against a master to its exit, killed at the kit's hang guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::eventually::HANG_GUARD;

/// python3, or a failure saying it is missing (never a silent pass).
pub fn python3() -> &'static str {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "SKIPPED FOR REAL: python3 is not installed; this end-to-end test drives meso with \
         tests/http_clients/scheduler.py and cannot run without it (CI installs python3)"
    );
    "python3"
}

/// `tests/http_clients`.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/http_clients")
}

/// The command line that runs `executor.py` as a custom executor.
pub fn executor_py_command() -> String {
    format!(
        "{} {}",
        python3(),
        clients_dir().join("executor.py").display()
    )
}

/// Runs scheduler.py against the master on `127.0.0.1:master_port` with `extra` arguments
/// until it exits (killed at the hang guard); its exit code and its stdout + stderr.
#[allow(dead_code)] // not every test that includes this module runs it to its exit
pub fn run_scheduler_py(master_port: u16, extra: &[&str]) -> (Option<i32>, String) {
    let master = format!("127.0.0.1:{master_port}");
    let mut child = Command::new(python3())
        .arg(clients_dir().join("scheduler.py"))
        .args(["--master", &master, "--timeout", "90", "--verbose"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}
