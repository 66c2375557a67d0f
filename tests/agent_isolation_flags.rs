//! `meso agent` refuses to start with an isolator it does not know, naming it and listing
//! the known ones (the real binary, as an operator runs it).

use std::process::{Command, Output};

const MESO: &str = env!("CARGO_BIN_EXE_meso");

/// Runs `meso agent` (a master that is not there, port 0, a fresh work dir) with `extra`
/// flags, until it exits.
fn run_agent(extra: &[&str]) -> Output {
    let work = tempfile::tempdir().expect("temp work dir");
    Command::new(MESO)
        .args([
            "agent",
            "--master",
            "127.0.0.1:1",
            "--port",
            "0",
            "--work-dir",
        ])
        .arg(work.path())
        .args(extra)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("meso runs")
}

#[test]
fn unknown_isolator_stops_the_agent_with_a_clear_message() {
    let out = run_agent(&["--isolation", "posix/cpu,cgroups/gpu"]);
    assert!(!out.status.success(), "the agent must not start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown isolator \"cgroups/gpu\""),
        "{stderr}"
    );
    for known in [
        "posix/mem",
        "cgroups/mem",
        "namespaces/pid",
        "filesystem/rootfs",
    ] {
        assert!(stderr.contains(known), "{known} not listed: {stderr}");
    }
    // It stopped before listening: nothing was served.
    assert!(!stderr.contains("agent listening"), "{stderr}");
}

#[test]
fn bad_isolation_flag_values_name_the_flag() {
    let out = run_agent(&["--cgroups-hierarchy", "v3"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cgroups-hierarchy") && stderr.contains("v3"),
        "{stderr}"
    );
}
