//! The `Agent` process (`slave(1)`): registration with the master, liveness, and the home of
//! the agent's state. Task and executor lifecycle live in [`tasks`], the v1 executor HTTP
//! API in [`executor_api`], status update delivery in [`updates`].
//!
//! Registration: on start the agent links to the master and sends `RegisterAgent` (or
//! `ReregisterAgent` once it has an id), retrying with exponential backoff (from
//! `--registration-backoff-factor`, doubling to 1 min) and random jitter until the master
//! answers. When the link to the master breaks, or no ping arrives within the master's
//! total ping timeout, the agent is disconnected: status updates pause and it re-registers
//! the same way. Pings are answered with `PongAgent`. With several masters (`--master
//! a,b,c`) the agent finds the leader with a `MasterDetector` ([`detection`]): a retry
//! without an answer or a broken link moves on to the next master, a `NotLeader` answer
//! naming the leader sends the (re)registration there at once.
//!
//! Invariants: every timer message carries the generation it was set for and is ignored if
//! the generation moved on; status updates are sent to the master only while registered.

pub mod authentication;
mod authorization;
mod books;
mod checkpointing;
pub mod config_update;
mod detection;
mod draining;
pub mod executor_api;
pub mod executor_env;
mod fetching;
pub mod files;
pub mod http_routes;
mod master_reconciliation;
pub mod metrics;
pub mod monitor;
pub mod operator_api;
mod orphans;
pub mod oversubscription;
pub mod recovery;
mod sandbox_gc;
pub mod state_json;
pub mod task_groups;
pub mod task_rootfs;
pub mod task_users;
pub mod tasks;
pub mod updates;
mod volumes;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use libprocess::{Context, Handlers, HttpReply, HttpRequest, Process, Upid};
use meso_api::attributes::Attributes;
use meso_api::v1::{AgentId, AgentInfo, ContainerId, ExecutorId, FrameworkId};
use meso_api::wire::{
    AgentRegistered, AgentReregistered, FrameworkToExecutor, KillTask, PingAgent, PongAgent,
    RegisterAgent, ReregisterAgent, RunTask, RunTaskGroup, ShutdownAgent, ShutdownExecutor,
    ShutdownFramework, StatusUpdateAcknowledgement,
};
use meso_api::Resources;
use slog::{error, info, warn, Logger};

use crate::checkpoint::CheckpointStore;
use crate::containerizer::{Containerizer, Termination};
use crate::status_updates::StatusUpdateManager;
use books::Framework;

/// The agent's process id, as in Mesos (`slave(1)@ip:port`).
pub const AGENT_PROCESS_ID: &str = "slave(1)";
/// Longest wait between (re)registration attempts.
pub const MAX_REGISTRATION_BACKOFF: Duration = Duration::from_secs(60);
/// How long the agent waits for pings before the master tells it (Mesos's default 75 s).
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(75);

/// Everything the agent needs to run (built from the flags by `AgentFlags::to_config`).
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The master's process (the first of `--master`).
    pub master: Upid,
    /// The other masters of `--master a,b,c` (empty with one master).
    pub masters: Vec<Upid>,
    /// Hostname reported to the master.
    pub hostname: String,
    /// Work dir (absolute).
    pub work_dir: PathBuf,
    /// Total resources.
    pub resources: Resources,
    /// Attributes.
    pub attributes: Attributes,
    /// Time an executor has to subscribe.
    pub executor_registration_timeout: Duration,
    /// Time an executor has to exit after SHUTDOWN.
    pub executor_shutdown_grace_period: Duration,
    /// First registration retry interval.
    pub registration_backoff_factor: Duration,
    /// Binary run as `<path> executor` for command tasks.
    pub command_executor: PathBuf,
    /// Which HTTP endpoints need credentials, and the credentials and JWT key to check
    /// them against (open by default, as Mesos).
    pub http_auth: meso_api::http::auth::HttpAuthenticator,
    /// Checkpoint recovery settings.
    pub recovery: recovery::RecoveryConfig,
    /// The resource estimator and QoS controller (both off by default).
    pub oversubscription: crate::oversubscription::OversubscriptionConfig,
    /// The URI fetcher's settings (an empty `cache_dir` means `<work-dir>/fetch`).
    pub fetcher: crate::fetcher::FetcherConfig,
    /// Garbage collection of finished sandboxes.
    pub gc: crate::gc::GcConfig,
    /// `--acls`: who may read which of the agent's endpoints and sandboxes
    /// (`agent/src/agent/authorization.rs`); `None`: everyone.
    pub acls: Option<std::sync::Arc<meso_api::acl::Acls>>,
    /// Run each container as its task's user (`--switch-user`, on by default as Mesos;
    /// `task_users.rs`).
    pub switch_user: bool,
    /// `--credential`: authenticate with the master before registering
    /// (`agent/src/agent/authentication.rs`).
    pub authentication: authentication::AgentAuthentication,
}

