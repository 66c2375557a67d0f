//! Runtime records: every container the agent launched, whatever its framework's
//! `checkpoint`, so that a restarted agent can find and destroy every container it will
//! not recover (orphans), as Mesos's containerizer does with its runtime directory.
//!
//! ```text
//! <work-dir>/runtime/containers.log    one JSON object a line:
//!   {"launched":"<container_id>","pid":...,"start_time":...}
//!   {"gone":"<container_id>"}
//! ```
//!
//! A launch appends its line right after the executor starts, a container destroyed and
//! forgotten appends its `gone` line: no file is created or deleted per container (one per
//! container, created and deleted again, left thousands of recently deleted inodes that
//! every later inode allocation of the agent scanned past: see `crate::topdir`). Once the
//! file passes [`COMPACT_AT`] bytes it is rewritten with the live records only (temp file,
//! rename), and again at every agent start. Records are not fsynced: they only have to
//! survive the agent's process (`kill -9`), not the machine; after a reboot every process
//! they name is gone anyway (Mesos keeps these under a tmpfs for the same reason). A torn
//! last line (the agent killed mid-append) names no container whole and is skipped. The
//! executor's cgroups, if its isolation made any, are named after the container id, so the
//! id finds them.
//!
//! Records an older agent left as one file each under `runtime/containers/` are read too,
//! and folded into the log by [`read_all`].
//!
//! `start_time` (field 22 of `/proc/<pid>/stat`, clock ticks since boot) guards against pid
//! reuse: a recorded pid is the container's only while its start time is unchanged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use meso_api::v1::ContainerId;
use serde::{Deserialize, Serialize};

use super::CheckpointError;

/// The log is compacted once it is this long (about 5,000 lines).
pub const COMPACT_AT: u64 = 512 * 1024;

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

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Launched {
        launched: String,
        pid: u32,
        start_time: u64,
    },
    Gone {
        gone: String,
    },
}

/// `<work-dir>/runtime/containers.log`.
pub fn log_path(work_dir: &Path) -> PathBuf {
    work_dir.join("runtime").join("containers.log")
}

/// `<work-dir>/runtime/containers`: where an older agent kept one file per container.
pub fn legacy_containers_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("runtime").join("containers")
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> CheckpointError {
    CheckpointError::new(path, format!("{what}: {e}"))
}

fn encode(line: &Line) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(line).expect("invariant: a runtime line serializes");
    bytes.push(b'\n');
    bytes
}

/// Appends `line` in one `write` (so a concurrent reader never sees half of it); the
/// log's length after it.
fn append(work_dir: &Path, line: &Line) -> Result<u64, CheckpointError> {
    let path = log_path(work_dir);
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    };
    let mut file = match open() {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = path.parent().expect("invariant: the log has a directory");
            std::fs::create_dir_all(dir)
                .map_err(|e| io_err(dir, "cannot create the directory", e))?;
            open().map_err(|e| io_err(&path, "cannot open for appending", e))?
        }
        Err(e) => return Err(io_err(&path, "cannot open for appending", e)),
    };
    file.write_all(&encode(line))
        .map_err(|e| io_err(&path, "cannot append", e))?;
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| io_err(&path, "cannot stat", e))
}

/// Records a launched container (replacing any earlier record of it).
pub fn write(
    work_dir: &Path,
    container: &ContainerId,
    record: ContainerRecord,
) -> Result<(), CheckpointError> {
    let line = Line::Launched {
        launched: container.value.clone(),
        pid: record.pid,
        start_time: record.start_time,
    };
    append(work_dir, &line).map(|_| ())
}

/// Records that a container is destroyed and forgotten (not recorded is fine); compacts the
/// log when it has grown past [`COMPACT_AT`].
pub fn remove(work_dir: &Path, container: &ContainerId) -> Result<(), CheckpointError> {
    let line = Line::Gone {
        gone: container.value.clone(),
    };
    if append(work_dir, &line)? >= COMPACT_AT {
        compact(work_dir, &live(work_dir)?)?;
    }
    Ok(())
}

/// The live records of the log, by container id (reads only).
pub fn live(work_dir: &Path) -> Result<BTreeMap<String, ContainerRecord>, CheckpointError> {
    let path = log_path(work_dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&path, "cannot read", e)),
    };
    let mut live = BTreeMap::new();
    // Only whole lines: a torn tail (no newline yet) is skipped.
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let Some(raw) = raw.strip_suffix(b"\n") else {
            continue;
        };
        match serde_json::from_slice::<Line>(raw) {
            Ok(Line::Launched {
                launched,
                pid,
                start_time,
            }) => {
                live.insert(launched, ContainerRecord { pid, start_time });
            }
            Ok(Line::Gone { gone }) => {
                live.remove(&gone);
            }
            // A damaged line names no container for sure; the others still count.
            Err(_) => {}
        }
    }
    Ok(live)
}

