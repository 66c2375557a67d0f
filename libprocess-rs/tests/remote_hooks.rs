//! Remote messages to an idle process have their hook run by the connection reader; these
//! tests check that users cannot tell: one hook at a time even with local dispatches racing
//! remote messages, per-sender order, and that a terminate or a panic in such a hook ends the
//! process as it would on the process's own task.

mod common;

use common::*;
use libprocess::{Context, Handlers, Process};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a [`Guarded`] hook saw: a remote note, or a local dispatch.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Remote(u64),
    Local(u64),
}

/// Counts hooks that found another hook of the same process still running.
struct Guarded {
    busy: Arc<AtomicBool>,
    overlaps: Arc<AtomicU64>,
    seen: mpsc::UnboundedSender<Seen>,
}

impl Guarded {
    /// Marks a hook as running for a little while; counts an overlap if one already was.
    fn enter_and_leave(&self) {
        if self.busy.swap(true, Ordering::AcqRel) {
            self.overlaps.fetch_add(1, Ordering::AcqRel);
        }
        for _ in 0..200 {
            std::hint::spin_loop();
        }
        self.busy.store(false, Ordering::Release);
    }
}

impl Process for Guarded {
    type Message = Note;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Note>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, Note(n): Note) {
        self.enter_and_leave();
        if n == u64::MAX {
            ctx.terminate();
            return;
        }
        let _ = self.seen.send(Seen::Remote(n));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_hooks_and_local_dispatches_run_one_at_a_time_in_sender_order() {
    let (a, b) = (node().await, node().await);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let overlaps = Arc::new(AtomicU64::new(0));
    let pid = b
        .spawn(Guarded {
            busy: Arc::new(AtomicBool::new(false)),
            overlaps: overlaps.clone(),
            seen: tx,
        })
        .unwrap();
    const EACH: u64 = 2000;
    let local = {
        let pid = pid.clone();
        tokio::spawn(async move {
            for n in 0..EACH {
                pid.dispatch(move |p: &mut Guarded, _ctx| {
                    p.enter_and_leave();
                    let _ = p.seen.send(Seen::Local(n));
                })
                .unwrap();
                if n % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    for n in 0..EACH {
        a.send(pid.upid(), Note(n)).unwrap();
        if n % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    local.await.unwrap();
    let (mut remote_next, mut local_next) = (0, 0);
    while remote_next < EACH || local_next < EACH {
        let seen = tokio::time::timeout(GUARD, rx.recv())
            .await
            .expect("hang guard: every message is handled")
            .expect("process alive");
        match seen {
            Seen::Remote(n) => {
                assert_eq!(n, remote_next, "remote notes arrive in send order");
                remote_next += 1;
            }
            Seen::Local(n) => {
                assert_eq!(n, local_next, "dispatches run in order");
                local_next += 1;
            }
        }
    }
    assert_eq!(overlaps.load(Ordering::Acquire), 0, "two hooks overlapped");

    // A remote message that terminates the process ends it (and `wait` returns).
    a.send(pid.upid(), Note(u64::MAX)).unwrap();
    tokio::time::timeout(GUARD, b.wait(pid.upid()))
        .await
        .expect("hang guard: the process ends after a remote terminate");
    assert!(b.processes().iter().all(|(u, _)| u != pid.upid()));
    a.shutdown().await;
    b.shutdown().await;
}

/// Panics on note 13.
struct Fragile {
    finalized: mpsc::UnboundedSender<()>,
}

impl Process for Fragile {
    type Message = Note;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Note>();
    }
    fn handle(&mut self, _ctx: &mut Context<Self>, Note(n): Note) {
        assert_ne!(
            n, 13,
            "fragile process meets note 13 (this panic is the test)"
        );
    }
    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        let _ = self.finalized.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_remote_hook_ends_the_process_and_spares_the_connection() {
    let (a, b) = (node().await, node().await);
    let (tx, mut finalized) = mpsc::unbounded_channel();
    let fragile = b.spawn(Fragile { finalized: tx }).unwrap();
    let (watcher, mut events) = recorder(&a).await;
    let (recorder, mut on_b) = recorder(&b).await;

    watcher.send(RecMsg::Link(fragile.upid().clone())).unwrap();
    eventually(async || b.metrics().snapshot()["libprocess/frames_received"] >= 1.0).await;
    a.send(fragile.upid(), Note(13)).unwrap();
    tokio::time::timeout(GUARD, b.wait(fragile.upid()))
        .await
        .expect("hang guard: the process ends after its hook panicked");
    assert_eq!(
        next(&mut events).await,
        Event::Exited(fragile.upid().clone())
    );
    // As for a panic on the process's own task: no finalize.
    assert!(finalized.try_recv().is_err(), "finalize ran after a panic");

    // The connection that carried the message still delivers to other processes.
    a.send(recorder.upid(), Note(7)).unwrap();
    assert_eq!(next(&mut on_b).await, Event::Note { from: None, n: 7 });
    a.shutdown().await;
    b.shutdown().await;
}
