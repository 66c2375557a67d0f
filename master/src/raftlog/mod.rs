//! The replicated log: raft-rs (with check-quorum, pre-vote and lease-based reads) driving a
//! [`StateMachine`] (the [`Registry`](meso_registry::Registry)) on every master, with its
//! log, hard state and snapshots in redb under the work dir (or, in the simulator, on any
//! [`StoreBackend`]).
//!
//! Layers, pure to impure:
//! - [`RaftDriver`] (`driver.rs`): raft-rs's `RawNode` step/ready loop, batching, outcome
//!   routing, snapshots and compaction. No timers, no sockets.
//! - [`DiskStorage`] (`storage.rs`): raft-rs's `Storage` over a [`StoreBackend`], fsync per
//!   write: [`RedbBackend`] (`redb_store.rs`) in production, the simulated disk in `sim/`.
//! - [`RaftPeer`] (`peer.rs`): the libprocess process: ticks, frames between masters
//!   ([`RaftFrame`]), proposal and read requests.
//! - [`RaftLog`] (this file): the handle a master holds: `propose`, `read`, leader watch.
//!
//! Invariants: a node acknowledges a proposal only after the command was committed by a
//! quorum and applied locally; entries and hard state reach disk (fsync) before raft-rs is
//! told they are persisted and before any vote or append acknowledgement leaves the node;
//! membership is fixed when a work dir is made (no reconfiguration yet); a leader that
//! cannot reach a quorum for an election timeout steps down (check-quorum), and lease reads
//! are served only by a leader within its lease.
//!
//! Data flow: the master calls [`RaftLog::propose`] -> [`RaftPeer`] queues the command and
//! sends itself a flush behind what is already in its mailbox -> [`RaftDriver`] proposes one
//! entry for everything queued (group commit) -> the ready state's appends leave for the
//! followers while the entry and hard state are written in one redb transaction with fsync
//! on a blocking thread (`begin_ready` / `finish_ready`; raft-rs forbids steps in between,
//! so frames, ticks and proposals arriving meanwhile wait in the peer's stash, in order) ->
//! once a quorum has the entry every node applies it to its registry, and on the proposer
//! each command's outcome resolves its caller's future. Followers refuse proposals and
//! reads with `NotLeader { leader }`.
//!
//! More invariants: a proposal resolves exactly once, with the registry's outcome after
//! commit and local apply, or with `LeadershipLost`, `NotLeader`, `Stopped` or `Store` (then
//! the command may still commit under the next leader); the log holds at most
//! `snapshot_after_entries` entries beyond the last snapshot, and a lagging follower gets the
//! snapshot; a store error is fatal (the peer fails every waiter and stops).
//!
//! Limits: no membership changes; a snapshot travels in one frame, so the registry must stay
//! under libprocess's frame limit (64 MiB, some hundreds of thousands of agents); a new
//! leader answers reads with `Dropped` until it has committed an entry of its term.

mod driver;
mod error;
mod leader_gone;
mod machine;
mod peer;
mod redb_store;
mod storage;

#[cfg(test)]
mod driver_tests;

pub use driver::{
    decode_message, Batch, LeaderState, LogObserver, LogStats, Output, RaftDriver, RaftLogConfig,
};
pub use error::{ProposeError, RaftLogError};
pub use machine::StateMachine;
pub use peer::{metric, InspectFn, PeerMessage, RaftFrame, RaftPeer, ReadFn, Waiter, PEER_ID};
pub use raft::eraftpb::Entry;
pub use raft::Storage as RaftStorage;
pub use redb_store::RedbBackend;
pub use storage::{CommitResult, DiskStorage, StoreBackend, StoreTxn, Stored};

use libprocess::{Clock, Node, Pid, Upid};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Where a node's log lives and whom it talks to.
#[derive(Debug, Clone)]
pub struct RaftLogOptions {
    /// Raft settings (id, voters, tick counts, snapshot and batch sizes).
    pub config: RaftLogConfig,
    /// The address of every node (this one included), by raft id.
    pub peers: BTreeMap<u64, SocketAddr>,
    /// Length of one raft tick.
    pub tick: Duration,
}

impl RaftLogOptions {
    /// Node `id` among `peers` (ids are 1, 2, ... in the order given), default settings:
    /// 50 ms ticks, elections after 10-20 ticks, heartbeats every 2.
    pub fn new(id: u64, peers: &[SocketAddr]) -> Self {
        let peers: BTreeMap<u64, SocketAddr> = peers
            .iter()
            .enumerate()
            .map(|(i, addr)| (i as u64 + 1, *addr))
            .collect();
        RaftLogOptions {
            config: RaftLogConfig::new(id, peers.keys().copied().collect()),
            peers,
            tick: Duration::from_millis(50),
        }
    }

