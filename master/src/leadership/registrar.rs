//! [`RaftRegistrar`]: the master's [`Registrar`] over the Raft-replicated [`Registry`].
//!
//! Each [`RegistryChange`] becomes one registry [`Operation`] proposed to the log; the answer
//! comes once the operation is committed by a quorum and applied here. An operation the
//! registry refuses (e.g. admitting an agent twice) answers `Ok(false)`, as the in-memory
//! registrar does; a log failure (this master lost leadership, the store failed) is a
//! [`RegistrarError`], which the master treats as fatal, so a deposed leader stops acting.
//!
//! A log that momentarily cannot take a proposal (its mailbox is full, raft dropped it) is
//! retried a few times before that counts as a failure.
//!
//! Times in operations (`MarkUnreachable::at_ms`) come with the change, read by the master
//! from its node's wall clock (so a test clock controls them, and the master's departed book
//! in `registry_gc.rs` holds the same value); every replica applies the same value.

use futures::future::BoxFuture;

use crate::master::registrar::{Registrar, RegistrarError, RegistryChange, RegistrySnapshot};
use crate::raftlog::{ProposeError, RaftLog};
use meso_registry::{FrameworkRecord, Operation, Registry, RegistryError};

/// A registrar whose registry is replicated by a [`RaftLog`]. Clones share the log.
#[derive(Clone)]
pub struct RaftRegistrar {
    log: RaftLog<Registry>,
}

impl RaftRegistrar {
    /// A registrar proposing through `log` (this master's node of the replicated log).
    pub fn new(log: RaftLog<Registry>) -> RaftRegistrar {
        RaftRegistrar { log }
    }
}

/// The registry operation for a master's change; `None` when the change cannot apply (a
/// framework without an id).
pub fn operation_for(change: &RegistryChange) -> Option<Operation> {
    Some(match change {
        RegistryChange::AdmitAgent(info) => Operation::AdmitAgent(info.clone()),
        RegistryChange::MarkUnreachable(agent, at_ms) => Operation::MarkUnreachable {
            agent: agent.clone(),
            at_ms: *at_ms,
        },
        RegistryChange::MarkReachable(info) => Operation::MarkReachable(info.clone()),
        RegistryChange::RemoveAgent(agent) => Operation::RemoveAgent(agent.clone()),
        RegistryChange::MarkGone(agent, at_ms) => Operation::MarkGone {
            agent: agent.clone(),
            at_ms: *at_ms,
        },
        RegistryChange::AddFramework(info) => Operation::AddFramework(FrameworkRecord {
            id: info.id.clone()?,
            info: info.clone(),
        }),
        RegistryChange::RemoveFramework(id) => Operation::RemoveFramework(id.clone()),
        RegistryChange::UpdateWeights(weights) => Operation::SetWeights(weights.clone()),
        RegistryChange::UpdateQuotas(quotas) => Operation::UpdateQuotas(quotas.clone()),
        RegistryChange::UpdateMaintenanceSchedule(windows) => {
            Operation::UpdateMaintenance(windows.clone())
        }
        RegistryChange::StartMaintenance(machines) => Operation::StartMaintenance(machines.clone()),
        RegistryChange::StopMaintenance(machines) => Operation::StopMaintenance(machines.clone()),
        RegistryChange::DrainAgent(agent, config) => Operation::DrainAgent {
            agent: agent.clone(),
            config: *config,
        },
        RegistryChange::MarkAgentDrained(agent) => Operation::MarkAgentDrained(agent.clone()),
        RegistryChange::DeactivateAgent(agent) => Operation::DeactivateAgent(agent.clone()),
        RegistryChange::ReactivateAgent(agent) => Operation::ReactivateAgent(agent.clone()),
        RegistryChange::UpdateAgentInfo(info) => Operation::UpdateAgentInfo(info.clone()),
        RegistryChange::Prune { unreachable, gone } => Operation::Prune {
            unreachable: unreachable.clone(),
            gone: gone.clone(),
        },
    })
}

/// The registry as the master recovers it.
pub fn snapshot_of(registry: &Registry) -> RegistrySnapshot {
    RegistrySnapshot {
        admitted: registry
            .admitted()
            .map(|(id, info)| (id.clone(), info.clone()))
            .collect(),
        unreachable: registry.unreachable().clone(),
        gone: registry.gone().clone(),
        frameworks: registry
            .frameworks()
            .iter()
            .map(|(id, record)| (id.clone(), record.info.clone()))
            .collect(),
        weights: registry.weights().clone(),
        quotas: registry.quotas().clone(),
        machines: registry.maintenance().clone(),
        agent_controls: registry.agent_controls().clone(),
    }
}

fn failed(change: &RegistryChange, e: ProposeError) -> RegistrarError {
    RegistrarError {
        change: format!("{change:?}"),
        reason: e.to_string(),
    }
}

/// Attempts of one operation while the log is momentarily unable to take it (mailbox full,
/// raft dropped the proposal); each waits [`RETRY_PAUSE`] after the previous.
const ATTEMPTS: u32 = 50;
/// Pause between two such attempts.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

