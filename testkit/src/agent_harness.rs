//! Test harness: a small master (a libprocess process speaking the wire messages) on its own
//! node, an agent on another, one shared paused `TestClock`, and helpers to drive tasks.
//!
//! The master answers registrations with a fixed agent id and reports everything it
//! receives on a channel; tests send it the master's side of the protocol by hand.
//!
//! Invariant: a selective wait ([`Harness::next_update`], [`Harness::registered`],
//! [`Harness::until_pong`], [`Harness::executor_exited`], ...) never loses what it passes
//! over: messages it skips are kept, in order, for the next wait that asks for them. (The
//! agent may legitimately report an executor's exit before that executor's terminal update,
//! which it holds back until the previous update is acknowledged; a wait for the update
//! that dropped the exit report left the next wait hanging.)

use meso_api::http::auth::HttpAuthenticator;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process, TestClock, Upid};
use meso_agent::agent::{Agent, AgentConfig, AGENT_PROCESS_ID};
use meso_agent::containerizer::{Containerizer, PosixContainerizer};
use meso_api::v1::{
    AgentId, CommandInfo, DurationInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo,
    KillPolicy, TaskId, TaskInfo, TaskState,
};
use meso_api::wire::{
    AgentRegistered, AgentReregistered, ExitedExecutor, KillTask, PongAgent, RegisterAgent,
    ReregisterAgent, RunTask, StatusUpdateAcknowledgement, StatusUpdateMessage,
};
use meso_api::Resources;
use tokio::sync::mpsc;

use crate::eventually::eventually_async_within;

/// What the test master received.
#[derive(Debug)]
pub enum Seen {
    Register(Box<RegisterAgent>),
    Reregister(Box<ReregisterAgent>),
    Pong,
    Update(Box<StatusUpdateMessage>),
    ExecutorExited(ExitedExecutor),
}

pub struct TestMaster {
    tx: mpsc::UnboundedSender<Seen>,
}

pub enum MasterMessage {
    Register(RegisterAgent),
    Reregister(ReregisterAgent),
    Pong(PongAgent),
    Update(StatusUpdateMessage),
    Exited(ExitedExecutor),
}

macro_rules! into_master {
    ($($ty:ty => $v:ident),*) => {$(
        impl From<$ty> for MasterMessage { fn from(m: $ty) -> Self { MasterMessage::$v(m) } }
    )*};
}
into_master!(RegisterAgent => Register, ReregisterAgent => Reregister, PongAgent => Pong,
    StatusUpdateMessage => Update, ExitedExecutor => Exited);

pub const AGENT_ID: &str = "M-S0";

impl Process for TestMaster {
    type Message = MasterMessage;

    fn install(h: &mut Handlers<Self>) {
        h.on::<RegisterAgent>()
            .on::<ReregisterAgent>()
            .on::<PongAgent>()
            .on::<StatusUpdateMessage>()
            .on::<ExitedExecutor>();
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: MasterMessage) {
        let from = ctx.from().cloned();
        let seen = match msg {
            MasterMessage::Register(m) => {
                if let Some(from) = &from {
                    // Fake master: the agent retries registration if this is lost.
                    let _ = ctx.send(
                        from,
                        AgentRegistered {
                            agent_id: AgentId::new(AGENT_ID),
                            total_ping_timeout_seconds: Some(75.0),
                        },
                    );
                }
                Seen::Register(Box::new(m))
            }
            MasterMessage::Reregister(m) => {
                if let Some(from) = &from {
                    // Fake master: the agent retries re-registration if this is lost.
                    let _ = ctx.send(
                        from,
                        AgentReregistered {
                            agent_id: AgentId::new(AGENT_ID),
                            total_ping_timeout_seconds: Some(75.0),
                            reconciliations: Vec::new(),
                        },
                    );
                }
                Seen::Reregister(Box::new(m))
            }
            MasterMessage::Pong(_) => Seen::Pong,
            MasterMessage::Update(m) => Seen::Update(Box::new(m)),
            MasterMessage::Exited(m) => Seen::ExecutorExited(m),
        };
        let _ = self.tx.send(seen);
    }
}

