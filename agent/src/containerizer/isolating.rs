//! [`IsolatingContainerizer`]: the agent's containerizer with isolators. It owns one
//! [`meso_isolators::Isolation`] (the isolators `--isolation` names) and runs each container
//! through their lifecycle: prepare -> launch -> isolate -> watch -> update / usage ->
//! cleanup.
//!
//! Launch takes one of three paths, chosen from the command and what the isolators prepared:
//! - the built-in executor (`<binary> executor`) without namespaces or a rootfs is forked
//!   by the executor zygote ([`super::zygote`]), which skips `exec` and the dynamic
//!   loader; the child joins the cgroup isolators' cgroups (if any) itself before it runs,
//!   is the agent's child in a session of its own, and is reaped by pid (pidfd);
//! - when no isolator needs code between fork and exec (the default `posix/cpu,posix/mem`,
//!   `disk/du`), any other executor is spawned like [`super::PosixContainerizer`] does
//!   (with `posix_spawn` when it starts its own session);
//! - otherwise (cgroups to join, pid/mount namespaces, a rootfs) the isolators' fork-safe
//!   [`meso_isolators::Launcher`] starts it; it is killed through its tracking cgroup (or
//!   process group), and the cgroup isolators' cleanup kills whatever is left in theirs.
//!
//! On the first two paths the isolators are then given the pid (`isolate`), and the
//! container is the executor's session, killed with [`super::kill_tree`] (once the executor
//! is reaped, only the members of its session, since its pid may then be reused), plus the
//! cgroup isolators' cleanup, which kills whatever is left in their cgroups.
//!
//! The `wait` future races the executor's exit against the isolators' watch: a limitation
//! first kills the container and ends up in [`Termination::limitation`]; an exit first is
//! still asked "did a limit kill you?" once (an OOM kill is seen at once), so the reason is
//! not lost when the executor dies of it before the watch polls.
//!
//! Invariants: a container is in the table from a successful `launch` to `forget`; a failed
//! launch leaves nothing (the isolation cleans up after itself); `destroy` kills every
//! process of the container and cleans every isolator up (idempotent); dropping the
//! containerizer destroys every container it still holds, so an agent that stops leaves no
//! cgroup, mount or process behind.

use std::collections::HashMap;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::FutureExt;
use meso_api::v1::ContainerId;
use meso_isolators::{
    ContainerConfig, ContainerProcess, ExitStatus, Isolation, IsolationConfig, Limitation, Limits,
    ProcessKiller, CONTAINER_SANDBOX_PATH,
};
use nix::unistd::Pid;

use super::zygote::{ExecutorZygote, LaunchRequest, ZygoteFailure};
use super::{
    kill_session, kill_tree, spawn_executor, Containerizer, ExecutorCommand, LaunchSpec,
    RecoverSpec, Termination, UsageFuture, WaitFuture,
};
use crate::error::AgentError;
use crate::executor_contract::DEFAULT_PATH;

/// The executor process of a container, until `wait` takes it.
#[derive(Debug)]
enum ExecutorProcess {
    /// Spawned by the agent directly (fast path).
    Spawned(tokio::process::Child),
    /// Forked by the executor zygote; a child of the agent, reaped by pid.
    Forked(u32),
    /// Started by the isolators' launcher.
    Launched(ContainerProcess),
}

/// How to kill every process of a container.
#[derive(Debug, Clone)]
enum Killer {
    /// The session (and process tree) the executor leads; the flag is set once the
    /// executor has been reaped, after which its pid may belong to someone else and only
    /// the processes still in its session are the container's.
    Session(u32, Arc<AtomicBool>),
    /// The launcher's handle: tracking cgroup, else process group.
    Launched(ProcessKiller),
}

impl Killer {
    fn kill(&self) -> Result<(), AgentError> {
        match self {
            Killer::Session(pid, reaped) if reaped.load(Ordering::SeqCst) => {
                kill_session(*pid);
                Ok(())
            }
            Killer::Session(pid, _) => {
                kill_tree(*pid);
                Ok(())
            }
            Killer::Launched(killer) => Ok(killer.kill()?),
        }
    }
}

/// One live container.
#[derive(Debug)]
struct Running {
    id: meso_isolators::ContainerId,
    pid: u32,
    process: Option<ExecutorProcess>,
    killer: Killer,
    /// Set by the `wait` future once the executor has been reaped.
    reaped: Arc<AtomicBool>,
    /// A `destroy` after the executor was reaped killed everything and cleaned every
    /// isolator up: `forget` need not do it again (nothing of a dead container restarts).
    destroyed_after_exit: bool,
}

