//! Allocator benchmark on the allocator core directly.
//!
//! Issue 22's figures, `allocation_round_ms_10k_agents_1k_frameworks` and
//! `allocation_round_ms_50k_agents_1k_frameworks`, are the steady-state round: agents
//! running tasks of 1,000 frameworks, and before each round (one simulated second) the
//! tasks on 1% of the agents end, 0.1% of the agents restart, and half of each round's
//! offers are declined with Mesos's default 5 s filter (the other half kept, as if launched
//! on). Incremental (`Allocator::allocate`) and full (`Allocator::allocate_full`, the
//! `_full` lines: the same-run baseline) rounds alternate on one allocator.
//!
//! `_decline_offers` is Mesos's `DeclineOffers` scenario (before session 9 these were the
//! unsuffixed names): every agent has `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, of which one framework
//! already uses `cpus:16;mem:2014;disk:1024` and 16 ports; all frameworks are in role `*`;
//! every offer is declined with a filter of `i32::MAX` seconds (capped at 365 days), so
//! each round the agents go to frameworks that have not yet declined them.
//!
//! Each scenario also runs with the sharing controls on (figures suffixed `_controls`, same
//! run): 100 roles `role-0..99` with quota (a guarantee of `cpus:<agents/100>;mem:<agents*4>`
//! and a limit of ten times that) and weights 1, 2 or 3; half the frameworks subscribe to
//! one of those roles, the other half to `*`; and every fifth agent (20%) holds a static
//! reservation `cpus:8;mem:2048;disk:2048` for one of the roles (its total stays 24 cpus).
//!
//! A second scenario measures what an incremental round costs when little changed
//! (`_churn_<k>_agents`): every offer of the first round is kept (as if launched on); then
//! before each round the offers on `k` random agents are given back (their tasks ended),
//! so the round has `k` agents to walk. Rounds alternate between the incremental
//! `Allocator::allocate` and the full `Allocator::allocate_full` (which make the same
//! offers), and both medians are printed (`_full` is the same-run baseline).
//!
//! Prints `name: value unit` lines. `--quick` runs a small grid (for CI's example run);
//! `--only 10k_agents_1k_frameworks` (any label printed) runs one scenario.
//! Run it through `scripts/bench/allocator.sh` (release build).

use std::time::{Duration, Instant};

use meso_allocator::{Allocator, AllocatorConfig, FrameworkSpec, Quantities, Quota, Timestamp};
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

/// Roles with quota and weights in the `_controls` runs.
const CONTROLLED_ROLES: usize = 100;

/// The role of framework `i`: `*`, or with the controls on, one of the quota roles for
/// every other framework.
fn framework_role(i: usize, controls: bool) -> String {
    if controls && i % 2 == 1 {
        format!("role-{}", (i / 2) % CONTROLLED_ROLES)
    } else {
        "*".to_string()
    }
}

/// Quota and weights of the `_controls` runs, scaled with the cluster.
fn add_controls(allocator: &mut Allocator, agents: usize) {
    let guarantee = format!("cpus:{};mem:{}", agents / 100, agents * 4);
    let limit = format!("cpus:{};mem:{}", agents / 10, agents * 40);
    let quota = Quota {
        guarantees: Quantities::parse(&guarantee).expect("the benchmark guarantee parses"),
        limits: Quantities::parse(&limit).expect("the benchmark limit parses"),
    };
    let mut weights = Vec::new();
    for r in 0..CONTROLLED_ROLES {
        let role = format!("role-{r}");
        allocator
            .update_quota(&role, &quota)
            .expect("benchmark quotas are valid");
        weights.push((role, 1.0 + (r % 3) as f64));
    }
    allocator
        .update_weights(&weights)
        .expect("benchmark weights are valid");
}

