//! The durable registry seen from the master: the [`Registrar`] trait and an in-memory
//! implementation. A registrar applies one [`RegistryChange`] at a time and answers through
//! a future, which the master runs with `defer` so the result comes back to it as a message
//! (a replicated implementation answers after the change is durable on a quorum).
//!
//! Invariant of [`InMemoryRegistrar`]: an agent id is in at most one of `admitted`,
//! `unreachable` and `gone`, and a gone id never leaves `gone`; a change that does not apply (e.g. admitting an admitted agent) answers
//! `Ok(false)` and changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use meso_api::v1::{AgentId, AgentInfo, FrameworkId, FrameworkInfo};
use meso_registry::{
    AgentControls, DrainConfig, MachineId, Machines, MaintenanceWindow, QuotaRecord,
};
use parking_lot::Mutex;

/// One change to the durable registry.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryChange {
    /// A new agent (with its assigned id) joins.
    AdmitAgent(AgentInfo),
    /// An agent missed its pings, at the time given (ms since the Unix epoch, the master's
    /// clock); it may come back.
    MarkUnreachable(AgentId, u64),
    /// An unreachable agent re-registered.
    MarkReachable(AgentInfo),
    /// An agent left for good.
    RemoveAgent(AgentId),
    /// The operator marked an admitted or unreachable agent gone (MARK_AGENT_GONE), at the
    /// time given: it may never come back.
    MarkGone(AgentId, u64),
    /// A framework (with its id and failover timeout) registered or re-registered; a
    /// framework already recorded has its info replaced.
    AddFramework(FrameworkInfo),
    /// A framework was torn down or timed out.
    RemoveFramework(FrameworkId),
    /// The operator set role weights (1.0 restores the default).
    UpdateWeights(BTreeMap<String, f64>),
    /// The operator set the quotas of some roles, all or nothing (an empty one removes it).
    UpdateQuotas(BTreeMap<String, QuotaRecord>),
    /// The operator replaced the maintenance schedule.
    UpdateMaintenanceSchedule(Vec<MaintenanceWindow>),
    /// The operator took scheduled machines DOWN.
    StartMaintenance(Vec<MachineId>),
    /// The operator brought DOWN machines UP (and out of the schedule).
    StopMaintenance(Vec<MachineId>),
    /// The operator started draining an agent (which also deactivates it).
    DrainAgent(AgentId, DrainConfig),
    /// A draining agent runs nothing any more.
    MarkAgentDrained(AgentId),
    /// The operator deactivated an agent.
    DeactivateAgent(AgentId),
    /// The operator reactivated an agent.
    ReactivateAgent(AgentId),
    /// An admitted agent's resources or attributes changed online (UPDATE_AGENT, a meso
    /// extension): its info is replaced.
    UpdateAgentInfo(AgentInfo),
    /// Registry GC forgets these unreachable and gone agents (`registry_gc.rs`); ids no
    /// longer in their list are skipped.
    Prune {
        /// Unreachable agents to forget.
        unreachable: Vec<AgentId>,
        /// Gone agents to forget.
        gone: Vec<AgentId>,
    },
}

/// A registrar failure (storage unavailable, aborted); the master treats it as fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registrar failed to apply {change}: {reason}")]
pub struct RegistrarError {
    /// The change, as text.
    pub change: String,
    /// Why.
    pub reason: String,
}

/// What a registrar holds, for recovery and `/master/state`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistrySnapshot {
    /// Admitted agents.
    pub admitted: BTreeMap<AgentId, AgentInfo>,
    /// Unreachable agents, and when each became unreachable (ms since the Unix epoch).
    pub unreachable: BTreeMap<AgentId, u64>,
    /// Agents the operator marked gone, and when.
    pub gone: BTreeMap<AgentId, u64>,
    /// Frameworks (with their failover timeouts).
    pub frameworks: BTreeMap<FrameworkId, FrameworkInfo>,
    /// Role weights other than 1.0.
    pub weights: BTreeMap<String, f64>,
    /// Role quotas.
    pub quotas: BTreeMap<String, QuotaRecord>,
    /// The maintenance schedule and the machines' modes.
    pub machines: Machines,
    /// Deactivated and draining agents.
    pub agent_controls: AgentControls,
}

/// The durable registry. `apply` answers `Ok(true)` when the change took effect,
/// `Ok(false)` when it did not apply to the current registry.
pub trait Registrar: Send + 'static {
    /// Applies one change.
    fn apply(&mut self, change: RegistryChange)
        -> BoxFuture<'static, Result<bool, RegistrarError>>;
    /// The registry as it is now (recovery).
    fn recover(&mut self) -> BoxFuture<'static, Result<RegistrySnapshot, RegistrarError>>;
}

/// A registrar that keeps the registry in memory (lost when the process exits). Clones share
/// the registry, so a test can look inside.
#[derive(Debug, Clone, Default)]
pub struct InMemoryRegistrar {
    state: Arc<Mutex<RegistrySnapshot>>,
}

impl InMemoryRegistrar {
    /// An empty registry.
    pub fn new() -> InMemoryRegistrar {
        InMemoryRegistrar::default()
    }

    /// A copy of the registry.
    pub fn snapshot(&self) -> RegistrySnapshot {
        self.state.lock().clone()
    }

