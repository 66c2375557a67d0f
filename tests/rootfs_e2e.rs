//! End-to-end, real processes: `meso master`, `meso agent --isolation
//! filesystem/rootfs,...` and the standard-library Python scheduler
//! (`tests/http_clients/scheduler.py --image PATH`), which names the image the way any Mesos
//! v1 client does (`container.mesos.image`, type DOCKER). A command task in a directory
//! rootfs finishes having seen only the rootfs as `/` and its sandbox at `MESOS_SANDBOX`,
//! and leaves no mount; a registry-style image name is refused by the master with
//! TASK_ERROR.
//!
//! Entering a root needs root: without it the test says so and returns. Without python3 it
//! fails saying so (CI installs python3). Timeouts are hang guards only.

use std::path::{Path, PathBuf};

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::python_clients::run_scheduler_py;
use meso_testkit::rootfs::tiny_rootfs;

/// Every file named `name` under `dir`.
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                dirs.push(path);
            } else if entry.file_name() == name {
                found.push(path);
            }
        }
    }
    found
}

/// The agent's cgroups root of this test, removed (when empty) at the end.
struct CgroupsRoot(String);

impl Drop for CgroupsRoot {
    fn drop(&mut self) {
        for hierarchy in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(hierarchy.path().join(&self.0));
        }
    }
}

#[test]
fn a_v1_scheduler_runs_a_command_task_in_a_directory_rootfs() {
    meso_testkit::skip_unless_root!("entering a root filesystem needs root");
    let dir = tempfile::tempdir().expect("temp dir");
    let rootfs = dir.path().join("image");
    tiny_rootfs(&rootfs);
    // Declared before the cluster, so dropped after it: the agent is gone by then.
    let cgroups_root = CgroupsRoot(format!("meso-e2e-rootfs-{}", std::process::id()));

    let cluster = Cluster::start_with_agent_flags(&[
        "--isolation",
        "posix/cpu,posix/mem,filesystem/rootfs",
        "--cgroups-root",
        &cgroups_root.0,
    ]);
    let master_port = cluster.master_port;
    let work = cluster.agent_work_dir();

    let probe = "echo /* > \"$MESOS_SANDBOX/seen\"; pwd >> \"$MESOS_SANDBOX/seen\"; \
        echo \"$MESOS_SANDBOX\" >> \"$MESOS_SANDBOX/seen\"; \
        if [ -e /etc/passwd ]; then echo host-visible; else echo host-hidden; fi \
        >> \"$MESOS_SANDBOX/seen\"";
    let image = rootfs.to_str().expect("utf-8 temp path");
    let (code, out) = run_scheduler_py(master_port, &["--image", image, "--command", probe]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    assert!(out.contains("TASK_FINISHED"), "{out}");
    let seen = files_named(&work, "seen");
    assert_eq!(
        seen.len(),
        1,
        "one sandbox holds the probe's output: {seen:?}"
    );
    let text = std::fs::read_to_string(&seen[0]).unwrap();
    let mut expected: Vec<String> = std::fs::read_dir(&rootfs)
        .unwrap()
        .flatten()
        .map(|e| format!("/{}", e.file_name().to_string_lossy()))
        .collect();
    expected.sort();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        vec![
            expected.join(" ").as_str(),
            "/mnt/mesos/sandbox",
            "/mnt/mesos/sandbox",
            "host-hidden"
        ],
        "what the task saw"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for test_dir in [dir.path(), cluster.dir.path()] {
        assert!(
            !mounts.contains(test_dir.to_str().unwrap()),
            "a mount of the test's directories is left in the host's mount table"
        );
    }

    // A registry reference is not something meso can read: the master refuses the task.
    let (code, out) = run_scheduler_py(
        master_port,
        &["--image", "library/busybox:latest", "--want", "TASK_ERROR"],
    );
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    assert!(out.contains("library/busybox:latest"), "{out}");
}
