//! The agent's operator API (`POST /api/v1`) and legacy JSON endpoints over real HTTP, with
//! a task running: what each call and endpoint shows, and the refusals of bad input (each a
//! status and a body that says why, the agent serving on afterwards).

use meso_api::v1::TaskState;
use meso_testkit::agent_harness::*;
use meso_testkit::http::blocking::{get, post_json, request};
use serde_json::Value;

/// Starts an agent with one running command task `t1`; returns the harness.
async fn agent_with_a_running_task() -> Harness {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("t1", "sleep 300"));
    h.expect_state(TaskState::Starting).await;
    h.expect_state(TaskState::Running).await;
    h
}

fn call(addr: std::net::SocketAddr, path: &str, body: &str) -> Value {
    let r = post_json(addr, path, body);
    assert_eq!(r.status, 200, "{body}: {}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_calls_describe_the_agent_and_its_task() {
    let h = agent_with_a_running_task().await;
    let addr = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let v = call(addr, "/api/v1", r#"{"type":"GET_HEALTH"}"#);
        assert_eq!(
            v,
            serde_json::json!({"type":"GET_HEALTH","get_health":{"healthy":true}})
        );

        let v = call(addr, "/api/v1/operator", r#"{"type":"GET_VERSION"}"#);
        assert_eq!(v["get_version"]["version_info"]["version"], "1.11.0");

        let v = call(addr, "/slave(1)/api/v1", r#"{"type":"GET_FLAGS"}"#);
        let flags = v["get_flags"]["flags"].as_array().unwrap();
        assert!(flags
            .iter()
            .any(|f| f["name"] == "executor_registration_timeout" && f["value"] == "60secs"));

        let v = call(
            addr,
            "/api/v1",
            r#"{"type":"GET_METRICS","get_metrics":{}}"#,
        );
        let metrics = v["get_metrics"]["metrics"].as_array().unwrap();
        let metric = |name: &str| {
            metrics
                .iter()
                .find(|m| m["name"] == name)
                .unwrap_or_else(|| panic!("no metric {name} in {v}"))["value"]
                .as_f64()
                .unwrap()
        };
        assert_eq!(metric("slave/registered"), 1.0);
        assert_eq!(metric("slave/tasks_running"), 1.0);
        assert_eq!(metric("slave/executors_running"), 1.0);

        let v = call(addr, "/api/v1", r#"{"type":"GET_FRAMEWORKS"}"#);
        assert_eq!(
            v["get_frameworks"]["frameworks"][0]["framework_info"]["id"]["value"],
            "M-0000"
        );
        let v = call(addr, "/api/v1", r#"{"type":"GET_EXECUTORS"}"#);
        assert_eq!(
            v["get_executors"]["executors"][0]["executor_info"]["executor_id"]["value"],
            "t1"
        );
        let v = call(addr, "/api/v1", r#"{"type":"GET_TASKS"}"#);
        let task = &v["get_tasks"]["launched_tasks"][0];
        assert_eq!(task["task_id"]["value"], "t1");
        assert_eq!(task["state"], "TASK_RUNNING");
        assert_eq!(task["agent_id"]["value"], AGENT_ID);

        let v = call(addr, "/api/v1", r#"{"type":"GET_STATE"}"#);
        let state = &v["get_state"];
        assert_eq!(
            state["get_tasks"]["launched_tasks"][0]["task_id"]["value"],
            "t1"
        );
        assert_eq!(
            state["get_executors"]["executors"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            state["get_frameworks"]["frameworks"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        let v = call(addr, "/api/v1", r#"{"type":"GET_CONTAINERS"}"#);
        let c = &v["get_containers"]["containers"][0];
        assert_eq!(c["executor_id"]["value"], "t1");
        assert!(
            c["container_id"]["value"].as_str().unwrap().len() == 36,
            "{c}"
        );
        assert!(
            c["resource_statistics"]["timestamp"].as_f64().unwrap() > 0.0,
            "{c}"
        );
    })
    .await
    .expect("the checks ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_endpoints_answer_as_mesos() {
    let h = agent_with_a_running_task().await;
    let addr = h.agent.addr();
    let sandbox = h.sandbox_of("t1");
    tokio::task::spawn_blocking(move || {
        for path in ["/state", "/slave(1)/state", "/state.json", "/state/"] {
            let r = get(addr, path);
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            let s = r.json();
            assert_eq!(s["id"], AGENT_ID, "{path}");
            assert_eq!(s["version"], "1.11.0");
            assert_eq!(s["resources"]["cpus"], 2.0);
            assert_eq!(s["resources"]["ports"], "[31000-32000]");
            let ex = &s["frameworks"][0]["executors"][0];
            assert_eq!(ex["id"], "t1");
            assert_eq!(ex["tasks"][0]["state"], "TASK_RUNNING");
            assert_eq!(
                std::fs::canonicalize(ex["directory"].as_str().unwrap()).unwrap(),
                std::fs::canonicalize(&sandbox).unwrap()
            );
        }
        let r = get(addr, "/state?jsonp=show.it");
        assert_eq!(r.header("Content-Type"), Some("text/javascript"));
        assert!(r.text().starts_with("show.it({"), "{}", r.text());
        assert_eq!(get(addr, "/state?jsonp=alert(1)").status, 400);

        assert_eq!(get(addr, "/version").json()["version"], "1.11.0");
        assert_eq!(get(addr, "/flags").json()["flags"]["hostname"], "localhost");
        assert_eq!(get(addr, "/health").status, 200);

        let m = get(addr, "/metrics/snapshot").json();
        assert_eq!(m["slave/registered"], 1);
        assert_eq!(m["slave/tasks_running"], 1);
        assert_eq!(m["slave/executors_running"], 1);
        assert_eq!(m["slave/cpus_total"], 2.0);
        assert!(m["slave/mem_used"].as_f64().unwrap() >= 32.0, "{m}");
        // Tidy: every key has a Prometheus family of its own, and `/metrics` shows it.
        for (key, value) in m.as_object().expect("an object") {
            let s = meso_api::prometheus::sample(key, value.as_f64().unwrap_or(0.0));
            assert!(
                s.mapped,
                "snapshot key {key:?} has no family in meso_api::prometheus"
            );
        }
        let text = get(addr, "/metrics").text();
        assert!(
            text.contains("meso_agent_tasks{state=\"running\"} 1\n"),
            "{text}"
        );

        let stats = get(addr, "/monitor/statistics").json();
        let entry = &stats.as_array().expect("an array")[0];
        assert_eq!(entry["executor_id"], "t1");
        assert_eq!(entry["framework_id"], "M-0000");
        assert!(entry["statistics"]["timestamp"].as_f64().unwrap() > 0.0);
        assert!(
            entry["statistics"]["processes"].as_u64().unwrap() >= 1,
            "{entry}"
        );

        let r = get(addr, "/no/such/endpoint");
        assert_eq!(r.status, 404);
        assert!(r.text().contains("/no/such/endpoint"), "{}", r.text());
        let r = request(addr, "POST", "/state", &[], b"");
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("GET"));
    })
    .await
    .expect("the checks ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_operator_input_gets_the_reference_answers() {
    let h = Harness::start_registered().await;
    let addr = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let check = |r: meso_testkit::http::Response, status: u16, needle: &str| {
            assert_eq!(r.status, status, "{}", r.text());
            assert!(
                r.text().contains(needle),
                "body {:?} lacks {needle:?}",
                r.text()
            );
        };
        check(get(addr, "/api/v1"), 405, "POST");
        check(
            request(addr, "POST", "/api/v1", &[], br#"{"type":"GET_HEALTH"}"#),
            400,
            "Content-Type",
        );
        check(
            request(
                addr,
                "POST",
                "/api/v1",
                &["Content-Type: text/plain"],
                br#"{"type":"GET_HEALTH"}"#,
            ),
            415,
            "text/plain",
        );
        check(post_json(addr, "/api/v1", r#"{"type":"NO_SUCH_CALL"}"#), 400, "NO_SUCH_CALL");
        check(post_json(addr, "/api/v1", ""), 400, "");
        check(post_json(addr, "/api/v1", "{not json"), 400, "");
        check(post_json(addr, "/api/v1", r#"{"type":"GET_METRICS"}"#), 400, "get_metrics");
        check(
            request(
                addr,
                "POST",
                "/api/v1",
                &["Content-Type: application/json", "Accept: application/x-protobuf"],
                br#"{"type":"GET_HEALTH"}"#,
            ),
            406,
            "",
        );
        check(
            post_json(addr, "/api/v1", r#"{"type":"LAUNCH_CONTAINER","launch_container":{}}"#),
            501,
            "LAUNCH_CONTAINER",
        );
        let deep = format!(
            r#"{{"type":"GET_HEALTH","x":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        check(post_json(addr, "/api/v1", &deep), 400, "");
        // A body over the node's limit is refused from its declared length.
        let r = meso_testkit::http::blocking::exchange(
            addr,
            b"POST /api/v1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n",
        );
        check(r, 413, "limit");
        check(get(addr, "/files/read?path=%ZZ"), 400, "");
        // Still serving.
        assert_eq!(get(addr, "/health").status, 200);
        let v = post_json(addr, "/api/v1", r#"{"type":"GET_HEALTH"}"#);
        assert_eq!(v.status, 200);
    })
    .await
    .expect("the checks ran");
}

/// GET_OPERATIONS shows the operations the master said it applied here, oldest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_operations_lists_what_the_master_applied_here() {
    use meso_api::v1::operation_book::OperationRecord;
    let h = Harness::start_registered().await;
    let addr = h.agent.addr();
    let empty =
        tokio::task::spawn_blocking(move || call(addr, "/api/v1", r#"{"type":"GET_OPERATIONS"}"#))
            .await
            .unwrap();
    assert_eq!(
        empty,
        serde_json::json!({"type":"GET_OPERATIONS","get_operations":{"operations":[]}})
    );
    for (i, id) in ["first", "second"].into_iter().enumerate() {
        let info = serde_json::from_value(serde_json::json!({
            "type": "RESERVE", "id": {"value": id}, "reserve": {"resources": []}
        }))
        .unwrap();
        h.to_agent(meso_api::wire::OperationApplied {
            record: OperationRecord::finished(
                None,
                meso_api::v1::AgentId::new(AGENT_ID),
                info,
                Default::default(),
                [i as u8; 16],
            ),
        });
    }
    let seen = meso_testkit::eventually::eventually_async_within(
        "both operations in GET_OPERATIONS",
        HANG_GUARD,
        || async move {
            let v = tokio::task::spawn_blocking(move || {
                call(addr, "/api/v1", r#"{"type":"GET_OPERATIONS"}"#)
            })
            .await
            .unwrap();
            v["get_operations"]["operations"]
                .as_array()
                .is_some_and(|l| l.len() == 2)
                .then_some(v)
        },
    )
    .await;
    let list = &seen["get_operations"]["operations"];
    assert_eq!(list[0]["info"]["id"]["value"], "first");
    assert_eq!(list[1]["latest_status"]["operation_id"]["value"], "second");
    assert_eq!(list[1]["latest_status"]["state"], "OPERATION_FINISHED");
}
