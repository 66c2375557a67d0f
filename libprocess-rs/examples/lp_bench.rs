//! lp_bench: throughput and latency of libprocess beside raw baselines measured in the same
//! run. Prints one `name: value unit` line per figure. Run by `scripts/bench/libprocess.sh`.
//!
//! Remote figures use two OS processes: this program starts a copy of itself in a child role
//! (`--role sink|echo|raw-sink|raw-echo|tokio-echo`) that prints its address on the first
//! stdout line. `tokio_tcp_rtt_*` is the raw ping-pong between two tokio programs on the same
//! runtime as the nodes: the latency floor of any transport built on tokio.

use clap::{Parser, ValueEnum};
use libprocess::{Context, Handlers, Node, Pid, Process, RemoteMessage, Upid};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    All,
    Sink,
    Echo,
    RawSink,
    RawEcho,
    TokioEcho,
}

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum, default_value_t = Role::All)]
    role: Role,
    /// Messages for the local figure.
    #[arg(long, default_value_t = 10_000_000)]
    local_count: u64,
    /// Messages for the remote one-way figure.
    #[arg(long, default_value_t = 5_000_000)]
    remote_count: u64,
    /// Round trips for the latency figures.
    #[arg(long, default_value_t = 20_000)]
    rtt_count: u64,
    /// Which figures to measure (with their baselines).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "local,remote,rtt"
    )]
    figures: Vec<Figure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Figure {
    Local,
    Remote,
    Rtt,
    /// The remote and rtt figures again with TLS on both ends (names prefixed `tls_`),
    /// beside the plain ones of the same run and their ratios.
    Tls,
}

const PAYLOAD: usize = 64;
/// The remote sink acknowledges every this many messages; the sender keeps at most
/// `WINDOW` unacknowledged (application-level flow control over at-most-once delivery).
const ACK_EVERY: u64 = 16_384;
const WINDOW: u64 = 8 * ACK_EVERY;

/// 64 payload bytes with no allocation on decode.
#[derive(Serialize, Deserialize, Clone)]
struct Blob([u8; 32], [u8; 32]);
impl RemoteMessage for Blob {
    const NAME: &'static str = "bench.Blob";
}

#[derive(Serialize, Deserialize)]
struct Ack(u64);
impl RemoteMessage for Ack {
    const NAME: &'static str = "bench.Ack";
}

/// The runtime every node of the benchmark runs on: tokio multi-thread with 2 workers, or
/// current-thread when `LP_BENCH_RUNTIME=current` (to compare scheduling costs).
fn runtime() -> tokio::runtime::Runtime {
    let mut builder = if std::env::var("LP_BENCH_RUNTIME").as_deref() == Ok("current") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    builder
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Prefix of the figures' names (`tls_` while the TLS figures run).
static PREFIX: std::sync::Mutex<&str> = std::sync::Mutex::new("");

fn line(name: &str, value: f64, unit: &str) {
    let prefix = *PREFIX.lock().expect("not poisoned");
    println!("{prefix}{name}: {value:.1} {unit}");
}

/// Where the TLS figures' certificates are (`cert.pem`, `key.pem`, `ca.pem`); children
/// inherit it, so both ends of a connection run TLS.
const TLS_DIR_ENV: &str = "LP_BENCH_TLS_DIR";

/// A node for the remote figures: plain, or TLS (client certificates required) when
/// `LP_BENCH_TLS_DIR` is set.
async fn bench_node() -> Node {
    let mut builder = Node::builder();
    if let Ok(dir) = std::env::var(TLS_DIR_ENV) {
        let dir = std::path::Path::new(&dir);
        let options = libprocess::TlsOptions {
            require_client_cert: true,
            support_downgrade: false,
        };
        let tls = libprocess::Tls::from_files(
            &dir.join("cert.pem"),
            &dir.join("key.pem"),
            &dir.join("ca.pem"),
            options,
        )
        .expect("benchmark certificates");
        builder = builder.tls(tls);
    }
    builder.build().await.expect("node")
}

/// Writes a CA and one certificate (for every node of the run) into a temporary directory.
fn make_certs() -> tempfile_dir::Dir {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let dir = tempfile_dir::Dir::new();
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca, ca_key);
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let key = KeyPair::generate().expect("key");
    let cert = leaf.signed_by(&key, &issuer).expect("leaf");
    std::fs::write(dir.0.join("ca.pem"), ca_cert.pem()).expect("write");
    std::fs::write(dir.0.join("cert.pem"), cert.pem()).expect("write");
    std::fs::write(dir.0.join("key.pem"), key.serialize_pem()).expect("write");
    dir
}

