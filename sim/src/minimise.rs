//! The minimiser: shrinks a failing seed's schedule to the smallest part that still makes
//! the same checker fail (`scripts/sim.sh --seed N --minimise`).
//!
//! The schedule of a seed is its faults and its frameworks' workload steps ([`Plan`]). The
//! minimiser runs the seed once whole, names the checker of its first violation, then
//! drops workload steps and faults (all of them first, then halves, quarters, ... one at
//! a time: a simple delta debugging) and keeps each drop while a rerun still fails that
//! checker. Every rerun is the same deterministic seed with a smaller [`Plan`], so what it
//! prints replays exactly: the kept schedule and the `scripts/sim.sh` command.

use std::collections::BTreeSet;

use crate::plan::Plan;
use crate::world::{run, Outcome, SimConfig};

/// The checker a violation comes from (by its wording in `checkers` and `world`).
pub fn checker_of(violation: &str) -> &'static str {
    if violation.contains("launched on machine") {
        "launches"
    } else if violation.contains("unacknowledged") {
        "acknowledgements"
    } else if violation.contains("its terminal update was lost") {
        "terminal_updates"
    } else if violation.contains("framework believes") {
        "framework_views"
    } else if violation.contains("allocat") || violation.contains("master books") {
        "allocation_books"
    } else if violation.contains("cannot recover") {
        "recovery"
    } else {
        "other"
    }
}

/// What the minimiser found.
#[derive(Debug, Clone)]
pub struct Minimised {
    /// The checker that fails, in the whole run and in the smallest one.
    pub checker: &'static str,
    /// The smallest run's configuration (its `plan` is the schedule kept).
    pub config: SimConfig,
    /// Faults and workload steps of the whole schedule.
    pub whole: (usize, usize),
    /// The smallest run (its trace kept).
    pub outcome: Outcome,
    /// Runs made.
    pub runs: u64,
}

impl Minimised {
    /// The trace lines of the smallest run that show its schedule and its verdict.
    pub fn schedule_lines(&self) -> Vec<&str> {
        const MARKS: [&str; 8] = [
            "faults ",
            "partition",
            "crashes",
            "starts (generation",
            ": step ",
            "planted",
            "exited",
            "VIOLATION",
        ];
        self.outcome
            .trace
            .lines()
            .filter(|l| MARKS.iter().any(|m| l.contains(m)))
            .collect()
    }
}

/// Faults and workload steps a whole run's trace shows.
fn universe(outcome: &Outcome) -> (Vec<usize>, Vec<(usize, u64)>) {
    let mut faults = 0;
    let mut steps = BTreeSet::new();
    for line in outcome.trace.lines() {
        let mut words = line.split_whitespace().skip(1);
        match (words.next(), words.next(), words.next()) {
            (Some("schedule:"), Some(n), Some("faults")) => faults = n.parse().unwrap_or(0),
            (Some("framework"), Some(_), Some("step")) => {
                let id = words.next().unwrap_or("").trim_end_matches(':');
                if let Some((j, k)) = id.split_once('.') {
                    if let (Ok(j), Ok(k)) = (j.parse(), k.parse()) {
                        steps.insert((j, k));
                    }
                }
            }
            _ => {}
        }
    }
    ((0..faults).collect(), steps.into_iter().collect())
}

/// Removes what it can from `items` while `fails` holds for the rest.
fn shrink<T: Clone + Ord>(items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut kept = items;
    let mut chunk = kept.len();
    while chunk > 0 {
        let mut at = 0;
        while at < kept.len() {
            let candidate: Vec<T> = kept[..at]
                .iter()
                .chain(kept[(at + chunk).min(kept.len())..].iter())
                .cloned()
                .collect();
            if fails(&candidate) {
                kept = candidate;
            } else {
                at += chunk;
            }
        }
        chunk = if chunk == 1 { 0 } else { chunk.div_ceil(2) };
    }
    kept
}

/// Minimises `config`'s seed; `Err` when the whole run passes (nothing to minimise).
pub fn minimise(config: &SimConfig) -> Result<Minimised, String> {
    let whole = run(&SimConfig {
        keep_trace: true,
        plan: Plan {
            plant: config.plan.plant,
            ..Plan::default()
        },
        ..config.clone()
    });
    let Some(first) = whole.violations.first() else {
        return Err(format!(
            "seed {} passes every checker: nothing to minimise",
            config.seed
        ));
    };
    let checker = checker_of(first);
    let (faults, steps) = universe(&whole);
    let sizes = (faults.len(), steps.len());
    let mut runs = 1;
    let mut attempt = |f: &[usize], s: &[(usize, u64)]| {
        runs += 1;
        let plan = Plan {
            only_faults: Some(f.iter().copied().collect()),
            only_steps: Some(s.iter().copied().collect()),
            plant: config.plan.plant,
        };
        let outcome = run(&SimConfig {
            keep_trace: false,
            plan,
            ..config.clone()
        });
        outcome.violations.iter().any(|v| checker_of(v) == checker)
    };
    let steps = shrink(steps, |s| attempt(&faults, s));
    let faults = shrink(faults, |f| attempt(f, &steps));
    let steps = shrink(steps, |s| attempt(&faults, s));
    let smallest = SimConfig {
        keep_trace: true,
        plan: Plan {
            only_faults: Some(faults.into_iter().collect()),
            only_steps: Some(steps.into_iter().collect()),
            plant: config.plan.plant,
        },
        ..config.clone()
    };
    let outcome = run(&smallest);
    runs += 1;
    Ok(Minimised {
        checker,
        config: smallest,
        whole: sizes,
        outcome,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_keeps_exactly_what_the_failure_needs() {
        let needed = [3, 7];
        let mut calls = 0;
        let kept = shrink((0..10).collect(), |c: &[i32]| {
            calls += 1;
            needed.iter().all(|n| c.contains(n))
        });
        assert_eq!(kept, vec![3, 7]);
        assert!(calls < 40, "{calls} calls");
        assert_eq!(shrink(vec![1, 2], |_: &[i32]| true), Vec::<i32>::new());
    }

    #[test]
    fn violations_name_their_checker() {
        assert_eq!(
            checker_of("task forged launched on machine 1 after machine 0"),
            "launches"
        );
        assert_eq!(
            checker_of("framework believes task x is Running, but no machine runs it"),
            "framework_views"
        );
    }
}
