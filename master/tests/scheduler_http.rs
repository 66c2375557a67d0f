//! The v1 scheduler HTTP API of a real master over real HTTP (raw sockets, paused clock):
//! SUBSCRIBE streams SUBSCRIBED, HEARTBEAT and OFFERS; ACCEPT reaches a test agent;
//! reliable UPDATEs carry uuid and agent id and ACKNOWLEDGE reaches the agent; failover
//! closes the old stream with ERROR; stream ids and framework ids are checked; every bad
//! input of the reference's tables gets its status and a body saying why, and the master
//! keeps serving after each.

use std::net::SocketAddr;
use std::time::Duration;

use meso_api::v1::{FrameworkId, TaskState};
use meso_testkit::eventually::eventually_async_within;
use meso_testkit::http::nonblocking::{master_serves, request, EventStream};
use meso_testkit::http::{json_call, post_bytes, Response};
use meso_testkit::master_harness::*;
use serde_json::{json, Value};

const PATH: &str = "/master/api/v1/scheduler";

fn subscribe_body(name: &str, id: Option<&str>, failover_timeout: f64) -> Value {
    let mut info = json!({"user": "tester", "name": name, "failover_timeout": failover_timeout});
    let mut call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info.clone()}});
    if let Some(id) = id {
        info["id"] = json!({"value": id});
        call = json!({"type": "SUBSCRIBE", "framework_id": {"value": id},
            "subscribe": {"framework_info": info}});
    }
    call
}

async fn subscribe(addr: SocketAddr, name: &str) -> (EventStream, String) {
    let mut stream = EventStream::open(addr, PATH, &subscribe_body(name, None, 3600.0))
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {} {}", r.status, r.text()));
    let subscribed = stream.next().await.expect("SUBSCRIBED");
    assert_eq!(
        subscribed["type"], "SUBSCRIBED",
        "first event: {subscribed}"
    );
    let id = subscribed["subscribed"]["framework_id"]["value"]
        .as_str()
        .expect("framework id")
        .to_string();
    (stream, id)
}

