//! The `Containerizer` seam: how the agent starts, watches and stops an executor's
//! container, and reads its usage.
//!
//! [`IsolatingContainerizer`] (in [`isolating`]) is what `meso agent` runs: the isolators
//! named by `--isolation` (crate `meso-isolators`) confine and measure each container, and
//! a limitation they report ends the container with the reason in its [`Termination`].
//!
//! [`PosixContainerizer`] is the plain implementation without isolators (kept for tests and
//! as the fast path's model): the executor is a child process
//! leading its own session (and so its own process group), started in its sandbox with a
//! clean environment (the agent's map only, plus a default `PATH`) and `stdout`/`stderr`
//! redirected to files there. `destroy` SIGKILLs everything in the container: the
//! executor's process tree and groups, and every process still in its session (found in
//! `/proc`), so commands that an executor put in groups of their own go too, even after the
//! executor itself died. Invariant: a container is in the table from `launch` until
//! `forget`; its `wait` future may be taken once.

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use meso_api::v1::ContainerId;
use meso_isolators::{Limitation, Limits, ResourceStatistics, RootfsSource};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::error::AgentError;
use crate::executor_contract::DEFAULT_PATH;

pub mod command_rootfs;
pub mod isolating;
pub mod zygote;
pub use isolating::IsolatingContainerizer;

/// How to start an executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorCommand {
    /// `/bin/sh -c <command>`.
    Shell(String),
    /// `argv[0]` is the program, the rest its arguments.
    Argv(Vec<String>),
}

/// Everything a containerizer needs to start one executor.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The new container.
    pub container_id: ContainerId,
    /// The sandbox (created by the caller); working directory and home of stdout/stderr.
    pub directory: PathBuf,
    /// What to run.
    pub command: ExecutorCommand,
    /// The complete environment.
    pub env: Vec<(String, String)>,
    /// The executor calls `setsid()` itself as its first act (the built-in command executor
    /// does). Then the containerizer needs no code between fork and exec, and the launch
    /// takes the much cheaper `posix_spawn` path instead of forking the agent.
    pub executor_starts_session: bool,
    /// The resources the container may use (executor's plus its tasks'); enforced by the
    /// isolators that enforce (`cgroups/*`, `disk/du` with enforcement).
    pub limits: Limits,
    /// A root filesystem to run the container in (`filesystem/rootfs`; refused without
    /// it). A custom executor runs inside it; the built-in command executor
    /// (`executor_starts_session`) runs on the host and starts only its command inside
    /// (see [`command_rootfs`]).
    pub rootfs: Option<RootfsSource>,
    /// Persistent volumes bind-mounted into the container's sandbox, in its own mount
    /// namespace (given with a `rootfs` only; otherwise the agent links them, see
    /// `agent/volumes.rs`). The built-in executor hands them to its command with the root.
    pub volumes: Vec<meso_isolators::VolumeMount>,
    /// The user the executor (and so its tasks) runs as (`--switch-user`); `None`: the
    /// agent's own. The containerizer gives the sandbox to the user before the launch.
    pub user: Option<meso_isolators::RunAs>,
}

/// How a container's executor ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    /// Exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Signal, if one killed it.
    pub signal: Option<i32>,
    /// The limit an isolator found exceeded, if that is why the container ended (the
    /// containerizer then killed it).
    pub limitation: Option<Limitation>,
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(l) = &self.limitation {
            write!(f, "killed for a container limitation ({}): ", l.message)?;
        }
        match (self.exit_code, self.signal) {
            (Some(code), _) => write!(f, "exited with status {code}"),
            (None, Some(sig)) => write!(f, "terminated by signal {sig}"),
            (None, None) => f.write_str("ended (status unknown)"),
        }
    }
}

/// A future completing when a container's executor has exited.
pub type WaitFuture = Pin<Box<dyn Future<Output = Termination> + Send + 'static>>;

/// A future of a container's resource usage (Mesos's `ResourceStatistics` field names).
pub type UsageFuture =
    Pin<Box<dyn Future<Output = Result<ResourceStatistics, AgentError>> + Send + 'static>>;

