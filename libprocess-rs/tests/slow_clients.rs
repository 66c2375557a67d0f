//! Slow and hostile clients: the node bounds its open connections, closes connections that
//! send nothing or a request head too slowly, answers 408 to a body that never completes,
//! and 431 to too many or too large header fields; a normal request is answered throughout.
//! Limits are made small so the tests are quick; no test asserts on elapsed time.

mod common;

use common::*;
use libprocess::{Limits, Node};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn limited(limits: Limits) -> Node {
    Node::builder()
        .limits(limits)
        .build()
        .await
        .expect("node binds on loopback")
}

/// Reads until the peer closes; what it sent (hang-guarded).
async fn until_closed(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(GUARD, s.read_to_end(&mut out))
        .await
        .expect("hang guard: the node closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_limit_new_connections_close_until_idle_ones_time_out() {
    let node = limited(Limits {
        max_connections: 50,
        first_bytes_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(TcpStream::connect(node.addr()).await.unwrap());
    }
    let snapshot = || node.metrics().snapshot();
    eventually(async || snapshot()["libprocess/connections"] == 50.0).await;
    let mut refused = TcpStream::connect(node.addr()).await.unwrap();
    assert_eq!(until_closed(&mut refused).await, "", "closed unanswered");
    assert!(snapshot()["libprocess/dropped/connection_limit"] >= 1.0);
    // The idle ones send nothing: they are closed, and the node answers again.
    for s in &mut idle {
        assert_eq!(until_closed(s).await, "");
    }
    assert_eq!(snapshot()["libprocess/dropped/slow_connection"], 50.0);
    assert!(get(node.addr(), "/__processes__")
        .await
        .starts_with("HTTP/1.1 200"));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_and_half_open_connections_do_not_stop_answers() {
    let node = node().await;
    let mut held = Vec::new();
    for i in 0..2000 {
        let mut s = TcpStream::connect(node.addr()).await.unwrap();
        if i % 2 == 0 {
            // Half a request head, never finished.
            s.write_all(b"GET /__processes__ HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        held.push(s);
    }
    let answer = get(node.addr(), "/__processes__").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_sent_too_slowly_ends_the_connection() {
    let node = limited(Limits {
        http_header_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut s = TcpStream::connect(node.addr()).await.unwrap();
    s.write_all(b"GET /__processes__ HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = until_closed(&mut s).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_completes_is_a_408() {
    let node = limited(Limits {
        http_body_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let (rec, mut rx) = Recorder::new();
    node.spawn_named("svc", rec).unwrap();
    started(&mut rx).await;
    let mut s = TcpStream::connect(node.addr()).await.unwrap();
    s.write_all(b"POST /svc/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some")
        .await
        .unwrap();
    let answer = until_closed(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");
    assert_eq!(
        node.metrics().snapshot()["libprocess/http/body_timeouts"],
        1.0
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_floods_and_huge_heads_are_431() {
    let node = node().await;
    let mut flood = String::from("GET /__processes__ HTTP/1.1\r\nHost: x\r\n");
    for i in 0..500 {
        flood.push_str(&format!("X-Flood-{i}: {i}\r\n"));
    }
    flood.push_str("Connection: close\r\n\r\n");
    let answer = raw_http(node.addr(), flood.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let huge = format!(
        "GET /__processes__ HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(200 << 10)
    );
    let answer = raw_http(node.addr(), huge.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let path = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "p".repeat(200 << 10)
    );
    let answer = raw_http(node.addr(), path.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 414"),
        "{answer}"
    );
    assert!(get(node.addr(), "/__processes__")
        .await
        .starts_with("HTTP/1.1 200"));
    node.shutdown().await;
}
