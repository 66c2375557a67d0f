//! The scheduler driver: a libprocess process speaking the master's wire messages for one
//! framework, and the [`Scheduler`] trait whose callbacks it calls.
//!
//! Life cycle: `initialize` sends RegisterFramework to the master and links to it; until an
//! answer comes it retries every `retry_interval` (re-registering once it has an id). When
//! the link to the master breaks it reports `disconnected` and re-registers with the same
//! framework id. Which master: a [`MasterDetector`] over the masters given (one or more):
//! a `NotLeader` answer naming the leader sends the registration there at once; a retry
//! without an answer, or a broken link to the registered master, moves on to the next
//! master in the list. Every status update that carries a uuid and came from an
//! agent is acknowledged after the scheduler's `status_update` returns.
//!
//! Beyond the calls: with [`SchedulerDriver::reconcile_on_registration`] every
//! (re)registration asks for the state of every task; launches that get no status update
//! are reconciled explicitly with a doubling backoff when the framework asks for it
//! ([`SchedulerDriver::with_launch_check`]), so a lost launch comes back as a terminal
//! update to launch again.
//!
//! Authentication ([`SchedulerDriver::with_credential`], `driver/authentication.rs`): the
//! driver authenticates with each master before registering with it.
//!
//! Invariant: calls are only sent to the master once the framework is registered; before
//! that they are refused with [`DriverError::NotRegistered`].

use std::time::Duration;

use libprocess::{Context, Handlers, Pid, Process, Upid};
use meso_api::detector::{HintOutcome, MasterDetector};
use meso_api::v1::scheduler::{Call, CallType};
use meso_api::v1::{
    AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, InverseOffer, MasterInfo, Offer,
    OfferId, Operation, TaskId, TaskInfo, TaskStatus,
};
use meso_api::wire;

use crate::launches::PendingLaunches;

pub mod authentication;

/// A good interval for [`SchedulerDriver::with_launch_check`] (which is off by default).
pub const DEFAULT_LAUNCH_CHECK: Duration = Duration::from_secs(10);

/// Why a driver call could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// No framework id yet.
    #[error("the framework is not registered yet; cannot send {0}")]
    NotRegistered(&'static str),
    /// The driver process has stopped.
    #[error("the scheduler driver has stopped")]
    Stopped,
}

/// What the scheduler can ask of the driver from inside a callback.
pub struct DriverActions<'a> {
    ctx: &'a Context<SchedulerDriver>,
    master: &'a Upid,
    framework_id: Option<FrameworkId>,
    framework: &'a mut FrameworkInfo,
    launches: &'a mut PendingLaunches,
    stop: &'a mut bool,
}

