//! [`RaftDriver`]: the step/ready loop around raft-rs's `RawNode`, with no timers and no
//! networking: the caller ticks it, feeds it peer messages and proposals, and gets back an
//! [`Output`] (messages to send, proposal outcomes, reads that may be served). Disk writes
//! go through [`DiskStorage`] (and its [`StoreBackend`](super::StoreBackend)) inside [`RaftDriver::process_ready`].
//!
//! Proposals are batched: [`RaftDriver::propose`] queues an encoded command and
//! [`RaftDriver::flush`] turns everything queued into one log entry (a [`Batch`]), so one
//! append and one fsync carry many commands. Each command in a batch has a sequence number
//! under the proposer's (node id, incarnation); only the node that proposed it reports its
//! outcome, and a restarted node (new incarnation) never mistakes an old entry for its own.
//!
//! Invariants: `applied` never exceeds the stored log or the commit index; every token is
//! answered exactly once: with the outcome when its command is applied, or with an error
//! when this node stops leading before that (the command may still commit).

use super::error::{ProposeError, RaftLogError};
use super::machine::StateMachine;
use super::storage::{DiskStorage, PersistPlan};
use protobuf::Message as _;
use raft::eraftpb::{Entry, EntryType, Message};
use raft::{RawNode, StateRole};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Settings of one node's log.
#[derive(Debug, Clone)]
pub struct RaftLogConfig {
    /// This node's id (non-zero, one of `voters`).
    pub id: u64,
    /// Every node of the cluster, this one included.
    pub voters: Vec<u64>,
    /// Ticks without hearing from a leader before a follower campaigns (randomised up to
    /// twice this by raft-rs); also the check-quorum and lease period.
    pub election_ticks: usize,
    /// Ticks between leader heartbeats.
    pub heartbeat_ticks: usize,
    /// Applied entries after which the state machine is snapshotted and the log compacted.
    pub snapshot_after_entries: u64,
    /// Most commands in one log entry.
    pub max_batch_commands: usize,
    /// Most encoded command bytes in one log entry (a larger batch is split).
    pub max_batch_bytes: usize,
    /// Largest encoded command accepted.
    pub max_command_bytes: usize,
}

impl RaftLogConfig {
    /// Defaults for node `id` of a cluster of `voters`.
    pub fn new(id: u64, voters: Vec<u64>) -> Self {
        RaftLogConfig {
            id,
            voters,
            election_ticks: 10,
            heartbeat_ticks: 2,
            snapshot_after_entries: 1024,
            max_batch_commands: 4096,
            max_batch_bytes: 4 << 20,
            max_command_bytes: 1 << 20,
        }
    }

    fn validate(&self) -> Result<(), RaftLogError> {
        if self.id == 0 || !self.voters.contains(&self.id) {
            return Err(RaftLogError::Config(format!(
                "node id {} must be non-zero and one of the voters {:?}",
                self.id, self.voters
            )));
        }
        if self.voters.contains(&0) {
            return Err(RaftLogError::Config(format!(
                "voter ids must be non-zero: {:?}",
                self.voters
            )));
        }
        if self.heartbeat_ticks == 0 || self.election_ticks <= self.heartbeat_ticks {
            return Err(RaftLogError::Config(format!(
                "election ticks ({}) must exceed heartbeat ticks ({}) > 0",
                self.election_ticks, self.heartbeat_ticks
            )));
        }
        if self.snapshot_after_entries == 0 || self.max_batch_commands == 0 {
            return Err(RaftLogError::Config(
                "snapshot_after_entries and max_batch_commands must be positive".to_string(),
            ));
        }
        if self.max_command_bytes == 0 || self.max_batch_bytes < self.max_command_bytes {
            return Err(RaftLogError::Config(format!(
                "max_batch_bytes ({}) must be at least max_command_bytes ({}) > 0",
                self.max_batch_bytes, self.max_command_bytes
            )));
        }
        Ok(())
    }
}

/// Who leads, as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaderState {
    /// This node's id.
    pub id: u64,
    /// The leader's id; 0 when none is known.
    pub leader: u64,
    /// The current Raft term.
    pub term: u64,
    /// Whether this node leads.
    pub is_leader: bool,
}

