//! The master process: agents, frameworks, offers and tasks. The state lives in plain books
//! ([`agents`], [`frameworks`], [`offers`], [`tasks`]); validation and reconciliation are
//! pure functions; the allocator runs as its own process ([`allocation`]); durable changes go
//! through a [`Registrar`]. This file holds the process itself and its message enum; the
//! handlers are grouped by concept in `agent_messages.rs`, `framework_messages.rs`,
//! `accept.rs`, `status_updates.rs` and `http.rs`; `agent_proxy.rs` relays agents'
//! `/files` and `/containers` under `/agents/<id>/`; maintenance, inverse offers and agent
//! draining in `maintenance/`.
//!
//! Message flow: agents send RegisterAgent / ReregisterAgent / PongAgent / StatusUpdate /
//! ExitedExecutor / ExecutorToFramework; the master answers with AgentRegistered,
//! PingAgent, RunTask, KillTask, StatusUpdateAcknowledgement, ShutdownFramework,
//! FrameworkToExecutor. Scheduler drivers send RegisterFramework / ReregisterFramework /
//! SchedulerCall (and the older LaunchTasks, ReviveOffers, ReconcileTasks, KillTask,
//! StatusUpdateAcknowledgement, UnregisterFramework, DeactivateFramework,
//! FrameworkToExecutor); the master answers with FrameworkRegistered, ResourceOffers,
//! RescindResourceOffer, StatusUpdateMessage, LostAgent, ExecutorToFramework,
//! ExitedExecutor, FrameworkError.
//!
//! Sends go through one helper per kind of peer, which logs a failed send: `send_to_agent`
//! and `send_to_driver` (`sends.rs`), `send_to_framework` (`framework_link.rs`).
//!
//! Invariants: every outstanding offer's and every non-recovered task's resources are held
//! in the allocator by the framework; messages from a PID that is not the registered PID
//! of the framework or agent they claim to be are dropped.
//!
//! HTTP: the node routes `/master/<route>`, the delegated paths (`/state`, `/api/v1`,
//! `/version`, `/flags`) and `/metrics/snapshot` to this process's `http` hook; `http.rs`
//! sends `/api/v1/scheduler` to `scheduler_api.rs`, `/api/v1` and below (longest prefix) to
//! `operator_api.rs`, the web UI's page and endpoints to `webui.rs`, the rest to `legacy.rs`. Operator events: every change point of the
//! books (agent added or removed, framework added, updated or removed, task added or
//! updated) calls one hook of `operator_events.rs`; events are built only while someone is
//! subscribed.
//!
//! More invariants: a connected framework has exactly one of a driver PID or an open HTTP
//! stream; every master -> agent send goes through `send_to_agent` and every master ->
//! framework send through `send_to_framework`; removing an offer from the book either recovers it or turns it into
//! tasks; allocator errors caused by races (a framework or agent removed while a round ran)
//! change nothing and are logged; a registrar failure stops the master (Mesos's fail-fast).
//!
//! Offer operations: LAUNCH and LAUNCH_GROUP (`accept.rs`), reservations and volumes
//! (`reservations.rs`); others are logged and dropped.
//!
//! Not done here: a LAUNCH_GROUP naming a running executor with a different
//! `ExecutorInfo` is not refused; a task's `statuses` in `/master/state` holds only its latest
//! status and `executors` is empty; `Accept-Encoding: gzip` and the metrics snapshot's
//! `timeout` are ignored.

mod accept;
mod accept_group;
mod agent_links;
mod agent_messages;
pub mod agent_proxy;
mod agent_reconciliation;
pub mod agent_update;
pub mod agents;
pub mod allocation;
pub mod answer_buffer;
pub mod authentication;
pub mod authorization;
pub mod books_view;
mod fast_hash;
pub mod framework_link;
mod framework_messages;
pub mod frameworks;
mod http;
pub use http::AUTHENTICATION_FAILURES_METRIC;
mod leader_hook;
mod legacy;
pub mod list_json;
pub mod log_files;
pub mod maintenance;
pub mod metrics;
pub mod offers;
mod operation_records;
pub mod operator_api;
pub mod operator_events;
pub mod operator_kill;
pub mod operator_state;
pub mod operator_stream;
pub mod oversubscription;
pub mod overview_json;
mod partition;
pub mod pending_kills;
pub mod reconciliation;
pub mod recovery;
pub mod registrar;
pub mod registry_gc;
pub mod removal_limit;
pub mod reregistering;
pub mod reservation_checks;
pub mod reservations;
pub mod resources_object;
pub mod revocable_summary;
pub mod revocable_tally;
mod role_calls;
pub mod role_controls;
pub mod roles_json;
mod scheduler_api;
mod sends;
pub mod state_json;
pub mod status_history;
mod status_updates;
pub mod task_group_validation;
pub mod tasks;
pub mod timeline;
pub mod unreachable_tasks;
pub mod validation;
pub mod webui;

