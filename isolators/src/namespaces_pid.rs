//! `namespaces/pid`: the container's processes run in a new pid namespace under a small init
//! (made by the launcher) that reaps every child; `/proc` is remounted inside a new mount
//! namespace so the container sees only its own processes. Nothing to clean up: the
//! namespace ends with its init, which the launcher's destroy kills.

use nix::unistd::Pid;

use crate::container::{ContainerConfig, ContainerId, LaunchPrep, Limits};
use crate::error::{IsolatorError, Result};
use crate::isolator::Isolator;
use crate::statistics::{now_secs, ResourceStatistics};

const NAME: &str = "namespaces/pid";

/// `namespaces/pid`.
#[derive(Debug)]
pub struct PidNamespace;

impl PidNamespace {
    /// Checks for root and kernel support of pid namespaces.
    pub fn new() -> Result<Self> {
        if !nix::unistd::geteuid().is_root() {
            return Err(IsolatorError::Unavailable {
                name: NAME.into(),
                reason: "creating pid and mount namespaces needs root".into(),
            });
        }
        if !std::path::Path::new("/proc/self/ns/pid").exists() {
            return Err(IsolatorError::Unavailable {
                name: NAME.into(),
                reason: "the kernel has no pid namespaces (/proc/self/ns/pid is absent)".into(),
            });
        }
        Ok(PidNamespace)
    }
}

impl Isolator for PidNamespace {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, _config: &ContainerConfig) -> Result<LaunchPrep> {
        Ok(LaunchPrep {
            pid_namespace: true,
            mount_namespace: true,
            ..Default::default()
        })
    }

    fn isolate(&self, _id: &ContainerId, _pid: Pid) -> Result<()> {
        Ok(())
    }

    fn recover(&self, _config: &ContainerConfig, _pid: Pid) -> Result<()> {
        // Nothing kept per container: the namespaces live as long as the processes.
        Ok(())
    }

    fn update(&self, _id: &ContainerId, _limits: &Limits) -> Result<()> {
        Ok(())
    }

    fn usage(&self, _id: &ContainerId) -> Result<ResourceStatistics> {
        Ok(ResourceStatistics::at(now_secs()))
    }

    fn cleanup(&self, _id: &ContainerId) -> Result<()> {
        Ok(())
    }
}