/// Where the agent stands with the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Not registered; (re)registration attempts are under way.
    Registering,
    /// Registered and hearing pings.
    Registered,
    /// Shutting down: no more attempts.
    Terminating,
}

/// Everything the agent process handles.
#[derive(Debug)]
pub enum AgentMessage {
    /// Master: first registration done.
    Registered(AgentRegistered),
    /// Master: re-registration done.
    Reregistered(AgentReregistered),
    /// Master: ping.
    Ping(PingAgent),
    /// Master: launch a task.
    RunTask(Box<RunTask>),
    /// Master: launch a task group under its executor.
    RunTaskGroup(Box<RunTaskGroup>),
    /// Master: kill a task.
    KillTask(KillTask),
    /// Master: a framework acknowledged an update.
    Acknowledge(StatusUpdateAcknowledgement),
    /// Master: shut an executor down.
    ShutdownExecutor(ShutdownExecutor),
    /// Master: shut all of a framework's executors down.
    ShutdownFramework(ShutdownFramework),
    /// Master: a message for an executor.
    FrameworkMessage(FrameworkToExecutor),
    /// Master: the agent must stop.
    Shutdown(ShutdownAgent),
    /// Master: it does not lead (and who does).
    NotLeader(meso_api::wire::NotLeader),
    /// Master: the complete set of dynamic reservations and volumes to keep.
    CheckpointResources(meso_api::wire::CheckpointResources),
    /// Master: an offer operation applied to this agent (for GET_OPERATIONS).
    OperationApplied(Box<meso_api::wire::OperationApplied>),
    /// Timer: retry (re)registration if attempt `generation` got no answer.
    RegistrationRetry {
        /// The attempt this timer belongs to.
        generation: u64,
    },
    /// Timer: no ping since generation `generation` was set.
    PingTimeout {
        /// The ping this timer belongs to.
        generation: u64,
    },
    /// Containerizer: a container's executor ended.
    ExecutorExited {
        /// The container.
        container_id: ContainerId,
        /// How it ended.
        termination: Termination,
    },
    /// Timer: the executor of a container had its time to subscribe.
    ExecutorRegistrationTimeout {
        /// The container.
        container_id: ContainerId,
    },
    /// Timer: an executor told to shut down had its grace period.
    ShutdownGraceOver {
        /// The container.
        container_id: ContainerId,
    },
    /// Timer: status update retries may be due.
    RetryStatusUpdates,
    /// Timer: time for a HEARTBEAT event to a subscribed executor.
    ExecutorHeartbeat {
        /// The executor's container.
        container_id: ContainerId,
    },
    /// Master: drain (kill every task, remember the drain until nothing runs).
    Drain(meso_api::wire::DrainAgent),
    /// Master: an operator's UPDATE_AGENT (meso extension).
    UpdateConfig(meso_api::wire::UpdateAgentConfig),
    /// SIGHUP: `--resources` and `--attributes` as the flags give them now.
    ReloadFlags {
        /// The flags' resources.
        resources: Resources,
        /// The flags' attributes.
        attributes: Attributes,
    },
    /// Timer: time to sample the machine for oversubscription.
    OversubscriptionTick {
        /// The timer this belongs to.
        generation: u64,
    },
    /// A reading of the machine and the containers, taken off the agent's process.
    OversubscriptionSample(Box<crate::oversubscription::RawSample>),
    /// Fetcher: the URIs of a container's launch are in its sandbox, or why not.
    Fetched {
        /// The container waiting for them.
        container_id: ContainerId,
        /// The fetch's outcome.
        result: Result<(), crate::fetcher::FetchError>,
    },
    /// Timer: finished sandboxes may be due for garbage collection.
    GcDue {
        /// The timer this is (stale ones do nothing).
        generation: u64,
    },
    /// Timer: check the work dir's disk usage (`--disk-watch-interval`).
    DiskWatch,
    /// The master's side of authentication, and its timer (`authentication.rs`).
    Authentication(authentication::AuthenticationMessage),
}

