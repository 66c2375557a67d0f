//! [`RaftPeer`]: the libprocess process that runs one node's [`RaftDriver`]: a timer ticks
//! it, [`RaftFrame`]s from the other masters' `RaftPeer`s are stepped into it, proposals and
//! reads come from the [`RaftLog`](super::RaftLog) handle, and whatever the driver outputs is
//! sent to peers or handed back to waiters. It owns no protocol logic.
//!
//! Every master runs its peer under the id [`PEER_ID`], so peer `n` is
//! `raftlog@<its address>`. Messages to one peer in one step travel in one frame.
//! Proposals that arrive while the process is busy are batched: the first one queues a
//! `Flush` behind whatever is already in the mailbox, so one log entry (one fsync) takes
//! every proposal that arrived meanwhile. A store failure is fatal: the peer fails all
//! waiters and terminates (the master is expected to exit, as Mesos does).

use super::driver::{
    decode_message, encode_message, LeaderState, Output, PendingReady, RaftDriver,
};
use super::error::ProposeError;
use super::leader_gone;
use super::machine::StateMachine;
use super::storage::PersistPlan;
use libprocess::{Context, Handlers, Process, RemoteMessage, Upid};
use raft::eraftpb::MessageType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The libprocess id of every master's raft peer process.
pub const PEER_ID: &str = "raftlog";

/// Raft messages from one node to another, protobuf-encoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RaftFrame {
    /// The sending node's raft id.
    pub from: u64,
    /// Encoded `eraftpb::Message`s, in order.
    pub messages: Vec<Vec<u8>>,
}

impl RemoteMessage for RaftFrame {
    const NAME: &'static str = "meso.raftlog.Frame";
}

/// A callback run on the local state machine once a read is safe, or with the reason not.
pub type ReadFn<SM> = Box<dyn FnOnce(Result<&SM, ProposeError>) + Send>;

/// A callback run on the local state and log sizes.
pub type InspectFn<SM> = Box<dyn FnOnce(&SM, super::LogStats) + Send>;

/// Where an answer goes.
pub enum Waiter<SM: StateMachine> {
    /// A proposal's outcome.
    Propose(oneshot::Sender<Result<SM::Outcome, ProposeError>>),
    /// A read.
    Read(ReadFn<SM>),
}

/// Everything a [`RaftPeer`] handles.
pub enum PeerMessage<SM: StateMachine> {
    /// Messages from another node.
    Frame(RaftFrame),
    /// The tick timer fired.
    Tick,
    /// Propose the batched commands.
    Flush,
    /// Propose a command.
    Propose(
        SM::Command,
        oneshot::Sender<Result<SM::Outcome, ProposeError>>,
    ),
    /// Read linearizably (leader only).
    Read(ReadFn<SM>),
    /// Run on the local state and stats, whatever the role (for tests and status pages).
    Inspect(InspectFn<SM>),
    /// Hand leadership to another node; answered with its id once the transfer started.
    TransferLeadership(oneshot::Sender<Result<u64, ProposeError>>),
    /// The disk write of the ready state under way finished.
    Persisted(Box<PersistPlan>, Result<(), String>),
    /// The disk write's thread failed.
    PersistFailed(String),
    /// The link to `leader` (leading in `term`) broke and its address was probed:
    /// `refused` if no process listens there. `waited`: this node's turn came (see
    /// `leader_gone::campaign_delay`).
    LeaderGone {
        leader: u64,
        term: u64,
        refused: bool,
        waited: bool,
    },
}

impl<SM: StateMachine> From<RaftFrame> for PeerMessage<SM> {
    fn from(frame: RaftFrame) -> Self {
        PeerMessage::Frame(frame)
    }
}

/// Metric names (Mesos style, on the node's `/metrics/snapshot`).
pub mod metric {
    /// Current Raft term.
    pub const TERM: &str = "registrar/raft/term";
    /// Raft id of the known leader (0: none).
    pub const LEADER_ID: &str = "registrar/raft/leader_id";
    /// 1 while this node leads.
    pub const IS_LEADER: &str = "registrar/raft/is_leader";
    /// Highest index applied to the registry.
    pub const APPLIED_INDEX: &str = "registrar/raft/applied_index";
    /// Highest index known committed.
    pub const COMMIT_INDEX: &str = "registrar/raft/commit_index";
    /// Committed entries not yet applied.
    pub const APPLY_LAG: &str = "registrar/raft/apply_lag";
    /// Bytes of the entries held after the latest snapshot.
    pub const LOG_BYTES: &str = "registrar/raft/log_bytes";
    /// Entries held after the latest snapshot.
    pub const LOG_ENTRIES: &str = "registrar/raft/log_entries";
    /// Index of the latest snapshot.
    pub const SNAPSHOT_INDEX: &str = "registrar/raft/snapshot_index";
    /// Proposals received (by a leader or not).
    pub const PROPOSALS: &str = "registrar/raft/proposals";
    /// Time to handle one ready state (append, fsync, apply).
    pub const READY: &str = "registrar/raft/ready";
    /// Elections this node started at once because the leader's port refused connections.
    pub const DEAD_LEADER_CAMPAIGNS: &str = "registrar/raft/dead_leader_campaigns";
}