pub struct Harness {
    pub clock: TestClock,
    pub master_node: Node,
    pub master: Upid,
    pub agent_node: Node,
    pub agent: Upid,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    /// What selective waits passed over, oldest first (see the module docs).
    skipped: VecDeque<Seen>,
    tx: mpsc::UnboundedSender<Seen>,
    pub work_dir: tempfile::TempDir,
}

/// Hang guard for anything a test waits for (real time; never an assertion of speed).
pub const HANG_GUARD: Duration = Duration::from_secs(90);

pub async fn start_master(
    clock: &TestClock,
    bind: SocketAddr,
    tx: mpsc::UnboundedSender<Seen>,
) -> (Node, Upid) {
    // A restarted master reuses its port; the old listener may take a moment to close.
    let deadline = std::time::Instant::now() + HANG_GUARD;
    let node = loop {
        match Node::builder().bind(bind).test_clock(clock).build().await {
            Ok(node) => break node,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("master node binds on {bind}: {e}"),
        }
    };
    let pid = node
        .spawn_named("master", TestMaster { tx })
        .expect("spawn the test master");
    let upid = pid.upid().clone();
    (node, upid)
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_with(Box::new(PosixContainerizer::new())).await
    }

    /// A started agent (posix containerizer) once it has registered with the test master.
    pub async fn start_registered() -> Harness {
        let mut h = Harness::start().await;
        h.registered().await;
        h
    }

    /// An agent whose containerizer is `containerizer` (e.g. one with isolators).
    pub async fn start_with(containerizer: Box<dyn Containerizer>) -> Harness {
        Harness::start_guarded(containerizer, HttpAuthenticator::open()).await
    }

    /// An agent whose HTTP endpoints are guarded by `http_auth`.
    pub async fn start_guarded(
        containerizer: Box<dyn Containerizer>,
        http_auth: HttpAuthenticator,
    ) -> Harness {
        Harness::start_configured(containerizer, move |c| c.http_auth = http_auth).await
    }

    /// An agent whose configuration `configure` changes from the harness's.
    pub async fn start_configured(
        containerizer: Box<dyn Containerizer>,
        configure: impl FnOnce(&mut AgentConfig),
    ) -> Harness {
        let clock = TestClock::paused();
        let (tx, seen) = mpsc::unbounded_channel();
        let (master_node, master) =
            start_master(&clock, "127.0.0.1:0".parse().unwrap(), tx.clone()).await;
        let work_dir = tempfile::tempdir().expect("temp work dir");
        let agent_node = Node::builder()
            .test_clock(&clock)
            .delegate(AGENT_PROCESS_ID)
            .build()
            .await
            .expect("agent node binds on loopback");
        let mut config = AgentConfig {
            master: master.clone(),
            masters: Vec::new(),
            hostname: "localhost".into(),
            work_dir: work_dir.path().to_path_buf(),
            resources: Resources::parse("cpus:2;mem:1024;disk:1024;ports:[31000-32000]", "*")
                .unwrap(),
            attributes: Default::default(),
            executor_registration_timeout: Duration::from_secs(60),
            executor_shutdown_grace_period: Duration::from_secs(5),
            registration_backoff_factor: Duration::from_secs(1),
            command_executor: crate::process::cargo_bin("meso-executor"),
            http_auth: HttpAuthenticator::open(),
            recovery: Default::default(),
            oversubscription: Default::default(),
            fetcher: Default::default(),
            gc: Default::default(),
            acls: None,
            switch_user: true,
            authentication: Default::default(),
        };
        configure(&mut config);
        let log = slog::Logger::root(slog::Discard, slog::o!());
        let agent = Agent::new(config, containerizer, log);
        let agent = agent_node
            .spawn_named(AGENT_PROCESS_ID, agent)
            .expect("spawn the agent")
            .upid()
            .clone();
        Harness {
            clock,
            master_node,
            master,
            agent_node,
            agent,
            seen,
            skipped: VecDeque::new(),
            tx,
            work_dir,
        }
    }

    pub fn sender(&self) -> mpsc::UnboundedSender<Seen> {
        self.tx.clone()
    }

    /// The next thing the master received: the oldest one a selective wait passed over,
    /// else the next to arrive.
    pub async fn next(&mut self) -> Seen {
        match self.skipped.pop_front() {
            Some(seen) => seen,
            None => self.arrival().await,
        }
    }

    /// The next message to arrive at the master (hang-guarded).
    async fn arrival(&mut self) -> Seen {
        tokio::time::timeout(HANG_GUARD, self.seen.recv())
            .await
            .expect("hang guard: the master heard nothing")
            .expect("the master's channel stays open")
    }

    /// The first message `pick` takes (`Ok`), from those passed over before or arriving
    /// now; what it gives back (`Err`) is kept, in order, for later waits.
    pub async fn next_matching<T>(&mut self, pick: impl Fn(Seen) -> Result<T, Seen>) -> T {
        for at in 0..self.skipped.len() {
            let seen = self
                .skipped
                .remove(at)
                .expect("invariant: the index is below the length");
            match pick(seen) {
                Ok(found) => return found,
                Err(seen) => self.skipped.insert(at, seen),
            }
        }
        loop {
            let seen = self.arrival().await;
            match pick(seen) {
                Ok(found) => return found,
                Err(seen) => self.skipped.push_back(seen),
            }
        }
    }

    /// Waits until the master has received a message `wanted` accepts, leaving it (and
    /// everything before it) for later waits.
    pub async fn until_arrived(&mut self, wanted: impl Fn(&Seen) -> bool) {
        if self.skipped.iter().any(&wanted) {
            return;
        }
        loop {
            let seen = self.arrival().await;
            let found = wanted(&seen);
            self.skipped.push_back(seen);
            if found {
                return;
            }
        }
    }

    /// Waits until registered (other messages are kept for later waits).
    pub async fn registered(&mut self) -> RegisterAgent {
        let r = self
            .next_matching(|seen| match seen {
                Seen::Register(r) => Ok(r),
                other => Err(other),
            })
            .await;
        // Let the reply land before the test goes on.
        self.clock.settle().await;
        *r
    }

    /// Waits until the agent re-registers (other messages are kept for later waits).
    pub async fn reregistered(&mut self) -> ReregisterAgent {
        *self
            .next_matching(|seen| match seen {
                Seen::Reregister(r) => Ok(r),
                other => Err(other),
            })
            .await
    }

    /// The next status update (other messages are kept for later waits).
    pub async fn next_update(&mut self) -> meso_api::wire::StatusUpdate {
        self.next_matching(|seen| match seen {
            Seen::Update(u) => Ok(u.update),
            other => Err(other),
        })
        .await
    }

    /// The next executor exit the agent reports (other messages are kept for later waits).
    pub async fn executor_exited(&mut self) -> ExitedExecutor {
        self.next_matching(|seen| match seen {
            Seen::ExecutorExited(e) => Ok(e),
            other => Err(other),
        })
        .await
    }

    /// Sends `msg` to the agent as the master.
    pub fn to_agent<M: libprocess::RemoteMessage>(&self, msg: M) {
        self.master_node
            .send_from(Some(&self.master), &self.agent, msg)
            .expect("the master can send to the agent");
    }

    pub fn ack(&self, update: &meso_api::wire::StatusUpdate) {
        self.to_agent(StatusUpdateAcknowledgement {
            agent_id: AgentId::new(AGENT_ID),
            framework_id: update.framework_id.clone(),
            task_id: update.status.task_id.clone(),
            uuid: update.uuid.clone().expect("agent updates carry a uuid"),
        });
    }

    /// Acknowledges updates until a terminal one, which it returns.
    pub async fn until_terminal(&mut self) -> meso_api::wire::StatusUpdate {
        loop {
            let u = self.next_update().await;
            self.ack(&u);
            if u.status.state.is_terminal() {
                return u;
            }
        }
    }

    /// Receives the next update, checks its state, acknowledges it, returns it.
    pub async fn expect_state(&mut self, state: TaskState) -> meso_api::wire::StatusUpdate {
        let u = self.next_update().await;
        assert_eq!(
            u.status.state, state,
            "expected {state}, got {} ({:?})",
            u.status.state, u.status.message
        );
        self.ack(&u);
        u
    }

    pub fn run_task(&self, task: TaskInfo) {
        self.to_agent(RunTask {
            framework: framework(),
            pid: None,
            task,
        });
    }

    /// Waits until the agent answers a ping (other messages are kept for later waits).
    pub async fn until_pong(&mut self) {
        self.next_matching(|seen| match seen {
            Seen::Pong => Ok(()),
            other => Err(other),
        })
        .await
    }

    /// Expects (and acknowledges) STARTING then RUNNING: a task's way to running.
    pub async fn expect_running(&mut self) {
        self.expect_state(TaskState::Starting).await;
        self.expect_state(TaskState::Running).await;
    }

    /// Asks the agent, as the master, to kill `task` of the test framework.
    pub fn kill_task(&self, task: &str, kill_policy: Option<KillPolicy>) {
        self.to_agent(KillTask {
            framework_id: FrameworkId::new("M-0000"),
            task_id: TaskId::new(task),
            kill_policy,
        });
    }
}

