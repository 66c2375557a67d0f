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
//!
//! Each stream has an [`Audience`]: with `--acls` it is the subscriber's principal, and an
//! event about a framework or a task reaches it only if the caller's visibility check
//! (the view ACLs, `view_frameworks` and `view_tasks`, as Mesos filters per subscriber)
//! lets that principal see it.

use libprocess::HttpStream;
use meso_api::http::events::{operator_event, operator_heartbeat, OperatorEventType};
use meso_api::v1::{AgentId, FrameworkId, TaskState, TaskStatus};
use serde::Serialize;

/// Most concurrent operator subscribers (Mesos's default).
pub const MAX_SUBSCRIBERS: usize = 1000;

/// Who a stream is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Everything (no ACLs).
    All,
    /// What the view ACLs let this principal (`None`: unauthenticated) see.
    Principal(Option<String>),
}

/// Whether a principal may see one event (`None` principal: unauthenticated).
pub type Visible<'a> = &'a dyn Fn(Option<&str>) -> bool;

/// The live operator event streams.
#[derive(Default)]
pub struct OperatorEvents {
    streams: Vec<(HttpStream, Audience)>,
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
    /// Adds a stream that already carries its SUBSCRIBED record, for `audience`.
    pub fn subscribe(&mut self, stream: HttpStream, audience: Audience) {
        self.streams.retain(|(s, _)| !s.is_closed());
        if self.streams.len() >= MAX_SUBSCRIBERS {
            self.streams.remove(0);
        }
        self.streams.push((stream, audience));
    }

    /// Live subscribers.
    pub fn len(&self) -> usize {
        self.streams.iter().filter(|(s, _)| !s.is_closed()).count()
    }

    /// True when nobody listens (events are then not even built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn publish(&mut self, record: impl FnOnce() -> Vec<u8>) {
        self.publish_to(&|_| true, record);
    }

    /// Sends to the streams whose audience may see the event (`visible` is asked once per
    /// principal-bound stream; the record is built only if someone gets it).
    fn publish_to(&mut self, visible: Visible<'_>, record: impl FnOnce() -> Vec<u8>) {
        if self.streams.is_empty() {
            return;
        }
        let mut bytes: Option<Vec<u8>> = None;
        let mut record = Some(record);
        self.streams.retain(|(s, audience)| {
            let sees = match audience {
                Audience::All => true,
                Audience::Principal(p) => visible(p.as_deref()),
            };
            if !sees {
                return !s.is_closed();
            }
            let bytes = bytes.get_or_insert_with(|| (record.take().expect("built once"))());
            s.send(bytes.clone()).is_ok()
        });
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

    /// TASK_ADDED (`task` builds the v1 Task JSON, only if someone listens and may see it).
    pub fn task_added(&mut self, visible: Visible<'_>, task: impl FnOnce() -> serde_json::Value) {
        self.publish_to(visible, || task_added_record(&task()));
    }

    /// TASK_UPDATED, to the streams that may see the task.
    pub fn task_updated(
        &mut self,
        visible: Visible<'_>,
        framework_id: &FrameworkId,
        status: &TaskStatus,
        state: TaskState,
    ) {
        self.publish_to(visible, || task_updated_record(framework_id, status, state));
    }

    /// AGENT_ADDED.
    pub fn agent_added(&mut self, agent: impl FnOnce() -> serde_json::Value) {
        self.publish(|| agent_added_record(&agent()));
    }

    /// AGENT_REMOVED.
    pub fn agent_removed(&mut self, agent_id: &AgentId) {
        self.publish(|| agent_removed_record(agent_id));
    }

    /// FRAMEWORK_ADDED, to the streams that may see the framework.
    pub fn framework_added(
        &mut self,
        visible: Visible<'_>,
        framework: impl FnOnce() -> serde_json::Value,
    ) {
        self.publish_to(visible, || framework_added_record(&framework()));
    }

    /// FRAMEWORK_UPDATED, to the streams that may see the framework.
    pub fn framework_updated(
        &mut self,
        visible: Visible<'_>,
        framework: impl FnOnce() -> serde_json::Value,
    ) {
        self.publish_to(visible, || framework_updated_record(&framework()));
    }

    /// FRAMEWORK_REMOVED, to the streams that may see the framework.
    pub fn framework_removed(
        &mut self,
        visible: Visible<'_>,
        framework_info: impl FnOnce() -> serde_json::Value,
    ) {
        self.publish_to(visible, || framework_removed_record(&framework_info()));
    }
}
