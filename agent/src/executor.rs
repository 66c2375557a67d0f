//! The built-in command executor, `meso executor`: runs one command task and reports it.
//!
//! It speaks the v1 executor HTTP API to its agent (`POST /api/v1/executor` at
//! `MESOS_AGENT_ENDPOINT`): a SUBSCRIBE call whose chunked response is the RecordIO event
//! stream, and one short UPDATE call per status. On LAUNCH it sends TASK_STARTING, starts the
//! command (`/bin/sh -c <value>`, or `value` with `arguments` as argv when `shell` is false)
//! in its own process group in the sandbox, sends TASK_RUNNING, and on exit TASK_FINISHED,
//! TASK_FAILED (the message names the exit status or signal) or TASK_KILLED. KILL sends
//! SIGTERM to the command's group and SIGKILL after the grace period (the KILL's kill
//! policy, else the task's, else 3 s). It exits once the agent has acknowledged the terminal
//! update. If the agent connection breaks: for a framework with `checkpoint`
//! (`MESOS_CHECKPOINT=1`) the agent is restarting, so the executor keeps its command
//! running and subscribes again (retrying for up to `MESOS_RECOVERY_TIMEOUT`) with its
//! unacknowledged updates and task, as Mesos's executor library does; otherwise, and when
//! the timeout passes, it kills the command and exits. When the agent
//! sets `MESO_COMMAND_ROOTFS`, the command runs inside that root filesystem, the executor
//! staying on the host (`rootfs_command.rs`).
//!
//! Checks (`task_checks.rs`, over the `meso-checks` crate): a task's `health_check` and
//! `check` start once it is TASK_RUNNING. Each health transition is a TASK_RUNNING update
//! with `healthy` (reason `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`); a task past its
//! consecutive failures is killed with its kill policy, and its TASK_KILLED carries
//! `healthy: false` and that reason. Each changed general check result is an update with
//! `check_status` (reason `REASON_TASK_CHECK_STATUS_UPDATED`). Neither is sent once the
//! task is being killed.
//!
//! Small by design: threads and blocking sockets, no async runtime, no libprocess node. The
//! event loop ([`CommandExecutor`]) takes [`Input`]s from one channel fed by the stream
//! reader, the command waiter and kill timers, so its state is touched in one place.
//! Having no node, it has no clock or rng seams: its update uuids and timestamps are read
//! from the system directly (the one exception the `seams_tidy` test allows in the agent).

mod http_client;
mod rootfs_command;
mod task_checks;

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meso_api::v1::executor::{
    Call, CallType, Event, EventType, Subscribe, UnacknowledgedUpdate, Update,
};
use meso_api::v1::{
    CheckStatusInfo, ExecutorId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus,
    TaskStatusReason, TaskStatusSource,
};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::error::AgentError;
use crate::executor_contract::COMMAND_ROOTFS_ENV;
use meso_api::duration::parse_duration;

/// Path of the executor API on the agent.
pub const EXECUTOR_API_PATH: &str = "/api/v1/executor";
/// First wait before subscribing again to a restarting agent (doubling per attempt).
const RESUBSCRIBE_BACKOFF_MIN: Duration = Duration::from_millis(50);
/// Longest wait between attempts to subscribe again.
const RESUBSCRIBE_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Grace period between SIGTERM and SIGKILL when no kill policy says otherwise.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);

