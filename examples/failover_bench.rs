//! Failover benchmark (`scripts/bench/failover.sh`): three release `meso master` processes
//! with `--peers` on loopback ports and `meso agent-emulator` with `--agents` emulated agents
//! (`--tasks-per-agent` tasks each) registered with them; then `--kills` times: kill -9 the
//! leader, time until a surviving master serves as the elected leader (`master/elected`)
//! (failover), and until every emulated agent has re-registered with it (re-registration),
//! then restart the killed master on its work dir and let it catch up.
//!
//! Prints `name: value unit` lines: `failover_ms_p50`, `failover_ms_max`,
//! `reregister_ms_<N>_agents` (p50 over the kills, from the new leader serving to the last
//! agent re-registered), `reregister_ms_<N>_agents_max`, and `reregister_from_kill_ms_p50`.
//! Usage: failover_bench [--meso PATH] [--kills N] [--agents N] [--tasks-per-agent M]
//! [--answer-timeout DURATION (the emulator's, default 2secs)]

#[path = "../tests/support/masters.rs"]
mod masters;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use masters::{wait_until, Masters, Proc};

const GUARD: Duration = Duration::from_secs(300);

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[rank.min(v.len() - 1)]
}

/// One `emulator all_registered ...` line: (wave, at_unix_ms).
fn parse_wave(line: &str) -> Option<(u64, u64)> {
    if !line.starts_with("emulator all_registered") {
        return None;
    }
    let field = |name: &str| {
        line.split_whitespace().find_map(|kv| {
            kv.strip_prefix(name)?
                .strip_prefix('=')?
                .parse::<u64>()
                .ok()
        })
    };
    Some((field("wave")?, field("at_unix_ms")?))
}

fn main() {
    let mut meso = std::path::PathBuf::from("target/release/meso");
    let mut kills = 20usize;
    let mut agents = 10_000usize;
    let mut tasks = 10usize;
    let mut answer_timeout = String::from("2secs");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--meso" => meso = value().into(),
            "--kills" => kills = value().parse().expect("--kills: a number"),
            "--agents" => agents = value().parse().expect("--agents: a number"),
            "--tasks-per-agent" => tasks = value().parse().expect("--tasks-per-agent: a number"),
            "--answer-timeout" => answer_timeout = value(),
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(&meso, dir.path(), 3, &[]);
    masters.wait_leader(GUARD);

    let mut emulator = Command::new(&meso)
        .args([
            "agent-emulator",
            "--master",
            &masters.addresses(),
            "--agents",
            &agents.to_string(),
            "--tasks-per-agent",
            &tasks.to_string(),
            "--initial-spread",
            "2secs",
            "--answer-timeout",
            &answer_timeout,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("emulator.log")).expect("emulator log"),
        ))
        .spawn()
        .expect("meso agent-emulator starts");
    let stdout = emulator.stdout.take().expect("piped stdout");
    let _emulator = Proc(emulator);
    let (waves_tx, waves) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(wave) = parse_wave(&line) {
                if waves_tx.send(wave).is_err() {
                    return;
                }
            }
        }
    });
    let (first_wave, _) = waves.recv_timeout(GUARD).expect("all agents registered");
    eprintln!("{agents} agents registered (wave {first_wave})");

    let mut failover = Vec::new();
    let mut rereg = Vec::new();
    let mut rereg_from_kill = Vec::new();
    for kill in 1..=kills {
        let old = masters.wait_leader(GUARD);
        let killed_at = Instant::now();
        let killed_ms = unix_ms();
        masters.kill9(old);
        let mut new = None;
        wait_until("a new leader serves", GUARD, || {
            new = masters.leader_now();
            new.is_some()
        });
        let new = new.expect("a leader was found");
        let failover_ms = killed_at.elapsed().as_secs_f64() * 1e3;
        let served_ms = unix_ms();
        let (wave, at) = waves
            .recv_timeout(GUARD)
            .expect("every agent re-registered after the failover");
        let rereg_ms = at.saturating_sub(served_ms) as f64;
        eprintln!(
            "kill {kill}: master {old} -> {new}: failover {failover_ms:.0} ms, all agents back {rereg_ms:.0} ms later (wave {wave})"
        );
        failover.push(failover_ms);
        rereg.push(rereg_ms);
        rereg_from_kill.push(at.saturating_sub(killed_ms) as f64);
        masters.spawn(old);
        let leader_port = masters.ports[new];
        wait_until("the restarted master follows the leader", GUARD, || {
            masters.follows(old, leader_port)
        });
        // Let it catch up on the log before the next kill can need its vote.
        std::thread::sleep(Duration::from_millis(500));
    }
    println!("# failover: kill -9 of the leader -> a surviving master serves as the elected leader (master/elected = 1 in /metrics/snapshot; the v1 scheduler SUBSCRIBE is not on this branch yet) ({kills} kills)");
    println!("failover_ms_p50: {:.0} ms", percentile(&failover, 50.0));
    println!("failover_ms_max: {:.0} ms", percentile(&failover, 100.0));
    println!("# re-registration: new leader serving -> the last of {agents} emulated agents ({tasks} tasks each) re-registered");
    let count = if agents % 1000 == 0 {
        format!("{}k", agents / 1000)
    } else {
        agents.to_string()
    };
    println!(
        "reregister_ms_{count}_agents: {:.0} ms",
        percentile(&rereg, 50.0)
    );
    println!(
        "reregister_ms_{count}_agents_max: {:.0} ms",
        percentile(&rereg, 100.0)
    );
    println!(
        "reregister_from_kill_ms_p50: {:.0} ms",
        percentile(&rereg_from_kill, 50.0)
    );
}
