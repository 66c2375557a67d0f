//! HTTP on the node's port: routing to processes and the delegate, streaming, built-ins.

mod common;

use common::*;
use libprocess::Node;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reach_the_named_process_with_route_query_and_body() {
    let node = node().await;
    let (rec, mut rx) = Recorder::new();
    node.spawn_named("svc", rec).unwrap();
    started(&mut rx).await;
    let resp = raw_http(
        node.addr(),
        b"POST /svc/jobs/1?x=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        resp.ends_with("route=/jobs/1 query=Some(\"x=2\")"),
        "{resp}"
    );
    assert_eq!(
        next(&mut rx).await,
        Event::Http {
            route: "/jobs/1".into(),
            body: "hello".into()
        }
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_first_segment_goes_to_the_delegate_or_404() {
    let node = Node::builder().delegate("master").build().await.unwrap();
    let resp = get(node.addr(), "/state").await;
    assert!(
        resp.starts_with("HTTP/1.1 404"),
        "no delegate process yet: {resp}"
    );
    let (rec, mut rx) = Recorder::new();
    node.spawn_named("master", rec).unwrap();
    started(&mut rx).await;
    let resp = get(node.addr(), "/state").await;
    assert!(resp.contains("route=/state"), "{resp}");
    let resp = get(node.addr(), "/").await;
    assert!(resp.contains("route=/ "), "{resp}");
    node.set_delegate(None);
    let resp = get(node.addr(), "/state").await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_can_stream_in_chunks() {
    let node = node().await;
    let (rec, mut rx) = Recorder::new();
    node.spawn_named("events", rec).unwrap();
    started(&mut rx).await;
    let resp = get(node.addr(), "/events/stream").await;
    assert!(
        resp.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{resp}"
    );
    let body = resp.split_once("\r\n\r\n").unwrap().1;
    // Chunked framing: size line, data, ... each data chunk in order.
    let one = body.find("one\n").unwrap();
    let two = body.find("two\n").unwrap();
    let three = body.find("three\n").unwrap();
    assert!(one < two && two < three, "{body}");
    assert!(
        body.ends_with("0\r\n\r\n"),
        "the stream ends when the process drops it: {body:?}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtins_list_processes_and_metrics() {
    let node = node().await;
    node.spawn_named("worker", Recorder::new().0).unwrap();
    node.metrics().counter("app/things").add(3);
    let resp = get(node.addr(), "/__processes__").await;
    let body = resp.split_once("\r\n\r\n").unwrap().1;
    let list: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(list[0]["id"], "worker");
    assert_eq!(list[0]["upid"], format!("worker@{}", node.addr()));
    assert!(list[0]["mailbox_depth"].is_u64());
    assert_eq!(metric(node.addr(), "app/things").await, 3.0);
    assert_eq!(metric(node.addr(), "libprocess/processes").await, 1.0);
    let prom = get(node.addr(), "/metrics").await;
    assert!(prom.contains("\napp_things 3\n"), "{prom}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_process_answers_metrics_snapshot_while_it_lives() {
    let node = node().await;
    node.metrics().counter("app/things").add(3);
    let (rec, mut rx) = Recorder::new();
    node.spawn_named("master", rec).unwrap();
    started(&mut rx).await;
    node.set_metrics_snapshot_process(Some("master"));
    let resp = get(node.addr(), "/metrics/snapshot").await;
    assert!(resp.contains("route=/metrics/snapshot"), "{resp}");
    node.set_metrics_snapshot_process(Some("gone"));
    assert_eq!(
        metric(node.addr(), "app/things").await,
        3.0,
        "a process that is not live leaves the built-in in place"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_several_requests_on_one_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let node = node().await;
    let (rec, mut rx) = Recorder::new();
    node.spawn_named("svc", rec).unwrap();
    started(&mut rx).await;
    let mut s = tokio::net::TcpStream::connect(node.addr()).await.unwrap();
    s.write_all(b"GET /svc/a HTTP/1.1\r\nHost: x\r\n\r\nGET /svc/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    tokio::time::timeout(GUARD, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.matches("HTTP/1.1 200").count(), 2, "{out}");
    assert!(
        out.contains("route=/a") && out.contains("route=/b"),
        "{out}"
    );
    node.shutdown().await;
}

/// Keeps HTTP replies (telling the test each time) and answers them when told to.
struct Deferred {
    held: Vec<libprocess::HttpReply>,
    holding: tokio::sync::mpsc::UnboundedSender<()>,
}
impl libprocess::Process for Deferred {
    type Message = String;
    fn handle(&mut self, _ctx: &mut libprocess::Context<Self>, answer: String) {
        for reply in self.held.drain(..) {
            reply.respond(libprocess::HttpResponse::text(
                http::StatusCode::OK,
                answer.clone(),
            ));
        }
    }
    fn http(
        &mut self,
        _ctx: &mut libprocess::Context<Self>,
        _request: libprocess::HttpRequest,
        reply: libprocess::HttpReply,
    ) {
        self.held.push(reply);
        let _ = self.holding.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_may_answer_later_and_unanswered_requests_get_503() {
    let node = node().await;
    let (holding, mut held) = tokio::sync::mpsc::unbounded_channel();
    let pid = node
        .spawn_named(
            "later",
            Deferred {
                held: Vec::new(),
                holding,
            },
        )
        .unwrap();
    let addr = node.addr();
    let pending = tokio::spawn(async move { get(addr, "/later/x").await });
    tokio::time::timeout(GUARD, held.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !pending.is_finished(),
        "the request waits for the process's answer"
    );
    pid.send("done".to_string()).unwrap();
    let resp = tokio::time::timeout(GUARD, pending).await.unwrap().unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.ends_with("done"),
        "{resp}"
    );
    // A request held by a process that terminates is answered 503.
    let pending = tokio::spawn(async move { get(addr, "/later/y").await });
    tokio::time::timeout(GUARD, held.recv())
        .await
        .unwrap()
        .unwrap();
    pid.terminate();
    let resp = tokio::time::timeout(GUARD, pending).await.unwrap().unwrap();
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_date_header_is_the_node_clocks_wall_time() {
    // A paused clock fixes every byte of a response, the Date header too (hyper's own
    // would read the system's time and make a simulated run unrepeatable).
    let epoch = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
    let clock = libprocess::TestClock::paused_at(epoch);
    let node = clocked_node(&clock).await;
    let resp = get(node.addr(), "/__processes__").await;
    assert!(
        resp.to_ascii_lowercase()
            .contains("\r\ndate: thu, 01 jan 2026 00:00:00 gmt\r\n"),
        "{resp}"
    );
    node.shutdown().await;
}
