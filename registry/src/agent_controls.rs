//! [`AgentControls`]: the operator's hold on single agents (Mesos 1.9+'s agent draining,
//! docs/agent-draining.md): deactivated agents get no new offers; a draining agent is also
//! deactivated and has its tasks killed, and becomes DRAINED once it runs none.
//!
//! Rules, as Mesos's master: DRAIN_AGENT deactivates and (re)starts draining with the
//! given config; an agent is marked DRAINED only while DRAINING; REACTIVATE_AGENT needs a
//! deactivated agent that is not DRAINING any more, and forgets both. An agent that leaves
//! the cluster (removed or gone) is forgotten. Invariant: every draining agent is
//! deactivated; a refused change changes nothing.

use std::collections::BTreeMap;

use meso_api::v1::AgentId;
use serde::{Deserialize, Serialize};

/// How an agent drains (Mesos's `DrainConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainConfig {
    /// The longest kill grace period a task gets (`None`: the task's own).
    pub max_grace_period_ns: Option<i64>,
    /// Mark the agent gone once drained.
    pub mark_gone: bool,
}

/// Where a drain is (Mesos's `DrainState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrainState {
    /// Its tasks are being killed.
    Draining,
    /// It runs nothing any more.
    Drained,
}

impl DrainState {
    /// Mesos's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DrainState::Draining => "DRAINING",
            DrainState::Drained => "DRAINED",
        }
    }
}

/// One agent's controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentControl {
    /// No new offers from it.
    pub deactivated: bool,
    /// Its drain, if one was asked for.
    pub drain: Option<(DrainConfig, DrainState)>,
}

/// The controls of every agent that has some.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentControls {
    agents: BTreeMap<AgentId, AgentControl>,
}

impl AgentControls {
    /// None yet.
    pub fn new() -> AgentControls {
        AgentControls::default()
    }

    /// The agent's controls, if any.
    pub fn get(&self, agent: &AgentId) -> Option<&AgentControl> {
        self.agents.get(agent)
    }

    /// Every agent with controls.
    pub fn iter(&self) -> impl Iterator<Item = (&AgentId, &AgentControl)> {
        self.agents.iter()
    }

    /// True if the agent may get no offers.
    pub fn is_deactivated(&self, agent: &AgentId) -> bool {
        self.agents.get(agent).is_some_and(|c| c.deactivated)
    }

    /// The agent's drain state and config, if it drains or drained.
    pub fn drain(&self, agent: &AgentId) -> Option<(DrainConfig, DrainState)> {
        self.agents.get(agent).and_then(|c| c.drain)
    }

    /// Checks a drain config: a grace period is not negative.
    pub fn check_drain(config: &DrainConfig) -> Result<(), String> {
        match config.max_grace_period_ns {
            Some(ns) if ns < 0 => Err(format!(
                "'max_grace_period' must be non-negative, got {ns} nanoseconds"
            )),
            _ => Ok(()),
        }
    }

    /// Starts (or restarts) draining: deactivated and DRAINING.
    pub fn drain_agent(&mut self, agent: &AgentId, config: DrainConfig) -> Result<(), String> {
        Self::check_drain(&config)?;
        self.agents.insert(
            agent.clone(),
            AgentControl {
                deactivated: true,
                drain: Some((config, DrainState::Draining)),
            },
        );
        Ok(())
    }

    /// A DRAINING agent runs nothing any more.
    pub fn mark_drained(&mut self, agent: &AgentId) -> Result<(), String> {
        match self.agents.get_mut(agent) {
            Some(AgentControl {
                drain: Some((_, state @ DrainState::Draining)),
                ..
            }) => {
                *state = DrainState::Drained;
                Ok(())
            }
            _ => Err(format!("Agent {agent} is not in the DRAINING state")),
        }
    }

    /// Deactivates the agent (a drain, if any, goes on).
    pub fn deactivate(&mut self, agent: &AgentId) {
        self.agents
            .entry(agent.clone())
            .or_insert(AgentControl {
                deactivated: true,
                drain: None,
            })
            .deactivated = true;
    }

