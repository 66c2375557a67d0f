//! The master's agent book: registered agents with their PIDs and ping state, and the ids
//! of agents marked unreachable. Pure bookkeeping; the master process sends the messages.
//!
//! Health checking: every `--agent-ping-timeout` the master calls [`AgentBook::ping_round`],
//! which counts one miss for each agent that has not answered the previous ping and returns
//! the agents that reached `--max-agent-ping-timeouts` misses in a row (to be removed) and
//! those to ping now. Invariant: `by_pid` maps exactly the PIDs of registered agents.
//!
//! Disconnection: when the master's link to an agent breaks, [`AgentBook::disconnect`]
//! marks it inactive (nothing is offered from it; its tasks stay; pings go on, telling it
//! it is disconnected, and count misses as before); re-registration (`add` or
//! `update_pid`) makes it active again.
//!
//! Operator controls: the book also holds the agents the operator deactivated or drains
//! ([`AgentControls`], as last written to the registry), registered or not, so that a
//! returning agent stays deactivated and `/master/state` and GET_AGENTS show them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use libprocess::Upid;
use meso_api::v1::{AgentId, AgentInfo};
use meso_registry::AgentControls;

/// One registered agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// The agent's description (with its id).
    pub info: AgentInfo,
    /// Where it listens.
    pub pid: Upid,
    /// Pings in a row not answered.
    pub missed_pings: u32,
    /// A ping is out and not yet answered.
    pub awaiting_pong: bool,
    /// Connected and offering: false from a broken link until it re-registers.
    pub active: bool,
    /// The book-wide sequence number of its latest disconnection (0: never): tells a timer
    /// armed at one disconnection from a later one, even across re-registrations.
    pub disconnection: u64,
    /// The agent's latest oversubscribed (revocable) report, before it was raised to what
    /// its tasks hold; empty until its estimator reports after (re-)registration.
    pub revocable_report: meso_api::Resources,
}

/// What one ping round decided.
#[derive(Debug, Default, PartialEq)]
pub struct PingRound {
    /// Agents that missed too many pings.
    pub expired: Vec<AgentId>,
    /// Agents to ping now.
    pub ping: Vec<Upid>,
}

/// Registered and unreachable agents.
#[derive(Debug)]
pub struct AgentBook {
    master_id: String,
    next: u64,
    registered: BTreeMap<AgentId, AgentRecord>,
    by_pid: HashMap<Upid, AgentId>,
    unreachable: BTreeSet<AgentId>,
    gone: BTreeSet<AgentId>,
    /// Disconnections so far (numbers each one).
    disconnections: u64,
    /// Deactivated and draining agents.
    controls: AgentControls,
}

impl AgentBook {
    /// An empty book whose new agent ids are `<master_id>-S<n>`.
    pub fn new(master_id: &str) -> AgentBook {
        AgentBook {
            master_id: master_id.to_string(),
            next: 0,
            registered: BTreeMap::new(),
            by_pid: HashMap::new(),
            unreachable: BTreeSet::new(),
            gone: BTreeSet::new(),
            disconnections: 0,
            controls: AgentControls::new(),
        }
    }

    /// Deactivated and draining agents.
    pub fn controls(&self) -> &AgentControls {
        &self.controls
    }

    /// Deactivated and draining agents, to change once the registry has the change.
    pub fn controls_mut(&mut self) -> &mut AgentControls {
        &mut self.controls
    }

    /// A fresh agent id.
    pub fn next_id(&mut self) -> AgentId {
        let id = AgentId::new(format!("{}-S{}", self.master_id, self.next));
        self.next += 1;
        id
    }

    /// Adds (or re-adds after re-registration) a registered agent.
    pub fn add(&mut self, info: AgentInfo, id: AgentId, pid: Upid) {
        self.unreachable.remove(&id);
        if let Some(old) = self.registered.get(&id) {
            self.by_pid.remove(&old.pid);
        }
        let mut info = info;
        info.id = Some(id.clone());
        self.by_pid.insert(pid.clone(), id.clone());
        self.registered.insert(
            id,
            AgentRecord {
                info,
                pid,
                missed_pings: 0,
                awaiting_pong: false,
                active: true,
                disconnection: 0,
                revocable_report: meso_api::Resources::new(),
            },
        );
    }

    /// Replaces a registered agent's resources and attributes (an online change); `false`
    /// when the agent is not registered.
    pub fn update_config(
        &mut self,
        id: &AgentId,
        resources: meso_api::Resources,
        attributes: meso_api::attributes::Attributes,
    ) -> bool {
        match self.registered.get_mut(id) {
            Some(record) => {
                record.info.resources = resources;
                record.info.attributes = attributes;
                true
            }
            None => false,
        }
    }

