//! [`RedbBackend`]: the production [`StoreBackend`], an embedded crash-safe store (redb) at
//! `<work_dir>/raft.redb`.
//!
//! Layout: table `entries` maps log index to a protobuf-encoded `Entry`; table `meta` holds
//! `hard_state`, `conf_state` and `snapshot` (metadata and the state machine's bytes). Each
//! [`StoreTxn`] is one redb transaction committed with immediate durability (fsync);
//! [`StoreBackend::commit_async`] runs it on a tokio blocking thread.

use super::error::RaftLogError;
use super::storage::{decode, CommitResult, DiskStorage, StoreBackend, StoreTxn, Stored};
use futures::future::BoxFuture;
use protobuf::Message as _;
use raft::eraftpb::Entry;
use redb::{Database, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl DiskStorage {
    /// Opens (or creates) the redb store under `work_dir` (see [`DiskStorage::open_on`]).
    pub fn open(work_dir: &Path, voters: &[u64]) -> Result<DiskStorage, RaftLogError> {
        DiskStorage::open_on(Arc::new(RedbBackend::open(work_dir)?), voters)
    }
}

const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const HARD_STATE: &str = "hard_state";
const CONF_STATE: &str = "conf_state";
const SNAPSHOT: &str = "snapshot";

/// A node's raft store in redb.
pub struct RedbBackend {
    db: Database,
    path: PathBuf,
}

impl RedbBackend {
    /// Opens (or creates) `<work_dir>/raft.redb`.
    pub fn open(work_dir: &Path) -> Result<RedbBackend, RaftLogError> {
        std::fs::create_dir_all(work_dir).map_err(|e| RaftLogError::Store {
            path: work_dir.display().to_string(),
            reason: format!("creating the work dir: {e}"),
        })?;
        let path = work_dir.join("raft.redb");
        let db = Database::create(&path).map_err(|e| RaftLogError::Store {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(RedbBackend { db, path })
    }

    fn store_err(&self, reason: impl std::fmt::Display) -> RaftLogError {
        RaftLogError::Store {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

impl StoreBackend for RedbBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<Stored, RaftLogError> {
        let path = self.location();
        let mut stored = Stored::default();
        let txn = self.db.begin_read().map_err(|e| self.store_err(e))?;
        match txn.open_table(META) {
            Ok(meta) => {
                if let Some(v) = meta.get(HARD_STATE).map_err(|e| self.store_err(e))? {
                    stored.hard_state = decode(&path, HARD_STATE, v.value())?;
                }
                if let Some(v) = meta.get(CONF_STATE).map_err(|e| self.store_err(e))? {
                    stored.conf_state = decode(&path, CONF_STATE, v.value())?;
                }
                if let Some(v) = meta.get(SNAPSHOT).map_err(|e| self.store_err(e))? {
                    stored.snapshot = decode(&path, SNAPSHOT, v.value())?;
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(stored),
            Err(e) => return Err(self.store_err(e)),
        }
        match txn.open_table(ENTRIES) {
            Ok(table) => {
                for item in table.iter().map_err(|e| self.store_err(e))? {
                    let (k, v) = item.map_err(|e| self.store_err(e))?;
                    let entry: Entry = decode(&path, "entry", v.value())?;
                    stored.entries.push((k.value(), entry));
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(self.store_err(e)),
        }
        Ok(stored)
    }

    fn commit(&self, t: &StoreTxn) -> Result<(), RaftLogError> {
        let txn = self.db.begin_write().map_err(|e| self.store_err(e))?;
        let body = || -> Result<(), StoreFail> {
            let mut table = txn.open_table(ENTRIES)?;
            if let Some((first, last)) = t.remove {
                for index in first..=last {
                    table.remove(index)?;
                }
            }
            for entry in &t.entries {
                let bytes = entry
                    .write_to_bytes()
                    .expect("invariant: raft entries always encode");
                table.insert(entry.index, bytes.as_slice())?;
            }
            let mut meta = txn.open_table(META)?;
            if let Some(hard) = &t.hard_state {
                put(&mut meta, HARD_STATE, hard)?;
            }
            if let Some(conf) = &t.conf_state {
                put(&mut meta, CONF_STATE, conf)?;
            }
            if let Some(snapshot) = &t.snapshot {
                put(&mut meta, SNAPSHOT, snapshot)?;
            }
            Ok(())
        };
        body().map_err(|e| self.store_err(e.0))?;
        // Default durability is immediate: the commit fsyncs before returning.
        txn.commit().map_err(|e| self.store_err(e))
    }

    fn commit_async(self: Arc<Self>, txn: StoreTxn) -> BoxFuture<'static, CommitResult> {
        let write = tokio::task::spawn_blocking(move || {
            let result = self.commit(&txn).map_err(|e| e.to_string());
            (txn, result)
        });
        Box::pin(async move { write.await.map_err(|e| format!("writer thread: {e}")) })
    }
}

/// A failure inside a write transaction, as text (redb's errors are large).
struct StoreFail(String);

impl From<redb::TableError> for StoreFail {
    fn from(e: redb::TableError) -> Self {
        StoreFail(e.to_string())
    }
}

impl From<redb::StorageError> for StoreFail {
    fn from(e: redb::StorageError) -> Self {
        StoreFail(e.to_string())
    }
}

fn put<M: protobuf::Message>(
    table: &mut redb::Table<&str, &[u8]>,
    key: &str,
    value: &M,
) -> Result<(), StoreFail> {
    let bytes = value
        .write_to_bytes()
        .expect("invariant: raft records always encode");
    table.insert(key, bytes.as_slice())?;
    Ok(())
}