use std::time::Duration;

use libprocess::slog::{error, info};
use libprocess::{Context, Handlers, HttpReply, HttpRequest, Pid, Process, Upid};
use meso_api::v1::{FrameworkId, MasterInfo, OfferId};
use meso_api::wire;

use agents::AgentBook;
use allocation::{AllocatorCall, AllocatorProcess};
use frameworks::FrameworkBook;
use meso_allocator::{AllocatorConfig, Offer};
use offers::OfferBook;
use registrar::{Registrar, RegistrarError, RegistryChange};
use tasks::TaskBook;

/// The master's settings (from `meso master` flags).
#[derive(Debug, Clone)]
pub struct MasterConfig {
    /// Master id (a UUID by default); prefixes agent, framework and offer ids.
    pub master_id: String,
    /// Hostname advertised to frameworks.
    pub hostname: String,
    /// Period of batch allocation rounds.
    pub allocation_interval: Duration,
    /// Offers not used within this are rescinded (`None`: never).
    pub offer_timeout: Option<Duration>,
    /// Period of agent pings.
    pub agent_ping_timeout: Duration,
    /// Missed pings in a row before an agent is marked unreachable.
    pub max_agent_ping_timeouts: u32,
    /// Completed tasks remembered per framework.
    pub max_completed_tasks_per_framework: usize,
    /// Allocator settings.
    pub allocator: AllocatorConfig,
    /// Time recovered agents have to re-register after a failover, and disconnected agents
    /// after their link broke.
    pub agent_reregister_timeout: Duration,
    /// Pace of marking agents unreachable: recovered agents that did not come back, and
    /// agents that missed their pings.
    pub agent_removal_rate_limit: Option<recovery::RemovalRateLimit>,
    /// Largest share of the recovered agents that may be marked unreachable when the
    /// re-registration timeout fires; past it the master stops instead.
    pub recovery_agent_removal_limit: removal_limit::RecoveryRemovalLimit,
    /// Which HTTP endpoints need credentials, and the credentials and JWT key to check
    /// them against (open by default, as Mesos).
    pub http_auth: meso_api::http::auth::HttpAuthenticator,
    /// Role weights from the deprecated `--weights` flag: written to the registry when it
    /// holds no weights yet (a registry's weights win over the flag, as in Mesos).
    pub weights: std::collections::BTreeMap<String, f64>,
    /// The file this master's log is written to (`--log-dir`), served as `/master/log`
    /// through `/files/*`; `None`: those paths are 404.
    pub log_file: Option<std::path::PathBuf>,
    /// `--acls`: who may do what (`authorization.rs`); `None`: everything is allowed.
    pub acls: Option<std::sync::Arc<meso_api::acl::Acls>>,
    /// Authentication of agents and scheduler drivers (`authentication.rs`; off by default).
    pub authentication: authentication::AuthenticationConfig,
    /// Garbage collection of departed agents from the registry (`registry_gc.rs`).
    pub registry_gc: registry_gc::RegistryGcConfig,
}

impl MasterConfig {
    /// Mesos's defaults with the given master id and hostname.
    pub fn new(master_id: &str, hostname: &str) -> MasterConfig {
        MasterConfig {
            master_id: master_id.to_string(),
            hostname: hostname.to_string(),
            allocation_interval: Duration::from_secs(1),
            offer_timeout: None,
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            max_completed_tasks_per_framework: 1000,
            allocator: AllocatorConfig::default(),
            agent_reregister_timeout: Duration::from_secs(600),
            agent_removal_rate_limit: None,
            recovery_agent_removal_limit: removal_limit::RecoveryRemovalLimit::default(),
            http_auth: meso_api::http::auth::HttpAuthenticator::open(),
            weights: Default::default(),
            log_file: None,
            acls: None,
            authentication: Default::default(),
            registry_gc: Default::default(),
        }
    }
}

