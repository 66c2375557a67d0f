//! The simulated master crashes and restarts from its disk, and stops on a failed fsync:
//! a seed whose schedule does either comes back with the registry it committed (the
//! recovery check runs at every restart), agents and frameworks find the new master, and
//! every checker passes after healing.

use meso_sim::{run, SimConfig};

#[test]
fn a_crashed_master_restarts_from_its_registry_and_the_cluster_heals() {
    // Seed 2's schedule crashes the master once, 34 s in, for 15 s.
    let outcome = run(&SimConfig {
        keep_trace: true,
        ..SimConfig::new(2)
    });
    assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
    let restart = outcome
        .trace
        .lines()
        .find(|l| l.contains("master starts (generation 1)"))
        .expect("the master restarted");
    assert!(
        restart.contains("3 admitted") && restart.contains("2 frameworks"),
        "the restarted master recovered the three agents and two frameworks: {restart}"
    );
}

#[test]
fn a_failed_fsync_stops_the_master_and_it_restarts_without_losing_a_committed_change() {
    // Seed 6: one fsync in fifty fails. Each failure makes the registrar fail and the
    // production master stop (fail-fast); its supervisor restarts it from the log, whose
    // unsynced tail the crash kept, tore or lost.
    let outcome = run(&SimConfig {
        keep_trace: true,
        ..SimConfig::new(6)
    });
    assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
    let exits = outcome
        .trace
        .lines()
        .filter(|l| l.contains("master exited; its supervisor restarts it"))
        .count();
    assert!(exits >= 1, "a failed fsync stopped the master");
    let restart = outcome
        .trace
        .lines()
        .find(|l| l.contains("master starts (generation 1)"))
        .expect("the master restarted");
    assert!(
        restart.contains("3 admitted") && restart.contains("2 frameworks"),
        "the restarted master recovered the registry: {restart}"
    );
}
