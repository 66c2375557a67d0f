//! TaskState, TaskStatus and its Reason and Source.

use serde::{Deserialize, Serialize};

use super::common::TimeInfo;
use super::ids::{AgentId, ContainerId, ExecutorId, TaskId};
use crate::json::{lenient_enum, opt_lenient};
use crate::labels::Labels;

mesos_enum!(
    /// The state of a task.
    TaskState {
        /// Accepted by the master, not yet running on the agent.
        Staging = ("TASK_STAGING", 6),
        /// The executor is starting it.
        Starting = ("TASK_STARTING", 0),
        /// Running.
        Running = ("TASK_RUNNING", 1),
        /// Being killed (TASK_KILLING_STATE frameworks only).
        Killing = ("TASK_KILLING", 8),
        /// Finished successfully. Terminal.
        Finished = ("TASK_FINISHED", 2),
        /// Failed. Terminal.
        Failed = ("TASK_FAILED", 3),
        /// Killed. Terminal.
        Killed = ("TASK_KILLED", 4),
        /// Invalid task description. Terminal.
        Error = ("TASK_ERROR", 7),
        /// Lost. Terminal in code (may revert when a partitioned agent returns).
        Lost = ("TASK_LOST", 5),
        /// Dropped before launch (PARTITION_AWARE). Terminal.
        Dropped = ("TASK_DROPPED", 9),
        /// Agent unreachable (PARTITION_AWARE). Not terminal.
        Unreachable = ("TASK_UNREACHABLE", 10),
        /// Gone with its agent (PARTITION_AWARE). Terminal.
        Gone = ("TASK_GONE", 11),
        /// Gone: the operator said so (PARTITION_AWARE). Terminal.
        GoneByOperator = ("TASK_GONE_BY_OPERATOR", 12),
        /// Unknown to the master. Not terminal.
        Unknown = ("TASK_UNKNOWN", 13),
    }
);

impl TaskState {
    /// True for states a task never leaves (Mesos's `protobuf::isTerminalState`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Dropped
                | TaskState::Gone
                | TaskState::GoneByOperator
        )
    }
}

mesos_enum!(
    /// Who sent a status update.
    TaskStatusSource {
        /// The master.
        Master = ("SOURCE_MASTER", 0),
        /// The agent.
        Agent = ("SOURCE_AGENT", 1),
        /// The executor.
        Executor = ("SOURCE_EXECUTOR", 2),
    }
);

