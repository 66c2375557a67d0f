//! Cleanup is complete: after a container is destroyed, or a launch fails halfway, no cgroup
//! and no process of it is left (checked in the cgroup trees and the process table). Also
//! the cgroup v2 path on the unified hierarchy, and clear errors for unknown or unavailable
//! isolators.

use std::fs;
use std::time::Duration;

use meso_isolators::cgroupfs::{CgroupDir, CgroupLayout, CgroupVersion};
use meso_isolators::{
    CgroupMode, Isolation, IsolationConfig, IsolatorError, LaunchPrep, Launcher, Limits,
};
use meso_testkit::isolator_checks::{
    can_run, cgroup_dirs_of, config, mem_limit, poll_pids, procs, sh, test_container, unique_id,
    wait_gone,
};

const ALL_CGROUPS: &str = "cgroups/cpu,cgroups/mem,cgroups/pids";

fn isolation(names: &str) -> Isolation {
    meso_testkit::isolator_checks::isolation_with(names, |c| {
        c.cgroups_enable_cfs = true;
        c.cgroups_pids_max = Some(64);
    })
}

#[test]
fn destroy_leaves_no_cgroup_and_no_process() {
    if !can_run("cleanup", &["cpu", "cpuacct", "memory", "pids"]) {
        return;
    }
    let iso = isolation(&format!("{ALL_CGROUPS},posix/mem"));
    let (id, sandbox, cfg, _guard) = test_container(
        "cleanup",
        Limits {
            cpus: Some(1.0),
            mem_bytes: Some(64 << 20),
            ..Default::default()
        },
    );
    // Children in the background, one escaping the process group with setsid.
    let script = "sleep 100 & sleep 100 & setsid sleep 100 & echo started > started; wait";
    let mut c = iso.launch(&cfg, &sh(script, sandbox.path())).unwrap();
    let dirs = cgroup_dirs_of("meso", &id);
    // v1: cpu, cpuacct, memory, pids, and the launcher's freezer; v2: one.
    assert!(
        dirs.len() == 5 || dirs.len() == 1,
        "container cgroups: {dirs:?}"
    );
    let pids = poll_pids(4, || procs(&dirs[0].join("cgroup.procs")));
    assert!(
        pids.len() >= 4,
        "the shell and its three sleeps are in the cgroup: {pids:?}"
    );
    for d in &dirs {
        assert_eq!(
            procs(&d.join("cgroup.procs")).len(),
            pids.len(),
            "every hierarchy holds them all: {d:?}"
        );
    }
    let usage = iso.usage(&id, 1.0).unwrap();
    assert_eq!(usage.processes, Some(pids.len() as u64));
    assert_eq!(usage.mem_limit_bytes, Some(64 << 20));
    assert!(
        usage.mem_rss_bytes.is_some() && usage.cpus_user_time_secs.is_some(),
        "{usage:?}"
    );

    iso.destroy(&mut c).unwrap();
    assert!(
        cgroup_dirs_of("meso", &id).is_empty(),
        "cgroups left behind"
    );
    assert_eq!(wait_gone(&pids), Vec::<i32>::new(), "processes left behind");
}

#[test]
fn without_cgroup_isolators_the_launcher_still_kills_escaped_processes() {
    if !can_run("tracking", &[]) {
        return;
    }
    let iso = isolation("posix/cpu,posix/mem");
    let (_, sandbox, cfg, _guard) = test_container("tracking", Limits::default());
    let script = "setsid sleep 100 & setsid sleep 100 & echo $! > escaped; exit 0";
    let mut c = iso.launch(&cfg, &sh(script, sandbox.path())).unwrap();
    let Some(tracking) = c.process.tracking_cgroup().map(|p| p.to_path_buf()) else {
        eprintln!("SKIP tracking: neither a freezer nor a unified cgroup hierarchy is mounted");
        iso.destroy(&mut c).unwrap();
        return;
    };
    // The shell exits at once; its two setsid'd sleeps live on outside its process group.
    c.process.wait().unwrap();
    let pids = poll_pids(2, || procs(&tracking.join("cgroup.procs")));
    assert_eq!(pids.len(), 2, "the escaped sleeps are tracked: {pids:?}");
    iso.destroy(&mut c).unwrap();
    assert!(!tracking.exists(), "tracking cgroup left behind");
    assert_eq!(
        wait_gone(&pids),
        Vec::<i32>::new(),
        "escaped processes left behind"
    );
}

