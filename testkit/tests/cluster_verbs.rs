//! The cluster harness's verbs, each observed through what members hear: three nodes on one
//! paused clock, each running a `listener` process that records the notes it receives and
//! from which node. Every verb is checked by sending a note from every member to every
//! other and settling.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use libprocess::{Context, Handlers, Node, Process, RemoteMessage, TestClock, Upid};
use meso_testkit::cluster::{Cluster, Members};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Note(u64);
impl RemoteMessage for Note {
    const NAME: &'static str = "testkit.Note";
}

/// (sender's node, note) pairs a listener received.
type Heard = Arc<Mutex<Vec<(SocketAddr, u64)>>>;

struct Listener {
    heard: Heard,
}

impl Process for Listener {
    type Message = Note;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Note>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, note: Note) {
        let from = ctx.from().expect("notes come from a peer").addr();
        self.heard
            .lock()
            .expect("not poisoned")
            .push((from, note.0));
    }
}

/// Starts a listener per member; what each heard lives here, so it outlives a crash.
#[derive(Default)]
struct Listeners {
    heard: Vec<Heard>,
}

impl Members for Listeners {
    type Member = Upid;
    async fn start(&mut self, node: &Node, i: usize, _: &[SocketAddr]) -> Result<Upid, String> {
        while self.heard.len() <= i {
            self.heard.push(Heard::default());
        }
        let listener = Listener {
            heard: self.heard[i].clone(),
        };
        let pid = node
            .spawn_named("listener", listener)
            .map_err(|e| e.to_string())?;
        Ok(pid.upid().clone())
    }
    async fn stop(&mut self, _: Upid) {}
}

/// Every running member sends note `n` to every other; returns, per receiver, the senders'
/// indices it heard `n` from, once the cluster settled.
async fn exchange(cluster: &Cluster<Listeners>, n: u64) -> Vec<Vec<usize>> {
    for from in (0..cluster.len()).filter(|i| cluster.is_running(*i)) {
        for to in (0..cluster.len()).filter(|t| *t != from) {
            let me = cluster.member(from);
            let them = Upid::new("listener", cluster.addrs()[to]);
            // A send to a crashed member may fail: that is the crash.
            let _ = cluster.node(from).send_from(Some(me), &them, Note(n));
        }
    }
    cluster.settle().await;
    (0..cluster.len())
        .map(|to| {
            let heard = cluster.factory().heard[to].lock().expect("not poisoned");
            let mut from: Vec<usize> = heard
                .iter()
                .filter(|(_, note)| *note == n)
                .map(|(addr, _)| {
                    cluster
                        .addrs()
                        .iter()
                        .position(|a| a == addr)
                        .expect("notes come from members")
                })
                .collect();
            from.sort();
            from
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_verb_changes_who_hears_whom() {
    let mut cluster = Cluster::start(3, Some(TestClock::paused()), Listeners::default()).await;

    // settle: every note is delivered before settle returns.
    assert_eq!(
        exchange(&cluster, 1).await,
        vec![vec![1, 2], vec![0, 2], vec![0, 1]]
    );

    // isolate: member 0 hears nobody and nobody hears it; 1 and 2 still talk.
    cluster.isolate(0);
    assert!(cluster.is_cut(0, 1) && cluster.is_cut(2, 0) && !cluster.is_cut(1, 2));
    assert_eq!(exchange(&cluster, 2).await, vec![vec![], vec![2], vec![1]]);

    // heal: everyone again.
    cluster.heal();
    assert_eq!(
        exchange(&cluster, 3).await,
        vec![vec![1, 2], vec![0, 2], vec![0, 1]]
    );

    // partition: {0, 1} | {2}.
    cluster.partition(&[0, 1]);
    assert_eq!(exchange(&cluster, 4).await, vec![vec![1], vec![0], vec![]]);
    cluster.heal();

    // crash: member 2 is gone; the others still talk and hear nothing from it.
    cluster.crash(2).await;
    assert!(!cluster.is_running(2));
    assert_eq!(exchange(&cluster, 5).await, vec![vec![1], vec![0], vec![]]);

    // restart: member 2 is back on its old address, and a cut made while it was down
    // holds on the new node too.
    cluster.isolate(1);
    cluster.restart(2).await;
    assert!(cluster.is_running(2));
    assert_eq!(
        cluster.node(2).addr(),
        cluster.addrs()[2],
        "a restarted member keeps its address"
    );
    assert_eq!(exchange(&cluster, 6).await, vec![vec![2], vec![], vec![0]]);
    cluster.heal();
    assert_eq!(
        exchange(&cluster, 7).await,
        vec![vec![1, 2], vec![0, 2], vec![0, 1]]
    );
    cluster.shutdown().await;
}