/// The name of the user the tests run as: the test framework's user, so its tasks run
/// under `--switch-user` (on by default) without switching.
pub fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .expect("the test's own user is in the user database")
}

pub fn framework() -> FrameworkInfo {
    let mut fw = FrameworkInfo::new(&os_user(), "agent-tests");
    fw.id = Some(FrameworkId::new("M-0000"));
    fw
}

/// Task `id` of the test agent running `command` through the shell, with cpus:0.1;mem:32.
pub fn command_task(id: &str, command: &str) -> TaskInfo {
    let resources = Resources::parse("cpus:0.1;mem:32", "*").expect("test resources parse");
    TaskInfo::command(id, AgentId::new(AGENT_ID), command).with_resources(resources)
}

/// A custom executor of the test framework running `command`, with no resources of its own.
pub fn executor_info(id: &str, command: CommandInfo) -> ExecutorInfo {
    ExecutorInfo {
        kind: None,
        executor_id: ExecutorId::new(id),
        framework_id: Some(FrameworkId::new("M-0000")),
        command: Some(command),
        container: None,
        resources: Default::default(),
        name: None,
        data: None,
        shutdown_grace_period: None,
        labels: None,
    }
}

/// A task with id `id` handed to the custom `executor` (no command of its own).
pub fn executor_task(id: &str, executor: ExecutorInfo) -> TaskInfo {
    command_task(id, "true").with_executor(executor)
}

