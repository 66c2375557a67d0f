//! The vocabulary shared by the isolators and the containerizer: container ids, resource
//! limits, what a container is configured with, what isolators ask the launcher to do in the
//! child (`LaunchPrep`), what the launcher runs there (`LaunchSpec`, read by both
//! `launcher.rs` and `child.rs`), and the limitations a watch reports.
//!
//! Invariant: a `ContainerId` is a non-empty string of `[A-Za-z0-9._-]` that is not `.` or
//! `..`, so it is always safe as one path component (cgroup and directory names).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{IsolatorError, Result};

/// A container's id, safe to use as a single path component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(String);

impl ContainerId {
    /// Validates `id`: non-empty, at most 200 bytes, only `[A-Za-z0-9._-]`, not `.` or `..`.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let bad = |reason: &str| IsolatorError::InvalidContainerId {
            id: id.clone(),
            reason: reason.to_string(),
        };
        if id.is_empty() {
            return Err(bad("empty"));
        }
        if id.len() > 200 {
            return Err(bad("longer than 200 bytes"));
        }
        if id == "." || id == ".." {
            return Err(bad("a relative directory name"));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(bad(&format!(
                "character {c:?} is not one of [A-Za-z0-9._-]"
            )));
        }
        Ok(ContainerId(id))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The resources a container is limited to. `None` means "not limited" for that resource.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limits {
    /// CPU shares in cores (e.g. 0.5).
    pub cpus: Option<f64>,
    /// Memory in bytes.
    pub mem_bytes: Option<u64>,
    /// Disk in bytes (measured on the sandbox).
    pub disk_bytes: Option<u64>,
    /// Revocable (oversubscribed) resources: the container runs at the lowest CPU weight
    /// and with no memory protection, so the machine's own processes win every contention.
    pub revocable: bool,
}

impl Limits {
    /// The limits a task's or executor's resources set: `cpus`, and `mem` and `disk` (in MB,
    /// as Mesos counts them) converted to bytes. Absent resources are not limited.
    pub fn from_resources(resources: &meso_api::Resources) -> Self {
        let bytes = |mb: meso_api::Scalar| (mb.as_f64() * 1024.0 * 1024.0).round() as u64;
        Limits {
            cpus: resources.cpus().map(|c| c.as_f64()),
            mem_bytes: resources.mem().map(bytes),
            disk_bytes: resources.disk().map(bytes),
            revocable: resources.iter().any(|r| r.revocable),
        }
    }

    /// Checks that every limit present is in range: cpus finite and > 0, mem and disk > 0.
    pub fn validate(&self) -> Result<()> {
        if let Some(cpus) = self.cpus {
            if !cpus.is_finite() || cpus <= 0.0 {
                return Err(IsolatorError::InvalidLimit {
                    resource: "cpus",
                    value: cpus.to_string(),
                    reason: "must be a finite number above 0".into(),
                });
            }
        }
        if self.mem_bytes == Some(0) {
            return Err(IsolatorError::InvalidLimit {
                resource: "mem",
                value: "0".into(),
                reason: "must be above 0 bytes".into(),
            });
        }
        if self.disk_bytes == Some(0) {
            return Err(IsolatorError::InvalidLimit {
                resource: "disk",
                value: "0".into(),
                reason: "must be above 0 bytes".into(),
            });
        }
        Ok(())
    }
}

/// Where a container's root filesystem comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum RootfsSource {
    /// An existing directory on the host, used in place. The launcher creates the mount
    /// points it needs in it (`/mnt/mesos/sandbox`, and `/proc` with a pid namespace).
    Directory(PathBuf),
    /// A tarball (plain or gzip) already in the sandbox; unpacked into the sandbox.
    Tarball(PathBuf),
    /// A tarball (plain or gzip) on the host, named by an absolute path; unpacked into the
    /// sandbox (the host file is only read).
    HostTarball(PathBuf),
}

impl RootfsSource {
    /// The path as given.
    pub fn path(&self) -> &Path {
        match self {
            RootfsSource::Directory(p)
            | RootfsSource::Tarball(p)
            | RootfsSource::HostTarball(p) => p,
        }
    }
}

/// What a container is prepared with.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    /// The container's id.
    pub id: ContainerId,
    /// The sandbox directory on the host (exists before prepare).
    pub sandbox: PathBuf,
    /// The resources the container may use.
    pub limits: Limits,
    /// A root filesystem to enter, if the task's ContainerInfo names one.
    pub rootfs: Option<RootfsSource>,
}

