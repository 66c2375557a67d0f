//! `namespaces/pid`: the container's processes run in a new pid namespace under a small init
//! (made by the launcher) that reaps every child; `/proc` is remounted inside a new mount
//! namespace so the container sees only its own processes. Nothing to clean up: the
//! namespace ends with its init, which the launcher's destroy kills.

use crate::container::{ContainerConfig, LaunchPrep};
use crate::error::{IsolatorError, Result};
use crate::isolator::{stateless_container_methods, Isolator};

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

    stateless_container_methods!();
}
