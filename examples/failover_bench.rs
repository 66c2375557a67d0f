//! Failover benchmark (`scripts/bench/failover.sh`): three release `meso master` processes
//! with `--peers` on loopback ports and `meso agent-emulator` with `--agents` emulated agents
//! (`--tasks-per-agent` tasks each) registered with them; then `--kills` times: kill -9 the
//! leader, time until a surviving master answers a v1 scheduler SUBSCRIBE (failover: the
//! client starts at the next master of the `--master` list, follows 307s and asks again
//! after a 503 or a refused connection), and until every emulated agent has re-registered
//! (re-registration), then restart the killed master on its work dir and let it catch up.
//!
//! Prints `name: value unit` lines: `failover_ms_p50`, `failover_ms_max` (kill -9 -> first
//! SUBSCRIBED event), `failover_elected_ms_p50`/`_max` (kill -9 -> the new leader's log line
//! `elected: this master leads`; its `at_unix_ms`, since a leader busy with re-registrations
//! answers a `/metrics/snapshot` poll late), `reregister_ms_<N>_agents` (p50 over the kills,
//! from that log line to the last agent re-registered), `reregister_ms_<N>_agents_max`, and
//! `reregister_from_kill_ms_p50`/`_max`. Beside the re-registration figures it prints the
//! new leader's CPU time (utime + stime from `/proc`, which other processes on a shared
//! machine do not inflate) from the kill to the last agent back: `reregister_leader_cpu_ms`
//! (p50, `_max`) and `reregister_leader_cpu_us_per_agent` (p50).
//! Usage: failover_bench [--meso PATH] [--kills N] [--agents N] [--tasks-per-agent M]
//! [--answer-timeout DURATION (the emulator's, default 2secs)] [--max-answer-timeout
//! DURATION (the emulator's cap of that wait, which doubles per unanswered attempt; default
//! 1mins; equal to --answer-timeout: a fixed wait)] [--keep-dir PATH (work dirs and logs stay
//! there)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use meso_testkit::eventually::eventually_within;
use meso_testkit::masters::{self, Masters};
use meso_testkit::process::Proc;
use meso_testkit::subscribe;

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

