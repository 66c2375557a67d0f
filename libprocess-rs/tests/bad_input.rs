//! Bad input on the node's port: each case is dropped with a counter, and the node keeps
//! serving everyone else (a fresh peer's message and an HTTP request still work).

mod common;

use bytes::BytesMut;
use common::*;
use libprocess::frame::{self, FrameKind, Header, PREAMBLE};
use libprocess::{Node, Upid};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;

struct Target {
    node: Node,
    upid: Upid,
    rx: UnboundedReceiver<Event>,
    log: CapturedLog,
}

async fn target(max_frame: usize) -> Target {
    let log = CapturedLog::default();
    let node = Node::builder()
        .max_frame_bytes(max_frame)
        .max_http_body_bytes(1024)
        .logger(log.logger())
        .build()
        .await
        .unwrap();
    let (rec, mut rx) = Recorder::new();
    let pid = node.spawn_named("victim", rec).unwrap();
    started(&mut rx).await;
    Target {
        node,
        upid: pid.upid().clone(),
        rx,
        log,
    }
}

/// The node still takes frames from a new peer and answers HTTP.
async fn assert_still_serving(t: &mut Target) {
    let client = node().await;
    client.send(&t.upid, Note(777)).unwrap();
    assert_eq!(next(&mut t.rx).await, Event::Note { from: None, n: 777 });
    let resp = get(t.node.addr(), "/__processes__").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    client.shutdown().await;
}

fn frame_bytes(to: &str, name: &str, payload: &[u8]) -> BytesMut {
    let mut buf = BytesMut::new();
    let header = Header {
        kind: FrameKind::Message,
        correlation: 0,
        from: "",
        to,
        name,
        tracked: false,
    };
    frame::encode(&mut buf, &header, 1 << 20, |b| {
        b.extend_from_slice(payload);
        Ok(())
    })
    .unwrap();
    buf
}

async fn frames_conn(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&PREAMBLE).await.unwrap();
    s
}

/// Reads until the server closes the connection (hang-guarded).
async fn closed_by_server(mut s: TcpStream) {
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(GUARD, s.read_to_end(&mut sink))
        .await
        .expect("hang guard: server closes");
}

fn counter(node: &Node, name: &str) -> f64 {
    node.metrics().snapshot()[name]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_are_dropped_as_garbage() {
    let mut t = target(1 << 20).await;
    // Deterministic noise whose first byte is neither the preamble nor an HTTP method letter.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..4096)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i == 0 {
                0x07
            } else {
                x as u8
            }
        })
        .collect();
    let mut s = TcpStream::connect(t.node.addr()).await.unwrap();
    let _ = s.write_all(&noise).await;
    closed_by_server(s).await;
    eventually(async || counter(&t.node, "libprocess/dropped/garbage_connection") == 1.0).await;
    assert!(
        t.log.contains("garbage first bytes"),
        "a log line names the drop"
    );
    assert_still_serving(&mut t).await;
    t.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_size_limit_ends_its_connection() {
    let mut t = target(1024).await;
    let mut s = frames_conn(t.node.addr()).await;
    s.write_all(&4096u32.to_le_bytes()).await.unwrap();
    let _ = s.write_all(&[0u8; 64]).await;
    closed_by_server(s).await;
    assert_eq!(counter(&t.node, "libprocess/dropped/oversize_frame"), 1.0);
    assert!(t.log.contains("frame over the size limit"));
    assert_still_serving(&mut t).await;
    t.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_frame_is_counted_when_the_connection_ends() {
    let mut t = target(1 << 20).await;
    let mut s = frames_conn(t.node.addr()).await;
    let whole = frame_bytes(t.upid.as_str(), "test.Note", &[5]);
    s.write_all(&whole[..whole.len() - 1]).await.unwrap();
    drop(s);
    eventually(async || counter(&t.node, "libprocess/dropped/truncated_frame") == 1.0).await;
    assert_still_serving(&mut t).await;
    t.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_dropped_and_the_connection_goes_on() {
    let mut t = target(1 << 20).await;
    let mut s = frames_conn(t.node.addr()).await;
    let to = t.upid.as_str().to_string();
    let mut wire = BytesMut::new();
    // Unknown message name.
    wire.extend_from_slice(&frame_bytes(&to, "test.Nope", &[1]));
    // Undecodable payload: an overlong varint where a u64 is expected.
    wire.extend_from_slice(&frame_bytes(&to, "test.Note", &[0xff; 11]));
    // Unknown process.
    wire.extend_from_slice(&frame_bytes(
        &format!("nobody@{}", t.node.addr()),
        "test.Note",
        &[1],
    ));
    // Malformed header: unknown kind byte.
    wire.extend_from_slice(&3u32.to_le_bytes());
    wire.extend_from_slice(&[0x33, 0, 0]);
    // Malformed receiver upid.
    wire.extend_from_slice(&frame_bytes("no-at-sign", "test.Note", &[1]));
    // Then a good one on the same connection.
    wire.extend_from_slice(&frame_bytes(&to, "test.Note", &[42]));
    s.write_all(&wire).await.unwrap();
    assert_eq!(next(&mut t.rx).await, Event::Note { from: None, n: 42 });
    assert_eq!(counter(&t.node, "libprocess/dropped/unknown_message"), 1.0);
    assert_eq!(counter(&t.node, "libprocess/dropped/decode_failed"), 1.0);
    assert_eq!(counter(&t.node, "libprocess/dropped/unknown_process"), 1.0);
    assert_eq!(counter(&t.node, "libprocess/dropped/malformed_frame"), 2.0);
    assert!(t.log.contains("dropped message"));
    assert!(t.log.contains("dropped malformed frame"));
    // Log lines per connection are thinned (1st, 2nd, 4th, ... drop); counters count all.
    let drop_lines = t
        .log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.starts_with("dropped"))
        .count();
    assert_eq!(drop_lines, 3);
    assert_still_serving(&mut t).await;
    t.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_gets_400_and_is_counted() {
    let mut t = target(1 << 20).await;
    let resp = raw_http(t.node.addr(), b"GARBAGE \x01\x02 nonsense\r\n\r\n").await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp:?}");
    eventually(async || counter(&t.node, "libprocess/http/malformed_requests") == 1.0).await;
    assert_still_serving(&mut t).await;
    t.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_with_no_process_get_404_and_big_bodies_413() {
    let mut t = target(1 << 20).await;
    for path in ["/nobody/here", "/", "//", "/%zz/x"] {
        let resp = get(t.node.addr(), path).await;
        assert!(resp.starts_with("HTTP/1.1 404"), "{path}: {resp}");
    }
    assert_eq!(counter(&t.node, "libprocess/http/no_process"), 4.0);
    let big = format!(
        "POST /victim/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n{}",
        "a".repeat(2000)
    );
    let resp = raw_http(t.node.addr(), big.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    // Chunked bodies have no declared length: the limit applies while reading.
    let chunked = format!(
        "POST /victim/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7d0\r\n{}\r\n0\r\n\r\n",
        "b".repeat(2000)
    );
    let resp = raw_http(t.node.addr(), chunked.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert_eq!(counter(&t.node, "libprocess/http/body_too_large"), 2.0);
    assert_still_serving(&mut t).await;
    t.node.shutdown().await;
}
