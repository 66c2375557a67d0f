//! Checkpointed resources and persistent volumes on the agent.
//!
//! The master sends the complete set of the agent's dynamic reservations and volumes in
//! `CheckpointResources` after every change (Mesos's `CheckpointResourcesMessage`
//! semantic; see `crate::checkpoint::resources`). The agent writes the set to disk first,
//! then creates each new volume's directory (`<work-dir>/volumes/roles/<role>/<id>`) and
//! removes the directory, and so the data, of each volume no longer in the set (a
//! DESTROY; the master refuses one while a task uses the volume). The set goes with every
//! (re)registration, so a master that failed over learns it again.
//!
//! A task or executor whose resources hold a volume gets it at `<sandbox>/<container_path>`.
//! A container with its own root filesystem has its own mount namespace: the volume's
//! directory is bind-mounted there by the launcher (read-only for mode `RO`), as Mesos's
//! `filesystem/linux` isolator does, and the host's sandbox holds only the empty mount
//! point. Any other container shares the agent's mount namespace, where a symlink to the
//! volume's directory is what makes the data visible (and `RO` is not enforced). A task
//! group's executor is launched with every volume of the group. The data outlives the task
//! and the agent's restarts; the next task of the role that is offered the volume finds it.

use std::path::Path;

use libprocess::Context;
use meso_api::resources::VolumeMode;
use meso_api::wire::CheckpointResources;
use meso_api::Resources;
use meso_isolators::VolumeMount;
use slog::{error, info, warn};

use super::Agent;
use crate::checkpoint::resources as checkpointed;
use crate::paths;

/// The persistence id and role of a volume, if `r` is one.
fn volume_key(r: &meso_api::resources::Resource) -> Option<(String, String)> {
    let id = r.disk.as_ref()?.persistence.as_ref()?.id.clone();
    Some((r.reservation_role().to_string(), id))
}

