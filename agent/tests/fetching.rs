//! The agent's fetch step against the test master, with a small HTTP server on loopback: a
//! command task runs the script it fetched; a 404 fails the task with REASON_FETCHER_FAILED
//! naming the URI; a kill or an executor registration timeout while the fetch is under way
//! ends the task and the executor is never started. The registration timeout runs on the
//! harness's paused clock; other waits are hang guards.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use meso_api::v1::{CommandUri, TaskState, TaskStatusReason, TaskStatusSource};
use meso_testkit::agent_harness::*;
use meso_testkit::eventually::eventually;

/// Serves `body` at `/<name>` (404 elsewhere); with `gated`, the body waits for `open`.
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl Server {
    fn start(name: &'static str, body: &'static [u8], gated: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new((Mutex::new(!gated), Condvar::new()));
        let (counted, held) = (hits.clone(), gate.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (counted, held) = (counted.clone(), held.clone());
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let path = String::from_utf8_lossy(&head)
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .to_string();
                    if path != format!("/{name}") {
                        let _ = stream.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                        return;
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let (open, cv) = &*held;
                    let mut open = open.lock().unwrap();
                    while !*open {
                        open = cv.wait(open).unwrap();
                    }
                    let _ = stream.write_all(body);
                });
            }
        });
        Server { port, hits, gate }
    }

    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    fn open(&self) {
        let (open, cv) = &*self.gate;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.open();
    }
}

fn with_uri(id: &str, command: &str, url: String) -> meso_api::v1::TaskInfo {
    let mut task = command_task(id, command);
    let c = task.command.as_mut().expect("a command task");
    c.uris.push(CommandUri {
        value: url,
        executable: Some(true),
        extract: true,
        cache: None,
        output_file: None,
    });
    task
}

/// The task's run directory (not `latest`).
fn run_dir(h: &Harness, task: &str) -> PathBuf {
    let runs = h.work_dir.path().join(format!(
        "slaves/{AGENT_ID}/frameworks/M-0000/executors/{task}/runs"
    ));
    std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().is_some_and(|n| n != "latest"))
        .expect("one run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_task_runs_the_script_it_fetched() {
    let server = Server::start("job.sh", b"#!/bin/sh\necho fetched-job-ran\n", false);
    let mut h = Harness::start_registered().await;
    h.run_task(with_uri("tf", "./job.sh", server.url("job.sh")));
    h.expect_running().await;
    h.expect_state(TaskState::Finished).await;
    let stdout = std::fs::read_to_string(run_dir(&h, "tf").join("stdout")).unwrap();
    assert!(stdout.contains("fetched-job-ran"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_fails_the_task_with_reason_fetcher_failed() {
    let server = Server::start("job.sh", b"", false);
    let mut h = Harness::start_registered().await;
    let missing = server.url("missing.sh");
    h.run_task(with_uri("t404", "./missing.sh", missing.clone()));
    let failed = h.expect_state(TaskState::Failed).await;
    assert_eq!(failed.status.reason, Some(TaskStatusReason::FetcherFailed));
    assert_eq!(failed.status.source, Some(TaskStatusSource::Agent));
    let message = failed.status.message.unwrap_or_default();
    assert!(
        message.contains(&missing) && message.contains("404"),
        "{message}"
    );
    h.executor_exited().await;
    assert!(
        !run_dir(&h, "t404").join("stdout").exists(),
        "never started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_the_fetch_ends_the_task_and_nothing_starts() {
    let server = Server::start("slow.sh", b"#!/bin/sh\necho should-not-run\n", true);
    let mut h = Harness::start_registered().await;
    h.run_task(with_uri("tk", "./slow.sh", server.url("slow.sh")));
    eventually("the agent asked for the file", || {
        server.hits.load(Ordering::SeqCst) == 1
    });
    h.kill_task("tk", None);
    let killed = h.expect_state(TaskState::Killed).await;
    assert_eq!(
        killed.status.reason,
        Some(TaskStatusReason::TaskKilledDuringLaunch)
    );
    // The fetch notices the cancel once bytes flow again; the executor ends unstarted.
    server.open();
    h.executor_exited().await;
    assert!(!run_dir(&h, "tk").join("stdout").exists(), "never started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registration_timeout_counts_the_fetch() {
    let server = Server::start("slow.sh", b"#!/bin/sh\necho should-not-run\n", true);
    let mut h = Harness::start_registered().await;
    h.run_task(with_uri("tt", "./slow.sh", server.url("slow.sh")));
    eventually("the agent asked for the file", || {
        server.hits.load(Ordering::SeqCst) == 1
    });
    h.clock.advance(Duration::from_secs(61));
    // The timeout is handled (the fetch cancelled) before the bytes may flow.
    h.clock.settle().await;
    server.open();
    let failed = h.expect_state(TaskState::Failed).await;
    assert_eq!(
        failed.status.reason,
        Some(TaskStatusReason::ExecutorRegistrationTimeout)
    );
    h.executor_exited().await;
    assert!(!run_dir(&h, "tt").join("stdout").exists(), "never started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_executor_is_fetched_from_its_command_uris() {
    // Not a real executor: it exits 7 at once, which shows it was fetched and started.
    let server = Server::start("exec.sh", b"#!/bin/sh\nexit 7\n", false);
    let mut h = Harness::start_registered().await;
    let mut command = meso_api::v1::CommandInfo::shell("./exec.sh");
    command.uris.push(CommandUri {
        value: server.url("exec.sh"),
        executable: Some(true),
        extract: true,
        cache: None,
        output_file: None,
    });
    h.run_task(executor_task("tc", executor_info("fetched-exec", command)));
    let failed = h.expect_state(TaskState::Failed).await;
    let message = failed.status.message.unwrap_or_default();
    assert!(message.contains("status 7"), "{message}");
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}