struct Metrics {
    term: libprocess::Gauge,
    leader_id: libprocess::Gauge,
    is_leader: libprocess::Gauge,
    applied: libprocess::Gauge,
    commit: libprocess::Gauge,
    apply_lag: libprocess::Gauge,
    entry_bytes: libprocess::Gauge,
    entries: libprocess::Gauge,
    snapshot: libprocess::Gauge,
    proposals: libprocess::Counter,
    ready: libprocess::Timer,
    dead_leader_campaigns: libprocess::Counter,
}

impl Metrics {
    fn new(m: &libprocess::Metrics) -> Self {
        Metrics {
            term: m.gauge(metric::TERM),
            leader_id: m.gauge(metric::LEADER_ID),
            is_leader: m.gauge(metric::IS_LEADER),
            applied: m.gauge(metric::APPLIED_INDEX),
            commit: m.gauge(metric::COMMIT_INDEX),
            apply_lag: m.gauge(metric::APPLY_LAG),
            entry_bytes: m.gauge(metric::LOG_BYTES),
            entries: m.gauge(metric::LOG_ENTRIES),
            snapshot: m.gauge(metric::SNAPSHOT_INDEX),
            proposals: m.counter(metric::PROPOSALS),
            ready: m.timer(metric::READY),
            dead_leader_campaigns: m.counter(metric::DEAD_LEADER_CAMPAIGNS),
        }
    }
}

fn as_gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The process driving one node's raft log.
pub struct RaftPeer<SM: StateMachine> {
    metrics: Option<Metrics>,
    driver: RaftDriver<SM, Waiter<SM>>,
    peers: BTreeMap<u64, Upid>,
    tick: Duration,
    flush_queued: bool,
    leader_tx: watch::Sender<LeaderState>,
    campaign_at_start: bool,
    /// The ready state whose disk write is under way, and when its handling began.
    persisting: Option<(PendingReady, Duration)>,
    /// Messages that arrived while a write was under way.
    stash: std::collections::VecDeque<PeerMessage<SM>>,
    /// Peers whose raft process this one is linked to (linked on their first frame, and
    /// again on the first frame after a link broke).
    linked: std::collections::BTreeSet<u64>,
}

impl<SM: StateMachine> RaftPeer<SM> {
    pub(super) fn new(
        driver: RaftDriver<SM, Waiter<SM>>,
        peers: BTreeMap<u64, Upid>,
        tick: Duration,
        leader_tx: watch::Sender<LeaderState>,
    ) -> Self {
        let campaign_at_start = peers.len() == 1;
        RaftPeer {
            metrics: None,
            driver,
            peers,
            tick,
            flush_queued: false,
            leader_tx,
            campaign_at_start,
            persisting: None,
            stash: std::collections::VecDeque::new(),
            linked: std::collections::BTreeSet::new(),
        }
    }

    /// The leader's link broke and its port was probed: campaign now, later, or not at all.
    fn leader_gone(
        &mut self,
        ctx: &mut Context<Self>,
        leader: u64,
        term: u64,
        refused: bool,
        waited: bool,
    ) {
        if !refused {
            slog::debug!(ctx.node().logger(), "link to the raft leader broke but its port answers";
                "leader" => leader, "term" => term);
            return;
        }
        let state = self.driver.leader();
        let voters: Vec<u64> = self.peers.keys().copied().collect();
        match leader_gone::campaign_delay(&state, &voters, leader, term) {
            None => {}
            Some(wait) if wait.is_zero() || waited => {
                slog::info!(ctx.node().logger(), "the raft leader's port refuses connections: campaigning now";
                    "dead_leader" => leader, "term" => term);
                if let Some(m) = &self.metrics {
                    m.dead_leader_campaigns.inc();
                }
                self.driver.campaign_after_dead_leader(leader);
            }
            Some(wait) => {
                ctx.delay(
                    wait,
                    PeerMessage::LeaderGone {
                        leader,
                        term,
                        refused,
                        waited: true,
                    },
                );
            }
        }
    }

