//! Kills the master could not deliver: a framework killed a task while its agent was
//! disconnected or unreachable. The master remembers them per agent and, when the agent
//! re-registers still reporting the task non-terminal, sends the KillTask then (as Mesos's
//! `Slave::killedTasks`, which `reconcileKnownSlave` replays; here also for agents that
//! come back from unreachable). Pure bookkeeping.
//!
//! Invariant: an agent's entry is taken out whole when it re-registers, and dropped when it
//! is removed or marked gone, so the book holds only agents that may still return.

use std::collections::{BTreeMap, BTreeSet};

use meso_api::v1::{AgentId, FrameworkId, TaskId};

/// Undelivered kills, by agent.
#[derive(Debug, Default)]
pub struct PendingKills {
    by_agent: BTreeMap<AgentId, BTreeSet<(FrameworkId, TaskId)>>,
}

impl PendingKills {
    /// `framework` killed `task` on `agent`, which cannot be told now.
    pub fn record(&mut self, agent: &AgentId, framework: FrameworkId, task: TaskId) {
        self.by_agent
            .entry(agent.clone())
            .or_default()
            .insert((framework, task));
    }

    /// The kills waiting for `agent` (it re-registered); none are kept.
    pub fn take(&mut self, agent: &AgentId) -> BTreeSet<(FrameworkId, TaskId)> {
        self.by_agent.remove(agent).unwrap_or_default()
    }

    /// Forgets `agent` (removed or gone for good).
    pub fn forget(&mut self, agent: &AgentId) {
        self.by_agent.remove(agent);
    }

    /// Whether any kill waits for `agent`.
    pub fn has(&self, agent: &AgentId) -> bool {
        self.by_agent.contains_key(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_are_taken_once_per_return() {
        let mut kills = PendingKills::default();
        let a = AgentId::new("a");
        kills.record(&a, FrameworkId::new("f"), TaskId::new("t"));
        kills.record(&a, FrameworkId::new("f"), TaskId::new("t"));
        assert!(kills.has(&a));
        assert_eq!(kills.take(&a).len(), 1);
        assert!(kills.take(&a).is_empty());
        kills.record(&a, FrameworkId::new("f"), TaskId::new("u"));
        kills.forget(&a);
        assert!(!kills.has(&a));
    }
}