/// Everything the master process handles.
#[derive(Debug)]
pub enum MasterMessage {
    /// Agent registration.
    RegisterAgent(wire::RegisterAgent),
    /// Agent re-registration.
    ReregisterAgent(wire::ReregisterAgent),
    /// Agent leaving.
    UnregisterAgent(wire::UnregisterAgent),
    /// Agent alive.
    PongAgent(wire::PongAgent),
    /// An agent's new revocable total (its resource estimator's report).
    UpdateOversubscribed(wire::UpdateOversubscribedResources),
    /// Status update from an agent.
    StatusUpdate(wire::StatusUpdateMessage),
    /// Executor exited on an agent.
    ExitedExecutor(wire::ExitedExecutor),
    /// Executor message for a framework.
    ExecutorToFramework(wire::ExecutorToFramework),
    /// Framework registration.
    RegisterFramework(wire::RegisterFramework),
    /// Framework re-registration.
    ReregisterFramework(wire::ReregisterFramework),
    /// Teardown.
    UnregisterFramework(wire::UnregisterFramework),
    /// Scheduler stopping (may fail over).
    DeactivateFramework(wire::DeactivateFramework),
    /// Accept (LAUNCH) or decline.
    LaunchTasks(wire::LaunchTasks),
    /// Revive.
    ReviveOffers(wire::ReviveOffers),
    /// Reconcile.
    ReconcileTasks(wire::ReconcileTasks),
    /// Kill.
    KillTask(wire::KillTask),
    /// Acknowledge.
    Acknowledge(wire::StatusUpdateAcknowledgement),
    /// Framework message for an executor.
    FrameworkToExecutor(wire::FrameworkToExecutor),
    /// Any v1 scheduler call.
    SchedulerCall(Box<wire::SchedulerCall>),
    /// Time for a health-check round.
    PingTimer,
    /// An offer's timeout fired.
    OfferTimeout(OfferId),
    /// A disconnected framework's failover timeout fired (with its generation then).
    FailoverTimeout(FrameworkId, u64),
    /// Offers from the allocator.
    Offers(Vec<Offer>),
    /// A registrar change completed.
    Registrar(RegistrarDone),
    /// Time for a HEARTBEAT on the operator event streams.
    OperatorHeartbeat,
    /// A heartbeat or closure of an HTTP framework's stream.
    FrameworkLink(framework_link::LinkEvent),
    /// Recovered agents had their time to re-register.
    ReregisterTimeout,
    /// Time to mark the next recovered agent unreachable (rate limited).
    RemoveRecoveredAgent,
    /// Time to mark the next agent that missed its pings unreachable (rate limited).
    MarkNextUnreachable,
    /// A disconnected agent's time to re-register ran out (its id and the number of the
    /// disconnection that armed the timer).
    DisconnectedAgentTimeout(meso_api::v1::AgentId, u64),
    /// A framework's filter on inverse offers for an agent expired (ask it again if the
    /// agent's machine is still DRAINING).
    InverseOfferFilterExpired(FrameworkId, meso_api::v1::AgentId),
    /// The allocator answered an operator's reservation or volume operation.
    OperationApplied(Box<reservations::OperationApplied>),
    /// An agent's configuration after an online change (UPDATE_AGENT).
    AgentConfigUpdated(wire::AgentConfigUpdated),
    /// An agent did not answer a forwarded UPDATE_AGENT (its request id).
    UpdateAgentTimeout(String),
    /// A relayed agent request ended (`agent_proxy.rs`).
    AgentProxyDone(agent_proxy::ProxyOutcome),
    /// An agent's or driver's authentication (`authentication.rs`).
    Authentication(authentication::AuthenticationMessage),
    /// Time to garbage-collect departed agents from the registry (`registry_gc.rs`).
    RegistryGc,
}

/// A registrar answer and what the master was waiting to do with it.
#[derive(Debug)]
pub struct RegistrarDone {
    /// What was asked.
    pub change: RegistryChange,
    /// The answer.
    pub result: Result<bool, RegistrarError>,
    /// The PID and message that asked for it (agent admissions).
    pub pending: Option<PendingAdmission>,
}