mesos_enum!(
    /// Why a status update was sent.
    TaskStatusReason {
        /// Command executor failed.
        CommandExecutorFailed = ("REASON_COMMAND_EXECUTOR_FAILED", 0),
        /// Executor terminated.
        ExecutorTerminated = ("REASON_EXECUTOR_TERMINATED", 1),
        /// Executor unregistered.
        ExecutorUnregistered = ("REASON_EXECUTOR_UNREGISTERED", 2),
        /// Framework removed.
        FrameworkRemoved = ("REASON_FRAMEWORK_REMOVED", 3),
        /// Garbage collection error.
        GcError = ("REASON_GC_ERROR", 4),
        /// Invalid framework id.
        InvalidFrameworkId = ("REASON_INVALID_FRAMEWORKID", 5),
        /// Invalid offers.
        InvalidOffers = ("REASON_INVALID_OFFERS", 6),
        /// Master disconnected.
        MasterDisconnected = ("REASON_MASTER_DISCONNECTED", 7),
        /// Memory limit hit.
        ContainerLimitationMemory = ("REASON_CONTAINER_LIMITATION_MEMORY", 8),
        /// Reconciliation.
        Reconciliation = ("REASON_RECONCILIATION", 9),
        /// Agent disconnected.
        AgentDisconnected = ("REASON_AGENT_DISCONNECTED", 10),
        /// Agent removed.
        AgentRemoved = ("REASON_AGENT_REMOVED", 11),
        /// Agent restarted.
        AgentRestarted = ("REASON_AGENT_RESTARTED", 12),
        /// Agent unknown.
        AgentUnknown = ("REASON_AGENT_UNKNOWN", 13),
        /// Task invalid.
        TaskInvalid = ("REASON_TASK_INVALID", 14),
        /// Task unauthorized.
        TaskUnauthorized = ("REASON_TASK_UNAUTHORIZED", 15),
        /// Task unknown.
        TaskUnknown = ("REASON_TASK_UNKNOWN", 16),
        /// Container preempted.
        ContainerPreempted = ("REASON_CONTAINER_PREEMPTED", 17),
        /// Resources unknown.
        ResourcesUnknown = ("REASON_RESOURCES_UNKNOWN", 18),
        /// A container limit hit.
        ContainerLimitation = ("REASON_CONTAINER_LIMITATION", 19),
        /// Disk limit hit.
        ContainerLimitationDisk = ("REASON_CONTAINER_LIMITATION_DISK", 20),
        /// Container launch failed.
        ContainerLaunchFailed = ("REASON_CONTAINER_LAUNCH_FAILED", 21),
        /// Container update failed.
        ContainerUpdateFailed = ("REASON_CONTAINER_UPDATE_FAILED", 22),
        /// Executor did not register in time.
        ExecutorRegistrationTimeout = ("REASON_EXECUTOR_REGISTRATION_TIMEOUT", 23),
        /// Executor did not reregister in time.
        ExecutorReregistrationTimeout = ("REASON_EXECUTOR_REREGISTRATION_TIMEOUT", 24),
        /// Task group invalid.
        TaskGroupInvalid = ("REASON_TASK_GROUP_INVALID", 25),
        /// Task group unauthorized.
        TaskGroupUnauthorized = ("REASON_TASK_GROUP_UNAUTHORIZED", 26),
        /// IO switchboard exited.
        IoSwitchboardExited = ("REASON_IO_SWITCHBOARD_EXITED", 27),
        /// Check status changed.
        TaskCheckStatusUpdated = ("REASON_TASK_CHECK_STATUS_UPDATED", 28),
        /// Health check status changed.
        TaskHealthCheckStatusUpdated = ("REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", 29),
        /// Killed during launch.
        TaskKilledDuringLaunch = ("REASON_TASK_KILLED_DURING_LAUNCH", 30),
        /// Agent removed by the operator.
        AgentRemovedByOperator = ("REASON_AGENT_REMOVED_BY_OPERATOR", 31),
        /// Agent reregistered.
        AgentReregistered = ("REASON_AGENT_REREGISTERED", 32),
        /// Completion deadline reached.
        MaxCompletionTimeReached = ("REASON_MAX_COMPLETION_TIME_REACHED", 33),
        /// Agent draining.
        AgentDraining = ("REASON_AGENT_DRAINING", 34),
        /// meso's own (Mesos says REASON_CONTAINER_LAUNCH_FAILED): fetching one of the
        /// command's URIs failed; the message names the URI and the error.
        FetcherFailed = ("REASON_FETCHER_FAILED", 35),
    }
);

/// One address of a container (Mesos's `NetworkInfo.IPAddress`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpAddress {
    /// The address, e.g. `10.0.0.7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

/// A network a container is on (Mesos's `NetworkInfo`, its addresses and name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// The container's addresses on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<IpAddress>,
    /// The network's name (none for the host's network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl NetworkInfo {
    /// The host's network seen from a container sharing it: the one address `ip`.
    pub fn host(ip: impl Into<String>) -> Self {
        NetworkInfo {
            ip_addresses: vec![IpAddress {
                ip_address: Some(ip.into()),
            }],
            name: None,
        }
    }
}

/// Container details in a status update.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerStatus {
    /// Container id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
    /// The container's networks and addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_infos: Vec<NetworkInfo>,
    /// Executor process id.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub executor_pid: Option<u32>,
}

/// A status update about a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// Task (required).
    pub task_id: TaskId,
    /// State (required).
    pub state: TaskState,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who sent it; an unknown name is dropped.
    #[serde(
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<TaskStatusSource>,
    /// Why; an unknown name is dropped.
    #[serde(
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason: Option<TaskStatusReason>,
    /// Opaque data.
    #[serde(
        default,
        with = "crate::json::opt_base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Vec<u8>>,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Seconds since the epoch.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<f64>,
    /// 16 raw bytes; present means the update must be acknowledged.
    #[serde(
        default,
        with = "crate::json::opt_base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<Vec<u8>>,
    /// Health check result.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub healthy: Option<bool>,
    /// Latest result of the task's general check (set on every update of a task with one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_status: Option<Box<super::checks::CheckStatusInfo>>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Container details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    /// When the agent became unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_time: Option<TimeInfo>,
}

impl TaskStatus {
    /// A status with only the required fields set.
    pub fn new(task_id: TaskId, state: TaskState) -> Self {
        TaskStatus {
            task_id,
            state,
            message: None,
            source: None,
            reason: None,
            data: None,
            agent_id: None,
            executor_id: None,
            timestamp: None,
            uuid: None,
            healthy: None,
            check_status: None,
            labels: None,
            container_status: None,
            unreachable_time: None,
        }
    }
}