macro_rules! from_wire {
    ($($ty:ty => $variant:ident,)*) => {
        $(impl From<$ty> for AgentMessage {
            fn from(m: $ty) -> Self { AgentMessage::$variant(m.into()) }
        })*
    };
}

from_wire! {
    AgentRegistered => Registered,
    AgentReregistered => Reregistered,
    PingAgent => Ping,
    RunTask => RunTask,
    RunTaskGroup => RunTaskGroup,
    KillTask => KillTask,
    StatusUpdateAcknowledgement => Acknowledge,
    ShutdownExecutor => ShutdownExecutor,
    ShutdownFramework => ShutdownFramework,
    FrameworkToExecutor => FrameworkMessage,
    ShutdownAgent => Shutdown,
    meso_api::wire::NotLeader => NotLeader,
    meso_api::wire::DrainAgent => Drain,
    meso_api::wire::CheckpointResources => CheckpointResources,
    meso_api::wire::OperationApplied => OperationApplied,
    meso_api::wire::UpdateAgentConfig => UpdateConfig,
}

/// The agent process.
pub struct Agent {
    config: AgentConfig,
    detector: meso_api::detector::MasterDetector,
    /// The detector moved to another master since the last registration attempt.
    master_moved: bool,
    log: Logger,
    containerizer: Box<dyn Containerizer>,
    info: AgentInfo,
    id: Option<AgentId>,
    registration: Registration,
    registration_generation: u64,
    backoff: Duration,
    ping_generation: u64,
    ping_timeout: Duration,
    frameworks: BTreeMap<FrameworkId, Framework>,
    containers: HashMap<String, (FrameworkId, ExecutorId)>,
    updates: StatusUpdateManager,
    update_timer_at: Option<Duration>,
    observe: metrics::Observability,
    /// `MESO_SSL_*` for executors when the agent runs TLS (see [`Agent::with_executor_tls`]).
    executor_tls: Vec<(String, String)>,
    /// Writes checkpoints under `<work-dir>/meta`.
    store: CheckpointStore,
    /// Checkpointed tasks and the run (executor, container) they belong to.
    checkpointed_runs: HashMap<(FrameworkId, meso_api::v1::TaskId), (ExecutorId, ContainerId)>,
    /// Tasks of executors that ended whose terminal update is not acknowledged yet: still
    /// reported on re-registration (as Mesos's terminated tasks), so the master does not
    /// take them for unknown.
    terminated_tasks:
        BTreeMap<(FrameworkId, meso_api::v1::TaskId), (meso_api::v1::TaskInfo, ExecutorId)>,
    /// The previous run to take back at start, from [`recovery::load`].
    recovery: Option<recovery::Recovery>,
    /// The drain the master asked for, until nothing runs any more (checkpointed).
    drain: Option<meso_api::wire::DrainAgent>,
    /// Dynamic reservations and persistent volumes, as last checkpointed ([`volumes`]).
    checkpointed_resources: Resources,
    /// The offer operations the master applied to this agent (GET_OPERATIONS).
    operations: meso_api::v1::operation_book::OperationBook,
    /// The resource estimator and QoS controller.
    oversub: oversubscription::Oversubscription,
    /// The URI fetcher and the fetches under way.
    fetching: fetching::Fetching,
    /// Garbage collection of finished sandboxes.
    gc: sandbox_gc::SandboxGc,
    /// Authentication with the master (`authentication.rs`).
    authn: meso_api::authentication::ClientAuthentication<Upid>,
}

