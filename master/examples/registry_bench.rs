//! Registry write benchmark: three raft nodes in this one OS process, each a libprocess node
//! on its own loopback port (real TCP between them) with its own redb store (fsync on every
//! write) in a temp dir (or under `--dir`). Prints `name: value unit` lines:
//!
//! - `fsync_commit_ms_p50`: one redb write transaction (one entry) on its own: the disk's
//!   floor, measured first as a baseline for this machine;
//! - `registry_write_ms_p50` / `_p99`: one writer proposing `AdmitAgent` and waiting for the
//!   commit before the next (leader appends + fsyncs, a quorum acknowledges, applied);
//! - `registry_writes_per_s_batched`: `--window` proposals kept in flight; the log batches
//!   whatever queued while it was busy into one entry per append.
//!
//! Usage: `registry_bench [--writes N] [--batched N] [--window N] [--dir PATH] [--quick]`;
//! with `REGISTRY_BENCH_METRICS=1` it also prints each node's `registrar/raft/ready` timer
//! (one ready state handled: append, durable write, apply) to stderr.

use futures::stream::{FuturesUnordered, StreamExt};
use libprocess::Node;
use meso_api::v1::{AgentId, AgentInfo};
use meso_master::raftlog::{DiskStorage, RaftLog, RaftLogOptions};
use meso_registry::{Operation, Registry};
use raft::eraftpb::Entry;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Args {
    writes: usize,
    batched: usize,
    window: usize,
    dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        writes: 1000,
        batched: 100_000,
        window: 8192,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<usize>()
                .map_err(|e| format!("{name} {v:?}: {e}"))
                .and_then(|n| {
                    if n == 0 {
                        Err(format!("{name} must be positive"))
                    } else {
                        Ok(n)
                    }
                })
        };
        match flag.as_str() {
            "--writes" => args.writes = number("--writes", value("--writes")?)?,
            "--batched" => args.batched = number("--batched", value("--batched")?)?,
            "--window" => args.window = number("--window", value("--window")?)?,
            "--dir" => args.dir = Some(PathBuf::from(value("--dir")?)),
            "--quick" => {
                args.writes = 50;
                args.batched = 2000;
                args.window = 512;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn agent(n: usize) -> Operation {
    let mut info = AgentInfo::new(&format!("host{n}.example"));
    info.id = Some(AgentId::new(format!("bench-agent-{n}")));
    Operation::AdmitAgent(info)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fsync_baseline(dir: &std::path::Path, count: usize) -> Result<f64, String> {
    let mut storage = DiskStorage::open(dir, &[1]).map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(count);
    for index in 1..=count as u64 {
        let entry = Entry {
            index,
            term: 1,
            data: vec![7u8; 200].into(),
            ..Default::default()
        };
        let start = Instant::now();
        storage.persist(&[entry], None).map_err(|e| e.to_string())?;
        samples.push(ms(start.elapsed()));
    }
    samples.sort_by(f64::total_cmp);
    Ok(percentile(&samples, 0.5))
}

async fn run(args: Args) -> Result<(), String> {
    let base = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            tempfile::tempdir_in(d)
        }
        None => tempfile::tempdir(),
    }
    .map_err(|e| format!("temp dir: {e}"))?;

    let baseline = fsync_baseline(&base.path().join("baseline"), args.writes.min(500))?;
    println!("fsync_commit_ms_p50: {baseline:.3} ms");

    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::builder().build().await.map_err(|e| e.to_string())?);
    }
    let addrs: Vec<SocketAddr> = nodes.iter().map(Node::addr).collect();
    let mut logs = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let options = RaftLogOptions::new(i as u64 + 1, &addrs);
        let dir = base.path().join(format!("node{}", i + 1));
        logs.push(RaftLog::<Registry>::start(node, options, &dir).map_err(|e| e.to_string())?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let leader = loop {
        if let Some(l) = logs.iter().find(|l| l.leader().is_leader) {
            break l.clone();
        }
        if Instant::now() > deadline {
            return Err("no leader elected within 60 s".to_string());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // One writer: each write waits for its commit.
    let mut samples = Vec::with_capacity(args.writes);
    for n in 0..args.writes + 20 {
        let start = Instant::now();
        let outcome = leader.propose(agent(n)).await.map_err(|e| e.to_string())?;
        outcome.map_err(|e| e.to_string())?;
        if n >= 20 {
            samples.push(ms(start.elapsed()));
        }
    }
    samples.sort_by(f64::total_cmp);
    println!("registry_write_ms_p50: {:.3} ms", percentile(&samples, 0.5));
    println!(
        "registry_write_ms_p99: {:.3} ms",
        percentile(&samples, 0.99)
    );

    // Many writers: keep `window` proposals in flight.
    let first = args.writes + 20;
    let start = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut next = first;
    let end = first + args.batched;
    let mut done = 0usize;
    while done < args.batched {
        while next < end && in_flight.len() < args.window {
            let log = leader.clone();
            let op = agent(next);
            in_flight.push(async move { log.propose(op).await });
            next += 1;
        }
        match in_flight.next().await {
            Some(Ok(Ok(()))) => done += 1,
            Some(Ok(Err(e))) => return Err(format!("registry refused a write: {e}")),
            Some(Err(e)) => return Err(format!("write failed: {e}")),
            None => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "registry_writes_per_s_batched: {:.0} writes/s",
        args.batched as f64 / elapsed
    );
    let stats = leader
        .inspect(|r, stats| (r.admitted().count(), stats))
        .await
        .map_err(|e| e.to_string())?;
    println!("registry_agents_admitted: {} agents", stats.0);
    println!("raft_log_entries_held: {} entries", stats.1.entries);
    if std::env::var_os("REGISTRY_BENCH_METRICS").is_some() {
        for (i, node) in nodes.iter().enumerate() {
            for (name, value) in node.metrics().snapshot() {
                if name.starts_with("registrar/raft/ready") {
                    eprintln!("node{} {name}: {value}", i + 1);
                }
            }
        }
    }
    for log in &logs {
        log.stop();
    }
    for node in &nodes {
        node.shutdown().await;
    }
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("registry_bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("invariant: a tokio runtime can be built");
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("registry_bench: {e}");
        std::process::exit(1);
    }
}
