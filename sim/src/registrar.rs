//! The simulated master's durable registrar: the production registry state machine
//! (`meso_registry::Registry`, fed by the production `operation_for` and read back by
//! `snapshot_of`) over a write-ahead log of postcard-encoded operations on a [`SimDisk`]
//! the world owns, so the registry outlives the `Master` process that wrote it.
//!
//! `apply` checks the change against the registry, appends its operation, waits the disk's
//! fsync latency on the simulated clock, fsyncs, and only then answers `Ok(true)`; a
//! failed fsync answers a [`RegistrarError`] (the production master then stops, Mesos's
//! fail-fast) and poisons this registrar (every later change fails too). Opening replays
//! the log's whole records, cutting a torn tail.
//!
//! The [`Ledger`] is the checker's side: every change answered `Ok(true)` (committed) with
//! its position in the log. After every restart, each committed change must be in the
//! recovered log at its position, byte for byte ("the registry never loses a committed
//! change"); unacknowledged writes may or may not have survived.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use libprocess::{Clock, TestClock};
use meso_master::leadership::{operation_for, snapshot_of};
use meso_master::master::registrar::{RegistrarError, RegistryChange, RegistrySnapshot};
use meso_master::Registrar;
use meso_registry::{FrameworkRecord, Operation, Registry, RegistryError};
use parking_lot::Mutex;

use crate::disk::SimDisk;

/// One committed change: its record's bytes and what it was, as text.
type Committed = (Vec<u8>, String);

/// Committed changes by log position (shared with the world's checker).
#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<BTreeMap<usize, Committed>>>);

impl Ledger {
    fn committed(&self, position: usize, bytes: Vec<u8>, what: String) {
        self.0.lock().insert(position, (bytes, what));
    }

    /// Committed changes.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// Whether nothing was committed yet.
    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Checks the recovered log against the committed changes: a violation per committed
    /// change missing or different. The ones missing are forgotten (reported once).
    pub fn check(&self, recovered: &[Vec<u8>]) -> Vec<String> {
        let mut ledger = self.0.lock();
        let mut found = Vec::new();
        for (position, (bytes, what)) in ledger.iter() {
            match recovered.get(*position) {
                Some(r) if r == bytes => {}
                Some(_) => found.push(format!(
                    "the registry lost committed change #{position} ({what}): another record is in its place after the restart"
                )),
                None => found.push(format!(
                    "the registry lost committed change #{position} ({what}): the log has {} records after the restart",
                    recovered.len()
                )),
            }
        }
        ledger.retain(|position, (bytes, _)| recovered.get(*position) == Some(bytes));
        found
    }
}

struct State {
    registry: Registry,
    /// Records in the log (the next record's position).
    records: usize,
    /// Set once an fsync failed: nothing more is accepted.
    poisoned: Option<String>,
}

/// A registrar over the simulated disk. Clones share it.
#[derive(Clone)]
pub struct DiskRegistrar {
    disk: SimDisk,
    clock: TestClock,
    fsync_latency: Duration,
    ledger: Ledger,
    state: Arc<Mutex<State>>,
}

/// What opening the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Whole records replayed.
    pub records: usize,
    /// Bytes of a torn tail cut off.
    pub torn_bytes: usize,
    /// Records the registry refused on replay (must be 0: only applied operations are
    /// written).
    pub refused: usize,
}

impl DiskRegistrar {
    /// Opens the log on `disk` (after a crash, or empty), replaying it into the registry,
    /// and checks the committed changes against it (violations in the answer).
    pub fn open(
        disk: SimDisk,
        clock: TestClock,
        fsync_latency: Duration,
        ledger: Ledger,
    ) -> (DiskRegistrar, Opened, Vec<String>) {
        let (records, torn_bytes) = disk.recover();
        let mut violations = ledger.check(&records);
        let mut registry = Registry::new();
        let mut refused = 0;
        for (i, bytes) in records.iter().enumerate() {
            match postcard::from_bytes::<Operation>(bytes) {
                Ok(op) => {
                    if registry.apply(&op).is_err() {
                        refused += 1;
                    }
                }
                Err(e) => {
                    refused += 1;
                    violations.push(format!("registry log record #{i} does not decode: {e}"));
                }
            }
        }
        let opened = Opened {
            records: records.len(),
            torn_bytes,
            refused,
        };
        let registrar = DiskRegistrar {
            disk,
            clock,
            fsync_latency,
            ledger,
            state: Arc::new(Mutex::new(State {
                registry,
                records: records.len(),
                poisoned: None,
            })),
        };
        (registrar, opened, violations)
    }

    /// The registry as the master recovers it.
    pub fn snapshot(&self) -> RegistrySnapshot {
        snapshot_of(&self.state.lock().registry)
    }

