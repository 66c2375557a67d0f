//! The cgroup v2 control-file formats of `cgroups/cpu`, `cgroups/mem` and `cgroups/pids`,
//! checked against a directory that stands in for a unified hierarchy (this machine binds
//! cpu, memory and pids to v1, so the real v2 files cannot be written here; the v2 join,
//! kill and removal are tested for real on `/sys/fs/cgroup/unified` in `tests/cleanup.rs`).

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::cgroup_table::CgroupsOptions;
use crate::cgroupfs::{CgroupLayout, CgroupMode, CgroupMount, CgroupVersion};
use crate::cgroups_cpu::CgroupsCpu;
use crate::cgroups_mem::CgroupsMem;
use crate::cgroups_pids::CgroupsPids;
use crate::container::{ContainerConfig, ContainerId, LimitationKind, Limits};
use crate::isolator::Isolator;

fn fake_unified(dir: &Path) -> Option<CgroupsOptions> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: the cgroup isolators refuse to start without root");
        return None;
    }
    fs::write(dir.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
    Some(CgroupsOptions {
        root: "meso".into(),
        mode: CgroupMode::V2,
        layout: CgroupLayout {
            mounts: vec![CgroupMount {
                version: CgroupVersion::V2,
                mount_point: dir.to_path_buf(),
                controllers: Vec::new(),
            }],
        },
    })
}

fn config(id: &str, limits: Limits) -> ContainerConfig {
    ContainerConfig {
        id: ContainerId::new(id).unwrap(),
        sandbox: "/tmp".into(),
        limits,
        rootfs: None,
    }
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p).unwrap()
}

#[test]
fn cpu_writes_weight_and_max_and_reads_cpu_stat() {
    let dir = tempfile::tempdir().unwrap();
    let Some(options) = fake_unified(dir.path()) else {
        return;
    };
    let cpu = CgroupsCpu::new(options, true).unwrap();
    let cfg = config(
        "c1",
        Limits {
            cpus: Some(0.5),
            ..Default::default()
        },
    );
    let prep = cpu.prepare(&cfg).unwrap();
    let cg = dir.path().join("meso/c1");
    assert_eq!(prep.cgroup_procs, vec![cg.join("cgroup.procs")]);
    assert_eq!(read(dir.path().join("meso/cgroup.subtree_control")), "+cpu");
    assert_eq!(read(cg.join("cpu.weight")), "20");
    assert_eq!(read(cg.join("cpu.max")), "50000 100000");
    fs::write(
        cg.join("cpu.stat"),
        "usage_usec 3000000\nuser_usec 2500000\nsystem_usec 500000\nnr_periods 9\nnr_throttled 4\n",
    )
    .unwrap();
    let u = cpu.usage(&cfg.id, 1.0).unwrap();
    assert_eq!(
        (u.cpus_user_time_secs, u.cpus_system_time_secs),
        (Some(2.5), Some(0.5))
    );
    assert_eq!((u.cpus_nr_throttled, u.cpus_limit), (Some(4), Some(0.5)));
    cpu.update(
        &cfg.id,
        &Limits {
            cpus: Some(2.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(read(cg.join("cpu.max")), "200000 100000");
    assert_eq!(read(cg.join("cpu.weight")), "79");
}

#[tokio::test]
async fn mem_writes_max_and_reports_oom_from_memory_events() {
    let dir = tempfile::tempdir().unwrap();
    let Some(options) = fake_unified(dir.path()) else {
        return;
    };
    let mem = CgroupsMem::new(options, Duration::from_millis(10)).unwrap();
    let cfg = config(
        "m1",
        Limits {
            mem_bytes: Some(32 << 20),
            ..Default::default()
        },
    );
    mem.prepare(&cfg).unwrap();
    let cg = dir.path().join("meso/m1");
    assert_eq!(read(cg.join("memory.max")), (32u64 << 20).to_string());
    fs::write(cg.join("memory.stat"), "anon 1048576\nfile 4096\n").unwrap();
    let u = mem.usage(&cfg.id, 1.0).unwrap();
    assert_eq!(
        (u.mem_rss_bytes, u.mem_limit_bytes),
        (Some(1 << 20), Some(32 << 20))
    );

    fs::write(
        cg.join("memory.events"),
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n",
    )
    .unwrap();
    let watch = mem.watch(&cfg.id);
    tokio::pin!(watch);
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut watch)
            .await
            .is_err(),
        "no OOM kill yet"
    );
    fs::write(
        cg.join("memory.events"),
        "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n",
    )
    .unwrap();
    fs::write(cg.join("memory.peak"), (32u64 << 20).to_string()).unwrap();
    let l = tokio::time::timeout(Duration::from_secs(10), watch)
        .await
        .unwrap();
    assert_eq!(l.kind, LimitationKind::Memory);
    assert!(
        l.message.contains("Requested: 32MB") && l.message.contains("Maximum Used: 32MB"),
        "{}",
        l.message
    );
}

#[test]
fn pids_writes_max_and_reads_current() {
    let dir = tempfile::tempdir().unwrap();
    let Some(options) = fake_unified(dir.path()) else {
        return;
    };
    let pids = CgroupsPids::new(options, Some(100)).unwrap();
    let cfg = config("p1", Limits::default());
    pids.prepare(&cfg).unwrap();
    let cg = dir.path().join("meso/p1");
    assert_eq!(read(cg.join("pids.max")), "100");
    fs::write(cg.join("pids.current"), "7\n").unwrap();
    assert_eq!(pids.usage(&cfg.id, 1.0).unwrap().processes, Some(7));
}

#[test]
fn v2_mode_without_the_controller_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let Some(options) = fake_unified(dir.path()) else {
        return;
    };
    fs::write(dir.path().join("cgroup.controllers"), "cpu\n").unwrap();
    let err = CgroupsMem::new(options, Duration::from_millis(10))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cgroups/mem is unavailable") && err.contains("[\"cpu\"]"),
        "{err}"
    );
}

#[test]
fn a_revocable_cpu_cgroup_sits_under_the_lowest_weight_revocable_root() {
    let dir = tempfile::tempdir().unwrap();
    let Some(options) = fake_unified(dir.path()) else {
        return;
    };
    let cpu = CgroupsCpu::new(options, true).unwrap();
    let limits = Limits {
        cpus: Some(1.0),
        revocable: true,
        ..Default::default()
    };
    let cfg = config("r1", limits);
    let prep = cpu.prepare(&cfg).unwrap();
    let cg = dir.path().join("meso_revocable/r1");
    assert_eq!(prep.cgroup_procs, vec![cg.join("cgroup.procs")]);
    assert!(!dir.path().join("meso/r1").exists());
    // The parent, a sibling of the cgroups root, weighs the least against the host's
    // processes; so does the container among its siblings.
    assert_eq!(read(dir.path().join("meso_revocable/cpu.weight")), "1");
    assert_eq!(read(cg.join("cpu.weight")), "1");
    assert_eq!(read(cg.join("cpu.max")), "100000 100000");

    // A second agent finds it again under the revocable root.
    let second = CgroupsCpu::new(fake_unified(dir.path()).unwrap(), true).unwrap();
    second.recover(&cfg, nix::unistd::Pid::this()).unwrap();
    fs::write(cg.join("cpu.stat"), "user_usec 1000000\nsystem_usec 0\n").unwrap();
    let u = second.usage(&cfg.id, 1.0).unwrap();
    assert_eq!(u.cpus_user_time_secs, Some(1.0));
}
