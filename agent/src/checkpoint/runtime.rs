//! Runtime records: one small file per container the agent launched, whatever its
//! framework's `checkpoint`, so that a restarted agent can find and destroy every container
//! it will not recover (orphans), as Mesos's containerizer does with its runtime directory.
//!
//! ```text
//! <work-dir>/runtime/containers/<container_id>    {"pid": ..., "start_time": ...}
//! ```
//!
//! Written right after the launch and removed when the container is destroyed and
//! forgotten. A record is replaced atomically (temp file, rename) but not fsynced: it only
//! has to survive the agent's process (`kill -9`), not the machine; after a reboot every
//! process it names is gone anyway (Mesos keeps these under a tmpfs for the same reason),
//! and a launch pays no fsync for it. The executor's cgroups, if its isolation made any,
//! are named after the container id, so the id in the file name finds them.
//!
//! `start_time` (field 22 of `/proc/<pid>/stat`, clock ticks since boot) guards against pid
//! reuse: a recorded pid is the container's only while its start time is unchanged.

use std::path::{Path, PathBuf};

use meso_api::v1::ContainerId;
use serde::{Deserialize, Serialize};

use super::CheckpointError;

/// What is recorded about one launched container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// The executor's pid (it leads the container's session).
    pub pid: u32,
    /// The executor's start time, from `/proc/<pid>/stat`.
    pub start_time: u64,
}

impl ContainerRecord {
    /// The record of a live process, `None` if it is already gone.
    pub fn of(pid: u32) -> Option<Self> {
        Some(ContainerRecord {
            pid,
            start_time: start_time(pid)?,
        })
    }

    /// Whether the recorded process still runs (its pid not reused by another process).
    pub fn still_runs(&self) -> bool {
        start_time(self.pid) == Some(self.start_time) && crate::containerizer::pid_alive(self.pid)
    }
}

/// `<work-dir>/runtime/containers`.
pub fn containers_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("runtime").join("containers")
}

fn record_path(work_dir: &Path, container: &ContainerId) -> PathBuf {
    containers_dir(work_dir).join(&container.value)
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> CheckpointError {
    CheckpointError::new(path, format!("{what}: {e}"))
}

/// Records a launched container (replacing any earlier record of it).
pub fn write(
    work_dir: &Path,
    container: &ContainerId,
    record: ContainerRecord,
) -> Result<(), CheckpointError> {
    let dir = containers_dir(work_dir);
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, "cannot create the directory", e))?;
    let path = record_path(work_dir, container);
    let temp = dir.join(format!(".{}.tmp", container.value));
    let bytes =
        serde_json::to_vec(&record).expect("invariant: a container record serializes to JSON");
    std::fs::write(&temp, bytes).map_err(|e| io_err(&temp, "cannot write", e))?;
    std::fs::rename(&temp, &path).map_err(|e| io_err(&path, "cannot rename the temp file over", e))
}

/// Removes a container's record (absent already is fine).
pub fn remove(work_dir: &Path, container: &ContainerId) -> Result<(), CheckpointError> {
    let path = record_path(work_dir, container);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(&path, "cannot remove", e)),
    }
}

/// Every recorded container: its id and its record, or what is wrong with the file (a
/// damaged record names no process to kill, but its container is still an orphan).
pub fn read_all(work_dir: &Path) -> Vec<(ContainerId, Result<ContainerRecord, CheckpointError>)> {
    let Ok(entries) = std::fs::read_dir(containers_dir(work_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') {
                // A temp file a crash left behind: its container has no record yet.
                let _ = std::fs::remove_file(entry.path());
                return None;
            }
            let path = entry.path();
            let record = std::fs::read(&path)
                .map_err(|e| io_err(&path, "cannot read", e))
                .and_then(|bytes| {
                    serde_json::from_slice(&bytes)
                        .map_err(|e| CheckpointError::new(&path, format!("garbled: {e}")))
                });
            Some((ContainerId::new(name), record))
        })
        .collect();
    found.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    found
}

/// Field 22 of `/proc/<pid>/stat` (the process's start time), `None` if there is no such
/// process.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: state is field 3, start time field 22.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let me = ContainerRecord::of(std::process::id()).unwrap();
        assert!(me.still_runs());
        write(dir.path(), &ContainerId::new("c1"), me).unwrap();
        std::fs::write(containers_dir(dir.path()).join("c2"), b"{garbled").unwrap();
        std::fs::write(containers_dir(dir.path()).join(".c3.tmp"), b"{}").unwrap();
        let all = read_all(dir.path());
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0].0.value, "c1");
        assert_eq!(all[0].1, Ok(me));
        assert!(all[1].1.is_err());
        assert!(!containers_dir(dir.path()).join(".c3.tmp").exists());
        remove(dir.path(), &ContainerId::new("c1")).unwrap();
        remove(dir.path(), &ContainerId::new("c1")).unwrap();
        assert_eq!(read_all(dir.path()).len(), 1);
    }

    #[test]
    fn a_reused_pid_is_not_the_recorded_process() {
        let me = ContainerRecord::of(std::process::id()).unwrap();
        let reused = ContainerRecord {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!reused.still_runs());
        assert!(ContainerRecord::of(u32::MAX - 1).is_none());
    }
}
