//! The isolators named by `--isolation`, run together for each container: what the
//! containerizer holds. It validates the list (unknown or unavailable names fail with a
//! message naming them), runs each lifecycle step over every isolator in list order, launches
//! the container's first process with the merged [`LaunchPrep`], and guarantees cleanup: a
//! launch that fails halfway kills what started and cleans every isolator up.

use std::time::Duration;

use nix::unistd::Pid;

use crate::cgroup_table::CgroupsOptions;
use crate::cgroupfs::{CgroupDir, CgroupLayout, CgroupMode};
use crate::cgroups_cpu::CgroupsCpu;
use crate::cgroups_mem::CgroupsMem;
use crate::cgroups_pids::CgroupsPids;
use crate::container::{ContainerConfig, ContainerId, LaunchPrep, LaunchSpec, Limits};
use crate::disk_du::DiskDu;
use crate::error::{IsolatorError, Result};
use crate::isolator::{Isolator, LimitationFuture};
use crate::launcher::{ContainerProcess, ExitStatus, Launcher};
use crate::namespaces_pid::PidNamespace;
use crate::posix::PosixIsolator;
use crate::rootfs::{Rootfs, NAME as ROOTFS_ISOLATOR};
use crate::statistics::ResourceStatistics;
use crate::tracking::destroy_tracked;

/// The isolator names this crate knows, in the order `--help` lists them.
pub const KNOWN_ISOLATORS: &[&str] = &[
    "posix/cpu",
    "posix/mem",
    "cgroups/cpu",
    "cgroups/mem",
    "cgroups/pids",
    "disk/du",
    "namespaces/pid",
    "filesystem/rootfs",
];

/// The agent flags the isolators read.
#[derive(Debug, Clone)]
pub struct IsolationConfig {
    /// `--isolation`: comma list of isolator names.
    pub isolation: String,
    /// `--cgroups-root`: the parent cgroup in each hierarchy.
    pub cgroups_root: String,
    /// Which cgroup hierarchy to use.
    pub cgroups_mode: CgroupMode,
    /// `--cgroups-enable-cfs`: hard CPU caps.
    pub cgroups_enable_cfs: bool,
    /// `--cgroups-pids-max`: processes per container (`cgroups/pids`).
    pub cgroups_pids_max: Option<u64>,
    /// `--container-disk-watch-interval` (`disk/du`).
    pub container_disk_watch_interval: Duration,
    /// `--enforce-container-disk-quota` (`disk/du`).
    pub enforce_container_disk_quota: bool,
    /// How often `cgroups/mem` checks for OOM kills.
    pub oom_poll_interval: Duration,
}

impl Default for IsolationConfig {
    fn default() -> Self {
        IsolationConfig {
            isolation: "posix/cpu,posix/mem".into(),
            cgroups_root: "meso".into(),
            cgroups_mode: CgroupMode::Auto,
            cgroups_enable_cfs: false,
            cgroups_pids_max: None,
            container_disk_watch_interval: Duration::from_secs(15),
            enforce_container_disk_quota: false,
            oom_poll_interval: Duration::from_millis(100),
        }
    }
}

/// Splits and checks an `--isolation` value (pure): names trimmed, empty items and
/// duplicates refused, unknown names refused with the list of known ones.
pub fn parse_isolation(value: &str) -> Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for raw in value.split(',') {
        let name = raw.trim();
        let known = KNOWN_ISOLATORS
            .iter()
            .find(|k| **k == name)
            .copied()
            .ok_or_else(|| IsolatorError::UnknownIsolator {
                name: name.to_string(),
                known: KNOWN_ISOLATORS.join(","),
            })?;
        if out.contains(&known) {
            return Err(IsolatorError::InvalidConfig {
                field: "isolation",
                value: value.to_string(),
                reason: format!("{known} is named twice"),
            });
        }
        out.push(known);
    }
    Ok(out)
}

/// The running isolators.
pub struct Isolation {
    isolators: Vec<Box<dyn Isolator>>,
    launcher: Launcher,
    cgroups: CgroupsOptions,
}

