//! One node: processes, typed and named sends, lifecycle, links, ask, timers, settle, filters.

mod common;

use common::*;
use libprocess::{
    AskError, Context, MessageMatch, Node, Process, SendError, SpawnError, TestClock,
};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_hooks_run_in_order_and_wait_returns_after_finalize() {
    let node = node().await;
    let (rec, mut rx) = Recorder::new();
    let pid = node.spawn(rec).unwrap();
    assert_eq!(next(&mut rx).await, Event::Initialized(pid.upid().clone()));
    node.send(pid.upid(), Note(1)).unwrap();
    pid.terminate();
    node.wait(pid.upid()).await;
    assert_eq!(next(&mut rx).await, Event::Note { from: None, n: 1 });
    assert_eq!(next(&mut rx).await, Event::Finalized);
    assert!(matches!(
        node.send(pid.upid(), Note(2)),
        Err(SendError::UnknownProcess { .. })
    ));
    assert!(pid.send(RecMsg::Note(Note(3))).is_err());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_ids_are_unique_and_named_ids_are_validated() {
    let node = node().await;
    let a = node.spawn(Recorder::new().0).unwrap();
    let b = node.spawn(Recorder::new().0).unwrap();
    assert_ne!(a.upid(), b.upid());
    assert!(a.upid().id().starts_with("recorder("));
    assert_eq!(a.upid().addr(), node.addr());
    node.spawn_named("master", Recorder::new().0).unwrap();
    assert_eq!(
        node.spawn_named("master", Recorder::new().0).unwrap_err(),
        SpawnError::DuplicateId("master".into())
    );
    assert_eq!(
        node.spawn_named("a/b", Recorder::new().0).unwrap_err(),
        SpawnError::InvalidId("a/b".into())
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_messages_carry_their_sender_and_keep_order() {
    let node = node().await;
    let (receiver, mut rx) = recorder(&node).await;
    let (sender, _srx) = recorder(&node).await;
    forward_notes(&sender, receiver.upid(), 100);
    for n in 0..100 {
        assert_eq!(
            next(&mut rx).await,
            Event::Note {
                from: Some(sender.upid().clone()),
                n
            }
        );
    }
    // A name the receiver does not accept is refused and counted.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Stranger;
    impl libprocess::RemoteMessage for Stranger {
        const NAME: &'static str = "test.Stranger";
    }
    assert!(matches!(
        node.send(receiver.upid(), Stranger),
        Err(SendError::UnknownMessage { .. })
    ));
    assert_eq!(
        node.metrics().snapshot()["libprocess/dropped/unknown_message"],
        1.0
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_report_termination_and_missing_processes() {
    let node = node().await;
    let (watcher, mut rx) = recorder(&node).await;
    let target = node.spawn(Recorder::new().0).unwrap();
    watcher.send(RecMsg::Link(target.upid().clone())).unwrap();
    node.settle_hint().await;
    target.terminate();
    assert_eq!(next(&mut rx).await, Event::Exited(target.upid().clone()));
    // Linking to a process that does not exist reports at once.
    let ghost: libprocess::Upid = format!("ghost@{}", node.addr()).parse().unwrap();
    watcher.send(RecMsg::Link(ghost.clone())).unwrap();
    assert_eq!(next(&mut rx).await, Event::Exited(ghost));
    node.shutdown().await;
}

/// Lets queued work drain in tests that do not use a test clock.
trait SettleHint {
    async fn settle_hint(&self);
}
impl SettleHint for Node {
    async fn settle_hint(&self) {
        eventually(async || self.processes().iter().all(|(_, depth)| *depth == 0)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_gets_a_reply_or_times_out_on_the_test_clock() {
    let clock = TestClock::paused();
    let node = clocked_node(&clock).await;
    let (pid, _rx) = recorder(&node).await;
    let reply: Note = node
        .ask(pid.upid(), Note(41), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(reply, Note(42));
    // Text is never answered: the ask times out when the clock passes the timeout.
    let pending = node.ask::<Text, Note>(pid.upid(), Text("hi".into()), Duration::from_secs(5));
    let pending = tokio::spawn(pending);
    clock.settle().await;
    assert!(!pending.is_finished());
    clock.advance(Duration::from_secs(5));
    let err = tokio::time::timeout(GUARD, pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, AskError::Timeout { .. }), "{err}");
    node.shutdown().await;
}

/// A process that sets a timer on start and records when it fires.
struct Ticker {
    events: tokio::sync::mpsc::UnboundedSender<u64>,
}
impl Process for Ticker {
    type Message = u64;
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.delay(Duration::from_secs(10), 10);
        ctx.delay(Duration::from_secs(20), 20);
        let cancelled = ctx.delay(Duration::from_secs(15), 15);
        cancelled.cancel();
        // A continuation: the future's result comes back as a message.
        ctx.defer(async { 7u64 }, |n| n);
    }
    fn handle(&mut self, _ctx: &mut Context<Self>, n: u64) {
        let _ = self.events.send(n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_fire_only_when_the_paused_clock_advances() {
    let clock = TestClock::paused();
    let node = clocked_node(&clock).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    node.spawn(Ticker { events: tx }).unwrap();
    assert_eq!(
        tokio::time::timeout(GUARD, rx.recv()).await.unwrap(),
        Some(7)
    );
    clock.settle().await;
    assert!(
        rx.try_recv().is_err(),
        "no timer fires while the clock is paused"
    );
    clock.advance(Duration::from_secs(10));
    clock.settle().await;
    assert_eq!(
        rx.try_recv(),
        Ok(10),
        "settle returns after the due timer's message"
    );
    assert!(rx.try_recv().is_err());
    clock.advance(Duration::from_secs(10));
    clock.settle().await;
    assert_eq!(rx.try_recv(), Ok(20));
    assert!(rx.try_recv().is_err(), "the cancelled timer never delivers");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_await_and_drop_local_deliveries() {
    let node = node().await;
    let (pid, mut rx) = recorder(&node).await;
    let seen = node
        .filters()
        .expect(MessageMatch::of::<Note>().to(pid.upid()));
    node.send(pid.upid(), Note(5)).unwrap();
    let caught = tokio::time::timeout(GUARD, seen).await.unwrap().unwrap();
    assert_eq!(caught.decode::<Note>().unwrap(), Note(5));
    assert_eq!(
        next(&mut rx).await,
        Event::Note { from: None, n: 5 },
        "expect still delivers"
    );

    let rule = node.filters().drop_matching(MessageMatch::of::<Note>());
    assert!(matches!(
        node.send(pid.upid(), Note(6)),
        Err(SendError::Filtered { .. })
    ));
    node.send(pid.upid(), Text("through".into())).unwrap();
    assert!(matches!(next(&mut rx).await, Event::Text { .. }));
    drop(rule);
    node.send(pid.upid(), Note(7)).unwrap();
    assert_eq!(next(&mut rx).await, Event::Note { from: None, n: 7 });
    assert_eq!(
        node.metrics().snapshot()["libprocess/dropped/filtered"],
        1.0
    );
    node.shutdown().await;
}

/// A process with a tiny mailbox that never gets to run while the test fills it.
struct Slow;
impl Process for Slow {
    type Message = u64;
    fn mailbox_capacity(&self) -> Option<usize> {
        Some(4)
    }
    fn handle(&mut self, _ctx: &mut Context<Self>, _n: u64) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_mailbox_drops_the_newest_and_counts() {
    let node = node().await;
    let pid = node.spawn(Slow).unwrap();
    // On a current-thread runtime the process cannot run until this test yields.
    let results: Vec<bool> = (0..10).map(|n| pid.send(n).is_ok()).collect();
    assert_eq!(results.iter().filter(|ok| **ok).count(), 4);
    assert!(matches!(
        pid.send(99),
        Err(SendError::MailboxFull { capacity: 4, .. })
    ));
    assert_eq!(
        node.metrics().snapshot()["libprocess/dropped/mailbox_full"],
        7.0
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_runs_a_closure_on_the_process() {
    let node = node().await;
    let (pid, mut rx) = recorder(&node).await;
    pid.dispatch(|p: &mut Recorder, ctx| {
        let _ = p.events.send(Event::Text {
            from: None,
            text: ctx.self_upid().to_string(),
        });
    })
    .unwrap();
    assert_eq!(
        next(&mut rx).await,
        Event::Text {
            from: None,
            text: pid.upid().to_string()
        }
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_process_hands_over_its_id_messages_and_links() {
    let node = node().await;
    let (old, mut old_rx) = Recorder::new();
    let old = node.spawn_named("master", old).unwrap();
    started(&mut old_rx).await;
    let (watcher, mut watcher_rx) = Recorder::new();
    let watcher = node.spawn(watcher).unwrap();
    started(&mut watcher_rx).await;
    watcher.send(RecMsg::Link(old.upid().clone())).unwrap();
    node.send(old.upid(), Note(1)).unwrap();
    let (new, mut new_rx) = Recorder::new();
    let new = node.replace_named("master", new).unwrap();
    // Sent while the old one may still run: queued for the new one, never unknown.
    for n in 2..50 {
        node.send(new.upid(), Note(n)).unwrap();
    }
    assert_eq!(next(&mut old_rx).await, Event::Note { from: None, n: 1 });
    assert_eq!(next(&mut old_rx).await, Event::Finalized);
    assert_eq!(
        next(&mut new_rx).await,
        Event::Initialized(new.upid().clone())
    );
    for n in 2..50 {
        assert_eq!(next(&mut new_rx).await, Event::Note { from: None, n });
    }
    // The watcher's link passed to the new process: it hears of that one's exit only.
    new.terminate();
    node.wait(new.upid()).await;
    assert_eq!(
        next(&mut watcher_rx).await,
        Event::Exited(new.upid().clone())
    );
    assert!(matches!(
        node.send(new.upid(), Note(99)),
        Err(SendError::UnknownProcess { .. })
    ));
    // Without a process under the id, replacing is spawning.
    let (again, mut again_rx) = Recorder::new();
    node.replace_named("master", again).unwrap();
    started(&mut again_rx).await;
    node.shutdown().await;
}
