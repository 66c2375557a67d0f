//! Limits enforced on real processes with real cgroups: memory (OOM -> memory limitation),
//! CPU (CFS quota), process count (fork bomb), disk (du watch -> disk limitation).

use std::time::{Duration, Instant};

use meso_isolators::{LimitationKind, Limits};
use meso_testkit::isolator_checks::{
    can_run, cgroup_dirs_of, control_file, isolation_with, mem_limit, sh, test_container,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocating_past_mem_is_killed_with_the_memory_limitation() {
    if !can_run("mem", &["memory"]) {
        return;
    }
    let iso = isolation_with("cgroups/mem,posix/cpu", |_| {});
    let (id, sandbox, cfg, _guard) = test_container("mem", mem_limit(32));
    // `tail` keeps the whole "line" in memory, and /dev/zero has no newline.
    let mut c = iso
        .launch(&cfg, &sh("exec tail /dev/zero", sandbox.path()))
        .unwrap();
    let usage = iso.usage(&id, 1.0).unwrap();
    assert_eq!(usage.mem_limit_bytes, Some(32 << 20));
    let status = c.process.wait_async().await.unwrap();
    assert!(!status.success(), "tail /dev/zero ended with {status:?}");
    let limitation = tokio::time::timeout(Duration::from_secs(30), iso.watch(&id))
        .await
        .expect("the OOM kill is reported");
    assert_eq!(limitation.kind, LimitationKind::Memory);
    assert!(
        limitation.message.contains("32MB"),
        "{}",
        limitation.message
    );
    iso.destroy(&mut c).unwrap();
    assert!(cgroup_dirs_of("meso", &id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_loop_with_half_a_cpu_and_cfs_uses_at_most_about_half_a_core() {
    if !can_run("cfs", &["cpu", "cpuacct"]) {
        return;
    }
    let iso = isolation_with("cgroups/cpu", |c| c.cgroups_enable_cfs = true);
    let (id, sandbox, cfg, _guard) = test_container(
        "cfs",
        Limits {
            cpus: Some(0.5),
            ..Default::default()
        },
    );
    let mut c = iso
        .launch(&cfg, &sh("while :; do :; done", sandbox.path()))
        .unwrap();
    let before = iso.usage(&id, 1.0).unwrap();
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = iso.usage(&id, 1.0).unwrap();
    let wall = start.elapsed().as_secs_f64();
    let cpu = |s: &meso_isolators::ResourceStatistics| {
        s.cpus_user_time_secs.unwrap() + s.cpus_system_time_secs.unwrap()
    };
    let share = (cpu(&after) - cpu(&before)) / wall;
    eprintln!("busy loop used {share:.3} of one core over {wall:.2} s");
    assert!(
        share < 0.55,
        "CFS quota of 0.5 cpus let the loop use {share:.3} of a core"
    );
    assert!(share > 0.0, "the loop did not run at all");
    // Throttling shows only if the loop got more than its quota, which a busy machine may
    // not give it; the quota itself is what the kernel was told.
    assert!(after.cpus_nr_throttled.is_some(), "{after:?}");
    let quota =
        control_file("meso", &id, "cpu.cfs_quota_us").map(|f| std::fs::read_to_string(f).unwrap());
    if let Some(q) = quota {
        assert_eq!(
            q.trim(),
            "50000",
            "CFS quota for 0.5 cpus over a 100 ms period"
        );
    }
    assert_eq!(after.cpus_limit, Some(0.5));
    iso.destroy(&mut c).unwrap();
    assert!(cgroup_dirs_of("meso", &id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_bomb_stays_under_the_pids_limit() {
    if !can_run("pids", &["pids"]) {
        return;
    }
    let iso = isolation_with("cgroups/pids", |c| c.cgroups_pids_max = Some(24));
    let (id, sandbox, cfg, _guard) = test_container("pids", Limits::default());
    let mut c = iso
        .launch(&cfg, &sh("f() { f & f & wait; }; f", sandbox.path()))
        .unwrap();
    let mut most = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let n = iso.usage(&id, 1.0).unwrap().processes.unwrap();
        most = most.max(n);
        assert!(n <= 24, "{n} processes in a container limited to 24");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events = std::fs::read_to_string(
        control_file("meso", &id, "pids.events").expect("the pids cgroup has pids.events"),
    )
    .unwrap_or_default();
    // `max N`: forks the kernel refused because the container was at its limit.
    let refused: u64 = events
        .lines()
        .find_map(|l| l.strip_prefix("max ").and_then(|n| n.trim().parse().ok()))
        .unwrap_or(0);
    eprintln!("at most {most} processes seen; forks refused at the limit: {refused}");
    assert!(
        refused > 0,
        "the bomb never reached the limit (at most {most} seen)"
    );
    iso.destroy(&mut c).unwrap();
    assert!(cgroup_dirs_of("meso", &id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_past_the_disk_limit_gives_the_disk_limitation() {
    if !can_run("disk", &[]) {
        return;
    }
    let iso = isolation_with("disk/du,posix/cpu", |c| {
        c.container_disk_watch_interval = Duration::from_millis(100);
        c.enforce_container_disk_quota = true;
    });
    let (id, sandbox, cfg, _guard) = test_container(
        "disk",
        Limits {
            disk_bytes: Some(1 << 20),
            ..Default::default()
        },
    );
    let mut c = iso
        .launch(
            &cfg,
            &sh(
                "head -c 4000000 /dev/zero > big; exec sleep 60",
                sandbox.path(),
            ),
        )
        .unwrap();
    let limitation = tokio::time::timeout(Duration::from_secs(60), iso.watch(&id))
        .await
        .expect("the disk limitation is reported");
    assert_eq!(limitation.kind, LimitationKind::Disk);
    assert!(
        limitation.message.contains("exceeds quota (1MB"),
        "{}",
        limitation.message
    );
    let usage = iso.usage(&id, 1.0).unwrap();
    assert!(usage.disk_used_bytes.unwrap() > 1 << 20, "{usage:?}");
    assert_eq!(usage.disk_limit_bytes, Some(1 << 20));
    iso.destroy(&mut c).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_over_the_limit_without_enforcement_is_only_measured() {
    let iso = isolation_with("disk/du", |c| {
        c.container_disk_watch_interval = Duration::from_millis(50)
    });
    let (id, sandbox, cfg, _guard) = test_container(
        "disk-measure",
        Limits {
            disk_bytes: Some(1 << 20),
            ..Default::default()
        },
    );
    let mut c = iso
        .launch(&cfg, &sh("head -c 2000000 /dev/zero > big", sandbox.path()))
        .unwrap();
    c.process.wait_async().await.unwrap();
    let watched = tokio::time::timeout(Duration::from_millis(500), iso.watch(&id)).await;
    assert!(
        watched.is_err(),
        "a limitation without enforcement: {watched:?}"
    );
    assert!(iso.usage(&id, 1.0).unwrap().disk_used_bytes.unwrap() > 1 << 20);
    iso.destroy(&mut c).unwrap();
}

/// Removes container `id`'s `cpu` cgroup under the revocable root, however the test ends.
struct RevocableGuard(meso_isolators::ContainerId);

impl Drop for RevocableGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/cpu/meso_revocable/{}", self.0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocable_containers_run_under_the_lowest_weight_sibling_of_the_root() {
    if !can_run("revocable", &["cpu", "cpuacct"]) {
        return;
    }
    if !std::path::Path::new("/sys/fs/cgroup/cpu/cpu.shares").exists() {
        eprintln!("SKIP revocable: cpu is not on cgroups v1 here (v2 is checked on files)");
        return;
    }
    let iso = isolation_with("cgroups/cpu", |_| {});
    let revocable = Limits {
        cpus: Some(1.0),
        revocable: true,
        ..Default::default()
    };
    // Two of them: the second finds the revocable root set up (and idle) already.
    let mut running = Vec::new();
    for test in ["revocable-a", "revocable-b"] {
        let (id, sandbox, cfg, guard) = test_container(test, revocable);
        let c = iso.launch(&cfg, &sh("sleep 100", sandbox.path())).unwrap();
        let cgroups = std::fs::read_to_string(format!("/proc/{}/cgroup", c.process.pid())).unwrap();
        assert!(
            cgroups
                .lines()
                .any(|l| l.ends_with(&format!(":cpu:/meso_revocable/{id}"))),
            "the container's cpu cgroup is under the revocable root:\n{cgroups}"
        );
        let shares = control_file("meso_revocable", &id, "cpu.shares")
            .map(|f| std::fs::read_to_string(f).unwrap());
        assert_eq!(shares.as_deref().map(str::trim), Some("2"));
        running.push((c, id.clone(), sandbox, guard, RevocableGuard(id)));
    }
    let parent =
        |file: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/meso_revocable/{file}"));
    let idle = parent("cpu.idle").is_ok_and(|v| v.trim() == "1");
    let shares = parent("cpu.shares").unwrap();
    // An idle group reports the idle weight as its shares (3); otherwise ours, 2.
    assert!(
        idle || shares.trim() == "2",
        "the revocable root weighs the least: shares {shares}"
    );
    for (i, (mut c, id, _sandbox, _guard, _rg)) in running.into_iter().enumerate() {
        let procs = format!("/sys/fs/cgroup/cpu/meso_revocable/{id}/cgroup.procs");
        if i == 0 {
            // Evacuated before a destroy: killed, and out of the idle group at once (to die
            // at the root's weight rather than wait for CPU).
            iso.evacuate(&id);
            let left = std::fs::read_to_string(&procs).unwrap_or_default();
            assert!(left.trim().is_empty(), "still in the idle group: {left}");
            assert_eq!(
                iso.destroy(&mut c).unwrap(),
                meso_isolators::ExitStatus::Signal(9),
                "evacuate killed the container's process"
            );
        } else {
            iso.destroy(&mut c).unwrap();
        }
        assert!(!std::path::Path::new(&format!("/sys/fs/cgroup/cpu/meso_revocable/{id}")).exists());
    }
}
