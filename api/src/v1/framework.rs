//! FrameworkInfo, AgentInfo and MasterInfo, with their capabilities.

use serde::{Deserialize, Serialize};

use super::common::Address;
use super::ids::{AgentId, FrameworkId};
use crate::attributes::Attributes;
use crate::json::{
    lenient, lenient_enum, lenient_or_bool, lenient_or_f64, lenient_or_u32, null_as_default,
};
use crate::labels::Labels;
use crate::resources::Resources;

mesos_enum!(
    /// What a framework can handle.
    FrameworkCapabilityType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Accepts revocable resources.
        RevocableResources = ("REVOCABLE_RESOURCES", 1),
        /// Understands TASK_KILLING.
        TaskKillingState = ("TASK_KILLING_STATE", 2),
        /// Accepts GPUs.
        GpuResources = ("GPU_RESOURCES", 3),
        /// Accepts shared resources.
        SharedResources = ("SHARED_RESOURCES", 4),
        /// Understands TASK_UNREACHABLE and friends.
        PartitionAware = ("PARTITION_AWARE", 5),
        /// Subscribes with several roles.
        MultiRole = ("MULTI_ROLE", 6),
        /// Understands the reservation stack.
        ReservationRefinement = ("RESERVATION_REFINEMENT", 7),
        /// Accepts offers from other regions.
        RegionAware = ("REGION_AWARE", 8),
    }
);

/// One framework capability (`{"type": ...}`); an unknown name is dropped as in Mesos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameworkCapability {
    /// The capability.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<FrameworkCapabilityType>,
}

fn zero() -> f64 {
    0.0
}

/// A framework's description of itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    /// User tasks run as (required; may be empty to mean the agent's user).
    pub user: String,
    /// Name (required).
    pub name: String,
    /// Id, once registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FrameworkId>,
    /// Seconds the master waits for a disconnected framework before tearing it down.
    #[serde(default = "zero", deserialize_with = "lenient_or_f64::<_, 0>")]
    pub failover_timeout: f64,
    /// Whether agents checkpoint this framework's tasks.
    #[serde(default, deserialize_with = "lenient_or_bool::<_, false>")]
    pub checkpoint: bool,
    /// Deprecated single role (only written when set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Roles (MULTI_ROLE).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
    /// Hostname of the scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Authentication principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webui_url: Option<String>,
    /// Capabilities.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<FrameworkCapability>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

impl FrameworkInfo {
    /// A framework with the given user and name and Mesos's defaults.
    pub fn new(user: &str, name: &str) -> Self {
        FrameworkInfo {
            user: user.to_string(),
            name: name.to_string(),
            id: None,
            failover_timeout: 0.0,
            checkpoint: false,
            role: None,
            roles: Vec::new(),
            hostname: None,
            principal: None,
            webui_url: None,
            capabilities: Vec::new(),
            labels: None,
        }
    }

    /// True when the framework declared `capability`.
    pub fn has_capability(&self, capability: FrameworkCapabilityType) -> bool {
        self.capabilities.iter().any(|c| c.kind == Some(capability))
    }

    /// The roles the framework subscribes with: `roles` under MULTI_ROLE, otherwise the
    /// legacy `role` (default `*`).
    pub fn effective_roles(&self) -> Vec<String> {
        if self.has_capability(FrameworkCapabilityType::MultiRole) {
            self.roles.clone()
        } else {
            vec![self
                .role
                .clone()
                .unwrap_or_else(|| crate::roles::DEFAULT_ROLE.to_string())]
        }
    }