/// Sizes of the log, for tests, metrics and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStats {
    /// Highest index applied to the state machine.
    pub applied: u64,
    /// Highest index known committed.
    pub commit: u64,
    /// First index still in the log (after the snapshot).
    pub first_index: u64,
    /// Last index in the log.
    pub last_index: u64,
    /// Index of the latest snapshot.
    pub snapshot_index: u64,
    /// Entries held after the snapshot.
    pub entries: u64,
    /// Bytes of those entries.
    pub entry_bytes: u64,
}

/// Watches a node's log from outside (the simulator's checkers): every entry applied and
/// every term this node leads, as they happen.
pub trait LogObserver: Send + Sync + 'static {
    /// Node `node` applied the entry at `index` of `term` holding `data`.
    fn applied(&self, node: u64, index: u64, term: u64, data: &[u8]);
    /// Node `node` leads in `term`.
    fn leads(&self, node: u64, term: u64);
}

/// One log entry's worth of commands.
#[derive(Debug, Serialize, Deserialize)]
pub struct Batch {
    /// The proposing node.
    pub proposer: u64,
    /// The proposer's incarnation (random per start).
    pub incarnation: u64,
    /// Sequence number of the first command.
    pub first_seq: u64,
    /// Commands, each postcard-encoded.
    pub commands: Vec<Vec<u8>>,
}

/// A ready state whose disk write is under way (see [`RaftDriver::begin_ready`]).
pub struct PendingReady {
    ready: raft::Ready,
    /// The write to make; taken out to travel to the writing thread.
    pub plan: Option<PersistPlan>,
}

/// What one step of the driver produced.
pub struct Output<T, O> {
    /// Messages for peers.
    pub messages: Vec<Message>,
    /// Proposal outcomes.
    pub results: Vec<(T, Result<O, ProposeError>)>,
    /// Reads that may now be served from the local state machine, or why not.
    pub reads: Vec<(T, Result<(), ProposeError>)>,
    /// The leader state changed.
    pub leader_changed: bool,
}

impl<T, O> Default for Output<T, O> {
    fn default() -> Self {
        Output {
            messages: Vec::new(),
            results: Vec::new(),
            reads: Vec::new(),
            leader_changed: false,
        }
    }
}

/// The Raft node of one master and the state machine it drives.
pub struct RaftDriver<SM: StateMachine, T> {
    raw: RawNode<DiskStorage>,
    machine: SM,
    config: RaftLogConfig,
    incarnation: u64,
    next_seq: u64,
    queued: Vec<(T, Vec<u8>)>,
    queued_bytes: usize,
    in_flight: BTreeMap<u64, T>,
    next_read: u64,
    pending_reads: BTreeMap<u64, T>,
    ready_reads: Vec<(u64, T)>,
    applied: u64,
    leader: LeaderState,
    logger: slog::Logger,
    observer: Option<std::sync::Arc<dyn LogObserver>>,
    /// The election timeout's generator (see `redraw_election_timeout`), and the (term,
    /// role, timeout) it last saw.
    timeout_rng: u64,
    timeout_seen: (u64, StateRole, usize),
}

impl<SM: StateMachine, T> RaftDriver<SM, T> {
    /// Starts on `storage`, restoring the state machine from its snapshot; committed entries
    /// after it are applied again as raft-rs hands them out.
    pub fn new(
        config: RaftLogConfig,
        storage: DiskStorage,
        incarnation: u64,
        logger: slog::Logger,
    ) -> Result<Self, RaftLogError> {
        config.validate()?;
        let snapshot = storage.latest_snapshot();
        let applied = snapshot.get_metadata().index;
        let machine = if snapshot.data.is_empty() {
            SM::empty()
        } else {
            SM::restore(&snapshot.data).map_err(|reason| RaftLogError::BadSnapshot {
                index: applied,
                reason,
            })?
        };
        let raft_config = raft::Config {
            id: config.id,
            election_tick: config.election_ticks,
            heartbeat_tick: config.heartbeat_ticks,
            applied,
            check_quorum: true,
            pre_vote: true,
            read_only_option: raft::ReadOnlyOption::LeaseBased,
            max_size_per_msg: 1 << 20,
            max_inflight_msgs: 256,
            ..Default::default()
        };
        let raw = RawNode::new(&raft_config, storage, &logger)?;
        let leader = LeaderState {
            id: config.id,
            leader: raw.raft.leader_id,
            term: raw.raft.term,
            is_leader: raw.raft.state == StateRole::Leader,
        };
        let mut driver = RaftDriver {
            raw,
            machine,
            config,
            incarnation,
            next_seq: 0,
            queued: Vec::new(),
            queued_bytes: 0,
            in_flight: BTreeMap::new(),
            next_read: 0,
            pending_reads: BTreeMap::new(),
            ready_reads: Vec::new(),
            applied,
            leader,
            logger,
            observer: None,
            timeout_rng: incarnation ^ 0x9e37_79b9_7f4a_7c15,
            timeout_seen: (0, StateRole::Follower, 0),
        };
        driver.redraw_election_timeout();
        Ok(driver)
    }

