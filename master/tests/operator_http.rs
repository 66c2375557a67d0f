//! The master's legacy JSON endpoints and v1 operator API over real HTTP to a real master
//! (the in-process cluster harness: test agents and the real scheduler driver on one node
//! with a paused clock). Raw HTTP/1.1 from the test kit's client (no meso code on the client side).
//! Bad input rows follow the reference's tables; after each the master keeps serving.

use std::net::SocketAddr;
use std::time::Duration;

use meso_api::v1::{FrameworkInfo, TaskState};
use meso_testkit::http::blocking::{call, exchange, get, post, EventStream};
use meso_testkit::http::Response;
use meso_testkit::master_harness::*;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(HANG_GUARD, tokio::task::spawn_blocking(f))
        .await
        .expect("hang guard: http")
        .expect("http client thread")
}

async fn http_get(addr: SocketAddr, path: &str) -> Response {
    let path = path.to_string();
    blocking(move || get(addr, &path)).await
}

async fn op(addr: SocketAddr, body: &str) -> Response {
    let body = body.to_string();
    blocking(move || call(addr, &body)).await
}

/// A cluster with one agent, one framework and one running task.
async fn small_cluster() -> (Cluster, AgentHandle, FrameworkHandle) {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "ops"))
        .await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    let update = next_update(&mut fw).await;
    assert_eq!(update.state, TaskState::Running);
    (cluster, agent, fw)
}

