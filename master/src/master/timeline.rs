//! When things happened, for the operator endpoints: the master's start and election
//! times and each agent's and framework's (re-)registration and unregistration times, in
//! seconds since the Unix epoch as the caller's clock gave them. Pure bookkeeping: the
//! master reads its clock and hands the time in.
//!
//! Invariant: a `reregistered` time is only kept when it differs from the registered one
//! (Mesos prints `reregistered_time` only then).

use std::collections::HashMap;

use meso_api::v1::{AgentId, FrameworkId};

/// Registration times of one agent or framework.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Registered {
    /// First registration (seconds since the epoch).
    pub registered: f64,
    /// Last re-registration, if any.
    pub reregistered: Option<f64>,
    /// When it was removed or disconnected (frameworks), if it was.
    pub unregistered: Option<f64>,
}

/// The master's timeline.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// When the master process started.
    pub start_time: f64,
    /// When it became the leader (`None` until then).
    pub elected_time: Option<f64>,
    agents: HashMap<AgentId, Registered>,
    frameworks: HashMap<FrameworkId, Registered>,
}

impl Timeline {
    /// A timeline for a master started (and elected) at `now`.
    pub fn new(now: f64) -> Timeline {
        Timeline {
            start_time: now,
            elected_time: Some(now),
            ..Timeline::default()
        }
    }

    /// An agent registered (first time) or re-registered (known id) at `now`.
    pub fn agent_seen(&mut self, id: &AgentId, now: f64) {
        touch(
            self.agents.entry(id.clone()).or_insert(Registered {
                registered: now,
                ..Registered::default()
            }),
            now,
        );
    }

    /// A framework registered or re-registered at `now`.
    pub fn framework_seen(&mut self, id: &FrameworkId, now: f64) {
        touch(
            self.frameworks.entry(id.clone()).or_insert(Registered {
                registered: now,
                ..Registered::default()
            }),
            now,
        );
    }

    /// A framework left at `now` (it stays in the table: completed frameworks show it).
    pub fn framework_gone(&mut self, id: &FrameworkId, now: f64) {
        if let Some(r) = self.frameworks.get_mut(id) {
            r.unregistered = Some(now);
        }
    }

    /// A completed framework is no longer shown: forget its times.
    pub fn framework_forgotten(&mut self, id: &FrameworkId) {
        self.frameworks.remove(id);
    }

    /// An agent left for good.
    pub fn agent_gone(&mut self, id: &AgentId) {
        self.agents.remove(id);
    }

    /// The times of an agent (zero times if never recorded).
    pub fn agent(&self, id: &AgentId) -> Registered {
        self.agents.get(id).copied().unwrap_or_default()
    }

    /// The times of a framework (zero times if never recorded).
    pub fn framework(&self, id: &FrameworkId) -> Registered {
        self.frameworks.get(id).copied().unwrap_or_default()
    }
}

fn touch(entry: &mut Registered, now: f64) {
    if now != entry.registered {
        entry.reregistered = Some(now);
    }
    entry.unregistered = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reregistration_is_kept_only_when_it_differs() {
        let mut t = Timeline::new(1.0);
        let a = AgentId::new("a");
        t.agent_seen(&a, 5.0);
        assert_eq!(t.agent(&a).reregistered, None);
        t.agent_seen(&a, 7.0);
        assert_eq!(t.agent(&a).registered, 5.0);
        assert_eq!(t.agent(&a).reregistered, Some(7.0));
        t.agent_gone(&a);
        assert_eq!(t.agent(&a), Registered::default());
    }

    #[test]
    fn a_framework_that_left_keeps_its_times() {
        let mut t = Timeline::new(1.0);
        let f = FrameworkId::new("f");
        t.framework_seen(&f, 2.0);
        t.framework_gone(&f, 3.0);
        assert_eq!(t.framework(&f).unregistered, Some(3.0));
        assert_eq!(t.framework(&f).registered, 2.0);
    }
}
