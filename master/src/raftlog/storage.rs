//! [`DiskStorage`]: raft-rs's `Storage` over a durable [`StoreBackend`], with the live part
//! of the log mirrored in memory for reads.
//!
//! The backend is where the bytes live: redb under the work dir in production
//! ([`RedbBackend`](super::redb_store::RedbBackend)), a log on a simulated disk in the
//! simulator (`sim/src/raftstore.rs`). Every change is one [`StoreTxn`] (entries removed,
//! entries written, hard state, conf state, snapshot), committed atomically and durably
//! (fsync) before raft-rs is told it is persisted, so a crash loses nothing that was
//! acknowledged. Appends go through [`StoreBackend::commit_async`] (production: a blocking
//! thread) so the peer keeps serving while the disk syncs; snapshots and compactions commit
//! in place. Invariants: the mirror equals the store after every call; the entries are
//! exactly the indexes `snapshot.index + 1 ..= last_index`, contiguous;
//! `hard_state.commit >= snapshot.index`.

use super::error::RaftLogError;
use futures::future::BoxFuture;
use protobuf::Message as _;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use raft::{GetEntriesContext, RaftState, StorageError};
use std::sync::Arc;

/// One atomic, durable change to a store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreTxn {
    /// Entries removed, by index (`first..=last`; empty when `last < first`).
    pub remove: Option<(u64, u64)>,
    /// Entries written, after the removal.
    pub entries: Vec<Entry>,
    /// The new hard state.
    pub hard_state: Option<HardState>,
    /// The new conf state.
    pub conf_state: Option<ConfState>,
    /// The new snapshot.
    pub snapshot: Option<Snapshot>,
}

/// A [`StoreTxn`] as bytes: postcard around the records' protobuf encodings.
#[derive(serde::Serialize, serde::Deserialize)]
struct TxnBytes {
    remove: Option<(u64, u64)>,
    entries: Vec<Vec<u8>>,
    hard_state: Option<Vec<u8>>,
    conf_state: Option<Vec<u8>>,
    snapshot: Option<Vec<u8>>,
}

fn proto<M: protobuf::Message>(m: &M) -> Vec<u8> {
    m.write_to_bytes()
        .expect("invariant: raft records always encode")
}

impl StoreTxn {
    /// The transaction as one record, for a backend that logs transactions.
    pub fn encode(&self) -> Vec<u8> {
        let bytes = TxnBytes {
            remove: self.remove,
            entries: self.entries.iter().map(proto).collect(),
            hard_state: self.hard_state.as_ref().map(proto),
            conf_state: self.conf_state.as_ref().map(proto),
            snapshot: self.snapshot.as_ref().map(proto),
        };
        postcard::to_allocvec(&bytes).expect("invariant: transactions always encode")
    }

    /// Decodes a record made by [`encode`](Self::encode).
    pub fn decode(location: &str, bytes: &[u8]) -> Result<StoreTxn, RaftLogError> {
        let corrupt = |reason: String| RaftLogError::Corrupt {
            path: location.to_string(),
            what: "transaction".to_string(),
            reason,
        };
        let t: TxnBytes = postcard::from_bytes(bytes).map_err(|e| corrupt(e.to_string()))?;
        let entries = t
            .entries
            .iter()
            .map(|b| decode(location, "entry", b))
            .collect::<Result<Vec<Entry>, _>>()?;
        Ok(StoreTxn {
            remove: t.remove,
            entries,
            hard_state: t
                .hard_state
                .map(|b| decode(location, "hard_state", &b))
                .transpose()?,
            conf_state: t
                .conf_state
                .map(|b| decode(location, "conf_state", &b))
                .transpose()?,
            snapshot: t
                .snapshot
                .map(|b| decode(location, "snapshot", &b))
                .transpose()?,
        })
    }
}

/// What a store holds when opened.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The hard state (default for a new store).
    pub hard_state: HardState,
    /// The conf state (no voters for a new store).
    pub conf_state: ConfState,
    /// The latest snapshot (index 0 for a new store).
    pub snapshot: Snapshot,
    /// The entries, as (key, entry) in key order.
    pub entries: Vec<(u64, Entry)>,
}