impl DriverActions<'_> {
    fn send_call(
        &self,
        call_type: CallType,
        fill: impl FnOnce(&mut Call),
    ) -> Result<(), DriverError> {
        let framework = self
            .framework_id
            .clone()
            .ok_or(DriverError::NotRegistered("a call"))?;
        let mut call = Call::new(call_type, Some(framework));
        fill(&mut call);
        let _ = self.ctx.send(self.master, wire::SchedulerCall { call });
        Ok(())
    }

    /// The framework id, once registered.
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.framework_id.as_ref()
    }

    /// Wall-clock time by the node's clock (the seam tests control).
    pub fn wall_time(&self) -> std::time::SystemTime {
        self.ctx.wall_time()
    }

    /// The framework as registered (or as last changed by [`Self::update_framework`]).
    pub fn framework(&self) -> &FrameworkInfo {
        self.framework
    }

    /// Accepts `offers` with LAUNCH of `tasks` (an empty list declines them).
    pub fn launch_tasks(
        &mut self,
        offers: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Filters,
    ) -> Result<(), DriverError> {
        self.accept(offers, vec![Operation::launch(tasks)], filters)
    }

    /// Accepts `offers` with `operations`, applied in order: any of LAUNCH, LAUNCH_GROUP,
    /// RESERVE, UNRESERVE, CREATE, DESTROY (build them with `Operation::launch`,
    /// `Operation::launch_group`, `Operation::reserve`, ...). The tasks launched are watched
    /// until their first status update (see [`SchedulerDriver::with_launch_check`]).
    pub fn accept(
        &mut self,
        offers: Vec<OfferId>,
        operations: Vec<Operation>,
        filters: Filters,
    ) -> Result<(), DriverError> {
        if self.framework_id.is_some() {
            self.launches.launched(&operations);
        }
        self.send_call(CallType::Accept, |c| {
            c.accept = Some(meso_api::v1::scheduler::Accept {
                offer_ids: offers,
                operations,
                filters: Some(filters),
            })
        })
    }

    /// Declines an offer.
    pub fn decline_offer(&self, offer: OfferId, filters: Filters) -> Result<(), DriverError> {
        self.send_call(CallType::Decline, |c| {
            c.decline = Some(meso_api::v1::scheduler::Decline {
                offer_ids: vec![offer],
                filters: Some(filters),
            })
        })
    }

    /// Answers inverse offers (maintenance): `accept` says the framework expects to free
    /// their agents in time, otherwise it declines; `filters` sets when it is asked again.
    pub fn answer_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        accept: bool,
        filters: Option<Filters>,
    ) -> Result<(), DriverError> {
        let answer = meso_api::v1::scheduler::InverseOffers {
            inverse_offer_ids: ids,
            filters,
        };
        if accept {
            self.send_call(CallType::AcceptInverseOffers, |c| {
                c.accept_inverse_offers = Some(answer)
            })
        } else {
            self.send_call(CallType::DeclineInverseOffers, |c| {
                c.decline_inverse_offers = Some(answer)
            })
        }
    }

    /// Accepts inverse offers: the framework will free their agents in time.
    pub fn accept_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), DriverError> {
        self.answer_inverse_offers(ids, true, filters)
    }

    /// Declines inverse offers: the framework cannot free their agents in time.
    pub fn decline_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), DriverError> {
        self.answer_inverse_offers(ids, false, filters)
    }

    /// Changes the framework's info (roles, capabilities, name, failover timeout, ...)
    /// without re-registering (UPDATE_FRAMEWORK), with offers suppressed for
    /// `suppressed_roles`. The id must stay; the driver re-registers with the new info
    /// after a disconnection. The master refuses an invalid change with an error, which
    /// the scheduler gets in `error`.
    pub fn update_framework(
        &mut self,
        mut info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Result<(), DriverError> {
        info.id = self.framework_id.clone();
        self.send_call(CallType::UpdateFramework, |c| {
            c.update_framework = Some(meso_api::v1::scheduler::Subscribe {
                framework_info: info.clone(),
                suppressed_roles,
            })
        })?;
        *self.framework = info;
        Ok(())
    }

    /// Kills a task.
    pub fn kill_task(&self, task: TaskId) -> Result<(), DriverError> {
        self.send_call(CallType::Kill, |c| {
            c.kill = Some(meso_api::v1::scheduler::Kill {
                task_id: task,
                agent_id: None,
                kill_policy: None,
            })
        })
    }

    /// Clears filters and resumes offers.
    pub fn revive_offers(&self) -> Result<(), DriverError> {
        self.send_call(CallType::Revive, |c| c.revive = Some(Default::default()))
    }

    /// Stops offers until revived.
    pub fn suppress_offers(&self) -> Result<(), DriverError> {
        self.send_call(CallType::Suppress, |c| {
            c.suppress = Some(Default::default())
        })
    }

    /// Asks for task states: explicit for the given (task, agent) pairs, implicit (all
    /// non-terminal tasks) when empty.
    pub fn reconcile_tasks(
        &self,
        tasks: Vec<(TaskId, Option<AgentId>)>,
    ) -> Result<(), DriverError> {
        self.send_call(CallType::Reconcile, |c| {
            c.reconcile = Some(meso_api::v1::scheduler::Reconcile {
                tasks: tasks
                    .into_iter()
                    .map(
                        |(task_id, agent_id)| meso_api::v1::scheduler::ReconcileTask {
                            task_id,
                            agent_id,
                        },
                    )
                    .collect(),
            })
        })
    }

    /// Sends `data` to an executor.
    pub fn send_framework_message(
        &self,
        agent: AgentId,
        executor: ExecutorId,
        data: Vec<u8>,
    ) -> Result<(), DriverError> {
        self.send_call(CallType::Message, |c| {
            c.message = Some(meso_api::v1::scheduler::Message {
                agent_id: agent,
                executor_id: executor,
                data,
            })
        })
    }

    /// Tears the framework down (its tasks are killed) and stops the driver.
    pub fn teardown(&mut self) -> Result<(), DriverError> {
        let r = self.send_call(CallType::Teardown, |_| {});
        *self.stop = true;
        r
    }

    /// Stops the driver without tearing the framework down (it may fail over).
    pub fn stop(&mut self) {
        *self.stop = true;
    }
}