/// An agent registration waiting for the registrar.
#[derive(Debug)]
pub enum PendingAdmission {
    /// A new agent.
    Register(Upid, meso_api::v1::AgentId, wire::RegisterAgent),
    /// A returning agent.
    Reregister(Upid, wire::ReregisterAgent),
    /// An operator's weight or quota change, answered once the registry has it.
    Operator(HttpReply),
    /// An operator's maintenance or draining change, answered once the registry has it.
    Maintenance(HttpReply),
    /// An agent's online change (UPDATE_AGENT), answered once the registry has it when an
    /// operator asked on the master.
    AgentConfig(Option<HttpReply>),
}

macro_rules! wire_into_message {
    ($($ty:ident => $variant:ident,)*) => {
        $(impl From<wire::$ty> for MasterMessage {
            fn from(m: wire::$ty) -> Self { MasterMessage::$variant(m) }
        })*
        fn install_wire(h: &mut Handlers<Master>) {
            $(h.on::<wire::$ty>();)*
            h.on::<wire::SchedulerCall>();
        }
    };
}

wire_into_message! {
    RegisterAgent => RegisterAgent,
    ReregisterAgent => ReregisterAgent,
    UnregisterAgent => UnregisterAgent,
    PongAgent => PongAgent,
    UpdateOversubscribedResources => UpdateOversubscribed,
    StatusUpdateMessage => StatusUpdate,
    ExitedExecutor => ExitedExecutor,
    ExecutorToFramework => ExecutorToFramework,
    RegisterFramework => RegisterFramework,
    ReregisterFramework => ReregisterFramework,
    UnregisterFramework => UnregisterFramework,
    DeactivateFramework => DeactivateFramework,
    LaunchTasks => LaunchTasks,
    ReviveOffers => ReviveOffers,
    ReconcileTasks => ReconcileTasks,
    KillTask => KillTask,
    StatusUpdateAcknowledgement => Acknowledge,
    FrameworkToExecutor => FrameworkToExecutor,
    AgentConfigUpdated => AgentConfigUpdated,
}

impl From<wire::SchedulerCall> for MasterMessage {
    fn from(m: wire::SchedulerCall) -> Self {
        MasterMessage::SchedulerCall(Box::new(m))
    }
}

/// The master process (spawn it under the id `master`).
pub struct Master {
    config: MasterConfig,
    registrar: Box<dyn Registrar>,
    allocator: Option<Pid<AllocatorProcess>>,
    agents: AgentBook,
    frameworks: FrameworkBook,
    offers: OfferBook,
    tasks: TaskBook,
    framework_links: framework_link::FrameworkLinks,
    info: Option<MasterInfo>,
    operator: operator_state::OperatorState,
    recovery: recovery::Recovery,
    leader_info: Option<crate::leader_info::SharedLeaderInfo>,
    unreachable_tasks: unreachable_tasks::UnreachableTasks,
    pending_kills: pending_kills::PendingKills,
    reregistering: reregistering::Reregistering,
    unreachable_queue: partition::UnreachableQueue,
    maintenance: maintenance::MaintenanceBook,
    operations: reservations::OperatorOperations,
    agent_updates: agent_update::PendingUpdates,
    authn: authentication::Authentications,
    departed: registry_gc::DepartedAgents,
}

impl Master {
    /// A master with `config`, storing durable state through `registrar`.
    pub fn new(config: MasterConfig, registrar: Box<dyn Registrar>) -> Master {
        Master {
            agents: AgentBook::new(&config.master_id),
            frameworks: FrameworkBook::new(&config.master_id),
            offers: OfferBook::new(&config.master_id),
            tasks: TaskBook::new(config.max_completed_tasks_per_framework),
            framework_links: Default::default(),
            recovery: recovery::Recovery {
                reregister_timeout: config.agent_reregister_timeout,
                rate_limit: config.agent_removal_rate_limit,
                removal_limit: config.recovery_agent_removal_limit,
                ..Default::default()
            },
            config,
            registrar,
            allocator: None,
            info: None,
            operator: operator_state::OperatorState::default(),
            leader_info: None,
            unreachable_tasks: Default::default(),
            pending_kills: Default::default(),
            reregistering: Default::default(),
            unreachable_queue: Default::default(),
            maintenance: Default::default(),
            operations: Default::default(),
            agent_updates: Default::default(),
            authn: Default::default(),
            departed: Default::default(),
        }
    }