/// Starts, watches and stops containers.
pub trait Containerizer: Send + 'static {
    /// Starts the executor; returns its pid.
    fn launch(&mut self, spec: LaunchSpec) -> Result<u32, AgentError>;
    /// The future of the container's end (may be taken once).
    fn wait(&mut self, container_id: &ContainerId) -> Result<WaitFuture, AgentError>;
    /// Kills everything in the container now.
    fn destroy(&mut self, container_id: &ContainerId) -> Result<(), AgentError>;
    /// Drops what is kept about an ended container (after a last `destroy`).
    fn forget(&mut self, container_id: &ContainerId);
    /// The container's resource usage now, stamped `timestamp` (seconds since the Unix
    /// epoch, by the caller's node clock). The future owns what it needs, so the caller may
    /// await it outside the agent's process; an unknown container is an error.
    fn usage(&self, container_id: &ContainerId, timestamp: f64) -> UsageFuture;
    /// A limitation the container has already run into, checked now without waiting (e.g.
    /// an OOM kill of one of its processes). The agent asks when an executor reports a
    /// failed task, so the task carries the limitation's reason.
    fn limitation_now(&self, container_id: &ContainerId) -> Option<Limitation> {
        let _ = container_id;
        None
    }
    /// Applies new limits (a task joined or left the executor).
    fn update(&mut self, container_id: &ContainerId, limits: Limits) -> Result<(), AgentError> {
        let _ = (container_id, limits);
        Ok(())
    }
    /// Takes back the container of an executor a previous agent started and that still
    /// runs as `pid` (agent recovery): afterwards it is like a launched one (`wait`,
    /// `destroy`, `usage`). An error leaves nothing in the table.
    fn recover(&mut self, spec: RecoverSpec) -> Result<(), AgentError> {
        Err(AgentError::Recovery(format!(
            "container '{}': this containerizer cannot take back containers",
            spec.container_id.value
        )))
    }
    /// Kills and cleans up a container a previous agent started that this one does not
    /// recover (an orphan): the session and process groups of its executor `pid` (when it
    /// is still that process) and whatever isolation left of it. It is not in the table.
    fn destroy_orphan(
        &mut self,
        container_id: &ContainerId,
        pid: Option<u32>,
    ) -> Result<(), AgentError> {
        let _ = container_id;
        if let Some(pid) = pid {
            kill_tree(pid);
        }
        Ok(())
    }

    /// Lets go of a container without stopping it (the agent stops; the next agent
    /// recovers it). Its processes keep running; nothing of it stays in the table.
    fn release(&mut self, container_id: &ContainerId) {
        let _ = container_id;
    }
}

/// A container a previous agent started, to take back.
#[derive(Debug, Clone)]
pub struct RecoverSpec {
    /// The container.
    pub container_id: ContainerId,
    /// Its executor's pid (alive).
    pub pid: u32,
    /// Its sandbox.
    pub directory: PathBuf,
    /// Its limits (executor's and unfinished tasks' resources).
    pub limits: Limits,
}

/// Executors as process groups on the host, no isolation.
#[derive(Debug, Default)]
pub struct PosixContainerizer {
    children: HashMap<String, tokio::process::Child>,
    pids: HashMap<String, u32>,
}

impl PosixContainerizer {
    /// An empty containerizer.
    pub fn new() -> Self {
        Self::default()
    }
}

fn open_log(spec: &LaunchSpec, name: &str) -> Result<File, AgentError> {
    let path = spec.directory.join(name);
    File::create(&path).map_err(|source| AgentError::Io {
        what: "creating executor log",
        path: path.display().to_string(),
        source,
    })
}

