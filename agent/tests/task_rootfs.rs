//! Tasks naming a root filesystem (`container.mesos.image`, a DOCKER image whose name is a
//! path on the agent), run by the real agent and `meso-executor`: the command runs inside
//! the root (a directory used in place, or a tarball unpacked into the sandbox), sees only
//! it and its sandbox at `MESOS_SANDBOX`, finishes, and leaves no mount and no process.
//! Tasks whose image the agent cannot use fail with a message saying why.
//!
//! Entering a root needs root; those tests skip (saying so) without it.

use std::path::Path;

use meso_api::v1::{
    ContainerInfo, ContainerType, Image, MesosInfo, TaskInfo, TaskState, TaskStatusReason,
};
use meso_api::v1::{FrameworkId, TaskId};
use meso_api::wire::KillTask;
use meso_testkit::agent_harness::*;
use meso_testkit::isolated::Isolated;
use meso_testkit::rootfs::tiny_rootfs;

/// Why these tests need root.
const NEEDS_ROOT: &str = "entering a root filesystem needs root";

/// An agent whose containerizer runs `isolation` under a cgroups root of test `test`'s own
/// (keep the [`Isolated`] to the end of the test: dropping it removes the emptied root).
async fn agent_with(isolation: &str, test: &str) -> (Isolated, Harness) {
    let iso = Isolated::new(test);
    let h = iso.harness(isolation, |_| {}).await;
    (iso, h)
}