async fn assert_serving(addr: SocketAddr) {
    assert_eq!(http_get(addr, "/master/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_endpoints_answer_with_mesos_shapes() {
    let (cluster, agent, fw) = small_cluster().await;
    let addr = cluster.node.addr();
    for path in [
        "/master/state",
        "/state",
        "/state.json",
        "/master/state.json",
        "/master/state/",
    ] {
        let r = http_get(addr, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let state = r.json();
        assert_eq!(state["version"], "1.11.0", "{path}");
        assert_eq!(state["activated_slaves"], 1);
        assert_eq!(state["slaves"][0]["id"], agent.id.as_str());
        assert_eq!(state["frameworks"][0]["id"], fw.id.as_str());
        assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
        assert_eq!(state["frameworks"][0]["used_resources"]["cpus"], 1.0);
        // Times are seconds since the Unix epoch (after 2020), as Mesos prints them.
        for time in [
            &state["start_time"],
            &state["slaves"][0]["registered_time"],
            &state["frameworks"][0]["registered_time"],
        ] {
            assert!(time.as_f64().is_some_and(|t| t > 1.6e9), "{time}");
        }
    }
    let version = http_get(addr, "/version").await.json();
    assert_eq!(version["version"], "1.11.0");
    assert!(version["build_time"].is_number());
    let flags = http_get(addr, "/flags").await.json();
    assert_eq!(flags["flags"]["hostname"], "localhost");
    let m = http_get(addr, "/metrics/snapshot").await.json();
    assert_eq!(m["master/elected"], 1.0);
    assert_eq!(m["master/cpus_total"], 4.0);
    assert_eq!(m["master/cpus_used"], 1.0);
    assert_eq!(m["master/cpus_percent"], 0.25);
    assert_eq!(m["master/mem_total"], 1024.0);
    assert_eq!(m["master/mem_used"], 128.0);
    assert_eq!(m["master/cpus_revocable_total"], 0.0);
    assert_eq!(m["master/gpus_percent"], 0.0);
    assert_eq!(m["master/tasks_running"], 1.0);
    assert_eq!(m["master/slaves_active"], 1.0);
    assert_eq!(m["master/frameworks_active"], 1.0);
    assert!(
        m.as_object()
            .is_some_and(|o| o.keys().any(|k| k.starts_with("libprocess/"))),
        "libprocess's own metrics are merged in: {m}"
    );
    let summary = http_get(addr, "/master/state-summary").await.json();
    assert_eq!(summary["slaves"][0]["TASK_RUNNING"], 1);
    assert_eq!(summary["frameworks"][0]["slave_ids"][0], agent.id.as_str());
    let frameworks = http_get(addr, "/master/frameworks/").await.json();
    assert_eq!(frameworks["frameworks"][0]["name"], "ops");
    let none = http_get(addr, "/master/frameworks?framework_id=nope")
        .await
        .json();
    assert_eq!(none["frameworks"].as_array().map(Vec::len), Some(0));
    let slaves = http_get(addr, "/master/slaves").await.json();
    assert!(slaves["slaves"][0]["unreserved_resources_full"].is_array());
    let tasks = http_get(addr, "/master/tasks?limit=-1&order=asc")
        .await
        .json();
    assert_eq!(tasks["tasks"][0]["id"], "t1");
    let tasks = http_get(addr, "/tasks?task_id=other").await.json();
    assert_eq!(tasks["tasks"].as_array().map(Vec::len), Some(0));
    let roles = http_get(addr, "/master/roles").await.json();
    assert_eq!(roles["roles"][0]["name"], "*");
    assert_eq!(roles["roles"][0]["frameworks"][0], fw.id.as_str());
    let redirect = http_get(addr, "/master/redirect").await;
    assert_eq!(redirect.status, 307);
    assert!(redirect
        .header("location")
        .is_some_and(|l| l.starts_with("//localhost:")));
    assert_eq!(http_get(addr, "/master/redirect/x").await.status, 404);
    assert_eq!(http_get(addr, "/master/no-such-thing").await.status, 404);
    assert_eq!(http_get(addr, "/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonp_wraps_valid_callbacks_and_refuses_others() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    let r = http_get(addr, "/master/state?jsonp=app.cb").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/javascript"));
    let text = r.text();
    assert!(
        text.starts_with("app.cb({") && text.ends_with("});"),
        "{text}"
    );
    for bad in ["alert(1)", "a%3Bb", "1abc", "a..b"] {
        let r = http_get(addr, &format!("/master/state?jsonp={bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.text().contains("jsonp"), "{}", r.text());
    }
    let r = http_get(addr, "/master/tasks?limit=lots").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("limit"), "{}", r.text());
    assert_serving(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_operator_call_answers_its_type() {
    let (cluster, agent, fw) = small_cluster().await;
    let addr = cluster.node.addr();
    for kind in [
        "GET_HEALTH",
        "GET_FLAGS",
        "GET_VERSION",
        "GET_METRICS",
        "GET_LOGGING_LEVEL",
        "GET_STATE",
        "GET_AGENTS",
        "GET_FRAMEWORKS",
        "GET_EXECUTORS",
        "GET_TASKS",
        "GET_ROLES",
        "GET_MASTER",
    ] {
        for path in ["/api/v1", "/api/v1/operator", "/master/api/v1"] {
            let r = blocking({
                // GET_METRICS is the one read call whose payload Mesos requires.
                let body = if kind == "GET_METRICS" {
                    format!(r#"{{"type":"{kind}","get_metrics":{{}}}}"#)
                } else {
                    format!(r#"{{"type":"{kind}"}}"#)
                };
                move || post(addr, path, Some("application/json"), &body)
            })
            .await;
            assert_eq!(r.status, 200, "{kind} at {path}: {}", r.text());
            let v = r.json();
            assert_eq!(v["type"], kind);
            assert!(v[kind.to_ascii_lowercase()].is_object(), "{kind}: {v}");
        }
    }
    let health = op(addr, r#"{"type":"GET_HEALTH"}"#).await.json();
    assert_eq!(health["get_health"]["healthy"], true);
    let version = op(addr, r#"{"type":"GET_VERSION"}"#).await.json();
    assert_eq!(version["get_version"]["version_info"]["version"], "1.11.0");
    let agents = op(addr, r#"{"type":"GET_AGENTS"}"#).await.json();
    assert_eq!(
        agents["get_agents"]["agents"][0]["agent_info"]["id"]["value"],
        agent.id.as_str()
    );
    let tasks = op(addr, r#"{"type":"GET_TASKS"}"#).await.json();
    assert_eq!(tasks["get_tasks"]["tasks"][0]["task_id"]["value"], "t1");
    assert_eq!(tasks["get_tasks"]["tasks"][0]["state"], "TASK_RUNNING");
    let state = op(addr, r#"{"type":"GET_STATE"}"#).await.json();
    assert_eq!(
        state["get_state"]["get_frameworks"]["frameworks"][0]["framework_info"]["id"]["value"],
        fw.id.as_str()
    );
    let metrics = op(addr, r#"{"type":"GET_METRICS","get_metrics":{}}"#)
        .await
        .json();
    assert!(metrics["get_metrics"]["metrics"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x["name"] == "master/tasks_running")));
    let master = op(addr, r#"{"type":"GET_MASTER"}"#).await.json();
    assert_eq!(master["get_master"]["master_info"]["id"], "m");
    let roles = op(addr, r#"{"type":"GET_ROLES"}"#).await.json();
    assert_eq!(roles["get_roles"]["roles"][0]["name"], "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_the_framework() {
    let (cluster, mut agent, fw) = small_cluster().await;
    let addr = cluster.node.addr();
    let r = op(
        addr,
        &format!(
            r#"{{"type":"TEARDOWN","teardown":{{"framework_id":{{"value":"{}"}}}}}}"#,
            fw.id
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.is_empty());
    next_matching(&mut agent.events, "shutdown framework", |e| match e {
        AgentEvent::ShutdownFramework(id) if *id == fw.id => Some(()),
        _ => None,
    })
    .await;
    let state = http_get(addr, "/master/state").await.json();
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
    assert_eq!(state["completed_frameworks"][0]["id"], fw.id.as_str());
    assert_eq!(state["completed_frameworks"][0]["active"], false);
    let frameworks = op(addr, r#"{"type":"GET_FRAMEWORKS"}"#).await.json();
    assert_eq!(
        frameworks["get_frameworks"]["completed_frameworks"][0]["framework_info"]["id"]["value"],
        fw.id.as_str()
    );
    let r = op(
        addr,
        r#"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"unknown"}}}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("unknown"), "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_agent_gone_removes_it_and_a_plain_frameworks_tasks_are_lost() {
    let (cluster, mut agent, mut fw) = small_cluster().await;
    let addr = cluster.node.addr();
    let r = op(
        addr,
        &format!(
            r#"{{"type":"MARK_AGENT_GONE","mark_agent_gone":{{"agent_id":{{"value":"{}"}}}}}}"#,
            agent.id
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Mesos: TASK_GONE_BY_OPERATOR only for PARTITION_AWARE frameworks (tests/partition.rs).
    let update = next_update(&mut fw).await;
    assert_eq!(update.state, TaskState::Lost);
    next_matching(&mut agent.events, "agent shutdown", |e| match e {
        AgentEvent::Shutdown(_) => Some(()),
        _ => None,
    })
    .await;
    let m = http_get(addr, "/metrics/snapshot").await.json();
    assert_eq!(m["master/slaves_active"], 0.0);
    assert_eq!(m["master/tasks_lost"], 1.0);
    let r = op(
        addr,
        r#"{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"nope"}}}"#,
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_streams_state_then_events_and_heartbeats() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    let mut stream = blocking(move || {
        let mut s = EventStream::open(addr, "/api/v1", &[], r#"{"type":"SUBSCRIBE"}"#);
        assert_eq!(s.status, 200, "{:?}", s.headers);
        let first = s.next_event().expect("stream closed");
        assert_eq!(first["type"], "SUBSCRIBED");
        assert!(first["subscribed"]["get_state"].is_object(), "{first}");
        assert_eq!(first["subscribed"]["heartbeat_interval_seconds"], 15.0);
        s
    })
    .await;
    let mut agent = cluster.add_agent("cpus:2;mem:512").await;
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "watched"))
        .await;
    let (agent_id, fw_id) = (agent.id.clone(), fw.id.clone());
    stream = blocking(move || {
        let e = stream.until("AGENT_ADDED");
        assert_eq!(
            e["agent_added"]["agent"]["agent_info"]["id"]["value"],
            agent_id.as_str()
        );
        let e = stream.until("FRAMEWORK_ADDED");
        assert_eq!(
            e["framework_added"]["framework"]["framework_info"]["id"]["value"],
            fw_id.as_str()
        );
        stream
    })
    .await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    stream = blocking(move || {
        let e = stream.until("TASK_ADDED");
        assert_eq!(e["task_added"]["task"]["task_id"]["value"], "t1");
        assert_eq!(e["task_added"]["task"]["state"], "TASK_STAGING");
        let e = stream.until("TASK_UPDATED");
        assert_eq!(e["task_updated"]["state"], "TASK_RUNNING");
        assert_eq!(e["task_updated"]["status"]["task_id"]["value"], "t1");
        stream
    })
    .await;
    cluster.advance(Duration::from_secs(15), 1).await;
    stream = blocking(move || {
        stream.until("HEARTBEAT");
        stream
    })
    .await;
    let fw_id = fw.id.clone();
    let r = op(
        addr,
        &format!(
            r#"{{"type":"TEARDOWN","teardown":{{"framework_id":{{"value":"{}"}}}}}}"#,
            fw.id
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    blocking(move || {
        let e = stream.until("FRAMEWORK_REMOVED");
        assert_eq!(
            e["framework_removed"]["framework_info"]["id"]["value"],
            fw_id.as_str()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_operator_requests_get_the_tables_answers_and_the_master_keeps_serving() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_call = format!(r#"{{"type":"GET_HEALTH","x":{deep}}}"#);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "wrong method",
            b"GET /api/v1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec(),
            405,
            "POST",
        ),
        (
            "missing content type",
            b"POST /api/v1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 21\r\n\r\n{\"type\":\"GET_HEALTH\"}".to_vec(),
            400,
            "Content-Type",
        ),
        (
            "wrong content type",
            b"POST /api/v1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\n{\"type\":\"GET_HEALTH\"}".to_vec(),
            415,
            "text/plain",
        ),
        (
            "unknown call type",
            request(r#"{"type":"MAKE_COFFEE"}"#),
            400,
            "MAKE_COFFEE",
        ),
        (
            "missing payload",
            request(r#"{"type":"TEARDOWN"}"#),
            400,
            "teardown",
        ),
        ("not JSON", request("{nope"), 400, "JSON"),
        ("nesting over the limit", request(&deep_call), 400, "depth"),
        (
            "body over the limit",
            b"POST /api/v1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n".to_vec(),
            413,
            "limit",
        ),
        (
            "not served (logging level at run time)",
            request(r#"{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":1}}}"#),
            501,
            "SET_LOGGING_LEVEL",
        ),
    ];
    for (what, bytes, status, says) in cases {
        let r = blocking(move || exchange(addr, &bytes)).await;
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert!(
            r.text().to_lowercase().contains(&says.to_lowercase()),
            "{what}: body {:?} should name {says}",
            r.text()
        );
        assert_serving(addr).await;
    }
    // Empty path and a malformed URL: refused by the HTTP layer, connection only.
    for bytes in [
        b"POST  HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec(),
        b"POST /api/v1%zz%% HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
        b"POST http://[::1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec(),
    ] {
        let r = blocking(move || exchange(addr, &bytes)).await;
        assert!((400..500).contains(&r.status), "{}: {}", r.status, r.text());
        assert_serving(addr).await;
    }
}

fn request(body: &str) -> Vec<u8> {
    format!(
        "POST /api/v1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