impl Agent {
    /// An agent that will register with `config.master` once spawned.
    pub fn new(config: AgentConfig, containerizer: Box<dyn Containerizer>, log: Logger) -> Self {
        let mut info = AgentInfo::new(&config.hostname);
        info.resources = config.resources.clone();
        info.attributes = config.attributes.clone();
        let mut masters = vec![config.master.clone()];
        masters.extend(
            config
                .masters
                .iter()
                .filter(|m| **m != config.master)
                .cloned(),
        );
        let detector = meso_api::detector::MasterDetector::new(masters)
            .expect("the master list starts with config.master, so it is not empty");
        // Updates wait for the first registration (and a recovered agent's replayed streams
        // for its re-registration).
        let mut updates = StatusUpdateManager::new();
        updates.pause();
        Agent {
            oversub: oversubscription::Oversubscription::new(config.oversubscription.clone()),
            store: CheckpointStore::new(&config.work_dir),
            checkpointed_runs: HashMap::new(),
            terminated_tasks: BTreeMap::new(),
            recovery: None,
            drain: None,
            checkpointed_resources: Resources::new(),
            operations: Default::default(),
            fetching: fetching::Fetching::new(),
            gc: sandbox_gc::SandboxGc::new(),
            authn: meso_api::authentication::ClientAuthentication::new(
                config.authentication.credential.clone(),
            ),
            detector,
            master_moved: false,
            backoff: config.registration_backoff_factor,
            config,
            log,
            containerizer,
            info,
            id: None,
            registration: Registration::Registering,
            registration_generation: 0,
            ping_generation: 0,
            ping_timeout: DEFAULT_PING_TIMEOUT,
            frameworks: BTreeMap::new(),
            containers: HashMap::new(),
            updates,
            update_timer_at: None,
            observe: metrics::Observability::new(),
            executor_tls: Vec::new(),
        }
    }

    /// An agent that first takes back the previous run `recovery` (from
    /// [`recovery::load`]) and re-registers under its agent id.
    pub fn with_recovery(mut self, recovery: Option<recovery::Recovery>) -> Self {
        self.recovery = recovery;
        self
    }

    /// An agent that starts with the dynamic reservations and volumes a previous run
    /// checkpointed (`crate::checkpoint::resources::read`).
    pub fn with_checkpointed_resources(mut self, resources: Resources) -> Self {
        self.checkpointed_resources = resources;
        self
    }

    /// The agent's total resources: its static resources (`--resources`, or what an online
    /// change made them) with the checkpointed reservations and volumes applied (the static
    /// ones when they do not fit, which the agent refuses when it receives or recovers them).
    pub fn total_resources(&self) -> Resources {
        self.info
            .resources
            .apply_checkpointed(&self.checkpointed_resources)
            .unwrap_or_else(|_| self.info.resources.clone())
    }

    /// An agent whose log is written to `file` (`--log-dir`), served as `/slave/log`.
    pub fn with_log_file(mut self, file: Option<std::path::PathBuf>) -> Self {
        self.observe.log_file = file;
        self
    }

    /// An agent whose port is TLS: its executors get `vars` (`MESO_SSL_CA_FILE`,
    /// `MESO_SSL_CERT_FILE`, `MESO_SSL_KEY_FILE`) so that they connect with TLS too.
    pub fn with_executor_tls(mut self, vars: Vec<(String, String)>) -> Self {
        self.executor_tls = vars;
        self
    }

    /// Sends (re)registration now and arms the retry timer.
    fn attempt_registration(&mut self, ctx: &mut Context<Self>) {
        if self.registration != Registration::Registering {
            return;
        }
        self.master_moved = false;
        ctx.link(&self.config.master);
        if !self.authenticate_first(ctx) {
            self.send_registration(ctx);
        }
        self.registration_generation += 1;
        // Jitter in [backoff/2, backoff] so a restarted master is not hit by all agents
        // at once.
        let backoff_ms = self.backoff.as_millis().max(2) as u64;
        let wait = Duration::from_millis(ctx.random_in(backoff_ms / 2..=backoff_ms));
        ctx.delay(
            wait,
            AgentMessage::RegistrationRetry {
                generation: self.registration_generation,
            },
        );
        self.backoff = (self.backoff * 2).min(MAX_REGISTRATION_BACKOFF);
    }