/// What the executor learns from its environment (Mesos's executor environment).
#[derive(Debug, Clone)]
pub struct ExecutorEnv {
    /// `MESOS_AGENT_ENDPOINT`: `ip:port` of the agent.
    pub agent_endpoint: String,
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: ExecutorId,
    /// `MESOS_SANDBOX` (else `MESOS_DIRECTORY`, else the working directory).
    pub sandbox: Option<PathBuf>,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (default 5 s).
    pub shutdown_grace: Duration,
    /// `MESO_COMMAND_ROOTFS`: the host path of the root filesystem the command runs in
    /// (set by the agent's containerizer; see `rootfs_command.rs`).
    pub command_rootfs: Option<PathBuf>,
    /// Path of the executor API: `/<agent process id>/api/v1/executor` from
    /// `MESOS_SLAVE_PID` (as Mesos's executor library does), else [`EXECUTOR_API_PATH`].
    /// The explicit process id matters when the agent shares a node with a master
    /// (`meso local`), where the bare path would reach the master.
    pub api_path: String,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`: the bearer token the agent gave this executor
    /// for its executor API (set when the agent has a `--jwt-secret-file`).
    pub authentication_token: Option<String>,
    /// `MESOS_CHECKPOINT=1`: the framework checkpoints, so a broken agent connection is an
    /// agent restart to wait for, not the end.
    pub checkpoint: bool,
    /// `MESOS_RECOVERY_TIMEOUT` (default 15 mins): how long to wait for a restarted agent.
    pub recovery_timeout: Duration,
    /// `MESO_SSL_CA_FILE` (with `MESO_SSL_CERT_FILE` and `MESO_SSL_KEY_FILE`): the agent
    /// runs TLS, so the executor's connections do too.
    pub tls: Option<http_client::TlsConfig>,
}

/// The TLS configuration the agent passed on (`MESO_SSL_CA_FILE`, and the certificate and
/// key to present), or `None` without a CA; errors name the variable.
fn executor_tls(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<http_client::TlsConfig>, AgentError> {
    let Some(ca) = get("MESO_SSL_CA_FILE").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let cert = get("MESO_SSL_CERT_FILE").filter(|v| !v.is_empty());
    let key = get("MESO_SSL_KEY_FILE").filter(|v| !v.is_empty());
    let identity = match (&cert, &key) {
        (Some(c), Some(k)) => Some((std::path::Path::new(c), std::path::Path::new(k))),
        (None, None) => None,
        _ => {
            return Err(AgentError::Env {
                name: "MESO_SSL_CERT_FILE",
                reason: "MESO_SSL_CERT_FILE and MESO_SSL_KEY_FILE go together".into(),
            })
        }
    };
    libprocess::Tls::client_from_files(std::path::Path::new(&ca), identity)
        .map(|tls| Some(tls.client_config()))
        .map_err(|e| AgentError::Env {
            name: "MESO_SSL_CA_FILE",
            reason: e.to_string(),
        })
}

impl ExecutorEnv {
    /// Reads the environment through `get`; errors name the variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, AgentError> {
        let need = |name: &'static str| {
            get(name).filter(|v| !v.is_empty()).ok_or(AgentError::Env {
                name,
                reason: "not set".into(),
            })
        };
        let framework_id = FrameworkId::new(need("MESOS_FRAMEWORK_ID")?);
        framework_id.validate().map_err(|e| AgentError::Env {
            name: "MESOS_FRAMEWORK_ID",
            reason: e.to_string(),
        })?;
        let executor_id = ExecutorId::new(need("MESOS_EXECUTOR_ID")?);
        executor_id.validate().map_err(|e| AgentError::Env {
            name: "MESOS_EXECUTOR_ID",
            reason: e.to_string(),
        })?;
        let shutdown_grace = match get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD") {
            Some(text) => parse_duration(&text).map_err(|reason| AgentError::Env {
                name: "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                reason,
            })?,
            None => Duration::from_secs(5),
        };
        let recovery_timeout = match get("MESOS_RECOVERY_TIMEOUT") {
            Some(text) => parse_duration(&text).map_err(|reason| AgentError::Env {
                name: "MESOS_RECOVERY_TIMEOUT",
                reason,
            })?,
            None => Duration::from_secs(15 * 60),
        };
        let tls = executor_tls(&get)?;
        Ok(ExecutorEnv {
            tls,
            checkpoint: get("MESOS_CHECKPOINT").as_deref() == Some("1"),
            recovery_timeout,
            agent_endpoint: need("MESOS_AGENT_ENDPOINT")?,
            framework_id,
            executor_id,
            sandbox: get("MESOS_SANDBOX")
                .or_else(|| get("MESOS_DIRECTORY"))
                .map(PathBuf::from),
            shutdown_grace,
            command_rootfs: get(COMMAND_ROOTFS_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            api_path: get("MESOS_SLAVE_PID")
                .and_then(|pid| {
                    let (id, _) = pid.split_once('@')?;
                    let usable = !id.is_empty()
                        && id
                            .chars()
                            .all(|c| c.is_ascii_graphic() && !"/?#%".contains(c));
                    usable.then(|| format!("/{id}{EXECUTOR_API_PATH}"))
                })
                .unwrap_or_else(|| EXECUTOR_API_PATH.to_string()),
            // Mesos's executor environment, read by name like the other `MESOS_*`.
            authentication_token: get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN")
                .filter(|v| !v.is_empty()),
        })
    }
}

/// Runs the command executor with the process environment until its task is done; returns
/// the process exit code. (`meso executor` reaches it through `executor_main.rs`, which
/// may make the process a zygote instead.)
pub fn run_executor() -> i32 {
    // Lead a session of our own: the agent finds (and destroys) everything we start by it.
    // Fails harmlessly when already a session leader.
    let _ = nix::unistd::setsid();
    prepare_process();
    run_prepared_executor()
}

/// Process-wide settings of an executor, made before any thread starts: one malloc arena,
/// and this binary's code mapped without read-ahead. Both survive `fork`, so the zygote
/// makes them once and the executors it forks start with them ([`run_forked_executor`]).
pub fn prepare_process() {
    // One malloc arena for all threads: per-thread arenas would each touch their own pages.
    // SAFETY: mallopt only changes allocator tuning; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    map_own_code_sparsely();
}

/// [`run_executor`] in a process forked by the executor zygote, which already leads its
/// own session and inherited the zygote's [`prepare_process`] (doing it again cost every
/// task a `setsid`, a `readlink`, a read of `/proc/self/maps`, which the kernel formats
/// afresh, and four `madvise` calls, all for nothing).
pub fn run_forked_executor() -> i32 {
    run_prepared_executor()
}

fn run_prepared_executor() -> i32 {
    let env = match ExecutorEnv::from_lookup(|k| std::env::var(k).ok()) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("meso executor: {e}");
            return 2;
        }
    };
    match CommandExecutor::new(env).run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meso executor: {e}");
            1
        }
    }
}

/// The executor runs a small part of a large binary (`meso` holds the master and the agent
/// too). `MADV_RANDOM` on this binary's own mappings tells the kernel not to read ahead
/// around each page faulted in from disk. Pages already cached are still mapped in
/// windows ("fault-around", or a whole large folio on recent kernels); against that the
/// `meso` link places the executor's functions together (see the root `build.rs`).
fn map_own_code_sparsely() {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let exe = exe.to_string_lossy();
    for line in maps.lines().filter(|l| l.ends_with(exe.as_ref())) {
        let Some((range, _)) = line.split_once(' ') else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: advice on a range of our own mapping, taken from /proc/self/maps; it
        // changes paging policy only, never the contents or the mapping itself.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_RANDOM);
        }
    }
}

/// Everything the event loop reacts to.
#[derive(Debug)]
pub enum Input {
    /// An event from the agent.
    Event(Box<Event>),
    /// The event stream ended or broke.
    Disconnected(String),
    /// The command exited.
    CommandExited(ExitStatus),
    /// The grace period of kill number `n` is over.
    Escalate(u64),
    /// A health check ended: what it means, and what the probe found (for the log).
    Health(meso_checks::health::Verdict, String),
    /// The general check's result changed.
    Check(CheckStatusInfo),
}

struct RunningTask {
    info: TaskInfo,
    pgid: i32,
}

/// The executor's state and event loop.
pub struct CommandExecutor {
    env: ExecutorEnv,
    tx: mpsc::Sender<Input>,
    rx: mpsc::Receiver<Input>,
    task: Option<RunningTask>,
    launched: bool,
    kill_requested: Option<u64>,
    /// Updates sent and not yet acknowledged, oldest first (resent on re-subscription).
    unacknowledged: Vec<Update>,
    /// The task, once launched (listed on re-subscription).
    task_info: Option<TaskInfo>,
    terminal_uuid: Option<Vec<u8>>,
    shutting_down: bool,
    calls: http_client::CallConnection,
    /// The last update sent (health and check updates are copies of it).
    last_status: Option<TaskStatus>,
    /// The task is being killed because its health check failed too often.
    killed_by_health_check: bool,
}

impl CommandExecutor {
    /// A fresh executor for `env`.
    pub fn new(env: ExecutorEnv) -> Self {
        let (tx, rx) = mpsc::channel();
        let calls = http_client::CallConnection::new(
            &env.agent_endpoint,
            &env.api_path,
            env.authentication_token.as_deref(),
            env.tls.clone(),
        );
        CommandExecutor {
            calls,
            env,
            tx,
            rx,
            task: None,
            launched: false,
            kill_requested: None,
            unacknowledged: Vec::new(),
            task_info: None,
            terminal_uuid: None,
            shutting_down: false,
            last_status: None,
            killed_by_health_check: false,
        }
    }

    fn call(&self, kind: CallType) -> Call {
        Call {
            executor_id: self.env.executor_id.clone(),
            framework_id: self.env.framework_id.clone(),
            kind,
            subscribe: None,
            update: None,
            message: None,
        }
    }

    /// Subscribes and handles inputs until done; returns the exit code.
    pub fn run(mut self) -> Result<i32, AgentError> {
        self.subscribe()?;
        while let Ok(input) = self.rx.recv() {
            if let Some(code) = self.handle(input) {
                return Ok(code);
            }
        }
        Ok(1)
    }

    /// Sends SUBSCRIBE (listing what is unacknowledged) and starts the thread that reads
    /// the event stream into the input channel.
    fn subscribe(&mut self) -> Result<(), AgentError> {
        let mut subscribe = self.call(CallType::Subscribe);
        subscribe.subscribe = Some(Subscribe {
            unacknowledged_tasks: self.task_info.iter().cloned().collect(),
            unacknowledged_updates: self
                .unacknowledged
                .iter()
                .map(|u| UnacknowledgedUpdate {
                    status: u.status.clone(),
                })
                .collect(),
        });
        let body = serde_json::to_vec(&subscribe).expect("executor calls always serialise");
        let mut stream = http_client::subscribe(
            &self.env.agent_endpoint,
            &self.env.api_path,
            self.env.authentication_token.as_deref(),
            self.env.tls.as_ref(),
            &body,
        )?;
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name("events".into())
            .stack_size(256 * 1024)
            .spawn(move || loop {
                let input = match stream.next_record() {
                    Ok(Some(record)) => match serde_json::from_slice::<Event>(&record) {
                        Ok(event) => Input::Event(Box::new(event)),
                        Err(e) => Input::Disconnected(format!("undecodable event: {e}")),
                    },
                    Ok(None) => Input::Disconnected("the agent closed the stream".into()),
                    Err(e) => Input::Disconnected(e.to_string()),
                };
                let end = matches!(input, Input::Disconnected(_));
                if tx.send(input).is_err() || end {
                    return;
                }
            })
            .map_err(|source| AgentError::Io {
                what: "starting the event reader thread",
                path: String::new(),
                source,
            })?;
        Ok(())
    }

    /// The agent is restarting: subscribes again until it answers or the recovery timeout
    /// passes. True once subscribed.
    fn resubscribe(&mut self) -> bool {
        let started = std::time::Instant::now();
        let mut backoff = RESUBSCRIBE_BACKOFF_MIN;
        while started.elapsed() < self.env.recovery_timeout {
            std::thread::sleep(
                backoff.min(self.env.recovery_timeout.saturating_sub(started.elapsed())),
            );
            match self.subscribe() {
                Ok(()) => {
                    eprintln!("meso executor: subscribed again to the restarted agent");
                    return true;
                }
                // The restarted agent does not know this executor (it did not recover
                // it): no point waiting longer.
                Err(e) if refused_by_agent(&e) => {
                    eprintln!("meso executor: the restarted agent refused us: {e}");
                    return false;
                }
                Err(_) => backoff = (backoff * 2).min(RESUBSCRIBE_BACKOFF_MAX),
            }
        }
        false
    }

    /// Handles one input; `Some(code)` when the executor should exit.
    fn handle(&mut self, input: Input) -> Option<i32> {
        match input {
            Input::Event(event) => self.on_event(*event),
            Input::Disconnected(why) => {
                eprintln!("meso executor: agent connection lost: {why}");
                if self.env.checkpoint && self.resubscribe() {
                    return None;
                }
                if self.env.checkpoint {
                    eprintln!(
                        "meso executor: the agent did not come back within the recovery timeout"
                    );
                }
                if let Some(task) = &self.task {
                    let _ = killpg(Pid::from_raw(task.pgid), Signal::SIGKILL);
                }
                Some(1)
            }
            Input::CommandExited(status) => self.on_command_exited(status),
            Input::Health(verdict, found) => self.on_health(verdict, &found),
            Input::Check(result) => {
                if let (Some(_), None, Some(last)) =
                    (&self.task, self.kill_requested, &self.last_status)
                {
                    let status = task_checks::check_update(last, result);
                    self.forward(status);
                }
                None
            }
            Input::Escalate(n) => {
                if self.kill_requested == Some(n) {
                    if let Some(task) = &self.task {
                        eprintln!("meso executor: grace period over, sending SIGKILL");
                        let _ = killpg(Pid::from_raw(task.pgid), Signal::SIGKILL);
                    }
                }
                None
            }
        }
    }

    fn on_event(&mut self, event: Event) -> Option<i32> {
        match event.kind {
            EventType::Subscribed => None,
            EventType::Launch => match event.launch {
                Some(launch) => self.launch(launch.task),
                None => None,
            },
            EventType::LaunchGroup => {
                eprintln!("meso executor: LAUNCH_GROUP is not supported by the command executor");
                None
            }
            EventType::Kill => {
                let kill = event.kill?;
                let grace = self.kill_grace(kill.kill_policy.and_then(|p| p.grace_period));
                self.kill(grace);
                None
            }
            EventType::Acknowledged => {
                let ack = event.acknowledged?;
                self.unacknowledged
                    .retain(|u| u.status.uuid.as_ref() != Some(&ack.uuid));
                if self.terminal_uuid.as_ref() == Some(&ack.uuid) {
                    return Some(0);
                }
                None
            }
            EventType::Shutdown => {
                self.shutting_down = true;
                if self.task.is_some() {
                    // The task's own grace, within the agent's grace period less a little
                    // for reporting.
                    let grace = self
                        .env
                        .shutdown_grace
                        .saturating_sub(Duration::from_secs(1));
                    let own = self.task.as_ref().and_then(|t| t.info.kill_policy.as_ref());
                    let grace = match own.and_then(|p| p.grace_period) {
                        Some(_) => grace.min(self.kill_grace(None)),
                        None => grace,
                    };
                    self.kill(grace.max(Duration::from_millis(100)));
                    None
                } else {
                    Some(0)
                }
            }
            EventType::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                eprintln!("meso executor: agent reported an error: {message}");
                None
            }
            EventType::Message | EventType::Heartbeat | EventType::Unknown => None,
        }
    }

    fn launch(&mut self, task: TaskInfo) -> Option<i32> {
        if self.launched {
            self.send_update(
                &task.task_id,
                TaskState::Failed,
                Some("the command executor runs one task only".into()),
                Some(TaskStatusReason::CommandExecutorFailed),
            );
            return None;
        }
        self.launched = true;
        self.task_info = Some(task.clone());
        self.send_update(&task.task_id, TaskState::Starting, None, None);
        let Some(command) = task.command.clone() else {
            return self.fail_launch(&task.task_id, "the task has no command".into());
        };
        if let Some(root) = self.env.command_rootfs.clone() {
            return self.launch_in_rootfs(task, &command, &root);
        }
        let mut cmd = if command.shell {
            let Some(line) = command.value.clone() else {
                return self.fail_launch(&task.task_id, "shell command without a value".into());
            };
            let mut c = std::process::Command::new("/bin/sh");
            c.arg("-c").arg(line);
            c
        } else {
            let Some(program) = command.value.clone() else {
                return self.fail_launch(&task.task_id, "command without a value".into());
            };
            let mut c = std::process::Command::new(program);
            if let Some((argv0, rest)) = command.arguments.split_first() {
                use std::os::unix::process::CommandExt;
                c.arg0(argv0).args(rest);
            }
            c
        };
        if let Some(environment) = &command.environment {
            for var in &environment.variables {
                cmd.env(&var.name, var.value.as_deref().unwrap_or(""));
            }
        }
        if let Some(dir) = &self.env.sandbox {
            cmd.current_dir(dir);
        }
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).stdin(std::process::Stdio::null());
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                return self.fail_launch(&task.task_id, format!("failed to start the command: {e}"))
            }
        };
        let pgid = child.id() as i32;
        self.watch_command(task, pgid, move || child.wait().ok())
    }

    /// The task's command runs as process group `pgid`: a small thread waits for it with
    /// `wait` (reporting its exit), and the task is TASK_RUNNING. If no thread can be
    /// started, the group is killed and the task fails.
    fn watch_command(
        &mut self,
        task: TaskInfo,
        pgid: i32,
        wait: impl FnOnce() -> Option<std::process::ExitStatus> + Send + 'static,
    ) -> Option<i32> {
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("wait".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                if let Some(status) = wait() {
                    let _ = tx.send(Input::CommandExited(status));
                }
            });
        if let Err(e) = spawned {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            return self.fail_launch(&task.task_id, format!("cannot watch the command: {e}"));
        }
        self.send_update(&task.task_id, TaskState::Running, None, None);
        for problem in task_checks::start(&task, self.env.sandbox.as_deref(), &self.tx) {
            eprintln!("meso executor: {problem}");
        }
        self.task = Some(RunningTask { info: task, pgid });
        None
    }

    /// The grace period of a kill: the KILL's override, else the task's kill policy, else
    /// [`DEFAULT_KILL_GRACE`].
    fn kill_grace(&self, requested: Option<meso_api::v1::DurationInfo>) -> Duration {
        requested
            .or_else(|| {
                self.task
                    .as_ref()
                    .and_then(|t| t.info.kill_policy.as_ref())
                    .and_then(|p| p.grace_period)
            })
            .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(DEFAULT_KILL_GRACE)
    }

    /// A health check ended: reports transitions and kills the task past its failures.
    fn on_health(&mut self, verdict: meso_checks::health::Verdict, found: &str) -> Option<i32> {
        use meso_checks::health::Verdict;
        if self.task.is_none() || self.kill_requested.is_some() {
            return None;
        }
        let (healthy, kill) = match verdict {
            Verdict::Quiet => return None,
            Verdict::Healthy => (true, false),
            Verdict::Unhealthy {
                consecutive_failures,
                kill,
            } => {
                eprintln!(
                    "meso executor: health check failed ({found}), {consecutive_failures} in a row"
                );
                (false, kill)
            }
        };
        if let Some(last) = &self.last_status {
            let status = task_checks::health_update(last, healthy);
            self.forward(status);
        }
        if kill {
            eprintln!("meso executor: killing the task after failed health checks");
            self.killed_by_health_check = true;
            self.kill(self.kill_grace(None));
        }
        None
    }

    fn fail_launch(&mut self, task_id: &TaskId, message: String) -> Option<i32> {
        let uuid = self.send_update(
            task_id,
            TaskState::Failed,
            Some(message),
            Some(TaskStatusReason::CommandExecutorFailed),
        );
        self.terminal_uuid = Some(uuid);
        None
    }

    fn kill(&mut self, grace: Duration) {
        let Some(task) = &self.task else { return };
        if self.kill_requested.is_some() {
            return;
        }
        let n = 1;
        self.kill_requested = Some(n);
        let _ = killpg(Pid::from_raw(task.pgid), Signal::SIGTERM);
        let tx = self.tx.clone();
        let _ = std::thread::Builder::new()
            .name("grace".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                std::thread::sleep(grace);
                let _ = tx.send(Input::Escalate(n));
            });
    }

    fn on_command_exited(&mut self, status: ExitStatus) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        let task = self.task.take()?;
        let (state, message) = if self.kill_requested.is_some() {
            (TaskState::Killed, format!("Command {}", describe(status)))
        } else if status.success() {
            (
                TaskState::Finished,
                "Command exited with status 0".to_string(),
            )
        } else {
            (TaskState::Failed, format!("Command {}", describe(status)))
        };
        let reason = match (state, status.signal()) {
            (TaskState::Failed, _) => Some(TaskStatusReason::CommandExecutorFailed),
            // Mesos marks such a kill with `healthy: false` only; the reason says why too.
            (TaskState::Killed, _) if self.killed_by_health_check => {
                Some(TaskStatusReason::TaskHealthCheckStatusUpdated)
            }
            _ => None,
        };
        let mut update = self.new_status(&task.info.task_id, state, Some(message), reason);
        if self.killed_by_health_check && state == TaskState::Killed {
            update.healthy = Some(false);
        }
        let uuid = self.forward(update);
        self.terminal_uuid = Some(uuid);
        None
    }

    /// Sends one UPDATE call for a new state; returns the update's uuid.
    fn send_update(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        message: Option<String>,
        reason: Option<TaskStatusReason>,
    ) -> Vec<u8> {
        let status = self.new_status(task_id, state, message, reason);
        self.forward(status)
    }

    /// A status of a new state, from scratch (with the empty `check_status` of a task
    /// with a check).
    fn new_status(
        &self,
        task_id: &TaskId,
        state: TaskState,
        message: Option<String>,
        reason: Option<TaskStatusReason>,
    ) -> TaskStatus {
        let mut status = TaskStatus::new(task_id.clone(), state);
        status.message = message;
        status.reason = reason;
        status.source = Some(TaskStatusSource::Executor);
        status.executor_id = Some(self.env.executor_id.clone());
        status.check_status = task_checks::empty_check_status(self.task_info.as_ref());
        status
    }

    /// Sends `status` as one UPDATE call with a fresh uuid and timestamp; returns the uuid.
    fn forward(&mut self, mut status: TaskStatus) -> Vec<u8> {
        let state = status.state;
        let uuid = uuid::Uuid::new_v4().as_bytes().to_vec();
        status.uuid = Some(uuid.clone());
        status.timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64());
        self.last_status = Some(status.clone());
        let mut call = self.call(CallType::Update);
        call.update = Some(Update { status });
        let body = serde_json::to_vec(&call).expect("executor calls always serialise");
        if let Some(update) = call.update {
            self.unacknowledged.push(update);
        }
        match self.calls.post(&body) {
            Ok((202, _)) => {}
            Ok((code, body)) => eprintln!(
                "meso executor: UPDATE {state} answered {code}: {}",
                String::from_utf8_lossy(&body)
            ),
            Err(e) => eprintln!("meso executor: UPDATE {state} failed: {e}"),
        }
        uuid
    }
}

/// Whether a SUBSCRIBE failed because the agent answered it with a client error (it does
/// not know this executor), rather than because no agent listens yet.
fn refused_by_agent(error: &AgentError) -> bool {
    matches!(error, AgentError::Protocol { reason, .. } if reason.starts_with("SUBSCRIBE answered 400"))
}

/// "exited with status 3", "terminated by signal SIGTERM".
pub(crate) fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("terminated by signal {}", s.as_str()),
            Err(_) => format!("terminated by signal {sig}"),
        },
        (None, None) => "ended with an unknown status".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_is_read_and_checked() {
        let env = ExecutorEnv::from_lookup(lookup(&[
            ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
            ("MESOS_FRAMEWORK_ID", "fw"),
            ("MESOS_EXECUTOR_ID", "ex"),
            ("MESOS_DIRECTORY", "/tmp/x"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "7secs"),
        ]))
        .unwrap();
        assert_eq!(env.shutdown_grace, Duration::from_secs(7));
        assert_eq!(env.sandbox, Some(PathBuf::from("/tmp/x")));
        assert_eq!(env.api_path, "/api/v1/executor");
        let with_pid = ExecutorEnv::from_lookup(lookup(&[
            ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
            ("MESOS_FRAMEWORK_ID", "fw"),
            ("MESOS_EXECUTOR_ID", "ex"),
            ("MESOS_SLAVE_PID", "slave(1)@127.0.0.1:5051"),
        ]))
        .unwrap();
        assert_eq!(with_pid.api_path, "/slave(1)/api/v1/executor");

        let missing = ExecutorEnv::from_lookup(lookup(&[("MESOS_FRAMEWORK_ID", "fw")]));
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("MESOS_EXECUTOR_ID"));
        let bad = ExecutorEnv::from_lookup(lookup(&[
            ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
            ("MESOS_FRAMEWORK_ID", "fw"),
            ("MESOS_EXECUTOR_ID", "ex"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "soon"),
        ]));
        assert!(bad.unwrap_err().to_string().contains("soon"));
    }

    #[test]
    fn exit_statuses_are_described() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            describe(ExitStatus::from_raw(3 << 8)),
            "exited with status 3"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(15)),
            "terminated by signal SIGTERM"
        );
    }
}
