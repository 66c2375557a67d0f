//! Tasks run by the real agent and `meso-executor` inside containers confined by the
//! isolators (real cgroups v1 and namespaces; the tests need root and skip without it):
//! limits are enforced and reported with the isolator's reason, and nothing of a container
//! (cgroup, process) outlives it, whether its task ended, the agent stopped or the launch
//! failed halfway.
//!
//! Each test uses its own cgroups root (`meso-t<pid>-<name>`), so tests running at once
//! (and other agents on the machine) never see each other's cgroups.

use std::path::Path;
use std::time::{Duration, Instant};

use meso_agent::containerizer::IsolatingContainerizer;
use meso_api::v1::{CommandInfo, TaskState, TaskStatusReason};
use meso_api::wire::StatusUpdate;
use meso_api::Resources;
use meso_isolators::IsolationConfig;
use meso_testkit::agent_harness::*;
use meso_testkit::eventually::eventually_async_within;
use meso_testkit::isolated::Isolated;
use meso_testkit::rootfs::tiny_rootfs;

/// Why these tests need root.
const NEEDS_ROOT: &str = "the isolation tests need root (real cgroups and namespaces)";

/// Live (not zombie) processes whose working directory is under `dir`: a container's.
fn processes_under(dir: &Path) -> Vec<(u32, String)> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let state = stat_state(&stat);
        if cwd.starts_with(&dir) && !matches!(state, None | Some("Z") | Some("X")) {
            found.push((pid, stat));
        }
    }
    found
}

/// Waits (hang-guarded) until no container cgroup and no container process is left.
async fn assert_nothing_left(iso: &Isolated, h: &Harness) {
    eventually_async_within(
        "no container cgroup or process left",
        HANG_GUARD,
        || async {
            let cgroups = iso.container_cgroups();
            let processes = processes_under(h.work_dir.path());
            if cgroups.is_empty() && processes.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "left behind: cgroups {cgroups:?}, processes {processes:?}"
                ))
            }
        },
    )
    .await;
}

/// Acknowledges updates until a terminal one, checks that it is `state`, returns it.
async fn until_terminal_in(h: &mut Harness, state: TaskState) -> StatusUpdate {
    let ended = h.until_terminal().await;
    assert_eq!(ended.status.state, state, "{:?}", ended.status);
    ended
}

/// Acknowledges updates until a terminal one, checks that it is FAILED with `reason` and a
/// message containing `message_part`.
async fn until_failed_with(h: &mut Harness, reason: TaskStatusReason, message_part: &str) {
    let failed = until_terminal_in(h, TaskState::Failed).await;
    assert_eq!(failed.status.reason, Some(reason), "{:?}", failed.status);
    let message = failed.status.message.unwrap_or_default();
    assert!(message.contains(message_part), "{message}");
}

/// A cgroup control file's contents, trimmed.
fn control(cgroup: &Path, file: &str) -> String {
    let path = cgroup.join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .trim()
        .to_string()
}

/// A numeric cgroup control file's value.
fn control_number(cgroup: &Path, file: &str) -> u64 {
    let text = control(cgroup, file);
    text.parse()
        .unwrap_or_else(|e| panic!("{file} holds {text:?}, not a number: {e}"))
}

