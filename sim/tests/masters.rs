//! The simulated master crashes and restarts from its disk: a seed whose schedule crashes
//! it comes back with the registry it committed (the recovery check runs at the restart),
//! agents and frameworks find the new master, and every checker passes after healing.

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