/// The callbacks of a framework scheduler (Mesos's `Scheduler` interface).
pub trait Scheduler: Send + 'static {
    /// Registered with a new framework id.
    fn registered(
        &mut self,
        driver: &mut DriverActions<'_>,
        framework_id: &FrameworkId,
        master: &MasterInfo,
    ) {
        let _ = (driver, framework_id, master);
    }
    /// Re-registered (after a disconnection or master failover).
    fn reregistered(&mut self, driver: &mut DriverActions<'_>, master: &MasterInfo) {
        let _ = (driver, master);
    }
    /// The connection to the master broke; the driver is re-registering.
    fn disconnected(&mut self, driver: &mut DriverActions<'_>) {
        let _ = driver;
    }
    /// New offers.
    fn resource_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<Offer>);
    /// An offer was withdrawn.
    fn offer_rescinded(&mut self, driver: &mut DriverActions<'_>, offer: &OfferId) {
        let _ = (driver, offer);
    }
    /// Inverse offers: the master asks for agents back before their machines' maintenance
    /// (answer with [`DriverActions::answer_inverse_offers`]).
    fn inverse_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<InverseOffer>) {
        let _ = (driver, offers);
    }
    /// An inverse offer was withdrawn.
    fn inverse_offer_rescinded(&mut self, driver: &mut DriverActions<'_>, offer: &OfferId) {
        let _ = (driver, offer);
    }
    /// A task's status changed.
    fn status_update(&mut self, driver: &mut DriverActions<'_>, status: &TaskStatus);
    /// A message from an executor.
    fn framework_message(
        &mut self,
        driver: &mut DriverActions<'_>,
        agent: &AgentId,
        executor: &ExecutorId,
        data: &[u8],
    ) {
        let _ = (driver, agent, executor, data);
    }
    /// An agent was lost.
    fn agent_lost(&mut self, driver: &mut DriverActions<'_>, agent: &AgentId) {
        let _ = (driver, agent);
    }
    /// An executor exited (with its wait status).
    fn executor_lost(
        &mut self,
        driver: &mut DriverActions<'_>,
        agent: &AgentId,
        executor: &ExecutorId,
        status: i32,
    ) {
        let _ = (driver, agent, executor, status);
    }
    /// The master refused the framework (fatal: the driver stops).
    fn error(&mut self, driver: &mut DriverActions<'_>, message: &str) {
        let _ = (driver, message);
    }
}

/// Everything the driver process handles.
#[derive(Debug)]
pub enum DriverMessage {
    /// Registered.
    Registered(wire::FrameworkRegistered),
    /// Re-registered.
    Reregistered(wire::FrameworkReregistered),
    /// Offers.
    Offers(wire::ResourceOffers),
    /// Rescind.
    Rescind(wire::RescindResourceOffer),
    /// Inverse offers.
    InverseOffers(wire::InverseOffers),
    /// An inverse offer withdrawn.
    RescindInverseOffer(wire::RescindInverseOffer),
    /// Status update (boxed: by far the largest message).
    Update(Box<wire::StatusUpdateMessage>),
    /// Agent lost.
    LostAgent(wire::LostAgent),
    /// Executor message.
    ExecutorMessage(wire::ExecutorToFramework),
    /// Executor exited.
    ExitedExecutor(wire::ExitedExecutor),
    /// Error.
    Error(wire::FrameworkError),
    /// A master that does not lead, and who does.
    NotLeader(wire::NotLeader),
    /// Registration retry timer.
    Retry,
    /// Time to reconcile launches not heard of (see [`SchedulerDriver::with_launch_check`]).
    LaunchCheck,
    /// Run something against the scheduler from outside (see [`DriverHandle`]).
    External(ExternalAction),
    /// The master's side of authentication, and its timer (`authentication.rs`).
    Authentication(authentication::AuthenticationMessage),
}

/// Code to run with the driver's actions (from [`DriverHandle::run`]).
pub struct ExternalAction(Box<dyn FnOnce(&mut DriverActions<'_>) + Send>);

impl std::fmt::Debug for ExternalAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExternalAction")
    }
}