/// Starts `spec`'s command as a child of the agent in the sandbox, with `extra_env` on top
/// of its environment. Takes `posix_spawn` (no fork of the agent) when the executor starts
/// its own session.
pub(crate) fn spawn_executor(
    spec: &LaunchSpec,
    extra_env: &[(String, String)],
) -> Result<tokio::process::Child, AgentError> {
    let mut cmd = match &spec.command {
        ExecutorCommand::Shell(line) => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg("-c").arg(line);
            c
        }
        ExecutorCommand::Argv(argv) => {
            let program = argv.first().ok_or_else(|| AgentError::Flag {
                flag: "executor command",
                value: String::new(),
                reason: "empty argv".into(),
            })?;
            let mut c = tokio::process::Command::new(program);
            c.args(&argv[1..]);
            c
        }
    };
    cmd.env_clear();
    if !spec.env.iter().any(|(k, _)| k == "PATH") {
        cmd.env("PATH", DEFAULT_PATH);
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(&spec.directory)
        .stdin(std::process::Stdio::null())
        .stdout(open_log(spec, "stdout")?)
        .stderr(open_log(spec, "stderr")?)
        .kill_on_drop(false);
    if let Some(user) = spec.user.clone() {
        user.chown_tree(&spec.directory)?;
        let new_session = !spec.executor_starts_session;
        // SAFETY: setsid, setgroups, setgid and setuid are async-signal-safe system calls
        // on memory prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if new_session {
                    nix::unistd::setsid().map_err(std::io::Error::from)?;
                }
                user.apply().map_err(std::io::Error::from_raw_os_error)
            });
        }
    } else if !spec.executor_starts_session {
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid()
                    .map(|_| ())
                    .map_err(std::io::Error::from)
            });
        }
    }
    cmd.spawn().map_err(|source| AgentError::Io {
        what: "starting executor",
        path: format!("{:?}", spec.command),
        source,
    })
}

impl Containerizer for PosixContainerizer {
    fn launch(&mut self, spec: LaunchSpec) -> Result<u32, AgentError> {
        if let Some(source) = &spec.rootfs {
            return Err(meso_isolators::IsolatorError::InvalidRootfs {
                path: source.path().to_path_buf(),
                reason: "the posix containerizer runs no isolators (filesystem/rootfs needed)"
                    .into(),
            }
            .into());
        }
        if let Some(volume) = spec.volumes.first() {
            return Err(meso_isolators::IsolatorError::InvalidLaunchArgument {
                what: "volume mount (the posix containerizer makes no mount namespace)",
                value: volume.target.display().to_string(),
            }
            .into());
        }
        let child = spawn_executor(&spec, &[])?;
        let pid = child
            .id()
            .expect("invariant: a just-spawned child has not been reaped");
        self.children.insert(spec.container_id.value.clone(), child);
        self.pids.insert(spec.container_id.value.clone(), pid);
        Ok(pid)
    }

    fn wait(&mut self, container_id: &ContainerId) -> Result<WaitFuture, AgentError> {
        let mut child = self
            .children
            .remove(&container_id.value)
            .ok_or_else(|| AgentError::UnknownContainer(container_id.value.clone()))?;
        Ok(Box::pin(async move {
            use std::os::unix::process::ExitStatusExt;
            match child.wait().await {
                Ok(status) => Termination {
                    exit_code: status.code(),
                    signal: status.signal(),
                    limitation: None,
                },
                Err(_) => Termination {
                    exit_code: None,
                    signal: None,
                    limitation: None,
                },
            }
        }))
    }

    fn destroy(&mut self, container_id: &ContainerId) -> Result<(), AgentError> {
        let pid = *self
            .pids
            .get(&container_id.value)
            .ok_or_else(|| AgentError::UnknownContainer(container_id.value.clone()))?;
        kill_tree(pid);
        Ok(())
    }

    fn forget(&mut self, container_id: &ContainerId) {
        self.children.remove(&container_id.value);
        self.pids.remove(&container_id.value);
    }

    fn usage(&self, container_id: &ContainerId, timestamp: f64) -> UsageFuture {
        let pid = self.pids.get(&container_id.value).copied();
        let id = container_id.value.clone();
        Box::pin(async move {
            let pid = pid.ok_or(AgentError::UnknownContainer(id))?;
            tokio::task::spawn_blocking(move || session_usage(pid, timestamp))
                .await
                .map_err(|e| AgentError::Io {
                    what: "reading usage of",
                    path: format!("pid {pid}"),
                    source: std::io::Error::other(e),
                })?
        })
    }
}

/// Usage of the processes of the session `sid` leads (a posix container), from `/proc`.
fn session_usage(sid: u32, timestamp: f64) -> Result<ResourceStatistics, AgentError> {
    let members = session_members(sid);
    let all = meso_isolators::posix::read_all_proc_stats()?;
    let rows: Vec<_> = all
        .iter()
        .filter(|s| members.contains(&(s.pid as u32)))
        .copied()
        .collect();
    Ok(meso_isolators::posix::tree_statistics(&rows, timestamp))
}