    /// raft-rs draws its randomized election timeout from the thread's OS-seeded generator
    /// at every change of role or term; this draws it again, from the same uniform range,
    /// with a generator seeded from the node's random source (the incarnation), so a seeded
    /// node (the simulator's) elects the same way on every run. Called after every call
    /// that may change the role or term.
    fn redraw_election_timeout(&mut self) {
        let raft = &self.raw.raft;
        let seen = (raft.term, raft.state, raft.randomized_election_timeout());
        if seen == self.timeout_seen {
            return;
        }
        // splitmix64
        self.timeout_rng = self.timeout_rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.timeout_rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let low = self.config.election_ticks;
        let timeout = low + (z % low as u64) as usize;
        self.raw.raft.set_randomized_election_timeout(timeout);
        self.timeout_seen = (seen.0, seen.1, timeout);
    }

    /// Reports every entry applied and every term led to `observer` from now on.
    pub fn observe(&mut self, observer: Option<std::sync::Arc<dyn LogObserver>>) {
        self.observer = observer;
    }

    /// The state machine as applied locally (not necessarily up to date on a follower).
    pub fn machine(&self) -> &SM {
        &self.machine
    }

    /// Who leads.
    pub fn leader(&self) -> LeaderState {
        self.leader
    }

    /// Log sizes.
    pub fn stats(&self) -> LogStats {
        let store = self.raw.store();
        let snapshot_index = store.latest_snapshot().get_metadata().index;
        LogStats {
            applied: self.applied,
            commit: self.raw.raft.raft_log.committed,
            first_index: snapshot_index + 1,
            last_index: snapshot_index + store.entry_count(),
            snapshot_index,
            entries: store.entry_count(),
            entry_bytes: store.entry_bytes(),
        }
    }

    /// Starts an election now (a one-node cluster uses this to lead at once).
    pub fn campaign(&mut self) -> Result<(), RaftLogError> {
        let result = self.raw.campaign();
        self.redraw_election_timeout();
        Ok(result?)
    }

    /// Advances raft-rs's logical clock by one tick.
    pub fn tick(&mut self) {
        self.raw.tick();
        self.redraw_election_timeout();
    }

    /// Feeds a message from a peer. Messages from unknown or stale peers are dropped
    /// (raft-rs refuses them) and logged.
    pub fn step(&mut self, message: Message) {
        let from = message.from;
        if let Err(e) = self.raw.step(message) {
            slog::debug!(self.logger, "raft message refused"; "from" => from, "error" => %e);
        }
        self.redraw_election_timeout();
    }

