//! `meso execute` against a master that is not there: it says it is retrying, then gives up
//! with exit code 3 after `--master-timeout` instead of retrying silently forever.

use std::process::{Command, Stdio};

use meso_testkit::process::{free_port, meso_bin, wait_exit};

#[test]
fn execute_without_a_master_reports_progress_then_gives_up() {
    // A loopback port nobody listens on: bind one, note it, close it.
    let port = free_port();
    let master = format!("127.0.0.1:{port}");
    let mut child = Command::new(meso_bin())
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
    wait_exit(
        "meso execute to give up: it kept retrying past --master-timeout",
        &mut child,
    );
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
