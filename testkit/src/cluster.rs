//! A cluster harness with raft-rs's verbs for in-process clusters: `n` libprocess nodes on
//! loopback ports, each running one member that the test's [`Members`] factory starts, and
//! the faults a test injects by name: [`Cluster::crash`], [`Cluster::restart`],
//! [`Cluster::partition`], [`Cluster::isolate`], [`Cluster::heal`], [`Cluster::settle`].
//!
//! How each verb is real:
//! - `crash(i)` stops the member and shuts its node down: the port closes, connections
//!   break, peers see the node go away. What the member keeps on disk (the factory owns its
//!   directories) survives, as it would a crash of the process.
//! - `restart(i)` binds a new node on the same address (waiting, hang-guarded, for the old
//!   port to free) and has the factory start the member again on it.
//! - `partition(group)` cuts `group` off from the other nodes in both directions with
//!   libprocess message filters: every node drops the named messages whose sender lives on
//!   a node across the cut (`MessageMatch::from_node`). Links and TCP connections stay up,
//!   so the cut is silent, like a network that drops packets. `isolate(i)` is
//!   `partition(&[i])`; cuts add up until `heal()` removes them all. A restarted node gets
//!   the cuts in force again.
//! - `settle()` returns once the cluster is quiet: with a paused [`TestClock`], every node
//!   sharing it has no message queued, in flight or due; on real time, every mailbox was
//!   empty at several looks in a row.
//!
//! Invariants: member `i` always has address `addr(i)`; cuts are kept as pairs of indices
//! and re-installed on every restart, so a test never sees a node slip through a cut.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use libprocess::Node;
//! use meso_testkit::cluster::{Cluster, Members};
//!
//! /// Members that run nothing: the verbs act on the nodes alone.
//! struct Empty;
//! impl Members for Empty {
//!     type Member = ();
//!     async fn start(&mut self, _: &Node, _: usize, _: &[SocketAddr]) -> Result<(), String> {
//!         Ok(())
//!     }
//!     async fn stop(&mut self, _: ()) {}
//! }
//!
//! # async fn demo() {
//! let mut cluster = Cluster::start(3, Some(libprocess::TestClock::paused()), Empty).await;
//! cluster.isolate(0);
//! cluster.settle().await;
//! cluster.heal();
//! cluster.crash(2).await;
//! cluster.restart(2).await;
//! cluster.shutdown().await;
//! # }
//! ```

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use libprocess::{DropRule, MessageMatch, Node, TestClock};

use crate::eventually::HANG_GUARD;

/// Starts and stops the members of a [`Cluster`]; it owns what outlives a crash (work
/// directories, configuration).
pub trait Members {
    /// What runs on one node (handles to its processes).
    type Member;

    /// Starts member `index` on `node` (fresh, listening at `addrs[index]`), knowing every
    /// member's address.
    fn start(
        &mut self,
        node: &Node,
        index: usize,
        addrs: &[SocketAddr],
    ) -> impl Future<Output = Result<Self::Member, String>>;

    /// Stops `member`'s processes before its node shuts down.
    fn stop(&mut self, member: Self::Member) -> impl Future<Output = ()>;
}

/// One running member and its node.
struct Running<M> {
    node: Node,
    member: M,
}

/// `n` nodes, each with one member, and the faults in force.
pub struct Cluster<F: Members> {
    factory: F,
    clock: Option<TestClock>,
    addrs: Vec<SocketAddr>,
    running: Vec<Option<Running<F::Member>>>,
    /// Cut pairs `(receiver, sender)`: the receiver drops what the sender's node sends.
    cuts: BTreeSet<(usize, usize)>,
    rules: Vec<DropRule>,
}

