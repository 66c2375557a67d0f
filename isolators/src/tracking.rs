//! Process tracking for the launcher (Mesos's "linux launcher"): every container's processes
//! are also put in a cgroup of their own that no isolator touches, so that destroying the
//! container kills every process it ever started, even those that left its process group
//! (`setsid`, daemons) and even when no cgroup isolator is configured.
//!
//! v1 uses the `freezer` hierarchy: freeze, SIGKILL everything, thaw (so no process can fork
//! between the listing and the kill); v2 uses `cgroup.kill` on the unified hierarchy.
//!
//! Invariant: a tracking cgroup exists from launch until destroy; it is removed only once
//! empty.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroupfs::{CgroupDir, CgroupLayout, CgroupVersion};
use crate::error::{IsolatorError, Result};

/// Where tracking cgroups are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTracking {
    version: CgroupVersion,
    mount: PathBuf,
    root: String,
}

impl ProcessTracking {
    /// The freezer (v1) or the unified hierarchy (v2), under `root`; `None` when not root or
    /// neither is mounted (containers are then tracked by process group only).
    pub fn detect(root: &str, layout: &CgroupLayout) -> Option<Self> {
        if !nix::unistd::geteuid().is_root() {
            return None;
        }
        let (version, mount) = match (layout.v1_mount("freezer"), layout.v2_mount()) {
            (Some(m), _) => (CgroupVersion::V1, m.to_path_buf()),
            (None, Some(m)) => (CgroupVersion::V2, m.to_path_buf()),
            (None, None) => return None,
        };
        Some(ProcessTracking {
            version,
            mount,
            root: root.to_string(),
        })
    }

    /// The tracking cgroup of container `name` if it exists (a recovered container).
    pub fn existing(&self, name: &str) -> Option<CgroupDir> {
        let path = self.mount.join(&self.root).join(name);
        path.is_dir().then_some(CgroupDir {
            version: self.version,
            path,
        })
    }

    /// Creates the tracking cgroup for container `name`.
    pub fn create(&self, name: &str) -> Result<CgroupDir> {
        CgroupDir::create(self.version, &self.mount, &self.root, name, &[])
    }
}

/// Kills every process in a tracking cgroup and removes it (bounded; `CgroupBusy` if
/// processes keep appearing).
pub fn destroy_tracked(dir: &CgroupDir) -> Result<()> {
    if dir.version == CgroupVersion::V1 && dir.path.join("freezer.state").exists() {
        freeze_and_kill(dir)?;
    }
    dir.destroy()
}

fn freeze_and_kill(dir: &CgroupDir) -> Result<()> {
    if dir.pids()?.is_empty() {
        return Ok(());
    }
    dir.write("freezer.state", "FROZEN")?;
    for _ in 0..1000 {
        if dir.read("freezer.state")?.trim() == "FROZEN" {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    for pid in dir.pids()? {
        match kill(Pid::from_raw(pid), Signal::SIGKILL) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(errno) => {
                return Err(IsolatorError::Sys {
                    call: "kill",
                    errno,
                })
            }
        }
    }
    // Killed processes die only once thawed.
    dir.write("freezer.state", "THAWED")
}
