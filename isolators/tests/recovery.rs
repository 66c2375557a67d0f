//! Agent restart: a new `Isolation` takes back a running container by its config and pid,
//! reports its usage and limits, and destroys it completely; a container whose cgroups are
//! gone cannot be recovered and is destroyed with a clear error.

use std::time::Duration;

use meso_isolators::{ExitStatus, Isolation, Limits};
use meso_testkit::isolator_checks::{
    can_run, cgroup_dirs_of, mem_limit, sh, test_container, wait_gone,
};

const ISOLATION: &str = "cgroups/cpu,cgroups/mem,posix/mem,disk/du,namespaces/pid";

fn isolation() -> Isolation {
    meso_testkit::isolator_checks::isolation(ISOLATION)
}

#[test]
fn a_restarted_agent_recovers_and_destroys_a_running_container() {
    if !can_run("recover", &["cpu", "cpuacct", "memory"]) {
        return;
    }
    let limits = Limits {
        cpus: Some(0.25),
        mem_bytes: Some(48 << 20),
        disk_bytes: Some(10 << 20),
        revocable: false,
    };
    let (id, sandbox, cfg, _guard) = test_container("recover", limits);
    let pid = {
        // The first agent launches, then goes away without destroying anything.
        let first = isolation();
        let c = first
            .launch(&cfg, &sh("sleep 100 & exec sleep 100", sandbox.path()))
            .unwrap();
        c.process.pid()
    };
    let dirs_before = cgroup_dirs_of("meso", &id);
    assert!(!dirs_before.is_empty());

    let second = isolation();
    let mut c = second.recover(&cfg, pid).unwrap();
    assert_eq!(
        c.process.try_wait().unwrap(),
        None,
        "the recovered container is running"
    );
    let usage = second.usage(&id, 1.0).unwrap();
    assert_eq!(usage.cpus_limit, Some(0.25));
    assert_eq!(usage.mem_limit_bytes, Some(48 << 20));
    assert_eq!(usage.disk_limit_bytes, Some(10 << 20));
    let tracked: Vec<i32> = dirs_before
        .iter()
        .flat_map(|d| meso_testkit::isolator_checks::procs(&d.join("cgroup.procs")))
        .collect();

    assert_eq!(second.destroy(&mut c).unwrap(), ExitStatus::Unknown);
    // The test process is the real parent here: reap the first process.
    let _ = nix::sys::wait::waitpid(pid, None);
    assert!(
        cgroup_dirs_of("meso", &id).is_empty(),
        "cgroups left after destroying a recovered container"
    );
    assert_eq!(wait_gone(&tracked), Vec::<i32>::new(), "processes left");
}

#[test]
fn a_container_whose_cgroups_are_gone_is_not_recovered() {
    if !can_run("recover-gone", &["cpu", "cpuacct", "memory"]) {
        return;
    }
    let (id, sandbox, cfg, _guard) = test_container("recover-gone", mem_limit(32));
    let pid = {
        let first = isolation();
        let c = first
            .launch(&cfg, &sh("exec sleep 100", sandbox.path()))
            .unwrap();
        c.process.pid()
    };
    // Someone removed the memory cgroup (after moving the process out so rmdir succeeds).
    let mem = cgroup_dirs_of("meso", &id)
        .into_iter()
        .find(|d| d.join("memory.limit_in_bytes").exists() || d.join("memory.max").exists())
        .expect("a memory cgroup");
    let root_procs = mem.parent().unwrap().parent().unwrap().join("cgroup.procs");
    // (The pid namespace's init and the command both; retry while the move settles.)
    for _ in 0..500 {
        for p in meso_testkit::isolator_checks::procs(&mem.join("cgroup.procs")) {
            let _ = std::fs::write(&root_procs, p.to_string());
        }
        if std::fs::remove_dir(&mem).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !mem.exists(),
        "could not remove the memory cgroup for the test"
    );

    let second = isolation();
    let err = second.recover(&cfg, pid).unwrap_err().to_string();
    assert!(
        err.contains("cannot recover container") && err.contains("cgroups/mem"),
        "{err}"
    );
    let _ = nix::sys::wait::waitpid(pid, None);
    assert!(
        cgroup_dirs_of("meso", &id).is_empty(),
        "an unrecoverable container left cgroups"
    );
    assert_eq!(wait_gone(&[pid.as_raw()]), Vec::<i32>::new());
}