    /// Mesos's FrameworkInfo validation: a valid id (if any); with MULTI_ROLE, no legacy
    /// `role` and no duplicate `roles`; without it, no `roles`; every role valid; a finite
    /// `failover_timeout`. The error names the framework and the bad value.
    pub fn validate(&self) -> crate::Result<()> {
        let fail = |reason: String| crate::Error::Invalid {
            what: format!("FrameworkInfo '{}'", self.name),
            reason,
        };
        if let Some(id) = &self.id {
            id.validate()?;
        }
        if self.has_capability(FrameworkCapabilityType::MultiRole) {
            if let Some(role) = &self.role {
                return Err(fail(format!(
                    "'role' ('{role}') must not be set by a MULTI_ROLE framework; use 'roles'"
                )));
            }
            let mut seen: Vec<&str> = Vec::with_capacity(self.roles.len());
            for role in &self.roles {
                if seen.contains(&role.as_str()) {
                    return Err(fail(format!("duplicate role '{role}' in 'roles'")));
                }
                seen.push(role);
            }
        } else if !self.roles.is_empty() {
            return Err(fail(
                "'roles' needs the MULTI_ROLE capability; use 'role'".to_string(),
            ));
        }
        for role in self.effective_roles() {
            crate::roles::validate_role(&role)?;
        }
        if !self.failover_timeout.is_finite() {
            return Err(fail(format!(
                "failover_timeout {} is not a valid duration",
                self.failover_timeout
            )));
        }
        Ok(())
    }
}

mesos_enum!(
    /// What an agent can do.
    AgentCapabilityType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Runs tasks of MULTI_ROLE frameworks.
        MultiRole = ("MULTI_ROLE", 1),
        /// Understands hierarchical roles.
        HierarchicalRole = ("HIERARCHICAL_ROLE", 2),
        /// Understands the reservation stack.
        ReservationRefinement = ("RESERVATION_REFINEMENT", 3),
        /// Hosts resource providers.
        ResourceProvider = ("RESOURCE_PROVIDER", 4),
        /// Resizes volumes.
        ResizeVolume = ("RESIZE_VOLUME", 5),
        /// Reports operation feedback.
        AgentOperationFeedback = ("AGENT_OPERATION_FEEDBACK", 6),
        /// Can be drained.
        AgentDraining = ("AGENT_DRAINING", 7),
        /// Enforces task resource limits.
        TaskResourceLimits = ("TASK_RESOURCE_LIMITS", 8),
    }
);

/// One agent capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentCapability {
    /// The capability; an unknown name is dropped.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<AgentCapabilityType>,
}

fn default_agent_port() -> u32 {
    5051
}

/// An agent's description of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Hostname (required).
    pub hostname: String,
    /// Port the agent listens on.
    #[serde(
        default = "default_agent_port",
        deserialize_with = "lenient_or_u32::<_, 5051>"
    )]
    pub port: u32,
    /// Total resources.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// Attributes.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    /// Id, once registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AgentId>,
}

impl AgentInfo {
    /// An agent on `hostname` with Mesos's defaults.
    pub fn new(hostname: &str) -> Self {
        AgentInfo {
            hostname: hostname.to_string(),
            port: default_agent_port(),
            resources: Resources::new(),
            attributes: Attributes::default(),
            id: None,
        }
    }
}

mesos_enum!(
    /// What a master can do.
    MasterCapabilityType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Accepts UpdateSlaveMessage with agent resources.
        AgentUpdate = ("AGENT_UPDATE", 1),
        /// Supports agent draining.
        AgentDraining = ("AGENT_DRAINING", 2),
        /// Quota v2.
        QuotaV2 = ("QUOTA_V2", 3),
    }
);

/// One master capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MasterCapability {
    /// The capability; an unknown name is dropped.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<MasterCapabilityType>,
}

fn default_master_port() -> u32 {
    5050
}

/// The leading master's description of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterInfo {
    /// Master id, a UUID (required).
    pub id: String,
    /// IPv4 address as a 32-bit number (required).
    #[serde(deserialize_with = "lenient")]
    pub ip: u32,
    /// Port (required, default 5050).
    #[serde(
        default = "default_master_port",
        deserialize_with = "lenient_or_u32::<_, 5050>"
    )]
    pub port: u32,
    /// libprocess PID, `master@ip:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Version string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Capabilities.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<MasterCapability>,
}