/// A directory removed when dropped.
mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("lp_bench_tls_{}", std::process::id()));
            std::fs::create_dir_all(&path).expect("temp dir");
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---------------------------------------------------------------- local

struct Counter {
    target: u64,
    seen: u64,
    done: Option<oneshot::Sender<Instant>>,
}

impl Process for Counter {
    type Message = u64;
    fn mailbox_capacity(&self) -> Option<usize> {
        // The flood is the point here: let the whole run queue up.
        Some(usize::MAX / 2)
    }
    fn handle(&mut self, _ctx: &mut Context<Self>, n: u64) {
        self.seen += 1;
        std::hint::black_box(n);
        if self.seen == self.target {
            if let Some(done) = self.done.take() {
                let _ = done.send(Instant::now());
            }
        }
    }
}

fn bench_local(count: u64) {
    let rt = runtime();
    let per_s = rt.block_on(async {
        let node = Node::builder().build().await.expect("node");
        let (tx, rx) = oneshot::channel();
        let pid: Pid<Counter> = node
            .spawn(Counter {
                target: count,
                seen: 0,
                done: Some(tx),
            })
            .expect("spawn");
        let start = Instant::now();
        tokio::spawn(async move {
            for n in 0..count {
                if pid.send(n).is_err() {
                    panic!("local send refused");
                }
            }
        });
        let end = rx.await.expect("counter finishes");
        node.shutdown().await;
        count as f64 / (end - start).as_secs_f64()
    });
    line("local_msgs_per_s", per_s, "msgs/s");

    let per_s = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let start = Instant::now();
        let consumer = tokio::spawn(async move {
            let mut seen = 0u64;
            while let Some(n) = rx.recv().await {
                std::hint::black_box(n);
                seen += 1;
                if seen == count {
                    break;
                }
            }
            Instant::now()
        });
        tokio::spawn(async move {
            for n in 0..count {
                let _ = tx.send(n);
            }
        });
        let end = consumer.await.expect("consumer");
        count as f64 / (end - start).as_secs_f64()
    });
    line("tokio_mpsc_msgs_per_s", per_s, "msgs/s");
}

// ---------------------------------------------------------------- child processes

