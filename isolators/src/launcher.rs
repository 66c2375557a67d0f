//! The launcher: starts a container's first process with what the isolators asked for in
//! their [`LaunchPrep`]: its own session and process group, membership of the container's
//! cgroups, optionally a new pid namespace under a small reaping init with `/proc`
//! remounted, optionally a new root filesystem entered with `pivot_root` and the sandbox
//! bind-mounted at [`CONTAINER_SANDBOX_PATH`].
//!
//! How: everything the child needs (C strings, file descriptors) is prepared before the
//! fork; after the fork the child only makes system calls (`setsid`, `open`/`write` of
//! `cgroup.procs`, `mount`, `pivot_root`, `dup2`, `execve`, ...), which are
//! async-signal-safe, so forking from a multi-threaded agent is sound. A close-on-exec pipe
//! carries `(step, errno)` back when a step fails; end-of-file means `execve` succeeded.
//!
//! With a pid namespace the child is made with `clone(CLONE_NEWPID | CLONE_NEWNS)`: it is
//! pid 1 (the init) of the new namespace, does the mounts, forks the command (pid 2), and
//! then only reaps children until the command has exited and no child is left, exiting with
//! the command's status (128 + signal when it was killed). When the init dies, the kernel
//! kills everything else in the namespace, so the namespace never outlives its init.
//!
//! Invariant: every mount the launcher makes is inside the child's own private mount
//! namespace, so it disappears with the container's last process; nothing is mounted in the
//! host's namespace.

use std::ffi::{CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::cgroupfs::{CgroupDir, CgroupLayout};
use crate::container::{ContainerId, LaunchPrep, CONTAINER_SANDBOX_PATH};
use crate::error::{IsolatorError, Result};
use crate::tracking::{destroy_tracked, ProcessTracking};

/// What to run: the command and its stdio. `program` and `cwd` are paths as the command
/// will see them (inside the rootfs when there is one); `stdout`/`stderr` are host paths.
#[derive(Debug, Clone, Default)]
pub struct LaunchSpec {
    /// The program; a name without `/` is looked up in the `PATH` of `env` (inside the
    /// rootfs when there is one).
    pub program: String,
    /// Arguments after argv\[0\] (argv\[0\] is `program`).
    pub args: Vec<String>,
    /// The whole environment of the command (nothing is inherited from the agent).
    pub env: Vec<(String, String)>,
    /// Working directory; defaults to the sandbox (or [`CONTAINER_SANDBOX_PATH`] in a rootfs).
    pub cwd: Option<PathBuf>,
    /// File that receives stdout (created or appended); `/dev/null` when `None`.
    pub stdout: Option<PathBuf>,
    /// File that receives stderr (created or appended); `/dev/null` when `None`.
    pub stderr: Option<PathBuf>,
}

/// The child's setup steps, in order; an index into this travels back on failure.
const STEPS: &[&str] = &[
    "reset signals",
    "setsid",
    "join cgroup",
    "unshare mount namespace",
    "make mounts private",
    "bind rootfs",
    "bind sandbox",
    "mount /proc",
    "pivot_root",
    "fork command in pid namespace",
    "dup2 stdio",
    "chdir",
    "exec",
];
const STEP_SIGNALS: u32 = 0;
const STEP_SETSID: u32 = 1;
const STEP_CGROUP: u32 = 2;
const STEP_UNSHARE: u32 = 3;
const STEP_PRIVATE: u32 = 4;
const STEP_BIND_ROOTFS: u32 = 5;
const STEP_BIND_SANDBOX: u32 = 6;
const STEP_PROC: u32 = 7;
const STEP_PIVOT: u32 = 8;
const STEP_FORK: u32 = 9;
const STEP_STDIO: u32 = 10;
const STEP_CHDIR: u32 = 11;
const STEP_EXEC: u32 = 12;

/// Everything the child touches, prepared before the fork (no allocation after it).
struct ChildPlan {
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
    pid_namespace: bool,
    rootfs: Option<CString>,
    sandbox: CString,
    sandbox_target: Option<CString>,
    proc_target: CString,
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
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
    fn new(spec: &LaunchSpec, prep: &LaunchPrep, sandbox: &Path) -> Result<Self> {
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
            proc_target = root.join("proc");
            if prep.pid_namespace {
                fs::create_dir_all(&proc_target)
                    .map_err(|e| IsolatorError::io("mkdir", &proc_target, e))?;
            }
        }
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
            mount_namespace: prep.mount_namespace || prep.pid_namespace || rootfs.is_some(),
            pid_namespace: prep.pid_namespace,
            rootfs: rootfs.map(|r| cstring("path", r.as_os_str())).transpose()?,
            sandbox: cstring("path", sandbox.as_os_str())?,
            sandbox_target,
            proc_target: cstring("path", proc_target.as_os_str())?,
            stdin: OwnedFd::from(stdin),
            stdout: open_output(spec.stdout.as_deref())?,
            stderr: open_output(spec.stderr.as_deref())?,
        })
    }
}

