//! Event records for the three streams: scheduler (`/api/v1/scheduler`), executor
//! (`/api/v1/executor`) and operator (`/api/v1` SUBSCRIBE).
//!
//! Each helper returns one RecordIO record of compact JSON, ready to be written to the
//! chunked response as one piece. ERROR is `{"type":"ERROR","error":{"message":...}}`
//! (the form Mesos really writes; its docs show a flat `message`, a doc bug). The
//! operator stream (`mesos.v1.master.Event`) has no ERROR type in Mesos: a failed operator
//! subscription is answered before the stream opens, and the stream is simply closed.

use serde::Serialize;

use super::recordio;
use crate::json;
use crate::v1::executor as exec;
use crate::v1::scheduler as sched;
use crate::v1::{FrameworkId, MasterInfo};

/// One record of any event.
pub fn record<T: Serialize + ?Sized>(event: &T) -> Vec<u8> {
    recordio::encode(&json::to_vec(event))
}

/// Scheduler SUBSCRIBED, with the heartbeat interval Mesos always announces (15 s).
pub fn scheduler_subscribed(framework_id: FrameworkId, master_info: Option<MasterInfo>) -> Vec<u8> {
    let mut event = sched::Event::new(sched::EventType::Subscribed);
    event.subscribed = Some(sched::Subscribed {
        framework_id,
        heartbeat_interval_seconds: Some(super::HEARTBEAT_INTERVAL_SECS),
        master_info,
    });
    record(&event)
}

/// Scheduler HEARTBEAT.
pub fn scheduler_heartbeat() -> Vec<u8> {
    record(&sched::Event::new(sched::EventType::Heartbeat))
}

/// Scheduler ERROR (the stream is closed after it).
pub fn scheduler_error(message: &str) -> Vec<u8> {
    let mut event = sched::Event::new(sched::EventType::Error);
    event.error = Some(sched::ErrorEvent {
        message: message.to_string(),
    });
    record(&event)
}

/// Executor HEARTBEAT.
pub fn executor_heartbeat() -> Vec<u8> {
    record(&exec::Event::new(exec::EventType::Heartbeat))
}

/// Executor SHUTDOWN.
pub fn executor_shutdown() -> Vec<u8> {
    record(&exec::Event::new(exec::EventType::Shutdown))
}

/// Executor ERROR.
pub fn executor_error(message: &str) -> Vec<u8> {
    let mut event = exec::Event::new(exec::EventType::Error);
    event.error = Some(exec::ErrorEvent {
        message: message.to_string(),
    });
    record(&event)
}

/// `mesos.v1.master.Event.Type`, the operator stream's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorEventType {
    /// First event: the whole state.
    Subscribed,
    /// A task became known.
    TaskAdded,
    /// A task's state changed.
    TaskUpdated,
    /// An agent registered.
    AgentAdded,
    /// An agent was removed.
    AgentRemoved,
    /// A framework subscribed.
    FrameworkAdded,
    /// A framework changed (re-subscribed, updated, disconnected).
    FrameworkUpdated,
    /// A framework was removed.
    FrameworkRemoved,
    /// Keep-alive.
    Heartbeat,
}

impl OperatorEventType {
    /// The proto name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorEventType::Subscribed => "SUBSCRIBED",
            OperatorEventType::TaskAdded => "TASK_ADDED",
            OperatorEventType::TaskUpdated => "TASK_UPDATED",
            OperatorEventType::AgentAdded => "AGENT_ADDED",
            OperatorEventType::AgentRemoved => "AGENT_REMOVED",
            OperatorEventType::FrameworkAdded => "FRAMEWORK_ADDED",
            OperatorEventType::FrameworkUpdated => "FRAMEWORK_UPDATED",
            OperatorEventType::FrameworkRemoved => "FRAMEWORK_REMOVED",
            OperatorEventType::Heartbeat => "HEARTBEAT",
        }
    }
}

/// One operator event record: `{"type":"<KIND>","<kind>":<payload>}`, or just the type
/// when `payload` is `None`. The payload is serialised compactly.
pub fn operator_event<T: Serialize + ?Sized>(
    kind: OperatorEventType,
    payload: Option<&T>,
) -> Vec<u8> {
    let name = kind.as_str();
    let text = match payload {
        Some(p) => format!(
            r#"{{"type":"{name}","{}":{}}}"#,
            name.to_ascii_lowercase(),
            json::to_string(p)
        ),
        None => format!(r#"{{"type":"{name}"}}"#),
    };
    recordio::encode(text.as_bytes())
}

/// Operator SUBSCRIBED: `{"get_state": <state>, "heartbeat_interval_seconds": 15.0}`.
pub fn operator_subscribed<T: Serialize + ?Sized>(get_state: &T) -> Vec<u8> {
    #[derive(Serialize)]
    struct Subscribed<'a, T: Serialize + ?Sized> {
        get_state: &'a T,
        heartbeat_interval_seconds: f64,
    }
    operator_event(
        OperatorEventType::Subscribed,
        Some(&Subscribed {
            get_state,
            heartbeat_interval_seconds: super::HEARTBEAT_INTERVAL_SECS,
        }),
    )
}

