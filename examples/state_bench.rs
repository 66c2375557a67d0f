//! The master's state at scale with emulated agents (`scripts/bench/http.sh --agents N`, issue
//! 22): three release `meso master --peers` processes and `meso agent-emulator` with
//! `--agents` agents; once they have registered, the leader is killed so that every agent
//! re-registers with the new leader reporting its `--tasks-per-agent` running tasks (the
//! emulator reports tasks on re-registration only). Then, on the new leader, each `--runs`
//! times over a fresh loopback connection, timed from the request to the last byte needed:
//! - `GET /master/state` (the whole body): `master_state_ms_<N>_agents_<M>_tasks`;
//! - the operator API's `GET_STATE` (`POST /api/v1`, JSON, the whole body):
//!   `get_state_ms_<N>_agents_<M>_tasks`;
//! - the operator API's `SUBSCRIBE`, to the end of its first event (`SUBSCRIBED`, which
//!   carries the whole state): `subscribe_first_event_ms_<N>_agents_<M>_tasks`.
//!
//! Beside each wall-time p50 it prints the master's CPU time over the same call (utime +
//! stime of the process from `/proc`, which other processes on a shared machine do not
//! inflate) and the body size. First, `master_rss_mb_<N>_agents` (VmRSS of the settled
//! leader before the calls), `master_rss_mb_<N>_agents_no_tasks` (the first leader before
//! the kill, agents registered without tasks: the same-run baseline) and
//! `reregister_ms_<N>_agents` for that one failover; last, the RSS after the calls and the
//! peak (VmHWM).
//!
//! With `--perf-dir DIR`, one more call of each kind after the timed ones runs under
//! `perf record -F 999 -p <leader>` (not counted in the figures), written to
//! `DIR/<figure>.data` for `perf report -i`.
//!
//! Usage: state_bench [--meso PATH] [--agents N (50000)] [--tasks-per-agent M (10)]
//! [--runs R (5)] [--answer-timeout DURATION (the emulator's, default 30secs)] [--keep-dir PATH]
//! [--perf-dir DIR]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use meso_testkit::http::wire::{split_head, Chunked, Records};
use meso_testkit::masters::Masters;
use meso_testkit::process::Proc;

const GUARD: Duration = Duration::from_secs(600);

fn p50(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A `/proc/PID/status` field in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of process `pid`, in ms.
fn cpu_ms(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the master runs");
    // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
    let rest = &text[text.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    // /proc counts in USER_HZ ticks, 100 per second on Linux.
    ticks * 10.0
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

/// Sends `request` on a fresh connection and reads the answer to its close; returns the
/// body length (a 200 is required).
fn whole(addr: SocketAddr, request: &[u8]) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect to the leader");
    s.set_read_timeout(Some(GUARD)).expect("a hang guard");
    s.write_all(request).expect("send the request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let (start, status, _) = split_head(&raw).expect("a response head");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw[..start]));
    raw.len() - start
}

/// Opens an operator SUBSCRIBE and reads until its first event is complete; returns the
/// event's length.
fn first_event(addr: SocketAddr) -> usize {
    let body = r#"{"type":"SUBSCRIBE"}"#;
    let request = format!(
        "POST /api/v1 HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).expect("connect to the leader");
    s.set_read_timeout(Some(GUARD)).expect("a hang guard");
    s.write_all(request.as_bytes()).expect("send SUBSCRIBE");
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 1 << 18];
    let (start, status) = loop {
        if let Some((start, status, _)) = split_head(&raw) {
            break (start, status);
        }
        let n = s.read(&mut buf).expect("read the head");
        assert!(n > 0, "closed before the head");
        raw.extend_from_slice(&buf[..n]);
    };
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw[..start]));
    let mut chunked = Chunked::default();
    let mut records = Records::default();
    records.feed(&chunked.feed(&raw[start..]));
    loop {
        if let Some(record) = records.next_record() {
            return record.len();
        }
        let n = s.read(&mut buf).expect("read the first event");
        assert!(n > 0, "closed before the first event");
        records.feed(&chunked.feed(&buf[..n]));
    }
}

/// One more `call` with `perf record` sampling the master `pid` into `dir/<name>.data`.
fn profiled(dir: &std::path::Path, name: &str, pid: u32, call: impl Fn() -> usize) {
    let out = dir.join(format!("{name}.data"));
    let perf = Command::new("perf")
        .args(["record", "-q", "-F", "999", "-p", &pid.to_string(), "-o"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut perf) = perf else {
        eprintln!("# perf did not start: no profile for {name}");
        return;
    };
    // perf needs a moment to attach before the call it is to see.
    std::thread::sleep(Duration::from_millis(500));
    call();
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let _ = perf.wait();
    eprintln!(
        "# profile of one {name} call: perf report -i {}",
        out.display()
    );
}

/// Runs `call` `runs` times; prints the wall and master-CPU p50 and the size.
fn measure(name: &str, runs: usize, pid: u32, call: impl Fn() -> usize) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let cpu_start = cpu_ms(pid);
        let start = Instant::now();
        size = call();
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        cpu.push(cpu_ms(pid) - cpu_start);
    }
    eprintln!("# {name}: wall {wall:.0?} ms, master cpu {cpu:.0?} ms");
    println!("{name}: {:.0} ms", p50(&wall));
    println!(
        "{}: {:.0} ms",
        name.replacen("_ms_", "_master_cpu_ms_", 1),
        p50(&cpu)
    );
    println!("{}: {size} bytes", name.replacen("_ms_", "_bytes_", 1));
}