/// The entries of `/` the command should see: the rootfs's own, plus the mount points the
/// launcher creates in it (`dev`, `mnt`), sorted as the shell's glob sorts them.
fn expected_root_listing(root: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for made in ["dev", "mnt"] {
        if !names.iter().any(|n| n == made) {
            names.push(made.into());
        }
    }
    names.sort();
    names
        .iter()
        .map(|n| format!("/{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn in_image(mut task: TaskInfo, name: &str) -> TaskInfo {
    task.container = Some(ContainerInfo {
        kind: ContainerType::Mesos,
        volumes: vec![],
        hostname: None,
        mesos: Some(MesosInfo {
            image: Some(Image::docker(name)),
        }),
    });
    task
}

/// Waits for the executor's exit, then checks that the command whose pid it wrote to
/// `pid` in `sandbox` is not running (gone, a zombie, or the pid reused by another program).
async fn command_gone(h: &mut Harness, sandbox: &Path) {
    h.executor_exited().await;
    let pid = std::fs::read_to_string(sandbox.join("pid")).expect("the command wrote its pid");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z") || !stat.contains("(sh)"),
        "the command is still running: {stat}"
    );
}

/// What the command prints: its `/`, its working directory, `MESOS_SANDBOX`, whether a
/// host file is visible, and its pid (written into the sandbox for the host to check).
const PROBE: &str = "echo /*; pwd; echo \"$MESOS_SANDBOX\"; \
    if [ -e /etc/passwd ]; then echo host-visible; else echo host-hidden; fi; \
    echo $$ > \"$MESOS_SANDBOX/pid\"";

/// Runs the probe task in `image`, checks what it saw, and that nothing is left after.
async fn probe_in(h: &mut Harness, image: &str, task_id: &str, root_seen: &Path) {
    h.run_task(in_image(command_task(task_id, PROBE), image));
    let end = h.until_terminal().await;
    let sandbox = h.sandbox_of(task_id);
    let stdout = std::fs::read_to_string(sandbox.join("stdout")).unwrap_or_default();
    let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default();
    assert_eq!(
        end.status.state,
        TaskState::Finished,
        "{:?}; stdout {stdout}; stderr {stderr}",
        end.status.message
    );
    // The executor's own lines come first in the shared stdout; the command's are last.
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.starts_with("/bin") || l.starts_with("/dev"))
        .unwrap_or_else(|| panic!("no listing of / in stdout: {stdout}"));
    assert_eq!(
        lines[at],
        expected_root_listing(root_seen),
        "the command's / is not the rootfs: {stdout}"
    );
    assert_eq!(
        lines.get(at + 1..),
        Some(&["/mnt/mesos/sandbox", "/mnt/mesos/sandbox", "host-hidden"][..]),
        "{stdout}"
    );
    command_gone(h, &sandbox).await;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for leaked in [root_seen, h.work_dir.path()] {
        assert!(
            !mounts.contains(leaked.to_str().unwrap()),
            "a mount of {} is in the host's mount table",
            leaked.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_in_a_directory_rootfs_sees_only_it_and_its_sandbox() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let rootfs = tempfile::tempdir().unwrap();
    tiny_rootfs(rootfs.path());
    let (_iso, mut h) = agent_with("posix/cpu,posix/mem,filesystem/rootfs", "rootfs-dir").await;
    let image = rootfs.path().to_str().unwrap().to_string();
    probe_in(&mut h, &image, "in-dir", rootfs.path()).await;
    // The directory is used in place: the launcher's mount points are all it gained.
    assert!(rootfs.path().join("mnt/mesos/sandbox").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_in_a_tarball_rootfs_runs_in_its_unpacked_copy() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let images = tempfile::tempdir().unwrap();
    let tree = images.path().join("tree");
    tiny_rootfs(&tree);
    let tarball = images.path().join("tiny.tar.gz");
    let tar = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&tree)
        .arg(".")
        .status()
        .expect("tar runs");
    assert!(tar.success());
    let (_iso, mut h) = agent_with("filesystem/rootfs", "rootfs-tar").await;
    probe_in(&mut h, tarball.to_str().unwrap(), "in-tar", &tree).await;
    let unpacked = h.sandbox_of("in-tar").join("rootfs");
    assert!(
        unpacked.join("bin/sh").is_file(),
        "the tarball was unpacked into the sandbox"
    );
    assert!(
        !tree.join("mnt").exists(),
        "the tarball's source tree is untouched"
    );
}

/// KILL reaches the command inside the root (it leads its own process group there): its
/// SIGTERM trap runs and the task ends TASK_KILLED, with nothing left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_in_a_rootfs_is_killed_with_sigterm_first() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let rootfs = tempfile::tempdir().unwrap();
    tiny_rootfs(rootfs.path());
    let (_iso, mut h) = agent_with("filesystem/rootfs", "rootfs-kill").await;
    let command = "trap 'echo got-sigterm > marker; exit 0' TERM; echo $$ > pid; : > ready; \
        while :; do :; done";
    h.run_task(in_image(
        command_task("kill-in-root", command),
        rootfs.path().to_str().unwrap(),
    ));
    h.expect_state(TaskState::Starting).await;
    h.expect_state(TaskState::Running).await;
    h.wait_for_file("kill-in-root", "ready").await;
    h.to_agent(KillTask {
        framework_id: FrameworkId::new("M-0000"),
        task_id: TaskId::new("kill-in-root"),
        kill_policy: grace(30),
    });
    let end = h.until_terminal().await;
    assert_eq!(
        end.status.state,
        TaskState::Killed,
        "{:?}",
        end.status.message
    );
    let sandbox = h.sandbox_of("kill-in-root");
    assert_eq!(
        std::fs::read_to_string(sandbox.join("marker")).unwrap(),
        "got-sigterm\n"
    );
    command_gone(&mut h, &sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_rootfs_directory_fails_the_task_naming_it() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let (_iso, mut h) = agent_with("filesystem/rootfs", "rootfs-missing").await;
    let missing = format!("/nonexistent-meso-rootfs-{}", std::process::id());
    h.run_task(in_image(command_task("nowhere", "true"), &missing));
    let end = h.until_terminal().await;
    assert_eq!(end.status.state, TaskState::Failed);
    assert_eq!(
        end.status.reason,
        Some(TaskStatusReason::ContainerLaunchFailed)
    );
    let message = end.status.message.unwrap_or_default();
    assert!(message.contains(&missing), "{message}");
}

/// Without `filesystem/rootfs` in `--isolation` the task is refused, not run on the host.
/// The default isolation needs no privilege, so this runs as any user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_rootfs_isolator_a_task_naming_an_image_fails_naming_it() {
    let (_iso, mut h) = agent_with("posix/cpu,posix/mem", "rootfs-absent").await;
    h.run_task(in_image(command_task("no-isolator", "true"), "/srv/root"));
    let end = h.until_terminal().await;
    assert_eq!(end.status.state, TaskState::Failed);
    assert_eq!(
        end.status.reason,
        Some(TaskStatusReason::ContainerLaunchFailed)
    );
    let message = end.status.message.unwrap_or_default();
    assert!(message.contains("filesystem/rootfs"), "{message}");
    assert!(
        !h.sandbox_of("no-isolator").join("stdout").exists(),
        "no executor ran"
    );
}

/// An image meso cannot read is refused by the agent's task validation (TASK_ERROR), as
/// the master's validation refuses it before it gets there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_meso_cannot_read_is_a_task_error() {
    let (_iso, mut h) = agent_with("posix/cpu,posix/mem", "rootfs-bad").await;
    h.run_task(in_image(command_task("registry", "true"), "busybox:latest"));
    let end = h.until_terminal().await;
    assert_eq!(end.status.state, TaskState::Error);
    assert_eq!(end.status.reason, Some(TaskStatusReason::TaskInvalid));
    let message = end.status.message.unwrap_or_default();
    assert!(message.contains("busybox:latest"), "{message}");
    assert!(message.contains("absolute path"), "{message}");
}
