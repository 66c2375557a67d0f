//! [`RegistryError`]: why an operation on the registry was refused. Every variant names the
//! agent, framework, role or value at fault. A refused operation changes nothing.

use meso_api::v1::{AgentId, FrameworkId};

/// Why the registry refused an operation, or why a snapshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum RegistryError {
    /// The agent info carries no id; the registry keys agents by id.
    #[error("agent on host {hostname:?} has no id")]
    AgentWithoutId {
        /// The agent's hostname.
        hostname: String,
    },
    /// The agent is already admitted.
    #[error("agent {0} is already admitted")]
    AgentAlreadyAdmitted(AgentId),
    /// The agent is unreachable: it comes back with `MarkReachable`, not `Admit`.
    #[error("agent {0} is unreachable; mark it reachable instead of admitting it")]
    AgentUnreachable(AgentId),
    /// The agent was marked gone and may never come back.
    #[error("agent {0} is gone")]
    AgentGone(AgentId),
    /// The agent is not admitted.
    #[error("agent {0} is not admitted")]
    AgentNotAdmitted(AgentId),
    /// The agent is not in the unreachable list.
    #[error("agent {0} is not unreachable")]
    AgentNotUnreachable(AgentId),
    /// The agent is neither admitted nor unreachable.
    #[error("agent {0} is neither admitted nor unreachable")]
    AgentUnknown(AgentId),
    /// A framework with this id is already in the registry.
    #[error("framework {0} is already registered")]
    FrameworkAlreadyRegistered(FrameworkId),
    /// No framework with this id is in the registry.
    #[error("framework {0} is not registered")]
    FrameworkUnknown(FrameworkId),
    /// The framework info's id differs from the id it is stored under.
    #[error("framework info names id {found:?} but is stored as {expected}")]
    FrameworkIdMismatch {
        /// The id the operation names.
        expected: FrameworkId,
        /// The id inside the info.
        found: Option<FrameworkId>,
    },
    /// The failover timeout is negative or not a number.
    #[error(
        "framework {framework}: failover timeout {seconds} s is not a finite non-negative number"
    )]
    InvalidFailoverTimeout {
        /// The framework.
        framework: FrameworkId,
        /// The value given, in seconds.
        seconds: String,
    },
    /// A role name is not valid.
    #[error("role {role:?} is not a valid role name: {reason}")]
    InvalidRole {
        /// The role given.
        role: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A weight is not a finite positive number.
    #[error("weight {weight} for role {role:?} is not a finite positive number")]
    InvalidWeight {
        /// The role.
        role: String,
        /// The weight given.
        weight: String,
    },
    /// A quota amount is negative, or a guarantee exceeds its limit.
    #[error("quota for role {role:?}: {reason}")]
    InvalidQuota {
        /// The role.
        role: String,
        /// What is wrong.
        reason: String,
    },
    /// A maintenance window is malformed or a machine is in two windows.
    #[error("maintenance schedule: {0}")]
    InvalidMaintenance(String),
    /// A deactivation or drain change does not apply to the agent's current state.
    #[error("agent {0}: {1}")]
    InvalidAgentControl(AgentId, String),
    /// A garbage-collection bound is not usable.
    #[error("gc: {0}")]
    InvalidGc(String),
    /// Snapshot bytes could not be decoded.
    #[error("registry snapshot is unreadable: {0}")]
    CorruptSnapshot(String),
}
