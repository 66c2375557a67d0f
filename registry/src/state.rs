//! [`Registry`]: the durable part of the master's state as a deterministic state machine.
//!
//! Invariants: an agent id is in at most one of `admitted`, `unreachable` and `gone`;
//! every stored framework record's info carries its own id; weights are finite and
//! positive; quotas have guarantees no larger than limits. `apply` checks everything
//! before it changes anything, so a refused operation leaves the registry as it was.

use super::agent_controls::AgentControls;
use super::error::RegistryError;
use super::maintenance::Machines;
use super::operation::{FrameworkRecord, Operation, QuotaRecord};
use meso_api::v1::{AgentId, AgentInfo, FrameworkId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The registry: agents admitted, unreachable (with time) and gone (with time),
/// the maintenance schedule, quotas, weights and frameworks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    pub(super) admitted: BTreeMap<AgentId, StoredAgent>,
    pub(super) unreachable: BTreeMap<AgentId, u64>,
    pub(super) gone: BTreeMap<AgentId, u64>,
    pub(super) maintenance: Machines,
    pub(super) quotas: BTreeMap<String, QuotaRecord>,
    pub(super) weights: BTreeMap<String, f64>,
    pub(super) frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
    pub(super) agent_controls: AgentControls,
    /// The services framework's records by key (opaque bytes).
    pub(super) services: BTreeMap<String, Vec<u8>>,
}

