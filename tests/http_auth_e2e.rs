//! End-to-end HTTP authentication with the real `meso master` process and raw HTTP from
//! the test (no meso code on the client): `--authenticate-http-readonly` and
//! `--authenticate-http-frameworks` with a Mesos credentials file; a request without or
//! with wrong credentials gets 401 and the Basic challenge, the right ones pass, failures
//! are counted in `/metrics/snapshot`; `tests/http_clients/scheduler.py` runs a task to
//! TASK_FINISHED with `--principal/--secret` and is refused without them. Also the start-up
//! refusals: a flag without credentials, a missing or garbled credentials file.
//!
//! Timeouts are hang guards only.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use meso_testkit::eventually::eventually;
use meso_testkit::process::{free_port, meso_bin, spawn_agent, spawn_logged};
use meso_testkit::python_clients::run_scheduler_py;

const CREDENTIALS: &str = r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#;
/// `ops:s3cret` and `ops:wrong` in base64.
const RIGHT: &str = "Basic b3BzOnMzY3JldA==";
const WRONG: &str = "Basic b3BzOndyb25n";

/// `(status, head, body)` of `GET path` with an optional `Authorization` value.
fn get(port: u16, path: &str, authorization: Option<&str>) -> Option<(u16, String, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_string(), body.to_string()))
}

#[test]
fn a_master_with_http_authentication_admits_only_the_credentials_in_its_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.json");
    std::fs::write(&credentials, CREDENTIALS).expect("credentials file");
    let port = free_port();
    let port_text = port.to_string();
    let _master = spawn_logged(
        &[
            "master",
            "--port",
            &port_text,
            "--authenticate-http-readonly",
            "--authenticate-http-frameworks",
            "--credentials",
            credentials.to_str().expect("utf-8 temp path"),
        ],
        &dir.path().join("master.log"),
    );
    let log = || std::fs::read_to_string(dir.path().join("master.log")).unwrap_or_default();
    // /health stays open.
    eventually("master answers /health", || {
        get(port, "/master/health", None).is_some_and(|(status, _, _)| status == 200)
    });
    // Before it is elected the stand-in answers /master/state; it asks for credentials too.
    eventually("the master is elected", || {
        get(port, "/master/state", Some(RIGHT))
            .is_some_and(|(status, _, body)| status == 200 && body.contains("\"activated_slaves\""))
    });

    let (status, head, body) = get(port, "/master/state", None).expect("answer");
    assert_eq!(status, 401, "{body}\n{}", log());
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"mesos-master-readonly\""),
        "{head}"
    );
    let (status, _, _) = get(port, "/master/state", Some(WRONG)).expect("answer");
    assert_eq!(status, 401);
    let (status, _, body) = get(port, "/master/state", Some(RIGHT)).expect("answer");
    assert_eq!(status, 200, "{body}");
    let state: serde_json::Value = serde_json::from_str(&body).expect("state is JSON");
    assert_eq!(state["flags"]["authenticate_http_frameworks"], "true");
    let (status, _, body) = get(port, "/metrics/snapshot", Some(RIGHT)).expect("answer");
    assert_eq!(status, 200, "{body}");
    let metrics: serde_json::Value = serde_json::from_str(&body).expect("metrics are JSON");
    assert_eq!(
        metrics["master/http_authentication_failures"], 1.0,
        "{body}"
    );

    // A framework over the v1 scheduler API: refused without credentials, runs with them.
    let master_addr = format!("127.0.0.1:{port}");
    let _agent = spawn_agent(&master_addr, dir.path(), "agent", "cpus:2;mem:512", &[]);
    eventually("the agent registered", || {
        get(port, "/master/state", Some(RIGHT))
            .is_some_and(|(_, _, s)| s.contains("\"activated_slaves\":1"))
    });
    let (code, out) = run_scheduler_py(port, &["--command", "echo hi"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("401"), "{out}");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "s3cret\n").expect("secret file");
    let (code, out) = run_scheduler_py(
        port,
        &[
            "--command",
            "echo hi",
            "--principal",
            "ops",
            "--secret-file",
            secret_file.to_str().expect("utf-8 temp path"),
        ],
    );
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", log());
    assert!(out.contains("TASK_FINISHED"), "{out}");
}

/// Runs `meso master` with `args` and a free port; it must exit non-zero at once. Its
/// stderr.
fn refused_start(args: &[&str]) -> String {
    let port = free_port().to_string();
    let out = Command::new(meso_bin())
        .args(["master", "--port", &port])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("meso runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "started with {args:?}: {stderr}");
    stderr
}

#[test]
fn bad_authentication_flags_stop_the_master_at_start_saying_why() {
    let stderr = refused_start(&["--authenticate-http-readwrite"]);
    assert!(
        stderr.contains("--authenticate-http-readwrite needs --credentials or --jwt-secret-file"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("absent.json");
    let missing = missing.to_str().expect("utf-8 temp path");
    let stderr = refused_start(&["--authenticate-http-readonly", "--credentials", missing]);
    assert!(
        stderr.contains(&format!("--credentials {missing}: cannot read it")),
        "{stderr}"
    );
    let garbled = dir.path().join("garbled.json");
    std::fs::write(&garbled, r#"{"credentials":[{"principal":"ops"}]}"#).expect("file");
    let garbled = garbled.to_str().expect("utf-8 temp path");
    let stderr = refused_start(&["--authenticate-http-readonly", "--credentials", garbled]);
    assert!(
        stderr.contains(&format!("--credentials {garbled}: not a JSON object"))
            && stderr.contains("missing field `secret`"),
        "{stderr}"
    );
    let empty_key = dir.path().join("key");
    std::fs::write(&empty_key, "").expect("file");
    let stderr = refused_start(&[
        "--authenticate-http-frameworks",
        "--jwt-secret-file",
        empty_key.to_str().expect("utf-8 temp path"),
    ]);
    assert!(stderr.contains("the file is empty"), "{stderr}");
}
