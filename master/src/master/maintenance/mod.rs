//! Maintenance and draining on the master (docs/maintenance.md, docs/agent-draining.md).
//!
//! [`MaintenanceBook`] is the pure part: the schedule and machine modes as last written to
//! the registry ([`Machines`]), the inverse offers outstanding and each framework's latest
//! answer per DRAINING machine. The shells are Master methods, one concept per file:
//! `calls.rs` answers the operator calls and the legacy endpoints and applies a change once
//! the registry has it; `machines_down.rs` shuts down and removes the agents of machines
//! taken DOWN and refuses their registration; `inverse.rs` sends inverse offers and takes
//! the frameworks' answers; `drain.rs` deactivates, drains and reactivates agents.
//!
//! An agent's machine is its hostname and the IP of its PID, as Mesos names it; only a
//! schedule entry with both fields matches it (Mesos's `MachineID` equality).
//!
//! Invariants: an inverse offer is outstanding only for a framework with tasks on an agent
//! of a DRAINING machine, at most one per (framework, agent); answers are kept per machine
//! until the machine leaves DRAINING.

mod calls;
mod drain;
mod inverse;
mod machines_down;

use std::collections::BTreeMap;

use meso_api::http::maintenance as api;
use meso_api::v1::{AgentId, DurationInfo, FrameworkId, OfferId, TimeInfo, Unavailability};
use meso_registry::{
    AgentControls, MachineId, MachineKey, MachineMode, Machines, MaintenanceWindow,
};

/// The machine an agent at `ip` with `hostname` runs on.
pub fn agent_machine(hostname: &str, ip: std::net::IpAddr) -> MachineId {
    MachineId::of_agent(hostname, &ip.to_string())
}

/// A machine id from its v1 JSON.
pub fn machine_of(m: &api::MachineId) -> MachineId {
    MachineId {
        hostname: m.hostname.clone(),
        ip: m.ip.clone(),
    }
}

/// A machine id as v1 JSON.
pub fn machine_json(m: &MachineId) -> api::MachineId {
    api::MachineId {
        hostname: m.hostname.clone(),
        ip: m.ip.clone(),
    }
}

/// The registry's windows for a v1 schedule.
pub fn windows_of(schedule: &api::Schedule) -> Vec<MaintenanceWindow> {
    schedule
        .windows
        .iter()
        .map(|w| MaintenanceWindow {
            machines: w.machine_ids.iter().map(machine_of).collect(),
            start_ns: w.unavailability.start.nanoseconds,
            duration_ns: w.unavailability.duration.map(|d| d.nanoseconds),
        })
        .collect()
}

/// A window's unavailability as v1 JSON.
pub fn unavailability_of(w: &MaintenanceWindow) -> Unavailability {
    Unavailability {
        start: TimeInfo {
            nanoseconds: w.start_ns,
        },
        duration: w
            .duration_ns
            .map(|nanoseconds| DurationInfo { nanoseconds }),
    }
}

/// The schedule as v1 JSON.
pub fn schedule_json(machines: &Machines) -> api::Schedule {
    api::Schedule {
        windows: machines
            .windows()
            .iter()
            .map(|w| api::Window {
                machine_ids: w.machines.iter().map(machine_json).collect(),
                unavailability: unavailability_of(w),
            })
            .collect(),
    }
}

/// An agent's `DrainInfo` as JSON (`{"state": "DRAINING", "config": {...}}`), if it drains
/// or drained.
pub fn drain_info_json(controls: &AgentControls, agent: &AgentId) -> Option<serde_json::Value> {
    let (config, state) = controls.drain(agent)?;
    let mut c = serde_json::json!({ "mark_gone": config.mark_gone });
    if let Some(ns) = config.max_grace_period_ns {
        c["max_grace_period"] = serde_json::json!(api::ProtoDuration { nanoseconds: ns });
    }
    Some(serde_json::json!({ "state": state.as_str(), "config": c }))
}