/// What to run: the command and its stdio. `program` and `cwd` are paths as the command
/// will see them (inside the rootfs when there is one); `stdout`/`stderr` are host paths.
#[derive(Debug, Clone, Default)]
pub struct LaunchSpec {
    /// The program; a name without `/` is looked up in the `PATH` of `env` (inside the
    /// rootfs when there is one).
    pub program: String,
    /// Arguments after argv\[0\] (argv\[0\] is `program`).
    pub args: Vec<String>,
    /// The whole environment of the command (nothing is inherited from the agent).
    pub env: Vec<(String, String)>,
    /// Working directory; defaults to the sandbox (or [`CONTAINER_SANDBOX_PATH`] in a
    /// rootfs).
    pub cwd: Option<PathBuf>,
    /// File that receives stdout (created or appended); `/dev/null` when `None`.
    pub stdout: Option<PathBuf>,
    /// File that receives stderr (created or appended); `/dev/null` when `None`.
    pub stderr: Option<PathBuf>,
}

/// The sandbox path inside a container with its own root filesystem (Mesos's default).
pub const CONTAINER_SANDBOX_PATH: &str = "/mnt/mesos/sandbox";

/// What the launcher must do in the child before it runs the command. Each isolator's
/// `prepare` returns one; the isolation merges them with [`LaunchPrep::merge`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaunchPrep {
    /// `cgroup.procs` files the child writes itself into (so every descendant is inside).
    pub cgroup_procs: Vec<PathBuf>,
    /// Run the command in a new pid namespace under a small reaping init.
    pub pid_namespace: bool,
    /// Run in a new mount namespace (private propagation); implied by `pid_namespace` and
    /// `rootfs`. `/proc` is remounted when `pid_namespace` is set.
    pub mount_namespace: bool,
    /// Enter this root filesystem (pivot_root) with the sandbox bind-mounted at
    /// [`CONTAINER_SANDBOX_PATH`].
    pub rootfs: Option<PathBuf>,
    /// Environment the command gets on top of its own (e.g. `MESOS_SANDBOX`).
    pub env: Vec<(String, String)>,
    /// Host directories bind-mounted into the sandbox as the command sees it (persistent
    /// volumes); implies `mount_namespace`.
    pub volumes: Vec<VolumeMount>,
    /// Run the command as this user (set by the caller, not by an isolator).
    pub user: Option<crate::RunAs>,
}

/// A host directory bind-mounted at a path of the sandbox in the container's own mount
/// namespace (Mesos's `filesystem/linux` way of giving a task a persistent volume).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VolumeMount {
    /// The directory on the host.
    pub source: PathBuf,
    /// Where it appears, relative to the sandbox (`<sandbox>/<target>` on the host, under
    /// [`CONTAINER_SANDBOX_PATH`] in a root filesystem): plain components only.
    pub target: PathBuf,
    /// Mounted read-only (a volume of mode `RO`).
    pub read_only: bool,
}

impl VolumeMount {
    /// Checks that `target` stays in the sandbox: relative, non-empty, with no `..`, `.`
    /// or root component.
    pub fn validate(&self) -> Result<()> {
        use std::path::Component;
        let plain = self.target.components().count() > 0
            && self
                .target
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(IsolatorError::InvalidLaunchArgument {
                what: "volume target (must be a relative path inside the sandbox)",
                value: self.target.display().to_string(),
            });
        }
        if !self.source.is_absolute() {
            return Err(IsolatorError::InvalidLaunchArgument {
                what: "volume source (must be an absolute path)",
                value: self.source.display().to_string(),
            });
        }
        Ok(())
    }
}

impl LaunchPrep {
    /// True when the child needs work between fork and exec that only the
    /// [`crate::Launcher`] does: joining cgroups, new namespaces, a root filesystem. When
    /// false, a caller may start the process any way it likes (e.g. `posix_spawn`) and then
    /// hand its pid to `isolate`; only `env` must still be applied.
    pub fn needs_launcher(&self) -> bool {
        !self.cgroup_procs.is_empty()
            || self.pid_namespace
            || self.mount_namespace
            || self.rootfs.is_some()
            || !self.volumes.is_empty()
            || self.user.is_some()
    }

    /// Folds `other` into `self`: lists are concatenated, flags are or-ed; a second rootfs
    /// replaces nothing (the first one wins, there is only one rootfs isolator).
    pub fn merge(&mut self, other: LaunchPrep) {
        self.cgroup_procs.extend(other.cgroup_procs);
        self.pid_namespace |= other.pid_namespace;
        self.mount_namespace |= other.mount_namespace;
        if self.rootfs.is_none() {
            self.rootfs = other.rootfs;
        }
        self.env.extend(other.env);
        self.volumes.extend(other.volumes);
        if self.user.is_none() {
            self.user = other.user;
        }
    }
}

/// Which resource a container went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum LimitationKind {
    /// Killed by the kernel's OOM killer inside its memory cgroup
    /// (Mesos's `REASON_CONTAINER_LIMITATION_MEMORY`).
    Memory,
    /// Its sandbox grew past its disk resource (`REASON_CONTAINER_LIMITATION_DISK`).
    Disk,
}