/// Rewrites the log with `live` only (temp file, rename).
fn compact(
    work_dir: &Path,
    live: &BTreeMap<String, ContainerRecord>,
) -> Result<(), CheckpointError> {
    let path = log_path(work_dir);
    let temp = path.with_file_name(".containers.log.tmp");
    let mut bytes = Vec::new();
    for (id, record) in live {
        bytes.extend(encode(&Line::Launched {
            launched: id.clone(),
            pid: record.pid,
            start_time: record.start_time,
        }));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, "cannot create the directory", e))?;
    }
    std::fs::write(&temp, bytes).map_err(|e| io_err(&temp, "cannot write", e))?;
    std::fs::rename(&temp, &path).map_err(|e| io_err(&path, "cannot rename the temp file over", e))
}

/// The legacy one-file-per-container records: each id with its record or what is wrong
/// with its file (a damaged record names no process to kill, but its container is still
/// an orphan). Temp files a crash left behind are removed.
fn read_legacy(work_dir: &Path) -> Vec<(ContainerId, Result<ContainerRecord, CheckpointError>)> {
    let Ok(entries) = std::fs::read_dir(legacy_containers_dir(work_dir)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') {
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
        .collect()
}

/// Every recorded container, by id: its record, or what is wrong with it. Called at agent
/// start: the log is compacted, and an older agent's per-container files are folded into
/// it and removed (a damaged one is reported here once and kept out of the log).
pub fn read_all(work_dir: &Path) -> Vec<(ContainerId, Result<ContainerRecord, CheckpointError>)> {
    let mut found: BTreeMap<String, Result<ContainerRecord, CheckpointError>> = BTreeMap::new();
    let legacy = read_legacy(work_dir);
    let mut live = match live(work_dir) {
        Ok(live) => live,
        Err(e) => {
            // An unreadable log: every id in it is unknown; report it under no container.
            found.insert(String::new(), Err(e));
            BTreeMap::new()
        }
    };
    for (id, record) in &legacy {
        if let Ok(record) = record {
            live.insert(id.value.clone(), *record);
        }
    }
    let folded = compact(work_dir, &live).is_ok();
    if folded && !legacy.is_empty() {
        let _ = std::fs::remove_dir_all(legacy_containers_dir(work_dir));
    }
    for (id, record) in legacy {
        found.insert(id.value, record);
    }
    for (id, record) in live {
        found.insert(id, Ok(record));
    }
    found.remove("");
    found
        .into_iter()
        .map(|(id, record)| (ContainerId::new(id), record))
        .collect()
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
        write(dir.path(), &ContainerId::new("c2"), me).unwrap();
        remove(dir.path(), &ContainerId::new("c2")).unwrap();
        remove(dir.path(), &ContainerId::new("c9")).unwrap();
        let all = read_all(dir.path());
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].0.value, "c1");
        assert_eq!(all[0].1, Ok(me));
        remove(dir.path(), &ContainerId::new("c1")).unwrap();
        assert!(read_all(dir.path()).is_empty());
        // No file per container: the runtime directory holds the log only.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("runtime"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("containers.log")]);
    }

    #[test]
    fn a_torn_or_damaged_line_loses_no_other_record() {
        let dir = tempfile::tempdir().unwrap();
        let rec = ContainerRecord {
            pid: 7,
            start_time: 9,
        };
        write(dir.path(), &ContainerId::new("c1"), rec).unwrap();
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(dir.path()))
            .unwrap();
        log.write_all(b"{garbled\n").unwrap();
        write(dir.path(), &ContainerId::new("c2"), rec).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(dir.path()))
            .unwrap()
            .write_all(b"{\"gone\":\"c1")
            .unwrap();
        let ids: Vec<_> = read_all(dir.path())
            .into_iter()
            .map(|(id, _)| id.value)
            .collect();
        assert_eq!(ids, ["c1", "c2"]);
    }

    #[test]
    fn the_log_is_compacted_once_long() {
        let dir = tempfile::tempdir().unwrap();
        let rec = ContainerRecord {
            pid: 7,
            start_time: 9,
        };
        write(dir.path(), &ContainerId::new("keep"), rec).unwrap();
        for n in 0..10_000 {
            let id = ContainerId::new(format!("c{n}"));
            write(dir.path(), &id, rec).unwrap();
            remove(dir.path(), &id).unwrap();
        }
        let len = std::fs::metadata(log_path(dir.path())).unwrap().len();
        assert!(len < COMPACT_AT, "{len} bytes");
        let all = read_all(dir.path());
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0.value, "keep");
    }

    #[test]
    fn an_older_agents_files_are_read_and_folded_into_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = legacy_containers_dir(dir.path());
        std::fs::create_dir_all(&legacy).unwrap();
        std::fs::write(legacy.join("c1"), br#"{"pid":7,"start_time":9}"#).unwrap();
        std::fs::write(legacy.join("c2"), b"{garbled").unwrap();
        std::fs::write(legacy.join(".c3.tmp"), b"{}").unwrap();
        let all = read_all(dir.path());
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(
            all[0].1,
            Ok(ContainerRecord {
                pid: 7,
                start_time: 9
            })
        );
        assert!(all[1].1.is_err());
        assert!(!legacy.exists());
        // Folded: the good record is in the log now, the damaged one reported once.
        let again = read_all(dir.path());
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0.value, "c1");
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
