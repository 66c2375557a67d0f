//! What runs in the forked child, up to `execve`: the plan prepared before the fork
//! (`ChildPlan`: every C string and descriptor the child needs) and the child's steps
//! (signals, session, cgroups, namespaces and mounts, the pid-namespace init, stdio, exec).
//!
//! Invariant: after the fork nothing here allocates, locks or touches Rust's runtime: only
//! async-signal-safe system calls on memory prepared before the fork, so forking from a
//! multi-threaded agent is sound. A failing step writes `(step index, errno)` on the
//! close-on-exec status pipe (`launch_status.rs`) and `_exit(127)`s. This module reads only
//! the shared vocabulary (`container.rs`, `launch_status.rs`), never the launcher.

use std::ffi::{CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::container::{LaunchPrep, LaunchSpec, CONTAINER_SANDBOX_PATH};
use crate::error::{IsolatorError, Result};
use crate::launch_status::{
    self, STEP_BIND_DEVICE, STEP_BIND_ROOTFS, STEP_BIND_SANDBOX, STEP_CGROUP, STEP_CHDIR,
    STEP_EXEC, STEP_FORK, STEP_PIVOT, STEP_PRIVATE, STEP_PROC, STEP_SETSID, STEP_SIGNALS,
    STEP_STDIO, STEP_UNSHARE, STEP_USER,
};
use crate::launch_status::{STEP_BIND_VOLUME, STEP_VOLUME_READ_ONLY};

/// Device nodes of the host bound into a rootfs's `/dev` (what commands commonly open).
pub(crate) const ROOTFS_DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Everything the child touches, prepared before the fork (no allocation after it).
pub(crate) struct ChildPlan {
    program: CString,
    /// Owns the strings `argv_ptrs` points into; read only through those pointers.
    #[allow(dead_code)]
    argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    /// Owns the strings `envp_ptrs` points into; read only through those pointers.
    #[allow(dead_code)]
    envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    cwd: CString,
    cgroup_procs: Vec<CString>,
    mount_namespace: bool,
    pub(crate) pid_namespace: bool,
    rootfs: Option<CString>,
    sandbox: CString,
    sandbox_target: Option<CString>,
    /// Host device nodes and their mount points inside the rootfs.
    device_binds: Vec<(CString, CString)>,
    /// Persistent volumes: host directory, mount point (reached through the sandbox's
    /// bind in a rootfs), read-only.
    volume_binds: Vec<(CString, CString, bool)>,
    proc_target: CString,
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    /// Drop to this user just before exec.
    user: Option<crate::RunAs>,
}

fn cstring(what: &'static str, value: &OsStr) -> Result<CString> {
    CString::new(value.as_bytes()).map_err(|_| IsolatorError::InvalidLaunchArgument {
        what,
        value: value.to_string_lossy().into_owned(),
    })
}

fn open_output(path: Option<&Path>) -> Result<OwnedFd> {
    let path = path.unwrap_or(Path::new("/dev/null"));
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| IsolatorError::io("open", path, e))?;
    Ok(OwnedFd::from(f))
}

/// Finds `program` in the `PATH` of `env`, looking under `root` when given.
fn resolve_program(
    program: &str,
    env: &[(String, String)],
    root: Option<&Path>,
) -> Result<PathBuf> {
    if program.is_empty() {
        return Err(IsolatorError::InvalidLaunchArgument {
            what: "program",
            value: String::new(),
        });
    }
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path_var = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path_var.split(':').filter(|d| d.starts_with('/')) {
        let candidate = Path::new(dir).join(program);
        let on_host = match root {
            Some(r) => r.join(candidate.strip_prefix("/").unwrap_or(&candidate)),
            None => candidate.clone(),
        };
        if on_host.is_file() {
            return Ok(candidate);
        }
    }
    Err(IsolatorError::InvalidLaunchArgument {
        what: "program (not found in PATH)",
        value: program.to_string(),
    })
}