impl Stored {
    /// Applies a committed transaction (a backend that logs transactions replays them).
    pub fn apply(&mut self, txn: StoreTxn) {
        if let Some((first, last)) = txn.remove {
            self.entries.retain(|(k, _)| *k < first || *k > last);
        }
        for entry in txn.entries {
            let index = entry.index;
            self.entries.retain(|(k, _)| *k != index);
            self.entries.push((index, entry));
        }
        self.entries.sort_by_key(|(k, _)| *k);
        if let Some(hard) = txn.hard_state {
            self.hard_state = hard;
        }
        if let Some(conf) = txn.conf_state {
            self.conf_state = conf;
        }
        if let Some(snapshot) = txn.snapshot {
            self.snapshot = snapshot;
        }
    }
}

/// Result of an asynchronous commit: the transaction back with its outcome, or why the
/// writer itself failed.
pub type CommitResult = Result<(StoreTxn, Result<(), String>), String>;

/// Where a node's log, hard state and snapshot live durably.
pub trait StoreBackend: Send + Sync + 'static {
    /// Where the store is, for errors (a path).
    fn location(&self) -> String;
    /// Reads everything stored.
    fn load(&self) -> Result<Stored, RaftLogError>;
    /// Applies `txn` atomically and durably; blocks for the disk.
    fn commit(&self, txn: &StoreTxn) -> Result<(), RaftLogError>;
    /// [`commit`](Self::commit) off the caller's thread; resolves once durable (or failed).
    fn commit_async(self: Arc<Self>, txn: StoreTxn) -> BoxFuture<'static, CommitResult>;
}

/// An append checked and ready to be written: see [`DiskStorage::plan_persist`].
#[derive(Debug)]
pub struct PersistPlan(StoreTxn);

impl PersistPlan {
    /// The transaction that writes it.
    pub fn txn(&self) -> &StoreTxn {
        &self.0
    }
}

/// A plan written: the plan back with the write's outcome, or why the writer failed.
pub type Written = Result<(PersistPlan, Result<(), String>), String>;

/// Writes planned appends to the store (one durable transaction each).
#[derive(Clone)]
pub struct StoreWriter(Arc<dyn StoreBackend>);

impl StoreWriter {
    /// Writes `plan` and fsyncs. Blocks for the disk: call it off the actor's thread.
    pub fn write(&self, plan: &PersistPlan) -> Result<(), RaftLogError> {
        self.0.commit(&plan.0)
    }

    /// Writes `plan` off the caller's thread; resolves with the plan and the outcome once
    /// it is durable or failed (`Err`: the writer itself failed).
    pub fn write_async(&self, plan: PersistPlan) -> BoxFuture<'static, Written> {
        let commit = self.0.clone().commit_async(plan.0);
        Box::pin(async move { commit.await.map(|(txn, r)| (PersistPlan(txn), r)) })
    }
}

/// The raft log, hard state and latest snapshot of one node, on disk.
pub struct DiskStorage {
    backend: Arc<dyn StoreBackend>,
    hard_state: HardState,
    conf_state: ConfState,
    snapshot: Snapshot,
    /// Entries after the snapshot, in index order.
    entries: Vec<Entry>,
    /// Bytes of the entries held (for the metrics and the compaction trigger).
    entry_bytes: u64,
}

impl std::fmt::Debug for DiskStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStorage")
            .field("location", &self.backend.location())
            .field("first_index", &self.first())
            .field("last_index", &self.last())
            .finish()
    }
}

impl DiskStorage {
    /// Opens the store `backend` holds. A new store records `voters` as the cluster; an
    /// existing one must have been made for the same voters. (`DiskStorage::open` opens
    /// the redb store under a work dir: `redb_store.rs`.)
    pub fn open_on(
        backend: Arc<dyn StoreBackend>,
        voters: &[u64],
    ) -> Result<DiskStorage, RaftLogError> {
        let stored = backend.load()?;
        let location = backend.location();
        let mut storage = DiskStorage {
            backend,
            hard_state: stored.hard_state,
            conf_state: stored.conf_state,
            snapshot: stored.snapshot,
            entries: Vec::new(),
            entry_bytes: 0,
        };
        let first = storage.snapshot.get_metadata().index + 1;
        for (expected, (key, entry)) in (first..).zip(stored.entries) {
            if key != expected || entry.index != expected {
                return Err(RaftLogError::Corrupt {
                    path: location,
                    what: "entries".to_string(),
                    reason: format!(
                        "expected index {expected}, found key {key} holding index {}",
                        entry.index
                    ),
                });
            }
            storage.entry_bytes += u64::from(entry.compute_size());
            storage.entries.push(entry);
        }
        let mut given: Vec<u64> = voters.to_vec();
        given.sort_unstable();
        if storage.conf_state.voters.is_empty() {
            let conf = ConfState {
                voters: given,
                ..Default::default()
            };
            storage.snapshot.mut_metadata().set_conf_state(conf.clone());
            storage.conf_state = conf;
            storage.backend.commit(&StoreTxn {
                conf_state: Some(storage.conf_state.clone()),
                snapshot: Some(storage.snapshot.clone()),
                ..Default::default()
            })?;
        } else {
            let mut stored = storage.conf_state.voters.clone();
            stored.sort_unstable();
            if stored != given {
                return Err(RaftLogError::MembershipMismatch {
                    path: location,
                    stored,
                    given,
                });
            }
        }
        Ok(storage)
    }

