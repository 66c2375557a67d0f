//! `meso-sim`: runs one seed of the whole-cluster simulation (`--seed N`, with `--trace`
//! to print its event trace) or a campaign of seeds (`--seeds K`), printing the figures
//! `sim_seeds_run`, `sim_seeds_failed`, `sim_events_per_s` and
//! `sim_seconds_simulated_per_wall_second`. A failing seed prints the command that replays
//! it. Exit status: 0 when every seed passed, 1 when one failed, 2 on bad flags.

use std::time::{Duration, Instant};

use clap::Parser;
use meso_sim::{run, SimConfig};

/// Deterministic whole-cluster simulation of meso (master, allocator, agents, drivers).
#[derive(Debug, Parser)]
#[command(name = "meso-sim")]
struct Flags {
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run this many seeds, starting at --first-seed.
    #[arg(long)]
    seeds: Option<u64>,
    /// The first seed of a campaign.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Print the event trace of the run (with --seed).
    #[arg(long)]
    trace: bool,
    /// Agents (one simulated machine each).
    #[arg(long, default_value_t = 3)]
    agents: usize,
    /// Frameworks.
    #[arg(long, default_value_t = 2)]
    frameworks: usize,
    /// Simulated seconds of workload and faults (then heal, reconcile, check).
    #[arg(long, default_value_t = 120)]
    duration_secs: u64,
    /// Run without faults (no drops, partitions or crashes; delays stay).
    #[arg(long)]
    no_faults: bool,
}

fn config(flags: &Flags, seed: u64) -> SimConfig {
    SimConfig {
        seed,
        agents: flags.agents.max(1),
        frameworks: flags.frameworks,
        duration: Duration::from_secs(flags.duration_secs),
        faults: !flags.no_faults,
        keep_trace: flags.trace,
    }
}

fn replay(flags: &Flags, seed: u64) -> String {
    let mut cmd = format!("scripts/sim.sh --seed {seed} --trace");
    if flags.agents != 3 {
        cmd += &format!(" --agents {}", flags.agents);
    }
    if flags.frameworks != 2 {
        cmd += &format!(" --frameworks {}", flags.frameworks);
    }
    if flags.duration_secs != 120 {
        cmd += &format!(" --duration-secs {}", flags.duration_secs);
    }
    if flags.no_faults {
        cmd += " --no-faults";
    }
    cmd
}

fn main() {
    let flags = Flags::parse();
    let seeds: Vec<u64> = match (flags.seed, flags.seeds) {
        (Some(s), _) => vec![s],
        (None, Some(k)) => (flags.first_seed..flags.first_seed.saturating_add(k)).collect(),
        (None, None) => {
            eprintln!("meso-sim: give --seed N or --seeds K (see --help)");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let (mut events, mut simulated, mut failed) = (0u64, Duration::ZERO, 0u64);
    for &seed in &seeds {
        let outcome = run(&config(&flags, seed));
        events += outcome.events();
        simulated += outcome.simulated;
        if flags.trace {
            print!("{}", outcome.trace);
        }
        if !outcome.violations.is_empty() {
            failed += 1;
            println!("FAILED seed {seed}:");
            for v in &outcome.violations {
                println!("  {v}");
            }
            println!("  replay: {}", replay(&flags, seed));
        }
        if seeds.len() == 1 {
            println!(
                "seed {seed}: digest {:016x}, {} trace lines, {} frames ({} dropped), {} http chunks, {} tasks, {:.1} s simulated",
                outcome.digest,
                outcome.trace_lines,
                outcome.net.frames,
                outcome.net.dropped,
                outcome.net.chunks,
                outcome.tasks_started,
                outcome.simulated.as_secs_f64()
            );
        }
    }
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    println!("sim_seeds_run {}", seeds.len());
    println!("sim_seeds_failed {failed}");
    println!("sim_events_per_s {:.0}", events as f64 / wall);
    println!(
        "sim_seconds_simulated_per_wall_second {:.1}",
        simulated.as_secs_f64() / wall
    );
    println!("sim_wall_seconds_per_seed {:.3}", wall / seeds.len() as f64);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