macro_rules! driver_messages {
    ($($ty:ident => $variant:ident,)*) => {
        $(impl From<wire::$ty> for DriverMessage {
            fn from(m: wire::$ty) -> Self { DriverMessage::$variant(m) }
        })*
        fn install_wire(h: &mut Handlers<SchedulerDriver>) {
            $(h.on::<wire::$ty>();)*
            h.on::<wire::StatusUpdateMessage>();
            authentication::install(h);
        }
    };
}

impl From<wire::StatusUpdateMessage> for DriverMessage {
    fn from(m: wire::StatusUpdateMessage) -> Self {
        DriverMessage::Update(Box::new(m))
    }
}

driver_messages! {
    FrameworkRegistered => Registered,
    FrameworkReregistered => Reregistered,
    ResourceOffers => Offers,
    RescindResourceOffer => Rescind,
    InverseOffers => InverseOffers,
    RescindInverseOffer => RescindInverseOffer,
    LostAgent => LostAgent,
    ExecutorToFramework => ExecutorMessage,
    ExitedExecutor => ExitedExecutor,
    FrameworkError => Error,
    NotLeader => NotLeader,
}

/// The driver process (see the module docs).
pub struct SchedulerDriver {
    master: Upid,
    detector: MasterDetector,
    /// The detector moved to another master since the last registration attempt.
    moved: bool,
    framework: FrameworkInfo,
    scheduler: Box<dyn Scheduler>,
    registered: bool,
    retry_interval: Duration,
    /// A Retry timer is set (at most one at a time).
    retry_pending: bool,
    reconcile_on_registration: bool,
    launches: PendingLaunches,
    launch_check: Option<Duration>,
    launch_check_pending: bool,
    authn: meso_api::authentication::ClientAuthentication<Upid>,
    authentication_timeout: Duration,
}

impl SchedulerDriver {
    /// A driver for `framework` (with an id to re-register an existing framework) against
    /// the master at `master`.
    pub fn new(
        master: Upid,
        framework: FrameworkInfo,
        scheduler: Box<dyn Scheduler>,
    ) -> SchedulerDriver {
        let detector = MasterDetector::new(vec![master.clone()])
            .expect("a detector over one master always has a master");
        SchedulerDriver::with_detector(detector, framework, scheduler)
    }

    /// A driver that finds the leading master with `detector` (from `--master a,b,c`).
    pub fn with_detector(
        detector: MasterDetector,
        framework: FrameworkInfo,
        scheduler: Box<dyn Scheduler>,
    ) -> SchedulerDriver {
        SchedulerDriver {
            master: detector.current().clone(),
            detector,
            moved: false,
            framework,
            scheduler,
            registered: false,
            retry_interval: Duration::from_secs(2),
            retry_pending: false,
            reconcile_on_registration: false,
            launches: PendingLaunches::default(),
            launch_check: None,
            launch_check_pending: false,
            authn: meso_api::authentication::ClientAuthentication::new(None),
            authentication_timeout: authentication::DEFAULT_AUTHENTICATION_TIMEOUT,
        }
    }

    /// Authenticates with each master as `credential`'s principal before registering (the
    /// master's `--authenticate-frameworks` requires it), giving up an attempt after
    /// `timeout` (retried at the next registration retry).
    pub fn with_credential(
        mut self,
        credential: meso_api::authentication::Credential,
        timeout: Duration,
    ) -> SchedulerDriver {
        self.authn = meso_api::authentication::ClientAuthentication::new(Some(credential));
        self.authentication_timeout = timeout;
        self
    }

    /// Asks the master for the state of every task of the framework (implicit
    /// reconciliation) each time it registers or re-registers, as Mesos advises after a
    /// failover; the answers arrive as status updates.
    pub fn reconcile_on_registration(mut self) -> SchedulerDriver {
        self.reconcile_on_registration = true;
        self
    }

    /// Every `interval` (off unless asked for; [`DEFAULT_LAUNCH_CHECK`] is a good value;
    /// `None` turns it off), tasks launched without any
    /// status update since are reconciled explicitly, after 2, 4, 8, ... intervals: a
    /// launch the master lost comes back as a terminal update (TASK_LOST, TASK_DROPPED or
    /// TASK_UNKNOWN) for the scheduler to launch again.
    pub fn with_launch_check(mut self, interval: Option<Duration>) -> SchedulerDriver {
        self.launch_check = interval;
        self
    }

    /// Changes how often registration is retried (default 2 s).
    pub fn with_retry_interval(mut self, interval: Duration) -> SchedulerDriver {
        self.retry_interval = interval;
        self
    }