    /// Handles ready state until raft-rs has none, or until a disk write is under way: the
    /// write runs on a blocking thread so that this handler returns and the leader's appends
    /// leave (libprocess writes a handler's frames when it returns) while the disk syncs.
    fn drive(&mut self, ctx: &mut Context<Self>, mut out: Output<Waiter<SM>, SM::Outcome>) {
        while self.persisting.is_none() {
            let started = ctx.node().clock().now();
            let mut pending = match self.driver.begin_ready(&mut out) {
                Ok(Some(pending)) => pending,
                Ok(None) => break,
                Err(e) => return self.fail(ctx, e.to_string(), out),
            };
            match pending.plan.take() {
                None => {
                    if let Err(e) = self.driver.finish_ready(pending, None, &mut out) {
                        return self.fail(ctx, e.to_string(), out);
                    }
                }
                Some(plan) => {
                    let writer = self.driver.store_writer();
                    self.persisting = Some((pending, started));
                    ctx.defer(writer.write_async(plan), |written| match written {
                        Ok((plan, result)) => PeerMessage::Persisted(Box::new(plan), result),
                        Err(e) => PeerMessage::PersistFailed(e),
                    });
                }
            }
        }
        self.update_metrics();
        self.deliver(ctx, out);
    }

    fn on_persisted(
        &mut self,
        ctx: &mut Context<Self>,
        plan: PersistPlan,
        result: Result<(), String>,
    ) {
        let mut out = Output::default();
        let (pending, started) = self
            .persisting
            .take()
            .expect("invariant: a write completes only while one is under way");
        if let Err(e) = result {
            return self.fail(ctx, e, out);
        }
        if let Err(e) = self.driver.finish_ready(pending, Some(plan), &mut out) {
            return self.fail(ctx, e.to_string(), out);
        }
        if let Some(m) = &self.metrics {
            m.ready
                .record(ctx.node().clock().now().saturating_sub(started));
        }
        self.drive(ctx, out);
        while self.persisting.is_none() {
            let Some(waiting) = self.stash.pop_front() else {
                break;
            };
            self.handle(ctx, waiting);
        }
    }

    fn fail(
        &mut self,
        ctx: &mut Context<Self>,
        error: String,
        mut out: Output<Waiter<SM>, SM::Outcome>,
    ) {
        slog::crit!(ctx.node().logger(), "raft log failed; stopping"; "error" => %error);
        self.driver.fail_all(ProposeError::Store(error), &mut out);
        self.deliver(ctx, out);
        ctx.terminate();
    }

    fn update_metrics(&self) {
        if let Some(m) = &self.metrics {
            let leader = self.driver.leader();
            let stats = self.driver.stats();
            m.term.set(as_gauge(leader.term));
            m.leader_id.set(as_gauge(leader.leader));
            m.is_leader.set(i64::from(leader.is_leader));
            m.applied.set(as_gauge(stats.applied));
            m.commit.set(as_gauge(stats.commit));
            m.apply_lag
                .set(as_gauge(stats.commit.saturating_sub(stats.applied)));
            m.entry_bytes.set(as_gauge(stats.entry_bytes));
            m.entries.set(as_gauge(stats.entries));
            m.snapshot.set(as_gauge(stats.snapshot_index));
        }
    }

    fn deliver(&mut self, ctx: &mut Context<Self>, out: Output<Waiter<SM>, SM::Outcome>) {
        let mut frames: BTreeMap<u64, (Vec<Vec<u8>>, bool)> = BTreeMap::new();
        for message in &out.messages {
            let slot = frames.entry(message.to).or_default();
            slot.0.push(encode_message(message));
            slot.1 |= message.get_msg_type() == MessageType::MsgSnapshot;
        }
        let from = self.driver.leader().id;
        for (to, (messages, has_snapshot)) in frames {
            let sent = match self.peers.get(&to) {
                Some(upid) => ctx.send(upid, RaftFrame { from, messages }).is_ok(),
                None => false,
            };
            if !sent {
                self.driver.report_unreachable(to);
            }
            if has_snapshot {
                self.driver.report_snapshot(to, sent);
            }
        }
        for (waiter, result) in out.results {
            if let Waiter::Propose(tx) = waiter {
                let _ = tx.send(result);
            }
        }
        for (waiter, result) in out.reads {
            if let Waiter::Read(f) = waiter {
                match result {
                    Ok(()) => f(Ok(self.driver.machine())),
                    Err(e) => f(Err(e)),
                }
            }
        }
        if out.leader_changed {
            self.leader_tx.send_replace(self.driver.leader());
        }
    }
}

