//! What the cgroup isolators share: where to put cgroups (`CgroupsOptions`) and the table of
//! each isolator's containers (their cgroup directories and current limits).
//!
//! Invariant: a container is in the table from a successful `prepare` until `cleanup`; its
//! directories exist exactly while it is in the table (a failed `prepare` removes what it
//! made before returning).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::cgroupfs::{CgroupDir, CgroupLayout, CgroupMode, CgroupVersion};
use crate::container::{ContainerId, LaunchPrep, Limits};
use crate::error::{IsolatorError, Result};

/// Where the cgroup isolators make their cgroups.
#[derive(Debug, Clone)]
pub struct CgroupsOptions {
    /// The parent cgroup under each hierarchy (Mesos's `--cgroups_root`; default `meso`).
    pub root: String,
    /// v1, v2, or whichever has the controller.
    pub mode: CgroupMode,
    /// The machine's hierarchies.
    pub layout: CgroupLayout,
}

impl CgroupsOptions {
    /// Locates `controller` or explains, as `Unavailable` for `isolator`, why it cannot be used.
    pub fn locate(
        &self,
        isolator: &str,
        controller: &str,
    ) -> Result<(CgroupVersion, std::path::PathBuf)> {
        if !nix::unistd::geteuid().is_root() {
            return Err(IsolatorError::Unavailable {
                name: isolator.to_string(),
                reason: "cgroups need root (the agent is not running as root)".into(),
            });
        }
        self.layout
            .locate(controller, self.mode)
            .map_err(|reason| IsolatorError::Unavailable {
                name: isolator.to_string(),
                reason,
            })
    }
}

impl CgroupsOptions {
    /// The parent of revocable containers' `cpu` cgroups: `<root>_revocable`, a sibling of
    /// the cgroups root at the lowest weight. Shares count only among siblings, so under the
    /// root (weight 1024 against the host's own processes) the revocable containers would,
    /// when nothing else of ours runs, compete with the host at the root's full weight.
    pub fn revocable_root(&self) -> String {
        format!("{}_revocable", self.root)
    }

    /// The parents that can hold a container's cgroups: the root, then the revocable root.
    pub fn parents(&self) -> [String; 2] {
        [self.root.clone(), self.revocable_root()]
    }

    /// The existing cgroup of container `id` for `controller` (recovery), or why not.
    pub fn existing(
        &self,
        isolator: &'static str,
        controller: &str,
        id: &ContainerId,
    ) -> Result<CgroupDir> {
        self.existing_under(isolator, controller, &self.root, id)
    }

    /// The existing cgroup of container `id` for `controller` under `parent` (recovery).
    pub fn existing_under(
        &self,
        isolator: &'static str,
        controller: &str,
        parent: &str,
        id: &ContainerId,
    ) -> Result<CgroupDir> {
        let (version, mount) = self.locate(isolator, controller)?;
        let path = mount.join(parent).join(id.as_str());
        if !path.is_dir() {
            return Err(IsolatorError::RecoveryFailed {
                id: id.to_string(),
                isolator,
                reason: format!("its cgroup {} does not exist", path.display()),
            });
        }
        Ok(CgroupDir { version, path })
    }
}

impl CgroupsOptions {
    /// Creates container `id`'s cgroup for `controller` (enabling it there on v2).
    pub fn create(&self, isolator: &str, controller: &str, id: &ContainerId) -> Result<CgroupDir> {
        let (version, mount) = self.locate(isolator, controller)?;
        CgroupDir::create(version, &mount, &self.root, id.as_str(), &[controller])
    }
}

/// One container's cgroups in one isolator.
#[derive(Debug, Clone)]
pub struct CgroupEntry {
    /// Its cgroup directories (one per hierarchy the isolator uses).
    pub dirs: Vec<CgroupDir>,
    /// The limits last applied.
    pub limits: Limits,
}

/// A cgroup isolator's containers.
#[derive(Debug, Default)]
pub struct CgroupTable {
    entries: Mutex<HashMap<ContainerId, CgroupEntry>>,
}

impl CgroupTable {
    /// Fails if `id` is already prepared.
    pub fn check_new(&self, id: &ContainerId, isolator: &'static str) -> Result<()> {
        if self.lock().contains_key(id) {
            return Err(IsolatorError::AlreadyPrepared {
                id: id.to_string(),
                isolator,
            });
        }
        Ok(())
    }

    /// Records a prepared container.
    pub fn insert(&self, id: ContainerId, entry: CgroupEntry) {
        self.lock().insert(id, entry);
    }

    /// Records a freshly prepared container's cgroups and returns what the launcher's child
    /// must join (each directory's `cgroup.procs`).
    pub fn insert_prepared(
        &self,
        id: ContainerId,
        dirs: Vec<CgroupDir>,
        limits: Limits,
    ) -> LaunchPrep {
        let prep = LaunchPrep {
            cgroup_procs: dirs.iter().map(CgroupDir::procs_file).collect(),
            ..Default::default()
        };
        self.insert(id, CgroupEntry { dirs, limits });
        prep
    }

    /// Sets up the freshly made `dirs` of container `id` with `apply` and records them with
    /// `limits`, returning what the launcher's child must join; when `apply` fails, removes
    /// the directories again and returns its error (nothing is recorded).
    pub fn apply_and_insert(
        &self,
        id: &ContainerId,
        dirs: Vec<CgroupDir>,
        limits: Limits,
        apply: impl FnOnce(&[CgroupDir]) -> Result<()>,
    ) -> Result<LaunchPrep> {
        if let Err(e) = apply(&dirs) {
            let _ = destroy_dirs(&dirs);
            return Err(e);
        }
        Ok(self.insert_prepared(id.clone(), dirs, limits))
    }

    /// Records a recovered container's existing cgroups with the limits it was launched with.
    pub fn insert_recovered(&self, id: &ContainerId, dirs: Vec<CgroupDir>, limits: Limits) {
        self.insert(id.clone(), CgroupEntry { dirs, limits });
    }

    /// The container's entry.
    pub fn get(&self, id: &ContainerId, isolator: &'static str) -> Result<CgroupEntry> {
        self.lock()
            .get(id)
            .cloned()
            .ok_or_else(|| IsolatorError::UnknownContainer {
                id: id.to_string(),
                isolator,
            })
    }

    /// Replaces the recorded limits.
    pub fn set_limits(&self, id: &ContainerId, limits: Limits) {
        if let Some(e) = self.lock().get_mut(id) {
            e.limits = limits;
        }
    }

    /// Kills what is left in the container's cgroups and removes them, then forgets it.
    /// Idempotent: an unknown container is already clean.
    pub fn destroy(&self, id: &ContainerId) -> Result<()> {
        let Some(entry) = self.lock().remove(id) else {
            return Ok(());
        };
        destroy_dirs(&entry.dirs)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContainerId, CgroupEntry>> {
        self.entries
            .lock()
            .expect("cgroup table mutex poisoned: a holder panicked")
    }
}

/// Destroys every directory, returning the first error after trying all.
pub fn destroy_dirs(dirs: &[CgroupDir]) -> Result<()> {
    let mut first = None;
    for d in dirs {
        if let Err(e) = d.destroy() {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}
