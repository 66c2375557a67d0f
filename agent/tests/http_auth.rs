//! HTTP authentication of a real agent over real HTTP (raw HTTP/1.1): read-only endpoints,
//! the operator API (read-write) and the executor API each guarded by their own flag, with
//! Mesos's agent realms in `WWW-Authenticate`; right Basic credentials and a valid HS256
//! bearer token pass, wrong, expired or forged ones get 401 and are counted in
//! `slave/http_authentication_failures`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meso_agent::containerizer::PosixContainerizer;
use meso_api::http::auth::{jwt, Credentials, HttpAuthenticator, JwtKey, NodeKind, Realm};
use meso_testkit::agent_harness::*;
use meso_testkit::http::blocking::request;
use meso_testkit::http::Response;
use serde_json::json;

const KEY: &[u8] = b"agent-jwt-key";
/// A far-future expiry (year 2100).
const LATER: u64 = 4_102_444_800;

fn guarded(realms: &[Realm]) -> HttpAuthenticator {
    let credentials =
        Credentials::parse(r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#)
            .expect("credentials");
    HttpAuthenticator::new(
        NodeKind::Agent,
        realms,
        Some(credentials),
        Some(JwtKey(KEY.to_vec())),
    )
    .expect("authenticator")
}

fn basic(principal: &str, secret: &str) -> String {
    format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("{principal}:{secret}"))
    )
}

fn bearer(claims: serde_json::Value, key: &[u8]) -> String {
    let claims = claims.as_object().expect("claims are an object");
    format!("Authorization: Bearer {}", jwt::sign(claims, key))
}

fn assert_refused(r: &Response, realm: &str, why: &str) {
    r.assert_unauthenticated(realm, why);
}

const JSON: &str = "Content-Type: application/json";
const GET_HEALTH: &[u8] = br#"{"type":"GET_HEALTH"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_authentication_guards_the_agents_read_endpoints_only() {
    let h = Harness::start_guarded(
        Box::new(PosixContainerizer::new()),
        guarded(&[Realm::Readonly]),
    )
    .await;
    let addr = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let realm = "mesos-agent-readonly";
        let r = request(addr, "GET", "/state", &[], b"");
        assert_refused(&r, realm, "no 'Authorization' header");
        let r = request(
            addr,
            "GET",
            "/slave(1)/state",
            &[&basic("ops", "nope")],
            b"",
        );
        assert_refused(&r, realm, "Wrong secret");
        let expired = bearer(json!({"sub": "ops", "exp": 1000}), KEY);
        let r = request(addr, "GET", "/files/browse?path=/", &[&expired], b"");
        assert_refused(&r, realm, "expired");
        let forged = bearer(json!({"sub": "ops", "exp": LATER}), b"guessed");
        let r = request(addr, "GET", "/flags", &[&forged], b"");
        assert_refused(&r, realm, "signature");

        let r = request(addr, "GET", "/state", &[&basic("ops", "s3cret")], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        let token = bearer(json!({"sub": "ops", "exp": LATER}), KEY);
        let r = request(addr, "GET", "/metrics/snapshot", &[&token], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["slave/http_authentication_failures"], 3.0);

        for path in ["/health", "/version"] {
            let r = request(addr, "GET", path, &[], b"");
            assert_eq!(r.status, 200, "{path}: {}", r.text());
        }
        // The operator and executor APIs are not guarded.
        let r = request(addr, "POST", "/api/v1", &[JSON], GET_HEALTH);
        assert_eq!(r.status, 200, "{}", r.text());
        let r = request(addr, "POST", "/api/v1/executor", &[JSON], b"{}");
        assert_eq!(r.status, 400, "{}", r.text());
    })
    .await
    .expect("http client thread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readwrite_and_executor_authentication_guard_the_v1_apis() {
    let h = Harness::start_guarded(
        Box::new(PosixContainerizer::new()),
        guarded(&[Realm::Readwrite, Realm::Executor]),
    )
    .await;
    let addr = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let r = request(addr, "POST", "/api/v1", &[JSON], GET_HEALTH);
        assert_refused(&r, "mesos-agent-readwrite", "no 'Authorization' header");
        let r = request(
            addr,
            "POST",
            "/api/v1",
            &[JSON, &basic("ops", "s3cret")],
            GET_HEALTH,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["get_health"]["healthy"], true);

        let r = request(addr, "POST", "/api/v1/executor", &[JSON], b"{}");
        assert_refused(&r, "mesos-agent-executor", "no 'Authorization' header");
        let forged = bearer(json!({"cid": "c1"}), b"guessed");
        let r = request(addr, "POST", "/api/v1/executor", &[JSON, &forged], b"{}");
        assert_refused(&r, "mesos-agent-executor", "signature");
        // Authenticated, the call reaches the executor API, which judges the body.
        let token = bearer(json!({"cid": "c1"}), KEY);
        let r = request(addr, "POST", "/api/v1/executor", &[JSON, &token], b"{}");
        assert_eq!(r.status, 400, "{}", r.text());

        // Read-only endpoints are not guarded.
        let r = request(addr, "GET", "/metrics/snapshot", &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["slave/http_authentication_failures"], 1.0);
    })
    .await
    .expect("http client thread");
}

/// With executor authentication on, the built-in command executor authenticates with the
/// token the agent put in its environment and runs its task; a token speaks only for its
/// own executor and container, and a Basic principal cannot speak for any executor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_authenticate_with_their_own_token_and_only_for_themselves() {
    let mut h = Harness::start_guarded(
        Box::new(PosixContainerizer::new()),
        guarded(&[Realm::Executor]),
    )
    .await;
    h.registered().await;
    h.run_task(command_task("t1", "sleep 300"));
    h.expect_state(meso_api::v1::TaskState::Starting).await;
    h.expect_state(meso_api::v1::TaskState::Running).await;
    let addr = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let state = request(addr, "GET", "/state", &[], b"").json();
        let framework = state["frameworks"][0]["id"].as_str().expect("framework id").to_string();
        let executor = &state["frameworks"][0]["executors"][0];
        let executor_id = executor["id"].as_str().expect("executor id").to_string();
        let container = executor["container"].as_str().expect("container id").to_string();
        let message = format!(
            r#"{{"type":"MESSAGE","framework_id":{{"value":"{framework}"}},"executor_id":{{"value":"{executor_id}"}},"message":{{"data":"aGk="}}}}"#
        );
        // A token of the same key for another container is refused for this executor.
        let other = bearer(
            json!({"fid": framework, "eid": executor_id, "cid": "another-container"}),
            KEY,
        );
        let r = request(addr, "POST", "/api/v1/executor", &[JSON, &other], message.as_bytes());
        assert_eq!(r.status, 403, "{}", r.text());
        assert!(r.text().contains("'cid'"), "{}", r.text());
        let r = request(
            addr,
            "POST",
            "/api/v1/executor",
            &[JSON, &basic("ops", "s3cret")],
            message.as_bytes(),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        // The executor's own claims pass.
        let own = bearer(json!({"fid": framework, "eid": executor_id, "cid": container}), KEY);
        let r = request(addr, "POST", "/api/v1/executor", &[JSON, &own], message.as_bytes());
        assert_eq!(r.status, 202, "{}", r.text());
    })
    .await
    .expect("http client thread");
    h.kill_task("t1", None);
    h.expect_state(meso_api::v1::TaskState::Killed).await;
}