    /// Sets the election timeout: a follower that hears nothing from the leader for this long
    /// (randomised up to twice as long) campaigns, and a leader that hears from no quorum
    /// for this long steps down. Longer rides out a loaded machine's stalls without a
    /// needless failover; a dead leader process is replaced at once whatever it is
    /// (`leader_gone`). Refused unless it spans more than twice the heartbeat interval.
    pub fn with_election_timeout(mut self, timeout: Duration) -> Result<Self, RaftLogError> {
        let ticks = timeout.as_nanos().div_ceil(self.tick.as_nanos().max(1));
        let heartbeat = self.config.heartbeat_ticks as u128;
        if ticks <= 2 * heartbeat {
            return Err(RaftLogError::Config(format!(
                "election timeout {timeout:?} must exceed twice the heartbeat interval ({:?})",
                self.tick * self.config.heartbeat_ticks as u32
            )));
        }
        self.config.election_ticks = usize::try_from(ticks).map_err(|_| {
            RaftLogError::Config(format!("election timeout {timeout:?} is too long"))
        })?;
        Ok(self)
    }

    /// Options for the master at `me` in a cluster of `peers` (`--peers`, which must list
    /// `me`); no peers means a cluster of one. Ids follow the order of `peers`, so every
    /// master must be given the same list.
    pub fn for_member(me: SocketAddr, peers: &[SocketAddr]) -> Result<Self, RaftLogError> {
        if peers.is_empty() {
            return Ok(Self::new(1, &[me]));
        }
        for (i, addr) in peers.iter().enumerate() {
            if peers[..i].contains(addr) {
                return Err(RaftLogError::Config(format!(
                    "peer {addr} is listed twice in {peers:?}"
                )));
            }
        }
        let position = peers.iter().position(|p| *p == me).ok_or_else(|| {
            RaftLogError::Config(format!(
                "this master's address {me} is not among the peers {peers:?}"
            ))
        })?;
        Ok(Self::new(position as u64 + 1, peers))
    }
}

/// A master's handle to its node of the replicated log.
///
/// A cluster of one, on a libprocess node, with its store in a temp dir:
///
/// ```
/// use meso_master::raftlog::{RaftLog, RaftLogOptions};
/// use meso_registry::{Operation, Registry};
/// use meso_api::v1::{AgentId, AgentInfo};
///
/// # #[tokio::main] async fn main() {
/// let node = libprocess::Node::builder().build().await.unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let options = RaftLogOptions::for_member(node.addr(), &[]).unwrap();
/// let log = RaftLog::<Registry>::start(&node, options, dir.path()).unwrap();
///
/// let mut agent = AgentInfo::new("host1");
/// agent.id = Some(AgentId::new("agent-1"));
/// // Resolves once the operation is durable on a quorum and applied: Ok(outcome).
/// let outcome = log.propose(Operation::AdmitAgent(agent)).await.unwrap();
/// assert_eq!(outcome, Ok(()));
/// assert_eq!(log.read(|r| r.admitted().count()).await, Ok(1));
/// node.shutdown().await;
/// # }
/// ```
pub struct RaftLog<SM: StateMachine> {
    pid: Pid<RaftPeer<SM>>,
    leader: watch::Receiver<LeaderState>,
    clock: Arc<dyn Clock>,
}