    fn allocator(&self, call: AllocatorCall) {
        if let Some(pid) = &self.allocator {
            let _ = pid.send(call);
        }
    }

    fn master_info(&self) -> MasterInfo {
        self.info
            .clone()
            .expect("master info is set in initialize, before any message")
    }

    /// Applies a registry change; the answer comes back as [`MasterMessage::Registrar`].
    fn registry(
        &mut self,
        ctx: &Context<Self>,
        change: RegistryChange,
        pending: Option<PendingAdmission>,
    ) {
        self.note_departure(&change);
        let future = self.registrar.apply(change.clone());
        ctx.defer(future, move |result| {
            MasterMessage::Registrar(RegistrarDone {
                change,
                result,
                pending,
            })
        });
    }

    fn registrar_done(&mut self, ctx: &mut Context<Self>, done: RegistrarDone) {
        match done.result {
            Err(e) => {
                // Mesos treats a failed registry write as fatal: the master stops and a
                // supervisor restarts it.
                error!(ctx.node().logger(), "registrar failed; master stops"; "error" => %e);
                ctx.terminate();
            }
            Ok(applied) => match done.pending {
                None if matches!(done.change, RegistryChange::Prune { .. }) => {
                    self.registry_pruned(ctx, &done.change)
                }
                Some(PendingAdmission::Register(pid, id, msg)) => {
                    self.agent_admitted(ctx, pid, id, msg, applied)
                }
                Some(PendingAdmission::Reregister(pid, msg)) => {
                    self.agent_readmitted(ctx, pid, msg)
                }
                Some(PendingAdmission::Operator(reply)) => {
                    self.role_change_done(ctx, &done.change, applied, reply)
                }
                Some(PendingAdmission::Maintenance(reply)) => {
                    self.maintenance_change_done(ctx, &done.change, applied, reply)
                }
                Some(PendingAdmission::AgentConfig(reply)) => {
                    self.agent_config_recorded(ctx, &done.change, applied, reply)
                }
                None => {}
            },
        }
    }
}

impl Process for Master {
    type Message = MasterMessage;

    fn base_name(&self) -> &str {
        "master"
    }

