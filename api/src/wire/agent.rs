//! Master and agent: registration, liveness, task launch and kill, status updates and
//! their acknowledgements, executor lifecycle, checkpointed resources.

use serde::{Deserialize, Serialize};

use crate::resources::Resources;
use crate::v1::{
    AgentCapability, AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo,
    KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};

/// A task as an agent reports it when reregistering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task as launched.
    #[serde(with = "super::task_info")]
    pub task: TaskInfo,
    /// Its framework.
    pub framework_id: FrameworkId,
    /// Its executor, if any.
    pub executor_id: Option<ExecutorId>,
    /// Latest known state.
    pub state: TaskState,
    /// The uuid of the latest status update not yet acknowledged, if any.
    pub unacknowledged_update_uuid: Option<Vec<u8>>,
}

/// Agent to master: first registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterAgent {
    /// The agent (without id).
    #[serde(with = "super::as_json")]
    pub agent: AgentInfo,
    /// Resources the agent has checkpointed (dynamic reservations, volumes).
    pub checkpointed_resources: Resources,
    /// The agent's version string.
    pub version: String,
    /// What the agent can do.
    #[serde(with = "super::as_json")]
    pub capabilities: Vec<AgentCapability>,
}

/// Agent to master: registration after a master failover or agent restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReregisterAgent {
    /// The agent (with its id).
    #[serde(with = "super::as_json")]
    pub agent: AgentInfo,
    /// Checkpointed resources.
    pub checkpointed_resources: Resources,
    /// Executors running on the agent.
    #[serde(with = "super::as_json")]
    pub executor_infos: Vec<ExecutorInfo>,
    /// Tasks on the agent.
    pub tasks: Vec<TaskRecord>,
    /// Frameworks with tasks or executors on the agent.
    #[serde(with = "super::as_json")]
    pub frameworks: Vec<FrameworkInfo>,
    /// The agent's version string.
    pub version: String,
    /// What the agent can do.
    #[serde(with = "super::as_json")]
    pub capabilities: Vec<AgentCapability>,
}

/// Master to agent: registration accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRegistered {
    /// The id the master assigned.
    pub agent_id: AgentId,
    /// How long the agent waits for pings before assuming the master is gone.
    pub total_ping_timeout_seconds: Option<f64>,
}

/// Master to agent: reregistration accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReregistered {
    /// The agent's id.
    pub agent_id: AgentId,
    /// As in [`AgentRegistered`].
    pub total_ping_timeout_seconds: Option<f64>,
    /// Tasks the master has on the agent that its re-registration did not list: the agent
    /// answers a terminal update for each one it does not know, as Mesos's agent answers
    /// the `reconciliations` of `SlaveReregisteredMessage` (a launch may have crossed the
    /// re-registration in flight, so only the agent can tell).
    pub reconciliations: Vec<TaskReconciliation>,
}

/// With [`AgentReregistered`]: one framework's tasks the master asks the agent about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReconciliation {
    /// The framework.
    pub framework_id: FrameworkId,
    /// Whether it is PARTITION_AWARE: an unknown task then ends TASK_DROPPED, else
    /// TASK_LOST.
    pub partition_aware: bool,
    /// The tasks.
    pub task_ids: Vec<TaskId>,
}

/// Agent to master: the agent is leaving for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnregisterAgent {
    /// The agent.
    pub agent_id: AgentId,
}

/// Master to agent: liveness probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingAgent {
    /// Whether the master considers the agent connected.
    pub connected: bool,
}

/// Agent to master: reply to [`PingAgent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PongAgent {}

/// Master to agent: launch one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTask {
    /// The task's framework.
    #[serde(with = "super::as_json")]
    pub framework: FrameworkInfo,
    /// The framework scheduler's PID (for v0 frameworks), if any.
    pub pid: Option<String>,
    /// The task.
    #[serde(with = "super::task_info")]
    pub task: TaskInfo,
}

/// Master to agent: launch a task group under an executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTaskGroup {
    /// The framework.
    #[serde(with = "super::as_json")]
    pub framework: FrameworkInfo,
    /// The executor.
    #[serde(with = "super::as_json")]
    pub executor: ExecutorInfo,
    /// The tasks.
    #[serde(with = "super::as_json")]
    pub task_group: TaskGroupInfo,
}