/// The executor zygote's state.
#[derive(Debug)]
enum Zygote {
    /// Not started yet (started at the first launch that can use it).
    Idle,
    /// Serving launches.
    Running(ExecutorZygote),
    /// Not to be used (turned off, or it failed).
    Off,
}

/// Runs executors in containers confined and measured by the configured isolators.
#[derive(Debug)]
pub struct IsolatingContainerizer {
    isolation: Arc<Isolation>,
    containers: HashMap<String, Running>,
    zygote: Zygote,
}

impl IsolatingContainerizer {
    /// Builds the isolators `config.isolation` names (an unknown or unavailable one is an
    /// error naming it). Cgroups a crashed earlier agent left under the cgroups root are
    /// not touched: several agents (tests, a local cluster) may share one root on a
    /// machine, and this agent cannot tell theirs from a dead one's (no recovery yet).
    pub fn new(config: &IsolationConfig) -> Result<Self, AgentError> {
        let isolation = Isolation::new(config)?;
        Ok(IsolatingContainerizer {
            isolation: Arc::new(isolation),
            containers: HashMap::new(),
            zygote: Zygote::Idle,
        })
    }

    /// Turns the executor zygote off: every executor is started with `exec`.
    pub fn without_executor_zygote(mut self) -> Self {
        self.zygote = Zygote::Off;
        self
    }

    /// Starts the built-in executor from the zygote when it can: `spec` runs
    /// `<binary> executor` starting its own session (the built-in executor) and the zygote
    /// runs (or can be started from) that binary. `None`: take the exec path (also when the
    /// zygote failed; it is then turned off, with the reason logged to stderr).
    fn fork_from_zygote(
        &mut self,
        spec: &LaunchSpec,
        extra_env: &[(String, String)],
        cgroup_procs: &[std::path::PathBuf],
    ) -> Option<u32> {
        let ExecutorCommand::Argv(argv) = &spec.command else {
            return None;
        };
        let [program, subcommand] = argv.as_slice() else {
            return None;
        };
        if !spec.executor_starts_session || subcommand != "executor" || spec.rootfs.is_some() {
            return None;
        }
        let program = std::path::Path::new(program);
        if matches!(self.zygote, Zygote::Idle) {
            self.zygote = match ExecutorZygote::start(program) {
                Ok(z) => Zygote::Running(z),
                Err(e) => {
                    eprintln!("meso agent: executor zygote not started, using exec: {e}");
                    Zygote::Off
                }
            };
        }
        let Zygote::Running(zygote) = &mut self.zygote else {
            return None;
        };
        if zygote.program() != program {
            return None;
        }
        // The same environment `spawn_executor` gives: default PATH, the spec's, the extra.
        let mut env = Vec::with_capacity(spec.env.len() + extra_env.len() + 1);
        if !spec.env.iter().any(|(k, _)| k == "PATH") {
            env.push(("PATH".to_string(), DEFAULT_PATH.to_string()));
        }
        env.extend(spec.env.iter().cloned());
        env.extend(extra_env.iter().cloned());
        let request = LaunchRequest {
            directory: spec.directory.clone(),
            env,
            cgroup_procs: cgroup_procs.to_vec(),
        };
        match zygote.launch(&request) {
            Ok(pid) => Some(pid),
            // The exec path reports this request's problem in its own words.
            Err(ZygoteFailure::Refused(_)) => None,
            Err(ZygoteFailure::Broken(e)) => {
                eprintln!("meso agent: executor zygote failed, using exec from now on: {e}");
                self.zygote = Zygote::Off;
                None
            }
        }
    }