    /// Sends RegisterAgent, or ReregisterAgent once the agent has an id.
    fn send_registration(&mut self, ctx: &mut Context<Self>) {
        let sent = match &self.id {
            None => ctx.send(
                &self.config.master,
                RegisterAgent {
                    agent: self.info.clone(),
                    checkpointed_resources: self.checkpointed_resources.clone(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    capabilities: Vec::new(),
                },
            ),
            Some(id) => {
                let mut agent = self.info.clone();
                agent.id = Some(id.clone());
                ctx.send(
                    &self.config.master,
                    ReregisterAgent {
                        agent,
                        checkpointed_resources: self.checkpointed_resources.clone(),
                        executor_infos: self.executor_infos(),
                        tasks: self.task_records(),
                        frameworks: self.framework_infos(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        capabilities: Vec::new(),
                    },
                )
            }
        };
        if let Err(e) = sent {
            warn!(self.log, "registration message not sent"; "error" => %e);
        }
    }

    /// The master is gone or silent: pause updates and start re-registering.
    fn master_lost(&mut self, ctx: &mut Context<Self>, why: &str) {
        if self.registration != Registration::Registered {
            return;
        }
        warn!(self.log, "lost the master, re-registering"; "why" => why);
        self.authn.reset();
        self.registration = Registration::Registering;
        self.updates.pause();
        self.ping_generation += 1;
        self.backoff = self.config.registration_backoff_factor;
        self.attempt_registration(ctx);
    }

    fn on_registered(
        &mut self,
        ctx: &mut Context<Self>,
        agent_id: AgentId,
        ping_timeout_secs: Option<f64>,
        reregistered: bool,
    ) {
        if ctx.from() != Some(&self.config.master) {
            warn!(self.log, "registration reply not from the master ignored";
                "from" => ctx.from().map(|u| u.to_string()));
            return;
        }
        if let Some(known) = &self.id {
            if known != &agent_id {
                // The master took a retried registration for a new agent at this address
                // and removed the id this agent runs under: carrying on under the old id
                // would have every update dropped as from an unknown agent while the
                // master sends tasks for the new one. Mesos's agent exits here ("registered
                // but got wrong id"); so does this one, and its supervisor restarts it.
                // (Found by the simulator: seed 10035.)
                error!(self.log, "master answered with another agent id; the agent stops";
                    "ours" => %known, "theirs" => %agent_id);
                self.registration = Registration::Terminating;
                ctx.terminate();
                return;
            }
        }
        if self.registration == Registration::Registered {
            return;
        }
        info!(self.log, "{}", if reregistered { "re-registered" } else { "registered" };
            "agent_id" => %agent_id, "master" => %self.config.master);
        self.id = Some(agent_id);
        self.info.id = self.id.clone();
        self.registration = Registration::Registered;
        self.oversub.registered();
        self.checkpoint_agent();
        self.backoff = self.config.registration_backoff_factor;
        if let Some(secs) = ping_timeout_secs.filter(|s| s.is_finite() && *s > 0.0) {
            self.ping_timeout = Duration::from_secs_f64(secs.min(1e6));
        }
        self.arm_ping_timer(ctx);
        let now = ctx.node().clock().now();
        for update in self.updates.resume(now) {
            self.send_update(ctx, update);
        }
        self.arm_update_timer(ctx);
    }

    fn arm_ping_timer(&mut self, ctx: &mut Context<Self>) {
        self.ping_generation += 1;
        ctx.delay(
            self.ping_timeout,
            AgentMessage::PingTimeout {
                generation: self.ping_generation,
            },
        );
    }

    /// The agent's id, once registered.
    pub fn id(&self) -> Option<&AgentId> {
        self.id.as_ref()
    }

    /// A fresh container id (a random uuid, as Mesos's).
    fn new_container_id(&mut self, ctx: &Context<Self>) -> ContainerId {
        ContainerId::new(ctx.uuid_v4().to_string())
    }
}

impl Process for Agent {
    type Message = AgentMessage;

    fn base_name(&self) -> &str {
        "slave"
    }

    fn install(h: &mut Handlers<Self>) {
        h.on::<AgentRegistered>()
            .on::<AgentReregistered>()
            .on::<PingAgent>()
            .on::<RunTask>()
            .on::<RunTaskGroup>()
            .on::<KillTask>()
            .on::<StatusUpdateAcknowledgement>()
            .on::<ShutdownExecutor>()
            .on::<ShutdownFramework>()
            .on::<FrameworkToExecutor>()
            .on::<meso_api::wire::NotLeader>()
            .on::<ShutdownAgent>()
            .on::<meso_api::wire::DrainAgent>()
            .on::<meso_api::wire::CheckpointResources>()
            .on::<meso_api::wire::OperationApplied>()
            .on::<meso_api::wire::UpdateAgentConfig>();
        authentication::install(h);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.info.port = u32::from(ctx.self_upid().addr().port());
        let now_secs = libprocess::unix_secs(ctx.wall_time());
        self.observe
            .install(ctx.node().metrics(), ctx.self_upid().addr().ip(), now_secs);
        // The gauges are computed when read: `/metrics/snapshot` comes to this process.
        ctx.node()
            .set_metrics_snapshot_process(Some(ctx.self_upid().id()));
        // Registered now so that the key shows (as 0) before the first refusal.
        ctx.node()
            .metrics()
            .counter(http_routes::AUTHENTICATION_FAILURES_METRIC);
        self.refresh_metrics(now_secs);
        info!(self.log, "agent starting"; "pid" => %ctx.self_upid(),
            "resources" => %self.info.resources, "master" => %self.config.master);
        let fetcher = Self::start_fetcher(&self.config, &self.log);
        self.set_fetcher(fetcher);
        self.start_sandbox_gc(ctx);
        if let Some(recovery) = self.recovery.take() {
            self.adopt(ctx, recovery);
            self.resume_drain(ctx);
        }
        // After recovery kept what it recovers: every other container a previous run
        // launched (checkpointed or not) is an orphan.
        self.destroy_orphans();
        self.attempt_registration(ctx);
        self.start_oversubscription(ctx);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: AgentMessage) {
        match msg {
            AgentMessage::Registered(m) => {
                self.on_registered(ctx, m.agent_id, m.total_ping_timeout_seconds, false)
            }
            AgentMessage::Reregistered(m) => {
                let id = m.agent_id.clone();
                self.on_registered(ctx, m.agent_id, m.total_ping_timeout_seconds, true);
                self.answer_reconciliations(ctx, &id, m.reconciliations);
            }
            AgentMessage::Ping(ping) => self.on_ping(ctx, ping),
            AgentMessage::RunTask(run) => self.run_task(ctx, *run),
            AgentMessage::RunTaskGroup(run) => self.run_task_group(ctx, *run),
            AgentMessage::KillTask(kill) => self.kill_task(ctx, kill),
            AgentMessage::Drain(drain) => self.drain(ctx, drain),
            AgentMessage::Acknowledge(ack) => self.on_acknowledgement(ctx, ack),
            AgentMessage::ShutdownExecutor(m) => {
                self.shutdown_executor(ctx, &m.framework_id, &m.executor_id)
            }
            AgentMessage::ShutdownFramework(m) => self.shutdown_framework(ctx, &m.framework_id),
            AgentMessage::FrameworkMessage(m) => self.framework_message(ctx, m),
            AgentMessage::Shutdown(m) => {
                warn!(self.log, "master asked the agent to shut down"; "message" => m.message);
                self.registration = Registration::Terminating;
                let all: Vec<FrameworkId> = self.frameworks.keys().cloned().collect();
                for fw in all {
                    self.shutdown_framework(ctx, &fw);
                }
                self.destroy_all();
                ctx.terminate();
            }
            AgentMessage::RegistrationRetry { generation } => {
                if generation == self.registration_generation
                    && self.registration == Registration::Registering
                {
                    self.next_master_unless_moved(ctx);
                    self.attempt_registration(ctx);
                }
            }
            AgentMessage::PingTimeout { generation } => {
                if generation == self.ping_generation {
                    self.master_lost(ctx, "no ping within the ping timeout");
                }
            }
            AgentMessage::ExecutorExited {
                container_id,
                termination,
            } => self.executor_exited(ctx, &container_id, termination),
            AgentMessage::ExecutorRegistrationTimeout { container_id } => {
                self.executor_registration_timeout(ctx, &container_id)
            }
            AgentMessage::ShutdownGraceOver { container_id } => {
                self.shutdown_grace_over(&container_id)
            }
            AgentMessage::RetryStatusUpdates => self.retry_status_updates(ctx),
            AgentMessage::ExecutorHeartbeat { container_id } => {
                self.executor_heartbeat(ctx, container_id)
            }
            AgentMessage::NotLeader(hint) => self.not_leader(ctx, hint),
            AgentMessage::CheckpointResources(m) => self.checkpoint_resources(ctx, m),
            AgentMessage::OperationApplied(m) => self.operation_applied(ctx, *m),
            AgentMessage::UpdateConfig(m) => self.update_config_from_master(ctx, m),
            AgentMessage::ReloadFlags {
                resources,
                attributes,
            } => self.reload_flags(ctx, resources, attributes),
            AgentMessage::OversubscriptionTick { generation } => {
                self.oversubscription_tick(ctx, generation)
            }
            AgentMessage::OversubscriptionSample(raw) => self.oversubscription_sample(ctx, *raw),
            AgentMessage::Fetched {
                container_id,
                result,
            } => self.fetched(ctx, &container_id, result),
            AgentMessage::GcDue { generation } => self.gc_due(ctx, generation),
            AgentMessage::DiskWatch => self.disk_watch(ctx),
            AgentMessage::Authentication(m) => self.authentication_message(ctx, m),
        }
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        if pid == self.config.master {
            if self.registration == Registration::Registered {
                // The leader went away or stepped down: the next master leads now or
                // points at the leader.
                self.next_master(ctx);
            }
            self.master_lost(ctx, "the link to the master broke");
        }
    }

    fn http(&mut self, ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        self.route_http(ctx, request, reply);
    }

    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        self.cancel_fetches();
        self.stop_or_release_all();
    }
}

impl Agent {
    fn on_ping(&mut self, ctx: &mut Context<Self>, ping: PingAgent) {
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        if from != self.config.master {
            warn!(self.log, "ping not from our master ignored"; "from" => %from);
            return;
        }
        if let Err(e) = ctx.send(&from, PongAgent {}) {
            warn!(self.log, "pong not sent"; "error" => %e);
        }
        match self.registration {
            Registration::Registered if !ping.connected => {
                // The master has us as disconnected: say who we are again.
                self.master_lost(ctx, "the master reports us disconnected");
            }
            Registration::Registered => self.arm_ping_timer(ctx),
            _ => {}
        }
    }

    /// The agent stops: executors of checkpointing frameworks keep running for the next
    /// agent to recover (unless configured to stop them), the others are destroyed.
    fn stop_or_release_all(&mut self) {
        let entries: Vec<(String, FrameworkId)> = self
            .containers
            .iter()
            .map(|(cid, (fid, _))| (cid.clone(), fid.clone()))
            .collect();
        let mut released = 0;
        for (cid, fid) in entries {
            let id = ContainerId::new(cid);
            if self.checkpoints(&fid) && !self.config.recovery.stop_tasks_on_exit {
                self.containerizer.release(&id);
                released += 1;
            } else {
                let _ = self.containerizer.destroy(&id);
            }
        }
        if released > 0 {
            info!(self.log, "agent stopping; checkpointed executors left running for recovery";
                "executors" => released);
        }
    }

    fn destroy_all(&mut self) {
        let ids: Vec<String> = self.containers.keys().cloned().collect();
        for id in ids {
            let _ = self.containerizer.destroy(&ContainerId::new(id));
        }
    }
}