impl std::fmt::Debug for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.isolators.iter().map(|i| i.name()))
            .finish()
    }
}

/// A launched container: its first process, to wait on or destroy through [`Isolation`].
#[derive(Debug)]
pub struct Container {
    /// The container's id.
    pub id: ContainerId,
    /// Its first process.
    pub process: ContainerProcess,
}

impl Isolation {
    /// Builds the isolators `config.isolation` names, checking each is available here.
    pub fn new(config: &IsolationConfig) -> Result<Self> {
        let names = parse_isolation(&config.isolation)?;
        let needs_cgroups = names.iter().any(|n| n.starts_with("cgroups/"));
        let options = CgroupsOptions {
            root: config.cgroups_root.clone(),
            mode: config.cgroups_mode,
            layout: if needs_cgroups {
                CgroupLayout::detect()?
            } else {
                CgroupLayout::default()
            },
        };
        if needs_cgroups {
            ContainerId::new(config.cgroups_root.clone()).map_err(|_| {
                IsolatorError::InvalidConfig {
                    field: "cgroups-root",
                    value: config.cgroups_root.clone(),
                    reason: "must be one path component of [A-Za-z0-9._-]".into(),
                }
            })?;
        }
        let mut isolators: Vec<Box<dyn Isolator>> = Vec::new();
        for name in names {
            let iso: Box<dyn Isolator> = match name {
                "posix/cpu" => Box::new(PosixIsolator::cpu()),
                "posix/mem" => Box::new(PosixIsolator::mem()),
                "cgroups/cpu" => {
                    Box::new(CgroupsCpu::new(options.clone(), config.cgroups_enable_cfs)?)
                }
                "cgroups/mem" => {
                    Box::new(CgroupsMem::new(options.clone(), config.oom_poll_interval)?)
                }
                "cgroups/pids" => {
                    Box::new(CgroupsPids::new(options.clone(), config.cgroups_pids_max)?)
                }
                "disk/du" => Box::new(DiskDu::new(
                    config.container_disk_watch_interval,
                    config.enforce_container_disk_quota,
                )?),
                "namespaces/pid" => Box::new(PidNamespace::new()?),
                "filesystem/rootfs" => Box::new(Rootfs::new()?),
                other => unreachable!(
                    "parse_isolation returned {other}, which is not in KNOWN_ISOLATORS"
                ),
            };
            isolators.push(iso);
        }
        Ok(Isolation {
            isolators,
            launcher: Launcher::with_tracking(&config.cgroups_root, &options.layout),
            cgroups: options,
        })
    }

    /// Destroys the cgroups named `id` under the cgroups root in every hierarchy.
    fn destroy_orphans_named(&self, id: &ContainerId) -> Result<()> {
        for mount in &self.cgroups.layout.mounts {
            for parent in self.cgroups.parents() {
                let dir = CgroupDir {
                    version: mount.version,
                    path: mount.mount_point.join(parent).join(id.as_str()),
                };
                if dir.path.is_dir() {
                    destroy_tracked(&dir)?;
                }
            }
        }
        Ok(())
    }

    /// Destroys the cgroups of one container a previous agent started and this one will not
    /// recover (killing what runs inside); nothing if it has none.
    pub fn destroy_orphan(&self, id: &ContainerId) -> Result<()> {
        self.destroy_orphans_named(id)
    }

