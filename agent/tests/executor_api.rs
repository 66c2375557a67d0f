//! The agent's v1 executor API refuses malformed calls with the reference's status codes
//! and a body that says why, and keeps serving afterwards.

use meso_testkit::agent_harness::*;
use meso_testkit::http::blocking;

/// One raw HTTP/1.1 exchange; returns (status, body).
fn exchange(agent: std::net::SocketAddr, request: &str) -> (u16, String) {
    let response = blocking::exchange(agent, request.as_bytes());
    (response.status, response.text())
}

fn post(agent: std::net::SocketAddr, content_type: Option<&str>, body: &str) -> (u16, String) {
    let response = blocking::post(agent, "/api/v1/executor", content_type, body);
    (response.status, response.text())
}

const SUBSCRIBE: &str = r#"{"type":"SUBSCRIBE","framework_id":{"value":"nope"},"executor_id":{"value":"e"},"subscribe":{}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_executor_calls_get_clear_errors() {
    let h = Harness::start_registered().await;
    let agent = h.agent.addr();
    tokio::task::spawn_blocking(move || {
        let (s, body) = exchange(
            agent,
            "GET /api/v1/executor HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(s, 405, "{body}");
        assert!(body.contains("POST"), "{body}");

        let (s, body) = post(agent, None, SUBSCRIBE);
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("Content-Type"), "{body}");

        let (s, body) = post(agent, Some("text/plain"), SUBSCRIBE);
        assert_eq!(s, 415, "{body}");

        let (s, body) = post(agent, Some("application/json"), "{not json");
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("parse"), "{body}");

        let (s, body) = post(
            agent,
            Some("application/json"),
            r#"{"type":"SUBSCRIBE","framework_id":{"value":"f"},"executor_id":{"value":"e"}}"#,
        );
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("subscribe"), "{body}");

        let (s, body) = post(agent, Some("application/json"), SUBSCRIBE);
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("Framework cannot be found"), "{body}");

        let short_uuid = r#"{"type":"UPDATE","framework_id":{"value":"f"},"executor_id":{"value":"e"},
            "update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"AAAA"}}}"#;
        let (s, body) = post(agent, Some("application/json"), short_uuid);
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("16 bytes"), "{body}");

        let heartbeat =
            r#"{"type":"HEARTBEAT","framework_id":{"value":"f"},"executor_id":{"value":"e"}}"#;
        let (s, body) = post(agent, Some("application/json"), heartbeat);
        assert_eq!(s, 202, "{body}");

        // Still serving.
        let (s, _) = exchange(
            agent,
            "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(s, 200);
    })
    .await
    .expect("the checks ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_past_the_ping_timeout_makes_the_agent_reregister() {
    let mut h = Harness::start_registered().await;
    // The master said 75 s; no ping comes.
    h.clock.advance(std::time::Duration::from_secs(76));
    let r = h.reregistered().await;
    assert_eq!(r.agent.id.as_ref().unwrap().as_str(), AGENT_ID);
}
