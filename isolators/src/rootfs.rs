//! `filesystem/rootfs`: a container whose config names a root filesystem runs with that
//! directory as `/` (entered with `pivot_root` by the launcher, in the container's own mount
//! namespace) and its sandbox bind-mounted at [`CONTAINER_SANDBOX_PATH`], which
//! `MESOS_SANDBOX` names, and the host's basic device nodes (`/dev/null`, ...) bound into its
//! `/dev`. A tarball (one already in the sandbox, or one on the host named by an absolute
//! path) is unpacked (with `tar`) into `<sandbox>/rootfs` first.
//!
//! Invariant: the host's mount table is never touched (all mounts are in the container's
//! namespace and vanish with it); an unpacked rootfs lives in the sandbox and goes with it.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::container::{ContainerConfig, LaunchPrep, RootfsSource, CONTAINER_SANDBOX_PATH};
use crate::error::{IsolatorError, Result};
use crate::isolator::{stateless_container_methods, Isolator};

/// The isolator's name in `--isolation`.
pub const NAME: &str = "filesystem/rootfs";

/// The directory a tarball rootfs is unpacked into, inside the sandbox.
pub const UNPACKED_ROOTFS_DIR: &str = "rootfs";

/// `filesystem/rootfs`.
#[derive(Debug)]
pub struct Rootfs;

impl Rootfs {
    /// Checks for root (bind mounts and `pivot_root` need it).
    pub fn new() -> Result<Self> {
        if !nix::unistd::geteuid().is_root() {
            return Err(IsolatorError::Unavailable {
                name: NAME.into(),
                reason: "entering a root filesystem needs root".into(),
            });
        }
        Ok(Rootfs)
    }
}

/// Resolves a tarball path against the sandbox, refusing paths that leave it (pure).
pub fn tarball_in_sandbox(sandbox: &Path, tarball: &Path) -> Result<PathBuf> {
    let relative = tarball.strip_prefix(sandbox).unwrap_or(tarball);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(IsolatorError::InvalidRootfs {
            path: tarball.to_path_buf(),
            reason: format!(
                "a rootfs tarball must be a plain path inside the sandbox {}",
                sandbox.display()
            ),
        });
    }
    Ok(sandbox.join(relative))
}

/// Unpacks `tarball` (already resolved) into `<sandbox>/rootfs`.
fn unpack(sandbox: &Path, tarball: &Path) -> Result<PathBuf> {
    let tarball = tarball.to_path_buf();
    if !tarball.is_file() {
        return Err(IsolatorError::InvalidRootfs {
            path: tarball,
            reason: "no such file".into(),
        });
    }
    let target = sandbox.join(UNPACKED_ROOTFS_DIR);
    std::fs::create_dir_all(&target).map_err(|e| IsolatorError::io("mkdir", &target, e))?;
    let out = Command::new("tar")
        .arg("-xf")
        .arg(&tarball)
        .arg("-C")
        .arg(&target)
        .output()
        .map_err(|e| IsolatorError::io("run tar on", &tarball, e))?;
    if !out.status.success() {
        return Err(IsolatorError::InvalidRootfs {
            path: tarball,
            reason: format!(
                "tar failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(target)
}

impl Isolator for Rootfs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        let root = match &config.rootfs {
            None => return Ok(LaunchPrep::default()),
            Some(RootfsSource::Directory(dir)) => {
                if !dir.is_dir() {
                    return Err(IsolatorError::InvalidRootfs {
                        path: dir.clone(),
                        reason: "not a directory".into(),
                    });
                }
                dir.clone()
            }
            Some(RootfsSource::Tarball(t)) => {
                unpack(&config.sandbox, &tarball_in_sandbox(&config.sandbox, t)?)?
            }
            Some(RootfsSource::HostTarball(t)) => {
                if !t.is_absolute() {
                    return Err(IsolatorError::InvalidRootfs {
                        path: t.clone(),
                        reason: "a tarball on the host must be named by an absolute path".into(),
                    });
                }
                unpack(&config.sandbox, t)?
            }
        };
        Ok(LaunchPrep {
            mount_namespace: true,
            rootfs: Some(root),
            env: vec![("MESOS_SANDBOX".into(), CONTAINER_SANDBOX_PATH.into())],
            ..Default::default()
        })
    }

    stateless_container_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContainerId, Limits};

    #[test]
    fn tarball_must_stay_in_the_sandbox() {
        let sb = Path::new("/sb");
        assert_eq!(
            tarball_in_sandbox(sb, Path::new("img.tar")).unwrap(),
            Path::new("/sb/img.tar")
        );
        assert_eq!(
            tarball_in_sandbox(sb, Path::new("/sb/x/img.tgz")).unwrap(),
            Path::new("/sb/x/img.tgz")
        );
        assert!(tarball_in_sandbox(sb, Path::new("../etc/img.tar")).is_err());
        assert!(tarball_in_sandbox(sb, Path::new("/etc/img.tar")).is_err());
    }

    fn config(sandbox: &Path, rootfs: RootfsSource) -> ContainerConfig {
        ContainerConfig {
            id: ContainerId::new("host-tarball").unwrap(),
            sandbox: sandbox.to_path_buf(),
            limits: Limits::default(),
            rootfs: Some(rootfs),
        }
    }

    #[test]
    fn a_host_tarball_is_unpacked_into_the_sandbox() {
        let images = tempfile::tempdir().unwrap();
        let tree = images.path().join("tree");
        std::fs::create_dir_all(tree.join("etc")).unwrap();
        std::fs::write(tree.join("etc/os-release"), "tiny\n").unwrap();
        let tarball = images.path().join("img.tgz");
        let made = Command::new("tar")
            .arg("-czf")
            .arg(&tarball)
            .arg("-C")
            .arg(&tree)
            .arg(".")
            .status()
            .unwrap();
        assert!(made.success());
        let sandbox = tempfile::tempdir().unwrap();
        // Constructed directly: `Rootfs::new` checks for root, unpacking does not need it.
        let prep = Rootfs
            .prepare(&config(sandbox.path(), RootfsSource::HostTarball(tarball)))
            .unwrap();
        let root = sandbox.path().join(UNPACKED_ROOTFS_DIR);
        assert_eq!(prep.rootfs.as_deref(), Some(root.as_path()));
        assert_eq!(
            std::fs::read_to_string(root.join("etc/os-release")).unwrap(),
            "tiny\n"
        );

        let err = Rootfs
            .prepare(&config(
                sandbox.path(),
                RootfsSource::HostTarball("img.tgz".into()),
            ))
            .unwrap_err()
            .to_string();
        assert!(err.contains("absolute path"), "{err}");
        let err = Rootfs
            .prepare(&config(
                sandbox.path(),
                RootfsSource::HostTarball("/nonexistent/img.tgz".into()),
            ))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/img.tgz"), "{err}");
    }
}