fn count(n: usize) -> String {
    if n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn main() {
    let mut meso = std::path::PathBuf::from("target/release/meso");
    let mut agents = 50_000usize;
    let mut tasks = 10usize;
    let mut runs = 5usize;
    let mut keep_dir: Option<std::path::PathBuf> = None;
    let mut perf_dir: Option<std::path::PathBuf> = None;
    let mut answer_timeout = String::from("30secs");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--meso" => meso = value().into(),
            "--agents" => agents = value().parse().expect("--agents: a number"),
            "--tasks-per-agent" => tasks = value().parse().expect("--tasks-per-agent: a number"),
            "--runs" => runs = value().parse().expect("--runs: a number"),
            "--keep-dir" => keep_dir = Some(value().into()),
            "--perf-dir" => perf_dir = Some(value().into()),
            "--answer-timeout" => answer_timeout = value(),
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
    let first = masters.wait_leader(GUARD);
    let spread = format!("{}secs", (agents / 10_000).max(2));
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
            &spread,
            // A leader busy with tens of thousands of re-registrations answers late; agents
            // that resend early only fill its mailbox (see BENCHMARKS.md, Session 9).
            "--answer-timeout",
            &answer_timeout,
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
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(wave) = parse_wave(&line) {
                if waves_tx.send(wave).is_err() {
                    return;
                }
            }
        }
    });
    waves.recv_timeout(GUARD).expect("all agents registered");
    std::thread::sleep(Duration::from_secs(2));
    let first_pid = masters.pid(first).expect("the first leader runs");
    let rss_no_tasks = status_kb(first_pid, "VmRSS:").unwrap_or(0);
    eprintln!("{agents} agents registered; killing leader {first} so they re-register with {tasks} tasks each");
    masters.kill9(first);
    let (_, at) = waves
        .recv_timeout(GUARD)
        .expect("every agent re-registered after the failover");
    let leader = masters.wait_leader(GUARD);
    let elected = masters.elected_at_unix_ms(leader).unwrap_or(at);
    let pid = masters.pid(leader).expect("the leader runs");
    let addr = SocketAddr::from(([127, 0, 0, 1], masters.ports[leader]));
    // Let the leader settle (allocation of the re-registered agents, registry writes).
    std::thread::sleep(Duration::from_secs(3));
    let n = count(agents);
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "master_rss_mb_{n}_agents: {:.0} MB (settled, before the calls)",
        mb(status_kb(pid, "VmRSS:").unwrap_or(0))
    );
    println!(
        "master_rss_mb_{n}_agents_no_tasks: {:.0} MB (the first leader, same run)",
        mb(rss_no_tasks)
    );
    println!(
        "reregister_ms_{n}_agents: {} ms (one failover)",
        at.saturating_sub(elected)
    );
    let label = format!("{}_agents_{}_tasks", count(agents), count(agents * tasks));
    let state_get = b"GET /master/state HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    let profile = |name: &str, call: &dyn Fn() -> usize| {
        if let Some(dir) = &perf_dir {
            std::fs::create_dir_all(dir).expect("--perf-dir is creatable");
            profiled(dir, name, pid, call);
        }
    };
    let name = format!("master_state_ms_{label}");
    measure(&name, runs, pid, || whole(addr, state_get));
    profile(&name, &|| whole(addr, state_get));
    let body = r#"{"type":"GET_STATE"}"#;
    let get_state = format!(
        "POST /api/v1 HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let name = format!("get_state_ms_{label}");
    measure(&name, runs, pid, || whole(addr, get_state.as_bytes()));
    profile(&name, &|| whole(addr, get_state.as_bytes()));
    let name = format!("subscribe_first_event_ms_{label}");
    measure(&name, runs, pid, || first_event(addr));
    profile(&name, &|| first_event(addr));
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "master_rss_mb_{n}_agents_after_calls: {:.0} MB",
        mb(status_kb(pid, "VmRSS:").unwrap_or(0))
    );
    println!(
        "master_rss_peak_mb_{n}_agents: {:.0} MB",
        mb(status_kb(pid, "VmHWM:").unwrap_or(0))
    );
}