    /// Mesos's check of REACTIVATE_AGENT.
    pub fn check_reactivate(&self, agent: &AgentId) -> Result<(), String> {
        match self.agents.get(agent) {
            None
            | Some(AgentControl {
                deactivated: false, ..
            }) => Err("Agent is not deactivated".to_string()),
            Some(AgentControl {
                drain: Some((_, DrainState::Draining)),
                ..
            }) => Err("Agent is still in the DRAINING state".to_string()),
            Some(_) => Ok(()),
        }
    }

    /// Reactivates the agent after [`check_reactivate`](Self::check_reactivate),
    /// forgetting its drain.
    pub fn reactivate(&mut self, agent: &AgentId) -> Result<(), String> {
        self.check_reactivate(agent)?;
        self.agents.remove(agent);
        Ok(())
    }

    /// Forgets an agent that left the cluster.
    pub fn forget(&mut self, agent: &AgentId) {
        self.agents.remove(agent);
    }

    /// Checks the invariants of a value read from elsewhere (a snapshot).
    pub fn check(&self) -> Result<(), String> {
        for (id, c) in &self.agents {
            if c.drain.is_some() && !c.deactivated {
                return Err(format!("agent {id} drains but is not deactivated"));
            }
            if let Some((config, _)) = &c.drain {
                Self::check_drain(config)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(n: u8) -> AgentId {
        AgentId::new(format!("S{n}"))
    }

    const CONFIG: DrainConfig = DrainConfig {
        max_grace_period_ns: Some(1_000_000_000),
        mark_gone: false,
    };

    #[test]
    fn a_drained_agent_can_be_reactivated_but_a_draining_one_cannot() {
        let mut c = AgentControls::new();
        assert_eq!(
            c.check_reactivate(&a(1)).unwrap_err(),
            "Agent is not deactivated"
        );
        c.drain_agent(&a(1), CONFIG).unwrap();
        assert!(c.is_deactivated(&a(1)));
        assert_eq!(
            c.check_reactivate(&a(1)).unwrap_err(),
            "Agent is still in the DRAINING state"
        );
        c.mark_drained(&a(1)).unwrap();
        assert!(c.mark_drained(&a(1)).is_err(), "drained once");
        assert_eq!(c.drain(&a(1)).map(|d| d.1), Some(DrainState::Drained));
        c.reactivate(&a(1)).unwrap();
        assert_eq!(c.get(&a(1)), None);
    }

    #[test]
    fn deactivation_alone_is_reversible_and_negative_grace_is_refused() {
        let mut c = AgentControls::new();
        c.deactivate(&a(2));
        assert!(c.is_deactivated(&a(2)) && c.drain(&a(2)).is_none());
        c.reactivate(&a(2)).unwrap();
        let bad = DrainConfig {
            max_grace_period_ns: Some(-1),
            mark_gone: true,
        };
        assert!(c
            .drain_agent(&a(2), bad)
            .unwrap_err()
            .contains("non-negative"));
        assert_eq!(c, AgentControls::new());
    }

    #[derive(Debug, Clone)]
    enum Step {
        Drain(u8),
        Drained(u8),
        Deactivate(u8),
        Reactivate(u8),
        Forget(u8),
    }

    proptest! {
        /// Refusals change nothing and every draining agent stays deactivated.
        #[test]
        fn draining_agents_are_always_deactivated(steps in proptest::collection::vec(
            (0u8..5, 0u8..3).prop_map(|(k, n)| match k {
                0 => Step::Drain(n), 1 => Step::Drained(n), 2 => Step::Deactivate(n),
                3 => Step::Reactivate(n), _ => Step::Forget(n),
            }), 0..40)) {
            let mut c = AgentControls::new();
            for s in steps {
                let before = c.clone();
                let result = match s {
                    Step::Drain(n) => c.drain_agent(&a(n), CONFIG),
                    Step::Drained(n) => c.mark_drained(&a(n)),
                    Step::Deactivate(n) => { c.deactivate(&a(n)); Ok(()) }
                    Step::Reactivate(n) => c.reactivate(&a(n)),
                    Step::Forget(n) => { c.forget(&a(n)); Ok(()) }
                };
                if result.is_err() {
                    prop_assert_eq!(&c, &before);
                }
                prop_assert!(c.check().is_ok());
            }
        }
    }
}