struct ChildProc(Child);
impl Drop for ChildProc {
    fn drop(&mut self) {
        if std::env::var_os("LP_BENCH_CHILD_WRAP").is_some() {
            // SIGTERM, so a profiler wrapping the child writes its results.
            let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        } else {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Starts this program in a child role. `LP_BENCH_CHILD_WRAP` (e.g. `valgrind
/// --tool=callgrind`) is put in front of the child's command line, to profile one side.
fn start_child(role: &str) -> (ChildProc, String) {
    let own = std::env::current_exe().expect("own path");
    let wrap = std::env::var("LP_BENCH_CHILD_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(own);
            c
        }
        None => Command::new(own),
    };
    let mut child = command
        .args(["--role", role])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start child");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("child prints its address");
    (ChildProc(child), first.trim().to_string())
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`; lets the
/// report give CPU per message, which other load on the machine does not distort.
fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks; USER_HZ is 100 on every mainstream configuration.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn cpu_line(name: &str, before: Option<Duration>, after: Option<Duration>, messages: u64) {
    if let (Some(b), Some(a)) = (before, after) {
        line(
            name,
            (a - b).as_secs_f64() * 1e9 / messages as f64,
            "ns/msg",
        );
    }
}

fn announce(text: &str) {
    println!("{text}");
    std::io::stdout().flush().expect("stdout");
}

// ---------------------------------------------------------------- remote one-way

/// Counts blobs; acknowledges every ACK_EVERY to the sender.
struct Sink {
    seen: u64,
}
impl Process for Sink {
    type Message = Blob;
    fn mailbox_capacity(&self) -> Option<usize> {
        // Room for a whole window (the default 65536 would drop part of it).
        Some(2 * WINDOW as usize)
    }
    fn install(h: &mut Handlers<Self>) {
        h.on::<Blob>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, blob: Blob) {
        std::hint::black_box(&blob);
        self.seen += 1;
        if self.seen % ACK_EVERY == 0 {
            if let Some(from) = ctx.from().cloned() {
                // Benchmark: it measures, it does not recover; a lost ack would stall the run visibly.
                let _ = ctx.send(&from, Ack(self.seen));
            }
        }
    }
}

/// Sends `count` blobs keeping at most WINDOW unacknowledged.
struct Source {
    sink: Upid,
    /// Messages the sink had counted before this source started.
    base: u64,
    count: u64,
    sent: u64,
    done: Option<oneshot::Sender<Instant>>,
}
impl Source {
    fn fill(&mut self, ctx: &mut Context<Self>, acked: u64) {
        let blob = Blob([7; 32], [9; 32]);
        while self.sent < self.count && self.sent - acked < WINDOW {
            if ctx.send(&self.sink, blob.clone()).is_err() {
                panic!("remote send refused");
            }
            self.sent += 1;
        }
    }
}
impl Process for Source {
    type Message = Ack;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Ack>();
    }
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.fill(ctx, 0);
    }
    fn handle(&mut self, ctx: &mut Context<Self>, Ack(total): Ack) {
        let acked = total.saturating_sub(self.base);
        if acked >= self.count {
            if let Some(done) = self.done.take() {
                let _ = done.send(Instant::now());
            }
            return;
        }
        self.fill(ctx, acked);
    }
}

fn run_sink() {
    runtime().block_on(async {
        let node = bench_node().await;
        let pid = node.spawn_named("sink", Sink { seen: 0 }).expect("spawn");
        announce(&pid.upid().to_string());
        std::future::pending::<()>().await;
    });
}

fn bench_remote(count: u64) {
    let count = count.div_ceil(ACK_EVERY) * ACK_EVERY;
    let (child, upid) = start_child("sink");
    let child_pid = child.0.id().to_string();
    let sink: Upid = upid.parse().expect("sink upid");
    let mut cpu = (None, None, None, None);
    let per_s = runtime().block_on(async {
        let node = bench_node().await;
        // Warm the connection up first.
        let (tx, rx) = oneshot::channel();
        node.spawn(Source {
            sink: sink.clone(),
            base: 0,
            count: ACK_EVERY,
            sent: 0,
            done: Some(tx),
        })
        .expect("spawn");
        rx.await.expect("warm-up");
        let (tx, rx) = oneshot::channel();
        cpu.0 = cpu_time("self");
        cpu.1 = cpu_time(&child_pid);
        let start = Instant::now();
        node.spawn(Source {
            sink: sink.clone(),
            base: ACK_EVERY,
            count,
            sent: 0,
            done: Some(tx),
        })
        .expect("spawn");
        let end = rx.await.expect("remote run");
        cpu.2 = cpu_time("self");
        cpu.3 = cpu_time(&child_pid);
        node.shutdown().await;
        count as f64 / (end - start).as_secs_f64()
    });
    line("remote_msgs_per_s", per_s, "msgs/s");
    cpu_line("remote_send_cpu_ns_per_msg", cpu.0, cpu.2, count);
    cpu_line("remote_recv_cpu_ns_per_msg", cpu.1, cpu.3, count);
    drop(child);
}

fn run_raw_sink() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    announce(&listener.local_addr().expect("addr").to_string());
    let (mut s, _) = listener.accept().expect("accept");
    s.set_nodelay(true).expect("nodelay");
    let mut count_buf = [0u8; 8];
    s.read_exact(&mut count_buf).expect("count");
    let count = u64::from_le_bytes(count_buf);
    let mut buf = vec![0u8; 1 << 16];
    let (mut have, mut seen) = (0usize, 0u64);
    while seen < count {
        let n = s.read(&mut buf[have..]).expect("read");
        assert!(n > 0, "raw source closed early");
        have += n;
        let mut at = 0;
        while have - at >= 4 {
            let len = u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
            if have - at < 4 + len {
                break;
            }
            std::hint::black_box(&buf[at + 4..at + 4 + len]);
            at += 4 + len;
            seen += 1;
        }
        buf.copy_within(at..have, 0);
        have -= at;
    }
    s.write_all(&[1]).expect("ack");
}

fn bench_raw_remote(count: u64) {
    let (child, addr) = start_child("raw-sink");
    let child_pid = child.0.id().to_string();
    let addr: SocketAddr = addr.parse().expect("addr");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s.write_all(&count.to_le_bytes()).expect("count");
    let mut frame = Vec::with_capacity(4 + PAYLOAD);
    frame.extend_from_slice(&(PAYLOAD as u32).to_le_bytes());
    frame.extend_from_slice(&[7u8; PAYLOAD]);
    let per_batch = 1024;
    let batch: Vec<u8> = frame.repeat(per_batch);
    let (send_before, recv_before) = (cpu_time("self"), cpu_time(&child_pid));
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < count {
        let n = (count - sent).min(per_batch as u64) as usize;
        s.write_all(&batch[..n * frame.len()]).expect("write");
        sent += n as u64;
    }
    let mut ack = [0u8; 1];
    s.read_exact(&mut ack).expect("ack");
    let per_s = count as f64 / start.elapsed().as_secs_f64();
    let (send_after, recv_after) = (cpu_time("self"), cpu_time(&child_pid));
    line("raw_tcp_msgs_per_s", per_s, "msgs/s");
    cpu_line(
        "raw_tcp_send_cpu_ns_per_msg",
        send_before,
        send_after,
        count,
    );
    cpu_line(
        "raw_tcp_recv_cpu_ns_per_msg",
        recv_before,
        recv_after,
        count,
    );
}

// ---------------------------------------------------------------- round trips

/// Answers each blob to its sender.
struct Echo;
impl Process for Echo {
    type Message = Blob;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Blob>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, blob: Blob) {
        if let Some(from) = ctx.from().cloned() {
            // Benchmark: it measures, it does not recover; a lost echo would stall the run visibly.
            let _ = ctx.send(&from, blob);
        }
    }
}

fn run_echo() {
    runtime().block_on(async {
        let node = bench_node().await;
        let pid = node.spawn_named("echo", Echo).expect("spawn");
        announce(&pid.upid().to_string());
        std::future::pending::<()>().await;
    });
}

/// Sends one blob at a time and records each round trip.
struct Pinger {
    echo: Upid,
    left: u64,
    sent_at: Instant,
    samples: Vec<Duration>,
    done: Option<oneshot::Sender<Vec<Duration>>>,
}
impl Pinger {
    fn ping(&mut self, ctx: &mut Context<Self>) {
        self.sent_at = Instant::now();
        if ctx.send(&self.echo, Blob([1; 32], [2; 32])).is_err() {
            panic!("ping refused");
        }
    }
}
impl Process for Pinger {
    type Message = Blob;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Blob>();
    }
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.ping(ctx);
    }
    fn handle(&mut self, ctx: &mut Context<Self>, _blob: Blob) {
        self.samples.push(self.sent_at.elapsed());
        self.left -= 1;
        if self.left == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(std::mem::take(&mut self.samples));
            }
        } else {
            self.ping(ctx);
        }
    }
}

fn percentile_us(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort_unstable();
    let idx = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[idx].as_secs_f64() * 1e6
}

fn bench_rtt(count: u64) {
    let (_child, upid) = start_child("echo");
    let echo: Upid = upid.parse().expect("echo upid");
    let mut samples = runtime().block_on(async {
        let node = bench_node().await;
        let (tx, rx) = oneshot::channel();
        node.spawn(Pinger {
            echo,
            left: count + 1000,
            sent_at: Instant::now(),
            samples: Vec::new(),
            done: Some(tx),
        })
        .expect("spawn");
        let samples = rx.await.expect("pinger finishes");
        node.shutdown().await;
        samples
    });
    // The first thousand warm the connection and caches.
    let mut samples = samples.split_off(1000);
    line("remote_rtt_us_p50", percentile_us(&mut samples, 0.5), "us");
    line("remote_rtt_us_p99", percentile_us(&mut samples, 0.99), "us");
}

fn run_raw_echo() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    announce(&listener.local_addr().expect("addr").to_string());
    let (mut s, _) = listener.accept().expect("accept");
    s.set_nodelay(true).expect("nodelay");
    let mut frame = [0u8; 4 + PAYLOAD];
    while s.read_exact(&mut frame).is_ok() {
        if s.write_all(&frame).is_err() {
            break;
        }
    }
}

fn bench_raw_rtt(count: u64) {
    let (_child, addr) = start_child("raw-echo");
    let addr: SocketAddr = addr.parse().expect("addr");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut frame = [7u8; 4 + PAYLOAD];
    frame[..4].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
    let mut back = [0u8; 4 + PAYLOAD];
    let mut samples = Vec::with_capacity(count as usize);
    for i in 0..count + 1000 {
        let t = Instant::now();
        s.write_all(&frame).expect("write");
        s.read_exact(&mut back).expect("read");
        if i >= 1000 {
            samples.push(t.elapsed());
        }
    }
    line("raw_tcp_rtt_us_p50", percentile_us(&mut samples, 0.5), "us");
    line(
        "raw_tcp_rtt_us_p99",
        percentile_us(&mut samples, 0.99),
        "us",
    );
}

/// The raw echo on the benchmark's tokio runtime: the floor for any tokio-based transport.
fn run_tokio_echo() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        announce(&listener.local_addr().expect("addr").to_string());
        let (mut s, _) = listener.accept().await.expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let mut frame = [0u8; 4 + PAYLOAD];
        while s.read_exact(&mut frame).await.is_ok() {
            if s.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
}

/// Ping-pong of the raw frames between two tokio programs (a task on each side).
fn bench_tokio_rtt(count: u64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_child, addr) = start_child("tokio-echo");
    let addr: SocketAddr = addr.parse().expect("addr");
    let mut samples = runtime().block_on(async {
        tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut frame = [7u8; 4 + PAYLOAD];
            frame[..4].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
            let mut back = [0u8; 4 + PAYLOAD];
            let mut samples = Vec::with_capacity(count as usize);
            for i in 0..count + 1000 {
                let t = Instant::now();
                s.write_all(&frame).await.expect("write");
                s.read_exact(&mut back).await.expect("read");
                if i >= 1000 {
                    samples.push(t.elapsed());
                }
            }
            samples
        })
        .await
        .expect("tokio ping task")
    });
    line(
        "tokio_tcp_rtt_us_p50",
        percentile_us(&mut samples, 0.5),
        "us",
    );
    line(
        "tokio_tcp_rtt_us_p99",
        percentile_us(&mut samples, 0.99),
        "us",
    );
}

fn main() {
    let args = Args::parse();
    match args.role {
        Role::Sink => run_sink(),
        Role::Echo => run_echo(),
        Role::RawSink => run_raw_sink(),
        Role::RawEcho => run_raw_echo(),
        Role::TokioEcho => run_tokio_echo(),
        Role::All => {
            if args.figures.contains(&Figure::Local) {
                bench_local(args.local_count);
            }
            if args.figures.contains(&Figure::Remote) {
                bench_remote(args.remote_count);
                bench_raw_remote(args.remote_count);
            }
            if args.figures.contains(&Figure::Rtt) {
                bench_rtt(args.rtt_count);
                bench_raw_rtt(args.rtt_count);
                bench_tokio_rtt(args.rtt_count);
            }
            if args.figures.contains(&Figure::Tls) {
                // Plain and TLS back to back, so both see the same machine load.
                bench_remote(args.remote_count);
                bench_rtt(args.rtt_count);
                let dir = make_certs();
                std::env::set_var(TLS_DIR_ENV, &dir.0);
                *PREFIX.lock().expect("not poisoned") = "tls_";
                bench_remote(args.remote_count);
                bench_rtt(args.rtt_count);
                *PREFIX.lock().expect("not poisoned") = "";
                std::env::remove_var(TLS_DIR_ENV);
            }
        }
    }
}