/// Operator HEARTBEAT.
pub fn operator_heartbeat() -> Vec<u8> {
    operator_event::<()>(OperatorEventType::Heartbeat, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::framework::{MasterCapability, MasterCapabilityType};
    use crate::v1::Address;

    fn text(record: &[u8]) -> (usize, String) {
        let (len, body) = std::str::from_utf8(record)
            .expect("records are UTF-8")
            .split_once('\n')
            .expect("a record has a newline after its length");
        (len.parse().expect("decimal length"), body.to_string())
    }

    #[test]
    fn heartbeat_bytes() {
        assert_eq!(scheduler_heartbeat(), b"20\n{\"type\":\"HEARTBEAT\"}");
        assert_eq!(executor_heartbeat(), b"20\n{\"type\":\"HEARTBEAT\"}");
        assert_eq!(operator_heartbeat(), b"20\n{\"type\":\"HEARTBEAT\"}");
        assert_eq!(executor_shutdown(), b"19\n{\"type\":\"SHUTDOWN\"}");
    }

    #[test]
    fn error_is_nested_under_error() {
        let expected = r#"{"type":"ERROR","error":{"message":"Framework failed over"}}"#;
        let mut want = format!("{}\n", expected.len()).into_bytes();
        want.extend_from_slice(expected.as_bytes());
        assert_eq!(scheduler_error("Framework failed over"), want);
        let (len, body) = text(&executor_error("bad \"quote\"\nline"));
        assert_eq!(
            body,
            r#"{"type":"ERROR","error":{"message":"bad \"quote\"\nline"}}"#
        );
        assert_eq!(len, body.len());
    }

    /// The reference's SUBSCRIBED example (§1.4), byte for byte.
    #[test]
    fn subscribed_matches_the_reference_example() {
        let master = MasterInfo {
            id: "M".into(),
            ip: 16777343,
            port: 5050,
            pid: Some("master@127.0.0.1:5050".into()),
            hostname: Some("localhost".into()),
            version: Some("1.11.0".into()),
            address: Some(Address {
                hostname: Some("localhost".into()),
                ip: Some("127.0.0.1".into()),
                port: 5050,
            }),
            capabilities: [
                MasterCapabilityType::AgentUpdate,
                MasterCapabilityType::AgentDraining,
                MasterCapabilityType::QuotaV2,
            ]
            .into_iter()
            .map(|kind| MasterCapability { kind: Some(kind) })
            .collect(),
        };
        let expected = concat!(
            r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"M-0000"},"#,
            r#""heartbeat_interval_seconds":15.0,"master_info":{"id":"M","ip":16777343,"#,
            r#""port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost","#,
            r#""version":"1.11.0","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"#,
            r#""capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}]}}}"#
        );
        let (len, body) = text(&scheduler_subscribed(
            FrameworkId::new("M-0000"),
            Some(master),
        ));
        assert_eq!(body, expected);
        assert_eq!(len, expected.len());
    }

    #[test]
    fn operator_subscribed_wraps_the_state() {
        let state = serde_json::json!({"get_tasks": {}});
        let (len, body) = text(&operator_subscribed(&state));
        assert_eq!(
            body,
            r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_tasks":{}},"heartbeat_interval_seconds":15.0}}"#
        );
        assert_eq!(len, body.len());
        let added = operator_event(
            OperatorEventType::AgentRemoved,
            Some(&serde_json::json!({"agent_id": {"value": "S0"}})),
        );
        assert_eq!(
            text(&added).1,
            r#"{"type":"AGENT_REMOVED","agent_removed":{"agent_id":{"value":"S0"}}}"#
        );
    }

    #[test]
    fn records_decode_back_to_the_events() {
        let mut stream = scheduler_subscribed(FrameworkId::new("f"), None);
        stream.extend(scheduler_heartbeat());
        stream.extend(scheduler_error("x"));
        let mut decoder = recordio::Decoder::new(1 << 16);
        let records = decoder.feed(&stream).unwrap();
        let events: Vec<sched::Event> = records
            .iter()
            .map(|r| json::from_slice(r, &json::Limits::default()).unwrap())
            .collect();
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                sched::EventType::Subscribed,
                sched::EventType::Heartbeat,
                sched::EventType::Error
            ]
        );
    }
}
