//! Allocator benchmark: Mesos's `DeclineOffers` scenario run on the allocator core directly.
//!
//! Every agent has `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, of which one framework
//! already uses `cpus:16;mem:2014;disk:1024` and 16 ports; all frameworks are in role `*`;
//! every offer is declined with a filter of `i32::MAX` seconds (capped at 365 days), so
//! each round the agents go to frameworks that have not yet declined them.
//!
//! Prints `name: value unit` lines. `--quick` runs a small grid (for CI's example run);
//! `--only 10k_agents_1k_frameworks` runs one scenario.
//! Run it through `scripts/bench/allocator.sh` (release build).

use std::time::{Duration, Instant};

use meso_allocator::{Allocator, AllocatorConfig, FrameworkSpec, Timestamp};
use meso_api::Resources;

struct Figures {
    add_agent_us: f64,
    rounds_ms: Vec<f64>,
    rounds_cpu_ms: Vec<f64>,
    offers: Vec<usize>,
}

/// CPU time consumed by this thread, in milliseconds: unlike wall time it does not count
/// time the thread spent waiting for a core, so it stays meaningful on a shared machine.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID is supported
    // on Linux; the call only writes into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

fn used_resources() -> Resources {
    let ports: Vec<String> = (0..16)
        .map(|k| {
            let p = 31000 + k * 62;
            format!("{p}-{p}")
        })
        .collect();
    Resources::parse(
        &format!("cpus:16;mem:2014;disk:1024;ports:[{}]", ports.join(",")),
        "*",
    )
    .expect("the benchmark's used resources parse")
}

/// Sets up the scenario: frameworks in role `*`, agents with one framework's tasks on them.
fn setup(agents: usize, frameworks: usize) -> (Allocator, f64) {
    let mut allocator =
        Allocator::new(AllocatorConfig::default()).expect("the default config is valid");
    let spec = FrameworkSpec {
        roles: vec!["*".to_string()],
        ..FrameworkSpec::default()
    };
    let ids: Vec<String> = (0..frameworks).map(|i| format!("framework-{i}")).collect();
    for id in &ids {
        allocator
            .add_framework(id, &spec)
            .expect("benchmark frameworks are new and valid");
    }
    let total = Resources::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]", "*")
        .expect("the benchmark agent parses");
    let used = used_resources();
    let started = Instant::now();
    for a in 0..agents {
        let user = (ids[a % frameworks].clone(), "*".to_string(), used.clone());
        allocator
            .add_agent(&format!("agent-{a}"), &total, &[user])
            .expect("benchmark agents are new and their use fits");
    }
    let add_agent_us = started.elapsed().as_secs_f64() * 1e6 / agents as f64;
    (allocator, add_agent_us)
}

/// One round: allocate, then decline every offer with a (capped) `i32::MAX` s filter.
/// Returns (wall ms, thread CPU ms, offers).
fn round(allocator: &mut Allocator, now: Timestamp) -> (f64, f64, usize) {
    let started = Instant::now();
    let cpu_started = thread_cpu_ms();
    let offers = allocator.allocate(now);
    let cpu = thread_cpu_ms() - cpu_started;
    let wall = started.elapsed().as_secs_f64() * 1e3;
    for offer in &offers {
        allocator
            .decline(offer, Some(f64::from(i32::MAX)), now)
            .expect("an offer just made can be declined");
    }
    (wall, cpu, offers.len())
}

/// The first `rounds` rounds.
fn run(agents: usize, frameworks: usize, rounds: usize) -> Figures {
    let (mut allocator, add_agent_us) = setup(agents, frameworks);
    let mut now = Timestamp::default();
    let mut rounds_ms = Vec::with_capacity(rounds);
    let mut rounds_cpu_ms = Vec::with_capacity(rounds);
    let mut offers_made = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        now = now.after(Duration::from_secs(1));
        let (wall, cpu, offers) = round(&mut allocator, now);
        rounds_ms.push(wall);
        rounds_cpu_ms.push(cpu);
        offers_made.push(offers);
    }
    Figures {
        add_agent_us,
        rounds_ms,
        rounds_cpu_ms,
        offers: offers_made,
    }
}

