//! Helpers for the `meso-isolators` integration tests: root and controller checks that
//! skip with a printed reason, unique container ids, and checks of the cgroup trees and the
//! process table.
//!
//! Invariants: a test that cannot run says why on stderr ([`can_run`]); not being root is
//! reported through [`crate::root`] (SKIPPED, or a failure under `CI=true`), a missing
//! cgroup controller is a plain skip. Guards remove every cgroup a test made, even when it
//! fails.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use meso_isolators::cgroupfs::CgroupLayout;
use meso_isolators::{ContainerConfig, ContainerId, Isolation, IsolationConfig, Limits};

/// True when the test can run; otherwise prints why it is skipped.
pub fn can_run(test: &str, controllers: &[&str]) -> bool {
    if !crate::root::is_root_or_skip(
        &crate::root::current_test(test),
        "needs root for cgroups and namespaces",
    ) {
        return false;
    }
    let layout = CgroupLayout::detect().expect("/proc/self/mountinfo is readable");
    for c in controllers {
        if layout.v1_mount(c).is_none() && !layout.v2_controllers().iter().any(|x| x == c) {
            eprintln!("SKIP {test}: the {c} cgroup controller is not available on this machine");
            return false;
        }
    }
    true
}

/// A container id unique to this test process.
pub fn unique_id(test: &str) -> ContainerId {
    ContainerId::new(format!("test-{test}-{}", std::process::id())).expect("test ids are valid")
}

/// A sandbox directory and a config for `id` with `limits`.
pub fn config(id: &ContainerId, limits: Limits) -> (tempfile::TempDir, ContainerConfig) {
    let dir = tempfile::tempdir().expect("a temporary sandbox");
    let config = ContainerConfig {
        id: id.clone(),
        sandbox: dir.path().to_path_buf(),
        limits,
        rootfs: None,
    };
    (dir, config)
}

/// Isolation with the isolators `names` and the default settings.
pub fn isolation(names: &str) -> Isolation {
    isolation_with(names, |_| {})
}

/// Isolation with the isolators `names` and `tweak`'s settings on top of the defaults.
pub fn isolation_with(names: &str, tweak: impl FnOnce(&mut IsolationConfig)) -> Isolation {
    let mut config = IsolationConfig {
        isolation: names.into(),
        ..Default::default()
    };
    tweak(&mut config);
    Isolation::new(&config).expect("isolators available (checked by can_run)")
}

/// A container of the test `test` under the default cgroups root: its unique id, a sandbox
/// and config with `limits`, and a guard removing its cgroups when dropped (bind it to a
/// named variable such as `_guard` so it lives to the end of the test).
pub fn test_container(
    test: &str,
    limits: Limits,
) -> (ContainerId, tempfile::TempDir, ContainerConfig, CgroupGuard) {
    let id = unique_id(test);
    let guard = CgroupGuard(id.clone());
    let (sandbox, config) = config(&id, limits);
    (id, sandbox, config, guard)
}

/// A memory limit of `mb` MiB and nothing else.
pub fn mem_limit(mb: u64) -> Limits {
    Limits {
        mem_bytes: Some(mb << 20),
        ..Default::default()
    }
}

/// Reads pids with `read` until there are at least `n` (polled every 10 ms, 500 times at
/// the most, as a hang guard); returns the last read.
pub fn poll_pids(n: usize, mut read: impl FnMut() -> Vec<i32>) -> Vec<i32> {
    let mut pids = Vec::new();
    for _ in 0..500 {
        pids = read();
        if pids.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    pids
}

/// The control file `file` of `id`'s cgroups under `root`, in the first hierarchy that has it.
pub fn control_file(root: &str, id: &ContainerId, file: &str) -> Option<PathBuf> {
    cgroup_dirs_of(root, id)
        .iter()
        .map(|d| d.join(file))
        .find(|f| f.exists())
}

/// Every cgroup directory named `id` under `root` in any mounted hierarchy.
pub fn cgroup_dirs_of(root: &str, id: &ContainerId) -> Vec<PathBuf> {
    let layout = CgroupLayout::detect().expect("/proc/self/mountinfo is readable");
    layout
        .mounts
        .iter()
        .map(|m| m.mount_point.join(root).join(id.as_str()))
        .filter(|p| p.exists())
        .collect()
}

/// Waits (bounded, as a hang-guard) until none of `pids` is alive in the process table;
/// returns the ones still alive at the end.
pub fn wait_gone(pids: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<i32> = pids
            .iter()
            .copied()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .map(|s| !s.contains(") Z ") && !s.contains(") X "))
                    .unwrap_or(false)
            })
            .collect();
        if alive.is_empty() || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads the pids of a cgroup.procs file.
pub fn procs(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// A `sh -c` launch spec writing stdout and stderr into the sandbox.
pub fn sh(script: &str, sandbox: &Path) -> meso_isolators::LaunchSpec {
    meso_isolators::LaunchSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        cwd: None,
        stdout: Some(sandbox.join("stdout")),
        stderr: Some(sandbox.join("stderr")),
    }
}

/// Removes (killing what is inside) every cgroup of `id` when dropped, so a failing test
/// leaves nothing behind for the next run. Passing tests have already removed them.
pub struct CgroupGuard(pub ContainerId);

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        destroy_all_of("meso", &self.0);
    }
}

/// Like `CgroupGuard` for several containers under a test's own cgroups root, which it
/// also removes.
pub struct RootGuard {
    /// The test's cgroups root.
    pub root: String,
    /// The containers to remove.
    pub ids: Vec<ContainerId>,
}

impl Drop for RootGuard {
    fn drop(&mut self) {
        for id in &self.ids {
            destroy_all_of(&self.root, id);
        }
        let layout = CgroupLayout::detect().expect("/proc/self/mountinfo is readable");
        for m in &layout.mounts {
            let _ = std::fs::remove_dir(m.mount_point.join(&self.root));
        }
    }
}

fn destroy_all_of(root: &str, id: &ContainerId) {
    use meso_isolators::cgroupfs::{CgroupDir, CgroupVersion};
    for path in cgroup_dirs_of(root, id) {
        let version = if path.join("cgroup.controllers").exists() {
            CgroupVersion::V2
        } else {
            CgroupVersion::V1
        };
        let _ = CgroupDir { version, path }.destroy();
    }
}
