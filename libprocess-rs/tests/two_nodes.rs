//! Two nodes in one test process: remote sends both ways, FIFO, links across nodes, exits on
//! a broken connection, ask, filters and settle on remote deliveries.

mod common;

use common::*;
use libprocess::{AskError, MessageMatch, Node, TestClock, Upid};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_sends_work_both_ways_in_order() {
    let (a, b) = (node().await, node().await);
    let (pa, mut rxa) = recorder(&a).await;
    let (pb, mut rxb) = recorder(&b).await;
    for n in 0..500 {
        pa.send(RecMsg::Forward {
            to: pb.upid().clone(),
            n,
        })
        .unwrap();
        pb.send(RecMsg::Forward {
            to: pa.upid().clone(),
            n,
        })
        .unwrap();
    }
    for n in 0..500 {
        assert_eq!(
            next(&mut rxb).await,
            Event::Note {
                from: Some(pa.upid().clone()),
                n
            }
        );
        assert_eq!(
            next(&mut rxa).await,
            Event::Note {
                from: Some(pb.upid().clone()),
                n
            }
        );
    }
    // A message with no sender process arrives with no sender.
    a.send(pb.upid(), Text("anonymous".into())).unwrap();
    assert_eq!(
        next(&mut rxb).await,
        Event::Text {
            from: None,
            text: "anonymous".into()
        }
    );
    // One connection each way, shared by all processes.
    assert_eq!(a.metrics().snapshot()["libprocess/peers"], 1.0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_across_nodes_report_exit_missing_process_and_broken_connection() {
    let (a, b) = (node().await, node().await);
    let (watcher, mut rx) = recorder(&a).await;

    // Remote process terminates.
    let target = b.spawn(Recorder::new().0).unwrap();
    watcher.send(RecMsg::Link(target.upid().clone())).unwrap();
    // The link frame must arrive before the exit: wait until b has a linker registered by
    // checking that the node received the frame.
    eventually(async || b.metrics().snapshot()["libprocess/frames_received"] >= 1.0).await;
    target.terminate();
    assert_eq!(next(&mut rx).await, Event::Exited(target.upid().clone()));

    // Remote process that never existed.
    let ghost: Upid = format!("ghost@{}", b.addr()).parse().unwrap();
    watcher.send(RecMsg::Link(ghost.clone())).unwrap();
    assert_eq!(next(&mut rx).await, Event::Exited(ghost));

    // The remote node goes away: the connection breaks.
    let survivor = b.spawn(Recorder::new().0).unwrap();
    watcher.send(RecMsg::Link(survivor.upid().clone())).unwrap();
    eventually(async || b.metrics().snapshot()["libprocess/frames_received"] >= 3.0).await;
    b.shutdown().await;
    assert_eq!(next(&mut rx).await, Event::Exited(survivor.upid().clone()));

    // A node nobody listens on: the connect fails and the linker hears of it.
    let nowhere: Upid = format!("x@{}", b.addr()).parse().unwrap();
    watcher.send(RecMsg::Link(nowhere.clone())).unwrap();
    assert_eq!(next(&mut rx).await, Event::Exited(nowhere));
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_ask_replies_or_times_out() {
    let clock = TestClock::paused();
    let a = clocked_node(&clock).await;
    let b = clocked_node(&clock).await;
    let (pb, _rxb) = recorder(&b).await;
    let reply: Note = a
        .ask(pb.upid(), Note(9), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(reply, Note(10));
    let pending =
        tokio::spawn(a.ask::<Text, Note>(pb.upid(), Text("x".into()), Duration::from_secs(1)));
    clock.settle().await;
    assert!(!pending.is_finished());
    clock.advance(Duration::from_secs(1));
    let err = tokio::time::timeout(GUARD, pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, AskError::Timeout { .. }), "{err}");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_await_and_drop_remote_deliveries_and_settle_covers_the_wire() {
    let clock = TestClock::paused();
    let a = clocked_node(&clock).await;
    let b = clocked_node(&clock).await;
    let (pa, _rxa) = recorder(&a).await;
    let (pb, mut rxb) = recorder(&b).await;

    let seen = b
        .filters()
        .expect(MessageMatch::of::<Note>().from(pa.upid()).to(pb.upid()));
    pa.send(RecMsg::Forward {
        to: pb.upid().clone(),
        n: 1,
    })
    .unwrap();
    let caught = tokio::time::timeout(GUARD, seen).await.unwrap().unwrap();
    assert_eq!(caught.decode::<Note>().unwrap(), Note(1));
    assert_eq!(caught.from.as_ref(), Some(pa.upid()));
    assert_eq!(
        next(&mut rxb).await,
        Event::Note {
            from: Some(pa.upid().clone()),
            n: 1
        }
    );

    let dropped = b.filters().drop_next(MessageMatch::of::<Note>());
    pa.send(RecMsg::Forward {
        to: pb.upid().clone(),
        n: 2,
    })
    .unwrap();
    pa.send(RecMsg::Forward {
        to: pb.upid().clone(),
        n: 3,
    })
    .unwrap();
    assert_eq!(
        tokio::time::timeout(GUARD, dropped)
            .await
            .unwrap()
            .unwrap()
            .decode::<Note>()
            .unwrap(),
        Note(2)
    );
    assert_eq!(
        next(&mut rxb).await,
        Event::Note {
            from: Some(pa.upid().clone()),
            n: 3
        }
    );

    // settle waits for frames on the wire between nodes sharing the clock.
    forward_notes(&pa, pb.upid(), 50);
    clock.settle().await;
    for n in 0..50 {
        assert_eq!(
            rxb.try_recv(),
            Ok(Event::Note {
                from: Some(pa.upid().clone()),
                n
            })
        );
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_after_the_peer_restarts_opens_a_new_connection() {
    let a = node().await;
    // The restarted node must get the same port back. Other tests' connections from
    // 127.0.0.1 may take freed ports as their local ports, so listen on another loopback
    // address, chosen per run.
    let ip = std::net::Ipv4Addr::new(127, 0, 0, 2 + (std::process::id() % 250) as u8);
    let b = Node::builder().bind((ip, 0).into()).build().await.unwrap();
    let addr = b.addr();
    let (rb, mut rxb) = Recorder::new();
    b.spawn_named("r", rb).unwrap();
    started(&mut rxb).await;
    let r: Upid = format!("r@{addr}").parse().unwrap();
    a.send(&r, Note(1)).unwrap();
    assert_eq!(next(&mut rxb).await, Event::Note { from: None, n: 1 });
    b.shutdown().await;
    // The old connection breaks; a node comes back on the same address.
    eventually(async || a.metrics().snapshot()["libprocess/peers"] == 0.0).await;
    let mut b2 = None;
    eventually(async || {
        b2 = Node::builder().bind(addr).build().await.ok();
        b2.is_some()
    })
    .await;
    let b2 = b2.unwrap();
    let (rb2, mut rxb2) = Recorder::new();
    b2.spawn_named("r", rb2).unwrap();
    started(&mut rxb2).await;
    a.send(&r, Note(2)).unwrap();
    assert_eq!(next(&mut rxb2).await, Event::Note { from: None, n: 2 });
    a.shutdown().await;
    b2.shutdown().await;
}

/// Asks a remote process from inside a process and gets the answer back as a message.
struct Asker {
    target: Upid,
    answers: tokio::sync::mpsc::UnboundedSender<Result<Note, AskError>>,
}
impl libprocess::Process for Asker {
    type Message = Result<Note, AskError>;
    fn initialize(&mut self, ctx: &mut libprocess::Context<Self>) {
        let ask = ctx.ask::<Note, Note>(&self.target, Note(20), Duration::from_secs(60));
        ctx.defer(ask, |answer| answer);
    }
    fn handle(&mut self, _ctx: &mut libprocess::Context<Self>, answer: Result<Note, AskError>) {
        let _ = self.answers.send(answer);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_asks_across_nodes_through_defer() {
    let (a, b) = (node().await, node().await);
    let (pb, mut rxb) = recorder(&b).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let asker = a
        .spawn(Asker {
            target: pb.upid().clone(),
            answers: tx,
        })
        .unwrap();
    let answer = tokio::time::timeout(GUARD, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, Ok(Note(21)));
    // The receiver saw the asking process as the sender.
    assert_eq!(
        next(&mut rxb).await,
        Event::Note {
            from: Some(asker.upid().clone()),
            n: 20
        }
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// Frames on their way to a node that then shuts down can never be handled: `settle` must not
/// wait for them, and a node started again on the same address starts with nothing in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_forgets_frames_to_a_node_that_shut_down() {
    let clock = TestClock::paused();
    let a = clocked_node(&clock).await;
    let b = clocked_node(&clock).await;
    let b_addr = b.addr();
    let (pa, _rxa) = recorder(&a).await;
    let (pb, _rxb) = recorder(&b).await;

    // A burst, then the receiver goes away while much of it is still queued or on the wire.
    forward_notes(&pa, pb.upid(), 20_000);
    b.shutdown().await;
    tokio::time::timeout(GUARD, clock.settle())
        .await
        .expect("settle returned although its peer shut down with frames in flight");

    // The address comes back (the OS may hold it for a moment) and settles normally.
    let mut again = None;
    for _ in 0..100 {
        match Node::builder()
            .bind(b_addr)
            .test_clock(&clock)
            .build()
            .await
        {
            Ok(node) => {
                again = Some(node);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let b2 = again.expect("could not bind the old address again");
    let (pb2, _rxb2) = recorder(&b2).await;
    forward_notes(&pa, pb2.upid(), 10);
    tokio::time::timeout(GUARD, clock.settle())
        .await
        .expect("settle returned after the restart");
    a.shutdown().await;
    b2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_replaced_under_a_stream_of_remote_messages_loses_none() {
    // A new leader swaps its stand-in for its master while agents' messages pour in over
    // connections that looked the stand-in up already: each message is handled by exactly one
    // of the two, in the order sent.
    const COUNT: u64 = 20_000;
    let (a, b) = (node().await, node().await);
    let (old, mut old_rx) = Recorder::new();
    let old = a.spawn_named("master", old).unwrap();
    started(&mut old_rx).await;
    let (sender, mut sender_rx) = recorder(&b).await;
    forward_notes(&sender, old.upid(), COUNT);
    // Replace once the stream is flowing through the old process.
    let mut seen = Vec::new();
    while seen.len() < 100 {
        match next(&mut old_rx).await {
            Event::Note { n, .. } => seen.push(n),
            other => panic!("unexpected {other:?}"),
        }
    }
    let (new, mut new_rx) = Recorder::new();
    a.replace_named("master", new).unwrap();
    loop {
        match next(&mut old_rx).await {
            Event::Note { n, .. } => seen.push(n),
            Event::Finalized => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let handed_over = seen.len() as u64;
    assert_eq!(seen, (0..handed_over).collect::<Vec<_>>());
    assert!(matches!(next(&mut new_rx).await, Event::Initialized(_)));
    for n in handed_over..COUNT {
        assert_eq!(
            next(&mut new_rx).await,
            Event::Note {
                from: Some(sender.upid().clone()),
                n
            }
        );
    }
    assert_eq!(
        a.metrics().snapshot()["libprocess/dropped/unknown_process"],
        0.0
    );
    assert!(sender_rx.try_recv().is_err(), "the sender saw no exit");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_fed_by_many_connections_at_once_handles_every_message() {
    // Readers of several connections race to run the receiver's hook inline while its own
    // task takes queued messages: none of them may leave the process waiting for a lock
    // nobody holds.
    const SENDERS: usize = 8;
    const EACH: u64 = 5_000;
    let a = node().await;
    let (receiver, mut rx) = recorder(&a).await;
    let mut nodes = Vec::new();
    for _ in 0..SENDERS {
        let b = node().await;
        let (sender, _events) = recorder(&b).await;
        forward_notes(&sender, receiver.upid(), EACH);
        nodes.push((b, sender, _events));
    }
    let mut next_from = std::collections::HashMap::new();
    for _ in 0..SENDERS as u64 * EACH {
        match next(&mut rx).await {
            Event::Note {
                from: Some(from),
                n,
            } => {
                let expected = next_from.entry(from).or_insert(0u64);
                assert_eq!(n, *expected, "each sender's notes arrive in order");
                *expected += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(next_from.len(), SENDERS);
    for (b, _, _) in nodes {
        b.shutdown().await;
    }
    a.shutdown().await;
}

/// Counts `Note`s without reading them.
struct Unreading(tokio::sync::mpsc::UnboundedSender<Option<Upid>>);

struct NoteArrived;

impl From<libprocess::Unread<Note>> for NoteArrived {
    fn from(_: libprocess::Unread<Note>) -> Self {
        NoteArrived
    }
}

impl libprocess::Process for Unreading {
    type Message = NoteArrived;
    fn install(h: &mut libprocess::Handlers<Self>) {
        h.on_unread::<Note>();
    }
    fn handle(&mut self, ctx: &mut libprocess::Context<Self>, _msg: NoteArrived) {
        let _ = self.0.send(ctx.from().cloned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_accepted_unread_arrives_from_near_and_far_with_its_sender() {
    let (a, b) = (node().await, node().await);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pid = a.spawn(Unreading(tx)).unwrap();
    let (far, _events) = recorder(&b).await;
    forward_notes(&far, pid.upid(), 3);
    a.send(pid.upid(), Note(7)).unwrap();
    let mut senders = Vec::new();
    for _ in 0..4 {
        let from = tokio::time::timeout(GUARD, rx.recv())
            .await
            .unwrap()
            .unwrap();
        senders.push(from);
    }
    assert_eq!(senders.iter().filter(|f| f.is_none()).count(), 1);
    assert_eq!(
        senders
            .iter()
            .filter(|f| f.as_ref() == Some(far.upid()))
            .count(),
        3
    );
    // Another message type sent under the same process is still refused locally.
    assert!(a.send(pid.upid(), Text("no".into())).is_err());
    a.shutdown().await;
    b.shutdown().await;
}
