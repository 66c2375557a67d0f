//! The `Isolator` trait: the lifecycle every isolator follows for each container, as in
//! Mesos's isolators. The containerizer (through [`crate::Isolation`]) calls, per container:
//!
//! 1. `prepare` before the executor starts: create cgroups, unpack a rootfs, and return the
//!    [`LaunchPrep`] the launcher applies in the child (cgroups to join, namespaces, rootfs);
//! 2. `isolate` with the executor's host pid once it runs (or, after an agent restart,
//!    `recover` with the config and pid of a container a previous agent started);
//! 3. `watch`: a future that resolves only when the container exceeds a limit it enforces
//!    (it never resolves otherwise; drop it when the container ends);
//! 4. `update` whenever the container's resources change, `usage` whenever asked;
//! 5. `evacuate` just before the container's processes are killed (a destroy), so that they
//!    can die at once (a process in an idle cgroup on a busy machine waits seconds for the
//!    CPU its exit needs);
//! 6. `cleanup` after the container's processes are gone (and after a failed launch): it must
//!    leave no cgroup, mount or process of the container behind.
//!
//! The calls are synchronous and short (control-file writes and reads); only `watch`, which
//! waits, is a future. It needs a tokio runtime (it sleeps between checks).

use std::future::Future;
use std::pin::Pin;

use nix::unistd::Pid;

use crate::container::{ContainerConfig, ContainerId, LaunchPrep, Limitation, Limits};
use crate::error::Result;
use crate::statistics::ResourceStatistics;

/// A future resolving to the limitation a container ran into.
pub type LimitationFuture = Pin<Box<dyn Future<Output = Limitation> + Send + 'static>>;

/// A future that never resolves: for isolators that enforce nothing.
pub fn no_limitation() -> LimitationFuture {
    Box::pin(futures::future::pending())
}

/// One isolation mechanism, applied to many containers.
pub trait Isolator: Send + Sync {
    /// The name used in `--isolation` (e.g. `cgroups/mem`).
    fn name(&self) -> &'static str;
    /// Sets the container up before its first process starts.
    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep>;
    /// Told the host pid of the container's first process.
    fn isolate(&self, id: &ContainerId, pid: Pid) -> Result<()>;
    /// Takes back a container a previous agent prepared and isolated (after an agent
    /// restart): finds what `prepare` made for it (its cgroups) instead of making it.
    fn recover(&self, config: &ContainerConfig, pid: Pid) -> Result<()>;
    /// Resolves when the container exceeds a limit this isolator enforces.
    fn watch(&self, id: &ContainerId) -> LimitationFuture {
        let _ = id;
        no_limitation()
    }
    /// Applies new limits.
    fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()>;
    /// The figures this isolator knows for the container, stamped `timestamp` (seconds since
    /// the Unix epoch: the caller's clock, so isolators never read one).
    fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics>;
    /// The container is being destroyed: kill what this isolator holds of it where it would
    /// be slow to die, and put it where it dies at once. Default: nothing.
    fn evacuate(&self, id: &ContainerId) {
        let _ = id;
    }
    /// Removes everything this isolator made for the container. Idempotent.
    fn cleanup(&self, id: &ContainerId) -> Result<()>;
}

/// The per-container methods of an isolator that keeps nothing per container (its work is
/// all in what `prepare` returns, e.g. namespaces the launcher makes): `isolate`, `recover`,
/// `update` and `cleanup` succeed doing nothing, and `usage` reports only the time. Invoked
/// inside an `impl Isolator for ...` block, next to `name` and `prepare`.
macro_rules! stateless_container_methods {
    () => {
        fn isolate(
            &self,
            _id: &$crate::container::ContainerId,
            _pid: nix::unistd::Pid,
        ) -> $crate::error::Result<()> {
            Ok(())
        }

        fn recover(
            &self,
            _config: &$crate::container::ContainerConfig,
            _pid: nix::unistd::Pid,
        ) -> $crate::error::Result<()> {
            // Nothing kept per container: the namespaces live as long as the processes.
            Ok(())
        }

        fn update(
            &self,
            _id: &$crate::container::ContainerId,
            _limits: &$crate::container::Limits,
        ) -> $crate::error::Result<()> {
            Ok(())
        }

        fn usage(
            &self,
            _id: &$crate::container::ContainerId,
            timestamp: f64,
        ) -> $crate::error::Result<$crate::statistics::ResourceStatistics> {
            Ok($crate::statistics::ResourceStatistics::at(timestamp))
        }

        fn cleanup(&self, _id: &$crate::container::ContainerId) -> $crate::error::Result<()> {
            Ok(())
        }
    };
}
pub(crate) use stateless_container_methods;