    /// The isolators in use, in order.
    pub fn isolator_names(&self) -> Vec<&'static str> {
        self.isolation.names()
    }

    fn running(&self, container_id: &ContainerId) -> Result<&Running, AgentError> {
        self.containers
            .get(&container_id.value)
            .ok_or_else(|| AgentError::UnknownContainer(container_id.value.clone()))
    }

    /// The fast path: spawn the executor ourselves, or take the one the zygote forked
    /// (`forked`), then isolate its pid.
    fn spawn_and_isolate(
        &self,
        spec: &LaunchSpec,
        config: &ContainerConfig,
        env: &[(String, String)],
        forked: Option<u32>,
    ) -> Result<Running, AgentError> {
        let (process, pid) = match forked {
            Some(pid) => (ExecutorProcess::Forked(pid), pid),
            None => {
                let child = spawn_executor(spec, env)?;
                let pid = child
                    .id()
                    .expect("invariant: a just-spawned child has not been reaped");
                (ExecutorProcess::Spawned(child), pid)
            }
        };
        if let Err(e) = self
            .isolation
            .isolate(&config.id, Pid::from_raw(pid as i32))
        {
            kill_tree(pid);
            reap_unwaited(process);
            return Err(e.into());
        }
        let reaped = Arc::new(AtomicBool::new(false));
        Ok(Running {
            id: config.id.clone(),
            pid,
            process: Some(process),
            killer: Killer::Session(pid, Arc::clone(&reaped)),
            reaped,
            destroyed_after_exit: false,
        })
    }

    /// The launcher path: the isolators' launcher forks and sets the child up.
    fn launch_isolated(
        &self,
        spec: &LaunchSpec,
        config: &ContainerConfig,
        prep: &meso_isolators::LaunchPrep,
    ) -> Result<Running, AgentError> {
        let (program, args) = match &spec.command {
            ExecutorCommand::Shell(line) => {
                ("/bin/sh".to_string(), vec!["-c".into(), line.clone()])
            }
            ExecutorCommand::Argv(argv) => match argv.split_first() {
                Some((program, args)) => (program.clone(), args.to_vec()),
                None => {
                    let _ = self.isolation.cleanup(&config.id);
                    return Err(AgentError::Flag {
                        flag: "executor command",
                        value: String::new(),
                        reason: "empty argv".into(),
                    });
                }
            },
        };
        let mut env = spec.env.clone();
        if !env.iter().any(|(k, _)| k == "PATH") {
            env.push(("PATH".into(), DEFAULT_PATH.into()));
        }
        let launch = meso_isolators::LaunchSpec {
            program,
            args,
            env,
            cwd: prep.rootfs.as_ref().map(|_| CONTAINER_SANDBOX_PATH.into()),
            stdout: Some(spec.directory.join("stdout")),
            stderr: Some(spec.directory.join("stderr")),
        };
        let container = self.isolation.launch_prepared(config, &launch, prep)?;
        let pid = container.process.pid().as_raw() as u32;
        Ok(Running {
            id: config.id.clone(),
            pid,
            killer: Killer::Launched(container.process.killer()),
            process: Some(ExecutorProcess::Launched(container.process)),
            reaped: Arc::new(AtomicBool::new(false)),
            destroyed_after_exit: false,
        })
    }

    /// Kills every process of the container and cleans every isolator up.
    fn destroy_running(isolation: &Isolation, running: &Running) -> Result<(), AgentError> {
        // Processes of a low-priority (revocable) cgroup would wait for CPU to die.
        isolation.evacuate(&running.id);
        let killed = running.killer.kill();
        isolation.cleanup(&running.id)?;
        killed
    }
}

fn termination_of(status: ExitStatus) -> Termination {
    let (exit_code, signal) = match status {
        ExitStatus::Code(code) => (Some(code), None),
        ExitStatus::Signal(sig) => (None, Some(sig)),
        ExitStatus::Unknown => (None, None),
    };
    Termination {
        exit_code,
        signal,
        limitation: None,
    }
}

async fn wait_exit(process: ExecutorProcess) -> Termination {
    use std::os::unix::process::ExitStatusExt;
    match process {
        ExecutorProcess::Spawned(mut child) => match child.wait().await {
            Ok(status) => Termination {
                exit_code: status.code(),
                signal: status.signal(),
                limitation: None,
            },
            Err(_) => termination_of(ExitStatus::Unknown),
        },
        ExecutorProcess::Launched(mut process) => match process.wait_async().await {
            Ok(status) => termination_of(status),
            Err(_) => termination_of(ExitStatus::Unknown),
        },
        ExecutorProcess::Forked(pid) => termination_of(wait_forked(pid).await),
    }
}

/// Reaps a child of this process started by the zygote: waits for its pidfd to become
/// readable (no thread blocked), then `waitpid`s it. Without pidfds (old kernels) a
/// blocking-pool thread waits instead.
async fn wait_forked(pid: u32) -> ExitStatus {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd >= 0 {
        // SAFETY: `fd` was just returned by pidfd_open and is owned by nothing else.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
        // SAFETY: the AsyncFd owns the pidfd; nothing else closes or reuses it.
        let registered = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
        };
        if let Ok(async_fd) = registered {
            let _ = async_fd.readable().await;
        }
    }
    tokio::task::spawn_blocking(move || reap(pid))
        .await
        .unwrap_or(ExitStatus::Unknown)
}