/// An admitted agent's info, stored as JSON inside the binary snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredAgent(#[serde(with = "meso_api::wire::as_json")] pub AgentInfo);

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one operation, or refuses it (changing nothing).
    pub fn apply(&mut self, op: &Operation) -> Result<(), RegistryError> {
        match op {
            Operation::AdmitAgent(info) => {
                let id = agent_id(info)?;
                self.refuse_if_known(id)?;
                self.admitted.insert(id.clone(), StoredAgent(info.clone()));
            }
            Operation::MarkUnreachable { agent, at_ms } => {
                if self.admitted.remove(agent).is_none() {
                    return Err(RegistryError::AgentNotAdmitted(agent.clone()));
                }
                self.unreachable.insert(agent.clone(), *at_ms);
            }
            Operation::MarkReachable(info) => {
                let id = agent_id(info)?;
                if self.unreachable.remove(id).is_none() {
                    return Err(RegistryError::AgentNotUnreachable(id.clone()));
                }
                self.admitted.insert(id.clone(), StoredAgent(info.clone()));
            }
            Operation::MarkGone { agent, at_ms } => {
                if self.gone.contains_key(agent) {
                    return Err(RegistryError::AgentGone(agent.clone()));
                }
                let known = self.admitted.remove(agent).is_some()
                    || self.unreachable.remove(agent).is_some();
                if !known {
                    return Err(RegistryError::AgentUnknown(agent.clone()));
                }
                self.gone.insert(agent.clone(), *at_ms);
                self.agent_controls.forget(agent);
            }
            Operation::RemoveAgent(agent) => {
                if self.admitted.remove(agent).is_none() {
                    return Err(RegistryError::AgentNotAdmitted(agent.clone()));
                }
                self.agent_controls.forget(agent);
            }
            Operation::Gc {
                now_ms,
                max_age_ms,
                max_count,
            } => {
                let max_count = usize::try_from(*max_count).map_err(|_| {
                    RegistryError::InvalidGc(format!("max_count {max_count} is too large"))
                })?;
                let oldest_kept = now_ms.saturating_sub(*max_age_ms);
                gc_list(&mut self.unreachable, oldest_kept, max_count);
                gc_list(&mut self.gone, oldest_kept, max_count);
            }
            Operation::SetQuota { role, quota } => {
                validate_role(role)?;
                validate_quota(role, quota)?;
                if quota.guarantees.is_empty() && quota.limits.is_empty() {
                    self.quotas.remove(role);
                } else {
                    self.quotas.insert(role.clone(), quota.clone());
                }
            }
            Operation::UpdateQuotas(quotas) => {
                for (role, quota) in quotas {
                    validate_role(role)?;
                    validate_quota(role, quota)?;
                }
                for (role, quota) in quotas {
                    if quota.guarantees.is_empty() && quota.limits.is_empty() {
                        self.quotas.remove(role);
                    } else {
                        self.quotas.insert(role.clone(), quota.clone());
                    }
                }
            }
            Operation::SetWeights(weights) => {
                for (role, weight) in weights {
                    validate_role(role)?;
                    if !weight.is_finite() || *weight <= 0.0 {
                        return Err(RegistryError::InvalidWeight {
                            role: role.clone(),
                            weight: weight.to_string(),
                        });
                    }
                }
                for (role, weight) in weights {
                    if *weight == 1.0 {
                        self.weights.remove(role);
                    } else {
                        self.weights.insert(role.clone(), *weight);
                    }
                }
            }
            Operation::UpdateMaintenance(windows) => self
                .maintenance
                .update_schedule(windows.clone())
                .map_err(RegistryError::InvalidMaintenance)?,
            Operation::StartMaintenance(machines) => self
                .maintenance
                .start(machines)
                .map_err(RegistryError::InvalidMaintenance)?,
            Operation::StopMaintenance(machines) => self
                .maintenance
                .stop(machines)
                .map_err(RegistryError::InvalidMaintenance)?,
            Operation::DrainAgent { agent, config } => {
                self.refuse_unless_known(agent)?;
                self.agent_controls
                    .drain_agent(agent, *config)
                    .map_err(|reason| RegistryError::InvalidAgentControl(agent.clone(), reason))?;
            }
            Operation::MarkAgentDrained(agent) => self
                .agent_controls
                .mark_drained(agent)
                .map_err(|reason| RegistryError::InvalidAgentControl(agent.clone(), reason))?,
            Operation::DeactivateAgent(agent) => {
                self.refuse_unless_known(agent)?;
                self.agent_controls.deactivate(agent);
            }
            Operation::ReactivateAgent(agent) => self
                .agent_controls
                .reactivate(agent)
                .map_err(|reason| RegistryError::InvalidAgentControl(agent.clone(), reason))?,
            Operation::AddFramework(record) => {
                validate_framework(record)?;
                if self.frameworks.contains_key(&record.id) {
                    return Err(RegistryError::FrameworkAlreadyRegistered(record.id.clone()));
                }
                self.frameworks.insert(record.id.clone(), record.clone());
            }
            Operation::UpdateFramework(record) => {
                validate_framework(record)?;
                match self.frameworks.get_mut(&record.id) {
                    Some(stored) => *stored = record.clone(),
                    None => return Err(RegistryError::FrameworkUnknown(record.id.clone())),
                }
            }
            Operation::RemoveFramework(id) => {
                if self.frameworks.remove(id).is_none() {
                    return Err(RegistryError::FrameworkUnknown(id.clone()));
                }
            }
            Operation::UpdateAgentInfo(info) => {
                let id = agent_id(info)?;
                match self.admitted.get_mut(id) {
                    Some(stored) => *stored = StoredAgent(info.clone()),
                    None => return Err(RegistryError::AgentNotAdmitted(id.clone())),
                }
            }
            Operation::PutServices(writes) => {
                for (key, value) in writes {
                    match value {
                        Some(bytes) => self.services.insert(key.clone(), bytes.clone()),
                        None => self.services.remove(key),
                    };
                }
            }
            Operation::Prune { unreachable, gone } => {
                for id in unreachable {
                    self.unreachable.remove(id);
                }
                for id in gone {
                    self.gone.remove(id);
                }
            }
        }
        Ok(())
    }

    fn refuse_unless_known(&self, id: &AgentId) -> Result<(), RegistryError> {
        if self.admitted.contains_key(id) || self.unreachable.contains_key(id) {
            Ok(())
        } else {
            Err(RegistryError::AgentUnknown(id.clone()))
        }
    }

    fn refuse_if_known(&self, id: &AgentId) -> Result<(), RegistryError> {
        if self.admitted.contains_key(id) {
            Err(RegistryError::AgentAlreadyAdmitted(id.clone()))
        } else if self.unreachable.contains_key(id) {
            Err(RegistryError::AgentUnreachable(id.clone()))
        } else if self.gone.contains_key(id) {
            Err(RegistryError::AgentGone(id.clone()))
        } else {
            Ok(())
        }
    }

    /// Admitted agents by id.
    pub fn admitted(&self) -> impl Iterator<Item = (&AgentId, &AgentInfo)> {
        self.admitted.iter().map(|(id, a)| (id, &a.0))
    }

    /// The admitted agent with this id.
    pub fn admitted_agent(&self, id: &AgentId) -> Option<&AgentInfo> {
        self.admitted.get(id).map(|a| &a.0)
    }

    /// Unreachable agents and since when (ms since the Unix epoch).
    pub fn unreachable(&self) -> &BTreeMap<AgentId, u64> {
        &self.unreachable
    }

    /// Gone agents and since when (ms since the Unix epoch).
    pub fn gone(&self) -> &BTreeMap<AgentId, u64> {
        &self.gone
    }

    /// The maintenance schedule and the machines' modes.
    pub fn maintenance(&self) -> &Machines {
        &self.maintenance
    }

    /// Deactivated and draining agents.
    pub fn agent_controls(&self) -> &AgentControls {
        &self.agent_controls
    }

    /// Quotas by role.
    pub fn quotas(&self) -> &BTreeMap<String, QuotaRecord> {
        &self.quotas
    }

    /// Weights other than the default 1.0, by role.
    pub fn weights(&self) -> &BTreeMap<String, f64> {
        &self.weights
    }

    /// Recorded frameworks by id.
    pub fn frameworks(&self) -> &BTreeMap<FrameworkId, FrameworkRecord> {
        &self.frameworks
    }

    /// The services framework's records by key.
    pub fn services(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.services
    }

    /// Checks the invariants of a registry read from elsewhere (a snapshot).
    pub(super) fn check(&self) -> Result<(), RegistryError> {
        let corrupt = |what: String| Err(RegistryError::CorruptSnapshot(what));
        for (id, agent) in &self.admitted {
            if agent.0.id.as_ref() != Some(id) {
                return corrupt(format!(
                    "admitted agent {id} stored with info id {:?}",
                    agent.0.id
                ));
            }
            if self.unreachable.contains_key(id) || self.gone.contains_key(id) {
                return corrupt(format!("agent {id} is in more than one list"));
            }
        }
        if let Some(id) = self
            .unreachable
            .keys()
            .find(|id| self.gone.contains_key(*id))
        {
            return corrupt(format!("agent {id} is both unreachable and gone"));
        }
        for (id, record) in &self.frameworks {
            if &record.id != id {
                return corrupt(format!("framework {} stored under {id}", record.id));
            }
            validate_framework(record)?;
        }
        for (role, quota) in &self.quotas {
            validate_quota(role, quota)?;
        }
        for (role, weight) in &self.weights {
            if !weight.is_finite() || *weight <= 0.0 {
                return corrupt(format!("weight {weight} for role {role:?}"));
            }
        }
        self.maintenance
            .check()
            .map_err(RegistryError::CorruptSnapshot)?;
        self.agent_controls
            .check()
            .map_err(RegistryError::CorruptSnapshot)
    }
}