    fn first(&self) -> u64 {
        self.snapshot.get_metadata().index + 1
    }

    fn last(&self) -> u64 {
        self.snapshot.get_metadata().index + self.entries.len() as u64
    }

    /// The hard state as last persisted (or set).
    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    /// The latest snapshot (index 0 and empty data before the first one).
    pub fn latest_snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Entries held after the snapshot.
    pub fn entry_count(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Encoded bytes of the entries held after the snapshot.
    pub fn entry_bytes(&self) -> u64 {
        self.entry_bytes
    }

    /// Appends `entries` (replacing any conflicting suffix) and records `hard_state`, in one
    /// durable transaction.
    pub fn persist(
        &mut self,
        entries: &[Entry],
        hard_state: Option<&HardState>,
    ) -> Result<(), RaftLogError> {
        if let Some(plan) = self.plan_persist(entries, hard_state)? {
            self.writer().write(&plan)?;
            self.finish_persist(plan);
        }
        Ok(())
    }

    /// Checks an append and prepares its write without touching the disk or the mirror
    /// (`None`: nothing to write). Write it with [`StoreWriter::write`] (on any thread),
    /// then call [`finish_persist`](Self::finish_persist); no other write may happen between.
    pub fn plan_persist(
        &self,
        entries: &[Entry],
        hard_state: Option<&HardState>,
    ) -> Result<Option<PersistPlan>, RaftLogError> {
        if entries.is_empty() && hard_state.is_none() {
            return Ok(None);
        }
        let mut hard = hard_state
            .cloned()
            .unwrap_or_else(|| self.hard_state.clone());
        // A commit index set through `set_commit` since the last write rides along.
        hard.commit = hard.commit.max(self.hard_state.commit);
        let truncate_from = entries.first().map(|e| e.index);
        if let Some(first) = truncate_from {
            if first <= self.snapshot.get_metadata().index || first > self.last() + 1 {
                return Err(RaftLogError::Config(format!(
                    "append at index {first} does not follow the log ({}..={})",
                    self.first(),
                    self.last()
                )));
            }
        }
        Ok(Some(PersistPlan(StoreTxn {
            remove: truncate_from.map(|first| (first, self.last())),
            entries: entries.to_vec(),
            hard_state: Some(hard),
            ..Default::default()
        })))
    }

    /// Updates the mirror after `plan` was written.
    pub fn finish_persist(&mut self, plan: PersistPlan) {
        let txn = plan.0;
        if let Some((first, _)) = txn.remove {
            let keep = (first - self.first()) as usize;
            for dropped in self.entries.drain(keep..) {
                self.entry_bytes -= u64::from(dropped.compute_size());
            }
        }
        for entry in txn.entries {
            self.entry_bytes += u64::from(entry.compute_size());
            self.entries.push(entry);
        }
        if let Some(hard) = txn.hard_state {
            self.hard_state = hard;
        }
    }

    /// A handle that writes planned appends, from any thread.
    pub fn writer(&self) -> StoreWriter {
        StoreWriter(self.backend.clone())
    }

    /// Notes a new commit index; it is written with the next transaction (a lower commit
    /// index on disk after a crash is safe: raft-rs learns it again from the leader).
    pub fn set_commit(&mut self, commit: u64) {
        self.hard_state.commit = self.hard_state.commit.max(commit);
    }

    /// Installs a snapshot received from the leader: the log restarts after it.
    pub fn apply_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), RaftLogError> {
        let meta = snapshot.get_metadata();
        let mut hard = self.hard_state.clone();
        hard.commit = hard.commit.max(meta.index);
        hard.term = hard.term.max(meta.term);
        self.backend.commit(&StoreTxn {
            remove: Some((self.first(), self.last())),
            snapshot: Some(snapshot.clone()),
            conf_state: Some(meta.get_conf_state().clone()),
            hard_state: Some(hard.clone()),
            ..Default::default()
        })?;
        self.entries.clear();
        self.entry_bytes = 0;
        self.conf_state = meta.get_conf_state().clone();
        self.snapshot = snapshot.clone();
        self.hard_state = hard;
        Ok(())
    }

