//! The front door of `POST /api/v1/executor` on the agent (HTTP reference §2.1, §2.2).
//!
//! Step 1, [`executor_request`] (no agent state): method, `Content-Type`, body decoding
//! under limits, `Call::validate` (ids, payloads, the UPDATE rules: a 16-byte uuid,
//! `SOURCE_EXECUTOR`, no TASK_STAGING, a matching executor id), and `Accept` for
//! SUBSCRIBE. There is no `Mesos-Stream-Id` in this API.
//!
//! Step 2, [`ExecutorRequest::admit`], given the executor's [`ExecutorStanding`]:
//! HEARTBEAT is accepted before any lookup; unknown framework or executor 400; any call
//! but SUBSCRIBE from an executor that has not subscribed yet 403; `UNKNOWN` 501. While the
//! agent recovers, calls other than SUBSCRIBE (executors re-subscribe during recovery) and
//! HEARTBEAT get [`HttpError::agent_recovering`] ([`ExecutorRequest::check_recovering`]),
//! before the lookups.

use super::body::decode_call;
use super::error::HttpError;
use super::headers::RequestHeaders;
use super::negotiation::{negotiate_response, require_json_body, require_post, MediaType};
use crate::json::Limits;
use crate::v1::executor::{Call, CallType};

/// A decoded, validated executor call.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorRequest {
    /// The call.
    pub call: Call,
    /// The response encoding (SUBSCRIBE only).
    pub accept: Option<MediaType>,
}

/// What the agent knows of the executor a call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorStanding {
    /// The framework is not known to the agent.
    UnknownFramework,
    /// The framework is known, the executor is not.
    UnknownExecutor,
    /// Launched, not subscribed yet.
    Registering,
    /// Subscribed (or re-subscribing after an agent restart).
    Running,
    /// Being shut down; a SUBSCRIBE is answered with a SHUTDOWN event.
    Terminating,
}

/// Step 1 for `POST /api/v1/executor`; see the module docs.
pub fn executor_request(
    method: &str,
    headers: &RequestHeaders,
    body: &[u8],
    limits: &Limits,
) -> Result<ExecutorRequest, HttpError> {
    require_post(method)?;
    require_json_body(headers, false)?;
    let call: Call = decode_call(body, limits)?;
    let valid = if call.kind == CallType::Unknown {
        // Mesos's validation lets UNKNOWN through; the handler answers 501 later.
        call.executor_id
            .validate()
            .and_then(|()| call.framework_id.validate())
    } else {
        call.validate()
    };
    valid.map_err(|e| HttpError::bad_request(format!("Failed to validate Executor::Call: {e}")))?;
    let accept = if call.kind == CallType::Subscribe {
        Some(negotiate_response(headers)?)
    } else {
        None
    };
    Ok(ExecutorRequest { call, accept })
}

impl ExecutorRequest {
    /// True for HEARTBEAT, which the agent answers 202 before looking anything up.
    pub fn is_heartbeat(&self) -> bool {
        self.call.kind == CallType::Heartbeat
    }

    /// True for SUBSCRIBE (a 200 stream).
    pub fn is_subscribe(&self) -> bool {
        self.call.kind == CallType::Subscribe
    }

    /// 503 "Agent has not finished recovery" for calls other than SUBSCRIBE and HEARTBEAT
    /// while `agent_recovering`; run it before the lookups of [`Self::admit`].
    pub fn check_recovering(&self, agent_recovering: bool) -> Result<(), HttpError> {
        if agent_recovering && !self.is_subscribe() && !self.is_heartbeat() {
            Err(HttpError::agent_recovering())
        } else {
            Ok(())
        }
    }

    /// Step 2: checks the call against the executor's standing. HEARTBEAT always passes.
    pub fn admit(&self, standing: ExecutorStanding) -> Result<(), HttpError> {
        if self.is_heartbeat() {
            return Ok(());
        }
        match standing {
            ExecutorStanding::UnknownFramework => {
                return Err(HttpError::bad_request("Framework cannot be found"))
            }
            ExecutorStanding::UnknownExecutor => {
                return Err(HttpError::bad_request("Executor cannot be found"))
            }
            ExecutorStanding::Registering if !self.is_subscribe() => {
                return Err(HttpError::forbidden("Executor is not subscribed"))
            }
            _ => {}
        }
        if self.call.kind == CallType::Unknown {
            return Err(HttpError::not_implemented(
                "Received an 'UNKNOWN' executor call",
            ));
        }
        Ok(())
    }

