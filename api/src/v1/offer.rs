//! Offer, InverseOffer, Filters and Offer.Operation.

use serde::{Deserialize, Serialize};

use super::common::{Unavailability, Url};
use super::ids::{AgentId, ExecutorId, FrameworkId, OfferId, OperationId};
use super::task::{ExecutorInfo, TaskGroupInfo, TaskInfo};
use crate::attributes::Attributes;
use crate::json::{lenient_or_f64, null_as_default};
use crate::resources::Resources;

/// The role an offer's resources are allocated to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AllocationInfo {
    /// The role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Resources on one agent offered to one framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Id (required).
    pub id: OfferId,
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Agent (required).
    pub agent_id: AgentId,
    /// Agent's hostname (required).
    pub hostname: String,
    /// Agent's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Offered resources.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// Agent attributes.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    /// This framework's executors already running on the agent.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub executor_ids: Vec<ExecutorId>,
    /// Planned maintenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailability: Option<Unavailability>,
    /// Role the resources are allocated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
}

/// A request to give resources back (maintenance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InverseOffer {
    /// Id (required).
    pub id: OfferId,
    /// Agent's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// When (required).
    pub unavailability: Unavailability,
    /// Which resources (empty means all).
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
}

fn five() -> f64 {
    5.0
}

/// Filters a framework attaches to a decline or accept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Seconds during which the same resources are not offered again (default 5).
    #[serde(default = "five", deserialize_with = "lenient_or_f64::<_, 5000>")]
    pub refuse_seconds: f64,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            refuse_seconds: five(),
        }
    }
}

mesos_enum!(
    /// Kind of offer operation.
    OperationType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Launch tasks.
        Launch = ("LAUNCH", 1),
        /// Reserve resources.
        Reserve = ("RESERVE", 2),
        /// Unreserve resources.
        Unreserve = ("UNRESERVE", 3),
        /// Create persistent volumes.
        Create = ("CREATE", 4),
        /// Destroy persistent volumes.
        Destroy = ("DESTROY", 5),
        /// Launch a task group.
        LaunchGroup = ("LAUNCH_GROUP", 6),
        /// Grow a volume.
        GrowVolume = ("GROW_VOLUME", 11),
        /// Shrink a volume.
        ShrinkVolume = ("SHRINK_VOLUME", 12),
        /// Create a disk.
        CreateDisk = ("CREATE_DISK", 13),
        /// Destroy a disk.
        DestroyDisk = ("DESTROY_DISK", 14),
    }
);

/// LAUNCH payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Launch {
    /// Tasks.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub task_infos: Vec<TaskInfo>,
}

/// LAUNCH_GROUP payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    /// The default executor (required).
    pub executor: ExecutorInfo,
    /// The tasks (required).
    pub task_group: TaskGroupInfo,
}

/// RESERVE payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reserve {
    /// Resources before the reservation (post-refinement operations).
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub source: Resources,
    /// Resources with the reservation.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
}

/// UNRESERVE payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Unreserve {
    /// Reserved resources to release.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
}

/// CREATE and DESTROY payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Volumes {
    /// Persistent volumes.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub volumes: Resources,
}

/// GROW_VOLUME payload: the volume and the reserved disk of the same shape added to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowVolume {
    /// The persistent volume to grow.
    pub volume: crate::resources::Resource,
    /// Disk of the volume's reservation (without persistence) to add.
    pub addition: crate::resources::Resource,
}

/// A bare scalar, `{"value": 1.5}` (Mesos's `Value.Scalar`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalarValue {
    /// The amount.
    pub value: f64,
}

/// SHRINK_VOLUME payload: the volume and how much disk to give back from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkVolume {
    /// The persistent volume to shrink.
    pub volume: crate::resources::Resource,
    /// How much to take off it.
    pub subtract: ScalarValue,
}

/// One operation on offered resources: `{"type": T, "id"?, "<payload>": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: OperationType,
    /// Set to ask for operation status feedback (not for LAUNCH/LAUNCH_GROUP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<OperationId>,
    /// LAUNCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// LAUNCH_GROUP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    /// RESERVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<Reserve>,
    /// UNRESERVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve: Option<Unreserve>,
    /// CREATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Volumes>,
    /// DESTROY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy: Option<Volumes>,
    /// GROW_VOLUME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_volume: Option<GrowVolume>,
    /// SHRINK_VOLUME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_volume: Option<ShrinkVolume>,
}

impl Operation {
    fn empty(kind: OperationType) -> Self {
        Operation {
            kind,
            id: None,
            launch: None,
            launch_group: None,
            reserve: None,
            unreserve: None,
            create: None,
            destroy: None,
            grow_volume: None,
            shrink_volume: None,
        }
    }

    /// LAUNCH of `tasks`.
    pub fn launch(tasks: Vec<TaskInfo>) -> Self {
        Operation {
            launch: Some(Launch { task_infos: tasks }),
            ..Operation::empty(OperationType::Launch)
        }
    }

