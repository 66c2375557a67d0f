//! The hello_world framework examples end to end against a real `meso master` and
//! `meso agent`: the Rust one (`frameworks/examples/hello_world.rs`, scheduler and custom
//! executor on the SDK, the executor binary fetched from a `file://` URI) and the Python
//! one over the v1 HTTP APIs (`tests/http_clients/hello_world.py`, standard library only).
//! The Rust one also runs with its driver over the v1 scheduler HTTP API (`--http`).
//! Each must print every task's RUNNING, framework message and FINISHED and exit 0.
//! Waits are hang guards.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually::HANG_GUARD;
use meso_testkit::process::example_bin;

/// Runs `program args` to its exit (killed at the hang guard): exit code and output.
fn run(program: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the framework starts");
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

fn check_output(cluster: &Cluster, code: Option<i32>, out: &str, tasks: usize) {
    assert_eq!(code, Some(0), "{out}\n{}", cluster.logs());
    for n in 0..tasks {
        for line in [
            format!("task hello-{n} is TASK_RUNNING"),
            format!("message: hello from hello-{n}"),
            format!("task hello-{n} is TASK_FINISHED"),
        ] {
            assert!(out.contains(&line), "missing '{line}' in:\n{out}");
        }
    }
    assert!(
        out.contains(&format!("all {tasks} tasks finished")),
        "{out}"
    );
}

#[test]
fn the_rust_hello_world_runs_its_fetched_executor_to_the_end() {
    let bin = example_bin("meso-frameworks", "hello_world");
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let (code, out) = run(&bin, &["--master", &master, "--tasks", "3"]);
    check_output(&cluster, code, &out, 3);
    // The executor ran from the copy the fetcher put in each sandbox.
    let fetched = walk(&cluster.agent_work_dir())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "hello_world"))
        .count();
    assert_eq!(fetched, 3, "one fetched executor per task's sandbox");
}

#[test]
fn the_rust_hello_world_runs_over_the_v1_scheduler_http_api() {
    let bin = example_bin("meso-frameworks", "hello_world");
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let (code, out) = run(&bin, &["--master", &master, "--tasks", "2", "--http"]);
    check_output(&cluster, code, &out, 2);
    // It subscribed over HTTP: the master knows no libprocess pid for it.
    let state = meso_testkit::http::blocking::try_get(cluster.master_port, "/master/state")
        .expect("the master answers");
    let state: serde_json::Value = serde_json::from_str(&state.text()).expect("JSON");
    let framework = state["completed_frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == "hello_world")
        .expect("the framework is listed as completed");
    assert!(framework.get("pid").is_none(), "{framework}");
}

#[test]
fn the_python_hello_world_runs_over_the_v1_http_apis() {
    let python = meso_testkit::python_clients::python3();
    let script = meso_testkit::python_clients::clients_dir().join("hello_world.py");
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let script = script.to_str().expect("a UTF-8 path");
    let (code, out) = run(
        std::path::Path::new(python),
        &[script, "--master", &master, "--tasks", "2"],
    );
    check_output(&cluster, code, &out, 2);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}
