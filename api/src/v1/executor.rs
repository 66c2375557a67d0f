//! The v1 executor API envelopes: `Call` (executor to agent) and `Event` (agent to
//! executor).

use serde::{Deserialize, Serialize};

use super::framework::{AgentInfo, FrameworkInfo};
use super::ids::{ContainerId, ExecutorId, FrameworkId, TaskId};
use super::status::{TaskState, TaskStatus, TaskStatusSource};
use super::task::{ExecutorInfo, KillPolicy, TaskGroupInfo, TaskInfo};
use crate::json::null_as_default;

mesos_enum!(
    /// Kind of executor call.
    CallType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Open the event stream.
        Subscribe = ("SUBSCRIBE", 1),
        /// Send a status update.
        Update = ("UPDATE", 2),
        /// Send a message to the scheduler.
        Message = ("MESSAGE", 3),
        /// Keep-alive.
        Heartbeat = ("HEARTBEAT", 4),
    }
);

/// An update the executor sent but the agent has not acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnacknowledgedUpdate {
    /// The status (required).
    pub status: TaskStatus,
}

/// SUBSCRIBE payload (resubscription lists what is still pending).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Subscribe {
    /// Tasks launched but not yet reported.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unacknowledged_tasks: Vec<TaskInfo>,
    /// Updates not yet acknowledged.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unacknowledged_updates: Vec<UnacknowledgedUpdate>,
}

/// UPDATE payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The status (required; its uuid must be 16 bytes).
    pub status: TaskStatus,
}

/// MESSAGE payload (call and event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Data (required).
    #[serde(with = "crate::json::base64_bytes")]
    pub data: Vec<u8>,
}

/// An executor call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Executor (required).
    pub executor_id: ExecutorId,
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: CallType,
    /// SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// UPDATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    /// MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

impl Call {
    /// Mesos's `validateExecutorCall`: valid ids, the payload for the type, and for UPDATE a
    /// 16-byte uuid, a matching `status.executor_id` (if set), `SOURCE_EXECUTOR` and a state
    /// other than TASK_STAGING. The error names the call type and the rule.
    pub fn validate(&self) -> crate::Result<()> {
        let fail = |reason: String| crate::Error::Invalid {
            what: format!("executor call {}", self.kind),
            reason,
        };
        self.executor_id.validate()?;
        self.framework_id.validate()?;
        match self.kind {
            CallType::Unknown => Err(fail("unknown call type".into())),
            CallType::Subscribe if self.subscribe.is_none() => {
                Err(fail("expecting 'subscribe' to be present".into()))
            }
            CallType::Message if self.message.is_none() => {
                Err(fail("expecting 'message' to be present".into()))
            }
            CallType::Update => {
                let update = self
                    .update
                    .as_ref()
                    .ok_or_else(|| fail("expecting 'update' to be present".into()))?;
                let status = &update.status;
                match status.uuid.as_ref().map(Vec::len) {
                    Some(16) => {}
                    Some(n) => return Err(fail(format!("uuid must be 16 bytes, got {n}"))),
                    None => return Err(fail("expecting 'status.uuid' to be present".into())),
                }
                if let Some(id) = &status.executor_id {
                    if id != &self.executor_id {
                        return Err(fail(format!(
                            "status.executor_id '{id}' differs from executor_id '{}'",
                            self.executor_id
                        )));
                    }
                }
                if status.source != Some(TaskStatusSource::Executor) {
                    return Err(fail("status.source must be SOURCE_EXECUTOR".into()));
                }
                if status.state == TaskState::Staging {
                    return Err(fail("an executor cannot send TASK_STAGING".into()));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

mesos_enum!(
    /// Kind of executor event.
    EventType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Subscription accepted.
        Subscribed = ("SUBSCRIBED", 1),
        /// Launch a task.
        Launch = ("LAUNCH", 2),
        /// Launch a task group.
        LaunchGroup = ("LAUNCH_GROUP", 8),
        /// Kill a task.
        Kill = ("KILL", 3),
        /// An update was acknowledged.
        Acknowledged = ("ACKNOWLEDGED", 4),
        /// A message from the scheduler.
        Message = ("MESSAGE", 5),
        /// An error.
        Error = ("ERROR", 6),
        /// Shut down.
        Shutdown = ("SHUTDOWN", 7),
        /// Keep-alive.
        Heartbeat = ("HEARTBEAT", 9),
    }
);

/// SUBSCRIBED payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// The executor (required).
    pub executor_info: ExecutorInfo,
    /// The framework (required).
    pub framework_info: FrameworkInfo,
    /// The agent (required).
    pub agent_info: AgentInfo,
    /// The executor's container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
}

/// LAUNCH payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    /// The task (required).
    pub task: TaskInfo,
}

/// LAUNCH_GROUP payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    /// The tasks (required).
    pub task_group: TaskGroupInfo,
}

/// KILL payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    /// Task (required).
    pub task_id: TaskId,
    /// Overrides the task's kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// ACKNOWLEDGED payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// Task (required).
    pub task_id: TaskId,
    /// The acknowledged update's uuid (required).
    #[serde(with = "crate::json::base64_bytes")]
    pub uuid: Vec<u8>,
}

/// ERROR payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// What went wrong (required).
    pub message: String,
}

/// An executor event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: EventType,
    /// SUBSCRIBED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    /// LAUNCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// LAUNCH_GROUP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    /// KILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    /// ACKNOWLEDGED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledged>,
    /// MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorEvent>,
}

impl Event {
    /// An event of `kind` with no payload (e.g. SHUTDOWN, HEARTBEAT).
    pub fn new(kind: EventType) -> Self {
        Event {
            kind,
            subscribed: None,
            launch: None,
            launch_group: None,
            kill: None,
            acknowledged: None,
            message: None,
            error: None,
        }
    }
}