    fn arm_retry(&mut self, ctx: &Context<Self>) {
        if !self.retry_pending {
            self.retry_pending = true;
            ctx.delay(self.retry_interval, DriverMessage::Retry);
        }
    }

    /// Talks to `master` from now on.
    fn use_master(&mut self, ctx: &Context<Self>, master: Upid) {
        if master != self.master {
            ctx.unlink(&self.master);
            self.master = master;
        }
        self.moved = true;
    }

    /// The master in use is no longer ours: report `disconnected` once.
    fn lose_master(&mut self, ctx: &mut Context<Self>) {
        self.authn.reset();
        let was = self.registered;
        self.registered = false;
        if was {
            self.with_actions(ctx, |s, a| s.disconnected(a));
        }
    }

    fn not_leader(&mut self, ctx: &mut Context<Self>, hint: wire::NotLeader) {
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        match self.detector.not_leader(&from, &hint) {
            HintOutcome::Ignored => {}
            HintOutcome::Leader(leader) => {
                self.use_master(ctx, leader);
                self.lose_master(ctx);
                self.register(ctx);
            }
            HintOutcome::NextMaster(next) => {
                self.use_master(ctx, next);
                self.lose_master(ctx);
                self.arm_retry(ctx);
            }
        }
    }

    fn register(&mut self, ctx: &Context<Self>) {
        self.moved = false;
        ctx.link(&self.master);
        if !self.authenticate_first(ctx) {
            self.send_registration(ctx);
        }
        self.arm_retry(ctx);
    }

    /// Sends RegisterFramework, or ReregisterFramework once the framework has an id.
    fn send_registration(&mut self, ctx: &Context<Self>) {
        if self.framework.id.is_some() {
            // A lost registration is sent again when the retry armed below fires.
            let _ = ctx.send(
                &self.master,
                wire::ReregisterFramework {
                    framework: self.framework.clone(),
                    failover: false,
                },
            );
        } else {
            // A lost registration is sent again when the retry armed below fires.
            let _ = ctx.send(
                &self.master,
                wire::RegisterFramework {
                    framework: self.framework.clone(),
                },
            );
        }
    }

    fn with_actions(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut dyn Scheduler, &mut DriverActions<'_>),
    ) {
        let mut stop = false;
        {
            let framework_id = if self.registered {
                self.framework.id.clone()
            } else {
                None
            };
            let mut actions = DriverActions {
                ctx,
                master: &self.master,
                framework_id,
                framework: &mut self.framework,
                launches: &mut self.launches,
                stop: &mut stop,
            };
            f(self.scheduler.as_mut(), &mut actions);
        }
        if stop {
            ctx.terminate();
        } else {
            self.arm_launch_check(ctx);
        }
    }

    /// Arms the launch check timer while launches are pending (one timer at a time).
    fn arm_launch_check(&mut self, ctx: &Context<Self>) {
        if let Some(interval) = self.launch_check {
            if !self.launch_check_pending && !self.launches.is_empty() {
                self.launch_check_pending = true;
                ctx.delay(interval, DriverMessage::LaunchCheck);
            }
        }
    }

    /// After (re)registration: implicit reconciliation when asked for, and explicit for
    /// launches not heard of.
    fn reconcile_after_registration(&mut self, ctx: &mut Context<Self>) {
        let reconcile = self.reconcile_on_registration;
        self.with_actions(ctx, |_, a| {
            if reconcile {
                let _ = a.reconcile_tasks(Vec::new());
            }
        });
    }
}

impl Process for SchedulerDriver {
    type Message = DriverMessage;

    fn base_name(&self) -> &str {
        "scheduler"
    }