    fn apply_now(&self, change: RegistryChange) -> bool {
        let mut s = self.state.lock();
        match change {
            RegistryChange::AdmitAgent(info) => {
                let Some(id) = info.id.clone() else {
                    return false;
                };
                if s.admitted.contains_key(&id)
                    || s.unreachable.contains_key(&id)
                    || s.gone.contains_key(&id)
                {
                    return false;
                }
                s.admitted.insert(id, info);
                true
            }
            RegistryChange::MarkUnreachable(id, at_ms) => match s.admitted.remove(&id) {
                Some(_) => {
                    s.unreachable.insert(id, at_ms);
                    true
                }
                None => false,
            },
            RegistryChange::MarkReachable(info) => {
                let Some(id) = info.id.clone() else {
                    return false;
                };
                if s.admitted.contains_key(&id) || s.gone.contains_key(&id) {
                    return false;
                }
                s.unreachable.remove(&id);
                s.admitted.insert(id, info);
                true
            }
            RegistryChange::RemoveAgent(id) => {
                s.agent_controls.forget(&id);
                let was = s.admitted.remove(&id).is_some();
                was | s.unreachable.remove(&id).is_some()
            }
            RegistryChange::MarkGone(id, at_ms) => {
                s.agent_controls.forget(&id);
                let known = s.admitted.remove(&id).is_some() | s.unreachable.remove(&id).is_some();
                known && s.gone.insert(id, at_ms).is_none()
            }
            RegistryChange::Prune { unreachable, gone } => {
                for id in &unreachable {
                    s.unreachable.remove(id);
                }
                for id in &gone {
                    s.gone.remove(id);
                }
                true
            }
            RegistryChange::AddFramework(info) => {
                let Some(id) = info.id.clone() else {
                    return false;
                };
                s.frameworks.insert(id, info);
                true
            }
            RegistryChange::RemoveFramework(id) => s.frameworks.remove(&id).is_some(),
            RegistryChange::UpdateWeights(weights) => {
                for (role, w) in weights {
                    if w == 1.0 {
                        s.weights.remove(&role);
                    } else {
                        s.weights.insert(role, w);
                    }
                }
                true
            }
            RegistryChange::UpdateQuotas(quotas) => {
                for (role, q) in quotas {
                    if q.guarantees.is_empty() && q.limits.is_empty() {
                        s.quotas.remove(&role);
                    } else {
                        s.quotas.insert(role, q);
                    }
                }
                true
            }
            RegistryChange::UpdateMaintenanceSchedule(windows) => {
                s.machines.update_schedule(windows).is_ok()
            }
            RegistryChange::StartMaintenance(machines) => s.machines.start(&machines).is_ok(),
            RegistryChange::StopMaintenance(machines) => s.machines.stop(&machines).is_ok(),
            RegistryChange::DrainAgent(id, config) => {
                let known = s.admitted.contains_key(&id) || s.unreachable.contains_key(&id);
                known && s.agent_controls.drain_agent(&id, config).is_ok()
            }
            RegistryChange::MarkAgentDrained(id) => s.agent_controls.mark_drained(&id).is_ok(),
            RegistryChange::DeactivateAgent(id) => {
                let known = s.admitted.contains_key(&id) || s.unreachable.contains_key(&id);
                if known {
                    s.agent_controls.deactivate(&id);
                }
                known
            }
            RegistryChange::ReactivateAgent(id) => s.agent_controls.reactivate(&id).is_ok(),
            RegistryChange::UpdateAgentInfo(info) => {
                let Some(id) = info.id.clone() else {
                    return false;
                };
                match s.admitted.get_mut(&id) {
                    Some(stored) => {
                        *stored = info;
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

impl Registrar for InMemoryRegistrar {
    fn apply(
        &mut self,
        change: RegistryChange,
    ) -> BoxFuture<'static, Result<bool, RegistrarError>> {
        let applied = self.apply_now(change);
        Box::pin(async move { Ok(applied) })
    }

    fn recover(&mut self) -> BoxFuture<'static, Result<RegistrySnapshot, RegistrarError>> {
        let snapshot = self.snapshot();
        Box::pin(async move { Ok(snapshot) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str) -> AgentInfo {
        let mut info = AgentInfo::new("h");
        info.id = Some(AgentId::new(id));
        info
    }

    #[test]
    fn agents_move_between_admitted_and_unreachable() {
        let r = InMemoryRegistrar::new();
        assert!(r.apply_now(RegistryChange::AdmitAgent(agent("a"))));
        assert!(
            !r.apply_now(RegistryChange::AdmitAgent(agent("a"))),
            "admitted once"
        );
        assert!(r.apply_now(RegistryChange::MarkUnreachable(AgentId::new("a"), 7)));
        assert!(!r.apply_now(RegistryChange::MarkUnreachable(AgentId::new("a"), 7)));
        assert!(r.apply_now(RegistryChange::MarkReachable(agent("a"))));
        let s = r.snapshot();
        assert!(s.admitted.contains_key(&AgentId::new("a")) && s.unreachable.is_empty());
        assert!(r.apply_now(RegistryChange::RemoveAgent(AgentId::new("a"))));
        assert_eq!(r.snapshot(), RegistrySnapshot::default());
    }

    #[test]
    fn a_gone_agent_never_comes_back() {
        let r = InMemoryRegistrar::new();
        assert!(r.apply_now(RegistryChange::AdmitAgent(agent("a"))));
        assert!(r.apply_now(RegistryChange::MarkUnreachable(AgentId::new("a"), 7)));
        assert!(r.apply_now(RegistryChange::MarkGone(AgentId::new("a"), 8)));
        assert!(!r.apply_now(RegistryChange::MarkGone(AgentId::new("a"), 8)));
        assert!(!r.apply_now(RegistryChange::MarkReachable(agent("a"))));
        assert!(!r.apply_now(RegistryChange::AdmitAgent(agent("a"))));
        let s = r.snapshot();
        assert!(s.admitted.is_empty() && s.unreachable.is_empty());
        assert_eq!(s.gone.get(&AgentId::new("a")), Some(&8));
    }
}
