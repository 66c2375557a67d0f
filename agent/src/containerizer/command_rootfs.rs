//! The built-in command executor in a container with a root filesystem: the executor stays
//! on the agent's filesystem and only its command enters the root.
//!
//! Why: the executor is the agent's own dynamically linked binary; inside an arbitrary
//! image neither it nor the C library and loader it was built against are present, and
//! binding them in would put host files (and a writable path to the agent's binary) into
//! the task's view. So the `filesystem/rootfs` isolator prepares the root as usual (checks
//! the directory, unpacks a tarball), the containerizer takes the root out of the launch
//! and hands its host path to the executor in [`COMMAND_ROOTFS_ENV`]; the executor starts
//! the command with the isolators' launcher, which enters the root with `pivot_root` in a
//! private mount namespace and binds the sandbox at `MESOS_SANDBOX`
//! (`/mnt/mesos/sandbox`). The executor keeps the host's `MESOS_SANDBOX`. The task's
//! persistent volumes go the same way ([`COMMAND_VOLUMES_ENV`]): the command's launcher
//! binds them in the command's namespace, where the executor never sees them.
//!
//! Invariant: after [`hand_rootfs_to_executor`] the launch prep names no root, no volume
//! and no container `MESOS_SANDBOX`, so the executor itself starts on the host's filesystem.

use meso_isolators::LaunchPrep;

use crate::error::AgentError;
use crate::executor_contract::{COMMAND_ROOTFS_ENV, COMMAND_VOLUMES_ENV};

/// Moves the prepared root out of `prep` into `env` (pure). A root path that is not UTF-8
/// cannot travel in the environment we build and is refused.
pub fn hand_rootfs_to_executor(
    prep: &mut LaunchPrep,
    env: &mut Vec<(String, String)>,
) -> Result<(), AgentError> {
    let Some(root) = prep.rootfs.take() else {
        return Ok(());
    };
    let root = root
        .into_os_string()
        .into_string()
        .map_err(|raw| AgentError::Env {
            name: COMMAND_ROOTFS_ENV,
            reason: format!("root filesystem path {raw:?} is not UTF-8"),
        })?;
    prep.env.retain(|(name, _)| name != "MESOS_SANDBOX");
    env.retain(|(name, _)| name != COMMAND_ROOTFS_ENV && name != COMMAND_VOLUMES_ENV);
    env.push((COMMAND_ROOTFS_ENV.into(), root));
    let volumes = std::mem::take(&mut prep.volumes);
    if !volumes.is_empty() {
        let json = serde_json::to_string(&volumes).map_err(|e| AgentError::Env {
            name: COMMAND_VOLUMES_ENV,
            reason: format!("volume paths cannot travel in the environment: {e}"),
        })?;
        env.push((COMMAND_VOLUMES_ENV.into(), json));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_moves_from_the_launch_to_the_executor_environment() {
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        let mut prep = LaunchPrep {
            mount_namespace: true,
            rootfs: Some("/srv/root".into()),
            env: vec![kv("MESOS_SANDBOX", "/mnt/mesos/sandbox"), kv("X", "1")],
            ..Default::default()
        };
        let mut env = vec![
            kv("MESOS_SANDBOX", "/work/sb"),
            kv(COMMAND_ROOTFS_ENV, "/x"),
        ];
        hand_rootfs_to_executor(&mut prep, &mut env).unwrap();
        assert_eq!(prep.rootfs, None);
        assert_eq!(prep.env, vec![kv("X", "1")]);
        assert_eq!(
            env,
            vec![
                kv("MESOS_SANDBOX", "/work/sb"),
                kv(COMMAND_ROOTFS_ENV, "/srv/root")
            ]
        );
        let before = env.clone();
        hand_rootfs_to_executor(&mut prep, &mut env).unwrap();
        assert_eq!(env, before, "no root, nothing handed");
    }

    #[test]
    fn volumes_travel_with_the_root() {
        let volume = meso_isolators::VolumeMount {
            source: "/work/volumes/roles/r/v1".into(),
            target: "data".into(),
            read_only: true,
        };
        let mut prep = LaunchPrep {
            rootfs: Some("/srv/root".into()),
            volumes: vec![volume.clone()],
            ..Default::default()
        };
        let mut env = Vec::new();
        hand_rootfs_to_executor(&mut prep, &mut env).unwrap();
        assert!(
            prep.volumes.is_empty(),
            "the executor itself mounts nothing"
        );
        let (_, json) = env
            .iter()
            .find(|(name, _)| name == COMMAND_VOLUMES_ENV)
            .expect("the volumes are handed over");
        let back: Vec<meso_isolators::VolumeMount> = serde_json::from_str(json).unwrap();
        assert_eq!(back, vec![volume]);
    }
}
