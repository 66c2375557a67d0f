//! ping_pong: two OS processes exchanging actor messages over one TCP connection each way.
//!
//! With no arguments it starts a copy of itself as the `pong` process, sends it `--count`
//! pings (keeping `--window` in flight), prints the result and exits 0. The roles can also be
//! run by hand:
//!
//! ```sh
//! cargo run --release -p libprocess --example ping_pong -- --role pong --listen 127.0.0.1:5051
//! cargo run --release -p libprocess --example ping_pong -- --role ping --peer pong@127.0.0.1:5051
//! ```

use clap::{Parser, ValueEnum};
use libprocess::{Context, Handlers, Node, Process, RemoteMessage, Upid};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// Start a pong child process and ping it.
    Both,
    /// Answer pings until the pinger goes away.
    Pong,
    /// Ping a pong process given by --peer.
    Ping,
}

#[derive(Debug, Parser)]
#[command(about = "Ping-pong between two OS processes on libprocess")]
struct Args {
    /// Which side to run.
    #[arg(long, value_enum, default_value_t = Role::Both)]
    role: Role,
    /// Address this node listens on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The pong process to ping (role ping), e.g. pong@127.0.0.1:5051.
    #[arg(long)]
    peer: Option<Upid>,
    /// Round trips to make.
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// Pings in flight at once.
    #[arg(long, default_value_t = 1)]
    window: u64,
    /// Payload bytes per ping.
    #[arg(long, default_value_t = 64)]
    payload: usize,
}

#[derive(Serialize, Deserialize)]
struct Ping {
    seq: u64,
    payload: Vec<u8>,
}
impl RemoteMessage for Ping {
    const NAME: &'static str = "ping_pong.Ping";
}

#[derive(Serialize, Deserialize)]
struct Pong {
    seq: u64,
}
impl RemoteMessage for Pong {
    const NAME: &'static str = "ping_pong.Pong";
}

/// Answers every ping; ends when the pinger it first heard from exits.
struct Ponger {
    pinger: Option<Upid>,
    done: Option<oneshot::Sender<()>>,
}

impl Process for Ponger {
    type Message = Ping;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Ping>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, ping: Ping) {
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        if self.pinger.is_none() {
            ctx.link(&from);
            self.pinger = Some(from.clone());
        }
        // Example: a peer that is gone is reported by the link (`exited`), not by this send.
        let _ = ctx.send(&from, Pong { seq: ping.seq });
    }
    fn exited(&mut self, _ctx: &mut Context<Self>, pid: Upid) {
        if Some(&pid) == self.pinger.as_ref() {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
        }
    }
}

struct Outcome {
    received: u64,
    elapsed: Duration,
    lost_peer: bool,
}

/// Sends `count` pings, `window` at a time, and reports when all pongs are back.
struct Pinger {
    peer: Upid,
    count: u64,
    window: u64,
    payload: Vec<u8>,
    sent: u64,
    received: u64,
    started: Instant,
    done: Option<oneshot::Sender<Outcome>>,
}

impl Pinger {
    fn send_next(&mut self, ctx: &mut Context<Self>) {
        let seq = self.sent;
        self.sent += 1;
        // Example: a peer that is gone is reported by the link (`exited`), not by this send.
        let _ = ctx.send(
            &self.peer,
            Ping {
                seq,
                payload: self.payload.clone(),
            },
        );
    }
    fn finish(&mut self, ctx: &mut Context<Self>, lost_peer: bool) {
        if let Some(done) = self.done.take() {
            let _ = done.send(Outcome {
                received: self.received,
                elapsed: self.started.elapsed(),
                lost_peer,
            });
        }
        ctx.terminate();
    }
}

impl Process for Pinger {
    type Message = Pong;
    fn base_name(&self) -> &str {
        "ping"
    }
    fn install(h: &mut Handlers<Self>) {
        h.on::<Pong>();
    }
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.link(&self.peer.clone());
        self.started = Instant::now();
        while self.sent < self.window.min(self.count) {
            self.send_next(ctx);
        }
    }
    fn handle(&mut self, ctx: &mut Context<Self>, _pong: Pong) {
        self.received += 1;
        if self.received == self.count {
            self.finish(ctx, false);
        } else if self.sent < self.count {
            self.send_next(ctx);
        }
    }
    fn exited(&mut self, ctx: &mut Context<Self>, _pid: Upid) {
        self.finish(ctx, true);
    }
}

async fn run_pong(listen: SocketAddr) -> anyhow::Result<()> {
    let node = Node::builder().bind(listen).build().await?;
    let (tx, rx) = oneshot::channel();
    let pid = node.spawn_named(
        "pong",
        Ponger {
            pinger: None,
            done: Some(tx),
        },
    )?;
    // The first stdout line is the address the parent (or a person) pings.
    println!("{}", pid.upid());
    std::io::stdout().flush()?;
    let _ = rx.await;
    node.shutdown().await;
    Ok(())
}

async fn run_ping(args: &Args, peer: Upid) -> anyhow::Result<()> {
    let node = Node::builder().bind(args.listen).build().await?;
    let (tx, rx) = oneshot::channel();
    node.spawn(Pinger {
        peer: peer.clone(),
        count: args.count,
        window: args.window.max(1),
        payload: vec![0xAB; args.payload],
        sent: 0,
        received: 0,
        started: Instant::now(),
        done: Some(tx),
    })?;
    let outcome = rx.await?;
    node.shutdown().await;
    if outcome.lost_peer {
        anyhow::bail!(
            "lost {peer} after {} of {} round trips",
            outcome.received,
            args.count
        );
    }
    let secs = outcome.elapsed.as_secs_f64();
    println!(
        "ping_pong: {} round trips with {} ({} B payload, window {}) in {:.1} ms: {:.0} round trips/s, {:.1} us each",
        outcome.received,
        peer,
        args.payload,
        args.window,
        secs * 1e3,
        outcome.received as f64 / secs,
        secs * 1e6 / outcome.received.max(1) as f64
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.role {
        Role::Pong => runtime.block_on(run_pong(args.listen)),
        Role::Ping => {
            let peer = args
                .peer
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--role ping needs --peer <upid>"))?;
            runtime.block_on(run_ping(&args, peer))
        }
        Role::Both => {
            let mut child = Command::new(std::env::current_exe()?)
                .args(["--role", "pong", "--listen", "127.0.0.1:0"])
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = child.stdout.take().expect("stdout was piped");
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            let peer: Upid = line.trim().parse()?;
            println!("ping_pong: pong process {} is {peer}", child.id());
            let result = runtime.block_on(run_ping(&args, peer));
            // The pong exits when it sees the pinger's node go away.
            let status = child.wait()?;
            result?;
            anyhow::ensure!(status.success(), "pong process failed: {status}");
            Ok(())
        }
    }
}
