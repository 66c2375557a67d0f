//! An emulated agent whose master never answers backs off as Mesos's agents do: each
//! re-sent registration waits twice as long as the one before, up to the cap
//! (`--answer-timeout`, `--max-answer-timeout`). Runs on a paused `TestClock`: the master
//! records the clock's time of each registration it receives and answers none.

use std::sync::Arc;
use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process, TestClock};
use meso_agent::emulator::plan::Backoff;
use meso_agent::emulator::process::{EmulatedAgent, EmulatorConfig, Progress};
use meso_api::v1::FrameworkId;
use meso_api::wire::{RegisterAgent, ReregisterAgent};
use meso_api::Resources;
use tokio::sync::mpsc;

/// A master that answers nothing and reports when each registration arrived.
struct SilentMaster {
    tx: mpsc::UnboundedSender<Duration>,
}

enum Seen {
    Register,
    Reregister,
}

impl From<RegisterAgent> for Seen {
    fn from(_: RegisterAgent) -> Self {
        Seen::Register
    }
}

impl From<ReregisterAgent> for Seen {
    fn from(_: ReregisterAgent) -> Self {
        Seen::Reregister
    }
}

impl Process for SilentMaster {
    type Message = Seen;

    fn install(h: &mut Handlers<Self>) {
        h.on::<RegisterAgent>().on::<ReregisterAgent>();
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: Seen) {
        if matches!(msg, Seen::Register | Seen::Reregister) {
            let _ = self.tx.send(ctx.node().clock().now());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_registrations_are_sent_again_after_doubling_waits_up_to_the_cap() {
    let clock = TestClock::paused();
    let master_node = Node::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .test_clock(&clock)
        .build()
        .await
        .expect("master node");
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let master = master_node
        .spawn_named("master", SilentMaster { tx })
        .expect("spawn the silent master");
    let agent_node = Node::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .test_clock(&clock)
        .build()
        .await
        .expect("agent node");
    let config = Arc::new(EmulatorConfig {
        masters: vec![master.upid().clone()],
        tasks_per_agent: 0,
        resources: Resources::parse("cpus:1;mem:128", "*").unwrap(),
        task_resources: Resources::new(),
        framework_id: FrameworkId::new("f"),
        hostname_prefix: "emulated".into(),
        backoff: Backoff::new(Duration::from_millis(50), Duration::from_secs(2)),
        answer_timeout: Duration::from_secs(2),
        max_answer_timeout: Duration::from_secs(16),
        election_poll: Duration::from_millis(100),
        initial_spread: Duration::ZERO,
        seed: 1,
    });
    let agent = EmulatedAgent::new(0, config, Arc::new(Progress::new(1))).expect("one master");
    agent_node
        .spawn_named("slave(1)", agent)
        .expect("spawn the emulated agent");

    // Jump the clock from timer to timer over 90 s and note when each attempt arrived
    // (real-time pauses let the frames cross the loopback connection; they are not timing).
    let mut times = Vec::new();
    let end = Duration::from_secs(90);
    loop {
        clock.settle().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        clock.settle().await;
        while let Ok(at) = arrivals.try_recv() {
            times.push(at);
        }
        let now = master_node.clock().now();
        match clock.next_deadline_after(now) {
            Some(next) if next <= end => clock.advance(next - now),
            _ => break,
        }
    }

    // Waits 2, 4, 8, 16, 16, ... s, each with up to half of it as jitter: from 2 s to 90 s
    // that is 7 attempts at most (2+4+8+16+16+16+16 = 78 s); a fixed 2-3 s wait would have
    // sent ~35.
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        (5..=8).contains(&times.len()),
        "attempts at {times:?} (gaps {gaps:?})"
    );
    for (n, gap) in gaps.iter().enumerate() {
        let step = Duration::from_secs(2 << n.min(3));
        assert!(
            *gap >= step && *gap <= step + step / 2,
            "wait {n} was {gap:?}, not in [{step:?}, 1.5 x {step:?}] (gaps {gaps:?})"
        );
    }
    agent_node.shutdown().await;
    master_node.shutdown().await;
}
