//! Which root filesystem a task's container names (pure): applies [`super::image`]'s
//! reading of an image to a task's `ContainerInfo` and `TaskInfo`. Here rather than in
//! `image.rs` or `task.rs` so that each of those reads alone: this module imports both.

use super::image::{refuse, rootfs_of_name, ImageType, RootfsImage};
use super::task::{ContainerInfo, ContainerType, TaskInfo};

impl ContainerInfo {
    /// The root filesystem this container names, if any (pure; see the module docs for
    /// what meso reads). Errors say what was wrong and what meso accepts.
    pub fn rootfs_image(&self) -> crate::Result<Option<RootfsImage>> {
        let Some(image) = self.mesos.as_ref().and_then(|m| m.image.as_ref()) else {
            return Ok(None);
        };
        if self.kind != ContainerType::Mesos {
            return Err(refuse(format!(
                "an image needs a container of type MESOS, not {}",
                self.kind
            )));
        }
        match (image.kind, &image.docker) {
            (ImageType::Appc, _) => Err(refuse(
                "APPC images are not supported: name a DOCKER image whose name is a \
                 directory or tarball path on the agent"
                    .into(),
            )),
            (ImageType::Docker, None) => {
                Err(refuse("a DOCKER image needs 'docker' with a 'name'".into()))
            }
            (ImageType::Docker, Some(docker)) => rootfs_of_name(&docker.name).map(Some),
        }
    }
}

impl TaskInfo {
    /// The task's and its executor's container images must be ones meso reads; a task
    /// with its own executor names its rootfs on the executor (the executor and its tasks
    /// share one container), not on the task. Errors name the task.
    pub fn validate_rootfs_images(&self) -> crate::Result<()> {
        let named = |reason: String| crate::Error::Invalid {
            what: format!("task '{}'", self.task_id),
            reason,
        };
        let task_image = match &self.container {
            Some(c) => c.rootfs_image().map_err(|e| named(e.to_string()))?,
            None => None,
        };
        if let Some(executor) = &self.executor {
            if task_image.is_some() {
                return Err(named(
                    "a task with its own executor names its image in executor.container, \
                     not in the task's container"
                        .into(),
                ));
            }
            if let Some(c) = &executor.container {
                c.rootfs_image()
                    .map_err(|e| named(format!("executor: {e}")))?;
            }
        }
        Ok(())
    }
}