/// A framework's answer to the inverse offers of a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Asked, no answer yet.
    Unknown,
    /// Accepted: it expects to free the machine in time.
    Accept,
    /// Declined: it does not.
    Decline,
}

impl Answer {
    fn as_str(self) -> &'static str {
        match self {
            Answer::Unknown => "UNKNOWN",
            Answer::Accept => "ACCEPT",
            Answer::Decline => "DECLINE",
        }
    }
}

/// One outstanding inverse offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InverseOfferRecord {
    /// To whom.
    pub framework: FrameworkId,
    /// For which agent.
    pub agent: AgentId,
    /// On which machine.
    pub machine: MachineKey,
}

/// The schedule, machine modes, inverse offers and answers.
#[derive(Debug, Default)]
pub struct MaintenanceBook {
    /// The schedule and modes, as the registry has them.
    pub machines: Machines,
    next: u64,
    outstanding: BTreeMap<OfferId, InverseOfferRecord>,
    answers: BTreeMap<MachineKey, BTreeMap<FrameworkId, (Answer, i64)>>,
    /// Until when (wall ns) a framework that answered is not asked again about an agent
    /// (the answer's `refuse_seconds`).
    filtered: BTreeMap<(FrameworkId, AgentId), i64>,
}

impl MaintenanceBook {
    /// The machine's mode.
    pub fn mode(&self, machine: &MachineId) -> MachineMode {
        self.machines.mode(machine)
    }

    /// The unavailability offers from this machine carry (DRAINING machines only).
    pub fn unavailability(&self, machine: &MachineId) -> Option<Unavailability> {
        match self.machines.mode(machine) {
            MachineMode::Draining => self.machines.window_of(machine).map(unavailability_of),
            _ => None,
        }
    }

    /// Records a new inverse offer to `framework` for `agent` on `machine` (`now_ns`: the
    /// wall clock), or `None` when one is outstanding already or the framework's answer
    /// filters it until later. Ids are `<prefix>-IO<n>`.
    pub fn offer(
        &mut self,
        prefix: &str,
        framework: &FrameworkId,
        agent: &AgentId,
        machine: &MachineId,
        now_ns: i64,
    ) -> Option<OfferId> {
        if self
            .outstanding
            .values()
            .any(|r| &r.framework == framework && &r.agent == agent)
        {
            return None;
        }
        let key = (framework.clone(), agent.clone());
        if self.filtered.get(&key).is_some_and(|until| now_ns < *until) {
            return None;
        }
        self.filtered.remove(&key);
        let id = OfferId::new(format!("{prefix}-IO{}", self.next));
        self.next += 1;
        let key = machine.key();
        self.answers
            .entry(key.clone())
            .or_default()
            .entry(framework.clone())
            .or_insert((Answer::Unknown, now_ns));
        self.outstanding.insert(
            id.clone(),
            InverseOfferRecord {
                framework: framework.clone(),
                agent: agent.clone(),
                machine: key,
            },
        );
        Some(id)
    }

    /// `framework` answers the inverse offers `ids` at `now_ns`, not to be asked again
    /// about their agents for `refuse_ns`; ids it does not hold are ignored. Returns the
    /// answered offers.
    pub fn answer(
        &mut self,
        framework: &FrameworkId,
        ids: &[OfferId],
        answer: Answer,
        now_ns: i64,
        refuse_ns: i64,
    ) -> Vec<InverseOfferRecord> {
        let mut done = Vec::new();
        for id in ids {
            if self
                .outstanding
                .get(id)
                .is_some_and(|r| &r.framework == framework)
            {
                let record = self.outstanding.remove(id).expect("checked just above");
                self.filtered.insert(
                    (framework.clone(), record.agent.clone()),
                    now_ns.saturating_add(refuse_ns),
                );
                self.answers
                    .entry(record.machine.clone())
                    .or_default()
                    .insert(framework.clone(), (answer, now_ns));
                done.push(record);
            }
        }
        done
    }

