//! Which parts of a seed's drawn schedule a run keeps: the minimiser's handle on a seed.
//!
//! A seed draws its whole schedule as before (so the draws, and everything that does not
//! depend on a dropped part, stay the same); a [`Plan`] then keeps only some of it:
//! - fault 0 is the network's random faults (connection breaks and delay spikes; the
//!   ordinary delays always stay), faults 1.. are the scheduled faults in the order drawn
//!   (partitions, crashes, ...), each with all its agenda entries (start and end), then
//!   the master faults (`masters.rs`'s crashes, `raft_seats.rs`'s leader crashes and
//!   partitions; the disks' fault rates stay with the seed), then a planted one;
//! - workload step `j.k` is framework `j`'s `k`-th step on the agenda (kill, suppress,
//!   revive, reconcile); its offers and launches are not steps and always stay.
//!
//! `Plan::default()` keeps everything. On the command line `--only-faults 0,3` and
//! `--only-steps 1.4,0.2` (or `none`) select a plan, which is how the minimiser
//! ([`crate::minimise`]) prints the command that replays its smallest schedule.
//!
//! For tests only, [`Plan::plant`] adds one more fault that breaks an invariant on
//! purpose (a task forged onto two machines, which the launch checker reports), so that
//! the checkers and the minimiser can be shown to find it.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::agenda::Agenda;
use crate::checkers::{Truth, Violations};
use crate::trace::Trace;

/// What a run keeps of its seed's schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Faults kept (`None`: all).
    pub only_faults: Option<BTreeSet<usize>>,
    /// Workload steps kept, as (framework, step) (`None`: all).
    pub only_steps: Option<BTreeSet<(usize, u64)>>,
    /// Test only: add a fault that forges a task onto two machines.
    pub plant: bool,
}

impl Plan {
    /// Whether fault `i` is kept.
    pub fn keeps_fault(&self, i: usize) -> bool {
        self.only_faults.as_ref().is_none_or(|s| s.contains(&i))
    }

    /// Whether step `k` of framework `j` is kept.
    pub fn keeps_step(&self, j: usize, k: u64) -> bool {
        self.only_steps.as_ref().is_none_or(|s| s.contains(&(j, k)))
    }

    /// The agenda fault `i` goes on: `agenda` when kept, else a detached one whose
    /// actions never run.
    pub fn fault_agenda(&self, i: usize, agenda: &Agenda) -> Agenda {
        if self.keeps_fault(i) {
            agenda.clone()
        } else {
            Agenda::default()
        }
    }

    /// The command-line flags that select this plan (empty for the whole schedule).
    pub fn flags(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.only_faults {
            out += &format!(" --only-faults {}", FaultList(f.clone()));
        }
        if let Some(s) = &self.only_steps {
            out += &format!(" --only-steps {}", StepList(s.clone()));
        }
        out
    }

    /// Schedules the planted fault (when asked) as fault `index`, at the middle of the
    /// workload: one task id "starts" on machine 0 and then on machine 1, and ends.
    pub fn schedule_planted(
        &self,
        index: usize,
        end: Duration,
        agenda: &Agenda,
        (truth, violations, trace): (&Truth, &Violations, &Trace),
    ) {
        if !self.plant {
            return;
        }
        let at = end / 2;
        let (truth, violations, trace) = (truth.clone(), violations.clone(), trace.clone());
        self.fault_agenda(index, agenda).at(at, move || {
            trace.line(
                at,
                format_args!("planted fault: task forged on machines 0 and 1"),
            );
            truth.started("forged", 0, &violations);
            truth.started("forged", 1, &violations);
            truth.ended("forged");
        });
    }
}

/// A list of fault indices (`0,3,4`; `none` for the empty list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultList(pub BTreeSet<usize>);

impl fmt::Display for FaultList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.0.iter().map(|i| i.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for FaultList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "none" {
            return Ok(FaultList(BTreeSet::new()));
        }
        s.split(',')
            .map(|p| {
                p.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("'{p}' is not a fault index (expected e.g. 0,3 or none)"))
            })
            .collect::<Result<_, _>>()
            .map(FaultList)
    }
}

/// A list of workload steps (`0.4,1.2`: framework.step; `none` for the empty list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepList(pub BTreeSet<(usize, u64)>);

impl fmt::Display for StepList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.0.iter().map(|(j, k)| format!("{j}.{k}")).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for StepList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "none" {
            return Ok(StepList(BTreeSet::new()));
        }
        s.split(',')
            .map(|p| {
                let bad =
                    || format!("'{p}' is not a workload step (expected e.g. 0.4,1.2 or none)");
                let (j, k) = p.trim().split_once('.').ok_or_else(bad)?;
                Ok((j.parse().map_err(|_| bad())?, k.parse().map_err(|_| bad())?))
            })
            .collect::<Result<_, String>>()
            .map(StepList)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_back_what_they_print() {
        let f: FaultList = "3,0,3".parse().unwrap();
        assert_eq!(f.to_string(), "0,3");
        assert_eq!("none".parse::<FaultList>().unwrap().to_string(), "none");
        let s: StepList = "1.4,0.2".parse().unwrap();
        assert_eq!(s.to_string(), "0.2,1.4");
        assert!("x".parse::<FaultList>().unwrap_err().contains("'x'"));
        assert!("1".parse::<StepList>().unwrap_err().contains("'1'"));
        let plan = Plan {
            only_faults: Some(f.0),
            only_steps: Some(BTreeSet::new()),
            plant: false,
        };
        assert_eq!(plan.flags(), " --only-faults 0,3 --only-steps none");
        assert!(plan.keeps_fault(3) && !plan.keeps_fault(1) && !plan.keeps_step(0, 1));
        assert!(Plan::default().keeps_fault(9) && Plan::default().keeps_step(2, 7));
    }
}