/// Master to agent (and agent to executor): kill a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillTask {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
    /// Overrides the task's kill policy.
    #[serde(with = "super::as_json")]
    pub kill_policy: Option<KillPolicy>,
}

/// A status update as the status update manager tracks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor that produced it, if any.
    pub executor_id: Option<ExecutorId>,
    /// The agent.
    pub agent_id: Option<AgentId>,
    /// The status (its `uuid` equals `uuid` below when set).
    #[serde(with = "super::as_json")]
    pub status: TaskStatus,
    /// Seconds since the epoch when it was created.
    pub timestamp: f64,
    /// 16-byte update id; acknowledgements refer to it. Absent for updates that must not
    /// be acknowledged (e.g. reconciliation replies).
    pub uuid: Option<Vec<u8>>,
    /// The latest state of the task, when the agent has newer updates queued.
    pub latest_state: Option<TaskState>,
}

/// Agent to master to framework: a status update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateMessage {
    /// The update.
    pub update: StatusUpdate,
    /// PID of the sender, so the acknowledgement can be routed back.
    pub pid: Option<String>,
}

/// Framework to master to agent: an update was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdateAcknowledgement {
    /// The agent holding the update.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
    /// The update's 16-byte uuid.
    pub uuid: Vec<u8>,
}

/// Master to agent (or agent to executor): shut an executor down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownExecutor {
    /// The executor.
    pub executor_id: ExecutorId,
    /// Its framework.
    pub framework_id: FrameworkId,
}

/// Master to agent: the framework is gone; kill its tasks and executors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownFramework {
    /// The framework.
    pub framework_id: FrameworkId,
}

/// Agent to master to framework: an executor exited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitedExecutor {
    /// The agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// Its wait status.
    pub status: i32,
}

/// Master to agent: the resources to checkpoint (after RESERVE, CREATE ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointResources {
    /// The complete set of checkpointed resources.
    pub resources: Resources,
}

/// Master to agent, after the `CheckpointResources` that carried it: an offer operation
/// applied to the agent's resources, as GET_OPERATIONS shows it (a meso message: Mesos's
/// agents learn operations from `ApplyOperationMessage`, which meso does not use).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationApplied {
    /// The operation and its status.
    #[serde(with = "super::as_json")]
    pub record: crate::v1::operation_book::OperationRecord,
}

/// Master to agent: shut down (e.g. the agent was removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownAgent {
    /// Why.
    pub message: String,
}

/// Master to agent: drain (Mesos's `DrainSlaveMessage`). The agent checkpoints the drain,
/// kills every task with its kill grace period bounded by `max_grace_period_ns`, and forgets
/// the drain once nothing runs any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainAgent {
    /// The longest kill grace period a task gets (`None`: the task's own).
    pub max_grace_period_ns: Option<i64>,
    /// The master marks the agent gone once drained.
    pub mark_gone: bool,
}

impl DrainAgent {
    /// The kill policy a draining task gets: its own grace period bounded by
    /// `max_grace_period_ns` (the bound itself when the task has none); `None` (the task's
    /// own policy) without a bound.
    pub fn kill_policy_for(
        &self,
        own: Option<&crate::v1::KillPolicy>,
    ) -> Option<crate::v1::KillPolicy> {
        let max_ns = self.max_grace_period_ns?;
        let own_ns = own.and_then(|p| p.grace_period).map(|g| g.nanoseconds);
        let grace = own_ns.map_or(max_ns, |own| own.min(max_ns));
        Some(crate::v1::KillPolicy {
            grace_period: Some(crate::v1::DurationInfo { nanoseconds: grace }),
        })
    }
}

/// Agent to master: the agent's revocable (oversubscribed) resources, allocated and free,
/// from its resource estimator. Mesos's `UpdateSlaveMessage` with
/// `update_oversubscribed_resources` set; the agent's other resources are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOversubscribedResources {
    /// The agent.
    pub agent_id: AgentId,
    /// The new revocable total (every entry revocable; empty: none).
    pub oversubscribed_resources: Resources,
}
