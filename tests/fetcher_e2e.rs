//! End-to-end with real `meso master` and `meso agent` processes and the standard-library
//! Python scheduler (`tests/http_clients/scheduler.py`): command tasks whose command is a
//! script fetched from a URI (served by a small HTTP server in this test on loopback), a
//! URI that answers 404 failing its task with REASON_FETCHER_FAILED, and a finished task's
//! sandbox removed by garbage collection after a short `--gc-delay`. Waits are hang guards.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually::eventually;

/// Serves `routes` (path -> body) on loopback, 404 otherwise; counts requests per path.
fn serve(
    routes: HashMap<&'static str, &'static [u8]>,
) -> (u16, Arc<Mutex<HashMap<String, usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&head);
            let path = text.split(' ').nth(1).unwrap_or("/").to_string();
            *counted.lock().unwrap().entry(path.clone()).or_default() += 1;
            let response = match routes.get(path.as_str()) {
                Some(body) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    (port, hits)
}

/// Every file named `name` in the agent's sandboxes.
fn sandbox_files(cluster: &Cluster, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![cluster.agent_work_dir().join("slaves")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == name) {
                found.push(path);
            }
        }
    }
    found
}

const SCRIPT: &[u8] = b"#!/bin/sh\necho \"fetched script ran in $PWD\"\n";

#[test]
fn command_tasks_run_a_script_fetched_from_a_uri_downloaded_once() {
    let (port, hits) = serve(HashMap::from([("/hello.sh", SCRIPT)]));
    let cluster = Cluster::start();
    let url = format!("http://127.0.0.1:{port}/hello.sh");
    let (code, out) = cluster.run_scheduler(&[
        "--tasks",
        "2",
        "--command",
        "./hello.sh",
        "--uri",
        &url,
        "--uri-executable",
        "--uri-cache",
    ]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    assert!(out.contains("TASK_FINISHED"), "{out}");
    // Both tasks ran the script from their own sandbox...
    let outputs: Vec<String> = sandbox_files(&cluster, "stdout")
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| t.contains("fetched script ran in"))
        .collect();
    assert_eq!(outputs.len(), 2, "{outputs:?}\n{}", cluster.logs());
    // ...and the agent downloaded it once, through its cache.
    assert_eq!(hits.lock().unwrap().get("/hello.sh"), Some(&1));
}

#[test]
fn a_uri_answering_404_fails_the_task_with_reason_fetcher_failed() {
    let (port, _) = serve(HashMap::new());
    let cluster = Cluster::start();
    let url = format!("http://127.0.0.1:{port}/missing.sh");
    let (code, out) = cluster.run_scheduler(&[
        "--command",
        "./missing.sh",
        "--uri",
        &url,
        "--want",
        "TASK_FAILED",
    ]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    let failed = out
        .lines()
        .find(|l| l.contains("update ") && l.contains("TASK_FAILED"))
        .unwrap_or_else(|| panic!("no TASK_FAILED in\n{out}"));
    assert!(failed.contains("[REASON_FETCHER_FAILED]"), "{failed}");
    assert!(failed.contains(&url) && failed.contains("404"), "{failed}");
}

#[test]
fn a_finished_tasks_sandbox_is_garbage_collected_after_gc_delay() {
    let cluster = Cluster::start_with_agent_flags(&["--gc-delay", "2secs"]);
    let (code, out) = cluster.run_scheduler(&["--command", "echo collected > marker"]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    // The run directory, as the agent logged it at the launch.
    let log = std::fs::read_to_string(cluster.dir.path().join("agent.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("launched executor"))
        .unwrap_or_else(|| panic!("no launch in the agent log\n{log}"));
    // One record per line, `key=value` (a quoted value would not be a plain path).
    let directory = line
        .split(" directory=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no directory in {line}"));
    let run = PathBuf::from(directory);
    assert!(
        run.starts_with(cluster.agent_work_dir().canonicalize().unwrap()),
        "{line}"
    );
    eventually("the finished task's sandbox is removed", || !run.exists());
    // Its executor's directory stays (only runs are collected), without the stale `latest`.
    let runs = run.parent().unwrap();
    assert!(runs.exists());
    assert!(std::fs::symlink_metadata(runs.join("latest")).is_err());
}
