//! The launcher: starts a container's first process with what the isolators asked for in
//! their [`LaunchPrep`]: its own session and process group, membership of the container's
//! cgroups, optionally a new pid namespace under a small reaping init with `/proc`
//! remounted, optionally a new root filesystem entered with `pivot_root` and the sandbox
//! bind-mounted at [`crate::CONTAINER_SANDBOX_PATH`]. The child's side is in `child.rs`; what
//! both sides share is in `container.rs` ([`LaunchSpec`]) and `launch_status.rs` (the status
//! pipe's record), so the child never reads the launcher.
//!
//! How: everything the child needs (C strings, file descriptors) is prepared before the
//! fork; after the fork the child only makes system calls (`setsid`, `open`/`write` of
//! `cgroup.procs`, `mount`, `pivot_root`, `dup2`, `execve`, ...), which are
//! async-signal-safe, so forking from a multi-threaded agent is sound. A close-on-exec pipe
//! carries `(step, errno)` back when a step fails; end-of-file means `execve` succeeded.
//!
//! With a pid namespace the child is made with `clone(CLONE_NEWPID | CLONE_NEWNS)`: it is
//! pid 1 (the init) of the new namespace, does the mounts, forks the command (pid 2), and
//! then only reaps children (orphans included) until the command exits, exiting with the
//! command's status (128 + signal when it was killed). When the init dies, the kernel
//! kills everything else in the namespace, so the namespace never outlives its init.
//!
//! Invariant: every mount the launcher makes is inside the child's own private mount
//! namespace, so it disappears with the container's last process; nothing is mounted in the
//! host's namespace.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::cgroupfs::{CgroupDir, CgroupLayout};
use crate::child::{child_main, ChildPlan};
use crate::container::{ContainerId, LaunchPrep, LaunchSpec};
use crate::error::{IsolatorError, Result};
use crate::launch_status;
use crate::tracking::{destroy_tracked, ProcessTracking};

/// A launched container's first process (its init when in a pid namespace), seen from the
/// host. The caller must `wait` for it (or `destroy` it) so it is reaped.
#[derive(Debug)]
pub struct ContainerProcess {
    pid: Pid,
    exit: Option<ExitStatus>,
    tracking: Option<CgroupDir>,
    /// False for a recovered container's process, which a previous agent started: it can
    /// be watched (pidfd) and killed but not reaped, so its exit status is not observable.
    child: bool,
}

/// How the container's first process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited with this code (an init reports 128 + signal for a killed command).
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
    /// Ended, but it was not this agent's child (a recovered container), so its status
    /// cannot be observed.
    Unknown,
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

    /// A recovered container's process (started by a previous agent), with its tracking
    /// cgroup if it has one.
    pub fn recovered(pid: Pid, tracking: Option<CgroupDir>) -> Self {
        ContainerProcess {
            pid,
            exit: None,
            tracking,
            child: false,
        }
    }

    /// A pidfd for the process, or `None` when it is already gone.
    fn pidfd(&self) -> Result<Option<OwnedFd>> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid.as_raw(), 0) };
        if fd < 0 {
            return match Errno::last() {
                Errno::ESRCH => Ok(None),
                errno => Err(IsolatorError::Sys {
                    call: "pidfd_open",
                    errno,
                }),
            };
        }
        // SAFETY: the descriptor was just returned to us and is owned by nothing else.
        Ok(Some(unsafe {
            <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as libc::c_int)
        }))
    }

    /// For a process that is not our child: has it ended? (`timeout_ms` -1 blocks.)
    fn foreign_ended(&self, timeout_ms: libc::c_int) -> Result<bool> {
        let Some(fd) = self.pidfd()? else {
            return Ok(true);
        };
        loop {
            let mut poll = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut poll, 1, timeout_ms) };
            if n >= 0 {
                return Ok(n > 0);
            }
            match Errno::last() {
                Errno::EINTR => continue,
                errno => {
                    return Err(IsolatorError::Sys {
                        call: "poll",
                        errno,
                    })
                }
            }
        }
    }

    /// Blocks until the process exits, and reaps it (a recovered one is only waited for).
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(e) = self.exit {
            return Ok(e);
        }
        if !self.child {
            self.foreign_ended(-1)?;
            self.exit = Some(ExitStatus::Unknown);
            return Ok(ExitStatus::Unknown);
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
        let Some(fd) = self.pidfd()? else {
            // Gone already: only a recovered (not our child) process can be.
            return self.wait();
        };
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
        if !self.child {
            if self.foreign_ended(0)? {
                self.exit = Some(ExitStatus::Unknown);
            }
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

    /// A handle that kills this container's processes from elsewhere (e.g. while a task
    /// owns this `ContainerProcess` to wait for it).
    pub fn killer(&self) -> ProcessKiller {
        ProcessKiller {
            pid: self.pid,
            tracking: self.tracking.clone(),
        }
    }

    /// The tracking cgroup, if the launcher made one.
    pub fn tracking_cgroup(&self) -> Option<&Path> {
        self.tracking.as_ref().map(|d| d.path.as_path())
    }
}

/// Kills a container's processes without owning its [`ContainerProcess`] (which stays with
/// whoever waits for it, and reaps it).
#[derive(Debug, Clone)]
pub struct ProcessKiller {
    pid: Pid,
    tracking: Option<CgroupDir>,
}

impl ProcessKiller {
    /// SIGKILLs every process of the container: through its tracking cgroup when it has one
    /// (then nothing outside the container can be hit, even if the first pid was reused),
    /// else through the first process's group. The tracking cgroup is removed.
    pub fn kill(&self) -> Result<()> {
        match &self.tracking {
            Some(dir) => destroy_tracked(dir),
            None => match killpg(self.pid, Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => Ok(()),
                Err(errno) => Err(IsolatorError::Sys {
                    call: "killpg",
                    errno,
                }),
            },
        }
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

    /// The process of a container a previous agent launched, found again by its pid (and
    /// its tracking cgroup, if it has one).
    pub fn recover(&self, id: &ContainerId, pid: Pid) -> ContainerProcess {
        let tracking = self.tracking.as_ref().and_then(|t| t.existing(id.as_str()));
        ContainerProcess::recovered(pid, tracking)
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
            child: true,
        };
        let mut buf = [0u8; launch_status::RECORD_BYTES];
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
        let (step, errno) = launch_status::decode(&buf[..got]);
        Err(IsolatorError::ChildSetup {
            program: spec.program.clone(),
            step,
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
        let text = std::fs::read_to_string(&out).unwrap();
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