    /// Changes a registered agent's PID (it restarted on another port).
    pub fn update_pid(&mut self, id: &AgentId, pid: Upid) {
        if let Some(record) = self.registered.get_mut(id) {
            self.by_pid.remove(&record.pid);
            record.pid = pid.clone();
            record.missed_pings = 0;
            record.awaiting_pong = false;
            record.active = true;
            self.by_pid.insert(pid, id.clone());
        }
    }

    /// The link to the agent at `pid` broke: marks it inactive and returns its id, or `None`
    /// when `pid` is no registered agent's or the agent is already inactive.
    pub fn disconnect(&mut self, pid: &Upid) -> Option<AgentId> {
        let id = self.by_pid.get(pid)?;
        let record = self
            .registered
            .get_mut(id)
            .expect("by_pid maps only registered agents");
        if !record.active {
            return None;
        }
        record.active = false;
        self.disconnections += 1;
        record.disconnection = self.disconnections;
        Some(id.clone())
    }

    /// Number of registered agents that are active (connected, and not deactivated by the
    /// operator: Mesos's `activated_slaves` and `master/slaves_active`).
    pub fn active_count(&self) -> usize {
        self.registered
            .iter()
            .filter(|(id, r)| r.active && !self.controls.is_deactivated(id))
            .count()
    }

    /// Removes a registered agent; `unreachable` keeps its id as one that may come back.
    pub fn remove(&mut self, id: &AgentId, unreachable: bool) -> Option<AgentRecord> {
        let record = self.registered.remove(id)?;
        self.by_pid.remove(&record.pid);
        if unreachable {
            self.unreachable.insert(id.clone());
        } else {
            // Removed for good, as the registry's `RemoveAgent` forgets it.
            self.controls.forget(id);
        }
        Some(record)
    }

    /// Records `id` as unreachable without it being registered (an agent recovered from
    /// the registry that did not re-register, or one the registry lists as unreachable).
    pub fn add_unreachable(&mut self, id: AgentId) {
        if !self.registered.contains_key(&id) {
            self.unreachable.insert(id);
        }
    }

    /// Records `id` as marked gone by the operator (no longer registered or unreachable).
    pub fn mark_gone(&mut self, id: AgentId) {
        self.controls.forget(&id);
        if let Some(record) = self.registered.remove(&id) {
            self.by_pid.remove(&record.pid);
        }
        self.unreachable.remove(&id);
        self.gone.insert(id);
    }

    /// Forgets unreachable agent `id` (registry GC); false if it is not unreachable.
    pub fn forget_unreachable(&mut self, id: &AgentId) -> bool {
        self.unreachable.remove(id)
    }

    /// Forgets gone agent `id` (registry GC): it is no longer refused; false if it was not
    /// gone.
    pub fn forget_gone(&mut self, id: &AgentId) -> bool {
        self.gone.remove(id)
    }

    /// Whether the operator marked `id` gone.
    pub fn is_gone(&self, id: &AgentId) -> bool {
        self.gone.contains(id)
    }

    /// Agents marked gone.
    pub fn gone(&self) -> impl Iterator<Item = &AgentId> {
        self.gone.iter()
    }

    /// The registered agent `id`.
    pub fn get(&self, id: &AgentId) -> Option<&AgentRecord> {
        self.registered.get(id)
    }

    /// Replaces a registered agent's total resources (an offer operation converted some);
    /// false when `id` is not registered.
    pub fn set_resources(&mut self, id: &AgentId, resources: meso_api::Resources) -> bool {
        match self.registered.get_mut(id) {
            Some(record) => {
                record.info.resources = resources;
                true
            }
            None => false,
        }
    }

    /// Replaces the revocable (oversubscribed) part of registered agent `id`'s total with
    /// `revocable`; returns the part it replaced, or `None` when `id` is not registered.
    pub fn set_revocable(
        &mut self,
        id: &AgentId,
        revocable: meso_api::Resources,
    ) -> Option<meso_api::Resources> {
        let record = self.registered.get_mut(id)?;
        let old = record.info.resources.revocable();
        record.info.resources = record.info.resources.non_revocable() + &revocable;
        Some(old)
    }

    /// Records registered agent `id`'s latest oversubscribed report (see
    /// [`AgentRecord::revocable_report`]); `false` when `id` is not registered.
    pub fn set_revocable_report(&mut self, id: &AgentId, report: meso_api::Resources) -> bool {
        match self.registered.get_mut(id) {
            Some(record) => {
                record.revocable_report = report;
                true
            }
            None => false,
        }
    }

    /// The registered agent at `pid`.
    pub fn by_pid(&self, pid: &Upid) -> Option<&AgentId> {
        self.by_pid.get(pid)
    }