    fn install(handlers: &mut Handlers<Self>) {
        install_wire(handlers);
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.register(ctx);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: DriverMessage) {
        let from_master = ctx.from() == Some(&self.master);
        match msg {
            DriverMessage::Retry => {
                self.retry_pending = false;
                if !self.registered {
                    if !self.moved {
                        // No answer from the master in use: try the next one.
                        let next = self.detector.advance().clone();
                        self.use_master(ctx, next);
                    }
                    self.register(ctx);
                }
            }
            DriverMessage::NotLeader(hint) => self.not_leader(ctx, hint),
            DriverMessage::LaunchCheck => {
                self.launch_check_pending = false;
                let due = self.launches.tick();
                if self.registered && !due.is_empty() {
                    self.with_actions(ctx, |_, a| {
                        let tasks = due.into_iter().map(|(t, agent)| (t, Some(agent))).collect();
                        let _ = a.reconcile_tasks(tasks);
                    });
                }
                self.arm_launch_check(ctx);
            }
            DriverMessage::External(ExternalAction(f)) => self.with_actions(ctx, |_, a| f(a)),
            DriverMessage::Authentication(m) => self.authentication_message(ctx, m),
            DriverMessage::Registered(m) if from_master => {
                if self.registered {
                    return;
                }
                self.registered = true;
                self.framework.id = Some(m.framework_id.clone());
                self.with_actions(ctx, |s, a| s.registered(a, &m.framework_id, &m.master_info));
                self.reconcile_after_registration(ctx);
            }
            DriverMessage::Reregistered(m) if from_master => {
                if self.registered {
                    return;
                }
                self.registered = true;
                self.framework.id = Some(m.framework_id.clone());
                self.with_actions(ctx, |s, a| s.reregistered(a, &m.master_info));
                self.reconcile_after_registration(ctx);
            }
            DriverMessage::Offers(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| s.resource_offers(a, m.offers));
            }
            DriverMessage::Rescind(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| s.offer_rescinded(a, &m.offer_id));
            }
            DriverMessage::InverseOffers(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| s.inverse_offers(a, m.inverse_offers));
            }
            DriverMessage::RescindInverseOffer(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| {
                    s.inverse_offer_rescinded(a, &m.inverse_offer_id)
                });
            }
            DriverMessage::Update(m) if from_master && self.registered => {
                let m = *m;
                let update = m.update;
                self.launches.heard(&update.status.task_id);
                self.with_actions(ctx, |s, a| s.status_update(a, &update.status));
                if let (Some(uuid), Some(_agent_pid)) = (update.uuid.clone(), m.pid) {
                    let agent_id = update.agent_id.clone().or(update.status.agent_id.clone());
                    if let (Some(agent_id), Some(framework_id)) =
                        (agent_id, self.framework.id.clone())
                    {
                        // A lost acknowledgement is answered again: the agent retries the update until acked.
                        let _ = ctx.send(
                            &self.master,
                            wire::StatusUpdateAcknowledgement {
                                agent_id,
                                framework_id,
                                task_id: update.status.task_id.clone(),
                                uuid,
                            },
                        );
                    }
                }
            }
            DriverMessage::LostAgent(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| s.agent_lost(a, &m.agent_id));
            }
            DriverMessage::ExecutorMessage(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| {
                    s.framework_message(a, &m.agent_id, &m.executor_id, &m.data)
                });
            }
            DriverMessage::ExitedExecutor(m) if from_master && self.registered => {
                self.with_actions(ctx, |s, a| {
                    s.executor_lost(a, &m.agent_id, &m.executor_id, m.status)
                });
            }
            DriverMessage::Error(m) if from_master => {
                self.with_actions(ctx, |s, a| {
                    s.error(a, &m.message);
                    a.stop();
                });
            }
            _ => {}
        }
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        if pid != self.master {
            return;
        }
        let was = self.registered;
        self.lose_master(ctx);
        if was {
            // The leader went away (or stepped down): go on to the next master at once;
            // it leads now or points at the leader.
            let next = self.detector.advance().clone();
            self.use_master(ctx, next);
            self.register(ctx);
        } else {
            // Re-link and re-register after the retry interval (the master may be
            // restarting).
            self.arm_retry(ctx);
        }
    }
}

/// A handle to a running driver for code outside the scheduler's callbacks.
#[derive(Clone, Debug)]
pub struct DriverHandle {
    pid: Pid<SchedulerDriver>,
}

impl DriverHandle {
    /// Wraps a spawned driver.
    pub fn new(pid: Pid<SchedulerDriver>) -> DriverHandle {
        DriverHandle { pid }
    }

    /// The driver's address.
    pub fn upid(&self) -> &Upid {
        self.pid.upid()
    }

    /// Runs `f` with the driver's actions, in turn with the driver's messages.
    pub fn run(
        &self,
        f: impl FnOnce(&mut DriverActions<'_>) + Send + 'static,
    ) -> Result<(), DriverError> {
        self.pid
            .send(DriverMessage::External(ExternalAction(Box::new(f))))
            .map_err(|_| DriverError::Stopped)
    }
}
