//! Registry garbage collection of departed agents (Mesos's `--registry_gc_interval`,
//! `--registry_max_agent_age`, `--registry_max_agent_count`).
//!
//! Without it every agent that ever went unreachable and never came back, and every agent
//! the operator marked gone, stays forever in the registry and in the master's books (its
//! id, its parked unreachable tasks, its pending kills). Every `interval` the master picks
//! the departed agents older than `max_agent_age`, then the oldest beyond
//! `max_agent_count` per list ([`meso_registry::prune_candidates`], the rule the registry's
//! own `Gc` applies), proposes one `Prune` naming them, and once the registry has it
//! forgets them here too. As Mesos: a pruned unreachable agent that returns later is
//! admitted as a new arrival would be, its parked tasks are forgotten without a status
//! update, and a pruned gone agent is no longer refused.
//!
//! [`DepartedAgents`] is the pure book (when each departed agent left); the `impl Master`
//! below is the shell: the timer, the proposal, and the forgetting.

use std::collections::BTreeMap;
use std::time::Duration;

use libprocess::slog::info;
use libprocess::Context;
use meso_api::v1::AgentId;

use super::registrar::RegistryChange;
use super::{Master, MasterMessage};

/// When and how much departed agents are garbage-collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryGcConfig {
    /// Time between two collections (Mesos's default: 15 minutes).
    pub interval: Duration,
    /// Departed agents older than this are forgotten (default: 2 weeks).
    pub max_agent_age: Duration,
    /// Most unreachable, and most gone, agents kept (default: 102,400).
    pub max_agent_count: usize,
}

impl Default for RegistryGcConfig {
    fn default() -> RegistryGcConfig {
        RegistryGcConfig {
            interval: Duration::from_secs(15 * 60),
            max_agent_age: Duration::from_secs(14 * 24 * 3600),
            max_agent_count: 100 * 1024,
        }
    }
}

/// The departed agents and when each left (ms since the Unix epoch), as the registry keeps
/// them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DepartedAgents {
    unreachable: BTreeMap<AgentId, u64>,
    gone: BTreeMap<AgentId, u64>,
}

/// The agents one collection forgets.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Prunable {
    /// Unreachable agents.
    pub unreachable: Vec<AgentId>,
    /// Gone agents.
    pub gone: Vec<AgentId>,
}

impl DepartedAgents {
    /// `agent` became unreachable at `at_ms`.
    pub fn unreachable(&mut self, agent: AgentId, at_ms: u64) {
        self.unreachable.insert(agent, at_ms);
    }

    /// `agent` was marked gone at `at_ms` (it is no longer unreachable).
    pub fn gone(&mut self, agent: AgentId, at_ms: u64) {
        self.unreachable.remove(&agent);
        self.gone.insert(agent, at_ms);
    }

    /// `agent` came back or was removed for good: it is no longer unreachable.
    pub fn returned(&mut self, agent: &AgentId) {
        self.unreachable.remove(agent);
    }

    /// What a collection at `now_ms` forgets.
    pub fn prunable(&self, now_ms: u64, config: &RegistryGcConfig) -> Prunable {
        let max_age_ms = u64::try_from(config.max_agent_age.as_millis()).unwrap_or(u64::MAX);
        let pick = |list| {
            meso_registry::prune_candidates(list, now_ms, max_age_ms, config.max_agent_count)
        };
        Prunable {
            unreachable: pick(&self.unreachable),
            gone: pick(&self.gone),
        }
    }

    /// Forgets a pruned unreachable agent; false if it is no longer unreachable (it came
    /// back while the prune was being written).
    pub fn forget_unreachable(&mut self, agent: &AgentId) -> bool {
        self.unreachable.remove(agent).is_some()
    }

    /// Forgets a pruned gone agent.
    pub fn forget_gone(&mut self, agent: &AgentId) -> bool {
        self.gone.remove(agent).is_some()
    }

    /// Departed agents kept (unreachable, gone).
    pub fn counts(&self) -> (usize, usize) {
        (self.unreachable.len(), self.gone.len())
    }
}

impl Master {
    /// Arms the next collection.
    pub(super) fn schedule_registry_gc(&self, ctx: &mut Context<Self>) {
        ctx.delay(self.config.registry_gc.interval, MasterMessage::RegistryGc);
    }

