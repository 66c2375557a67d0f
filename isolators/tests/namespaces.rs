//! Namespaces and root filesystems on real processes: a pid namespace with its own init and
//! `/proc`, and a rootfs (directory or tarball) that shows only itself and the sandbox.

use std::fs;
use std::path::Path;
use std::process::Command;

use meso_isolators::{Container, ContainerConfig, ExitStatus, Isolation, Limits, RootfsSource};
use meso_testkit::isolator_checks::{can_run, config, isolation, sh, test_container, unique_id};

#[test]
fn a_process_in_a_pid_namespace_is_a_child_of_pid_1() {
    if !can_run("pidns", &[]) {
        return;
    }
    let iso = isolation("namespaces/pid,posix/cpu");
    let (_, sandbox, cfg, _guard) = test_container("pidns", Limits::default());
    let script = "echo \"$$ $PPID\"; echo /proc/[0-9]*; sleep 0.2 & sleep 0.1 & wait";
    let mut c = iso.launch(&cfg, &sh(script, sandbox.path())).unwrap();
    assert_eq!(c.process.wait().unwrap(), ExitStatus::Code(0));
    let out = fs::read_to_string(sandbox.path().join("stdout")).unwrap();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("2 1"),
        "pid and parent inside the namespace; stdout {out:?}"
    );
    assert_eq!(
        lines.next(),
        Some("/proc/1 /proc/2"),
        "the remounted /proc; stdout {out:?}"
    );
    iso.destroy(&mut c).unwrap();
}

#[test]
fn the_init_reaps_orphans_and_the_namespace_ends_with_the_command() {
    if !can_run("pidns-orphans", &[]) {
        return;
    }
    let iso = isolation("namespaces/pid");
    let id = unique_id("pidns-orphans");
    let (sandbox, cfg) = config(&id, Limits::default());
    // An orphan that exits soon (it must be reaped, not left a zombie) and one that would
    // outlive the command (it must die with the namespace).
    let script = "(sleep 0.1 &); (exec sleep 100 &); sleep 0.6; echo /proc/[0-9]*; exit 3";
    let mut c = iso.launch(&cfg, &sh(script, sandbox.path())).unwrap();
    let host_pid = c.process.pid().as_raw();
    assert_eq!(c.process.wait().unwrap(), ExitStatus::Code(3));
    let out = fs::read_to_string(sandbox.path().join("stdout")).unwrap();
    let listed: Vec<&str> = out.split_whitespace().collect();
    // init, the shell, and the long sleep; the short one was reaped.
    assert_eq!(listed.len(), 3, "processes seen in the namespace: {out:?}");
    assert!(listed.starts_with(&["/proc/1", "/proc/2"]), "{out:?}");
    // Before any destroy: the long sleep died with the namespace when the init exited.
    if let Some(tracking) = c.process.tracking_cgroup() {
        let procs = tracking.join("cgroup.procs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !meso_testkit::isolator_checks::procs(&procs).is_empty()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            meso_testkit::isolator_checks::procs(&procs),
            Vec::<i32>::new(),
            "processes outlived the namespace's init"
        );
    }
    iso.destroy(&mut c).unwrap();
    assert!(meso_testkit::isolator_checks::wait_gone(&[host_pid]).is_empty());
}

#[test]
fn the_pid_namespace_init_passes_on_the_exit_code() {
    if !can_run("pidns-exit", &[]) {
        return;
    }
    let iso = isolation("namespaces/pid");
    let (_, sandbox, cfg, _guard) = test_container("pidns-exit", Limits::default());
    let mut c = iso.launch(&cfg, &sh("exit 7", sandbox.path())).unwrap();
    assert_eq!(c.process.wait().unwrap(), ExitStatus::Code(7));
    iso.destroy(&mut c).unwrap();
}

/// Copies `/bin/sh` (resolved) and the libraries `ldd` names into `root`.
fn tiny_rootfs(root: &Path) {
    let sh = fs::canonicalize("/bin/sh").expect("/bin/sh exists");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::copy(&sh, root.join("bin/sh")).unwrap();
    let ldd = Command::new("ldd").arg(&sh).output().expect("ldd runs");
    let text = String::from_utf8_lossy(&ldd.stdout);
    for lib in text.split_whitespace().filter(|w| w.starts_with('/')) {
        let target = root.join(lib.trim_start_matches('/'));
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(lib, &target).unwrap();
    }
}

