//! Persistent volumes in containers with their own mount namespace, run by the real agent,
//! `meso-executor` and the isolators' launcher: a task in a root filesystem gets its volume
//! bind-mounted at `container_path` in its sandbox (`/mnt/mesos/sandbox/<path>`), what it
//! writes there lands in the volume's directory on the host, survives the task and is read
//! by the next task; a volume of mode `RO` is mounted read-only; a task group's executor
//! gets the volumes of every task of the group (linked, or mounted in its root). No mount
//! is left in the host's mount table.
//!
//! Entering a root and mounting need root; those tests skip (saying so) without it.

use std::path::{Path, PathBuf};

use meso_api::resources::{DiskInfo, Persistence, ReservationInfo, Resource, Volume, VolumeMode};
use meso_api::v1::{
    CommandInfo, ContainerInfo, ContainerType, ExecutorId, Image, MesosInfo, TaskInfo, TaskState,
};
use meso_api::wire::{CheckpointResources, RunTaskGroup};
use meso_api::Resources;
use meso_testkit::agent_harness::*;
use meso_testkit::eventually::eventually_async_within;
use meso_testkit::isolated::Isolated;
use meso_testkit::rootfs::tiny_rootfs;

/// Why these tests need root.
const NEEDS_ROOT: &str = "entering a root filesystem and bind-mounting a volume need root";

const ROLE: &str = "vol-role";

/// Persistent volume `id` of [`ROLE`] at `container_path`, 16 MB, of `mode`.
fn volume(id: &str, container_path: &str, mode: VolumeMode) -> Resource {
    Resources::parse("disk:16", "*")
        .unwrap()
        .push_reservation(&ReservationInfo::dynamically(ROLE, Some("ops")))
        .into_iter()
        .next()
        .expect("one disk")
        .with_disk(DiskInfo {
            persistence: Some(Persistence {
                id: id.into(),
                principal: Some("ops".into()),
            }),
            volume: Some(Volume {
                mode,
                container_path: container_path.into(),
                host_path: None,
            }),
            source: None,
        })
}

/// Tells the agent, as the master, that it holds `volumes` (CREATE), and waits until their
/// directories exist.
async fn hold(h: &Harness, volumes: &[Resource]) -> Vec<PathBuf> {
    let mut resources = Resources::default();
    for v in volumes {
        resources += v;
    }
    h.to_agent(CheckpointResources { resources });
    let mut dirs = Vec::new();
    for v in volumes {
        let id = &v.disk.as_ref().unwrap().persistence.as_ref().unwrap().id;
        let dir = h.work_dir.path().join(format!("volumes/roles/{ROLE}/{id}"));
        let what = format!("volume directory {}", dir.display());
        let probe = dir.clone();
        eventually_async_within(&what, HANG_GUARD, || async { probe.is_dir() }).await;
        dirs.push(dir);
    }
    dirs
}

fn in_image(mut task: TaskInfo, image: &Path) -> TaskInfo {
    task.container = Some(rooted(image));
    task
}

fn rooted(image: &Path) -> ContainerInfo {
    ContainerInfo {
        kind: ContainerType::Mesos,
        volumes: vec![],
        hostname: None,
        mesos: Some(MesosInfo {
            image: Some(Image::docker(image.to_str().unwrap())),
        }),
    }
}

fn with_volume(mut task: TaskInfo, v: &Resource) -> TaskInfo {
    task.resources += v;
    task
}

/// Runs `task` to its end; returns its final state and the command's stdout.
async fn run_to_end(h: &mut Harness, task: TaskInfo) -> (TaskState, String) {
    let id = task.task_id.as_str().to_string();
    h.run_task(task);
    let end = h.until_terminal().await;
    h.executor_exited().await;
    let stdout = std::fs::read_to_string(h.sandbox_of(&id).join("stdout")).unwrap_or_default();
    assert_eq!(
        end.status.state,
        TaskState::Finished,
        "{id}: {:?}; stdout {stdout}",
        end.status.message
    );
    (end.status.state, stdout)
}