/// The state letter of process `pid` from `/proc/<pid>/stat` (`R`, `S`, `Z`, ...), or
/// `None` once the process is gone.
pub fn process_state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_state(&stat).map(str::to_string)
}

/// The state field of a `/proc/<pid>/stat` line (the first one after the command's `)`).
pub fn stat_state(stat: &str) -> Option<&str> {
    stat.rsplit(')').next()?.split_whitespace().next()
}

pub fn grace(secs: i64) -> Option<KillPolicy> {
    Some(KillPolicy {
        grace_period: Some(DurationInfo::from_secs(secs)),
    })
}

impl Harness {
    /// The sandbox of the (only) run of a command task's executor.
    pub fn sandbox_of(&self, task: &str) -> std::path::PathBuf {
        let runs = self.work_dir.path().join(format!(
            "slaves/{AGENT_ID}/frameworks/M-0000/executors/{task}/runs"
        ));
        std::fs::read_dir(&runs)
            .unwrap_or_else(|e| panic!("no runs in {}: {e}", runs.display()))
            .next()
            .expect("one run")
            .expect("readable run entry")
            .path()
    }

    /// Waits (real time, hang-guarded) until `file` exists in the task's sandbox.
    pub async fn wait_for_file(&self, task: &str, file: &str) {
        let path = self.sandbox_of(task).join(file);
        let what = format!("{} to appear", path.display());
        eventually_async_within(&what, HANG_GUARD, || async { path.exists() }).await;
    }
}
