//! A real `meso master` against each class of Mesos's pre-authentication CVEs (reference §3)
//! and against crowds of idle clients: deep JSON nesting (CVE-2018-11793), numbers out of
//! range (CVE-2018-1330), empty and huge paths (CVE-2017-9790), malformed URLs
//! (CVE-2017-7687), chunked bodies with trailers (CVE-2018-1330), header floods, and 3000
//! idle or half-open connections. Each gets a clear 4xx (or a closed connection) and the
//! master keeps answering. Timeouts are hang guards only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use meso_testkit::eventually::eventually_within;
use meso_testkit::process::{free_port, spawn_logged, Proc};

const GUARD: Duration = Duration::from_secs(60);

/// Sends `request` raw and reads the whole answer (the master closes after it).
fn raw(port: u16, request: &[u8]) -> String {
    // A refused connection answers nothing (status 0): only `healthy` polls before the
    // master listens.
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(GUARD)).unwrap();
    // The server may answer and close before reading all of a huge request.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn post(port: u16, path: &str, body: &str) -> String {
    raw(
        port,
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

fn healthy(port: u16) -> bool {
    status(&raw(
        port,
        b"GET /master/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )) == 200
}

fn master() -> (tempfile::TempDir, Proc, u16) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let proc = spawn_logged(
        &["master", "--port", &port.to_string()],
        &dir.path().join("master.log"),
    );
    eventually_within("the master leads", GUARD, || {
        let answer = raw(
            port,
            b"GET /master/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        answer.contains("\"elected\":true").then_some(())
    });
    (dir, proc, port)
}

#[test]
fn each_cve_class_gets_a_clear_refusal_and_the_master_keeps_answering() {
    let (_dir, _master, port) = master();

    // CVE-2018-11793: deep nesting is refused before it can overflow a stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let answer = post(port, "/api/v1/scheduler", &deep);
    assert_eq!(status(&answer), 400, "{answer}");
    let nested_object = format!(
        "{{\"type\":\"SUBSCRIBE\",\"subscribe\":{}1{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_000)
    );
    let answer = post(port, "/api/v1/scheduler", &nested_object);
    assert_eq!(status(&answer), 400, "{answer}");
    assert!(healthy(port));

    // CVE-2018-1330 (first cause): a number out of range is a 400, not an exception.
    let huge_number = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":1e999}}}"#;
    let answer = post(port, "/api/v1/scheduler", huge_number);
    assert_eq!(status(&answer), 400, "{answer}");
    assert!(healthy(port));

    // CVE-2017-9790: an empty path; and the other path shapes a parser may not expect.
    for request in [
        &b"GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
        b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET master/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let answer = raw(port, request);
        let code = status(&answer);
        assert!((400..500).contains(&code), "{answer}");
    }
    let huge_path = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a/".repeat(100_000)
    );
    let code = status(&raw(port, huge_path.as_bytes()));
    assert!(code == 414 || code == 431, "{code}");
    assert!(healthy(port));

    // CVE-2017-7687: malformed escapes and URLs.
    for path in [
        "/%zz/state",
        "/master/%ff%fe%fd",
        "/master%2",
        "/master/state?%%%",
        "/slave%28%zz%29/state",
        "http://[::1/master/state",
        "/master/../../etc/passwd",
    ] {
        let answer = raw(
            port,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let code = status(&answer);
        assert!((200..500).contains(&code) && code != 0, "{path}: {answer}");
    }
    assert!(healthy(port));

    // CVE-2018-1330 (second cause): a chunked request with trailers is read whole (or
    // refused), never an assertion.
    let chunked =
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                   Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                   4\r\n{\"ty\r\n3\r\npe\"\r\n0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n";
    let answer = raw(port, chunked.as_bytes());
    assert_eq!(status(&answer), 400, "{answer}");
    let bad_chunk = "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                     Connection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    let answer = raw(port, bad_chunk.as_bytes());
    assert!(
        (400..500).contains(&status(&answer)) || answer.is_empty(),
        "{answer}"
    );
    assert!(healthy(port));

    // Header floods: too many fields, or one too large.
    let mut flood = String::from("GET /master/state HTTP/1.1\r\nHost: x\r\n");
    for i in 0..1000 {
        flood.push_str(&format!("X-{i}: {i}\r\n"));
    }
    flood.push_str("Connection: close\r\n\r\n");
    assert_eq!(status(&raw(port, flood.as_bytes())), 431);
    let big = format!(
        "GET /master/state HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(1 << 20)
    );
    assert_eq!(status(&raw(port, big.as_bytes())), 431);
    assert!(healthy(port));
}

#[test]
fn thousands_of_idle_and_half_open_connections_do_not_stop_the_master() {
    let (_dir, _master, port) = master();
    let mut held = Vec::new();
    for i in 0..3000 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        match i % 3 {
            0 => {}
            1 => s
                .write_all(b"GET /master/state HTTP/1.1\r\nHost: x\r\n")
                .unwrap(),
            _ => s
                .write_all(b"POST /api/v1/scheduler HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{")
                .unwrap(),
        }
        held.push(s);
    }
    assert!(
        healthy(port),
        "answers beside 3000 idle or half-open connections"
    );
    drop(held);
}