async fn call(addr: SocketAddr, stream_id: Option<&str>, body: Value) -> Response {
    request(addr, &json_call(PATH, stream_id, &body))
        .await
        .expect("an answer to the call")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_streams_subscribed_heartbeat_then_offers() {
    let cluster = Cluster::start(Cluster::config()).await;
    let agent = cluster.add_agent("cpus:4;mem:1024").await;
    let addr = cluster.node.addr();
    let mut stream = EventStream::open(addr, PATH, &subscribe_body("f", None, 0.0))
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {} {}", r.status, r.text()));
    assert_eq!(
        stream
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str()),
        Some("application/json")
    );
    assert_eq!(stream.stream_id.len(), 36, "a UUID stream id");
    let subscribed = stream.next().await.expect("SUBSCRIBED");
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    assert_eq!(subscribed["subscribed"]["heartbeat_interval_seconds"], 15.0);
    assert_eq!(subscribed["subscribed"]["framework_id"]["value"], "m-0000");
    assert_eq!(subscribed["subscribed"]["master_info"]["id"], "m");
    assert_eq!(stream.next().await.expect("HEARTBEAT")["type"], "HEARTBEAT");
    let offers = stream.next_of("OFFERS").await;
    let offer = &offers["offers"]["offers"][0];
    assert_eq!(offer["agent_id"]["value"], agent.id.value.as_str());
    assert_eq!(offer["framework_id"]["value"], "m-0000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_follows_every_15_seconds_of_paused_time() {
    let cluster = Cluster::start(Cluster::config()).await;
    let (mut stream, _) = subscribe(cluster.node.addr(), "f").await;
    assert_eq!(
        stream.next().await.expect("first HEARTBEAT")["type"],
        "HEARTBEAT"
    );
    for _ in 0..2 {
        cluster.advance(Duration::from_secs(15), 1).await;
        assert_eq!(stream.next().await.expect("HEARTBEAT")["type"], "HEARTBEAT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_launches_on_the_agent_and_updates_are_acknowledged() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let addr = cluster.node.addr();
    let (mut stream, id) = subscribe(addr, "f").await;
    let offers = stream.next_of("OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let accept = json!({"type": "ACCEPT", "framework_id": {"value": id},
        "accept": {"offer_ids": [offer["id"]], "operations": [{"type": "LAUNCH", "launch": {
            "task_infos": [{"name": "t1", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
                "command": {"value": "true"},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}]}]}}],
        "filters": {"refuse_seconds": 5}}});
    let answer = call(addr, Some(&stream.stream_id), accept).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    assert!(answer.body.is_empty());
    next_matching(&mut agent.events, "RunTask", |e| match e {
        AgentEvent::RunTask(f, t) if f.value == id && t.task_id.as_str() == "t1" => Some(()),
        _ => None,
    })
    .await;

    agent.send_update(&FrameworkId::new(&*id), "t1", TaskState::Running);
    let update = stream.next_of("UPDATE").await;
    let status = &update["update"]["status"];
    assert_eq!(status["state"], "TASK_RUNNING");
    assert_eq!(status["task_id"]["value"], "t1");
    assert_eq!(status["agent_id"]["value"], agent.id.value.as_str());
    let uuid = status["uuid"]
        .as_str()
        .expect("a reliable update has a uuid");

    let ack = json!({"type": "ACKNOWLEDGE", "framework_id": {"value": id},
        "acknowledge": {"agent_id": status["agent_id"], "task_id": {"value": "t1"}, "uuid": uuid}});
    let answer = call(addr, Some(&stream.stream_id), ack).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let acked = next_matching(&mut agent.events, "Ack", |e| match e {
        AgentEvent::Ack(u, first) => Some((u.clone(), *first)),
        _ => None,
    })
    .await;
    assert_eq!(acked, (vec![1u8; 16], true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribing_fails_the_old_stream_over_with_an_error() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let (mut old, id) = subscribe(addr, "f").await;
    let mut new = EventStream::open(addr, PATH, &subscribe_body("f", Some(&id), 3600.0))
        .await
        .unwrap_or_else(|r| panic!("re-SUBSCRIBE refused: {} {}", r.status, r.text()));
    let subscribed = new.next().await.expect("SUBSCRIBED");
    assert_eq!(
        subscribed["subscribed"]["framework_id"]["value"],
        id.as_str()
    );
    assert_ne!(new.stream_id, old.stream_id);

    let error = old.next_of("ERROR").await;
    assert_eq!(
        error,
        json!({"type": "ERROR", "error": {"message": "Framework failed over"}})
    );
    assert!(
        old.next().await.is_none(),
        "the old stream ends after ERROR"
    );

    // Calls must now carry the new stream id.
    let revive = json!({"type": "REVIVE", "framework_id": {"value": id}});
    let stale = call(addr, Some(&old.stream_id), revive.clone()).await;
    assert_eq!(stale.status, 400);
    assert!(stale.text().contains("didn't match"), "{}", stale.text());
    let fresh = call(addr, Some(&new.stream_id), revive).await;
    assert_eq!(fresh.status, 202, "{}", fresh.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_need_the_right_stream_id_and_a_subscribed_framework() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let (stream, id) = subscribe(addr, "f").await;
    let revive = json!({"type": "REVIVE", "framework_id": {"value": id}});

    let missing = call(addr, None, revive.clone()).await;
    assert_eq!(missing.status, 400);
    assert!(
        missing.text().contains("Mesos-Stream-Id"),
        "{}",
        missing.text()
    );

    let wrong = call(addr, Some("not-the-stream"), revive.clone()).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.text().contains("not-the-stream"), "{}", wrong.text());

    let other = json!({"type": "REVIVE", "framework_id": {"value": "no-such-framework"}});
    let unknown = call(addr, Some(&stream.stream_id), other).await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.text(), "Framework cannot be found");

    let with_id =
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}});
    let resub = call(addr, Some(&stream.stream_id), with_id).await;
    assert_eq!(resub.status, 400);
    assert!(resub.text().contains("Mesos-Stream-Id"), "{}", resub.text());

    // Closing the stream disconnects the framework (failover timeout 3600 s keeps it).
    let stream_id = stream.stream_id.clone();
    drop(stream);
    let answer = eventually_async_within(
        "the master to refuse the closed stream's calls (403)",
        Duration::from_secs(60),
        || async {
            let answer = call(addr, Some(&stream_id), revive.clone()).await;
            if answer.status == 403 {
                Ok(answer)
            } else {
                Err(format!("{} {}", answer.status, answer.text()))
            }
        },
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert_eq!(answer.text(), "Framework is not subscribed");
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["connected"], false);
    assert!(master_serves(addr).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stream_starts_the_failover_timeout_and_removal_is_final() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let mut stream = EventStream::open(addr, PATH, &subscribe_body("f", None, 10.0))
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {}", r.status));
    let id = stream.next().await.expect("SUBSCRIBED")["subscribed"]["framework_id"]["value"]
        .as_str()
        .expect("id")
        .to_string();
    drop(stream);
    eventually_async_within(
        "the master to see the stream close",
        Duration::from_secs(60),
        || async { cluster.state().await["frameworks"][0]["connected"] == false },
    )
    .await;
    cluster.advance(Duration::from_secs(11), 1).await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));

    let mut again = EventStream::open(addr, PATH, &subscribe_body("f", Some(&id), 10.0))
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {}", r.status));
    assert_eq!(
        again.next().await.expect("ERROR"),
        json!({"type": "ERROR", "error": {"message": "Framework has been removed"}})
    );
    assert!(again.next().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_the_framework_and_ends_its_stream() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let (mut stream, id) = subscribe(addr, "f").await;
    let answer = call(
        addr,
        Some(&stream.stream_id),
        json!({"type": "TEARDOWN", "framework_id": {"value": id}}),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    while let Some(event) = stream.next().await {
        assert_ne!(event["type"], "ERROR");
    }
    let state = cluster.state().await;
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_framework_cannot_be_driven_over_http() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let fw = cluster
        .add_framework(meso_api::v1::FrameworkInfo::new("tester", "native"))
        .await;
    let answer = call(
        addr,
        Some("any"),
        json!({"type": "REVIVE", "framework_id": {"value": fw.id.value}}),
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.text(), "Framework is not connected via HTTP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delegate_path_and_a_trailing_slash_reach_the_scheduler_api() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    for path in ["/api/v1/scheduler", "/master/api/v1/scheduler/"] {
        let mut stream = EventStream::open(addr, path, &subscribe_body("f", None, 0.0))
            .await
            .unwrap_or_else(|r| panic!("SUBSCRIBE on {path} refused: {}", r.status));
        assert_eq!(
            stream.next().await.expect("SUBSCRIBED")["type"],
            "SUBSCRIBED"
        );
    }
}

/// One bad request: the answer's status and a word its body must contain.
async fn refused(addr: SocketAddr, raw: &[u8], status: u16, says: &str) {
    let answer = request(addr, raw).await.expect("an answer");
    assert_eq!(answer.status, status, "body: {}", answer.text());
    assert!(
        answer.text().contains(says),
        "body {:?} should say {says:?}",
        answer.text()
    );
    assert!(master_serves(addr).await, "the master keeps serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_status_and_a_reason() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let (stream, id) = subscribe(addr, "f").await;
    let sid = stream.stream_id.clone();
    let revive = json!({"type": "REVIVE", "framework_id": {"value": id}}).to_string();

    // Wrong method.
    let get = format!("GET {PATH} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    refused(addr, get.as_bytes(), 405, "POST").await;
    // Missing and wrong Content-Type.
    refused(
        addr,
        &post_bytes(PATH, &[("Mesos-Stream-Id", &sid)], revive.as_bytes()),
        400,
        "Content-Type",
    )
    .await;
    let text = [("Content-Type", "text/plain"), ("Mesos-Stream-Id", &sid)];
    refused(
        addr,
        &post_bytes(PATH, &text, revive.as_bytes()),
        415,
        "text/plain",
    )
    .await;
    let proto = [("Content-Type", "application/x-protobuf")];
    refused(
        addr,
        &post_bytes(PATH, &proto, b"\x08\x01"),
        415,
        "protobuf",
    )
    .await;
    // SUBSCRIBE wanting only protobuf.
    let only_proto = [
        ("Content-Type", "application/json"),
        ("Accept", "application/x-protobuf"),
    ];
    let sub = subscribe_body("g", None, 0.0).to_string();
    refused(
        addr,
        &post_bytes(PATH, &only_proto, sub.as_bytes()),
        406,
        "Accept",
    )
    .await;
    // Unknown call type, and UNKNOWN itself.
    let json_headers = [
        ("Content-Type", "application/json"),
        ("Mesos-Stream-Id", sid.as_str()),
    ];
    let bogus = json!({"type": "FLY", "framework_id": {"value": id}}).to_string();
    refused(
        addr,
        &post_bytes(PATH, &json_headers, bogus.as_bytes()),
        400,
        "Call",
    )
    .await;
    let unknown = json!({"type": "UNKNOWN", "framework_id": {"value": id}}).to_string();
    refused(
        addr,
        &post_bytes(PATH, &json_headers, unknown.as_bytes()),
        501,
        "UNKNOWN",
    )
    .await;
    // Missing payload.
    let no_payload = json!({"type": "ACCEPT", "framework_id": {"value": id}}).to_string();
    refused(
        addr,
        &post_bytes(PATH, &json_headers, no_payload.as_bytes()),
        400,
        "payload",
    )
    .await;
    let no_ack = json!({"type": "ACKNOWLEDGE", "framework_id": {"value": id}}).to_string();
    refused(
        addr,
        &post_bytes(PATH, &json_headers, no_ack.as_bytes()),
        400,
        "payload",
    )
    .await;
    // A uuid that is not 16 bytes.
    let short = json!({"type": "ACKNOWLEDGE", "framework_id": {"value": id}, "acknowledge":
        {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "AAEC"}})
    .to_string();
    refused(
        addr,
        &post_bytes(PATH, &json_headers, short.as_bytes()),
        400,
        "uuid",
    )
    .await;
    // Not JSON at all.
    refused(
        addr,
        &post_bytes(PATH, &json_headers, b"{\"type\":"),
        400,
        "JSON",
    )
    .await;
    // Nesting deeper than the limit.
    let deep = format!(
        "{{\"type\":\"REVIVE\",\"x\":{}{}}}",
        "[".repeat(500),
        "]".repeat(500)
    );
    refused(
        addr,
        &post_bytes(PATH, &json_headers, deep.as_bytes()),
        400,
        "depth",
    )
    .await;
    // A body over the node's limit (16 MiB): refused from its declared length.
    let huge = format!(
        "POST {PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
        64 << 20
    );
    refused(addr, huge.as_bytes(), 413, "limit").await;
    // A chunked body with trailers: the trailers are ignored and the call is served.
    let chunked = format!(
        "POST {PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nMesos-Stream-Id: {sid}\r\nTransfer-Encoding: chunked\r\nTrailer: X-Check\r\nConnection: close\r\n\r\n{:x}\r\n{revive}\r\n0\r\nX-Check: 1\r\n\r\n",
        revive.len()
    );
    let answer = request(addr, chunked.as_bytes()).await.expect("an answer");
    assert_eq!(answer.status, 202, "{}", answer.text());
    assert!(master_serves(addr).await);
    // A chunked body whose trailer section is garbage.
    let broken = format!(
        "POST {PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{revive}\r\n0\r\n\x00\x01 not a header\r\n\r\n",
        revive.len()
    );
    let _ = request(addr, broken.as_bytes()).await;
    assert!(master_serves(addr).await, "the master keeps serving");
    // Malformed request lines and an empty path.
    for raw in [
        "POST /master/api/v1/scheduler%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "POST master/api/v1/scheduler HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "POST  HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "POST /master/api/v1/sch eduler HTTP/1.1\r\nHost: t\r\n\r\n",
    ] {
        let answer = request(addr, raw.as_bytes()).await;
        if let Some(answer) = answer {
            assert!(
                (400..500).contains(&answer.status),
                "{raw:?} got {}",
                answer.status
            );
        }
        assert!(
            master_serves(addr).await,
            "the master keeps serving after {raw:?}"
        );
    }
    // The subscription survived all of it.
    let fine = call(
        addr,
        Some(&sid),
        serde_json::from_str(&revive).expect("json"),
    )
    .await;
    assert_eq!(fine.status, 202, "{}", fine.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_made_updates_carry_no_uuid() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let (mut stream, id) = subscribe(addr, "f").await;
    let kill = json!({"type": "KILL", "framework_id": {"value": id},
        "kill": {"task_id": {"value": "ghost"}}});
    let answer = call(addr, Some(&stream.stream_id), kill).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let update = stream.next_of("UPDATE").await;
    let status = &update["update"]["status"];
    assert_eq!(status["task_id"]["value"], "ghost");
    assert_eq!(status["state"], "TASK_LOST");
    assert!(status.get("uuid").is_none(), "{update}");

    let reconcile = json!({"type": "RECONCILE", "framework_id": {"value": id},
        "reconcile": {"tasks": [{"task_id": {"value": "other"}}]}});
    let answer = call(addr, Some(&stream.stream_id), reconcile).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let update = stream.next_of("UPDATE").await;
    assert_eq!(update["update"]["status"]["task_id"]["value"], "other");
    assert_eq!(
        update["update"]["status"]["reason"],
        "REASON_RECONCILIATION"
    );
    assert!(update["update"]["status"].get("uuid").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_framework_refuses_a_new_user_and_takes_a_new_name() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let (stream, id) = subscribe(addr, "f").await;
    let update = |user: &str, name: &str| {
        json!({"type": "UPDATE_FRAMEWORK", "framework_id": {"value": id},
            "update_framework": {"framework_info": {"id": {"value": id}, "user": user,
                "name": name, "failover_timeout": 3600.0}}})
    };
    let refused = call(addr, Some(&stream.stream_id), update("mallory", "f")).await;
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("user"), "{}", refused.text());
    let renamed = call(addr, Some(&stream.stream_id), update("tester", "renamed")).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["name"], "renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_subscribe_takes_a_driver_framework_over() {
    let cluster = Cluster::start(Cluster::config()).await;
    let addr = cluster.node.addr();
    let mut fw = cluster
        .add_framework(meso_api::v1::FrameworkInfo::new("tester", "native"))
        .await;
    let mut stream = EventStream::open(
        addr,
        PATH,
        &subscribe_body("native", Some(&fw.id.value), 0.0),
    )
    .await
    .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {} {}", r.status, r.text()));
    let subscribed = stream.next().await.expect("SUBSCRIBED");
    assert_eq!(
        subscribed["subscribed"]["framework_id"]["value"],
        fw.id.value.as_str()
    );
    next_matching(&mut fw.events, "the driver's failover error", |e| match e {
        SchedEvent::Error(m) if m.contains("failed over") => Some(()),
        _ => None,
    })
    .await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["connected"], true);
    assert!(state["frameworks"][0]["pid"].is_null());
}