fn agent_id(info: &AgentInfo) -> Result<&AgentId, RegistryError> {
    info.id
        .as_ref()
        .ok_or_else(|| RegistryError::AgentWithoutId {
            hostname: info.hostname.clone(),
        })
}

/// Drops entries older than `oldest_kept`, then the oldest (ties by id) beyond `max_count`.
fn gc_list(list: &mut BTreeMap<AgentId, u64>, oldest_kept: u64, max_count: usize) {
    for id in select_prunable(list, oldest_kept, max_count) {
        list.remove(&id);
    }
}

/// The agents of a departed list (id to the time, in ms, it became unreachable or gone) that
/// registry GC forgets (Mesos's `doRegistryGc`): every agent that departed before
/// `now_ms - max_age_ms`, then the oldest of the rest until at most `max_count` remain.
/// Oldest first; ties broken by id, so every replica and the master choose alike.
pub fn prune_candidates(
    list: &BTreeMap<AgentId, u64>,
    now_ms: u64,
    max_age_ms: u64,
    max_count: usize,
) -> Vec<AgentId> {
    select_prunable(list, now_ms.saturating_sub(max_age_ms), max_count)
}

fn select_prunable(
    list: &BTreeMap<AgentId, u64>,
    oldest_kept: u64,
    max_count: usize,
) -> Vec<AgentId> {
    let mut by_age: Vec<(u64, &AgentId)> = list.iter().map(|(id, at)| (*at, id)).collect();
    by_age.sort();
    let too_old = by_age.partition_point(|(at, _)| *at < oldest_kept);
    let excess = list.len().saturating_sub(max_count);
    by_age
        .into_iter()
        .take(too_old.max(excess))
        .map(|(_, id)| id.clone())
        .collect()
}

fn validate_role(role: &str) -> Result<(), RegistryError> {
    meso_api::roles::validate_role(role).map_err(|e| RegistryError::InvalidRole {
        role: role.to_string(),
        reason: e.to_string(),
    })
}

fn validate_quota(role: &str, quota: &QuotaRecord) -> Result<(), RegistryError> {
    let invalid = |reason: String| {
        Err(RegistryError::InvalidQuota {
            role: role.to_string(),
            reason,
        })
    };
    for (name, amount) in quota.guarantees.iter().chain(&quota.limits) {
        if name.is_empty() {
            return invalid("empty resource name".to_string());
        }
        if *amount < 0 {
            return invalid(format!("{name}: {amount} thousandths is negative"));
        }
    }
    for (name, guarantee) in &quota.guarantees {
        if let Some(limit) = quota.limits.get(name) {
            if guarantee > limit {
                return invalid(format!(
                    "guarantee {name}: {guarantee} exceeds limit {name}: {limit} (thousandths)"
                ));
            }
        }
    }
    Ok(())
}

fn validate_framework(record: &FrameworkRecord) -> Result<(), RegistryError> {
    if record.info.id.as_ref() != Some(&record.id) {
        return Err(RegistryError::FrameworkIdMismatch {
            expected: record.id.clone(),
            found: record.info.id.clone(),
        });
    }
    let t = record.info.failover_timeout;
    if !t.is_finite() || t < 0.0 {
        return Err(RegistryError::InvalidFailoverTimeout {
            framework: record.id.clone(),
            seconds: t.to_string(),
        });
    }
    Ok(())
}