    /// Destroys every container cgroup under the cgroups root (and the revocable root), in
    /// every hierarchy, whose name is not in `keep` (killing what runs inside): what an agent
    /// does at start for containers of a previous run it will not recover. Returns the
    /// cgroups removed.
    pub fn destroy_orphans(&self, keep: &[ContainerId]) -> Result<Vec<std::path::PathBuf>> {
        let mut removed = Vec::new();
        if !nix::unistd::geteuid().is_root() {
            return Ok(removed);
        }
        let parents = self.cgroups.parents();
        let mounts = self.cgroups.layout.mounts.iter();
        for (mount, parent) in mounts.flat_map(|m| parents.iter().map(move |p| (m, p))) {
            let parent = mount.mount_point.join(parent);
            let Ok(entries) = std::fs::read_dir(&parent) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let known = keep
                    .iter()
                    .any(|k| std::ffi::OsStr::new(k.as_str()) == name);
                if known || !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    continue;
                }
                let dir = CgroupDir {
                    version: mount.version,
                    path: entry.path(),
                };
                destroy_tracked(&dir)?;
                removed.push(dir.path);
            }
        }
        Ok(removed)
    }

    /// The isolators' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.isolators.iter().map(|i| i.name()).collect()
    }

    /// Prepares every isolator; on a failure, cleans up those already prepared.
    /// A container naming a root filesystem needs `filesystem/rootfs` in the isolation
    /// (it is refused, not run on the host's filesystem).
    pub fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        config.limits.validate()?;
        if let Some(source) = &config.rootfs {
            if !self.isolators.iter().any(|i| i.name() == ROOTFS_ISOLATOR) {
                return Err(IsolatorError::InvalidRootfs {
                    path: source.path().to_path_buf(),
                    reason: format!(
                        "the container names a root filesystem but {ROOTFS_ISOLATOR} is not in \
                         the isolation ({})",
                        self.names().join(",")
                    ),
                });
            }
        }
        let mut prep = LaunchPrep::default();
        for (i, iso) in self.isolators.iter().enumerate() {
            match iso.prepare(config) {
                Ok(p) => prep.merge(p),
                Err(e) => {
                    for done in self.isolators[..i].iter().rev() {
                        let _ = done.cleanup(&config.id);
                    }
                    // The failing isolator may have recorded something before failing.
                    let _ = iso.cleanup(&config.id);
                    return Err(e);
                }
            }
        }
        Ok(prep)
    }

    /// Prepares, launches `spec` in the container and isolates its pid. On any failure the
    /// started process is killed and every isolator cleaned up before the error returns.
    pub fn launch(&self, config: &ContainerConfig, spec: &LaunchSpec) -> Result<Container> {
        let prep = self.prepare(config)?;
        self.launch_prepared(config, spec, &prep)
    }

    /// The second half of [`Isolation::launch`], for a caller that looked at the merged
    /// `prep` first (see [`LaunchPrep::needs_launcher`]): launches and isolates. On any
    /// failure the started process is killed and every isolator cleaned up.
    pub fn launch_prepared(
        &self,
        config: &ContainerConfig,
        spec: &LaunchSpec,
        prep: &LaunchPrep,
    ) -> Result<Container> {
        let mut process = match self
            .launcher
            .launch(&config.id, spec, prep, &config.sandbox)
        {
            Ok(p) => p,
            Err(e) => {
                let _ = self.cleanup(&config.id);
                return Err(e);
            }
        };
        if let Err(e) = self.isolate(&config.id, process.pid()) {
            let _ = process.destroy();
            let _ = self.cleanup(&config.id);
            return Err(e);
        }
        Ok(Container {
            id: config.id.clone(),
            process,
        })
    }

    /// Tells every isolator the container's first pid, for a container whose process the
    /// caller started itself (allowed only when the prepared [`LaunchPrep`] does not
    /// [`need the launcher`](LaunchPrep::needs_launcher)). Does not clean up on failure:
    /// the caller kills its process and calls [`Isolation::cleanup`].
    pub fn isolate(&self, id: &ContainerId, pid: Pid) -> Result<()> {
        for iso in &self.isolators {
            iso.isolate(id, pid)?;
        }
        Ok(())
    }

    /// True when containers are tracked by a cgroup of their own (so a caller must launch
    /// through [`Isolation::launch_prepared`] to have every process reachable).
    pub fn tracks_with_cgroups(&self) -> bool {
        self.launcher.tracks_with_cgroups()
    }

    /// Takes back a container a previous agent launched (after an agent restart), given its
    /// config and the host pid of its first process. A container that cannot be recovered
    /// is destroyed (its processes killed, its cgroups removed) and the error returned.
    pub fn recover(&self, config: &ContainerConfig, pid: Pid) -> Result<Container> {
        let mut process = self.launcher.recover(&config.id, pid);
        for iso in &self.isolators {
            if let Err(e) = iso.recover(config, pid) {
                let _ = process.destroy();
                let _ = self.cleanup(&config.id);
                // Cgroups the failing isolator's siblings never took back.
                let _ = self.destroy_orphans_named(&config.id);
                return Err(e);
            }
        }
        Ok(Container {
            id: config.id.clone(),
            process,
        })
    }

    /// Resolves with the first limitation any isolator reports for the container.
    pub fn watch(&self, id: &ContainerId) -> LimitationFuture {
        let watches: Vec<LimitationFuture> = self.isolators.iter().map(|i| i.watch(id)).collect();
        if watches.is_empty() {
            return crate::isolator::no_limitation();
        }
        Box::pin(async move { futures::future::select_all(watches).await.0 })
    }

    /// Applies new limits through every isolator.
    pub fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()> {
        limits.validate()?;
        for iso in &self.isolators {
            iso.update(id, limits)?;
        }
        Ok(())
    }

    /// Every isolator's figures merged (earlier isolators in the list win a shared field),
    /// stamped `timestamp` (seconds since the Unix epoch, from the caller's clock).
    pub fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics> {
        let mut stats = ResourceStatistics::at(timestamp);
        for iso in &self.isolators {
            stats.merge(&iso.usage(id, timestamp)?);
        }
        Ok(stats)
    }

    /// The container is about to be killed: each isolator moves its dying processes where
    /// they can exit at once (see [`Isolator::evacuate`]).
    pub fn evacuate(&self, id: &ContainerId) {
        for iso in &self.isolators {
            iso.evacuate(id);
        }
    }

    /// Cleans every isolator up (in reverse order), returning the first error after trying all.
    pub fn cleanup(&self, id: &ContainerId) -> Result<()> {
        let mut first = None;
        for iso in self.isolators.iter().rev() {
            if let Err(e) = iso.cleanup(id) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Kills the container's processes, reaps its first process and cleans up.
    pub fn destroy(&self, container: &mut Container) -> Result<ExitStatus> {
        let status = container.process.destroy();
        let cleaned = self.cleanup(&container.id);
        let status = status?;
        cleaned?;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_isolator_is_named() {
        let err = parse_isolation("posix/cpu, cgroups/gpu")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown isolator \"cgroups/gpu\""), "{err}");
        assert!(err.contains("posix/mem"), "{err}");
        let err = parse_isolation("posix/cpu,,posix/mem")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown isolator \"\""), "{err}");
        let err = parse_isolation("posix/cpu,posix/cpu")
            .unwrap_err()
            .to_string();
        assert!(err.contains("named twice"), "{err}");
    }

    #[test]
    fn handles_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Isolation>();
        send_sync::<Container>();
    }

    #[test]
    fn default_is_posix() {
        let iso = Isolation::new(&IsolationConfig::default()).unwrap();
        assert_eq!(iso.names(), vec!["posix/cpu", "posix/mem"]);
    }

    #[test]
    fn a_rootfs_without_the_rootfs_isolator_is_refused_naming_it() {
        let iso = Isolation::new(&IsolationConfig::default()).unwrap();
        let sandbox = tempfile::tempdir().unwrap();
        let config = ContainerConfig {
            id: ContainerId::new("rootfs-absent").unwrap(),
            sandbox: sandbox.path().to_path_buf(),
            limits: Limits::default(),
            rootfs: Some(crate::RootfsSource::Directory("/srv/root".into())),
        };
        let err = iso.prepare(&config).unwrap_err().to_string();
        assert!(err.contains("/srv/root"), "{err}");
        assert!(err.contains("filesystem/rootfs is not in"), "{err}");
        assert!(err.contains("posix/cpu,posix/mem"), "{err}");
    }
}