impl<SM: StateMachine> Process for RaftPeer<SM> {
    type Message = PeerMessage<SM>;

    fn base_name(&self) -> &str {
        PEER_ID
    }

    fn install(handlers: &mut Handlers<Self>) {
        handlers.on::<RaftFrame>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.metrics = Some(Metrics::new(ctx.node().metrics()));
        if self.campaign_at_start {
            if let Err(e) = self.driver.campaign() {
                slog::error!(ctx.node().logger(), "campaign failed"; "error" => %e);
            }
            self.drive(ctx, Output::default());
        }
        ctx.delay(self.tick, PeerMessage::Tick);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: PeerMessage<SM>) {
        // raft-rs's ready cycle must not see steps, ticks or proposals between `ready` and
        // `advance`: while a write is under way they wait here, in order.
        let waits = !matches!(
            msg,
            PeerMessage::Persisted(..) | PeerMessage::PersistFailed(_) | PeerMessage::Inspect(_)
        );
        if self.persisting.is_some() && waits {
            self.stash.push_back(msg);
            return;
        }
        let mut out = Output::default();
        match msg {
            PeerMessage::Frame(frame) => {
                // A frame proves the peer alive: watch it, to learn at once if it dies.
                if let Some(upid) = self.peers.get(&frame.from) {
                    if self.linked.insert(frame.from) {
                        ctx.link(upid);
                    }
                }
                for bytes in &frame.messages {
                    match decode_message(bytes) {
                        Ok(m) if m.from == frame.from => self.driver.step(m),
                        Ok(m) => {
                            slog::warn!(ctx.node().logger(), "raft frame with a forged sender";
                            "frame_from" => frame.from, "message_from" => m.from)
                        }
                        Err(e) => slog::warn!(ctx.node().logger(), "undecodable raft message";
                            "from" => frame.from, "error" => %e),
                    }
                }
            }
            PeerMessage::Tick => {
                self.driver.tick();
                ctx.delay(self.tick, PeerMessage::Tick);
            }
            PeerMessage::Flush => {
                self.flush_queued = false;
                self.driver.flush(&mut out);
            }
            PeerMessage::Propose(command, tx) => {
                if let Some(m) = &self.metrics {
                    m.proposals.inc();
                }
                self.driver.propose(Waiter::Propose(tx), &command, &mut out);
                if self.driver.queued() > 0 && !self.flush_queued {
                    if ctx.pid().send(PeerMessage::Flush).is_ok() {
                        self.flush_queued = true;
                    } else {
                        self.driver.flush(&mut out);
                    }
                }
            }
            PeerMessage::Read(f) => self.driver.read(Waiter::Read(f), &mut out),
            PeerMessage::Inspect(f) => f(self.driver.machine(), self.driver.stats()),
            PeerMessage::TransferLeadership(reply) => {
                let started = self.driver.transfer_leadership();
                if let Ok(to) = &started {
                    slog::info!(ctx.node().logger(), "handing leadership over"; "to" => *to);
                }
                let _ = reply.send(started);
            }
            PeerMessage::Persisted(plan, result) => {
                self.deliver(ctx, out);
                return self.on_persisted(ctx, *plan, result);
            }
            PeerMessage::PersistFailed(e) => return self.fail(ctx, e, out),
            PeerMessage::LeaderGone {
                leader,
                term,
                refused,
                waited,
            } => self.leader_gone(ctx, leader, term, refused, waited),
        }
        self.drive(ctx, out);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        let Some(id) = self
            .peers
            .iter()
            .find(|(_, u)| **u == pid)
            .map(|(id, _)| *id)
        else {
            return;
        };
        self.linked.remove(&id);
        let state = self.driver.leader();
        if state.is_leader || state.leader != id {
            return;
        }
        let term = state.term;
        let node = ctx.node();
        ctx.defer(
            leader_gone::refuses_connections(node.transport(), node.clock(), pid.addr()),
            move |refused| PeerMessage::LeaderGone {
                leader: id,
                term,
                refused,
                waited: false,
            },
        );
    }

    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        let mut out = Output::default();
        self.driver.fail_all(ProposeError::Stopped, &mut out);
        for (waiter, result) in out.results {
            if let Waiter::Propose(tx) = waiter {
                let _ = tx.send(result);
            }
        }
        for (waiter, result) in out.reads {
            if let (Waiter::Read(f), Err(e)) = (waiter, result) {
                f(Err(e));
            }
        }
        let mut stopped = self.driver.leader();
        stopped.is_leader = false;
        stopped.leader = 0;
        self.leader_tx.send_replace(stopped);
    }
}