#[test]
fn a_launch_failing_in_the_child_cleans_everything_up() {
    if !can_run("half-launch", &["cpu", "cpuacct", "memory", "pids"]) {
        return;
    }
    let iso = isolation(ALL_CGROUPS);
    let (id, sandbox, cfg, _guard) = test_container(
        "half-launch",
        Limits {
            cpus: Some(0.5),
            mem_bytes: Some(64 << 20),
            ..Default::default()
        },
    );
    let mut spec = sh("true", sandbox.path());
    spec.program = "/nonexistent/executor".into();
    let err = iso.launch(&cfg, &spec).unwrap_err();
    assert!(
        matches!(err, IsolatorError::ChildSetup { step: "exec", .. }),
        "{err}"
    );
    assert!(
        cgroup_dirs_of("meso", &id).is_empty(),
        "cgroups left behind after a failed launch"
    );
    // The same id can be launched again: nothing of the first attempt is remembered.
    let mut c = iso.launch(&cfg, &sh("true", sandbox.path())).unwrap();
    iso.destroy(&mut c).unwrap();
    assert!(cgroup_dirs_of("meso", &id).is_empty());
}

#[test]
fn a_prepare_failing_halfway_cleans_up_the_isolators_before_it() {
    if !can_run("half-prepare", &["cpu", "cpuacct"]) {
        return;
    }
    let iso = isolation("cgroups/cpu,filesystem/rootfs");
    let (id, sandbox, mut cfg, _guard) = test_container(
        "half-prepare",
        Limits {
            cpus: Some(0.5),
            ..Default::default()
        },
    );
    cfg.rootfs = Some(meso_isolators::RootfsSource::Directory(
        "/nonexistent/rootfs".into(),
    ));
    let err = iso
        .launch(&cfg, &sh("true", sandbox.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/rootfs"), "{err}");
    assert!(
        cgroup_dirs_of("meso", &id).is_empty(),
        "cgroups/cpu was not cleaned up"
    );
}

#[test]
fn unknown_and_unavailable_isolators_are_clear_errors() {
    let err = Isolation::new(&IsolationConfig {
        isolation: "posix/cpu,cgroups/frobnicate".into(),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("unknown isolator \"cgroups/frobnicate\""),
        "{err}"
    );

    let layout = CgroupLayout::detect().unwrap();
    if nix::unistd::geteuid().is_root() && !layout.v2_controllers().iter().any(|c| c == "memory") {
        let err = Isolation::new(&IsolationConfig {
            isolation: "cgroups/mem".into(),
            cgroups_mode: CgroupMode::V2,
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("cgroups/mem is unavailable") && err.contains("memory"),
            "{err}"
        );
        eprintln!("v2 memory unavailable here, as expected: {err}");
    }
}

/// The v2 mechanics (create, join before exec, kill all, remove) on the unified hierarchy.
/// Where the machine enables cpu/memory/pids in v2, the isolators run there in Auto mode.
#[test]
fn cgroup_v2_join_kill_and_remove_on_the_unified_hierarchy() {
    if !can_run("v2", &[]) {
        return;
    }
    let layout = CgroupLayout::detect().unwrap();
    let Some(mount) = layout.v2_mount() else {
        eprintln!("SKIP v2: no cgroup2 hierarchy is mounted on this machine");
        return;
    };
    let id = unique_id("v2");
    let _guard = meso_testkit::isolator_checks::CgroupGuard(id.clone());
    let dir = CgroupDir::create(CgroupVersion::V2, mount, "meso", id.as_str(), &[]).unwrap();
    let (sandbox, _) = config(&id, Limits::default());
    let prep = LaunchPrep {
        cgroup_procs: vec![dir.procs_file()],
        ..Default::default()
    };
    let mut p = Launcher::default()
        .launch(
            &id,
            &sh("sleep 100 & sleep 100 & wait", sandbox.path()),
            &prep,
            sandbox.path(),
        )
        .unwrap();
    let own = fs::read_to_string(format!("/proc/{}/cgroup", p.pid())).unwrap();
    assert!(
        own.contains(&format!("0::/meso/{id}")),
        "not in the v2 cgroup: {own}"
    );
    let pids = poll_pids(3, || dir.pids().unwrap());
    assert!(pids.len() >= 3, "{pids:?}");
    dir.destroy().unwrap();
    p.wait().unwrap();
    assert!(!dir.path.exists(), "v2 cgroup left behind");
    assert_eq!(wait_gone(&pids), Vec::<i32>::new());
}

/// What an agent does at start: cgroups of containers it will not recover are destroyed,
/// with their processes; the ones it keeps are untouched.
#[test]
fn orphaned_container_cgroups_are_destroyed_and_known_ones_kept() {
    if !can_run("orphans", &["memory"]) {
        return;
    }
    // A root of its own, so the sweep cannot touch other tests' containers.
    let root = format!("meso-orphans-{}", std::process::id());
    let iso = Isolation::new(&IsolationConfig {
        isolation: "cgroups/mem".into(),
        cgroups_root: root.clone(),
        ..Default::default()
    })
    .unwrap();
    let orphan = unique_id("orphan");
    let kept = unique_id("kept");
    let _guard = meso_testkit::isolator_checks::RootGuard {
        root: root.clone(),
        ids: vec![orphan.clone(), kept.clone()],
    };
    let (sandbox, orphan_cfg) = config(&orphan, mem_limit(64));
    let (kept_sandbox, kept_cfg) = config(&kept, mem_limit(64));
    let mut orphan_c = iso
        .launch(&orphan_cfg, &sh("exec sleep 100", sandbox.path()))
        .unwrap();
    let mut kept_c = iso
        .launch(&kept_cfg, &sh("exec sleep 100", kept_sandbox.path()))
        .unwrap();
    let orphan_pid = orphan_c.process.pid().as_raw();

    let removed = iso.destroy_orphans(std::slice::from_ref(&kept)).unwrap();
    assert!(
        !removed.is_empty() && removed.iter().all(|p| p.ends_with(orphan.as_str())),
        "{removed:?}"
    );
    assert!(
        cgroup_dirs_of(&root, &orphan).is_empty(),
        "orphan cgroups left"
    );
    assert!(
        !cgroup_dirs_of(&root, &kept).is_empty(),
        "a kept container lost its cgroups"
    );
    assert!(
        kept_c.process.try_wait().unwrap().is_none(),
        "a kept container was killed"
    );
    orphan_c.process.wait().unwrap();
    assert_eq!(wait_gone(&[orphan_pid]), Vec::<i32>::new());

    iso.destroy(&mut kept_c).unwrap();
    let _ = iso.destroy(&mut orphan_c);
    assert!(cgroup_dirs_of(&root, &kept).is_empty());
}

/// The agent's shape: one task owns the process and waits for it; a kill arrives from
/// elsewhere through a `ProcessKiller`; cleanup follows the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killer_ends_a_container_that_another_task_waits_for() {
    if !can_run("killer", &["memory"]) {
        return;
    }
    let iso = std::sync::Arc::new(isolation("cgroups/mem,namespaces/pid"));
    let (id, sandbox, cfg, _guard) = test_container("killer", mem_limit(64));
    let container = iso
        .launch(
            &cfg,
            &sh("sleep 100 & setsid sleep 100 & wait", sandbox.path()),
        )
        .unwrap();
    let killer = container.process.killer();
    let waiter = tokio::spawn({
        let iso = std::sync::Arc::clone(&iso);
        async move {
            let mut container = container;
            let status = container.process.wait_async().await.unwrap();
            iso.cleanup(&container.id).unwrap();
            status
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished(), "the container ended before the kill");
    killer.kill().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "{status:?}");
    assert!(
        cgroup_dirs_of("meso", &id).is_empty(),
        "cgroups left after kill and cleanup"
    );
}
