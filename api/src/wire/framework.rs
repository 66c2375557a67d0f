//! Master and framework drivers: registration, offers, launches, reconciliation, messages.

use serde::{Deserialize, Serialize};

use crate::v1::scheduler::Call;
use crate::v1::{
    AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, InverseOffer, MasterInfo, Offer,
    OfferId, TaskInfo, TaskStatus,
};

/// Driver to master: register a new framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterFramework {
    /// The framework (without id).
    #[serde(with = "super::as_json")]
    pub framework: FrameworkInfo,
}

/// Driver to master: register again (after a master or scheduler failover).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReregisterFramework {
    /// The framework (with its id).
    #[serde(with = "super::as_json")]
    pub framework: FrameworkInfo,
    /// True when a new scheduler instance takes over.
    pub failover: bool,
}

/// Master to driver: registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRegistered {
    /// The assigned id.
    pub framework_id: FrameworkId,
    /// The leading master.
    #[serde(with = "super::as_json")]
    pub master_info: MasterInfo,
}

/// Master to driver: reregistered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkReregistered {
    /// The framework's id.
    pub framework_id: FrameworkId,
    /// The leading master.
    #[serde(with = "super::as_json")]
    pub master_info: MasterInfo,
}

/// Master to driver: a fatal error (e.g. invalid subscription); the framework is removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkError {
    /// What went wrong.
    pub message: String,
}

/// Driver to master: tear the framework down (TEARDOWN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnregisterFramework {
    /// The framework.
    pub framework_id: FrameworkId,
}

/// Driver to master: stop (the scheduler is going away but may fail over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivateFramework {
    /// The framework.
    pub framework_id: FrameworkId,
}

/// Master to driver: new offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceOffers {
    /// The offers.
    #[serde(with = "super::as_json")]
    pub offers: Vec<Offer>,
    /// For each offer, the agent's PID.
    pub pids: Vec<String>,
}

/// Master to driver: an offer is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescindResourceOffer {
    /// The offer.
    pub offer_id: OfferId,
}

/// Master to driver: inverse offers, asking for an agent's resources back before its
/// machine's maintenance (Mesos carries them inside `ResourceOffersMessage`; meso sends
/// them on their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InverseOffers {
    /// The inverse offers.
    #[serde(with = "super::as_json")]
    pub inverse_offers: Vec<InverseOffer>,
}

/// Master to driver: an inverse offer is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescindInverseOffer {
    /// The inverse offer.
    pub inverse_offer_id: OfferId,
}

/// Driver to master: accept offers by launching tasks, or decline them with no tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTasks {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The offers used (all on one agent).
    pub offer_ids: Vec<OfferId>,
    /// Tasks to launch; empty declines the offers.
    #[serde(with = "super::as_json")]
    pub tasks: Vec<TaskInfo>,
    /// Filters for the unused resources.
    #[serde(with = "super::as_json")]
    pub filters: Filters,
}

/// Driver to master: clear filters and resume offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviveOffers {
    /// The framework.
    pub framework_id: FrameworkId,
    /// Roles (empty means all).
    pub roles: Vec<String>,
}

/// Driver to master: reconcile tasks (empty `statuses` means all, implicitly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileTasks {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The tasks and the states the framework believes.
    #[serde(with = "super::as_json")]
    pub statuses: Vec<TaskStatus>,
}

/// Master to driver: an agent was lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostAgent {
    /// The agent.
    pub agent_id: AgentId,
}

/// Framework to executor (through master and agent): an opaque message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkToExecutor {
    /// The agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// The payload.
    pub data: Vec<u8>,
}

/// Executor to framework (through agent and master): an opaque message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorToFramework {
    /// The agent.
    pub agent_id: AgentId,
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// The payload.
    pub data: Vec<u8>,
}

/// Driver to master: any v1 scheduler call (ACCEPT with operations, DECLINE, KILL,
/// ACKNOWLEDGE, RECONCILE, SUPPRESS ...), as Mesos's drivers send `mesos.scheduler.Call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerCall {
    /// The call.
    #[serde(with = "super::as_json")]
    pub call: Call,
}