/// Sets up the scenario: frameworks in role `*`, agents with one framework's tasks on them;
/// with `controls`, quota, weights and reservations as the module doc says.
fn setup(agents: usize, frameworks: usize, controls: bool) -> (Allocator, f64) {
    let mut allocator =
        Allocator::new(AllocatorConfig::default()).expect("the default config is valid");
    if controls {
        add_controls(&mut allocator, agents);
    }
    let ids: Vec<String> = (0..frameworks).map(|i| format!("framework-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let spec = FrameworkSpec {
            roles: vec![framework_role(i, controls)],
            ..FrameworkSpec::default()
        };
        allocator
            .add_framework(id, &spec)
            .expect("benchmark frameworks are new and valid");
    }
    let total = Resources::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]", "*")
        .expect("the benchmark agent parses");
    let reserved_totals: Vec<Resources> = (0..CONTROLLED_ROLES)
        .map(|r| {
            Resources::parse(
                &format!(
                    "cpus:16;mem:2048;disk:2048;ports:[31000-32000];\
                     cpus(role-{r}):8;mem(role-{r}):2048;disk(role-{r}):2048"
                ),
                "*",
            )
            .expect("the benchmark's reserved agent parses")
        })
        .collect();
    let used = used_resources();
    let started = Instant::now();
    for a in 0..agents {
        // The tasks on an agent belong to a framework of role `*`, on unreserved resources
        // (with the controls on, the even frameworks are the ones in `*`).
        let owner = if controls {
            (a % frameworks) & !1
        } else {
            a % frameworks
        };
        let user = (ids[owner].clone(), "*".to_string(), used.clone());
        let total = if controls && a % 5 == 0 {
            &reserved_totals[(a / 5) % CONTROLLED_ROLES]
        } else {
            &total
        };
        allocator
            .add_agent(&format!("agent-{a}"), total, &[user])
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
fn run(agents: usize, frameworks: usize, rounds: usize, controls: bool) -> Figures {
    let (mut allocator, add_agent_us) = setup(agents, frameworks, controls);
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

/// The churn scenario: returns (incremental, full) medians of (wall ms, thread CPU ms) and
/// the median offers per round.
fn run_churn(
    agents: usize,
    frameworks: usize,
    changed: usize,
    rounds: usize,
    controls: bool,
) -> ((f64, f64), (f64, f64), usize) {
    let (mut allocator, _) = setup(agents, frameworks, controls);
    let mut now = Timestamp::default();
    // Every agent offered once; all offers kept.
    let mut held: Vec<Option<meso_allocator::Offer>> = vec![None; agents];
    for offer in allocator.allocate(now) {
        let index: usize = offer.agent["agent-".len()..]
            .parse()
            .expect("agent ids are agent-N");
        held[index] = Some(offer);
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut incremental = (Vec::new(), Vec::new());
    let mut full = (Vec::new(), Vec::new());
    let mut offers_made = Vec::new();
    for r in 0..rounds * 2 {
        for _ in 0..changed {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = (state % agents as u64) as usize;
            if let Some(offer) = held[index].take() {
                allocator
                    .recover_resources(
                        &offer.framework,
                        &offer.agent,
                        &offer.role,
                        &offer.resources,
                    )
                    .expect("a kept offer can be given back");
            }
        }
        now = now.after(Duration::from_secs(1));
        let started = Instant::now();
        let cpu_started = thread_cpu_ms();
        let offers = if r % 2 == 0 {
            allocator.allocate(now)
        } else {
            allocator.allocate_full(now)
        };
        let cpu = thread_cpu_ms() - cpu_started;
        let wall = started.elapsed().as_secs_f64() * 1e3;
        let into = if r % 2 == 0 {
            &mut incremental
        } else {
            &mut full
        };
        into.0.push(wall);
        into.1.push(cpu);
        offers_made.push(offers.len() as f64);
        for offer in offers {
            let index: usize = offer.agent["agent-".len()..]
                .parse()
                .expect("agent ids are agent-N");
            if let Some(old) = held[index].replace(offer) {
                // A second offer on the agent (e.g. its reserved part): give the first back.
                allocator
                    .recover_resources(&old.framework, &old.agent, &old.role, &old.resources)
                    .expect("a kept offer can be given back");
            }
        }
    }
    (
        (median(&incremental.0), median(&incremental.1)),
        (median(&full.0), median(&full.1)),
        median(&offers_made) as usize,
    )
}

/// A deterministic xorshift64 step (the benchmark draws the same churn every run).
fn next_draw(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn agent_index(agent: &str) -> usize {
    agent["agent-".len()..]
        .parse()
        .expect("agent ids are agent-N")
}

/// The steady-state scenario (issue 22's `allocation_round_ms_<N>_agents_1k_frameworks`):
/// after a first round whose offers are all kept (launched on), each round (one simulated
/// second) sees this churn before it is made: the tasks on 1% of the agents end (their
/// resources are recovered), 0.1% of the agents restart (removed, then added again with
/// the baseline framework's tasks, their offers gone), and after it half of the round's
/// offers are declined with Mesos's default 5 s filter, the other half kept. Rounds
/// alternate between `allocate` and `allocate_full` on the same allocator. Returns
/// (incremental, full) medians of (wall ms, thread CPU ms) and the median offers per round.
fn run_steady(agents: usize, frameworks: usize, rounds: usize) -> ((f64, f64), (f64, f64), usize) {
    let (mut allocator, _) = setup(agents, frameworks, false);
    let total = Resources::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]", "*")
        .expect("the benchmark agent parses");
    let used = used_resources();
    let mut now = Timestamp::default();
    let mut held: Vec<Option<meso_allocator::Offer>> = vec![None; agents];
    for offer in allocator.allocate(now) {
        let index = agent_index(&offer.agent);
        held[index] = Some(offer);
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut incremental = (Vec::new(), Vec::new());
    let mut full = (Vec::new(), Vec::new());
    let mut offers_made = Vec::new();
    // A few rounds first so that filters set by declines start expiring (steady state).
    let warmup = 6;
    for r in 0..warmup + rounds * 2 {
        for _ in 0..agents / 100 {
            let index = (next_draw(&mut state) % agents as u64) as usize;
            if let Some(offer) = held[index].take() {
                allocator
                    .recover_resources(
                        &offer.framework,
                        &offer.agent,
                        &offer.role,
                        &offer.resources,
                    )
                    .expect("a kept offer can be given back");
            }
        }
        for _ in 0..agents / 1000 {
            let index = (next_draw(&mut state) % agents as u64) as usize;
            let id = format!("agent-{index}");
            allocator
                .remove_agent(&id)
                .expect("benchmark agents stay known");
            held[index] = None;
            let owner = format!("framework-{}", index % frameworks);
            allocator
                .add_agent(&id, &total, &[(owner, "*".to_string(), used.clone())])
                .expect("a restarted agent is added again");
        }
        now = now.after(Duration::from_secs(1));
        let started = Instant::now();
        let cpu_started = thread_cpu_ms();
        let offers = if r % 2 == 0 {
            allocator.allocate(now)
        } else {
            allocator.allocate_full(now)
        };
        let cpu = thread_cpu_ms() - cpu_started;
        let wall = started.elapsed().as_secs_f64() * 1e3;
        if r >= warmup {
            let into = if r % 2 == 0 {
                &mut incremental
            } else {
                &mut full
            };
            into.0.push(wall);
            into.1.push(cpu);
            offers_made.push(offers.len() as f64);
        }
        for offer in offers {
            if next_draw(&mut state) % 2 == 0 {
                allocator
                    .decline(&offer, Some(5.0), now)
                    .expect("an offer just made can be declined");
                continue;
            }
            let index = agent_index(&offer.agent);
            if let Some(old) = held[index].replace(offer) {
                allocator
                    .recover_resources(&old.framework, &old.agent, &old.role, &old.resources)
                    .expect("a kept offer can be given back");
            }
        }
    }
    (
        (median(&incremental.0), median(&incremental.1)),
        (median(&full.0), median(&full.1)),
        median(&offers_made) as usize,
    )
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
fn run_until_all_declined(agents: usize, frameworks: usize, controls: bool) -> (f64, f64) {
    let (mut allocator, _) = setup(agents, frameworks, controls);
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
        &[(1_000, 100, "1k_agents_100_frameworks_decline_offers")]
    } else {
        &[
            (10_000, 1_000, "10k_agents_1k_frameworks_decline_offers"),
            (20_000, 2_000, "20k_agents_2k_frameworks_decline_offers"),
            (50_000, 1_000, "50k_agents_1k_frameworks_decline_offers"),
        ]
    };
    // `--only LABEL` runs one scenario (for profiling).
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let runs = grid.iter().flat_map(|&(agents, frameworks, label)| {
        [
            (agents, frameworks, label.to_string(), false),
            (agents, frameworks, format!("{label}_controls"), true),
        ]
    });
    for (agents, frameworks, label, controls) in runs {
        if only.is_some_and(|o| *o != label) {
            continue;
        }
        let figures = run(agents, frameworks, rounds, controls);
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
            let suffix = if controls { "_controls" } else { "" };
            println!("add_agent_us{suffix}: {:.2} us", figures.add_agent_us);
        }
    }
    let steady: &[(usize, usize, &str)] = if quick {
        &[(1_000, 100, "1k_agents_100_frameworks")]
    } else {
        &[
            (10_000, 1_000, "10k_agents_1k_frameworks"),
            (50_000, 1_000, "50k_agents_1k_frameworks"),
        ]
    };
    for &(agents, frameworks, label) in steady {
        if only.is_some_and(|o| *o != label) {
            continue;
        }
        let ((wall, cpu), (full_wall, full_cpu), offers) = run_steady(agents, frameworks, rounds);
        println!("# {label}: steady state, per round: tasks end on 1% of the agents, 0.1% restart, half the offers are declined (5 s filter); median offers per round {offers}");
        println!("allocation_round_ms_{label}: {wall:.2} ms");
        println!("allocation_round_cpu_ms_{label}: {cpu:.2} ms");
        println!("allocation_round_ms_{label}_full: {full_wall:.2} ms");
        println!("allocation_round_cpu_ms_{label}_full: {full_cpu:.2} ms");
    }
    let churn: &[(usize, usize, usize, &str)] = if quick {
        &[(1_000, 100, 10, "1k_agents_100_frameworks_churn_10_agents")]
    } else {
        &[
            (
                10_000,
                1_000,
                100,
                "10k_agents_1k_frameworks_churn_100_agents",
            ),
            (
                50_000,
                1_000,
                500,
                "50k_agents_1k_frameworks_churn_500_agents",
            ),
        ]
    };
    for &(agents, frameworks, changed, label) in churn {
        for (controls, suffix) in [(false, ""), (true, "_controls")] {
            let label = format!("{label}{suffix}");
            if only.is_some_and(|o| *o != label) {
                continue;
            }
            let ((wall, cpu), (full_wall, full_cpu), offers) =
                run_churn(agents, frameworks, changed, rounds, controls);
            eprintln!("# {label}: median offers per round {offers}");
            println!("allocation_round_ms_{label}: {wall:.2} ms");
            println!("allocation_round_cpu_ms_{label}: {cpu:.2} ms");
            println!("allocation_round_ms_{label}_full: {full_wall:.2} ms");
            println!("allocation_round_cpu_ms_{label}_full: {full_cpu:.2} ms");
        }
    }
    for (controls, suffix) in [(false, ""), (true, "_controls")] {
        let label = format!("10k_agents_100_frameworks_all_declined{suffix}");
        if !quick && only.is_none_or(|o| *o == label) {
            let (first, later) = run_until_all_declined(10_000, 100, controls);
            println!(
                "allocation_round_ms_10k_agents_100_frameworks_first_all_declined{suffix}: {first:.2} ms"
            );
            println!("allocation_round_ms_{label}: {later:.2} ms");
        }
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
