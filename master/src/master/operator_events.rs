//! The operator event hub: the master's `SUBSCRIBE` streams (operator API, HTTP reference
//! §3.1) and the one place events are published from. The books' change points call one
//! method each (`task_added`, `task_updated`, `agent_added`, `agent_removed`,
//! `framework_added`, `framework_updated`, `framework_removed`); each builds one RecordIO
//! record and queues it on every live stream.
//!
//! Invariants: a subscriber gets SUBSCRIBED first (written by the caller before
//! [`OperatorEvents::subscribe`]), then events in the order the master made them; a stream
//! whose client left or that cannot keep up (queue full) is dropped, never blocked on; at
//! most [`MAX_SUBSCRIBERS`] streams are kept, the oldest closed first (Mesos's
//! `--max_operator_event_stream_subscribers`).

use libprocess::HttpStream;
use meso_api::http::events::{operator_event, operator_heartbeat, OperatorEventType};
use meso_api::v1::{AgentId, FrameworkId, TaskState, TaskStatus};
use serde::Serialize;

/// Most concurrent operator subscribers (Mesos's default).
pub const MAX_SUBSCRIBERS: usize = 1000;

/// The live operator event streams.
#[derive(Default)]
pub struct OperatorEvents {
    streams: Vec<HttpStream>,
    /// Whether a heartbeat timer is pending (one chain of timers at most).
    heartbeat_armed: bool,
}

#[derive(Serialize)]
struct TaskUpdated<'a> {
    framework_id: &'a FrameworkId,
    status: &'a TaskStatus,
    state: &'a str,
}

#[derive(Serialize)]
struct AgentRemoved<'a> {
    agent_id: &'a AgentId,
}

/// TASK_ADDED `{task}` as one RecordIO record (`task` is the v1 `Task` JSON).
pub fn task_added_record(task: &serde_json::Value) -> Vec<u8> {
    operator_event(
        OperatorEventType::TaskAdded,
        Some(&serde_json::json!({ "task": task })),
    )
}

/// TASK_UPDATED `{framework_id, status, state}`.
pub fn task_updated_record(
    framework_id: &FrameworkId,
    status: &TaskStatus,
    state: TaskState,
) -> Vec<u8> {
    operator_event(
        OperatorEventType::TaskUpdated,
        Some(&TaskUpdated {
            framework_id,
            status,
            state: state.as_str(),
        }),
    )
}

/// AGENT_ADDED `{agent}` (`agent` is the v1 `GetAgents.Agent` JSON).
pub fn agent_added_record(agent: &serde_json::Value) -> Vec<u8> {
    operator_event(
        OperatorEventType::AgentAdded,
        Some(&serde_json::json!({ "agent": agent })),
    )
}

/// AGENT_REMOVED `{agent_id}`.
pub fn agent_removed_record(agent_id: &AgentId) -> Vec<u8> {
    operator_event(
        OperatorEventType::AgentRemoved,
        Some(&AgentRemoved { agent_id }),
    )
}

/// FRAMEWORK_ADDED `{framework}` (`framework` is the v1 `GetFrameworks.Framework` JSON).
pub fn framework_added_record(framework: &serde_json::Value) -> Vec<u8> {
    operator_event(
        OperatorEventType::FrameworkAdded,
        Some(&serde_json::json!({ "framework": framework })),
    )
}

/// FRAMEWORK_UPDATED `{framework}`.
pub fn framework_updated_record(framework: &serde_json::Value) -> Vec<u8> {
    operator_event(
        OperatorEventType::FrameworkUpdated,
        Some(&serde_json::json!({ "framework": framework })),
    )
}

/// FRAMEWORK_REMOVED `{framework_info}`.
pub fn framework_removed_record(framework_info: &serde_json::Value) -> Vec<u8> {
    operator_event(
        OperatorEventType::FrameworkRemoved,
        Some(&serde_json::json!({ "framework_info": framework_info })),
    )
}

impl OperatorEvents {
    /// Adds a stream that already carries its SUBSCRIBED record.
    pub fn subscribe(&mut self, stream: HttpStream) {
        self.streams.retain(|s| !s.is_closed());
        if self.streams.len() >= MAX_SUBSCRIBERS {
            self.streams.remove(0);
        }
        self.streams.push(stream);
    }

    /// Live subscribers.
    pub fn len(&self) -> usize {
        self.streams.iter().filter(|s| !s.is_closed()).count()
    }

    /// True when nobody listens (events are then not even built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn publish(&mut self, record: impl FnOnce() -> Vec<u8>) {
        if self.streams.is_empty() {
            return;
        }
        let bytes = record();
        self.streams.retain(|s| s.send(bytes.clone()).is_ok());
    }

    /// HEARTBEAT to every stream (the pending timer fired).
    pub fn heartbeat(&mut self) {
        self.heartbeat_armed = false;
        self.publish(operator_heartbeat);
    }

    /// True if the caller should start a heartbeat timer now: someone listens and no
    /// timer is pending. Marks the timer pending.
    pub fn arm_heartbeat(&mut self) -> bool {
        let arm = !self.heartbeat_armed && !self.is_empty();
        self.heartbeat_armed |= arm;
        arm
    }

    /// TASK_ADDED (`task` builds the v1 Task JSON, only if someone listens).
    pub fn task_added(&mut self, task: impl FnOnce() -> serde_json::Value) {
        self.publish(|| task_added_record(&task()));
    }

    /// TASK_UPDATED.
    pub fn task_updated(
        &mut self,
        framework_id: &FrameworkId,
        status: &TaskStatus,
        state: TaskState,
    ) {
        self.publish(|| task_updated_record(framework_id, status, state));
    }

    /// AGENT_ADDED.
    pub fn agent_added(&mut self, agent: impl FnOnce() -> serde_json::Value) {
        self.publish(|| agent_added_record(&agent()));
    }

    /// AGENT_REMOVED.
    pub fn agent_removed(&mut self, agent_id: &AgentId) {
        self.publish(|| agent_removed_record(agent_id));
    }

    /// FRAMEWORK_ADDED.
    pub fn framework_added(&mut self, framework: impl FnOnce() -> serde_json::Value) {
        self.publish(|| framework_added_record(&framework()));
    }

    /// FRAMEWORK_UPDATED.
    pub fn framework_updated(&mut self, framework: impl FnOnce() -> serde_json::Value) {
        self.publish(|| framework_updated_record(&framework()));
    }

    /// FRAMEWORK_REMOVED.
    pub fn framework_removed(&mut self, framework_info: impl FnOnce() -> serde_json::Value) {
        self.publish(|| framework_removed_record(&framework_info()));
    }
}