/// utime + stime of process `pid` in ms (`None` once it is gone).
fn cpu_ms(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`, which may hold spaces: utime is field 14, stime 15.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // /proc counts in USER_HZ ticks, 100 per second on Linux.
    Some(ticks * 10.0)
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
    let mut max_answer_timeout = String::from("1mins");
    let mut keep_dir: Option<std::path::PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--meso" => meso = value().into(),
            "--kills" => kills = value().parse().expect("--kills: a number"),
            "--agents" => agents = value().parse().expect("--agents: a number"),
            "--tasks-per-agent" => tasks = value().parse().expect("--tasks-per-agent: a number"),
            "--answer-timeout" => answer_timeout = value(),
            "--max-answer-timeout" => max_answer_timeout = value(),
            "--keep-dir" => keep_dir = Some(value().into()),
            other => panic!("unknown argument {other}"),
        }
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = match &keep_dir {
        Some(d) => {
            std::fs::create_dir_all(d).expect("--keep-dir is creatable");
            d.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let mut masters = Masters::start(&meso, &dir, 3, &[]);
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
            "--max-answer-timeout",
            &max_answer_timeout,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("emulator.log")).expect("emulator log"),
        ))
        .spawn()
        .expect("meso agent-emulator starts");
    let stdout = emulator.stdout.take().expect("piped stdout");
    let _emulator = Proc(emulator);
    let (waves_tx, waves) = mpsc::channel();
    let mut progress_log =
        std::fs::File::create(dir.join("emulator.out")).expect("emulator progress file");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = writeln!(progress_log, "{} {line}", unix_ms());
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
    let mut elected = Vec::new();
    let mut rereg = Vec::new();
    let mut rereg_from_kill = Vec::new();
    let mut leader_cpu = Vec::new();
    for kill in 1..=kills {
        let old = masters.wait_leader(GUARD);
        let killed_at = Instant::now();
        let killed_ms = unix_ms();
        // CPU of every survivor at the kill: the one that leads is read again at the end.
        let cpu_at_kill: Vec<Option<f64>> = (0..masters.ports.len())
            .map(|i| masters.pid(i).filter(|_| i != old).and_then(cpu_ms))
            .collect();
        masters.kill9(old);
        // The elected figure is watched on another thread so that it does not delay the
        // SUBSCRIBE client.
        let ports = masters.ports.clone();
        let watcher = std::thread::spawn(move || {
            let mut found = None;
            eventually_within("a surviving master shows master/elected = 1", GUARD, || {
                found = (0..ports.len())
                    .filter(|&i| i != old)
                    .find(|&i| masters::serves_as_leader_on(ports[i]));
                found.is_some()
            });
            (found, killed_at.elapsed().as_secs_f64() * 1e3)
        });
        let start = (old + 1) % masters.ports.len();
        let (_, port) = subscribe::subscribe_any(&masters.ports, start, GUARD);
        let failover_ms = killed_at.elapsed().as_secs_f64() * 1e3;
        let (new, elected_ms) = watcher.join().expect("the elected watcher does not panic");
        let new = new.expect("a leader was found");
        assert_eq!(
            masters.ports[new], port,
            "the master that answered SUBSCRIBE is the elected one"
        );
        let (wave, at) = waves
            .recv_timeout(GUARD)
            .expect("every agent re-registered after the failover");
        let cpu = masters
            .pid(new)
            .and_then(cpu_ms)
            .zip(cpu_at_kill[new])
            .map(|(end, start)| end - start);
        // The leader's own log says when it was elected; the poll above only bounds it.
        let elected_at = masters
            .elected_at_unix_ms(new)
            .unwrap_or(killed_ms + elected_ms.round() as u64);
        let elected_ms = elected_at.saturating_sub(killed_ms) as f64;
        let serving_ms = elected_at;
        let rereg_ms = at.saturating_sub(serving_ms) as f64;
        eprintln!(
            "kill {kill}: master {old} -> {new}: SUBSCRIBED {failover_ms:.0} ms, elected {elected_ms:.0} ms, all agents back {rereg_ms:.0} ms after elected, {} ms after the kill (wave {wave}); leader CPU {} ms",
            at.saturating_sub(killed_ms),
            cpu.map_or("?".to_string(), |c| format!("{c:.0}"))
        );
        if let Some(cpu) = cpu {
            leader_cpu.push(cpu);
        }
        failover.push(failover_ms);
        elected.push(elected_ms);
        rereg.push(rereg_ms);
        rereg_from_kill.push(at.saturating_sub(killed_ms) as f64);
        masters.spawn(old);
        // Under load leadership can move again on its own (a leader that misses its
        // followers' acks steps down): follow whichever master leads now.
        eventually_within("the restarted master follows the leader", GUARD, || {
            masters
                .leader_now()
                .is_some_and(|leader| leader != old && masters.follows(old, masters.ports[leader]))
        });
        // Let it catch up on the log before the next kill can need its vote.
        std::thread::sleep(Duration::from_millis(500));
    }
    println!("# failover: kill -9 of the leader -> a surviving master answers a v1 scheduler SUBSCRIBE (first SUBSCRIBED event; the client follows 307s, retries 503s) ({kills} kills)");
    println!("failover_ms_p50: {:.0} ms", percentile(&failover, 50.0));
    println!("failover_ms_max: {:.0} ms", percentile(&failover, 100.0));
    println!(
        "# kill -9 of the leader -> the new leader logs `elected: this master leads` (at_unix_ms)"
    );
    println!(
        "failover_elected_ms_p50: {:.0} ms",
        percentile(&elected, 50.0)
    );
    println!(
        "failover_elected_ms_max: {:.0} ms",
        percentile(&elected, 100.0)
    );
    println!("# re-registration: the new leader logs `elected` -> the last of {agents} emulated agents ({tasks} tasks each) re-registered");
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
    println!("# the new leader's CPU time (utime + stime) from the kill to the last agent back");
    println!(
        "reregister_leader_cpu_ms: {:.0} ms",
        percentile(&leader_cpu, 50.0)
    );
    println!(
        "reregister_leader_cpu_ms_max: {:.0} ms",
        percentile(&leader_cpu, 100.0)
    );
    println!(
        "reregister_leader_cpu_us_per_agent: {:.1} us",
        percentile(&leader_cpu, 50.0) * 1e3 / agents.max(1) as f64
    );
    println!(
        "reregister_from_kill_ms_p50: {:.0} ms",
        percentile(&rereg_from_kill, 50.0)
    );
    println!(
        "reregister_from_kill_ms_max: {:.0} ms",
        percentile(&rereg_from_kill, 100.0)
    );
}