const ROOTFS_SCRIPT: &str = "echo /*; echo \"$MESOS_SANDBOX\"; read line < \"$MESOS_SANDBOX/hello.txt\"; echo \"$line\"; echo $(pwd); echo gone > /dev/null && echo dev-null-works";

/// Runs [`ROOTFS_SCRIPT`] in `cfg`'s container with `env` (after putting `hello.txt` in the
/// sandbox), checks it exits 0 and prints what a rootfs container must see (`extra_top`:
/// what `/` shows past the rootfs's own directories), and returns the container.
fn run_rootfs_script(
    iso: &Isolation,
    cfg: &ContainerConfig,
    sandbox: &Path,
    env: Vec<(String, String)>,
    extra_top: &str,
) -> Container {
    fs::write(sandbox.join("hello.txt"), "hello from the host\n").unwrap();
    let mut spec = sh(ROOTFS_SCRIPT, sandbox);
    spec.env = env;
    let mut c = iso.launch(cfg, &spec).unwrap();
    assert_eq!(
        c.process.wait().unwrap(),
        ExitStatus::Code(0),
        "stderr: {:?}",
        fs::read_to_string(sandbox.join("stderr"))
    );
    check_rootfs_output(
        &fs::read_to_string(sandbox.join("stdout")).unwrap(),
        extra_top,
    );
    c
}

fn check_rootfs_output(out: &str, extra_top: &str) {
    let mut lines = out.lines();
    let top = lines.next().unwrap_or_default();
    assert!(
        top == format!("/bin /dev /lib /lib64 /mnt{extra_top}")
            || top == format!("/bin /dev /lib /mnt{extra_top}"),
        "the container's / shows more than the rootfs: {top:?}"
    );
    assert_eq!(lines.next(), Some("/mnt/mesos/sandbox"));
    assert_eq!(lines.next(), Some("hello from the host"));
    assert_eq!(lines.next(), Some("/mnt/mesos/sandbox"));
    assert_eq!(lines.next(), Some("dev-null-works"));
}

#[test]
fn a_process_in_a_rootfs_sees_only_the_rootfs_and_its_sandbox() {
    if !can_run("rootfs", &[]) {
        return;
    }
    let iso = isolation("filesystem/rootfs,namespaces/pid");
    let (_, sandbox, mut cfg, _guard) = test_container("rootfs", Limits::default());
    let root = tempfile::tempdir().unwrap();
    tiny_rootfs(root.path());
    cfg.rootfs = Some(RootfsSource::Directory(root.path().to_path_buf()));
    let mut c = run_rootfs_script(&iso, &cfg, sandbox.path(), vec![], " /proc");
    iso.destroy(&mut c).unwrap();
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(root.path().to_str().unwrap()),
        "a rootfs mount leaked into the host's mount table"
    );
}

#[test]
fn a_rootfs_tarball_in_the_sandbox_is_unpacked_and_entered() {
    if !can_run("rootfs-tar", &[]) {
        return;
    }
    let iso = isolation("filesystem/rootfs");
    let (_, sandbox, mut cfg, _guard) = test_container("rootfs-tar", Limits::default());
    let root = tempfile::tempdir().unwrap();
    tiny_rootfs(root.path());
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(sandbox.path().join("image.tar.gz"))
        .arg("-C")
        .arg(root.path())
        .arg(".")
        .status()
        .unwrap();
    assert!(tar.success());
    cfg.rootfs = Some(RootfsSource::Tarball("image.tar.gz".into()));
    // The isolator's MESOS_SANDBOX replaces the one the command brought.
    let sandbox_env = vec![("MESOS_SANDBOX".into(), "/host/sandbox".into())];
    let mut c = run_rootfs_script(&iso, &cfg, sandbox.path(), sandbox_env, "");
    iso.destroy(&mut c).unwrap();
}

#[test]
fn a_missing_rootfs_tarball_is_a_clear_error() {
    if !can_run("rootfs-missing", &[]) {
        return;
    }
    let iso = isolation("filesystem/rootfs");
    let (_, sandbox, mut cfg, _guard) = test_container("rootfs-missing", Limits::default());
    cfg.rootfs = Some(RootfsSource::Tarball("nope.tar".into()));
    let err = iso
        .launch(&cfg, &sh("true", sandbox.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope.tar") && err.contains("no such file"),
        "{err}"
    );
}