/// `waitpid` for `pid`, blocking until it ends.
fn reap(pid: u32) -> ExitStatus {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(Pid::from_raw(pid as i32), None) {
            Ok(WaitStatus::Exited(_, code)) => return ExitStatus::Code(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return ExitStatus::Signal(sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return ExitStatus::Unknown,
        }
    }
}

/// Reaps an executor process nobody waits for (already killed).
fn reap_unwaited(process: ExecutorProcess) {
    match process {
        // tokio reaps a dropped child in the background.
        ExecutorProcess::Spawned(child) => drop(child),
        ExecutorProcess::Forked(pid) => {
            reap(pid);
        }
        ExecutorProcess::Launched(mut process) => {
            let _ = process.destroy();
        }
    }
}

impl Containerizer for IsolatingContainerizer {
    fn launch(&mut self, mut spec: LaunchSpec) -> Result<u32, AgentError> {
        if self.containers.contains_key(&spec.container_id.value) {
            return Err(AgentError::Flag {
                flag: "container id",
                value: spec.container_id.value.clone(),
                reason: "a container with this id is already running".into(),
            });
        }
        let config = ContainerConfig {
            id: meso_isolators::ContainerId::new(spec.container_id.value.clone())?,
            sandbox: spec.directory.clone(),
            limits: spec.limits,
            rootfs: spec.rootfs.clone(),
        };
        if let Some(user) = &spec.user {
            user.chown_tree(&spec.directory)?;
        }
        // On failure `prepare` has cleaned up what it made.
        let mut prep = self.isolation.prepare(&config)?;
        prep.volumes.extend(spec.volumes.iter().cloned());
        // The launcher drops to the user after the isolators' root-only steps.
        prep.user = spec.user.clone();
        if spec.executor_starts_session {
            // The built-in executor runs on the host; only its command enters the root.
            if let Err(e) = super::command_rootfs::hand_rootfs_to_executor(&mut prep, &mut spec.env)
            {
                let _ = self.isolation.cleanup(&config.id);
                return Err(e);
            }
        }
        // The zygote's child can join cgroups but not enter namespaces or a rootfs.
        let forked = if prep.pid_namespace
            || prep.mount_namespace
            || prep.rootfs.is_some()
            || !prep.volumes.is_empty()
            || prep.user.is_some()
        {
            None
        } else {
            self.fork_from_zygote(&spec, &prep.env, &prep.cgroup_procs)
        };
        let launched = if forked.is_none() && prep.needs_launcher() {
            self.launch_isolated(&spec, &config, &prep)
        } else {
            self.spawn_and_isolate(&spec, &config, &prep.env, forked)
        };
        let running = match launched {
            Ok(running) => running,
            Err(e) => {
                // The launcher path cleaned up already; cleanup is idempotent.
                let _ = self.isolation.cleanup(&config.id);
                return Err(e);
            }
        };
        let pid = running.pid;
        self.containers
            .insert(spec.container_id.value.clone(), running);
        Ok(pid)
    }

    fn wait(&mut self, container_id: &ContainerId) -> Result<WaitFuture, AgentError> {
        let running = self
            .containers
            .get_mut(&container_id.value)
            .ok_or_else(|| AgentError::UnknownContainer(container_id.value.clone()))?;
        let process = running
            .process
            .take()
            .ok_or_else(|| AgentError::UnknownContainer(container_id.value.clone()))?;
        let id = running.id.clone();
        let killer = running.killer.clone();
        let reaped = Arc::clone(&running.reaped);
        let isolation = Arc::clone(&self.isolation);
        let watch = self.isolation.watch(&id);
        Ok(Box::pin(async move {
            let exit = async {
                let ended = wait_exit(process).await;
                reaped.store(true, Ordering::SeqCst);
                ended
            };
            tokio::pin!(exit);
            tokio::select! {
                ended = &mut exit => {
                    // Did a limit kill it (e.g. the OOM killer took the executor)?
                    let limitation = isolation.watch(&id).now_or_never();
                    Termination { limitation, ..ended }
                }
                limitation = watch => {
                    // Killing may wait for a cgroup to empty: keep it off the runtime.
                    let kill = killer.clone();
                    let _ = tokio::task::spawn_blocking(move || kill.kill()).await;
                    let ended = exit.await;
                    Termination { limitation: Some(limitation), ..ended }
                }
            }
        }))
    }

    fn destroy(&mut self, container_id: &ContainerId) -> Result<(), AgentError> {
        let running = self
            .containers
            .get_mut(&container_id.value)
            .ok_or_else(|| AgentError::UnknownContainer(container_id.value.clone()))?;
        let exited = running.reaped.load(Ordering::SeqCst);
        Self::destroy_running(&self.isolation, running)?;
        running.destroyed_after_exit |= exited;
        Ok(())
    }

    fn forget(&mut self, container_id: &ContainerId) {
        if let Some(mut running) = self.containers.remove(&container_id.value) {
            if !running.destroyed_after_exit {
                let _ = Self::destroy_running(&self.isolation, &running);
            }
            // Never waited for: reap it here.
            if let Some(process) = running.process.take() {
                reap_unwaited(process);
            }
        }
    }

    fn usage(&self, container_id: &ContainerId, timestamp: f64) -> UsageFuture {
        let found = self.running(container_id).map(|r| r.id.clone());
        let isolation = Arc::clone(&self.isolation);
        Box::pin(async move {
            let id = found?;
            let name = id.to_string();
            tokio::task::spawn_blocking(move || isolation.usage(&id, timestamp))
                .await
                .map_err(|e| AgentError::Io {
                    what: "reading usage of container",
                    path: name,
                    source: std::io::Error::other(e),
                })?
                .map_err(AgentError::from)
        })
    }

    fn limitation_now(&self, container_id: &ContainerId) -> Option<Limitation> {
        let running = self.running(container_id).ok()?;
        self.isolation.watch(&running.id).now_or_never()
    }

    fn update(&mut self, container_id: &ContainerId, limits: Limits) -> Result<(), AgentError> {
        let running = self.running(container_id)?;
        Ok(self.isolation.update(&running.id, &limits)?)
    }

    fn recover(&mut self, spec: RecoverSpec) -> Result<(), AgentError> {
        if self.containers.contains_key(&spec.container_id.value) {
            return Err(AgentError::Recovery(format!(
                "container '{}' is already in the table",
                spec.container_id.value
            )));
        }
        let config = ContainerConfig {
            id: meso_isolators::ContainerId::new(spec.container_id.value.clone())?,
            sandbox: spec.directory.clone(),
            limits: spec.limits,
            rootfs: None,
        };
        // On failure the isolation destroyed the container.
        let container = self
            .isolation
            .recover(&config, Pid::from_raw(spec.pid as i32))?;
        let reaped = Arc::new(AtomicBool::new(false));
        // Every executor leads its own session (the built-in one calls setsid, the others
        // are started in one): its tree and session are the container, whichever launch
        // path started it; the cgroup isolators' cleanup takes what left the session.
        self.containers.insert(
            spec.container_id.value.clone(),
            Running {
                id: config.id,
                pid: spec.pid,
                process: Some(ExecutorProcess::Launched(container.process)),
                killer: Killer::Session(spec.pid, Arc::clone(&reaped)),
                reaped,
                destroyed_after_exit: false,
            },
        );
        Ok(())
    }

    fn destroy_orphan(
        &mut self,
        container_id: &ContainerId,
        pid: Option<u32>,
    ) -> Result<(), AgentError> {
        if let Some(pid) = pid {
            super::kill_tree(pid);
        }
        let id = meso_isolators::ContainerId::new(container_id.value.clone())?;
        Ok(self.isolation.destroy_orphan(&id)?)
    }

    fn release(&mut self, container_id: &ContainerId) {
        // Dropping the handles kills nothing: a spawned child is not killed on drop, a
        // forked or launched one is only a pid.
        self.containers.remove(&container_id.value);
    }
}

impl Drop for IsolatingContainerizer {
    fn drop(&mut self) {
        for (_, mut running) in self.containers.drain() {
            let _ = Self::destroy_running(&self.isolation, &running);
            if let Some(process) = running.process.take() {
                reap_unwaited(process);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containerizer::tests::pid_running;
    use std::time::{Duration, Instant};

    fn spec(id: &ContainerId, dir: &std::path::Path, command: ExecutorCommand) -> LaunchSpec {
        LaunchSpec {
            container_id: id.clone(),
            directory: dir.to_path_buf(),
            command,
            env: vec![],
            executor_starts_session: false,
            limits: Limits {
                cpus: Some(0.5),
                mem_bytes: Some(64 << 20),
                disk_bytes: None,
                revocable: false,
            },
            rootfs: None,
            volumes: Vec::new(),
            user: None,
        }
    }

    #[tokio::test]
    async fn default_isolation_measures_and_destroys_the_container() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = IsolatingContainerizer::new(&IsolationConfig::default()).unwrap();
        assert_eq!(c.isolator_names(), vec!["posix/cpu", "posix/mem"]);
        let id = ContainerId::new(format!("iso-unit-{}", std::process::id()));
        c.launch(spec(
            &id,
            dir.path(),
            ExecutorCommand::Shell("sleep 1000 & sleep 1000".into()),
        ))
        .unwrap();
        let err = c
            .launch(spec(&id, dir.path(), ExecutorCommand::Shell("true".into())))
            .unwrap_err();
        assert!(err.to_string().contains("already running"), "{err}");
        let wait = c.wait(&id).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let stats = loop {
            let stats = c.usage(&id, 1.0).await.unwrap();
            if stats.processes == Some(3) {
                break stats;
            }
            assert!(Instant::now() < deadline, "{stats:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(stats.cpus_limit, Some(0.5));
        assert_eq!(stats.mem_limit_bytes, Some(64 << 20));
        assert!(stats.mem_rss_bytes.unwrap_or(0) > 0, "{stats:?}");
        assert_eq!(c.limitation_now(&id), None);
        c.destroy(&id).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .expect("hang guard: destroy ends the executor");
        assert_eq!(ended.signal, Some(9), "{ended}");
        assert_eq!(ended.limitation, None);
        c.forget(&id);
        assert!(matches!(
            c.usage(&id, 1.0).await,
            Err(AgentError::UnknownContainer(_))
        ));
    }

    #[tokio::test]
    async fn destroy_after_the_executor_exited_kills_what_it_left_in_its_session() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = IsolatingContainerizer::new(&IsolationConfig::default()).unwrap();
        let id = ContainerId::new(format!("iso-unit-orphan-{}", std::process::id()));
        // The executor leaves two processes behind: one in its own group, one in a
        // subshell's; both stay in the executor's session.
        c.launch(spec(
            &id,
            dir.path(),
            ExecutorCommand::Shell(
                "sleep 1000 & echo $! > a; (sleep 1000 & echo $! > b; wait) & true".into(),
            ),
        ))
        .unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(60), c.wait(&id).unwrap())
            .await
            .expect("hang guard: the executor exits at once");
        assert_eq!(ended.exit_code, Some(0), "{ended}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let read_pid = |name: &str| -> Option<u32> {
            std::fs::read_to_string(dir.path().join(name))
                .ok()
                .and_then(|t| t.trim().parse().ok())
        };
        let (a, b) = loop {
            if let (Some(a), Some(b)) = (read_pid("a"), read_pid("b")) {
                break (a, b);
            }
            assert!(Instant::now() < deadline, "leftovers never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            pid_running(a) && pid_running(b),
            "leftovers run before destroy"
        );
        c.destroy(&id).unwrap();
        while pid_running(a) || pid_running(b) {
            assert!(Instant::now() < deadline, "a leftover survived destroy");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        c.forget(&id);
        assert!(matches!(
            c.destroy(&id),
            Err(AgentError::UnknownContainer(_))
        ));
    }

    #[tokio::test]
    async fn failed_launch_leaves_no_container() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = IsolatingContainerizer::new(&IsolationConfig::default()).unwrap();
        let id = ContainerId::new(format!("iso-unit-fail-{}", std::process::id()));
        let err = c
            .launch(spec(
                &id,
                dir.path(),
                ExecutorCommand::Argv(vec!["/nonexistent/executor".into()]),
            ))
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/executor"), "{err}");
        assert!(matches!(c.wait(&id), Err(AgentError::UnknownContainer(_))));
        // The isolators forgot it too: the same id launches again.
        c.launch(spec(&id, dir.path(), ExecutorCommand::Shell("true".into())))
            .unwrap();
        let ended = c.wait(&id).unwrap().await;
        assert_eq!(ended.exit_code, Some(0), "{ended}");
        c.forget(&id);
    }

    #[test]
    fn unknown_isolator_is_refused_with_the_known_list() {
        let err = IsolatingContainerizer::new(&IsolationConfig {
            isolation: "posix/cpu,gpu/nvidia".into(),
            ..IsolationConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"gpu/nvidia\"") && err.contains("posix/mem"),
            "{err}"
        );
    }
}
