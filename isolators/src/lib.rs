//! `meso-isolators`: how a meso agent confines a container and measures it.
//!
//! - [`Isolator`] is the lifecycle every isolator follows (prepare, isolate, watch, update,
//!   usage, cleanup); [`Isolation`] runs the ones named by `--isolation` together and is what
//!   the containerizer holds.
//! - [`Launcher`] starts a container's first process with what the isolators asked for: own
//!   session, cgroups joined before exec, pid and mount namespaces, a root filesystem.
//! - The isolators: `posix/cpu`, `posix/mem` ([`posix`]), `cgroups/cpu`, `cgroups/mem`,
//!   `cgroups/pids` (v1 and v2 through [`cgroupfs`]), `disk/du`, `namespaces/pid`,
//!   `filesystem/rootfs`.
//!
//! How the agent uses it: its `IsolatingContainerizer` holds one `Isolation` and either calls
//! [`Isolation::launch`] or uses the halves: `prepare`, then `launch_prepared` when
//! [`LaunchPrep::needs_launcher`] (cgroups to join, namespaces, a rootfs), or its own spawn of
//! the executor followed by `isolate(id, pid)`. A synchronous "has it hit a limit yet?" is
//! `watch(id).now_or_never()` (the memory watch checks the OOM counter before it first
//! sleeps). `recover` and `destroy_orphans` exist but the agent does not call them yet.
//!
//! cgroups v2: on a hybrid machine (v1 controllers, the unified hierarchy at
//! `/sys/fs/cgroup/unified` without controllers) the tests exercise on the kernel only what
//! needs no controller (a tracking cgroup made, joined, killed with `cgroup.kill`, removed);
//! the v2 control files of the cpu, memory and pids isolators are tested against a directory
//! shaped like a unified hierarchy (`v2_files_tests.rs`), so enforcement on v2 is untested.
//!
//! ```
//! use meso_isolators::{ContainerConfig, ContainerId, Isolation, IsolationConfig, LaunchSpec, Limits};
//!
//! // The default isolation, `posix/cpu,posix/mem`, needs no privilege.
//! let isolation = Isolation::new(&IsolationConfig::default())?;
//! let sandbox = tempfile::tempdir()?;
//! let config = ContainerConfig {
//!     id: ContainerId::new(format!("doc-{}", std::process::id()))?,
//!     sandbox: sandbox.path().to_path_buf(),
//!     limits: Limits { cpus: Some(0.5), mem_bytes: Some(64 << 20), disk_bytes: None, revocable: false },
//!     rootfs: None,
//! };
//! let spec = LaunchSpec {
//!     program: "/bin/sh".into(),
//!     args: vec!["-c".into(), "echo hi > out".into()],
//!     ..Default::default()
//! };
//! let mut container = isolation.launch(&config, &spec)?;
//! assert!(container.process.wait()?.success());
//! assert_eq!(isolation.usage(&config.id, 0.0)?.cpus_limit, Some(0.5));
//! isolation.destroy(&mut container)?;
//! assert_eq!(std::fs::read_to_string(sandbox.path().join("out"))?, "hi\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Invariants: after `Isolation::destroy` (or a failed `Isolation::launch`) no cgroup, mount
//! or process of the container is left; pure logic (parsing, arithmetic, limit checks) is in
//! plain functions tested directly, the rest is thin I/O over cgroupfs and procfs.

#![warn(missing_docs)]

pub mod cgroup_table;
pub mod cgroupfs;
pub mod cgroups_cpu;
pub mod cgroups_mem;
pub mod cgroups_pids;
mod child;
pub mod container;
pub mod disk_du;
pub mod error;
pub mod isolation;
pub mod isolator;
mod launch_status;
pub mod launcher;
pub mod namespaces_pid;
pub mod posix;
pub mod rootfs;
pub mod run_as;
pub mod statistics;
pub mod tracking;
#[cfg(test)]
mod v2_files_tests;

pub use cgroupfs::{CgroupMode, CgroupVersion};
pub use container::{
    ContainerConfig, ContainerId, LaunchPrep, LaunchSpec, Limitation, LimitationKind, Limits,
    RootfsSource, VolumeMount, CONTAINER_SANDBOX_PATH,
};
pub use error::{IsolatorError, Result};
pub use isolation::{Container, Isolation, IsolationConfig, KNOWN_ISOLATORS};
pub use isolator::{Isolator, LimitationFuture};
pub use launcher::{ContainerProcess, ExitStatus, Launcher, ProcessKiller};
pub use run_as::RunAs;
pub use statistics::ResourceStatistics;