impl<SM: StateMachine> Clone for RaftLog<SM> {
    fn clone(&self) -> Self {
        RaftLog {
            pid: self.pid.clone(),
            leader: self.leader.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<SM: StateMachine> RaftLog<SM> {
    /// Opens the log under `work_dir` (creating it for a new node, catching up from it for
    /// a restarted one) and starts its peer process on `node` as [`PEER_ID`].
    pub fn start(
        node: &Node,
        options: RaftLogOptions,
        work_dir: &Path,
    ) -> Result<RaftLog<SM>, RaftLogError> {
        let backend = RedbBackend::open(work_dir)?;
        RaftLog::start_on(node, options, Arc::new(backend), None)
    }

    /// [`start`](Self::start) on the store `backend` holds (the simulator's disk), with an
    /// optional `observer` of every entry applied and every term led (its checkers).
    pub fn start_on(
        node: &Node,
        options: RaftLogOptions,
        backend: Arc<dyn StoreBackend>,
        observer: Option<Arc<dyn LogObserver>>,
    ) -> Result<RaftLog<SM>, RaftLogError> {
        let voters: Vec<u64> = options.peers.keys().copied().collect();
        if options.config.voters != voters {
            return Err(RaftLogError::Config(format!(
                "voters {:?} differ from the peers given {:?}",
                options.config.voters, voters
            )));
        }
        if options.tick.is_zero() {
            return Err(RaftLogError::Config("tick must be positive".to_string()));
        }
        let storage = DiskStorage::open_on(backend, &voters)?;
        let logger = node.logger().new(slog::o!("raft_id" => options.config.id));
        // From the node's random source, so a seeded test node is reproducible (and a
        // restarted one, given a new seed as a real restart has new entropy, is a new
        // incarnation).
        let incarnation = node.random_u64();
        let mut driver = RaftDriver::new(options.config, storage, incarnation, logger)?;
        driver.observe(observer);
        let (leader_tx, leader_rx) = watch::channel(driver.leader());
        let peers: BTreeMap<u64, Upid> = options
            .peers
            .iter()
            .map(|(id, addr)| (*id, Upid::new(PEER_ID, *addr)))
            .collect();
        let peer = RaftPeer::new(driver, peers, options.tick, leader_tx);
        let pid = node
            .spawn_named(PEER_ID, peer)
            .map_err(|e| RaftLogError::Spawn(e.to_string()))?;
        Ok(RaftLog {
            pid,
            leader: leader_rx,
            clock: node.clock(),
        })
    }

    /// Proposes a command; resolves with its outcome once it is committed and applied here,
    /// or with why its outcome is unknown to this node.
    pub async fn propose(&self, command: SM::Command) -> Result<SM::Outcome, ProposeError> {
        let (tx, rx) = oneshot::channel();
        self.pid
            .send(PeerMessage::Propose(command, tx))
            .map_err(send_error)?;
        rx.await.unwrap_or(Err(ProposeError::Stopped))
    }

    /// Reads the state machine linearizably (leader only, under its lease).
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&SM) -> R + Send + 'static,
    ) -> Result<R, ProposeError> {
        let (tx, rx) = oneshot::channel();
        let callback: ReadFn<SM> = Box::new(move |state| {
            let _ = tx.send(state.map(f));
        });
        self.pid
            .send(PeerMessage::Read(callback))
            .map_err(send_error)?;
        rx.await.unwrap_or(Err(ProposeError::Stopped))
    }

    /// Runs `f` on this node's state as applied so far and its log sizes, whatever its
    /// role (a follower's state may lag).
    pub async fn inspect<R: Send + 'static>(
        &self,
        f: impl FnOnce(&SM, LogStats) -> R + Send + 'static,
    ) -> Result<R, ProposeError> {
        let (tx, rx) = oneshot::channel();
        self.pid
            .send(PeerMessage::Inspect(Box::new(move |sm, stats| {
                let _ = tx.send(f(sm, stats));
            })))
            .map_err(send_error)?;
        rx.await.map_err(|_| ProposeError::Stopped)
    }

    /// Hands leadership to the most up-to-date reachable other node (see
    /// `RaftDriver::transfer_leadership`); resolves with its node id once the transfer has
    /// started. This node's leader-only work stops when the new leader's term reaches it.
    pub async fn transfer_leadership(&self) -> Result<u64, ProposeError> {
        let (tx, rx) = oneshot::channel();
        self.pid
            .send(PeerMessage::TransferLeadership(tx))
            .map_err(send_error)?;
        rx.await.unwrap_or(Err(ProposeError::Stopped))
    }

    /// Who leads, as this node last saw it.
    pub fn leader(&self) -> LeaderState {
        *self.leader.borrow()
    }

    /// A receiver that wakes on every leader or term change.
    pub fn watch_leader(&self) -> watch::Receiver<LeaderState> {
        self.leader.clone()
    }

    /// The clock of the node the log runs on (its users pause on it, not on tokio's).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The peer process's address.
    pub fn upid(&self) -> &Upid {
        self.pid.upid()
    }

    /// Stops the peer process (pending waiters get [`ProposeError::Stopped`]).
    pub fn stop(&self) {
        self.pid.terminate();
    }
}

fn send_error(e: libprocess::SendError) -> ProposeError {
    match e {
        libprocess::SendError::MailboxFull { .. } => ProposeError::Busy(e.to_string()),
        _ => ProposeError::Stopped,
    }
}

#[cfg(test)]
mod options_tests {
    use super::*;

    #[test]
    fn member_options_follow_the_peer_list() {
        let a: SocketAddr = "10.0.0.1:5050".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:5050".parse().unwrap();
        let c: SocketAddr = "10.0.0.3:5050".parse().unwrap();
        let o = RaftLogOptions::for_member(b, &[a, b, c]).unwrap();
        assert_eq!(o.config.id, 2);
        assert_eq!(o.config.voters, vec![1, 2, 3]);
        assert_eq!(o.peers[&3], c);
        let alone = RaftLogOptions::for_member(a, &[]).unwrap();
        assert_eq!(alone.config.voters, vec![1]);
        assert!(matches!(
            RaftLogOptions::for_member(c, &[a, b]),
            Err(RaftLogError::Config(m)) if m.contains("10.0.0.3:5050")
        ));
        assert!(RaftLogOptions::for_member(a, &[a, b, a]).is_err());
    }
}