    /// 200 (streaming) for SUBSCRIBE, 202 with an empty body otherwise.
    pub fn success_status(&self) -> u16 {
        if self.is_subscribe() {
            200
        } else {
            202
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &str = r#""framework_id":{"value":"M-0000"},"executor_id":{"value":"e1"}"#;
    const UUID: &str = "AAECAwQFBgcICQoLDA0ODw==";

    fn headers() -> RequestHeaders {
        RequestHeaders::new().with("Content-Type", "application/json")
    }

    fn front(body: &str) -> Result<ExecutorRequest, HttpError> {
        executor_request("POST", &headers(), body.as_bytes(), &Limits::default())
    }

    fn update(status: &str) -> String {
        format!(r#"{{"type":"UPDATE",{IDS},"update":{{"status":{status}}}}}"#)
    }

    fn check(result: Result<ExecutorRequest, HttpError>, status: u16, needle: &str) {
        let e = result.expect_err("expected a refusal");
        assert_eq!(e.status, status, "body: {}", e.body);
        assert!(
            e.body.contains(needle),
            "body {:?} lacks {needle:?}",
            e.body
        );
    }

    #[test]
    fn transport_rows() {
        let sub = format!(r#"{{"type":"SUBSCRIBE",{IDS},"subscribe":{{}}}}"#);
        let e =
            executor_request("GET", &headers(), sub.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!((e.status, e.header("Allow")), (405, Some("POST")));
        check(
            executor_request(
                "POST",
                &RequestHeaders::new(),
                sub.as_bytes(),
                &Limits::default(),
            ),
            400,
            "Expecting 'Content-Type' to be present",
        );
        let proto = RequestHeaders::new().with("Content-Type", "application/x-protobuf");
        check(
            executor_request("POST", &proto, sub.as_bytes(), &Limits::default()),
            415,
            "x-protobuf",
        );
        let h = headers().with("Accept", "application/x-protobuf");
        check(
            executor_request("POST", &h, sub.as_bytes(), &Limits::default()),
            406,
            "Accept",
        );
        let r = front(&sub).unwrap();
        assert_eq!((r.accept, r.success_status()), (Some(MediaType::Json), 200));
    }

    #[test]
    fn ids_and_payloads_are_required() {
        check(
            front(r#"{"type":"SUBSCRIBE","subscribe":{}}"#),
            400,
            "executor_id",
        );
        check(
            front(&format!(r#"{{"type":"SUBSCRIBE",{IDS}}}"#)),
            400,
            "subscribe",
        );
        check(
            front(&format!(r#"{{"type":"UPDATE",{IDS}}}"#)),
            400,
            "update",
        );
        check(
            front(&format!(r#"{{"type":"MESSAGE",{IDS}}}"#)),
            400,
            "message",
        );
    }

    #[test]
    fn update_rules() {
        let ok = format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"{UUID}"}}"#
        );
        assert_eq!(front(&update(&ok)).unwrap().success_status(), 202);
        let no_uuid =
            r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR"}"#;
        check(front(&update(no_uuid)), 400, "uuid");
        let short = r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"AAEC"}"#;
        check(front(&update(short)), 400, "16 bytes");
        let agent = format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","source":"SOURCE_AGENT","uuid":"{UUID}"}}"#
        );
        check(front(&update(&agent)), 400, "SOURCE_EXECUTOR");
        let staging = format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_STAGING","source":"SOURCE_EXECUTOR","uuid":"{UUID}"}}"#
        );
        check(front(&update(&staging)), 400, "TASK_STAGING");
        let other = format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"{UUID}","executor_id":{{"value":"e2"}}}}"#
        );
        check(front(&update(&other)), 400, "e2");
        check(
            front(&update(r#"{"state":"TASK_RUNNING"}"#)),
            400,
            "task_id",
        );
    }

    #[test]
    fn admission_rows() {
        let hb = front(&format!(r#"{{"type":"HEARTBEAT",{IDS}}}"#)).unwrap();
        assert!(hb.is_heartbeat());
        assert!(hb.admit(ExecutorStanding::UnknownFramework).is_ok());
        let msg = front(&format!(
            r#"{{"type":"MESSAGE",{IDS},"message":{{"data":"aGk="}}}}"#
        ))
        .unwrap();
        let e = msg.admit(ExecutorStanding::UnknownFramework).unwrap_err();
        assert_eq!(
            (e.status, e.body.as_str()),
            (400, "Framework cannot be found")
        );
        let e = msg.admit(ExecutorStanding::UnknownExecutor).unwrap_err();
        assert_eq!(
            (e.status, e.body.as_str()),
            (400, "Executor cannot be found")
        );
        let e = msg.admit(ExecutorStanding::Registering).unwrap_err();
        assert_eq!(
            (e.status, e.body.as_str()),
            (403, "Executor is not subscribed")
        );
        assert!(msg.admit(ExecutorStanding::Running).is_ok());
        let sub = front(&format!(r#"{{"type":"SUBSCRIBE",{IDS},"subscribe":{{}}}}"#)).unwrap();
        assert!(sub.admit(ExecutorStanding::Registering).is_ok());
        assert_eq!(msg.check_recovering(true).unwrap_err().status, 503);
        assert!(msg.check_recovering(false).is_ok());
        assert!(sub.check_recovering(true).is_ok());
        assert!(hb.check_recovering(true).is_ok());
        let unknown = front(&format!(r#"{{"type":"UNKNOWN",{IDS}}}"#)).unwrap();
        assert_eq!(
            unknown.admit(ExecutorStanding::Running).unwrap_err().status,
            501
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_bodies_get_an_answer_not_a_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            if let Err(e) = executor_request("POST", &headers(), &body, &Limits::default()) {
                proptest::prop_assert!(matches!(e.status, 400 | 413), "status {}", e.status);
            }
        }
    }
}
