//! The production Raft log's store on a simulated disk: a [`StoreBackend`] whose every
//! transaction (`meso_master::raftlog::StoreTxn`) is one record of a [`SimDisk`], so a
//! master's Raft log, hard state and snapshots outlive its process and meet the disk's
//! faults (a failed fsync, a torn unsynced tail on a crash).
//!
//! `commit` (snapshots, compactions: the production peer does them in place) appends and
//! fsyncs at once; `commit_async` (the peer's appends, which production writes on a
//! blocking thread) appends, waits the disk's fsync latency on the simulated clock, then
//! fsyncs: no thread, so a seed stays deterministic. Opening replays the whole records
//! (`Stored::apply`), a torn tail cut. A failed fsync is a store error: the production peer
//! then fails its waiters and stops, and its master with it.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use libprocess::{Clock, TestClock};
use meso_master::raftlog::{CommitResult, RaftLogError, StoreBackend, StoreTxn, Stored};

use crate::disk::SimDisk;

/// A Raft store on `disk`.
pub struct SimStore {
    disk: SimDisk,
    clock: TestClock,
    fsync_latency: Duration,
    name: String,
}

impl SimStore {
    /// The store named `name` (for errors) on `disk`, whose fsyncs take `fsync_latency`.
    pub fn new(disk: SimDisk, clock: TestClock, fsync_latency: Duration, name: &str) -> SimStore {
        SimStore {
            disk,
            clock,
            fsync_latency,
            name: name.to_string(),
        }
    }
}

impl StoreBackend for SimStore {
    fn location(&self) -> String {
        self.name.clone()
    }

    fn load(&self) -> Result<Stored, RaftLogError> {
        let (records, _torn) = self.disk.recover();
        let mut stored = Stored::default();
        for record in records {
            stored.apply(StoreTxn::decode(&self.name, &record)?);
        }
        Ok(stored)
    }

    fn commit(&self, txn: &StoreTxn) -> Result<(), RaftLogError> {
        let end = self.disk.append(&txn.encode());
        self.disk.sync(end).map_err(|reason| RaftLogError::Store {
            path: self.name.clone(),
            reason,
        })
    }

    fn commit_async(self: Arc<Self>, txn: StoreTxn) -> BoxFuture<'static, CommitResult> {
        let end = self.disk.append(&txn.encode());
        let synced = self
            .clock
            .sleep_until(self.clock.now() + self.fsync_latency);
        Box::pin(async move {
            synced.await;
            let result = self.disk.sync(end);
            Ok((txn, result))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::DiskFaults;
    use crate::rng::SimRng;
    use meso_master::raftlog::DiskStorage;

    fn entry(index: u64, term: u64) -> meso_master::raftlog::Entry {
        meso_master::raftlog::Entry {
            index,
            term,
            data: vec![index as u8; 4].into(),
            ..Default::default()
        }
    }

    fn store(disk: &SimDisk) -> Arc<SimStore> {
        Arc::new(SimStore::new(
            disk.clone(),
            TestClock::paused(),
            Duration::ZERO,
            "sim",
        ))
    }

    #[test]
    fn the_production_storage_survives_a_crash_on_the_simulated_disk() {
        let disk = SimDisk::new(
            SimRng::stream(3, "d"),
            DiskFaults {
                torn_p: 1.0,
                ..Default::default()
            },
        );
        {
            let mut s = DiskStorage::open_on(store(&disk), &[1, 2, 3]).unwrap();
            let entries: Vec<_> = (1..=6).map(|i| entry(i, 1)).collect();
            s.persist(&entries, None).unwrap();
            s.persist(&[entry(5, 2)], None).unwrap();
            s.compact(3, b"state at 3".to_vec()).unwrap();
            // Written, never synced: the crash tears it.
            let plan = s.plan_persist(&[entry(6, 2)], None).unwrap().unwrap();
            drop(s.writer().write_async(plan));
        }
        disk.crash();
        let s = DiskStorage::open_on(store(&disk), &[1, 2, 3]).unwrap();
        let stats = (s.latest_snapshot().get_metadata().index, s.entry_count());
        assert_eq!(stats, (3, 2), "entries 4 and 5 after the snapshot at 3");
        assert_eq!(&s.latest_snapshot().data[..], b"state at 3");
        use meso_master::raftlog::RaftStorage;
        assert_eq!(s.term(5).unwrap(), 2);
        assert!(matches!(
            DiskStorage::open_on(store(&disk), &[1, 2]),
            Err(RaftLogError::MembershipMismatch { .. })
        ));
    }

    #[test]
    fn a_failed_fsync_is_a_store_error() {
        let disk = SimDisk::new(
            SimRng::stream(3, "d"),
            DiskFaults {
                fsync_fail_p: 1.0,
                ..Default::default()
            },
        );
        assert!(matches!(
            DiskStorage::open_on(store(&disk), &[1]),
            Err(RaftLogError::Store { .. })
        ));
    }
}