/// A same-run yardstick for this machine's speed: the time to clone one agent's total
/// `Resources` `count` times (about what materialising that many offers costs at least).
fn baseline_clone_ms(count: usize) -> f64 {
    let total = Resources::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]", "*")
        .expect("the benchmark agent parses");
    let started = Instant::now();
    let copies: Vec<Resources> = (0..count).map(|_| total.clone()).collect();
    let elapsed = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(copies.len(), count);
    elapsed
}

/// Mesos's late rounds: runs rounds until every framework has declined every agent, then
/// returns (the first round that finds nothing to offer, the median of the next five) in
/// wall ms. The first walks every framework on every agent; later ones skip agents whose
/// state has not changed since.
fn run_until_all_declined(agents: usize, frameworks: usize) -> (f64, f64) {
    let (mut allocator, _) = setup(agents, frameworks);
    let mut now = Timestamp::default();
    for _ in 0..frameworks * 2 {
        now = now.after(Duration::from_secs(1));
        let (wall, _, offers) = round(&mut allocator, now);
        if offers == 0 {
            let later: Vec<f64> = (0..5)
                .map(|_| {
                    now = now.after(Duration::from_secs(1));
                    round(&mut allocator, now).0
                })
                .collect();
            return (wall, median(&later));
        }
    }
    panic!("every framework declines every offer, so offers stop within 2 x frameworks rounds")
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 10 };
    let grid: &[(usize, usize, &str)] = if quick {
        &[(1_000, 100, "1k_agents_100_frameworks")]
    } else {
        &[
            (10_000, 1_000, "10k_agents_1k_frameworks"),
            (20_000, 2_000, "20k_agents_2k_frameworks"),
            (50_000, 1_000, "50k_agents_1k_frameworks"),
        ]
    };
    // `--only LABEL` runs one scenario (for profiling).
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    for &(agents, frameworks, label) in grid {
        if only.is_some_and(|o| o != label) {
            continue;
        }
        let figures = run(agents, frameworks, rounds);
        eprintln!(
            "# {label}: rounds (ms) {:?}, cpu (ms) {:?}, offers {:?}",
            figures
                .rounds_ms
                .iter()
                .map(|v| (v * 10.0).round() / 10.0)
                .collect::<Vec<_>>(),
            figures
                .rounds_cpu_ms
                .iter()
                .map(|v| (v * 10.0).round() / 10.0)
                .collect::<Vec<_>>(),
            figures.offers
        );
        println!(
            "allocation_round_ms_{label}: {:.2} ms",
            median(&figures.rounds_ms)
        );
        println!(
            "allocation_round_cpu_ms_{label}: {:.2} ms",
            median(&figures.rounds_cpu_ms)
        );
        println!(
            "allocation_round_ms_max_{label}: {:.2} ms",
            figures.rounds_ms.iter().copied().fold(0.0, f64::max)
        );
        if agents == 10_000 || quick {
            println!("add_agent_us: {:.2} us", figures.add_agent_us);
        }
    }
    if !quick && only.is_none_or(|o| o == "10k_agents_100_frameworks_all_declined") {
        let (first, later) = run_until_all_declined(10_000, 100);
        println!("allocation_round_ms_10k_agents_100_frameworks_first_all_declined: {first:.2} ms");
        println!("allocation_round_ms_10k_agents_100_frameworks_all_declined: {later:.2} ms");
    }
    let baseline: Vec<f64> = (0..5).map(|_| baseline_clone_ms(10_000)).collect();
    println!(
        "baseline_clone_10k_agent_resources_ms: {:.2} ms",
        median(&baseline)
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak_rss_mib: {:.1} MiB", kib as f64 / 1024.0);
    }
}
