//! `disk/du`: measures each container's sandbox like `du` (allocated blocks of every file,
//! hard links counted once, symlinks not followed, other filesystems not entered) every
//! watch interval; with enforcement on, a sandbox above the container's disk resource
//! resolves the watch with a disk limitation.
//!
//! The walk runs on tokio's blocking pool so a large sandbox never stalls the runtime. The
//! last measurement is kept for `usage`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::unistd::Pid;

use crate::container::{
    format_mib, ContainerConfig, ContainerId, LaunchPrep, Limitation, LimitationKind, Limits,
};
use crate::error::{IsolatorError, Result};
use crate::isolator::{no_limitation, Isolator, LimitationFuture};
use crate::statistics::ResourceStatistics;

const NAME: &str = "disk/du";

/// Bytes allocated under `root` (pure apart from reading the tree). Entries that vanish
/// during the walk are skipped.
pub fn disk_usage(root: &Path) -> Result<u64> {
    let top = fs::symlink_metadata(root).map_err(|e| IsolatorError::io("stat", root, e))?;
    let device = top.dev();
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), top)];
    while let Some((path, meta)) = stack.pop() {
        if meta.dev() != device {
            continue;
        }
        if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        total += meta.blocks() * 512;
        if meta.is_dir() {
            let Ok(entries) = fs::read_dir(&path) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(m) = entry.metadata() {
                    stack.push((entry.path(), m));
                }
            }
        }
    }
    Ok(total)
}

/// The disk limitation for `used` over `limit`, if enforcement applies (pure).
pub fn check_disk(used: u64, limit: Option<u64>, enforce: bool) -> Option<Limitation> {
    let limit = limit?;
    if !enforce || used <= limit {
        return None;
    }
    Some(Limitation {
        kind: LimitationKind::Disk,
        message: format!(
            "Disk usage ({}, {used} bytes) exceeds quota ({}, {limit} bytes)",
            format_mib(used),
            format_mib(limit)
        ),
    })
}

#[derive(Debug)]
struct DiskState {
    sandbox: PathBuf,
    limits: Limits,
    used: Option<u64>,
}

/// `disk/du`.
#[derive(Debug)]
pub struct DiskDu {
    interval: Duration,
    enforce: bool,
    containers: Arc<Mutex<HashMap<ContainerId, DiskState>>>,
}

impl DiskDu {
    /// Measures every `interval`; `enforce` turns over-quota sandboxes into limitations.
    pub fn new(interval: Duration, enforce: bool) -> Result<Self> {
        if interval.is_zero() {
            return Err(IsolatorError::InvalidConfig {
                field: "container-disk-watch-interval",
                value: "0s".into(),
                reason: "must be above zero".into(),
            });
        }
        Ok(DiskDu {
            interval,
            enforce,
            containers: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContainerId, DiskState>> {
        self.containers
            .lock()
            .expect("disk/du mutex poisoned: a holder panicked")
    }

    fn unknown(id: &ContainerId) -> IsolatorError {
        IsolatorError::UnknownContainer {
            id: id.to_string(),
            isolator: NAME,
        }
    }
}

impl Isolator for DiskDu {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        let mut map = self.lock();
        if map.contains_key(&config.id) {
            return Err(IsolatorError::AlreadyPrepared {
                id: config.id.to_string(),
                isolator: NAME,
            });
        }
        map.insert(
            config.id.clone(),
            DiskState {
                sandbox: config.sandbox.clone(),
                limits: config.limits,
                used: None,
            },
        );
        Ok(LaunchPrep::default())
    }

    fn isolate(&self, id: &ContainerId, _pid: Pid) -> Result<()> {
        self.lock()
            .get(id)
            .map(|_| ())
            .ok_or_else(|| Self::unknown(id))
    }

    fn recover(&self, config: &ContainerConfig, _pid: Pid) -> Result<()> {
        // The sandbox is all disk/du keeps: taking it back is preparing again.
        self.prepare(config).map(|_| ())
    }

    fn watch(&self, id: &ContainerId) -> LimitationFuture {
        if !self.lock().contains_key(id) {
            return no_limitation();
        }
        let containers = Arc::clone(&self.containers);
        let id = id.clone();
        let interval = self.interval;
        let enforce = self.enforce;
        Box::pin(async move {
            loop {
                let sandbox = {
                    let map = containers
                        .lock()
                        .expect("disk/du mutex poisoned: a holder panicked");
                    match map.get(&id) {
                        Some(s) => s.sandbox.clone(),
                        None => break,
                    }
                };
                let measured = tokio::task::spawn_blocking(move || disk_usage(&sandbox)).await;
                if let Ok(Ok(used)) = measured {
                    let mut map = containers
                        .lock()
                        .expect("disk/du mutex poisoned: a holder panicked");
                    let Some(state) = map.get_mut(&id) else { break };
                    state.used = Some(used);
                    if let Some(l) = check_disk(used, state.limits.disk_bytes, enforce) {
                        return l;
                    }
                }
                tokio::time::sleep(interval).await;
            }
            // Cleaned up: the container is over, no limitation will come.
            futures::future::pending().await
        })
    }

    fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()> {
        let mut map = self.lock();
        let state = map.get_mut(id).ok_or_else(|| Self::unknown(id))?;
        state.limits = *limits;
        Ok(())
    }

    fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics> {
        let (sandbox, limits, used) = {
            let map = self.lock();
            let s = map.get(id).ok_or_else(|| Self::unknown(id))?;
            (s.sandbox.clone(), s.limits, s.used)
        };
        let used = match used {
            Some(u) => u,
            None => disk_usage(&sandbox)?,
        };
        let mut stats = ResourceStatistics::at(timestamp);
        stats.disk_used_bytes = Some(used);
        stats.disk_limit_bytes = limits.disk_bytes;
        Ok(stats)
    }

    fn cleanup(&self, id: &ContainerId) -> Result<()> {
        self.lock().remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_blocks_and_hard_links_once() {
        let dir = tempfile::tempdir().unwrap();
        let before = disk_usage(dir.path()).unwrap();
        fs::write(dir.path().join("a"), vec![1u8; 256 * 1024]).unwrap();
        fs::hard_link(dir.path().join("a"), dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink("/usr", dir.path().join("link")).unwrap();
        let after = disk_usage(dir.path()).unwrap();
        assert!(after - before >= 256 * 1024, "{before} -> {after}");
        assert!(
            after - before < 2 * 256 * 1024,
            "hard link counted twice: {before} -> {after}"
        );
    }

    #[test]
    fn limitation_only_when_enforced_and_over() {
        assert!(check_disk(10, Some(5), false).is_none());
        assert!(check_disk(5, Some(5), true).is_none());
        assert!(check_disk(10, None, true).is_none());
        let l = check_disk(2 << 20, Some(1 << 20), true).unwrap();
        assert_eq!(l.kind, LimitationKind::Disk);
        assert!(l.message.contains("exceeds quota (1MB"), "{}", l.message);
    }

    #[test]
    fn zero_interval_is_refused() {
        let err = DiskDu::new(Duration::ZERO, true).unwrap_err().to_string();
        assert!(err.contains("container-disk-watch-interval"), "{err}");
    }
}