    /// Records a snapshot of the state machine at `index` (applied, so committed) and drops
    /// the entries up to it.
    pub fn compact(&mut self, index: u64, data: Vec<u8>) -> Result<(), RaftLogError> {
        let old = self.snapshot.get_metadata().index;
        if index <= old || index > self.last() {
            return Err(RaftLogError::Config(format!(
                "snapshot index {index} outside the log ({}..={})",
                self.first(),
                self.last()
            )));
        }
        let term = self.entries[(index - old - 1) as usize].term;
        let mut snapshot = Snapshot {
            data: data.into(),
            ..Default::default()
        };
        let meta = snapshot.mut_metadata();
        meta.index = index;
        meta.term = term;
        meta.set_conf_state(self.conf_state.clone());
        let mut hard = self.hard_state.clone();
        hard.commit = hard.commit.max(index);
        self.backend.commit(&StoreTxn {
            remove: Some((old + 1, index)),
            snapshot: Some(snapshot.clone()),
            hard_state: Some(hard.clone()),
            ..Default::default()
        })?;
        for dropped in self.entries.drain(..(index - old) as usize) {
            self.entry_bytes -= u64::from(dropped.compute_size());
        }
        self.snapshot = snapshot;
        self.hard_state = hard;
        Ok(())
    }
}

/// Decodes one stored protobuf record.
pub(super) fn decode<M: protobuf::Message>(
    path: &str,
    what: &str,
    bytes: &[u8],
) -> Result<M, RaftLogError> {
    M::parse_from_bytes(bytes).map_err(|e| RaftLogError::Corrupt {
        path: path.to_string(),
        what: what.to_string(),
        reason: e.to_string(),
    })
}