    /// Keeps the departed book in step with a change sent to the registry (all of them pass
    /// through `Master::registry`).
    pub(super) fn note_departure(&mut self, change: &RegistryChange) {
        match change {
            RegistryChange::MarkUnreachable(agent, at_ms) => {
                self.departed.unreachable(agent.clone(), *at_ms)
            }
            RegistryChange::MarkGone(agent, at_ms) => self.departed.gone(agent.clone(), *at_ms),
            RegistryChange::MarkReachable(info) | RegistryChange::AdmitAgent(info) => {
                if let Some(id) = &info.id {
                    self.departed.returned(id);
                }
            }
            RegistryChange::RemoveAgent(agent) => self.departed.returned(agent),
            _ => {}
        }
    }

    /// The timer fired: propose the prune, if anything is due, and arm the next one.
    pub(super) fn registry_gc(&mut self, ctx: &mut Context<Self>) {
        self.schedule_registry_gc(ctx);
        let now_ms = libprocess::unix_ms(ctx.wall_time());
        let due = self.departed.prunable(now_ms, &self.config.registry_gc);
        if due.unreachable.is_empty() && due.gone.is_empty() {
            return;
        }
        let change = RegistryChange::Prune {
            unreachable: due.unreachable,
            gone: due.gone,
        };
        self.registry(ctx, change, None);
    }

    /// The registry forgot the pruned agents: forget them here too (an unreachable agent
    /// that came back meanwhile is kept).
    pub(super) fn registry_pruned(&mut self, ctx: &mut Context<Self>, change: &RegistryChange) {
        let RegistryChange::Prune { unreachable, gone } = change else {
            return;
        };
        let mut forgotten = (0, 0, 0);
        for id in unreachable {
            if !self.departed.forget_unreachable(id) || !self.agents.forget_unreachable(id) {
                continue;
            }
            forgotten.0 += 1;
            if let Some(parked) = self.unreachable_tasks.take(id) {
                forgotten.2 += parked.tasks.len();
            }
            self.pending_kills.forget(id);
        }
        for id in gone {
            if self.departed.forget_gone(id) && self.agents.forget_gone(id) {
                forgotten.1 += 1;
            }
        }
        let (unreachable_kept, gone_kept) = self.departed.counts();
        info!(ctx.node().logger(), "registry GC forgot departed agents";
            "unreachable" => forgotten.0, "gone" => forgotten.1, "unreachable_tasks" => forgotten.2,
            "unreachable_kept" => unreachable_kept, "gone_kept" => gone_kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> AgentId {
        AgentId::new(format!("a{n}"))
    }

    const DAY_MS: u64 = 24 * 3600 * 1000;

    #[test]
    fn forgets_the_old_then_the_oldest_beyond_the_count() {
        let config = RegistryGcConfig {
            max_agent_count: 2,
            ..Default::default()
        };
        let mut book = DepartedAgents::default();
        let now = 100 * DAY_MS;
        book.unreachable(id(1), now - 15 * DAY_MS); // older than two weeks
        for n in 2..6 {
            book.unreachable(id(n), now - u64::from(10 - n) * DAY_MS);
        }
        book.gone(id(9), now - DAY_MS);
        let due = book.prunable(now, &config);
        assert_eq!(due.unreachable, vec![id(1), id(2), id(3)]);
        assert!(due.gone.is_empty());
        // Nothing is due on a fresh book, nor under the defaults.
        assert_eq!(
            DepartedAgents::default().prunable(now, &config),
            Prunable::default()
        );
        book.returned(&id(1));
        assert_eq!(
            book.prunable(now, &RegistryGcConfig::default()),
            Prunable::default()
        );
    }

    #[test]
    fn a_gone_agent_is_no_longer_unreachable_and_a_returned_one_is_kept() {
        let mut book = DepartedAgents::default();
        book.unreachable(id(1), 5);
        book.gone(id(1), 6);
        assert_eq!(book.counts(), (0, 1));
        book.unreachable(id(2), 5);
        book.returned(&id(2));
        assert!(
            !book.forget_unreachable(&id(2)),
            "came back before the prune"
        );
        assert!(book.forget_gone(&id(1)));
        assert_eq!(book.counts(), (0, 0));
    }
}
