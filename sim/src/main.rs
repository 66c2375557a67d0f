//! `meso-sim`: runs one seed of the whole-cluster simulation (`--seed N`, with `--trace`
//! to print its event trace, or `--minimise` to shrink its schedule while it still fails)
//! or a campaign of seeds (`--seeds K`, on `--jobs` threads), printing the figures
//! `sim_seeds_run`, `sim_seeds_failed`, `sim_events_per_s` and
//! `sim_seconds_simulated_per_wall_second`. A failing seed prints the command that replays
//! it; a campaign reports its progress on stderr every 1,000 seeds. Exit status: 0 when every seed passed, 1 when one failed, 2 on bad flags.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use meso_sim::minimise::minimise;
use meso_sim::plan::{FaultList, Plan, StepList};
use meso_sim::{run, SimConfig};
use parking_lot::Mutex;

/// mimalloc, as the `meso` binary's master and agent: a run allocates per frame, per
/// offer and per JSON document, and glibc's allocator was the largest single cost in a
/// profile of the 100-agent cluster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Shrink the failing seed's schedule (faults, workload steps) to the smallest that
    /// still fails the same checker; print it and the command that replays it (with --seed).
    #[arg(long, requires = "seed")]
    minimise: bool,
    /// Threads running seeds of a campaign (each seed still runs alone on one thread and
    /// gives the same trace as with one job).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    jobs: u64,
    /// Agents (one simulated machine each).
    #[arg(long, default_value_t = 3)]
    agents: usize,
    /// Frameworks.
    #[arg(long, default_value_t = 2)]
    frameworks: usize,
    /// Simulated seconds of workload and faults (then heal, reconcile, check).
    #[arg(long, default_value_t = 120)]
    duration_secs: u64,
    /// Simulated seconds of quiet after healing, before the acknowledgement checks (then
    /// 60 s of reconciliation before the last checks). At least 90: a task launched just
    /// before healing runs up to 60 s, and its last update must have time to arrive.
    #[arg(long, default_value_t = 240, value_parser = clap::value_parser!(u64).range(90..))]
    heal_secs: u64,
    /// Masters: 1 (its registry a log on its own simulated disk), or 3 to 7 running the
    /// production Raft registry, each on its own simulated disk, electing over the
    /// simulated network, with leader crashes, leader and minority partitions and disk
    /// faults, and the Raft checkers (one leader per term, no committed entry lost).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=7))]
    masters: u64,
    /// In a campaign, every K-th seed (those with seed % K == K - 1) runs 3 masters on the
    /// Raft registry instead of --masters (0: none); a failing one's replay says --masters 3.
    #[arg(long, default_value_t = 0)]
    raft_every: u64,
    /// Run without faults (no drops, partitions or crashes; delays stay).
    #[arg(long)]
    no_faults: bool,
    /// Keep only these faults of the seed's schedule: 0 is the network's random faults,
    /// 1.. the scheduled ones in the order drawn (e.g. `0,3`, or `none`).
    #[arg(long)]
    only_faults: Option<FaultList>,
    /// Keep only these workload steps, as framework.step (e.g. `0.4,1.2`, or `none`).
    #[arg(long)]
    only_steps: Option<StepList>,
}

fn config(flags: &Flags, seed: u64) -> SimConfig {
    SimConfig {
        seed,
        agents: flags.agents.max(1),
        frameworks: flags.frameworks,
        duration: Duration::from_secs(flags.duration_secs),
        faults: !flags.no_faults,
        keep_trace: flags.trace,
        heal: Duration::from_secs(flags.heal_secs),
        plan: Plan {
            only_faults: flags.only_faults.clone().map(|f| f.0),
            only_steps: flags.only_steps.clone().map(|s| s.0),
            plant: false,
        },
        masters: if flags.raft_every > 0 && seed % flags.raft_every == flags.raft_every - 1 {
            3
        } else {
            flags.masters as usize
        },
    }
}

/// The command that replays `config` (only the flags that differ from the defaults).
fn replay(config: &SimConfig) -> String {
    let d = SimConfig::new(config.seed);
    let mut cmd = format!("scripts/sim.sh --seed {} --trace", config.seed);
    if config.agents != d.agents {
        cmd += &format!(" --agents {}", config.agents);
    }
    if config.frameworks != d.frameworks {
        cmd += &format!(" --frameworks {}", config.frameworks);
    }
    if config.duration != d.duration {
        cmd += &format!(" --duration-secs {}", config.duration.as_secs());
    }
    if config.heal != d.heal {
        cmd += &format!(" --heal-secs {}", config.heal.as_secs());
    }
    if config.masters != d.masters {
        cmd += &format!(" --masters {}", config.masters);
    }
    if !config.faults {
        cmd += " --no-faults";
    }
    cmd + &config.plan.flags()
}

/// Seconds of CPU this process used (user and system), from `/proc/self/stat`.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn run_minimiser(flags: &Flags, seed: u64) -> i32 {
    match minimise(&config(flags, seed)) {
        Err(e) => {
            println!("{e}");
            0
        }
        Ok(m) => {
            println!(
                "seed {seed} fails the {} checker; smallest schedule still failing it ({} runs; whole schedule: {} faults, {} workload steps):",
                m.checker, m.runs, m.whole.0, m.whole.1
            );
            for line in m.schedule_lines() {
                println!("  {line}");
            }
            println!("  replay: {}", replay(&m.config));
            1
        }
    }
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
    if flags.minimise {
        std::process::exit(run_minimiser(&flags, seeds[0]));
    }
    let started = Instant::now();
    let totals = Mutex::new((0u64, Duration::ZERO, 0u64, 0u64));
    let next = AtomicU64::new(0);
    let one_seed = |seed: u64| {
        let config = config(&flags, seed);
        let outcome = run(&config);
        if flags.trace {
            print!("{}", outcome.trace);
        }
        let mut t = totals.lock();
        t.0 += outcome.events();
        t.1 += outcome.simulated;
        if !outcome.violations.is_empty() {
            t.2 += 1;
            println!("FAILED seed {seed}:");
            for v in &outcome.violations {
                println!("  {v}");
            }
            println!("  replay: {}", replay(&config));
            println!(
                "  minimise: {}",
                replay(&config).replace(" --trace", " --minimise")
            );
        }
        t.3 += 1;
        if t.3 % 1000 == 0 && seeds.len() > 1 {
            eprintln!(
                "meso-sim: {} of {} seeds run, {} failed, {:.0} s",
                t.3,
                seeds.len(),
                t.2,
                started.elapsed().as_secs_f64()
            );
        }
        drop(t);
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
    };
    std::thread::scope(|scope| {
        for _ in 0..flags.jobs.min(seeds.len() as u64) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                let Some(&seed) = seeds.get(i) else {
                    break;
                };
                one_seed(seed);
            });
        }
    });
    let (events, simulated, failed, _) = *totals.lock();
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    println!("sim_seeds_run {}", seeds.len());
    println!("sim_seeds_failed {failed}");
    println!("sim_events_per_s {:.0}", events as f64 / wall);
    println!(
        "sim_seconds_simulated_per_wall_second {:.1}",
        simulated.as_secs_f64() / wall
    );
    println!("sim_wall_seconds_per_seed {:.3}", wall / seeds.len() as f64);
    if let Some(cpu) = cpu_seconds() {
        println!("sim_cpu_seconds {cpu:.1}");
        println!("sim_events_per_cpu_s {:.0}", events as f64 / cpu.max(1e-9));
    }
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
