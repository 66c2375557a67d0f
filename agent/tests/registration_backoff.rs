//! The agent's (re)registration retry backs off as Mesos's agent does
//! (`--registration-backoff-factor`, doubled per attempt up to a minute, jittered): against
//! a master that never answers, each attempt waits about twice as long as the one before.
//! The agent runs on the harness's paused clock; the silent master is on its own node and
//! reports each registration it receives, timed by the agent's clock.

use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process};
use meso_agent::containerizer::PosixContainerizer;
use meso_api::wire::RegisterAgent;
use meso_testkit::agent_harness::*;
use tokio::sync::mpsc;

/// A master that answers nothing and says when a registration arrived.
struct SilentMaster {
    tx: mpsc::UnboundedSender<()>,
}

struct Arrived;

impl From<RegisterAgent> for Arrived {
    fn from(_: RegisterAgent) -> Self {
        Arrived
    }
}

impl Process for SilentMaster {
    type Message = Arrived;

    fn install(h: &mut Handlers<Self>) {
        h.on::<RegisterAgent>();
    }

    fn handle(&mut self, _ctx: &mut Context<Self>, _msg: Arrived) {
        let _ = self.tx.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_registration_is_retried_after_doubling_waits() {
    let silent_node = Node::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .build()
        .await
        .expect("silent master node");
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let silent = silent_node
        .spawn_named("master", SilentMaster { tx })
        .expect("spawn the silent master")
        .upid()
        .clone();
    let h = Harness::start_configured(Box::new(PosixContainerizer::new()), move |c| {
        c.master = silent;
        c.registration_backoff_factor = Duration::from_secs(1);
    })
    .await;

    // Step the paused clock 100 ms at a time over 16 s; a short real pause after each step
    // lets the frame cross to the silent master (its node is not on the test clock).
    let tick = Duration::from_millis(100);
    let clock = h.agent_node.clock();
    let mut times = Vec::new();
    for _ in 0..160 {
        h.clock.settle().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        while arrivals.try_recv().is_ok() {
            times.push(clock.now());
        }
        h.clock.advance(tick);
    }
    // Waits of [b/2, b] with b = 1, 2, 4, 8 s: five attempts in 16 s (a fixed 1 s retry
    // would have sent ~20).
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        (4..=6).contains(&times.len()),
        "attempts at {times:?} (gaps {gaps:?})"
    );
    // An arrival is seen at the first step after it: allow a few steps of slack.
    let slack = tick * 5;
    for (k, gap) in gaps.iter().take(4).enumerate() {
        let b = Duration::from_secs(1 << k);
        assert!(
            *gap + slack >= b / 2 && *gap <= b + slack,
            "wait {k} was {gap:?}, not in [{:?}, {b:?}] (gaps {gaps:?})",
            b / 2
        );
    }
    silent_node.shutdown().await;
}
