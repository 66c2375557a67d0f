//! HTTP authentication of a real master over real HTTP (raw HTTP/1.1 from the test kit's client):
//! each `--authenticate-http-*` realm guards its endpoints and only those; missing or wrong
//! credentials get 401 with Mesos's realm in `WWW-Authenticate`; right Basic credentials
//! and a valid HS256 bearer token pass; an expired or forged token is refused; failed
//! attempts show in `/metrics/snapshot`.

use std::net::SocketAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meso_api::http::auth::{jwt, Credentials, HttpAuthenticator, JwtKey, NodeKind, Realm};
use meso_testkit::http::blocking::request;
use meso_testkit::http::Response;
use meso_testkit::master_harness::*;
use serde_json::json;

const KEY: &[u8] = b"test-jwt-key";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(HANG_GUARD, tokio::task::spawn_blocking(f))
        .await
        .expect("hang guard: http")
        .expect("http client thread")
}

async fn send(
    addr: SocketAddr,
    method: &'static str,
    path: &'static str,
    auth: Option<String>,
    body: &'static str,
) -> Response {
    blocking(move || {
        let auth = auth.map(|a| format!("Authorization: {a}"));
        let mut headers = vec!["Content-Type: application/json"];
        headers.extend(auth.as_deref());
        request(addr, method, path, &headers, body.as_bytes())
    })
    .await
}

fn basic(principal: &str, secret: &str) -> Option<String> {
    Some(format!(
        "Basic {}",
        STANDARD.encode(format!("{principal}:{secret}"))
    ))
}

fn bearer(claims: serde_json::Value, key: &[u8]) -> Option<String> {
    let claims = claims.as_object().expect("claims are an object");
    Some(format!("Bearer {}", jwt::sign(claims, key)))
}

/// A far-future expiry (year 2100), so the token is valid whatever the test clock says.
const LATER: u64 = 4_102_444_800;

async fn master_guarding(realms: &[Realm]) -> Cluster {
    let mut config = Cluster::config();
    let credentials =
        Credentials::parse(r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#)
            .expect("credentials");
    config.http_auth = HttpAuthenticator::new(
        NodeKind::Master,
        realms,
        Some(credentials),
        Some(JwtKey(KEY.to_vec())),
    )
    .expect("authenticator");
    let cluster = Cluster::start(config).await;
    cluster.node.set_delegate(Some("master"));
    cluster
}

fn assert_refused(r: &Response, realm: &str, why: &str) {
    r.assert_unauthenticated(realm, why);
}

const GET_HEALTH: &str = r#"{"type":"GET_HEALTH"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_authentication_guards_read_endpoints_only() {
    let cluster = master_guarding(&[Realm::Readonly]).await;
    let addr = cluster.node.addr();
    let realm = "mesos-master-readonly";

    let r = send(addr, "GET", "/master/state", None, "").await;
    assert_refused(&r, realm, "no 'Authorization' header");
    let r = send(addr, "GET", "/master/state", basic("ops", "wrong"), "").await;
    assert_refused(&r, realm, "Wrong secret for principal 'ops'");
    let r = send(addr, "GET", "/metrics/snapshot", basic("eve", "s3cret"), "").await;
    assert_refused(&r, realm, "Wrong secret");
    let expired = bearer(json!({"sub": "ops", "exp": 1000}), KEY);
    let r = send(addr, "GET", "/master/state", expired, "").await;
    assert_refused(&r, realm, "expired");
    let forged = bearer(json!({"sub": "ops", "exp": LATER}), b"a guessed key");
    let r = send(addr, "GET", "/master/tasks", forged, "").await;
    assert_refused(&r, realm, "signature");

    let r = send(addr, "GET", "/master/state", basic("ops", "s3cret"), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["flags"]["authenticate_http_readonly"], "true");
    let token = bearer(json!({"sub": "ops", "exp": LATER}), KEY);
    let r = send(addr, "GET", "/master/state-summary", token, "").await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Four attempts with credentials failed; the one without any is not counted.
    let token = bearer(json!({"sub": "ops"}), KEY);
    let r = send(addr, "GET", "/metrics/snapshot", token, "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["master/http_authentication_failures"], 4.0);

    // Always open, as in Mesos.
    for path in ["/health", "/master/health", "/version"] {
        let r = send(addr, "GET", path, None, "").await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    // The read-write and framework realms are not guarded.
    let r = send(addr, "POST", "/api/v1", None, GET_HEALTH).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(addr, "POST", "/api/v1/scheduler", None, "{}").await;
    assert_eq!(r.status, 400, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readwrite_and_framework_authentication_guard_the_v1_apis() {
    let cluster = master_guarding(&[Realm::Readwrite, Realm::Framework]).await;
    let addr = cluster.node.addr();

    // The operator API as a whole, GET_* calls included, is read-write in Mesos.
    let r = send(addr, "POST", "/api/v1", None, GET_HEALTH).await;
    assert_refused(&r, "mesos-master-readwrite", "no 'Authorization' header");
    let r = send(addr, "POST", "/api/v1", basic("ops", "s3cre"), GET_HEALTH).await;
    assert_refused(&r, "mesos-master-readwrite", "Wrong secret");
    let r = send(addr, "POST", "/api/v1", basic("ops", "s3cret"), GET_HEALTH).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["get_health"]["healthy"], true);

    let r = send(addr, "POST", "/api/v1/scheduler", None, "{}").await;
    assert_refused(&r, "mesos-master-scheduler", "no 'Authorization' header");
    let r = send(
        addr,
        "POST",
        "/master/api/v1/scheduler",
        Some("Negotiate abc".into()),
        "{}",
    )
    .await;
    assert_refused(
        &r,
        "mesos-master-scheduler",
        "Unsupported authentication scheme 'Negotiate'",
    );
    // Authenticated, the call reaches the scheduler API, which judges the body.
    let token = bearer(json!({"sub": "fw", "exp": LATER}), KEY);
    let r = send(addr, "POST", "/api/v1/scheduler", token, "{}").await;
    assert_eq!(r.status, 400, "{}", r.text());

    // The legacy mutators are read-write whatever the method, as in Mesos.
    let r = send(addr, "GET", "/weights", None, "").await;
    assert_refused(&r, "mesos-master-readwrite", "no 'Authorization' header");
    let r = send(addr, "DELETE", "/quota/dev", None, "").await;
    assert_refused(&r, "mesos-master-readwrite", "no 'Authorization' header");
    let r = send(addr, "GET", "/master/weights", basic("ops", "s3cret"), "").await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Read-only endpoints are not guarded.
    let r = send(addr, "GET", "/master/state", None, "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["flags"]["authenticate_http_readonly"], "false");
    let r = send(addr, "GET", "/metrics/snapshot", None, "").await;
    assert_eq!(r.json()["master/http_authentication_failures"], 2.0);
}
