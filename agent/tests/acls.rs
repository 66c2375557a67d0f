//! `--acls` on a real agent over real HTTP: `get_endpoints` guards `/metrics/snapshot`,
//! `/containers`, `/monitor/statistics` and `/files/debug`; `access_sandboxes` guards a
//! task's sandbox by its framework's user; `access_mesos_logs` the agent's log; `/state`
//! shows each principal only the frameworks, executors and tasks it may view. Refusals
//! are 403 naming the action.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meso_agent::containerizer::PosixContainerizer;
use meso_api::acl::Acls;
use meso_api::http::auth::{Credentials, HttpAuthenticator, NodeKind, Realm};
use meso_testkit::agent_harness::*;
use meso_testkit::http::blocking::request;
use meso_testkit::http::Response;
use serde_json::json;

fn auth(who: &str) -> String {
    format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("{who}:{who}-secret"))
    )
}

fn refused(r: &Response, action: &str, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", r.text());
    assert!(r.text().contains(action), "{what}: {}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_endpoints_sandboxes_and_state_follow_the_acls() {
    let credentials = Credentials::parse(
        &json!({"credentials": [
            {"principal": "ops", "secret": "ops-secret"},
            {"principal": "dev", "secret": "dev-secret"}
        ]})
        .to_string(),
    )
    .expect("credentials");
    let http_auth =
        HttpAuthenticator::new(NodeKind::Agent, &[Realm::Readonly], Some(credentials), None)
            .expect("authenticator");
    let ops_only =
        |object: &str| json!([{"principals": {"values": ["ops"]}, object: {"type": "ANY"}}]);
    let acls = Acls::parse(
        &json!({
            "permissive": false,
            "get_endpoints": [{"principals": {"values": ["ops"]}, "paths": {"values": [
                "/metrics/snapshot", "/containers", "/monitor/statistics", "/files/debug"
            ]}}],
            "access_mesos_logs": ops_only("logs"),
            "access_sandboxes": [{"principals": {"values": ["ops"]}, "users": {"values": [os_user()]}}],
            "view_frameworks": [{"principals": {"values": ["ops"]}, "users": {"values": [os_user()]}}],
            "view_executors": [{"principals": {"values": ["ops"]}, "users": {"values": [os_user()]}}],
            "view_tasks": [{"principals": {"values": ["ops"]}, "users": {"values": [os_user()]}}],
        })
        .to_string(),
    )
    .expect("ACLs");
    let mut h = Harness::start_configured(Box::new(PosixContainerizer::new()), |c| {
        c.http_auth = http_auth;
        c.acls = Some(Arc::new(acls));
    })
    .await;
    h.registered().await;
    h.run_task(command_task("t1", "echo hello; sleep 300"));
    h.expect_state(meso_api::v1::TaskState::Starting).await;
    h.expect_state(meso_api::v1::TaskState::Running).await;
    h.wait_for_file("t1", "stdout").await;
    let sandbox = h.sandbox_of("t1");
    let addr = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let get = |path: &str, who: &str| request(addr, "GET", path, &[&auth(who)], b"");
        for path in [
            "/metrics/snapshot",
            "/containers",
            "/monitor/statistics",
            "/files/debug",
        ] {
            refused(&get(path, "dev"), "get_endpoints", path);
            let r = get(path, "ops");
            assert_eq!(r.status, 200, "{path}: {}", r.text());
        }
        let read = format!(
            "/files/read?path={}&offset=0",
            sandbox.join("stdout").display()
        );
        refused(&get(&read, "dev"), "access_sandboxes", &read);
        let r = get(&read, "ops");
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("hello"), "{}", r.text());
        // The agent writes no log here (no --log-dir): ops passes the ACLs to a 404.
        let log = "/files/read?path=/slave/log&offset=0";
        refused(&get(log, "dev"), "access_mesos_logs", log);
        assert_eq!(get(log, "ops").status, 404);

        let state = get("/state", "ops").json();
        assert_eq!(
            state["frameworks"].as_array().map(Vec::len),
            Some(1),
            "{state}"
        );
        let executors = &state["frameworks"][0]["executors"];
        assert_eq!(executors.as_array().map(Vec::len), Some(1), "{state}");
        assert_eq!(
            executors[0]["tasks"].as_array().map(Vec::len),
            Some(1),
            "{state}"
        );
        let state = get("/state", "dev").json();
        assert_eq!(state["frameworks"], json!([]), "{state}");
        assert!(state["id"].is_string(), "the rest of /state stays: {state}");
    })
    .await
    .expect("http client thread");
}