impl LimitationKind {
    /// The Mesos `TaskStatus.Reason` a task killed for this limitation carries, by name.
    pub fn task_reason(&self) -> &'static str {
        match self {
            LimitationKind::Memory => "REASON_CONTAINER_LIMITATION_MEMORY",
            LimitationKind::Disk => "REASON_CONTAINER_LIMITATION_DISK",
        }
    }

    /// The same reason as `meso-api`'s v1 enum, for the status update.
    pub fn status_reason(&self) -> meso_api::v1::TaskStatusReason {
        match self {
            LimitationKind::Memory => meso_api::v1::TaskStatusReason::ContainerLimitationMemory,
            LimitationKind::Disk => meso_api::v1::TaskStatusReason::ContainerLimitationDisk,
        }
    }
}

/// A limitation reported by an isolator's watch: the container must be destroyed and its
/// task failed with the matching reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Limitation {
    /// The resource exceeded.
    pub kind: LimitationKind,
    /// A message for the task status, naming the limit.
    pub message: String,
}

/// Renders a byte count as the MiB figure Mesos messages use, e.g. `64MB`.
pub fn format_mib(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib.fract() == 0.0 {
        format!("{mib:.0}MB")
    } else {
        format!("{mib:.2}MB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn container_ids_reject_path_tricks() {
        for bad in ["", ".", "..", "a/b", "a b", "ü", "a\0"] {
            let err = ContainerId::new(bad).unwrap_err().to_string();
            assert!(err.contains("invalid container id"), "{bad:?}: {err}");
        }
        assert_eq!(ContainerId::new("c-1.x_Y").unwrap().as_str(), "c-1.x_Y");
    }

    #[test]
    fn limits_reject_nonsense() {
        let l = Limits {
            cpus: Some(f64::NAN),
            ..Limits::default()
        };
        assert!(l.validate().unwrap_err().to_string().contains("cpus"));
        let l = Limits {
            mem_bytes: Some(0),
            ..Limits::default()
        };
        assert!(l.validate().unwrap_err().to_string().contains("mem"));
        assert!(Limits {
            cpus: Some(0.5),
            mem_bytes: Some(1),
            disk_bytes: Some(1),
            revocable: false
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn limits_from_task_resources() {
        let r = meso_api::Resources::parse("cpus:0.5;mem:64;disk:1.5", "*").unwrap();
        let l = Limits::from_resources(&r);
        assert_eq!(l.cpus, Some(0.5));
        assert_eq!(l.mem_bytes, Some(64 << 20));
        assert_eq!(l.disk_bytes, Some(1536 << 10));
        let none = Limits::from_resources(&meso_api::Resources::parse("ports:[1-2]", "*").unwrap());
        assert_eq!(none, Limits::default());
    }

    #[test]
    fn reasons_match_the_v1_names() {
        for kind in [LimitationKind::Memory, LimitationKind::Disk] {
            let json = serde_json::to_value(kind.status_reason()).unwrap();
            assert_eq!(json, kind.task_reason(), "{kind:?}");
        }
    }

    #[test]
    fn mib_formatting() {
        assert_eq!(format_mib(64 * 1024 * 1024), "64MB");
        assert_eq!(format_mib(1536 * 1024), "1.50MB");
    }

    #[test]
    fn volume_targets_stay_in_the_sandbox() {
        let mount = |target: &str| VolumeMount {
            source: "/var/volumes/v1".into(),
            target: target.into(),
            read_only: false,
        };
        assert!(mount("data").validate().is_ok());
        assert!(mount("a/b").validate().is_ok());
        for bad in ["", "/etc", "../x", "a/../../x", "./a"] {
            let err = mount(bad).validate().unwrap_err().to_string();
            assert!(err.contains("volume target"), "{bad:?}: {err}");
        }
        let mut relative = mount("data");
        relative.source = "volumes/v1".into();
        assert!(relative
            .validate()
            .unwrap_err()
            .to_string()
            .contains("volume source"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn any_valid_id_is_one_path_component(id in "[A-Za-z0-9._-]{1,40}") {
            match ContainerId::new(id.clone()) {
                Ok(c) => {
                    let p = std::path::Path::new("/base").join(c.as_str());
                    prop_assert_eq!(p.parent(), Some(std::path::Path::new("/base")));
                }
                Err(_) => prop_assert!(id == "." || id == ".."),
            }
        }

        #[test]
        fn merge_keeps_every_cgroup(a in proptest::collection::vec("[a-z]{1,5}", 0..4),
                                    b in proptest::collection::vec("[a-z]{1,5}", 0..4),
                                    pa: bool, pb: bool) {
            let mut x = LaunchPrep { cgroup_procs: a.iter().map(PathBuf::from).collect(), pid_namespace: pa, ..Default::default() };
            let y = LaunchPrep { cgroup_procs: b.iter().map(PathBuf::from).collect(), pid_namespace: pb, ..Default::default() };
            x.merge(y);
            prop_assert_eq!(x.cgroup_procs.len(), a.len() + b.len());
            prop_assert_eq!(x.pid_namespace, pa || pb);
        }
    }
}