impl<F: Members> Cluster<F> {
    /// Starts `n` nodes on loopback ports (sharing `clock` when given) and a member on each.
    pub async fn start(n: usize, clock: Option<TestClock>, factory: F) -> Cluster<F> {
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let mut builder = Node::builder();
            if let Some(clock) = &clock {
                builder = builder.test_clock(clock);
            }
            nodes.push(builder.build().await.expect("a loopback node starts"));
        }
        let mut cluster = Cluster {
            factory,
            clock,
            addrs: nodes.iter().map(Node::addr).collect(),
            running: (0..n).map(|_| None).collect(),
            cuts: BTreeSet::new(),
            rules: Vec::new(),
        };
        for (i, node) in nodes.into_iter().enumerate() {
            let member = cluster
                .factory
                .start(&node, i, &cluster.addrs)
                .await
                .unwrap_or_else(|e| panic!("member {i} starts: {e}"));
            cluster.running[i] = Some(Running { node, member });
        }
        cluster
    }

    /// How many members the cluster has (running or crashed).
    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// Whether the cluster has no members.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// Every member's address, by index.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Whether member `i` runs (was not crashed, or was restarted).
    pub fn is_running(&self, i: usize) -> bool {
        self.running[i].is_some()
    }

    fn running(&self, i: usize) -> &Running<F::Member> {
        self.running[i]
            .as_ref()
            .unwrap_or_else(|| panic!("member {i} is crashed"))
    }

    /// Member `i`'s node; panics when it is crashed.
    pub fn node(&self, i: usize) -> &Node {
        &self.running(i).node
    }

    /// Member `i`; panics when it is crashed.
    pub fn member(&self, i: usize) -> &F::Member {
        &self.running(i).member
    }

    /// The factory (what outlives crashes).
    pub fn factory(&self) -> &F {
        &self.factory
    }

    /// The shared paused clock, when the cluster has one.
    pub fn clock(&self) -> Option<&TestClock> {
        self.clock.as_ref()
    }

    /// Kills member `i`: its processes stop and its node shuts down (the port closes).
    pub async fn crash(&mut self, i: usize) {
        let running = self.running[i]
            .take()
            .unwrap_or_else(|| panic!("member {i} is already crashed"));
        self.factory.stop(running.member).await;
        running.node.shutdown().await;
        self.install_cuts();
    }

    /// Starts crashed member `i` again on its old address.
    pub async fn restart(&mut self, i: usize) {
        assert!(self.running[i].is_none(), "member {i} is running");
        let addr = self.addrs[i];
        let started = std::time::Instant::now();
        let node = loop {
            let mut builder = Node::builder().bind(addr);
            if let Some(clock) = &self.clock {
                builder = builder.test_clock(clock);
            }
            match builder.build().await {
                Ok(node) => break node,
                Err(e) if started.elapsed() < HANG_GUARD => {
                    let _ = e; // the old listener may take a moment to close
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("hang guard: member {i} binds {addr} again: {e}"),
            }
        };
        let member = self
            .factory
            .start(&node, i, &self.addrs)
            .await
            .unwrap_or_else(|e| panic!("member {i} restarts: {e}"));
        self.running[i] = Some(Running { node, member });
        self.install_cuts();
    }

    /// Cuts the members in `group` off from every other member, both ways (adds to the
    /// cuts in force).
    pub fn partition(&mut self, group: &[usize]) {
        for &inside in group {
            for outside in (0..self.len()).filter(|o| !group.contains(o)) {
                self.cuts.insert((inside, outside));
                self.cuts.insert((outside, inside));
            }
        }
        self.install_cuts();
    }

    /// Cuts member `i` off from every other member.
    pub fn isolate(&mut self, i: usize) {
        self.partition(&[i]);
    }

    /// Removes every cut: all members hear each other again.
    pub fn heal(&mut self) {
        self.cuts.clear();
        self.install_cuts();
    }

    /// Whether `receiver` drops what `sender` sends (a cut is in force between them).
    pub fn is_cut(&self, receiver: usize, sender: usize) -> bool {
        self.cuts.contains(&(receiver, sender))
    }

    /// Replaces the drop rules by rules for the cuts in force on the running nodes.
    fn install_cuts(&mut self) {
        self.rules.clear();
        for &(receiver, sender) in &self.cuts {
            if let Some(running) = &self.running[receiver] {
                let matcher = MessageMatch::any().from_node(self.addrs[sender]);
                self.rules
                    .push(running.node.filters().drop_matching(matcher));
            }
        }
    }

    /// Returns once the cluster is quiet (see the module docs).
    pub async fn settle(&self) {
        if let Some(clock) = &self.clock {
            clock.settle().await;
            return;
        }
        let mut quiet_looks = 0;
        let started = std::time::Instant::now();
        while quiet_looks < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let busy = self
                .running
                .iter()
                .flatten()
                .any(|r| r.node.processes().iter().any(|(_, depth)| *depth > 0));
            quiet_looks = if busy { 0 } else { quiet_looks + 1 };
            assert!(
                started.elapsed() < HANG_GUARD,
                "hang guard: the cluster never went quiet"
            );
        }
    }

    /// Stops every running member and its node.
    pub async fn shutdown(mut self) {
        self.rules.clear();
        for i in 0..self.len() {
            if let Some(running) = self.running[i].take() {
                self.factory.stop(running.member).await;
                running.node.shutdown().await;
            }
        }
    }
}