    /// Whether `id` was marked unreachable (and has not come back).
    pub fn is_unreachable(&self, id: &AgentId) -> bool {
        self.unreachable.contains(id)
    }

    /// Unreachable agent ids.
    pub fn unreachable(&self) -> impl Iterator<Item = &AgentId> {
        self.unreachable.iter()
    }

    /// Registered agents.
    pub fn iter(&self) -> impl Iterator<Item = &AgentRecord> {
        self.registered.values()
    }

    /// Number of registered agents.
    pub fn len(&self) -> usize {
        self.registered.len()
    }

    /// Whether no agent is registered.
    pub fn is_empty(&self) -> bool {
        self.registered.is_empty()
    }

    /// A pong from `pid`: the agent is alive.
    pub fn pong(&mut self, pid: &Upid) -> bool {
        let Some(id) = self.by_pid.get(pid) else {
            return false;
        };
        let record = self
            .registered
            .get_mut(id)
            .expect("by_pid maps only registered agents");
        record.missed_pings = 0;
        record.awaiting_pong = false;
        true
    }

    /// One health-check round: see the module docs.
    pub fn ping_round(&mut self, max_missed: u32) -> PingRound {
        let mut round = PingRound::default();
        for (id, record) in self.registered.iter_mut() {
            if record.awaiting_pong {
                record.missed_pings += 1;
            }
            if record.missed_pings >= max_missed {
                round.expired.push(id.clone());
            } else {
                record.awaiting_pong = true;
                round.ping.push(record.pid.clone());
            }
        }
        round
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(port: u16) -> Upid {
        Upid::new("slave(1)", ([127, 0, 0, 1], port).into())
    }

    #[test]
    fn an_agent_that_never_answers_expires_after_the_limit() {
        let mut book = AgentBook::new("m");
        let a = book.next_id();
        assert_eq!(a.as_str(), "m-S0");
        book.add(AgentInfo::new("h"), a.clone(), pid(1));
        for _ in 0..3 {
            let round = book.ping_round(3);
            assert!(round.expired.is_empty());
            assert_eq!(round.ping, vec![pid(1)]);
        }
        let round = book.ping_round(3);
        assert_eq!(round.expired, vec![a.clone()]);
        book.remove(&a, true);
        assert!(book.is_unreachable(&a));
        assert!(book.by_pid(&pid(1)).is_none());
    }

    #[test]
    fn a_pong_resets_the_count() {
        let mut book = AgentBook::new("m");
        let a = book.next_id();
        book.add(AgentInfo::new("h"), a.clone(), pid(1));
        for _ in 0..10 {
            let round = book.ping_round(2);
            assert!(round.expired.is_empty());
            assert!(book.pong(&pid(1)));
        }
        assert!(!book.pong(&pid(2)), "a pong from an unknown pid is ignored");
    }

    #[test]
    fn a_broken_link_deactivates_until_reregistration() {
        let mut book = AgentBook::new("m");
        let a = book.next_id();
        book.add(AgentInfo::new("h"), a.clone(), pid(1));
        assert!(book.disconnect(&pid(2)).is_none(), "unknown pid");
        assert_eq!(book.disconnect(&pid(1)), Some(a.clone()));
        assert!(book.disconnect(&pid(1)).is_none(), "already disconnected");
        assert_eq!(book.active_count(), 0);
        assert_eq!(book.len(), 1, "a disconnected agent stays registered");
        // Pings still count: the agent is removed after the limit as before.
        for _ in 0..2 {
            assert!(book.ping_round(2).expired.is_empty());
        }
        book.update_pid(&a, pid(3));
        assert!(book.get(&a).is_some_and(|r| r.active));
        assert_eq!(book.active_count(), 1);
        book.controls_mut().deactivate(&a);
        assert_eq!(book.active_count(), 0, "deactivated by the operator");
        book.controls_mut().reactivate(&a).unwrap();
        assert_eq!(book.active_count(), 1);
        assert!(book.disconnect(&pid(3)).is_some());
        assert!(book.ping_round(2).expired.is_empty());
        assert!(book.ping_round(2).expired.is_empty());
        assert_eq!(book.ping_round(2).expired, vec![a.clone()]);
    }

    #[test]
    fn disconnections_are_numbered_across_reregistrations() {
        let mut book = AgentBook::new("m");
        let a = book.next_id();
        book.add(AgentInfo::new("h"), a.clone(), pid(1));
        book.disconnect(&pid(1));
        let first = book.get(&a).map(|r| r.disconnection);
        book.remove(&a, true);
        book.add(AgentInfo::new("h"), a.clone(), pid(1));
        book.disconnect(&pid(1));
        let second = book.get(&a).map(|r| r.disconnection);
        assert!(
            first.is_some() && second > first,
            "{first:?} then {second:?}"
        );
    }
}