fn task_with(id: &str, command: &str, resources: &str) -> meso_api::v1::TaskInfo {
    let mut task = command_task(id, command);
    task.resources = Resources::parse(resources, "*").expect("test resources parse");
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_overrun_fails_the_task_with_the_memory_reason() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("mem");
    let mut h = iso.harness("cgroups/mem", |_| {}).await;
    // dd's 128 MB buffer is filled from /dev/zero: far past the 32 MB limit.
    h.run_task(task_with(
        "hog",
        "dd if=/dev/zero of=/dev/null bs=128M count=1; sleep 30",
        "cpus:0.1;mem:32",
    ));
    until_failed_with(
        &mut h,
        TaskStatusReason::ContainerLimitationMemory,
        "Memory limit exceeded: Requested: 32MB",
    )
    .await;
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cfs_quota_holds_a_busy_loop_to_its_cpus() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("cpu");
    let mut h = iso
        .harness("cgroups/cpu,cgroups/mem", |c| c.cgroups_enable_cfs = true)
        .await;
    h.run_task(task_with("spin", "while :; do :; done", "cpus:0.5;mem:64"));
    h.expect_running().await;
    let cpu = iso.container_cgroup("cpu").await;
    assert_eq!(control(&cpu, "cpu.cfs_quota_us"), "50000");
    assert_eq!(control(&cpu, "cpu.shares"), "512");
    let cpuacct = iso.container_cgroup("cpuacct").await;
    let used_ns = || control_number(&cpuacct, "cpuacct.usage");
    let (start_ns, started) = (used_ns(), Instant::now());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (end_ns, wall) = (used_ns(), started.elapsed());
    let share = (end_ns - start_ns) as f64 / wall.as_nanos() as f64;
    // The quota is 50% of a core; a little over is the accounting's granularity.
    assert!(share < 0.55, "the busy loop used {share:.3} of a core");
    h.kill_task("spin", grace(1));
    until_terminal_in(&mut h, TaskState::Killed).await;
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_bomb_stays_under_the_pids_limit() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("pids");
    let mut h = iso
        .harness("cgroups/pids", |c| c.cgroups_pids_max = Some(16))
        .await;
    h.run_task(task_with(
        "bomb",
        // The subshell forks until the kernel refuses (and then exits); the shell goes on
        // with builtins and exec only, which need no new process.
        "(while :; do sleep 1000 & done) 2>bomb.err; : > spawned; exec sleep 1000",
        "cpus:0.1;mem:64",
    ));
    h.expect_running().await;
    h.wait_for_file("bomb", "spawned").await;
    let pids = iso.container_cgroup("pids").await;
    let current = control_number(&pids, "pids.current");
    assert!(current <= 16, "pids.current {current}");
    assert_eq!(control(&pids, "pids.max"), "16");
    let forks_refused = std::fs::read_to_string(pids.join("pids.events"))
        .unwrap_or_default()
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(forks_refused > 0, "no fork was refused");
    let errors = std::fs::read_to_string(h.sandbox_of("bomb").join("bomb.err")).unwrap();
    assert!(errors.to_lowercase().contains("fork"), "{errors}");
    let in_container = processes_under(h.work_dir.path()).len();
    assert!(
        in_container <= 16,
        "{in_container} processes in the container"
    );
    h.kill_task("bomb", grace(1));
    let ended = h.until_terminal().await;
    assert!(ended.status.state.is_terminal());
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_write_past_the_disk_resource_fails_the_task_when_enforced() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("disk");
    let mut h = iso
        .harness("posix/cpu,posix/mem,disk/du", |c| {
            c.container_disk_watch_interval = Duration::from_millis(100);
            c.enforce_container_disk_quota = true;
        })
        .await;
    h.run_task(task_with(
        "filler",
        "dd if=/dev/zero of=big bs=1M count=8 && sync; sleep 1000",
        "cpus:0.1;mem:64;disk:2",
    ));
    until_failed_with(&mut h, TaskStatusReason::ContainerLimitationDisk, "2MB").await;
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_in_a_pid_namespace_descends_from_its_own_pid_1() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("pidns");
    let mut h = iso.harness("namespaces/pid", |_| {}).await;
    // The task's parent is the executor; the executor's parent is the namespace's init.
    h.run_task(task_with(
        "nsed",
        "exec 3>facts; echo pid=$$ >&3; echo parent=$PPID >&3; \
         awk '{print \"grandparent=\" $4}' /proc/$PPID/stat >&3; \
         echo visible=$(ls /proc | grep -c '^[0-9]*$') >&3; exec 3>&-; mv facts done",
        "cpus:0.1;mem:64",
    ));
    until_terminal_in(&mut h, TaskState::Finished).await;
    let facts = std::fs::read_to_string(h.sandbox_of("nsed").join("done")).unwrap();
    let fact = |name: &str| -> u32 {
        facts
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {facts}"))
    };
    assert_eq!(fact("grandparent"), 1, "{facts}");
    assert_eq!(
        fact("parent"),
        2,
        "the executor is the init's first child: {facts}"
    );
    // init, executor, the shell and its `ls`: not the host's hundreds.
    assert!(fact("visible") <= 6, "{facts}");
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_agent_leaves_no_cgroup_and_no_process() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("stop");
    let mut h = iso
        .harness("cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid", |c| {
            c.cgroups_pids_max = Some(64)
        })
        .await;
    h.run_task(task_with(
        "sleeper",
        "sleep 1000 & sleep 1000 & touch started; wait",
        "cpus:0.1;mem:64",
    ));
    h.expect_running().await;
    h.wait_for_file("sleeper", "started").await;
    assert!(!iso.container_cgroups().is_empty());
    assert!(processes_under(h.work_dir.path()).len() >= 3);
    h.agent_node.shutdown().await;
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_failing_halfway_fails_the_task_and_leaves_nothing() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("halfway");
    let mut h = iso
        .harness("cgroups/cpu,cgroups/mem,namespaces/pid", |_| {})
        .await;
    // cgroups are made and the child forked before exec fails on the missing program.
    h.run_task(executor_task(
        "doomed",
        executor_info(
            "missing",
            CommandInfo::exec("/nonexistent/executor", &["/nonexistent/executor"]),
        ),
    ));
    until_failed_with(
        &mut h,
        TaskStatusReason::ContainerLaunchFailed,
        "/nonexistent/executor",
    )
    .await;
    assert_nothing_left(&iso, &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_joining_its_executor_raises_the_container_limits() {
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("update");
    let h = iso.harness("cgroups/mem", |_| {}).await;
    // An executor that never subscribes: its tasks stay queued, and both count.
    let mut executor = executor_info("holder", CommandInfo::shell("exec sleep 1000"));
    executor.resources = Resources::parse("mem:16", "*").unwrap();
    let limit_file = |cgroup: &Path| control_number(cgroup, "memory.limit_in_bytes");
    for (task, expected_mb) in [("first", 16 + 32), ("second", 16 + 32 + 32)] {
        h.run_task(executor_task(task, executor.clone()));
        let cgroup = iso.container_cgroup("memory").await;
        let what = format!("the memory limit after {task}");
        eventually_async_within(&what, HANG_GUARD, || async {
            let limit = limit_file(&cgroup);
            if limit == expected_mb << 20 {
                Ok(())
            } else {
                Err(format!("limit {limit}, expected {expected_mb} MB"))
            }
        })
        .await;
    }
    h.agent_node.shutdown().await;
    assert_nothing_left(&iso, &h).await;
}

/// The containerizer itself (tasks cannot name a rootfs yet: ContainerInfo has no image):
/// an executor given a rootfs runs inside it, sees only the rootfs and its sandbox (at
/// /mnt/mesos/sandbox, its working directory), and its output reaches the host sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containerizer_runs_an_executor_in_a_rootfs_with_only_its_sandbox() {
    use meso_agent::containerizer::{Containerizer, ExecutorCommand, LaunchSpec};
    meso_testkit::skip_unless_root!(NEEDS_ROOT);
    let iso = Isolated::new("rootfs");
    let config = IsolationConfig {
        isolation: "filesystem/rootfs,namespaces/pid".into(),
        cgroups_root: iso.root.clone(),
        ..IsolationConfig::default()
    };
    let mut containerizer = IsolatingContainerizer::new(&config).unwrap();
    let rootfs = tempfile::tempdir().unwrap();
    tiny_rootfs(rootfs.path());
    let sandbox = tempfile::tempdir().unwrap();
    std::fs::write(sandbox.path().join("hello.txt"), "from the host\n").unwrap();
    let id = meso_api::v1::ContainerId::new(format!("rootfs-{}", std::process::id()));
    containerizer
        .launch(LaunchSpec {
            container_id: id.clone(),
            directory: sandbox.path().to_path_buf(),
            command: ExecutorCommand::Shell(
                "echo /*; pwd; echo \"$MESOS_SANDBOX\"; read l < hello.txt; echo \"$l\"".into(),
            ),
            env: vec![],
            executor_starts_session: false,
            limits: meso_isolators::Limits::default(),
            rootfs: Some(meso_isolators::RootfsSource::Directory(
                rootfs.path().to_path_buf(),
            )),
            volumes: Vec::new(),
            user: None,
        })
        .unwrap();
    let ended = tokio::time::timeout(HANG_GUARD, containerizer.wait(&id).unwrap())
        .await
        .expect("hang guard: the executor never ended");
    let stderr = std::fs::read_to_string(sandbox.path().join("stderr")).unwrap_or_default();
    assert_eq!(ended.exit_code, Some(0), "{ended}; stderr {stderr}");
    let out = std::fs::read_to_string(sandbox.path().join("stdout")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        matches!(
            lines.first().copied(),
            Some("/bin /dev /lib /lib64 /mnt /proc") | Some("/bin /dev /lib /mnt /proc")
        ),
        "the container's / shows more than the rootfs: {out}"
    );
    assert_eq!(
        lines.get(1..),
        Some(&["/mnt/mesos/sandbox", "/mnt/mesos/sandbox", "from the host"][..]),
        "{out}"
    );
    containerizer.destroy(&id).unwrap();
    containerizer.forget(&id);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(rootfs.path().to_str().unwrap()),
        "a rootfs mount leaked into the host's mount table"
    );
    assert!(
        iso.container_cgroups().is_empty(),
        "{:?}",
        iso.container_cgroups()
    );
}