/// Reports `(step, errno)` on the pipe and exits; async-signal-safe.
unsafe fn child_fail(pipe: libc::c_int, step: u32, errno: libc::c_int) -> ! {
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&step.to_ne_bytes());
    buf[4..].copy_from_slice(&errno.to_ne_bytes());
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

/// The init of a new pid namespace: reaps every child; exits with the command's status once
/// the command has exited and no child is left. Async-signal-safe; never returns.
unsafe fn child_init(command: libc::pid_t) -> ! {
    libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
    let mut code = 0;
    loop {
        let mut status = 0;
        let pid = libc::waitpid(-1, &mut status, 0);
        if pid < 0 {
            if last_errno() == libc::EINTR {
                continue;
            }
            libc::_exit(code);
        }
        if pid == command {
            code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
        }
    }
}

/// The forked child, up to exec. Async-signal-safe; never returns.
unsafe fn child_main(plan: &ChildPlan, pipe: libc::c_int) -> ! {
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
        let command = libc::fork();
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

/// A launched container's first process (its init when in a pid namespace), seen from the
/// host. The caller must `wait` for it (or `destroy` it) so it is reaped.
#[derive(Debug)]
pub struct ContainerProcess {
    pid: Pid,
    exit: Option<ExitStatus>,
    tracking: Option<CgroupDir>,
}

/// How the container's first process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited with this code (an init reports 128 + signal for a killed command).
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl ExitStatus {
    /// True for `Code(0)`.
    pub fn success(&self) -> bool {
        *self == ExitStatus::Code(0)
    }
}

impl ContainerProcess {
    /// The pid on the host (also the process group and session id).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Blocks until the process exits, and reaps it.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(e) = self.exit {
            return Ok(e);
        }
        loop {
            match waitpid(self.pid, None) {
                Ok(WaitStatus::Exited(_, code)) => {
                    self.exit = Some(ExitStatus::Code(code));
                    return Ok(ExitStatus::Code(code));
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    self.exit = Some(ExitStatus::Signal(sig as i32));
                    return Ok(ExitStatus::Signal(sig as i32));
                }
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(IsolatorError::Sys {
                        call: "waitpid",
                        errno,
                    })
                }
            }
        }
    }

    /// Waits without blocking a thread: a pidfd becomes readable when the process exits
    /// (needs a tokio runtime with I/O enabled), then the process is reaped.
    pub async fn wait_async(&mut self) -> Result<ExitStatus> {
        if let Some(e) = self.exit {
            return Ok(e);
        }
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid.as_raw(), 0) };
        if fd < 0 {
            return Err(IsolatorError::Sys {
                call: "pidfd_open",
                errno: Errno::last(),
            });
        }
        // SAFETY: the descriptor was just returned to us and is owned by nothing else.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as libc::c_int) };
        // SAFETY: the AsyncFd owns the pidfd; nothing else closes or reuses it while registered.
        let async_fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
        }
        .map_err(|e| {
            IsolatorError::io("register pidfd of", format!("pid {}", self.pid), e.into())
        })?;
        let guard = async_fd
            .readable()
            .await
            .map_err(|e| IsolatorError::io("poll pidfd of", format!("pid {}", self.pid), e))?;
        drop(guard);
        self.wait()
    }

    /// Reaps the process if it has exited, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if self.exit.is_some() {
            return Ok(self.exit);
        }
        match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => self.exit = Some(ExitStatus::Code(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => self.exit = Some(ExitStatus::Signal(sig as i32)),
            Ok(_) => {}
            Err(errno) => {
                return Err(IsolatorError::Sys {
                    call: "waitpid",
                    errno,
                })
            }
        }
        Ok(self.exit)
    }

    /// SIGKILLs the process group (with a pid namespace, killing the init ends the whole
    /// namespace) and every process in the tracking cgroup, reaps the first process and
    /// removes the tracking cgroup. Without a tracking cgroup, processes that left the group
    /// are the cgroup isolators' to kill in their cleanup.
    pub fn destroy(&mut self) -> Result<ExitStatus> {
        if self.exit.is_none() {
            match killpg(self.pid, Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(errno) => {
                    return Err(IsolatorError::Sys {
                        call: "killpg",
                        errno,
                    })
                }
            }
        }
        let tracked = match &self.tracking {
            Some(dir) => destroy_tracked(dir),
            None => Ok(()),
        };
        let status = self.wait()?;
        tracked?;
        self.tracking = None;
        Ok(status)
    }

    /// The tracking cgroup, if the launcher made one.
    pub fn tracking_cgroup(&self) -> Option<&Path> {
        self.tracking.as_ref().map(|d| d.path.as_path())
    }
}

/// Starts container processes. `Launcher::default()` tracks a container by its process
/// group only; [`Launcher::with_tracking`] also puts it in a tracking cgroup so destroy
/// reaches every process it started.
#[derive(Debug, Clone, Default)]
pub struct Launcher {
    tracking: Option<ProcessTracking>,
}