impl Agent {
    /// Master: the complete set of checkpointed resources (see the module docs).
    pub(super) fn checkpoint_resources(&mut self, ctx: &Context<Self>, msg: CheckpointResources) {
        if ctx.from() != Some(&self.config.master) {
            warn!(self.log, "checkpointed resources not from our master ignored";
                "from" => ctx.from().map(|u| u.to_string()));
            return;
        }
        if let Err(e) = self.info.resources.apply_checkpointed(&msg.resources) {
            error!(self.log, "checkpointed resources refused: they do not fit the agent's resources";
                "error" => %e);
            return;
        }
        let meta = crate::checkpoint::layout::meta_dir(&self.config.work_dir);
        if let Err(e) = checkpointed::write(&meta, &msg.resources) {
            error!(self.log, "checkpointed resources not written"; "error" => %e);
            return;
        }
        let old: Vec<(String, String)> = self
            .checkpointed_resources
            .iter()
            .filter_map(volume_key)
            .collect();
        let new: Vec<(String, String)> = msg.resources.iter().filter_map(volume_key).collect();
        for (role, id) in new.iter().filter(|k| !old.contains(k)) {
            let dir = paths::volume(&self.config.work_dir, role, id);
            match crate::checkpoint::files::ensure_dir(&dir) {
                Ok(()) => info!(self.log, "persistent volume created"; "role" => role, "id" => id,
                    "path" => %dir.display()),
                Err(e) => {
                    error!(self.log, "persistent volume directory not created"; "error" => %e)
                }
            }
        }
        for (role, id) in old.iter().filter(|k| !new.contains(k)) {
            let dir = paths::volume(&self.config.work_dir, role, id);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {
                    info!(self.log, "persistent volume destroyed"; "role" => role, "id" => id)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    error!(self.log, "persistent volume not removed"; "path" => %dir.display(),
                    "error" => %e)
                }
            }
        }
        self.checkpointed_resources = msg.resources;
    }

    /// Master: an operation it applied to this agent's resources (recorded after the
    /// checkpoint that carried it), for GET_OPERATIONS.
    pub(super) fn operation_applied(
        &mut self,
        ctx: &Context<Self>,
        msg: meso_api::wire::OperationApplied,
    ) {
        if ctx.from() != Some(&self.config.master) {
            warn!(self.log, "an operation record not from our master ignored";
                "from" => ctx.from().map(|u| u.to_string()));
            return;
        }
        self.operations.record(msg.record);
    }

    /// The GET_OPERATIONS payload: the operations applied here, oldest first.
    pub(super) fn get_operations(&self) -> serde_json::Value {
        let json = meso_api::v1::operation_book::get_operations_json(self.operations.iter());
        serde_json::from_str(&json).expect("the operation book writes valid JSON")
    }

    /// Places each persistent volume of `resources` in `sandbox` at its `container_path`
    /// (a volume the agent does not hold is refused, naming it). `mount`: the container
    /// gets its own mount namespace (a root filesystem), so the volumes come back as bind
    /// mounts for its launcher to make; otherwise each is a symlink and none comes back.
    pub(super) fn place_volumes(
        &self,
        sandbox: &Path,
        resources: &Resources,
        mount: bool,
    ) -> Result<Vec<VolumeMount>, String> {
        let mut mounts = Vec::new();
        for r in resources.iter().filter(|r| r.is_persistent_volume()) {
            let (role, id) = volume_key(r).expect("a persistent volume has a persistence id");
            let held = self
                .checkpointed_resources
                .iter()
                .any(|c| volume_key(c).as_ref() == Some(&(role.clone(), id.clone())));
            if !held {
                return Err(format!(
                    "persistent volume '{id}' of role '{role}' is not on this agent"
                ));
            }
            let Some(volume) = r.disk.as_ref().and_then(|d| d.volume.as_ref()) else {
                return Err(format!("persistent volume '{id}' has no 'container_path'"));
            };
            let container_path = volume.container_path.clone();
            let source = paths::volume(&self.config.work_dir, &role, &id);
            let target = sandbox.join(&container_path);
            if !target.starts_with(sandbox) || container_path.split('/').any(|c| c == "..") {
                return Err(format!(
                    "persistent volume '{id}': container_path '{container_path}' leaves the sandbox"
                ));
            }
            if mount {
                mounts.push(VolumeMount {
                    source,
                    target: container_path.into(),
                    read_only: volume.mode == VolumeMode::Ro,
                });
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    format!("cannot create {} for volume '{id}': {e}", parent.display())
                })?;
            }
            if target.symlink_metadata().is_ok() {
                // Already linked (a second task of the same executor).
                continue;
            }
            std::os::unix::fs::symlink(&source, &target)
                .map_err(|e| format!("cannot link volume '{id}' at {}: {e}", target.display()))?;
        }
        Ok(mounts)
    }

    /// Gives a task joining the running executor of `info` (sandbox `sandbox`) its
    /// volumes. With no root filesystem they are linked as at launch. A container with its
    /// own root cannot take a new mount once running, so there each volume must be one
    /// mounted when the executor started (its mount point, a directory, is in the
    /// sandbox); one that is not is refused, naming it.
    pub(super) fn join_volumes(
        &self,
        info: &meso_api::v1::ExecutorInfo,
        task: &meso_api::v1::TaskInfo,
        sandbox: &Path,
    ) -> Result<(), String> {
        // A custom executor's container (the only kind tasks join) has the executor's image.
        let rooted = info
            .container
            .as_ref()
            .and_then(|c| c.rootfs_image().ok().flatten())
            .is_some();
        let mounts = self.place_volumes(sandbox, &task.resources, rooted)?;
        for m in mounts {
            let at = sandbox.join(&m.target);
            let is_dir = at.symlink_metadata().is_ok_and(|meta| meta.is_dir());
            if !is_dir {
                return Err(format!(
                    "persistent volume at '{}' was not mounted when executor '{}' started in \
                     its own root filesystem; give the volume to the executor's first task",
                    m.target.display(),
                    info.executor_id
                ));
            }
        }
        Ok(())
    }
}
