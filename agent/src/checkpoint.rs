//! Checkpoints: the agent's durable record of what it runs, so that a restarted agent
//! (after `kill -9`, an upgrade, an OOM kill) recovers its executors and tasks instead of
//! losing them, as Mesos's agent does (docs/agent-recovery.md).
//!
//! Layout under `<work-dir>/meta` ([`layout`], after Mesos's `src/slave/paths.hpp`): the
//! boot id; `slaves/<agent_id>/slave.info` with `slaves/latest` naming the current id; per
//! framework `framework.info`; per executor `executor.info`; per executor run
//! `pids/forked.pid`, `pids/http.marker` (the executor subscribed over HTTP) and
//! `completed`; per task `task.info` and `task.updates` (the status update stream).
//!
//! Owns:
//! - [`files`]: the durable operations. Every `.info`, pid and marker is written
//!   atomically (temp file in the same directory, fsync, rename, fsync of the directory);
//!   `task.updates` is appended and fsynced record by record.
//! - [`records`]: the framing of `task.updates` (length, CRC-32, JSON record), pure.
//! - [`state`]: the typed state and its reader. Invariant: reading never panics; a torn
//!   tail of an append is cut to the valid prefix; any other damage is a
//!   [`CheckpointError`] naming the file and what is wrong (fatal under `--strict`, else
//!   the entity is skipped and the error reported).
//! - [`store`]: the writer the agent calls before it acts on a fact.
//! - [`resources`]: `meta/resources/resources.info`, the dynamic reservations and
//!   persistent volumes the master last told the agent to keep.
//! - [`flags_record`]: `flags.info`, the flags beside `slave.info`, so an online change of
//!   the agent's resources or attributes survives a restart with the same flags.
//! - [`runtime`]: outside `meta/`, a record of every launched container (checkpointing
//!   or not), so a restarted agent destroys the ones it does not recover.
//!
//! Only frameworks with `checkpoint: true` are checkpointed (as in Mesos), so the fsyncs
//! cost nothing to the others.

pub mod files;
pub mod flags_record;
pub mod layout;
pub mod records;
pub mod resources;
pub mod runtime;
pub mod state;
pub mod store;

use std::path::{Path, PathBuf};

pub use records::UpdateRecord;
pub use state::{read, RecoveredState};
pub use store::{CheckpointStore, RunRef};

/// A checkpoint file that could not be written or read back, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checkpoint '{}': {problem}", path.display())]
pub struct CheckpointError {
    /// The file or directory.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl CheckpointError {
    /// An error about `path`.
    pub fn new(path: &Path, problem: impl Into<String>) -> Self {
        CheckpointError {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

#[cfg(test)]
mod tests;