    /// Hands leadership over (Marathon's `DELETE /v2/leader`, a rolling restart): raft-rs's
    /// leader transfer to the follower with the longest log among those heard from within
    /// the last election timeout (lowest id on a tie), which is brought up to date and then
    /// campaigns at once. Proposals are dropped while it runs. Returns the follower's id;
    /// [`ProposeError::NotLeader`] when this node does not lead, [`ProposeError::Dropped`]
    /// when no other node is reachable to take over.
    pub fn transfer_leadership(&mut self) -> Result<u64, ProposeError> {
        if self.raw.raft.state != StateRole::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader.leader,
            });
        }
        let me = self.raw.raft.id;
        let target = self
            .raw
            .raft
            .prs()
            .iter()
            .filter(|(id, progress)| **id != me && progress.recent_active)
            .max_by_key(|(id, progress)| (progress.matched, std::cmp::Reverse(**id)))
            .map(|(id, _)| *id)
            .ok_or_else(|| {
                ProposeError::Dropped("no other master is reachable to take over".to_string())
            })?;
        self.raw.transfer_leader(target);
        self.redraw_election_timeout();
        Ok(target)
    }

    /// Starts an election now as a leadership transfer from `dead` (raft-rs `MsgTimeoutNow`):
    /// voters grant it even inside their leader lease. Only for a leader known to be gone
    /// (see `leader_gone`).
    pub fn campaign_after_dead_leader(&mut self, dead: u64) {
        let mut m = Message::default();
        m.set_msg_type(raft::eraftpb::MessageType::MsgTimeoutNow);
        m.from = dead;
        m.to = self.leader.id;
        m.term = self.raw.raft.term;
        self.step(m);
    }

    /// A peer could not be reached; raft-rs probes it again later.
    pub fn report_unreachable(&mut self, peer: u64) {
        self.raw.report_unreachable(peer);
    }

    /// Whether a snapshot sent to `peer` left this node.
    pub fn report_snapshot(&mut self, peer: u64, sent: bool) {
        let status = if sent {
            raft::SnapshotStatus::Finish
        } else {
            raft::SnapshotStatus::Failure
        };
        self.raw.report_snapshot(peer, status);
    }

    /// Queues a command; its outcome comes back in a later [`Output`] with `token`.
    /// Refused at once when this node does not lead or the command is too large.
    pub fn propose(&mut self, token: T, command: &SM::Command, out: &mut Output<T, SM::Outcome>) {
        if !self.leader.is_leader {
            let leader = self.leader.leader;
            out.results
                .push((token, Err(ProposeError::NotLeader { leader })));
            return;
        }
        let bytes = postcard::to_allocvec(command).expect("invariant: commands always encode");
        if bytes.len() > self.config.max_command_bytes {
            let limit = self.config.max_command_bytes;
            let size = bytes.len();
            out.results
                .push((token, Err(ProposeError::TooLarge { size, limit })));
            return;
        }
        if self.queued_bytes + bytes.len() > self.config.max_batch_bytes {
            self.flush(out);
        }
        self.queued_bytes += bytes.len();
        self.queued.push((token, bytes));
        if self.queued.len() >= self.config.max_batch_commands {
            self.flush(out);
        }
    }

    /// Commands queued and not yet in the log.
    pub fn queued(&self) -> usize {
        self.queued.len()
    }

    /// Proposes everything queued as one log entry.
    pub fn flush(&mut self, out: &mut Output<T, SM::Outcome>) {
        if self.queued.is_empty() {
            return;
        }
        let queued = std::mem::take(&mut self.queued);
        self.queued_bytes = 0;
        if !self.leader.is_leader {
            let leader = self.leader.leader;
            for (token, _) in queued {
                out.results
                    .push((token, Err(ProposeError::NotLeader { leader })));
            }
            return;
        }
        let first_seq = self.next_seq;
        let (tokens, commands): (Vec<T>, Vec<Vec<u8>>) = queued.into_iter().unzip();
        let batch = Batch {
            proposer: self.config.id,
            incarnation: self.incarnation,
            first_seq,
            commands,
        };
        let data = postcard::to_allocvec(&batch).expect("invariant: batches always encode");
        match self.raw.propose(Vec::new(), data) {
            Ok(()) => {
                for (i, token) in tokens.into_iter().enumerate() {
                    self.in_flight.insert(first_seq + i as u64, token);
                }
                self.next_seq += batch.commands.len() as u64;
            }
            Err(e) => {
                let reason = e.to_string();
                for token in tokens {
                    out.results
                        .push((token, Err(ProposeError::Dropped(reason.clone()))));
                }
            }
        }
    }

    /// Asks to read the state machine linearizably: the token comes back in
    /// [`Output::reads`] once the leader's lease confirms it still leads and everything
    /// committed before the request is applied.
    pub fn read(&mut self, token: T, out: &mut Output<T, SM::Outcome>) {
        if !self.leader.is_leader {
            let leader = self.leader.leader;
            out.reads
                .push((token, Err(ProposeError::NotLeader { leader })));
            return;
        }
        if !self.raw.raft.commit_to_current_term() {
            // raft-rs silently drops a read index request until the new leader has
            // committed an entry of its own term; answer now instead of never.
            out.reads.push((
                token,
                Err(ProposeError::Dropped(
                    "the new leader has not committed an entry in its term yet".to_string(),
                )),
            ));
            return;
        }
        let seq = self.next_read;
        self.next_read += 1;
        self.pending_reads.insert(seq, token);
        self.raw.read_index(seq.to_le_bytes().to_vec());
    }

    /// Handles everything raft-rs has ready: sends, applies, persists (one fsync), advances.
    /// A store error is fatal for this node.
    pub fn process_ready(&mut self, out: &mut Output<T, SM::Outcome>) -> Result<(), RaftLogError> {
        if let Some(mut pending) = self.begin_ready(out)? {
            if let Some(plan) = &pending.plan {
                self.raw.store().writer().write(plan)?;
            }
            let plan = pending.plan.take();
            self.finish_ready(pending, plan, out)?;
        }
        Ok(())
    }

    /// First half of handling a ready state: takes the messages that may leave before the
    /// disk write (the leader's appends), installs a received snapshot, applies committed
    /// entries, and plans the write. `None` when nothing is ready. Write the plan with
    /// [`StoreWriter`](super::storage::StoreWriter) (on any thread), then call
    /// [`finish_ready`](Self::finish_ready) before anything else touches this driver's
    /// ready state (stepping, ticking and proposing are fine meanwhile).
    pub fn begin_ready(
        &mut self,
        out: &mut Output<T, SM::Outcome>,
    ) -> Result<Option<PendingReady>, RaftLogError> {
        if !self.raw.has_ready() {
            return Ok(None);
        }
        let mut ready = self.raw.ready();
        out.messages.extend(ready.take_messages());
        if !ready.snapshot().is_empty() {
            let snapshot = ready.snapshot().clone();
            let index = snapshot.get_metadata().index;
            self.machine = SM::restore(&snapshot.data)
                .map_err(|reason| RaftLogError::BadSnapshot { index, reason })?;
            self.raw.mut_store().apply_snapshot(&snapshot)?;
            self.applied = index;
            slog::info!(self.logger, "installed snapshot from leader"; "index" => index);
        }
        let committed = ready.take_committed_entries();
        self.apply_entries(committed, out);
        for state in ready.take_read_states() {
            if let Ok(bytes) = <[u8; 8]>::try_from(state.request_ctx.as_slice()) {
                if let Some(token) = self.pending_reads.remove(&u64::from_le_bytes(bytes)) {
                    self.ready_reads.push((state.index, token));
                }
            }
        }
        let plan = self.raw.store().plan_persist(ready.entries(), ready.hs())?;
        Ok(Some(PendingReady { ready, plan }))
    }

    /// A writer for the plans of [`begin_ready`](Self::begin_ready).
    pub fn store_writer(&self) -> super::storage::StoreWriter {
        self.raw.store().writer()
    }

    /// Second half: `plan` (the pending ready's, taken out of it) was written durably.
    /// Sends what had to wait for the disk (votes, append acknowledgements), advances
    /// raft-rs, applies newly committed entries and compacts the log if it is due.
    pub fn finish_ready(
        &mut self,
        pending: PendingReady,
        plan: Option<PersistPlan>,
        out: &mut Output<T, SM::Outcome>,
    ) -> Result<(), RaftLogError> {
        let mut ready = pending.ready;
        if let Some(plan) = plan {
            self.raw.mut_store().finish_persist(plan);
        }
        out.messages.extend(ready.take_persisted_messages());
        let mut light = self.raw.advance(ready);
        if let Some(commit) = light.commit_index() {
            self.raw.mut_store().set_commit(commit);
        }
        out.messages.extend(light.take_messages());
        self.apply_entries(light.take_committed_entries(), out);
        self.raw.advance_apply_to(self.applied);
        self.serve_reads(out);
        self.update_leader(out);
        self.maybe_compact()?;
        Ok(())
    }

    fn apply_entries(&mut self, entries: Vec<Entry>, out: &mut Output<T, SM::Outcome>) {
        for entry in entries {
            if let Some(o) = &self.observer {
                o.applied(self.config.id, entry.index, entry.term, &entry.data);
            }
            if entry.get_entry_type() == EntryType::EntryNormal && !entry.data.is_empty() {
                self.apply_batch(&entry, out);
            }
            self.applied = entry.index;
        }
    }

    fn apply_batch(&mut self, entry: &Entry, out: &mut Output<T, SM::Outcome>) {
        // Every node decodes the same bytes, so a batch that does not decode is skipped
        // everywhere alike.
        let batch: Batch = match postcard::from_bytes(&entry.data) {
            Ok(b) => b,
            Err(e) => {
                slog::error!(self.logger, "undecodable log entry skipped";
                    "index" => entry.index, "error" => %e);
                return;
            }
        };
        let mine = batch.proposer == self.config.id && batch.incarnation == self.incarnation;
        for (i, bytes) in batch.commands.iter().enumerate() {
            let outcome = match postcard::from_bytes::<SM::Command>(bytes) {
                Ok(command) => Ok(self.machine.apply(&command)),
                Err(e) => {
                    slog::error!(self.logger, "undecodable command skipped";
                        "index" => entry.index, "position" => i, "error" => %e);
                    Err(ProposeError::Dropped(format!(
                        "command does not decode: {e}"
                    )))
                }
            };
            if mine {
                if let Some(token) = self.in_flight.remove(&(batch.first_seq + i as u64)) {
                    out.results.push((token, outcome));
                }
            }
        }
    }

    fn serve_reads(&mut self, out: &mut Output<T, SM::Outcome>) {
        let applied = self.applied;
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.ready_reads)
            .into_iter()
            .partition(|(index, _)| *index <= applied);
        self.ready_reads = later;
        out.reads
            .extend(now.into_iter().map(|(_, token)| (token, Ok(()))));
    }

    fn update_leader(&mut self, out: &mut Output<T, SM::Outcome>) {
        let now = LeaderState {
            id: self.config.id,
            leader: self.raw.raft.leader_id,
            term: self.raw.raft.term,
            is_leader: self.raw.raft.state == StateRole::Leader,
        };
        if now == self.leader {
            return;
        }
        let was_leader = self.leader.is_leader;
        self.leader = now;
        if let (Some(o), true) = (&self.observer, now.is_leader) {
            o.leads(now.id, now.term);
        }
        out.leader_changed = true;
        slog::info!(self.logger, "raft leader changed";
            "leader" => now.leader, "term" => now.term, "is_leader" => now.is_leader);
        if was_leader && !now.is_leader {
            for (_, token) in std::mem::take(&mut self.in_flight) {
                out.results.push((token, Err(ProposeError::LeadershipLost)));
            }
            let leader = now.leader;
            for (token, _) in self.queued.drain(..) {
                out.results
                    .push((token, Err(ProposeError::NotLeader { leader })));
            }
            for (_, token) in std::mem::take(&mut self.pending_reads) {
                out.reads.push((token, Err(ProposeError::LeadershipLost)));
            }
            for (_, token) in self.ready_reads.drain(..) {
                out.reads.push((token, Err(ProposeError::LeadershipLost)));
            }
        }
    }

    fn maybe_compact(&mut self) -> Result<(), RaftLogError> {
        let store = self.raw.store();
        let snapshot_index = store.latest_snapshot().get_metadata().index;
        let last = snapshot_index + store.entry_count();
        let index = self.applied.min(last);
        if index <= snapshot_index || index - snapshot_index < self.config.snapshot_after_entries {
            return Ok(());
        }
        let data = self.machine.snapshot();
        self.raw.mut_store().compact(index, data)?;
        slog::debug!(self.logger, "log compacted"; "snapshot_index" => index);
        Ok(())
    }

    /// Fails every waiting token (the node is stopping or its store failed).
    pub fn fail_all(&mut self, error: ProposeError, out: &mut Output<T, SM::Outcome>) {
        for (_, token) in std::mem::take(&mut self.in_flight) {
            out.results.push((token, Err(error.clone())));
        }
        for (token, _) in self.queued.drain(..) {
            out.results.push((token, Err(error.clone())));
        }
        self.queued_bytes = 0;
        for (_, token) in std::mem::take(&mut self.pending_reads) {
            out.reads.push((token, Err(error.clone())));
        }
        for (_, token) in self.ready_reads.drain(..) {
            out.reads.push((token, Err(error.clone())));
        }
    }
}

/// Encodes a raft message for the wire.
pub fn encode_message(message: &Message) -> Vec<u8> {
    message
        .write_to_bytes()
        .expect("invariant: raft messages always encode")
}

/// Decodes a raft message from the wire.
pub fn decode_message(bytes: &[u8]) -> Result<Message, protobuf::ProtobufError> {
    Message::parse_from_bytes(bytes)
}