    fn install(handlers: &mut Handlers<Self>) {
        install_wire(handlers);
        authentication::install(handlers);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        let addr = ctx.self_upid().addr();
        let ip = match addr.ip() {
            std::net::IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
            std::net::IpAddr::V6(_) => 0,
        };
        self.info = Some(MasterInfo {
            id: self.config.master_id.clone(),
            ip,
            port: u32::from(addr.port()),
            pid: Some(ctx.self_upid().to_string()),
            hostname: Some(self.config.hostname.clone()),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            address: None,
            capabilities: Vec::new(),
        });
        let offset = legacy::epoch_offset(ctx);
        let now = legacy::now_secs(ctx, offset);
        self.operator = operator_state::OperatorState::new(&self.config, now, offset, addr.port());
        ctx.node()
            .set_metrics_snapshot_process(Some(ctx.self_upid().id()));
        // Registered now so that the key shows (as 0) before the first refusal.
        ctx.node()
            .metrics()
            .counter(http::AUTHENTICATION_FAILURES_METRIC);
        ctx.node()
            .metrics()
            .counter(oversubscription::EVICTED_METRIC);
        self.register_authentication_metrics(ctx);
        for counter in [metrics::AGENT_REGISTRATIONS, metrics::AGENT_REREGISTRATIONS] {
            ctx.node().metrics().counter(counter);
        }
        let me = ctx.pid().clone();
        let sink = Box::new(move |offers: Vec<Offer>| {
            let _ = me.send(MasterMessage::Offers(offers));
        });
        match AllocatorProcess::new(
            self.config.allocator.clone(),
            self.config.allocation_interval,
            sink,
        )
        .map_err(|e| e.to_string())
        .and_then(|p| ctx.spawn(p).map_err(|e| e.to_string()))
        {
            Ok(pid) => self.allocator = Some(pid),
            Err(e) => {
                error!(ctx.node().logger(), "cannot start the allocator"; "error" => e);
                ctx.terminate();
                return;
            }
        }
        ctx.delay(self.config.agent_ping_timeout, MasterMessage::PingTimer);
        self.schedule_registry_gc(ctx);
        self.start_recovery(ctx);
        self.seed_flag_weights(ctx);
        info!(ctx.node().logger(), "master started"; "id" => &self.config.master_id, "pid" => %ctx.self_upid());
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: MasterMessage) {
        let from = ctx.from().cloned();
        match msg {
            MasterMessage::RegisterAgent(m) => self.register_agent(ctx, from, m),
            MasterMessage::ReregisterAgent(m) => self.reregister_agent(ctx, from, m),
            MasterMessage::UnregisterAgent(m) => self.unregister_agent(ctx, from, m),
            MasterMessage::PongAgent(_) => {
                if let Some(from) = from {
                    self.agents.pong(&from);
                }
            }
            MasterMessage::UpdateOversubscribed(m) => self.update_oversubscribed(ctx, from, m),
            MasterMessage::StatusUpdate(m) => self.status_update(ctx, from, m),
            MasterMessage::ExitedExecutor(m) => self.exited_executor(ctx, from, m),
            MasterMessage::ExecutorToFramework(m) => self.executor_to_framework(ctx, from, m),
            MasterMessage::RegisterFramework(m) => self.register_framework(ctx, from, m),
            MasterMessage::ReregisterFramework(m) => self.reregister_framework(ctx, from, m),
            MasterMessage::UnregisterFramework(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.remove_framework(ctx, &m.framework_id);
                }
            }
            MasterMessage::DeactivateFramework(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.deactivate_framework(ctx, &m.framework_id);
                }
            }
            MasterMessage::LaunchTasks(m) => self.launch_tasks(ctx, from, m),
            MasterMessage::ReviveOffers(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.allocator(AllocatorCall::Revive(m.framework_id.value, m.roles));
                }
            }
            MasterMessage::ReconcileTasks(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.reconcile(ctx, &m.framework_id, m.statuses);
                }
            }
            MasterMessage::KillTask(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.kill_task(ctx, &m.framework_id, &m.task_id, m.kill_policy);
                }
            }
            MasterMessage::Acknowledge(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.acknowledge(ctx, m);
                }
            }
            MasterMessage::FrameworkToExecutor(m) => {
                if self.sender_is_framework(ctx, &from, &m.framework_id) {
                    self.framework_to_executor(ctx, m);
                }
            }
            MasterMessage::SchedulerCall(m) => self.scheduler_call(ctx, from, m.call),
            MasterMessage::PingTimer => self.ping_round(ctx),
            MasterMessage::RegistryGc => self.registry_gc(ctx),
            MasterMessage::OfferTimeout(id) => self.rescind_offer(ctx, &id, None),
            MasterMessage::FailoverTimeout(id, generation) => {
                self.failover_timeout(ctx, &id, generation)
            }
            MasterMessage::Offers(offers) => self.offers_from_allocator(ctx, offers),
            MasterMessage::Registrar(done) => self.registrar_done(ctx, done),
            MasterMessage::OperatorHeartbeat => self.operator_heartbeat(ctx),
            MasterMessage::FrameworkLink(event) => self.framework_link_event(ctx, event),
            MasterMessage::ReregisterTimeout => self.reregister_timeout(ctx),
            MasterMessage::RemoveRecoveredAgent => self.remove_next_recovered(ctx),
            MasterMessage::MarkNextUnreachable => self.mark_next_unreachable(ctx),
            MasterMessage::DisconnectedAgentTimeout(id, n) => {
                self.disconnected_agent_timeout(ctx, id, n)
            }
            MasterMessage::InverseOfferFilterExpired(framework, agent) => {
                self.inverse_offer_filter_expired(ctx, &framework, &agent)
            }
            MasterMessage::OperationApplied(done) => self.operation_applied(ctx, *done),
            MasterMessage::AgentConfigUpdated(m) => self.agent_config_updated(ctx, from, m),
            MasterMessage::UpdateAgentTimeout(id) => self.update_agent_timeout(&id),
            MasterMessage::AgentProxyDone(outcome) => self.agent_proxy_done(ctx, outcome),
            MasterMessage::Authentication(m) => self.authentication_message(ctx, from, m),
        }
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        self.authn.forget(&pid);
        if self.agent_link_broke(ctx, &pid) {
            return;
        }
        if let Some(id) = self.frameworks.by_pid(&pid).cloned() {
            self.framework_disconnected(ctx, &id);
        }
    }

    fn http(&mut self, ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        self.serve_http(ctx, request, reply);
    }
}