impl raft::Storage for DiskStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState {
            hard_state: self.hard_state.clone(),
            conf_state: self.conf_state.clone(),
        })
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low < self.first() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last() + 1 || low > high {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let offset = self.first();
        let mut out = self.entries[(low - offset) as usize..(high - offset) as usize].to_vec();
        raft::util::limit_size(&mut out, max_size.into());
        Ok(out)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        let snap = self.snapshot.get_metadata();
        if idx == snap.index {
            return Ok(snap.term);
        }
        if idx < snap.index {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if idx > self.last() {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        Ok(self.entries[(idx - snap.index - 1) as usize].term)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.first())
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.last())
    }

    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        if self.snapshot.get_metadata().index < request_index {
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        Ok(self.snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::Storage;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            data: vec![index as u8; 8].into(),
            ..Default::default()
        }
    }

    #[test]
    fn log_hard_state_and_snapshot_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = DiskStorage::open(dir.path(), &[1, 2, 3]).unwrap();
            let entries: Vec<Entry> = (1..=10).map(|i| entry(i, 1)).collect();
            let hs = HardState {
                term: 1,
                vote: 2,
                ..Default::default()
            };
            s.persist(&entries, Some(&hs)).unwrap();
            // A conflicting suffix from a new leader replaces 8..=10.
            s.persist(&[entry(8, 2), entry(9, 2)], None).unwrap();
            s.set_commit(9);
            s.compact(5, b"state at 5".to_vec()).unwrap();
        }
        let s = DiskStorage::open(dir.path(), &[3, 2, 1]).unwrap();
        assert_eq!(s.first_index().unwrap(), 6);
        assert_eq!(s.last_index().unwrap(), 9);
        assert_eq!(s.term(5).unwrap(), 1);
        assert_eq!(s.term(9).unwrap(), 2);
        assert_eq!(s.hard_state().vote, 2);
        assert_eq!(s.hard_state().commit, 9);
        assert_eq!(&s.latest_snapshot().data[..], b"state at 5");
        assert!(matches!(
            s.entries(3, 7, None, GetEntriesContext::empty(false)),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
        let got = s
            .entries(6, 10, None, GetEntriesContext::empty(false))
            .unwrap();
        assert_eq!(
            got.iter().map(|e| e.index).collect::<Vec<_>>(),
            vec![6, 7, 8, 9]
        );
        assert_eq!(s.initial_state().unwrap().conf_state.voters, vec![1, 2, 3]);
    }

    #[test]
    fn other_voters_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(DiskStorage::open(dir.path(), &[1, 2, 3]).unwrap());
        assert!(matches!(
            DiskStorage::open(dir.path(), &[1, 2]),
            Err(RaftLogError::MembershipMismatch { .. })
        ));
    }

    #[test]
    fn appends_that_leave_a_gap_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = DiskStorage::open(dir.path(), &[1]).unwrap();
        assert!(s.persist(&[entry(3, 1)], None).is_err());
        assert_eq!(s.last_index().unwrap(), 0);
    }

    #[derive(Debug, Clone)]
    enum Step {
        /// Append `count` entries of `term`, starting `back` entries before the end.
        Append { back: u64, count: u64, term: u64 },
        /// Compact up to `back` entries before the end.
        Compact { back: u64 },
        /// Close and open the store again.
        Reopen,
    }

    fn step_strategy() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0u64..4, 1u64..5, 1u64..4).prop_map(|(back, count, term)| Step::Append { back, count, term }),
            1 => (0u64..6).prop_map(|back| Step::Compact { back }),
            1 => Just(Step::Reopen),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

        /// The store agrees with a plain in-memory model of the log after any sequence of
        /// appends (with conflicting suffixes), compactions and reopenings.
        #[test]
        fn store_matches_a_model(steps in proptest::collection::vec(step_strategy(), 1..20)) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Some(DiskStorage::open(dir.path(), &[1]).unwrap());
            // Model: snapshot (index, term) and the terms of the entries after it.
            let mut snap = (0u64, 0u64);
            let mut terms: Vec<u64> = Vec::new();
            for step in steps {
                let s = store.as_mut().unwrap();
                let last = snap.0 + terms.len() as u64;
                match step {
                    Step::Append { back, count, term } => {
                        let first = (last + 1).saturating_sub(back).max(snap.0 + 1);
                        let entries: Vec<Entry> =
                            (first..first + count).map(|i| entry(i, term)).collect();
                        s.persist(&entries, None).unwrap();
                        terms.truncate((first - snap.0 - 1) as usize);
                        terms.extend(std::iter::repeat_n(term, count as usize));
                    }
                    Step::Compact { back } => {
                        let index = last.saturating_sub(back);
                        if index > snap.0 {
                            s.compact(index, index.to_le_bytes().to_vec()).unwrap();
                            let term = terms[(index - snap.0 - 1) as usize];
                            terms.drain(..(index - snap.0) as usize);
                            snap = (index, term);
                        } else {
                            proptest::prop_assert!(s.compact(index, Vec::new()).is_err());
                        }
                    }
                    Step::Reopen => {
                        drop(store.take());
                        store = Some(DiskStorage::open(dir.path(), &[1]).unwrap());
                    }
                }
                let s = store.as_ref().unwrap();
                let last = snap.0 + terms.len() as u64;
                proptest::prop_assert_eq!(s.first_index().unwrap(), snap.0 + 1);
                proptest::prop_assert_eq!(s.last_index().unwrap(), last);
                proptest::prop_assert_eq!(s.term(snap.0).unwrap(), snap.1);
                for (i, t) in terms.iter().enumerate() {
                    proptest::prop_assert_eq!(s.term(snap.0 + 1 + i as u64).unwrap(), *t);
                }
                let got = s.entries(snap.0 + 1, last + 1, None, GetEntriesContext::empty(false)).unwrap();
                proptest::prop_assert_eq!(got.len(), terms.len());
                proptest::prop_assert_eq!(s.entry_count(), terms.len() as u64);
                let bytes: u64 = got.iter().map(|e| u64::from(e.compute_size())).sum();
                proptest::prop_assert_eq!(s.entry_bytes(), bytes);
            }
        }
    }
}