    /// Takes the outstanding inverse offers that match `which` (to rescind them).
    pub fn take_where(
        &mut self,
        which: impl Fn(&InverseOfferRecord) -> bool,
    ) -> Vec<(OfferId, InverseOfferRecord)> {
        let ids: Vec<OfferId> = self
            .outstanding
            .iter()
            .filter(|(_, r)| which(r))
            .map(|(id, _)| id.clone())
            .collect();
        ids.into_iter()
            .filter_map(|id| self.outstanding.remove(&id).map(|r| (id, r)))
            .collect()
    }

    /// Forgets the answers about machines no longer DRAINING.
    pub fn forget_answers_of_undrained(&mut self) {
        let machines = &self.machines;
        self.answers
            .retain(|key, _| machines.draining().iter().any(|m| &m.key() == key));
    }

    /// Outstanding inverse offers.
    pub fn outstanding(&self) -> impl Iterator<Item = (&OfferId, &InverseOfferRecord)> {
        self.outstanding.iter()
    }

    /// `ClusterStatus`: each DRAINING machine with its frameworks' answers, and the DOWN
    /// machines.
    pub fn cluster_status(&self) -> api::ClusterStatus {
        api::ClusterStatus {
            draining_machines: self
                .machines
                .draining()
                .into_iter()
                .map(|m| api::DrainingMachine {
                    id: machine_json(m),
                    statuses: self
                        .answers
                        .get(&m.key())
                        .map(|by_framework| {
                            by_framework
                                .iter()
                                .map(|(f, (answer, at))| api::InverseOfferStatus {
                                    status: answer.as_str().to_string(),
                                    framework_id: f.clone(),
                                    timestamp: TimeInfo { nanoseconds: *at },
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect(),
            down_machines: self.machines.down().into_iter().map(machine_json).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheduled(machines: &[MachineId]) -> MaintenanceBook {
        let mut book = MaintenanceBook::default();
        book.machines
            .update_schedule(vec![MaintenanceWindow {
                machines: machines.to_vec(),
                start_ns: 5,
                duration_ns: Some(10),
            }])
            .unwrap();
        book
    }

    #[test]
    fn one_inverse_offer_per_framework_and_agent_and_answers_by_machine() {
        let m = MachineId::of_agent("h", "10.0.0.1");
        let mut book = scheduled(std::slice::from_ref(&m));
        let (f, a) = (FrameworkId::new("F"), AgentId::new("S"));
        let id = book.offer("M", &f, &a, &m, 1).unwrap();
        assert_eq!(book.offer("M", &f, &a, &m, 2), None, "one outstanding");
        let status = book.cluster_status();
        assert_eq!(status.draining_machines[0].statuses[0].status, "UNKNOWN");
        assert!(
            book.answer(
                &FrameworkId::new("other"),
                std::slice::from_ref(&id),
                Answer::Accept,
                3,
                0
            )
            .is_empty(),
            "only its own"
        );
        assert_eq!(book.answer(&f, &[id], Answer::Decline, 4, 10).len(), 1);
        let status = book.cluster_status();
        assert_eq!(status.draining_machines[0].statuses[0].status, "DECLINE");
        assert_eq!(
            status.draining_machines[0].statuses[0]
                .timestamp
                .nanoseconds,
            4
        );
        assert_eq!(book.offer("M", &f, &a, &m, 13), None, "filtered until 14");
        assert!(
            book.offer("M", &f, &a, &m, 14).is_some(),
            "asked again once the filter ends"
        );
        assert_eq!(
            book.unavailability(&m).map(|u| u.start.nanoseconds),
            Some(5)
        );
        book.machines.start(std::slice::from_ref(&m)).unwrap();
        assert_eq!(book.unavailability(&m), None, "DOWN machines offer nothing");
        book.forget_answers_of_undrained();
        let status = book.cluster_status();
        assert!(status.draining_machines.is_empty());
        assert_eq!(status.down_machines, vec![machine_json(&m)]);
        assert_eq!(book.take_where(|r| r.agent == a).len(), 1);
        assert_eq!(book.outstanding().count(), 0);
    }
}
