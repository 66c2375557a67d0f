//! [`Operation`]: every change the registry accepts, and the plain records it stores.
//!
//! Operations carry everything they need, including the time (`*_ms` fields are
//! milliseconds since the Unix epoch, chosen by the master that proposes them), so applying
//! one is a pure function of the registry and the operation: every replica that applies the
//! same operations in the same order holds the same registry. Operations are encoded with
//! postcard to travel in the replicated log; v1 values inside them travel as compact JSON.

use super::agent_controls::DrainConfig;
use super::maintenance::{MachineId, MaintenanceWindow};
use meso_api::v1::{AgentId, AgentInfo, FrameworkId, FrameworkInfo};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One change to the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operation {
    /// Admits a new agent (Mesos's `AdmitSlave`). Refused if the agent is admitted,
    /// unreachable or gone, or has no id.
    AdmitAgent(#[serde(with = "meso_api::wire::as_json")] AgentInfo),
    /// Moves an admitted agent to the unreachable list (`MarkSlaveUnreachable`).
    MarkUnreachable {
        /// The agent.
        agent: AgentId,
        /// When it was found unreachable.
        at_ms: u64,
    },
    /// Moves an unreachable agent back to the admitted list with its current info
    /// (`MarkSlaveReachable`).
    MarkReachable(#[serde(with = "meso_api::wire::as_json")] AgentInfo),
    /// Marks an admitted or unreachable agent gone for good (`MarkAgentGone`).
    MarkGone {
        /// The agent.
        agent: AgentId,
        /// When the operator marked it gone.
        at_ms: u64,
    },
    /// Removes an admitted agent that shut down cleanly (`RemoveSlave`).
    RemoveAgent(AgentId),
    /// Garbage-collects the unreachable and gone lists (`PruneUnreachable`, Mesos's
    /// `--registry_max_agent_age` and `--registry_max_agent_count`): entries older than
    /// `now_ms - max_age_ms` go, then the oldest go until each list holds at most
    /// `max_count`.
    Gc {
        /// The proposer's clock.
        now_ms: u64,
        /// Oldest entry kept.
        max_age_ms: u64,
        /// Most entries kept per list.
        max_count: u64,
    },
    /// Sets a role's quota; a quota with no guarantees and no limits removes it.
    SetQuota {
        /// The role.
        role: String,
        /// Guarantees and limits.
        quota: QuotaRecord,
    },
    /// Sets the quotas of several roles at once, all or nothing (Mesos 1.9+'s
    /// `UpdateQuota` with several `QuotaConfig`s); an empty quota removes the role's.
    UpdateQuotas(BTreeMap<String, QuotaRecord>),
    /// Sets role weights (roles not named keep theirs; weight 1.0 is the default and is
    /// stored as absent).
    SetWeights(BTreeMap<String, f64>),
    /// Replaces the maintenance schedule (Mesos's `UpdateSchedule`): refused if it is
    /// malformed or leaves out a DOWN machine.
    UpdateMaintenance(Vec<MaintenanceWindow>),
    /// Records a framework so its failover timeout survives a master failover
    /// (MESOS-4659).
    AddFramework(FrameworkRecord),
    /// Replaces a recorded framework's info.
    UpdateFramework(FrameworkRecord),
    /// Forgets a framework (torn down, or its failover timeout expired).
    RemoveFramework(FrameworkId),
    /// Takes scheduled DRAINING machines DOWN (`StartMaintenance`).
    StartMaintenance(Vec<MachineId>),
    /// Brings DOWN machines UP and out of the schedule (`StopMaintenance`).
    StopMaintenance(Vec<MachineId>),
    /// Deactivates an admitted or unreachable agent and starts draining it (`DrainAgent`).
    DrainAgent {
        /// The agent.
        agent: AgentId,
        /// How.
        config: DrainConfig,
    },
    /// A DRAINING agent runs nothing any more (`MarkAgentDrained`).
    MarkAgentDrained(AgentId),
    /// Deactivates an admitted or unreachable agent (`DeactivateAgent`).
    DeactivateAgent(AgentId),
    /// Reactivates a deactivated agent that is not DRAINING (`ReactivateAgent`).
    ReactivateAgent(AgentId),
    /// Replaces an admitted agent's info after an online change of its resources or
    /// attributes (meso's UPDATE_AGENT; not in Mesos). Refused unless the agent is admitted.
    UpdateAgentInfo(#[serde(with = "meso_api::wire::as_json")] AgentInfo),
    /// Writes the services framework's records (`meso-services`: apps, instances,
    /// deployments), all or nothing: each key gets its new bytes, `None` removes it. The
    /// registry keeps them opaque; only the services framework reads them.
    PutServices(Vec<(String, Option<Vec<u8>>)>),
    /// Forgets the named unreachable and gone agents (Mesos's `Prune`, proposed by the
    /// master's registry GC, which chose them with [`crate::prune_candidates`]). Ids no
    /// longer in their list (an unreachable agent that came back meanwhile) are skipped, so
    /// it always applies. Appended last: postcard numbers variants by position, and logs
    /// written before it must still decode.
    Prune {
        /// Unreachable agents to forget.
        unreachable: Vec<AgentId>,
        /// Gone agents to forget.
        gone: Vec<AgentId>,
    },
}

/// A framework as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRecord {
    /// The framework's id (also the key).
    pub id: FrameworkId,
    /// Its info, including `failover_timeout` in seconds.
    #[serde(with = "meso_api::wire::as_json")]
    pub info: FrameworkInfo,
}

/// A role's quota: amounts per resource name, in thousandths (`cpus: 1500` is 1.5 CPUs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaRecord {
    /// Set aside for the role.
    pub guarantees: BTreeMap<String, i64>,
    /// Most the role may consume.
    pub limits: BTreeMap<String, i64>,
}

/// What an operation did, for the proposer.
pub type OperationResult = Result<(), super::RegistryError>;