impl Launcher {
    /// A launcher that tracks containers with cgroups under `root` where it can (root, and
    /// a freezer or unified hierarchy mounted), else by process group only.
    pub fn with_tracking(root: &str, layout: &CgroupLayout) -> Self {
        Launcher {
            tracking: ProcessTracking::detect(root, layout),
        }
    }

    /// True when containers are tracked by a cgroup.
    pub fn tracks_with_cgroups(&self) -> bool {
        self.tracking.is_some()
    }

    /// Forks and runs `spec` as container `id` with `prep` applied, `sandbox` being the host
    /// sandbox. Returns once the command has been exec'd, or with `ChildSetup` naming the
    /// step that failed (the half-made child is killed and reaped, its tracking cgroup
    /// removed; its private mounts die with it).
    pub fn launch(
        &self,
        id: &ContainerId,
        spec: &LaunchSpec,
        prep: &LaunchPrep,
        sandbox: &Path,
    ) -> Result<ContainerProcess> {
        let tracking = match &self.tracking {
            Some(t) => Some(t.create(id.as_str())?),
            None => None,
        };
        let launched = self.launch_tracked(spec, prep, sandbox, tracking.clone());
        if launched.is_err() {
            if let Some(dir) = &tracking {
                let _ = destroy_tracked(dir);
            }
        }
        launched
    }

    fn launch_tracked(
        &self,
        spec: &LaunchSpec,
        prep: &LaunchPrep,
        sandbox: &Path,
        tracking: Option<CgroupDir>,
    ) -> Result<ContainerProcess> {
        let mut prep = prep.clone();
        if let Some(dir) = &tracking {
            prep.cgroup_procs.insert(0, dir.procs_file());
        }
        let plan = ChildPlan::new(spec, &prep, sandbox)?;
        let (read_end, write_end) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| {
                IsolatorError::Sys {
                    call: "pipe2",
                    errno,
                }
            })?;
        let write_fd = write_end.as_raw_fd();
        // SAFETY: the child runs only async-signal-safe calls on memory prepared above.
        let pid = unsafe {
            if plan.pid_namespace {
                libc::syscall(
                    libc::SYS_clone,
                    (libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::SIGCHLD) as libc::c_ulong,
                    0usize,
                    0usize,
                    0usize,
                    0usize,
                ) as libc::pid_t
            } else {
                libc::fork()
            }
        };
        if pid < 0 {
            return Err(IsolatorError::Sys {
                call: if plan.pid_namespace { "clone" } else { "fork" },
                errno: Errno::last(),
            });
        }
        if pid == 0 {
            // SAFETY: in the child; never returns.
            unsafe { child_main(&plan, write_fd) }
        }
        drop(write_end);
        let mut process = ContainerProcess {
            pid: Pid::from_raw(pid),
            exit: None,
            tracking,
        };
        let mut buf = [0u8; 8];
        let mut got = 0;
        let mut file = File::from(read_end);
        while got < buf.len() {
            match std::io::Read::read(&mut file, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = process.destroy();
                    return Err(IsolatorError::io("read", "launch status pipe", e));
                }
            }
        }
        if got == 0 {
            return Ok(process);
        }
        let _ = process.destroy();
        let step = u32::from_ne_bytes(buf[..4].try_into().expect("slice of 4 bytes"));
        let errno = i32::from_ne_bytes(buf[4..].try_into().expect("slice of 4 bytes"));
        Err(IsolatorError::ChildSetup {
            program: spec.program.clone(),
            step: STEPS.get(step as usize).copied().unwrap_or("unknown step"),
            errno: Errno::from_raw(errno),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ContainerId {
        ContainerId::new(format!("launcher-unit-{}", std::process::id())).unwrap()
    }

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

    #[test]
    fn plain_launch_runs_and_reports_exec_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("stdout");
        let spec = LaunchSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "echo hello; pwd; exit 3".into()],
            stdout: Some(out.clone()),
            ..Default::default()
        };
        let mut p = Launcher::default()
            .launch(&id(), &spec, &LaunchPrep::default(), dir.path())
            .unwrap();
        assert_eq!(p.wait().unwrap(), ExitStatus::Code(3));
        let text = fs::read_to_string(&out).unwrap();
        assert_eq!(
            text,
            format!("hello\n{}\n", dir.path().canonicalize().unwrap().display())
        );

        let spec = LaunchSpec {
            program: "/nonexistent/prog".into(),
            ..Default::default()
        };
        let err = Launcher::default()
            .launch(&id(), &spec, &LaunchPrep::default(), dir.path())
            .unwrap_err();
        assert!(err.to_string().contains("step exec"), "{err}");
    }

    #[tokio::test]
    async fn async_wait_reports_the_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let spec = LaunchSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "sleep 0.2; exit 5".into()],
            ..Default::default()
        };
        let mut p = Launcher::default()
            .launch(&id(), &spec, &LaunchPrep::default(), dir.path())
            .unwrap();
        assert_eq!(p.wait_async().await.unwrap(), ExitStatus::Code(5));
        assert_eq!(p.try_wait().unwrap(), Some(ExitStatus::Code(5)));
    }
}