/// SIGKILLs `root`, its process group, every descendant and their process groups, and
/// every process in the session `root` leads. All are found first (from `/proc`), then
/// killed, so reparenting cannot hide them.
pub fn kill_tree(root: u32) {
    let table = process_table();
    let in_session = table.iter().filter(|p| p.sid == root).map(|p| p.pid);
    let mut victims: Vec<u32> = std::iter::once(root)
        .chain(descendants_in(&table, root))
        .chain(in_session)
        .collect();
    victims.sort_unstable();
    victims.dedup();
    for pid in victims {
        if let Some(pgid) = table.iter().find(|p| p.pid == pid).map(|p| p.pgid) {
            // Never the agent's own group (a process that joined it is not ours to kill).
            if pgid != 0 && pgid as i32 != nix::unistd::getpgrp().as_raw() {
                let _ = killpg(Pid::from_raw(pgid as i32), Signal::SIGKILL);
            }
        }
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
}

/// One row of the process table.
#[derive(Debug, Clone, Copy)]
struct ProcessRow {
    pid: u32,
    ppid: u32,
    pgid: u32,
    sid: u32,
}

/// Every process in `/proc`.
fn process_table() -> Vec<ProcessRow> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(&stat).map(|(ppid, pgid, sid)| ProcessRow {
                pid,
                ppid,
                pgid,
                sid,
            })
        })
        .collect()
}

/// `(ppid, pgid, session)` from the text of `/proc/<pid>/stat` (the name may hold spaces
/// and parentheses, so fields are counted after the last `)`).
fn parse_stat(stat: &str) -> Option<(u32, u32, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    let sid = fields.next()?.parse().ok()?;
    Some((ppid, pgid, sid))
}

fn descendants_in(table: &[ProcessRow], root: u32) -> Vec<u32> {
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(table.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    found.remove(0);
    found
}

/// Every live descendant of `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    descendants_in(&process_table(), root)
}

/// Processes in the session `sid` leads (the executor's container, for posix). `/proc` is
/// only listed; each pid's session comes from `getsid(2)`, a syscall, instead of reading
/// and parsing its `/proc/<pid>/stat` (which the kernel formats from ~50 fields: that read
/// was a sixth of the agent's CPU when every task's destroy scanned the machine with it).
pub fn session_members(sid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            // ESRCH: the process ended between the listing and the question.
            nix::unistd::getsid(Some(Pid::from_raw(pid as i32)))
                .is_ok_and(|s| s.as_raw() as u32 == sid)
        })
        .collect()
}

