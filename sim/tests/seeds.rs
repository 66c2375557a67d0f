//! CI's budget of simulated seeds: every checker on, faults on. A failure names the seed
//! and the command that replays it (`scripts/sim.sh --seed N --trace`). Seeds that once
//! found a bug are kept in `REGRESSIONS` with what they found.

use std::time::Duration;

use meso_sim::{run, SimConfig};

/// Seeds of the fixed CI budget (seeds 1000.. so that they differ from the seeds people
/// replay by hand). Each costs about 0.8 s of CPU in a debug build (60 simulated seconds of
/// workload and 300 of healing, reconciliation and checks).
const CI_SEEDS: u64 = 8;

/// Seeds that found real bugs (each fixed; see the commit named).
const REGRESSIONS: &[(u64, &str)] = &[
    // A registration answer delayed by 1.7 s: the agent retried, the master (tasks already
    // launched on the first id) took the retry for a restarted agent and gave a new id;
    // the agent kept the first one, so every update it sent was dropped as from a removed
    // agent and its tasks stayed STAGING for good. The agent now exits on a second,
    // different id, as Mesos's does (agent/src/agent.rs, `on_registered`).
    (10035, "agent kept a removed id; tasks stuck in STAGING"),
    (10134, "the same, another schedule"),
    (10181, "the same, another schedule"),
    // The master's answer to an agent's re-registration was delayed past the agent's
    // retry, and launches sent after that answer were still in flight when the retry
    // arrived; the master took the tasks the retry did not list for gone, ended them LOST
    // and offered their resources, while the agent then ran them. When the agent later
    // re-registered with those tasks, the master adopted them: it booked more than the
    // agent's total, and the allocator refused the agent and lost it. The master now asks
    // the agent about unreported tasks (`reconciliations` in the re-registration answer),
    // as Mesos's does (master/src/master/agent_reconciliation.rs,
    // agent/src/agent/master_reconciliation.rs).
    (
        10024,
        "in-flight launches ended at a re-registration; agent over-booked, then lost",
    ),
    // A bug of the simulator's own, found by the acknowledgement checker: a crashed agent
    // was restarted without taking back its checkpoint (the production runner calls
    // `recovery::load`; the simulator did not), so it came back as a new agent, its
    // checkpointing frameworks' unacknowledged terminal updates gone with the old one.
    // The simulator now recovers restarted agents (sim/src/world.rs, `start_agent`).
    (
        10005,
        "restarted agent did not recover; terminal updates lost",
    ),
    // A bug of the simulator's own, found by the committed-change checker the first time
    // the master crashed in the middle of a registry write: the dead master's registrar
    // future (run by `defer`, a task that outlives the process) woke at its fsync time
    // after the restart, found the file long enough and recorded its torn record as
    // committed. An fsync now belongs to the incarnation of the writer that wrote it
    // (sim/src/disk.rs, `WriteEnd`).
    (
        4,
        "a dead master's fsync acknowledged a torn registry write",
    ),
    (12, "the same, another schedule"),
];

fn check(seed: u64, duration: Duration) -> Option<String> {
    let outcome = run(&SimConfig {
        duration,
        ..SimConfig::new(seed)
    });
    (!outcome.violations.is_empty()).then(|| {
        format!(
            "seed {seed}: {}\n  replay: scripts/sim.sh --seed {seed} --duration-secs {} --trace",
            outcome.violations.join("\n  "),
            duration.as_secs()
        )
    })
}

#[test]
fn a_budget_of_seeds_keeps_every_invariant() {
    let failures: Vec<String> = (1000..1000 + CI_SEEDS)
        .filter_map(|seed| check(seed, Duration::from_secs(60)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn seeds_that_once_found_bugs_stay_fixed() {
    let failures: Vec<String> = REGRESSIONS
        .iter()
        .filter_map(|(seed, _)| check(*seed, Duration::from_secs(120)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