fn assert_no_mount_of(path: &Path) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(path.to_str().unwrap()),
        "a mount of {} is in the host's mount table",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rootfs_task_writes_its_volume_and_the_next_task_reads_it() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let rootfs = tempfile::tempdir().unwrap();
    tiny_rootfs(rootfs.path());
    let iso = Isolated::new("vol-rootfs");
    let mut h = iso.harness("filesystem/rootfs", |_| {}).await;
    let rw = volume("v1", "data", VolumeMode::Rw);
    let dirs = hold(&h, std::slice::from_ref(&rw)).await;

    // The writer sees the volume inside its root, under its sandbox, and writes to it.
    let writer = command_task(
        "writer",
        "echo persisted > \"$MESOS_SANDBOX/data/file\" && echo wrote",
    );
    let (_, out) = run_to_end(&mut h, in_image(with_volume(writer, &rw), rootfs.path())).await;
    assert!(out.contains("wrote"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dirs[0].join("file")).unwrap(),
        "persisted\n",
        "the data is in the volume's directory on the host"
    );
    let mount_point = h.sandbox_of("writer").join("data");
    let meta = std::fs::symlink_metadata(&mount_point).unwrap();
    assert!(
        meta.is_dir() && std::fs::read_dir(&mount_point).unwrap().next().is_none(),
        "the host's sandbox holds only the empty mount point"
    );

    // The next task (a new container) reads what the first wrote.
    let reader = command_task("reader", "read l < data/file; echo \"read:$l\"");
    let (_, out) = run_to_end(&mut h, in_image(with_volume(reader, &rw), rootfs.path())).await;
    assert!(out.contains("read:persisted"), "{out}");

    // Mode RO: readable, not writable.
    let ro = volume("v1", "data", VolumeMode::Ro);
    let probe = command_task(
        "ro-reader",
        "read l < data/file; echo \"read:$l\"; \
         if (echo x > data/other) 2>/dev/null; then echo writable; else echo read-only; fi",
    );
    let (_, out) = run_to_end(&mut h, in_image(with_volume(probe, &ro), rootfs.path())).await;
    assert!(out.contains("read:persisted"), "{out}");
    assert!(
        out.contains("read-only") && !out.contains("writable"),
        "{out}"
    );
    assert!(!dirs[0].join("other").exists());

    assert_no_mount_of(&dirs[0]);
    assert_no_mount_of(h.work_dir.path());
}

/// The group's executor runs `script` (in `image` when given) then the Python executor of
/// `tests/http_clients` (on the host) or exits (in a root, where there is no Python).
fn group_executor(id: &str, script: &str, image: Option<&Path>) -> meso_api::v1::ExecutorInfo {
    let py = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/http_clients/executor.py"
    );
    let line = match image {
        None => format!("{script} && exec python3 {py}"),
        Some(_) => script.to_string(),
    };
    let mut info = executor_info(id, CommandInfo::shell(&line));
    info.container = image.map(rooted);
    info
}

fn group_of(tasks: Vec<TaskInfo>) -> meso_api::v1::TaskGroupInfo {
    meso_api::v1::TaskGroupInfo { tasks }
}

/// Two tasks of a group, each with its own volume: the executor sees both (before, only the
/// first task's volume reached the executor's sandbox). Here the container shares the
/// agent's mount namespace, so they are links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_groups_executor_sees_every_tasks_volume() {
    let mut h = Harness::start_registered().await;
    let (a, b) = (
        volume("ga", "data-a", VolumeMode::Rw),
        volume("gb", "data-b", VolumeMode::Rw),
    );
    let dirs = hold(&h, &[a.clone(), b.clone()]).await;
    let executor = group_executor(
        "grouped",
        "echo from-a > data-a/f && echo from-b > data-b/f",
        None,
    );
    h.to_agent(RunTaskGroup {
        framework: framework(),
        executor: executor.clone(),
        task_group: group_of(vec![
            with_volume(command_task("ta", "unused"), &a),
            with_volume(command_task("tb", "unused"), &b),
        ]),
    });
    let mut finished = std::collections::BTreeSet::new();
    while finished.len() < 2 {
        let u = h.next_update().await;
        h.ack(&u);
        assert_eq!(u.executor_id, Some(ExecutorId::new("grouped")));
        assert!(
            !u.status.state.is_terminal() || u.status.state == TaskState::Finished,
            "{u:?}"
        );
        if u.status.state == TaskState::Finished {
            finished.insert(u.status.task_id.as_str().to_string());
        }
    }
    assert_eq!(
        std::fs::read_to_string(dirs[0].join("f")).unwrap(),
        "from-a\n"
    );
    assert_eq!(
        std::fs::read_to_string(dirs[1].join("f")).unwrap(),
        "from-b\n"
    );
}

/// The same group with the executor in a root filesystem: both volumes are bind-mounted
/// into its namespace at launch, and what it writes lands in both volumes on the host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_groups_rooted_executor_gets_every_volume_mounted() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let rootfs = tempfile::tempdir().unwrap();
    tiny_rootfs(rootfs.path());
    let iso = Isolated::new("vol-group");
    let mut h = iso.harness("filesystem/rootfs", |_| {}).await;
    let (a, b) = (
        volume("ga", "data-a", VolumeMode::Rw),
        volume("gb", "data-b", VolumeMode::Rw),
    );
    let dirs = hold(&h, &[a.clone(), b.clone()]).await;
    // No v1 executor lives in the tiny root: the executor writes and exits, and the group's
    // tasks end with it.
    let executor = group_executor(
        "grouped-root",
        "echo from-a > data-a/f && echo from-b > data-b/f",
        Some(rootfs.path()),
    );
    h.to_agent(RunTaskGroup {
        framework: framework(),
        executor,
        task_group: group_of(vec![
            with_volume(command_task("ra", "unused"), &a),
            with_volume(command_task("rb", "unused"), &b),
        ]),
    });
    let exited = h.executor_exited().await;
    assert_eq!(exited.status, 0, "the executor's writes succeeded");
    assert_eq!(
        std::fs::read_to_string(dirs[0].join("f")).unwrap(),
        "from-a\n"
    );
    assert_eq!(
        std::fs::read_to_string(dirs[1].join("f")).unwrap(),
        "from-b\n"
    );
    for dir in &dirs {
        assert_no_mount_of(dir);
    }
}