    /// The operation `change` applies now, applied to the registry (`None`: it does not
    /// apply; the registry is unchanged). A framework already recorded is updated, as the
    /// production `RaftRegistrar` does.
    fn admit(registry: &mut Registry, change: &RegistryChange) -> Option<Operation> {
        let op = operation_for(change)?;
        match registry.apply(&op) {
            Ok(()) => Some(op),
            Err(RegistryError::FrameworkAlreadyRegistered(_)) => {
                let Operation::AddFramework(record) = op else {
                    return None;
                };
                let update = Operation::UpdateFramework(FrameworkRecord {
                    id: record.id,
                    info: record.info,
                });
                registry.apply(&update).ok().map(|()| update)
            }
            Err(_) => None,
        }
    }
}

impl Registrar for DiskRegistrar {
    fn apply(
        &mut self,
        change: RegistryChange,
    ) -> BoxFuture<'static, Result<bool, RegistrarError>> {
        let failed = |change: &RegistryChange, reason: String| RegistrarError {
            change: format!("{change:?}"),
            reason,
        };
        let written = {
            let mut s = self.state.lock();
            if let Some(reason) = s.poisoned.clone() {
                return Box::pin(async move { Err(failed(&change, reason)) });
            }
            match DiskRegistrar::admit(&mut s.registry, &change) {
                None => None,
                Some(op) => {
                    let bytes =
                        postcard::to_allocvec(&op).expect("invariant: operations always encode");
                    let end = self.disk.append(&bytes);
                    let position = s.records;
                    s.records += 1;
                    Some((end, position, bytes))
                }
            }
        };
        let Some((end, position, bytes)) = written else {
            return Box::pin(async { Ok(false) });
        };
        let (disk, ledger, state) = (self.disk.clone(), self.ledger.clone(), self.state.clone());
        let synced = self
            .clock
            .sleep_until(self.clock.now() + self.fsync_latency);
        Box::pin(async move {
            synced.await;
            match disk.sync(end) {
                Ok(()) => {
                    ledger.committed(position, bytes, format!("{change:?}"));
                    Ok(true)
                }
                Err(reason) => {
                    state.lock().poisoned = Some(reason.clone());
                    Err(failed(&change, reason))
                }
            }
        })
    }

    fn recover(&mut self) -> BoxFuture<'static, Result<RegistrySnapshot, RegistrarError>> {
        let snapshot = self.snapshot();
        Box::pin(async move { Ok(snapshot) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::DiskFaults;
    use crate::rng::SimRng;
    use meso_api::v1::{AgentId, AgentInfo};

    fn agent(id: &str) -> RegistryChange {
        let mut info = AgentInfo::new("h");
        info.id = Some(AgentId::new(id));
        RegistryChange::AdmitAgent(info)
    }

    fn open(disk: &SimDisk, ledger: &Ledger) -> (DiskRegistrar, Opened, Vec<String>) {
        DiskRegistrar::open(
            disk.clone(),
            TestClock::paused(),
            Duration::ZERO,
            ledger.clone(),
        )
    }

    #[test]
    fn committed_changes_survive_a_crash_with_a_torn_tail() {
        let disk = SimDisk::new(
            SimRng::stream(1, "d"),
            DiskFaults {
                torn_p: 1.0,
                ..Default::default()
            },
        );
        let ledger = Ledger::default();
        let (mut r, _, found) = open(&disk, &ledger);
        assert!(found.is_empty());
        let block = futures::executor::block_on;
        assert_eq!(block(r.apply(agent("a"))), Ok(true));
        assert_eq!(block(r.apply(agent("a"))), Ok(false), "admitted once");
        assert_eq!(block(r.apply(agent("b"))), Ok(true));
        // Written, never synced: the crash tears it.
        let _unsynced = r.apply(agent("c"));
        disk.crash();
        let (r, opened, found) = open(&disk, &ledger);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!((opened.records, opened.refused), (2, 0));
        assert!(opened.torn_bytes > 0);
        let s = r.snapshot();
        assert!(s.admitted.contains_key(&AgentId::new("a")));
        assert!(s.admitted.contains_key(&AgentId::new("b")));
        assert!(!s.admitted.contains_key(&AgentId::new("c")));
    }

    #[test]
    fn a_failed_fsync_fails_the_change_and_every_later_one() {
        let disk = SimDisk::new(
            SimRng::stream(1, "d"),
            DiskFaults {
                fsync_fail_p: 1.0,
                ..Default::default()
            },
        );
        let ledger = Ledger::default();
        let (mut r, _, _) = open(&disk, &ledger);
        let block = futures::executor::block_on;
        assert!(block(r.apply(agent("a"))).is_err());
        disk.set_faults(DiskFaults::default());
        assert!(block(r.apply(agent("b"))).is_err(), "poisoned");
        assert!(ledger.is_empty(), "nothing was committed");
    }

    #[test]
    fn the_ledger_names_a_committed_change_the_log_lost() {
        let disk = SimDisk::new(SimRng::stream(1, "d"), DiskFaults::default());
        let ledger = Ledger::default();
        let (mut r, _, _) = open(&disk, &ledger);
        assert_eq!(futures::executor::block_on(r.apply(agent("a"))), Ok(true));
        // A disk that loses synced data (what the checker is there to catch).
        let empty = SimDisk::new(SimRng::stream(1, "d"), DiskFaults::default());
        let (_, _, found) = open(&empty, &ledger);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("lost committed change #0"), "{found:?}");
    }
}
