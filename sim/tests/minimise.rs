//! The minimiser shrinks a failing seed to what still fails. A test-only planted fault
//! (a task forged onto two machines) makes the launch checker fail; the smallest schedule
//! must keep that fault and nothing else, and replaying it must fail the same way.

use std::collections::BTreeSet;
use std::time::Duration;

use meso_sim::minimise::{checker_of, minimise};
use meso_sim::plan::Plan;
use meso_sim::{run, SimConfig};

fn planted(seed: u64) -> SimConfig {
    SimConfig {
        duration: Duration::from_secs(20),
        heal: Duration::from_secs(90),
        plan: Plan {
            plant: true,
            ..Plan::default()
        },
        ..SimConfig::new(seed)
    }
}

#[test]
fn a_planted_fault_is_all_that_is_left_of_the_schedule() {
    // Seed 7 draws scheduled faults besides the network's (its trace says how many).
    let config = planted(7);
    let whole = run(&SimConfig {
        keep_trace: true,
        ..config.clone()
    });
    assert!(
        whole.violations.iter().any(|v| checker_of(v) == "launches"),
        "the planted fault breaks the launch invariant: {:?}",
        whole.violations
    );
    let m = minimise(&config).expect("the seed fails, so there is something to minimise");
    assert_eq!(m.checker, "launches");
    assert!(
        m.whole.0 >= 3,
        "a schedule with faults to drop: {:?}",
        m.whole
    );
    assert!(m.whole.1 > 0, "and workload steps to drop: {:?}", m.whole);
    // The planted fault is the last index of the schedule.
    let last = m.whole.0 - 1;
    assert_eq!(
        m.config.plan.only_faults,
        Some(BTreeSet::from([last])),
        "only the planted fault is needed"
    );
    assert_eq!(m.config.plan.only_steps, Some(BTreeSet::new()));
    assert!(m
        .outcome
        .violations
        .iter()
        .any(|v| checker_of(v) == "launches"));
    assert!(
        m.schedule_lines()
            .iter()
            .any(|l| l.contains("planted fault")),
        "{:?}",
        m.schedule_lines()
    );
    // What it printed replays: the same plan, run again, fails the same checker.
    let again = run(&m.config);
    assert_eq!(again.digest, m.outcome.digest);
}

#[test]
fn a_passing_seed_has_nothing_to_minimise() {
    let config = SimConfig {
        duration: Duration::from_secs(20),
        heal: Duration::from_secs(90),
        ..SimConfig::new(7)
    };
    let e = minimise(&config).unwrap_err();
    assert!(e.contains("nothing to minimise"), "{e}");
}
