//! Which root filesystem a new executor's container gets, from the images its task names
//! (pure): a command task's own `container.mesos.image`, or a custom executor's
//! `executor.container.mesos.image` (the executor and its tasks share one container). The
//! image's name is read as meso reads it ([`meso_api::v1::ContainerInfo::rootfs_image`]):
//! a directory on the agent, or a tarball on the agent the `filesystem/rootfs` isolator
//! unpacks into the sandbox.
//!
//! Who enters the root: with a custom executor, the executor itself; with the built-in
//! command executor, only its command (the containerizer hands the prepared root to the
//! executor, see `containerizer/command_rootfs.rs`).

use meso_api::v1::{ExecutorInfo, RootfsImage, TaskInfo};
use meso_isolators::RootfsSource;

/// The rootfs of the container that runs `executor` for its first `task`; an error names
/// what is wrong with the image (the task then fails).
pub fn container_rootfs(
    executor: &ExecutorInfo,
    task: &TaskInfo,
) -> Result<Option<RootfsSource>, String> {
    let container = if task.executor.is_none() {
        task.container.as_ref()
    } else {
        executor.container.as_ref()
    };
    let image = match container.map(|c| c.rootfs_image()).transpose() {
        Ok(image) => image.flatten(),
        Err(e) => return Err(e.to_string()),
    };
    Ok(image.map(|image| match image {
        RootfsImage::Directory(dir) => RootfsSource::Directory(dir),
        RootfsImage::Tarball(tarball) => RootfsSource::HostTarball(tarball),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{
        AgentId, CommandInfo, ContainerInfo, ContainerType, ExecutorId, Image, MesosInfo,
    };

    fn container(name: &str) -> Option<ContainerInfo> {
        Some(ContainerInfo {
            kind: ContainerType::Mesos,
            volumes: vec![],
            hostname: None,
            mesos: Some(MesosInfo {
                image: Some(Image::docker(name)),
            }),
        })
    }

    fn task() -> TaskInfo {
        TaskInfo::command("t", AgentId::new("a"), "true")
    }

    fn executor() -> ExecutorInfo {
        ExecutorInfo {
            kind: None,
            executor_id: ExecutorId::new("e"),
            framework_id: None,
            command: Some(CommandInfo::shell("run")),
            container: None,
            resources: Default::default(),
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        }
    }

    #[test]
    fn a_command_task_names_its_rootfs_on_the_task() {
        let mut t = task();
        assert_eq!(container_rootfs(&executor(), &t), Ok(None));
        t.container = container("/srv/root");
        assert_eq!(
            container_rootfs(&executor(), &t),
            Ok(Some(RootfsSource::Directory("/srv/root".into())))
        );
        t.container = container("/srv/root.tgz");
        assert_eq!(
            container_rootfs(&executor(), &t),
            Ok(Some(RootfsSource::HostTarball("/srv/root.tgz".into())))
        );
        t.container = container("busybox:latest");
        let err = container_rootfs(&executor(), &t).unwrap_err();
        assert!(err.contains("busybox:latest"), "{err}");
    }

    #[test]
    fn a_custom_executor_names_its_rootfs_on_the_executor() {
        let mut t = task();
        let mut e = executor();
        t.command = None;
        t.executor = Some(e.clone());
        assert_eq!(container_rootfs(&e, &t), Ok(None));
        e.container = container("/srv/root");
        assert_eq!(
            container_rootfs(&e, &t),
            Ok(Some(RootfsSource::Directory("/srv/root".into())))
        );
    }
}