/// SIGKILLs every process still in the session `sid` (its leader already reaped, so `sid`
/// names no live process of ours, only the session). Scans again after each round of
/// kills until a scan finds no process it has not killed yet, so a member that forked
/// while the first scan ran is found by the next (a process with a pending SIGKILL forks
/// no more). Bounded to 100 rounds. Returns how many processes were signalled.
pub fn kill_session(sid: u32) -> usize {
    let mut killed: Vec<u32> = Vec::new();
    for _ in 0..100 {
        let fresh: Vec<u32> = session_members(sid)
            .into_iter()
            .filter(|p| !killed.contains(p))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for &pid in &fresh {
            // ESRCH: it ended on its own meanwhile.
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        killed.extend(fresh);
    }
    killed.len()
}

/// Whether process `pid` exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    parse_stat(&stat).is_some()
        && !matches!(
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next()),
            None | Some("Z") | Some("X")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True while `pid` runs (a zombie or a vanished pid does not). Also used by
    /// `isolating`'s tests.
    pub(super) fn pid_running(pid: u32) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        !matches!(state, None | Some("Z") | Some("X"))
    }

    #[test]
    fn stat_parsing_skips_odd_process_names() {
        assert_eq!(parse_stat("42 (a (b) c) S 7 42 40 0 -1"), Some((7, 42, 40)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[tokio::test]
    async fn launch_runs_in_sandbox_with_logs_and_destroy_kills_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = PosixContainerizer::new();
        let id = ContainerId::new("c1");
        let pid = c
            .launch(LaunchSpec {
                container_id: id.clone(),
                directory: dir.path().to_path_buf(),
                command: ExecutorCommand::Shell(
                    "echo out-$GREETING; echo err >&2; pwd; sleep 1000 & sleep 1000".into(),
                ),
                env: vec![("GREETING".into(), "hi".into())],
                executor_starts_session: false,
                limits: Limits::default(),
                rootfs: None,
                volumes: Vec::new(),
                user: None,
            })
            .unwrap();
        let wait = c.wait(&id).unwrap();
        // The grandchild appears once the shell forked it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while descendants(pid).len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "children never appeared"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let children = descendants(pid);
        c.destroy(&id).unwrap();
        let end = wait.await;
        assert_eq!(end.signal, Some(9), "{end}");
        for child in children {
            // Gone (reaped by init) or a zombie: not running. SIGKILL takes a moment to land.
            while pid_running(child) {
                assert!(std::time::Instant::now() < deadline, "{child} still runs");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        let out = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
        assert!(out.starts_with("out-hi\n"), "{out}");
        assert!(out.contains(dir.path().to_str().unwrap()), "{out}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("stderr")).unwrap(),
            "err\n"
        );
    }

    #[tokio::test]
    async fn destroy_after_the_executor_died_still_kills_what_it_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = PosixContainerizer::new();
        let id = ContainerId::new("c2");
        let pid = c
            .launch(LaunchSpec {
                container_id: id.clone(),
                directory: dir.path().to_path_buf(),
                command: ExecutorCommand::Shell("sleep 1000 & echo $! > child; wait".into()),
                env: vec![],
                executor_starts_session: false,
                limits: Limits::default(),
                rootfs: None,
                volumes: Vec::new(),
                user: None,
            })
            .unwrap();
        let wait = c.wait(&id).unwrap();
        let child_file = dir.path().join("child");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let child: i32 = loop {
            if let Some(n) = std::fs::read_to_string(&child_file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break n;
            }
            assert!(std::time::Instant::now() < deadline, "child never started");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        // The executor dies alone; its child is orphaned but still in its session.
        kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        wait.await;
        assert!(session_members(pid).contains(&(child as u32)));
        c.destroy(&id).unwrap();
        while session_members(pid).iter().any(|&p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            !matches!(
                stat.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .next(),
                None | Some("Z")
            )
        }) {
            assert!(
                std::time::Instant::now() < deadline,
                "orphan survived destroy"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        c.forget(&id);
        assert!(matches!(
            c.destroy(&id),
            Err(AgentError::UnknownContainer(_))
        ));
    }

    #[tokio::test]
    async fn usage_counts_the_session_and_refuses_unknown_containers() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = PosixContainerizer::new();
        let id = ContainerId::new("c3");
        c.launch(LaunchSpec {
            container_id: id.clone(),
            directory: dir.path().to_path_buf(),
            command: ExecutorCommand::Shell("sleep 1000 & sleep 1000".into()),
            env: vec![],
            executor_starts_session: false,
            limits: Limits::default(),
            rootfs: None,
            volumes: Vec::new(),
            user: None,
        })
        .unwrap();
        let wait = c.wait(&id).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let stats = loop {
            let stats = c.usage(&id, 1.0).await.unwrap();
            if stats.processes == Some(3) {
                break stats;
            }
            assert!(std::time::Instant::now() < deadline, "{stats:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert!(stats.mem_rss_bytes.unwrap() > 0, "{stats:?}");
        assert!(stats.cpus_user_time_secs.is_some(), "{stats:?}");
        assert!(stats.timestamp > 0.0);
        c.destroy(&id).unwrap();
        wait.await;
        c.forget(&id);
        assert!(matches!(
            c.usage(&id, 1.0).await,
            Err(AgentError::UnknownContainer(_))
        ));
    }

    #[test]
    fn unknown_containers_are_errors() {
        let mut c = PosixContainerizer::new();
        let id = ContainerId::new("nope");
        assert!(matches!(c.wait(&id), Err(AgentError::UnknownContainer(_))));
        assert!(matches!(
            c.destroy(&id),
            Err(AgentError::UnknownContainer(_))
        ));
    }
}
