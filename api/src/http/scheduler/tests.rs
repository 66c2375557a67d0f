//! One row per line of the reference's status table (§1.2) that needs no master state,
//! plus the admission rows given a framework standing.

use super::*;

const FID: &str = "M-0000";
const SUBSCRIBE: &str =
    r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"alice","name":"demo"}}}"#;

fn json_headers() -> RequestHeaders {
    RequestHeaders::new().with("Content-Type", "application/json")
}

fn call(kind: &str, payload: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if payload.is_empty() {
        format!(r#"{{"type":"{kind}","framework_id":{{"value":"{FID}"}}}}"#)
    } else {
        format!(r#"{{"type":"{kind}","framework_id":{{"value":"{FID}"}},"{lower}":{payload}}}"#)
    }
}

fn front(
    method: &str,
    headers: &RequestHeaders,
    body: &str,
) -> Result<SchedulerRequest, HttpError> {
    scheduler_request(method, headers, body.as_bytes(), &Limits::default())
}

/// Asserts the status and that the body contains `needle`.
fn check(result: Result<SchedulerRequest, HttpError>, status: u16, needle: &str) {
    let e = result.expect_err("expected a refusal");
    assert_eq!(e.status, status, "body: {}", e.body);
    assert!(
        e.body.contains(needle),
        "body {:?} lacks {needle:?}",
        e.body
    );
}

#[test]
fn method_other_than_post_is_405_with_allow() {
    for method in ["GET", "PUT", "DELETE", "post"] {
        let e = front(method, &json_headers(), SUBSCRIBE).unwrap_err();
        assert_eq!(e.status, 405);
        assert_eq!(e.header("Allow"), Some("POST"));
    }
}

#[test]
fn content_type_rows() {
    check(
        front("POST", &RequestHeaders::new(), SUBSCRIBE),
        400,
        "Expecting 'Content-Type' to be present",
    );
    let h = RequestHeaders::new().with("Content-Type", "text/plain");
    check(front("POST", &h, SUBSCRIBE), 415, "application/json");
    let h = RequestHeaders::new().with("Content-Type", "application/x-protobuf");
    check(front("POST", &h, SUBSCRIBE), 415, "x-protobuf");
}

#[test]
fn bad_bodies_are_400() {
    check(
        front("POST", &json_headers(), ""),
        400,
        "Failed to parse body into JSON",
    );
    check(
        front("POST", &json_headers(), "{"),
        400,
        "Failed to parse body into JSON",
    );
    check(
        front("POST", &json_headers(), r#"{"type":"FLY"}"#),
        400,
        "FLY",
    );
    check(
        front("POST", &json_headers(), r#"{"framework_id":{"value":"x"}}"#),
        400,
        "type",
    );
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    check(front("POST", &json_headers(), &deep), 400, "deep");
}

#[test]
fn body_over_the_size_limit_is_413() {
    let limits = Limits {
        max_document_bytes: 32,
        ..Limits::default()
    };
    let e = scheduler_request("POST", &json_headers(), SUBSCRIBE.as_bytes(), &limits).unwrap_err();
    assert_eq!(e.status, 413);
}

#[test]
fn validation_failures_are_400() {
    // SUBSCRIBE without its payload; framework ids that differ.
    check(
        front("POST", &json_headers(), r#"{"type":"SUBSCRIBE"}"#),
        400,
        "Failed to validate scheduler::Call",
    );
    let differ = r#"{"type":"SUBSCRIBE","framework_id":{"value":"a"},"subscribe":{"framework_info":{"user":"u","name":"n","id":{"value":"b"}}}}"#;
    check(front("POST", &json_headers(), differ), 400, "differs");
    let one_missing = r#"{"type":"SUBSCRIBE","framework_id":{"value":"a"},"subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    check(front("POST", &json_headers(), one_missing), 400, "differs");
    // Every non-SUBSCRIBE call needs framework_id.
    check(
        front("POST", &json_headers(), r#"{"type":"TEARDOWN"}"#),
        400,
        "framework_id",
    );
    check(
        front("POST", &json_headers(), r#"{"type":"UNKNOWN"}"#),
        400,
        "framework_id",
    );
    // Calls that need their payload.
    for kind in [
        "ACCEPT",
        "DECLINE",
        "ACCEPT_INVERSE_OFFERS",
        "DECLINE_INVERSE_OFFERS",
        "KILL",
        "SHUTDOWN",
        "ACKNOWLEDGE",
        "ACKNOWLEDGE_OPERATION_STATUS",
        "RECONCILE",
        "RECONCILE_OPERATIONS",
        "MESSAGE",
        "REQUEST",
        "UPDATE_FRAMEWORK",
    ] {
        check(
            front("POST", &json_headers(), &call(kind, "")),
            400,
            "payload",
        );
    }
    // An ACKNOWLEDGE uuid that is not 16 bytes.
    let ack = call(
        "ACKNOWLEDGE",
        r#"{"agent_id":{"value":"M-S0"},"task_id":{"value":"t"},"uuid":"AAEC"}"#,
    );
    check(front("POST", &json_headers(), &ack), 400, "16 bytes");
    let op_ack = call(
        "ACKNOWLEDGE_OPERATION_STATUS",
        r#"{"agent_id":{"value":"M-S0"},"operation_id":{"value":"op"},"uuid":"AAEC"}"#,
    );
    check(front("POST", &json_headers(), &op_ack), 400, "16 bytes");
    // ACKNOWLEDGE_OPERATION_STATUS needs agent_id (Mesos's validation requires it).
    let no_agent = call(
        "ACKNOWLEDGE_OPERATION_STATUS",
        r#"{"operation_id":{"value":"op"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}"#,
    );
    check(front("POST", &json_headers(), &no_agent), 400, "payload");
}

#[test]
fn calls_without_payload_pass() {
    for kind in ["TEARDOWN", "REVIVE", "SUPPRESS"] {
        let r = front("POST", &json_headers(), &call(kind, "")).unwrap();
        assert_eq!(r.success_status(), 202);
        assert!(r.accept.is_none());
    }
}

#[test]
fn subscribe_accept_rows() {
    let h = json_headers().with("Accept", "application/x-protobuf");
    check(front("POST", &h, SUBSCRIBE), 406, "Accept");
    let h = json_headers().with("Accept", "text/html");
    check(front("POST", &h, SUBSCRIBE), 406, "Accept");
    let ops = call("RECONCILE_OPERATIONS", "{}");
    check(front("POST", &h, &ops), 406, "Accept");
    // Other calls do not look at Accept.
    assert!(front("POST", &h, &call("TEARDOWN", "")).is_ok());
    for ok in [
        "*/*",
        "application/*",
        "application/json",
        "application/x-protobuf, application/json;q=0.1",
    ] {
        let r = front("POST", &json_headers().with("Accept", ok), SUBSCRIBE).unwrap();
        assert_eq!(r.accept, Some(MediaType::Json), "{ok}");
    }
    let r = front("POST", &json_headers(), SUBSCRIBE).unwrap();
    assert!(r.is_subscribe());
    assert_eq!(r.success_status(), 200);
    assert_eq!(
        r.subscribe_headers("s-1"),
        vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Mesos-Stream-Id".to_string(), "s-1".to_string()),
        ]
    );
}

#[test]
fn subscribe_with_stream_id_is_400() {
    let h = json_headers().with("Mesos-Stream-Id", "a4b1e4f4-0000-0000-0000-000000000000");
    check(
        front("POST", &h, SUBSCRIBE),
        400,
        "Subscribe calls should not include the 'Mesos-Stream-Id' header",
    );
}

#[test]
fn resubscribe_with_matching_ids_passes() {
    let body = r#"{"type":"SUBSCRIBE","framework_id":{"value":"M-0001"},"subscribe":{"framework_info":{"user":"u","name":"n","id":{"value":"M-0001"}}}}"#;
    let r = front("POST", &json_headers(), body).unwrap();
    assert_eq!(r.framework_id().map(|f| f.value.as_str()), Some("M-0001"));
}

fn admitted(
    body: &str,
    stream: Option<&str>,
    standing: FrameworkStanding<'_>,
) -> Result<SchedulerRequest, HttpError> {
    let mut h = json_headers();
    if let Some(s) = stream {
        h.insert("Mesos-Stream-Id", s);
    }
    let r = front("POST", &h, body)?;
    r.admit(standing).map(|()| r)
}

#[test]
fn admission_rows() {
    let teardown = call("TEARDOWN", "");
    let http = FrameworkStanding::Http { stream_id: "s-1" };
    check(
        admitted(&teardown, Some("s-1"), FrameworkStanding::Unknown),
        400,
        "Framework cannot be found",
    );
    check(
        admitted(&teardown, Some("s-1"), FrameworkStanding::Disconnected),
        403,
        "Framework is not subscribed",
    );
    check(
        admitted(&teardown, Some("s-1"), FrameworkStanding::Driver),
        403,
        "not connected via HTTP",
    );
    check(
        admitted(&teardown, None, http),
        400,
        "should include the 'Mesos-Stream-Id' header",
    );
    check(
        admitted(&teardown, Some("s-2"), http),
        400,
        "The stream ID 's-2' included in this request didn't match",
    );
    let r = admitted(&teardown, Some("s-1"), http).unwrap();
    assert_eq!(r.success_status(), 202);
    check(
        admitted(&call("UNKNOWN", ""), Some("s-1"), http),
        501,
        "UNKNOWN",
    );
    // UNKNOWN still needs a known framework first, as in Mesos.
    check(
        admitted(
            &call("UNKNOWN", ""),
            Some("s-1"),
            FrameworkStanding::Unknown,
        ),
        400,
        "Framework cannot be found",
    );
}

#[test]
fn accepted_calls_are_202_and_update_framework_200() {
    let http = FrameworkStanding::Http { stream_id: "s" };
    let cases = [
        (
            "ACCEPT",
            r#"{"offer_ids":[{"value":"M-O1"}],"operations":[]}"#,
            202,
        ),
        ("DECLINE", r#"{"offer_ids":[{"value":"M-O1"}]}"#, 202),
        ("KILL", r#"{"task_id":{"value":"t"}}"#, 202),
        (
            "SHUTDOWN",
            r#"{"executor_id":{"value":"e"},"agent_id":{"value":"M-S0"}}"#,
            202,
        ),
        (
            "ACKNOWLEDGE",
            r#"{"agent_id":{"value":"M-S0"},"task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}"#,
            202,
        ),
        ("RECONCILE", r#"{"tasks":[]}"#, 202),
        (
            "MESSAGE",
            r#"{"agent_id":{"value":"M-S0"},"executor_id":{"value":"e"},"data":"aGk="}"#,
            202,
        ),
        ("REQUEST", r#"{"requests":[]}"#, 202),
        (
            "ACCEPT_INVERSE_OFFERS",
            r#"{"inverse_offer_ids":[{"value":"M-O2"}]}"#,
            202,
        ),
        (
            "DECLINE_INVERSE_OFFERS",
            r#"{"inverse_offer_ids":[{"value":"M-O2"}]}"#,
            202,
        ),
        ("REVIVE", r#"{"roles":["web"]}"#, 202),
        ("SUPPRESS", "", 202),
        ("TEARDOWN", "", 202),
        (
            "ACKNOWLEDGE_OPERATION_STATUS",
            r#"{"agent_id":{"value":"M-S0"},"operation_id":{"value":"op"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}"#,
            202,
        ),
        ("RECONCILE_OPERATIONS", r#"{"operations":[]}"#, 202),
        (
            "UPDATE_FRAMEWORK",
            r#"{"framework_info":{"user":"u","name":"n","id":{"value":"M-0000"}}}"#,
            200,
        ),
    ];
    for (kind, payload, status) in cases {
        let r = admitted(&call(kind, payload), Some("s"), http)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(r.success_status(), status, "{kind}");
    }
}

#[test]
fn principal_rows() {
    assert!(SchedulerRequest::check_principal(None, Some("p")).is_ok());
    assert!(SchedulerRequest::check_principal(Some(Some("p")), Some("p")).is_ok());
    let e = SchedulerRequest::check_principal(Some(Some("q")), Some("p")).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(
        e.body.contains("'q' does not match principal 'p'"),
        "{}",
        e.body
    );
    assert_eq!(
        SchedulerRequest::check_principal(Some(None), Some("p"))
            .unwrap_err()
            .status,
        403
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn refusal_or_call(result: Result<SchedulerRequest, HttpError>) -> Result<(), TestCaseError> {
        if let Err(e) = result {
            prop_assert!(
                matches!(e.status, 400 | 406 | 413 | 415),
                "status {}",
                e.status
            );
            prop_assert!(!e.body.is_empty());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bodies_get_an_answer_not_a_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            refusal_or_call(scheduler_request("POST", &json_headers(), &body, &Limits::default()))?;
        }

        #[test]
        fn mangled_calls_get_an_answer_not_a_panic(cut in 0usize..200, byte in any::<u8>(), at in 0usize..200) {
            let mut body = call("ACKNOWLEDGE", r#"{"agent_id":{"value":"M-S0"},"task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}"#).into_bytes();
            let at = at % body.len();
            body[at] = byte;
            body.truncate(cut.max(1).min(body.len()));
            refusal_or_call(scheduler_request("POST", &json_headers(), &body, &Limits::default()))?;
        }

        #[test]
        fn arbitrary_headers_get_an_answer_not_a_panic(ctype in proptest::collection::vec(any::<u8>(), 0..40), accept in proptest::collection::vec(any::<u8>(), 0..40)) {
            let h = RequestHeaders::new().with("Content-Type", &ctype).with("Accept", &accept);
            refusal_or_call(scheduler_request("POST", &h, SUBSCRIBE.as_bytes(), &Limits::default()))?;
        }
    }
}
