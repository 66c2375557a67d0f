//! Dirty sets for incremental rounds: which agents the next round must walk.
//!
//! A full round walks every live agent, and an agent whose last walk offered nothing and
//! whose [`IdleNote`](super::agent::IdleNote) still holds does nothing there. An incremental
//! round walks only the agents that could do something:
//! - agents *marked* since they were last walked: every change of an agent's free resources
//!   (`Books::move_held`), a new or re-laid-out agent, an agent activated;
//! - agents whose idle note expires by the round's time (the earliest filter that held a
//!   framework back there ran out): kept in a time-ordered wake set, one entry per agent;
//! - every agent whose note depends on headroom (a quota cap held a claim back there) when
//!   headroom widened since the last round started;
//! - every agent when an eligibility-widening call was made since then, which makes it a
//!   full round.
//!
//! Everything else has a valid idle note, is inactive, or has less free than the minimum
//! allocatable, and none of those can change without one of the events above. So the agents
//! walked are a superset of those a full round would not skip, and walked in the same
//! relative order (see `round`), an incremental round makes exactly a full round's offers.
//!
//! Invariants: an agent is in `queue` at least once while its `queued` flag is set (stale
//! or repeated entries are dropped when taken); `wake` holds `(t, index)` exactly when the
//! agent's `wake_at` is `Some(t)`.

use std::collections::BTreeSet;
use std::time::Duration;

use super::agent::AgentState;
use super::filters::Timestamp;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct DirtyAgents {
    /// Indices of marked agents (may hold stale or repeated entries).
    queue: Vec<u32>,
    /// (when its idle note expires, agent index).
    wake: BTreeSet<(Timestamp, u32)>,
    /// Agents whose idle note depends on headroom (each once, by its `headroom_listed`).
    headroom_bound: Vec<u32>,
    /// The (eligibility, headroom) generations at the start of the last round, if that
    /// round ended under the same generations (its idle notes are current).
    pub(crate) round_gens: Option<(u64, u64)>,
}

impl DirtyAgents {
    /// Marks `agent` for the next round.
    pub(crate) fn mark(&mut self, agent: &mut AgentState) {
        if !agent.queued {
            agent.queued = true;
            self.queue.push(agent.index);
        }
    }

    /// Records that `agent` was just noted idle until `until` (`Duration::MAX`: until
    /// something else changes), and whether the note holds only while headroom stays.
    pub(crate) fn note_idle(&mut self, agent: &mut AgentState, until: Timestamp, headroom: bool) {
        self.forget(agent);
        if headroom && !agent.headroom_listed {
            agent.headroom_listed = true;
            self.headroom_bound.push(agent.index);
        }
        if until != Timestamp(Duration::MAX) {
            self.wake.insert((until, agent.index));
            agent.wake_at = Some(until);
        }
    }

    /// Drops `agent`'s wake entry (it is removed, replaced, or walked again).
    pub(crate) fn forget(&mut self, agent: &mut AgentState) {
        if let Some(t) = agent.wake_at.take() {
            self.wake.remove(&(t, agent.index));
        }
    }

    /// Takes the marked agents, those whose note expires by `now` and, if `headroom_moved`,
    /// those whose note depends on headroom, into `out` (indices of live agents; may repeat
    /// an index).
    pub(crate) fn take_due(
        &mut self,
        now: Timestamp,
        headroom_moved: bool,
        agents: &mut [Option<AgentState>],
        out: &mut Vec<u32>,
    ) {
        if headroom_moved {
            for index in self.headroom_bound.drain(..) {
                if let Some(agent) = agents.get_mut(index as usize).and_then(Option::as_mut) {
                    if agent.headroom_listed {
                        agent.headroom_listed = false;
                        out.push(index);
                    }
                }
            }
        }
        out.reserve(self.queue.len());
        for index in self.queue.drain(..) {
            if let Some(agent) = agents.get_mut(index as usize).and_then(Option::as_mut) {
                if agent.queued {
                    agent.queued = false;
                    out.push(index);
                }
            }
        }
        while let Some(&(t, index)) = self.wake.first() {
            if t > now {
                break;
            }
            self.wake.pop_first();
            if let Some(agent) = agents.get_mut(index as usize).and_then(Option::as_mut) {
                if agent.wake_at == Some(t) {
                    agent.wake_at = None;
                    out.push(index);
                }
            }
        }
    }

    /// Number of queued entries and wake entries.
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.queue.len(), self.wake.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::filters::AgentFilters;

    fn agent(index: u32) -> AgentState {
        AgentState {
            id: Arc::from(format!("a{index}")),
            slots: Vec::new(),
            total: Vec::new(),
            free: Vec::new(),
            free_print: 0,
            allocations: Vec::new(),
            filters: AgentFilters::default(),
            idle: None,
            active: true,
            index,
            queued: false,
            wake_at: None,
            headroom_listed: false,
        }
    }

    fn at(secs: u64) -> Timestamp {
        Timestamp(Duration::from_secs(secs))
    }

    #[test]
    fn marked_agents_are_taken_once_and_idle_ones_when_their_note_expires() {
        let mut dirty = DirtyAgents::default();
        let mut agents: Vec<Option<AgentState>> = (0..3).map(|i| Some(agent(i))).collect();
        for _ in 0..3 {
            dirty.mark(agents[1].as_mut().unwrap());
        }
        dirty.note_idle(agents[2].as_mut().unwrap(), at(10), false);
        // A new note replaces the old wake entry: one entry per agent.
        dirty.note_idle(agents[2].as_mut().unwrap(), at(20), false);
        dirty.note_idle(agents[0].as_mut().unwrap(), Timestamp(Duration::MAX), true);
        assert_eq!(dirty.sizes(), (1, 1));
        let mut due = Vec::new();
        dirty.take_due(at(15), false, &mut agents, &mut due);
        assert_eq!(
            due,
            vec![1],
            "agent 2 sleeps until 20, agent 0 until a change"
        );
        due.clear();
        dirty.take_due(at(20), false, &mut agents, &mut due);
        assert_eq!(due, vec![2]);
        assert_eq!(dirty.sizes(), (0, 0));
        // Agent 0's note depends on headroom: taken when headroom moved.
        due.clear();
        dirty.take_due(at(20), true, &mut agents, &mut due);
        assert_eq!(due, vec![0]);
        // A removed agent's entries are dropped, not taken.
        dirty.mark(agents[0].as_mut().unwrap());
        dirty.note_idle(agents[1].as_mut().unwrap(), at(30), false);
        dirty.forget(agents[1].as_mut().unwrap());
        agents[0] = None;
        due.clear();
        dirty.take_due(at(40), true, &mut agents, &mut due);
        assert!(due.is_empty());
    }
}