/// The command's environment then the isolators' (pure): a later entry replaces an earlier
/// one of the same name (C's `getenv` would otherwise return the first).
pub fn merge_env(
    command: &[(String, String)],
    isolators: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in command.iter().chain(isolators) {
        match out.iter_mut().find(|(name, _)| name == k) {
            Some(entry) => entry.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

impl ChildPlan {
    pub(crate) fn new(spec: &LaunchSpec, prep: &LaunchPrep, sandbox: &Path) -> Result<Self> {
        let rootfs = prep.rootfs.as_deref();
        let program = resolve_program(&spec.program, &spec.env, rootfs)?;
        let mut argv = vec![cstring("program", OsStr::new(&spec.program))?];
        for a in &spec.args {
            argv.push(cstring("arg", OsStr::new(a))?);
        }
        let env = merge_env(&spec.env, &prep.env);
        let mut envp = Vec::new();
        for (k, v) in &env {
            if k.is_empty() || k.contains('=') {
                return Err(IsolatorError::InvalidLaunchArgument {
                    what: "env name",
                    value: k.clone(),
                });
            }
            envp.push(cstring("env", OsStr::new(&format!("{k}={v}")))?);
        }
        let default_cwd = if rootfs.is_some() {
            PathBuf::from(CONTAINER_SANDBOX_PATH)
        } else {
            sandbox.to_path_buf()
        };
        let cwd = spec.cwd.clone().unwrap_or(default_cwd);
        let mut sandbox_target = None;
        let mut device_binds = Vec::new();
        let mut proc_target = PathBuf::from("/proc");
        if let Some(root) = rootfs {
            if !root.is_dir() {
                return Err(IsolatorError::InvalidRootfs {
                    path: root.to_path_buf(),
                    reason: "not a directory".into(),
                });
            }
            let target = root.join(CONTAINER_SANDBOX_PATH.trim_start_matches('/'));
            fs::create_dir_all(&target).map_err(|e| IsolatorError::io("mkdir", &target, e))?;
            sandbox_target = Some(cstring("path", target.as_os_str())?);
            let dev = root.join("dev");
            fs::create_dir_all(&dev).map_err(|e| IsolatorError::io("mkdir", &dev, e))?;
            for name in ROOTFS_DEVICES {
                let host = Path::new("/dev").join(name);
                let inside = dev.join(name);
                if !host.exists() {
                    continue;
                }
                if fs::symlink_metadata(&inside).is_err() {
                    File::create(&inside).map_err(|e| IsolatorError::io("create", &inside, e))?;
                }
                device_binds.push((
                    cstring("path", host.as_os_str())?,
                    cstring("path", inside.as_os_str())?,
                ));
            }
            proc_target = root.join("proc");
            if prep.pid_namespace {
                fs::create_dir_all(&proc_target)
                    .map_err(|e| IsolatorError::io("mkdir", &proc_target, e))?;
            }
        }
        let volume_binds = volume_binds(&prep.volumes, sandbox, rootfs)?;
        let stdin =
            File::open("/dev/null").map_err(|e| IsolatorError::io("open", "/dev/null", e))?;
        let argv_ptrs = argv
            .iter()
            .map(|a| a.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        let envp_ptrs = envp
            .iter()
            .map(|a| a.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        Ok(ChildPlan {
            program: cstring("program", program.as_os_str())?,
            argv,
            argv_ptrs,
            envp,
            envp_ptrs,
            cwd: cstring("cwd", cwd.as_os_str())?,
            cgroup_procs: prep
                .cgroup_procs
                .iter()
                .map(|p| cstring("path", p.as_os_str()))
                .collect::<Result<_>>()?,
            mount_namespace: prep.mount_namespace
                || prep.pid_namespace
                || rootfs.is_some()
                || !volume_binds.is_empty(),
            pid_namespace: prep.pid_namespace,
            rootfs: rootfs.map(|r| cstring("path", r.as_os_str())).transpose()?,
            sandbox: cstring("path", sandbox.as_os_str())?,
            sandbox_target,
            device_binds,
            volume_binds,
            proc_target: cstring("path", proc_target.as_os_str())?,
            stdin: OwnedFd::from(stdin),
            stdout: open_output(spec.stdout.as_deref())?,
            stderr: open_output(spec.stderr.as_deref())?,
            user: prep.user.clone(),
        })
    }
}

/// The volumes' binds as the child makes them: each mount point is made in the host's
/// sandbox before the fork (a directory, never a link a task could have planted), and in a
/// rootfs it is reached through the sandbox's bind at [`CONTAINER_SANDBOX_PATH`].
fn volume_binds(
    volumes: &[crate::container::VolumeMount],
    sandbox: &Path,
    rootfs: Option<&Path>,
) -> Result<Vec<(CString, CString, bool)>> {
    let mut binds = Vec::new();
    for volume in volumes {
        volume.validate()?;
        if !volume.source.is_dir() {
            return Err(IsolatorError::InvalidLaunchArgument {
                what: "volume source (not a directory)",
                value: volume.source.display().to_string(),
            });
        }
        let on_host = sandbox.join(&volume.target);
        let mut at = sandbox.to_path_buf();
        for component in volume.target.components() {
            at.push(component);
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_dir() => {}
                Ok(_) => {
                    return Err(IsolatorError::InvalidLaunchArgument {
                        what: "volume target (a part of it is not a directory)",
                        value: at.display().to_string(),
                    })
                }
                Err(_) => fs::create_dir(&at).map_err(|e| IsolatorError::io("mkdir", &at, e))?,
            }
        }
        let target = match rootfs {
            Some(root) => root
                .join(CONTAINER_SANDBOX_PATH.trim_start_matches('/'))
                .join(&volume.target),
            None => on_host,
        };
        binds.push((
            cstring("path", volume.source.as_os_str())?,
            cstring("path", target.as_os_str())?,
            volume.read_only,
        ));
    }
    Ok(binds)
}

/// Reports `(step, errno)` on the pipe and exits; async-signal-safe.
unsafe fn child_fail(pipe: libc::c_int, step: u32, errno: libc::c_int) -> ! {
    let buf = launch_status::encode(step, errno);
    libc::write(pipe, buf.as_ptr().cast(), buf.len());
    libc::_exit(127)
}

unsafe fn last_errno() -> libc::c_int {
    *libc::__errno_location()
}

/// Runs `f` and on a negative return reports `step` and exits.
macro_rules! check {
    ($pipe:expr, $step:expr, $call:expr) => {
        if $call < 0 {
            child_fail($pipe, $step, last_errno());
        }
    };
}

/// The mounts and the root change, done in the new mount namespace. Async-signal-safe.
unsafe fn child_mounts(plan: &ChildPlan, pipe: libc::c_int) {
    let null = std::ptr::null::<libc::c_char>();
    check!(
        pipe,
        STEP_PRIVATE,
        libc::mount(
            null,
            c"/".as_ptr(),
            null,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null()
        )
    );
    if let Some(root) = &plan.rootfs {
        check!(
            pipe,
            STEP_BIND_ROOTFS,
            libc::mount(
                root.as_ptr(),
                root.as_ptr(),
                null,
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null()
            )
        );
        for (host, inside) in &plan.device_binds {
            check!(
                pipe,
                STEP_BIND_DEVICE,
                libc::mount(
                    host.as_ptr(),
                    inside.as_ptr(),
                    null,
                    libc::MS_BIND,
                    std::ptr::null()
                )
            );
        }
        if let Some(target) = &plan.sandbox_target {
            check!(
                pipe,
                STEP_BIND_SANDBOX,
                libc::mount(
                    plan.sandbox.as_ptr(),
                    target.as_ptr(),
                    null,
                    libc::MS_BIND,
                    std::ptr::null()
                )
            );
        }
    }
    for (source, target, read_only) in &plan.volume_binds {
        check!(
            pipe,
            STEP_BIND_VOLUME,
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                null,
                libc::MS_BIND,
                std::ptr::null()
            )
        );
        if *read_only {
            // A bind takes its flags only from a remount of the bind itself.
            check!(
                pipe,
                STEP_VOLUME_READ_ONLY,
                libc::mount(
                    null,
                    target.as_ptr(),
                    null,
                    libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                    std::ptr::null()
                )
            );
        }
    }
    if plan.pid_namespace {
        check!(
            pipe,
            STEP_PROC,
            libc::mount(
                c"proc".as_ptr(),
                plan.proc_target.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null()
            )
        );
    }
    if let Some(root) = &plan.rootfs {
        check!(pipe, STEP_PIVOT, libc::chdir(root.as_ptr()));
        // pivot_root(".", ".") stacks the old root on the new one; detaching "." then
        // drops the old root, leaving only the rootfs visible.
        check!(
            pipe,
            STEP_PIVOT,
            libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) as libc::c_int
        );
        check!(
            pipe,
            STEP_PIVOT,
            libc::umount2(c".".as_ptr(), libc::MNT_DETACH)
        );
        check!(pipe, STEP_PIVOT, libc::chdir(c"/".as_ptr()));
    }
}

/// The command's last steps: stdio, cwd, fds, exec. Async-signal-safe; never returns.
unsafe fn child_exec(plan: &ChildPlan, pipe: libc::c_int) -> ! {
    check!(pipe, STEP_STDIO, libc::dup2(plan.stdin.as_raw_fd(), 0));
    check!(pipe, STEP_STDIO, libc::dup2(plan.stdout.as_raw_fd(), 1));
    check!(pipe, STEP_STDIO, libc::dup2(plan.stderr.as_raw_fd(), 2));
    if let Some(user) = &plan.user {
        if let Err(errno) = user.apply() {
            child_fail(pipe, STEP_USER, errno);
        }
    }
    check!(pipe, STEP_CHDIR, libc::chdir(plan.cwd.as_ptr()));
    // No agent descriptor leaks into the command.
    libc::syscall(
        libc::SYS_close_range,
        3u32,
        u32::MAX,
        libc::CLOSE_RANGE_CLOEXEC,
    );
    libc::execve(
        plan.program.as_ptr(),
        plan.argv_ptrs.as_ptr(),
        plan.envp_ptrs.as_ptr(),
    );
    child_fail(pipe, STEP_EXEC, last_errno())
}

/// The init of a new pid namespace: reaps every child (orphans are re-parented to it) and
/// exits with the command's status as soon as the command exits; the kernel then kills
/// whatever else is left in the namespace, so the container ends with its command.
/// Async-signal-safe; never returns.
unsafe fn child_init(command: libc::pid_t) -> ! {
    libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
    loop {
        let mut status = 0;
        let pid = libc::waitpid(-1, &mut status, 0);
        if pid < 0 {
            if last_errno() == libc::EINTR {
                continue;
            }
            // ECHILD: the command is gone without our seeing it (cannot happen); end.
            libc::_exit(127);
        }
        if pid == command {
            libc::_exit(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            });
        }
    }
}

/// The forked child, up to exec. Async-signal-safe; never returns.
pub(crate) unsafe fn child_main(plan: &ChildPlan, pipe: libc::c_int) -> ! {
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    check!(
        pipe,
        STEP_SIGNALS,
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut())
    );
    // Every disposition back to the default: the agent's handlers must not run in the init
    // (which never execs), and Rust ignores SIGPIPE where commands expect the default.
    // Failures (SIGKILL, SIGSTOP, signals the C library reserves) change nothing.
    for sig in 1..libc::SIGRTMAX() {
        libc::signal(sig, libc::SIG_DFL);
    }
    check!(pipe, STEP_SETSID, libc::setsid());
    for procs in &plan.cgroup_procs {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        check!(pipe, STEP_CGROUP, fd);
        // "0" moves the writer itself.
        let n = libc::write(fd, c"0".as_ptr().cast(), 1);
        if n < 0 {
            child_fail(pipe, STEP_CGROUP, last_errno());
        }
        libc::close(fd);
    }
    if plan.mount_namespace && !plan.pid_namespace {
        // With a pid namespace, clone() already made the mount namespace.
        check!(pipe, STEP_UNSHARE, libc::unshare(libc::CLONE_NEWNS));
    }
    if plan.mount_namespace {
        child_mounts(plan, pipe);
    }
    if plan.pid_namespace {
        // A raw clone, not glibc's fork: this process was itself made by a raw clone, so the
        // C library's internal locks (malloc's among them) may be copies of locks another
        // agent thread held; glibc's fork would take them and could hang forever.
        let command = libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        ) as libc::pid_t;
        if command < 0 {
            child_fail(pipe, STEP_FORK, last_errno());
        }
        if command == 0 {
            child_exec(plan, pipe);
        }
        child_init(command);
    }
    child_exec(plan, pipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_env_entries_replace_earlier_ones() {
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        let env = merge_env(
            &[kv("A", "1"), kv("MESOS_SANDBOX", "/host"), kv("A", "2")],
            &[kv("MESOS_SANDBOX", "/mnt/mesos/sandbox")],
        );
        assert_eq!(
            env,
            vec![kv("A", "2"), kv("MESOS_SANDBOX", "/mnt/mesos/sandbox")]
        );
    }

    #[test]
    fn program_lookup_uses_path_of_the_env() {
        let env = vec![("PATH".to_string(), "/nonexistent:/bin:/usr/bin".to_string())];
        assert!(resolve_program("sh", &env, None).unwrap().ends_with("sh"));
        let err = resolve_program("no-such-program-xyz", &env, None).unwrap_err();
        assert!(err.to_string().contains("no-such-program-xyz"), "{err}");
        assert!(resolve_program("", &env, None).is_err());
    }

    #[test]
    fn nul_in_argument_is_a_typed_error() {
        let spec = LaunchSpec {
            program: "/bin/true".into(),
            args: vec!["a\0b".into()],
            ..Default::default()
        };
        let err = ChildPlan::new(&spec, &LaunchPrep::default(), Path::new("/tmp"))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("invalid launch argument arg"),
            "{err}"
        );
    }
}
