//! A seed is a replay: the same seed run twice (faults on) gives the same trace, byte for
//! byte, and a different seed a different one. This is what makes a failing seed worth
//! keeping: `scripts/sim.sh --seed N --trace` shows exactly what happened.

use std::time::Duration;

use meso_sim::{run, SimConfig};

fn config(seed: u64) -> SimConfig {
    SimConfig {
        duration: Duration::from_secs(60),
        keep_trace: true,
        ..SimConfig::new(seed)
    }
}

#[test]
fn one_seed_twice_gives_the_same_trace_bytes() {
    // Seed 7 has connection breaks, delay spikes and partitions (see its trace).
    let first = run(&config(7));
    let second = run(&config(7));
    assert!(
        first.trace_lines > 1000,
        "a run with traffic: {} lines",
        first.trace_lines
    );
    assert!(first.tasks_started > 0, "tasks ran");
    if first.trace != second.trace {
        let at = first
            .trace
            .lines()
            .zip(second.trace.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "seed 7 diverged at trace line {at}:\n  first:  {:?}\n  second: {:?}",
            first.trace.lines().nth(at),
            second.trace.lines().nth(at)
        );
    }
    assert_eq!(first.digest, second.digest);
    assert_eq!(first.violations, second.violations);
    let other = run(&config(8));
    assert_ne!(first.digest, other.digest, "another seed, another run");
}

#[test]
fn seeds_on_parallel_threads_give_the_same_traces_as_alone() {
    // `meso-sim --jobs N` runs seeds on N threads at once: nothing may leak between them.
    let short = |seed| SimConfig {
        duration: Duration::from_secs(20),
        heal: Duration::from_secs(90),
        ..SimConfig::new(seed)
    };
    let alone: Vec<u64> = [11, 12].iter().map(|s| run(&short(*s)).digest).collect();
    let together: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = [11, 12]
            .iter()
            .map(|s| scope.spawn(move || run(&short(*s)).digest))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, together);
}