async fn propose(
    log: &RaftLog<Registry>,
    change: &RegistryChange,
    op: Operation,
) -> Result<Result<(), RegistryError>, RegistrarError> {
    let mut attempt = 1;
    loop {
        match log.propose(op.clone()).await {
            Ok(outcome) => return Ok(outcome),
            Err(ProposeError::Busy(_) | ProposeError::Dropped(_)) if attempt < ATTEMPTS => {
                attempt += 1;
                let clock = log.clock();
                clock.sleep_until(clock.now() + RETRY_PAUSE).await;
            }
            Err(e) => return Err(failed(change, e)),
        }
    }
}

impl Registrar for RaftRegistrar {
    fn apply(
        &mut self,
        change: RegistryChange,
    ) -> BoxFuture<'static, Result<bool, RegistrarError>> {
        let log = self.log.clone();
        Box::pin(async move {
            let Some(op) = operation_for(&change) else {
                return Ok(false);
            };
            let upsert = match &op {
                Operation::AddFramework(record) => Some(record.clone()),
                _ => None,
            };
            match propose(&log, &change, op).await? {
                Ok(()) => Ok(true),
                // A framework re-registering (or registered before a failover) is already
                // recorded: replace its info, which may carry a new failover timeout.
                Err(RegistryError::FrameworkAlreadyRegistered(_)) => match upsert {
                    Some(record) => Ok(propose(&log, &change, Operation::UpdateFramework(record))
                        .await?
                        .is_ok()),
                    None => Ok(false),
                },
                Err(_) => Ok(false),
            }
        })
    }

    fn recover(&mut self) -> BoxFuture<'static, Result<RegistrySnapshot, RegistrarError>> {
        let log = self.log.clone();
        Box::pin(async move {
            log.read(snapshot_of).await.map_err(|e| RegistrarError {
                change: "recover".to_string(),
                reason: e.to_string(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, AgentInfo, FrameworkId, FrameworkInfo};

    fn agent(id: &str) -> AgentInfo {
        let mut info = AgentInfo::new("h");
        info.id = Some(AgentId::new(id));
        info
    }

    #[test]
    fn every_change_maps_to_the_registry_operation_that_applies_it() {
        let mut registry = Registry::new();
        let mut framework = FrameworkInfo::new("alice", "demo");
        framework.id = Some(FrameworkId::new("F-1"));
        framework.failover_timeout = 3600.0;
        let changes = [
            RegistryChange::AdmitAgent(agent("a")),
            RegistryChange::AdmitAgent(agent("b")),
            RegistryChange::AdmitAgent(agent("c")),
            RegistryChange::MarkGone(AgentId::new("c"), 42),
            RegistryChange::MarkUnreachable(AgentId::new("a"), 41),
            RegistryChange::MarkReachable(agent("a")),
            RegistryChange::MarkUnreachable(AgentId::new("a"), 42),
            RegistryChange::RemoveAgent(AgentId::new("b")),
            RegistryChange::AddFramework(framework.clone()),
        ];
        for change in &changes {
            let op = operation_for(change).expect("maps");
            registry
                .apply(&op)
                .unwrap_or_else(|e| panic!("{change:?}: {e}"));
        }
        let s = snapshot_of(&registry);
        assert!(s.admitted.is_empty());
        assert_eq!(
            s.unreachable.iter().collect::<Vec<_>>(),
            [(&AgentId::new("a"), &42)]
        );
        assert_eq!(
            s.gone.iter().collect::<Vec<_>>(),
            [(&AgentId::new("c"), &42)]
        );
        assert_eq!(
            s.frameworks[&FrameworkId::new("F-1")].failover_timeout,
            3600.0
        );
        let quota = meso_registry::QuotaRecord {
            guarantees: [("cpus".to_string(), 2000)].into(),
            limits: [("cpus".to_string(), 4000)].into(),
        };
        for change in [
            RegistryChange::UpdateWeights([("a".to_string(), 2.0)].into()),
            RegistryChange::UpdateQuotas([("a".to_string(), quota.clone())].into()),
        ] {
            let op = operation_for(&change).expect("maps");
            registry.apply(&op).expect("applies");
        }
        let s = snapshot_of(&registry);
        assert_eq!(s.weights.get("a"), Some(&2.0));
        assert_eq!(s.quotas.get("a"), Some(&quota));
        let op = operation_for(&RegistryChange::RemoveFramework(FrameworkId::new("F-1")));
        registry.apply(&op.expect("maps")).expect("removes");
        assert!(snapshot_of(&registry).frameworks.is_empty());
        let prune = RegistryChange::Prune {
            unreachable: vec![AgentId::new("a")],
            gone: vec![AgentId::new("c")],
        };
        registry
            .apply(&operation_for(&prune).expect("maps"))
            .expect("prunes");
        let s = snapshot_of(&registry);
        assert!(s.unreachable.is_empty() && s.gone.is_empty(), "{s:?}");
    }

    #[test]
    fn a_framework_without_an_id_maps_to_nothing() {
        let framework = FrameworkInfo::new("alice", "demo");
        assert_eq!(
            operation_for(&RegistryChange::AddFramework(framework)),
            None
        );
    }
}