    /// LAUNCH_GROUP.
    pub fn launch_group(executor: ExecutorInfo, task_group: TaskGroupInfo) -> Self {
        Operation {
            launch_group: Some(LaunchGroup {
                executor,
                task_group,
            }),
            ..Operation::empty(OperationType::LaunchGroup)
        }
    }

    /// RESERVE of `resources` (which carry the new reservation).
    pub fn reserve(resources: Resources) -> Self {
        Operation {
            reserve: Some(Reserve {
                source: Resources::new(),
                resources,
            }),
            ..Operation::empty(OperationType::Reserve)
        }
    }

    /// UNRESERVE.
    pub fn unreserve(resources: Resources) -> Self {
        Operation {
            unreserve: Some(Unreserve { resources }),
            ..Operation::empty(OperationType::Unreserve)
        }
    }

    /// CREATE of persistent volumes.
    pub fn create(volumes: Resources) -> Self {
        Operation {
            create: Some(Volumes { volumes }),
            ..Operation::empty(OperationType::Create)
        }
    }

    /// DESTROY of persistent volumes.
    pub fn destroy(volumes: Resources) -> Self {
        Operation {
            destroy: Some(Volumes { volumes }),
            ..Operation::empty(OperationType::Destroy)
        }
    }

    /// GROW_VOLUME of `volume` by `addition`.
    pub fn grow_volume(
        volume: crate::resources::Resource,
        addition: crate::resources::Resource,
    ) -> Self {
        Operation {
            grow_volume: Some(GrowVolume { volume, addition }),
            ..Operation::empty(OperationType::GrowVolume)
        }
    }

    /// SHRINK_VOLUME of `volume` by `subtract`.
    pub fn shrink_volume(volume: crate::resources::Resource, subtract: f64) -> Self {
        Operation {
            shrink_volume: Some(ShrinkVolume {
                volume,
                subtract: ScalarValue { value: subtract },
            }),
            ..Operation::empty(OperationType::ShrinkVolume)
        }
    }

    /// Checks that the payload matching `type` is present and that an `id` is not set on
    /// LAUNCH or LAUNCH_GROUP; the error names the operation type.
    pub fn validate(&self) -> crate::Result<()> {
        let fail = |reason: &str| crate::Error::Invalid {
            what: format!("{} operation", self.kind),
            reason: reason.to_string(),
        };
        let has_payload = match self.kind {
            OperationType::Launch => self.launch.is_some(),
            OperationType::LaunchGroup => self.launch_group.is_some(),
            OperationType::Reserve => self.reserve.is_some(),
            OperationType::Unreserve => self.unreserve.is_some(),
            OperationType::Create => self.create.is_some(),
            OperationType::Destroy => self.destroy.is_some(),
            OperationType::GrowVolume => self.grow_volume.is_some(),
            OperationType::ShrinkVolume => self.shrink_volume.is_some(),
            _ => return Err(fail("operation type not supported")),
        };
        if !has_payload {
            return Err(fail("missing the payload for its type"));
        }
        if self.id.is_some()
            && matches!(
                self.kind,
                OperationType::Launch | OperationType::LaunchGroup
            )
        {
            return Err(fail("an 'id' is not allowed on LAUNCH or LAUNCH_GROUP"));
        }
        Ok(())
    }
}

mesos_enum!(
    /// State of an offer operation that asked for feedback.
    OperationState {
        /// The agent cannot report on it.
        Unsupported = ("OPERATION_UNSUPPORTED", 0),
        /// Accepted, not yet applied.
        Pending = ("OPERATION_PENDING", 1),
        /// Applied. Terminal.
        Finished = ("OPERATION_FINISHED", 2),
        /// Failed. Terminal.
        Failed = ("OPERATION_FAILED", 3),
        /// Invalid. Terminal.
        Error = ("OPERATION_ERROR", 4),
        /// Dropped before reaching the agent. Terminal.
        Dropped = ("OPERATION_DROPPED", 5),
        /// Agent unreachable.
        Unreachable = ("OPERATION_UNREACHABLE", 6),
        /// Gone: the operator said so. Terminal.
        GoneByOperator = ("OPERATION_GONE_BY_OPERATOR", 7),
        /// The agent is recovering it.
        Recovering = ("OPERATION_RECOVERING", 8),
        /// Unknown.
        Unknown = ("OPERATION_UNKNOWN", 9),
    }
);

impl OperationState {
    /// True for states an operation never leaves.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OperationState::Finished
                | OperationState::Failed
                | OperationState::Error
                | OperationState::Dropped
                | OperationState::GoneByOperator
        )
    }
}

/// A UUID message (`{"value": <Base64 bytes>}`), as used by OperationStatus.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Uuid {
    /// The 16 raw bytes.
    #[serde(with = "crate::json::base64_bytes")]
    pub value: Vec<u8>,
}

/// Status of an offer operation (the UPDATE_OPERATION_STATUS event's payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationStatus {
    /// The operation, when the framework set an id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<OperationId>,
    /// State (required).
    pub state: OperationState,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Resources after the operation.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub converted_resources: Resources,
    /// Update id: a `UUID` message here, not raw bytes as in TaskStatus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Uuid>,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}
