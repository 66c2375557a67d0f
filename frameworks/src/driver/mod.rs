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
//! driver authenticates with each master before registering with it; over HTTP each call
//! carries the credential as HTTP Basic.
//!
//! Transport: libprocess messages by default; [`SchedulerDriver::over_http`] speaks the v1
//! scheduler HTTP API instead ([`http`]: SUBSCRIBE stream, `Mesos-Stream-Id`, calls POSTed,
//! heartbeats), with the same callbacks, calls and failover (a 307 names the leader, a
//! broken stream moves on to the next master).
//!
//! Invariant: calls are only sent to the master once the framework is registered; before
//! that they are refused with [`DriverError::NotRegistered`].

mod actions;
pub mod http;

use std::time::Duration;

use libprocess::{Context, Handlers, Pid, Process, Upid};
use meso_api::detector::{HintOutcome, MasterDetector};
use meso_api::v1::scheduler::{Call, CallType};
use meso_api::v1::{
    AgentId, ExecutorId, FrameworkId, FrameworkInfo, InverseOffer, MasterInfo, Offer, OfferId,
    TaskStatus,
};
use meso_api::wire;

use crate::launches::PendingLaunches;
pub use actions::DriverActions;
use http::{HttpLink, HttpMessage};

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
    /// The v1 HTTP transport's news (see [`SchedulerDriver::over_http`]).
    Http(HttpMessage),
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
    /// The v1 HTTP transport, when used.
    http: Option<HttpLink>,
    /// HTTP Basic `Authorization` of the credential, sent on every HTTP call.
    http_authorization: Option<String>,
    /// The scheduler stopped the driver; it ends once its HTTP calls are out.
    stopping: bool,
    /// The SUBSCRIBE in flight carried a framework id (SUBSCRIBED is a re-registration).
    resubscribing: bool,
    /// The HTTP stream's heartbeat interval.
    heartbeat: Duration,
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
            http: None,
            http_authorization: None,
            stopping: false,
            resubscribing: false,
            heartbeat: http::DEFAULT_HEARTBEAT,
        }
    }

    /// Authenticates with each master as `credential`'s principal before registering (the
    /// master's `--authenticate-frameworks` requires it), giving up an attempt after
    /// `timeout` (retried at the next registration retry). Over HTTP every call carries the
    /// credential as HTTP Basic instead (`--authenticate-http-frameworks`).
    pub fn with_credential(
        mut self,
        credential: meso_api::authentication::Credential,
        timeout: Duration,
    ) -> SchedulerDriver {
        self.http_authorization = Some(credential.basic_authorization());
        self.authn = meso_api::authentication::ClientAuthentication::new(Some(credential));
        self.authentication_timeout = timeout;
        self
    }

    /// Speaks the v1 scheduler HTTP API (`POST /api/v1/scheduler` on the masters' HTTP
    /// ports) instead of libprocess messages: what a framework needs against a master
    /// that only serves HTTP (a real Mesos master, too). Callbacks and calls are the same.
    pub fn over_http(mut self) -> SchedulerDriver {
        self.http = Some(HttpLink::default());
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

    /// Runs the driver on a node of its own until the driver stops (the scheduler tore the
    /// framework down or stopped the driver). The node listens on a port the OS picks, on
    /// the first master's address when that is a loopback address (a local cluster: nothing
    /// exposed), on every interface otherwise (the master must reach it).
    pub async fn run(self) -> Result<(), String> {
        let ip = self.master.addr().ip();
        let ip = if ip.is_loopback() {
            ip
        } else {
            [0, 0, 0, 0].into()
        };
        let node = libprocess::Node::builder()
            .bind(std::net::SocketAddr::new(ip, 0))
            .build()
            .await
            .map_err(|e| format!("cannot start a node: {e}"))?;
        let pid = node
            .spawn(self)
            .map_err(|e| format!("cannot start the driver: {e}"))?;
        node.wait(pid.upid()).await;
        Ok(())
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

    /// Links to the master in use as the driver registers with it, so that its exit (it
    /// stopped leading, or died) is heard. The answer can come from a master the driver moved
    /// to on a `NotLeader` hint without linking yet (it links when it sends its own
    /// registration): a late answer to an earlier registration there. Without the link, a
    /// driver registered that way never heard that master step down and stayed with it,
    /// its status updates unforwarded (simulator seed 2001953, three Raft masters).
    fn watch_master(&self, ctx: &Context<Self>) {
        if self.http.is_none() {
            ctx.link(&self.master);
        }
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
        if let Some(link) = self.http.as_mut() {
            // The stream's end (or its silence) decides what comes next: no retry timer.
            let generation = link.next_generation();
            self.resubscribing = self.framework.id.is_some();
            let mut call = Call::new(CallType::Subscribe, self.framework.id.clone());
            call.subscribe = Some(meso_api::v1::scheduler::Subscribe {
                framework_info: self.framework.clone(),
                suppressed_roles: Vec::new(),
            });
            let auth = self.http_authorization.as_deref();
            http::subscribe(ctx, self.master.addr(), &call, generation, auth);
            return;
        }
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
                http: self.http.as_ref(),
            };
            f(self.scheduler.as_mut(), &mut actions);
        }
        self.stopping |= stop;
        self.pump(ctx);
        if !self.maybe_finish(ctx) {
            self.arm_launch_check(ctx);
        }
    }

    /// POSTs the next HTTP call unless one is in flight or no stream is open.
    fn pump(&mut self, ctx: &Context<Self>) {
        let Some(link) = self.http.as_mut() else {
            return;
        };
        let Some(stream_id) = link.stream_id.as_deref() else {
            return;
        };
        if link.in_flight {
            return;
        }
        if let Some(call) = link.outbox.get_mut().pop_front() {
            link.in_flight = true;
            let auth = self.http_authorization.as_deref();
            http::post(ctx, self.master.addr(), stream_id, &call, auth);
        }
    }

    /// Terminates once stopped and every HTTP call made is out (or no stream is open to
    /// take them); returns whether it did.
    fn maybe_finish(&mut self, ctx: &mut Context<Self>) -> bool {
        let settled = self
            .http
            .as_ref()
            .is_none_or(|l| l.idle() || l.stream_id.is_none());
        if self.stopping && settled {
            ctx.terminate();
        }
        self.stopping && settled
    }

    /// Acknowledges a status update that came from an agent.
    fn acknowledge(&mut self, ctx: &Context<Self>, ack: wire::StatusUpdateAcknowledgement) {
        match self.http.as_mut() {
            Some(link) => {
                let mut call = Call::new(CallType::Acknowledge, Some(ack.framework_id));
                call.acknowledge = Some(meso_api::v1::scheduler::Acknowledge {
                    agent_id: ack.agent_id,
                    task_id: ack.task_id,
                    uuid: ack.uuid,
                });
                link.outbox.get_mut().push_back(call);
                self.pump(ctx);
            }
            // A lost acknowledgement is answered again: the agent retries the update
            // until acked.
            None => {
                let _ = ctx.send(&self.master, ack);
            }
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
        if let DriverMessage::Http(m) = msg {
            return self.http_message(ctx, m);
        }
        let from_master = ctx.from() == Some(&self.master);
        self.dispatch(ctx, msg, from_master);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        if pid != self.master || self.http.is_some() {
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

impl SchedulerDriver {
    /// Handles `msg`; `from_master` says it came from the master in use (or its stream).
    fn dispatch(&mut self, ctx: &mut Context<Self>, msg: DriverMessage, from_master: bool) {
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
                self.watch_master(ctx);
                self.registered = true;
                self.framework.id = Some(m.framework_id.clone());
                self.with_actions(ctx, |s, a| s.registered(a, &m.framework_id, &m.master_info));
                self.reconcile_after_registration(ctx);
            }
            DriverMessage::Reregistered(m) if from_master => {
                if self.registered {
                    return;
                }
                self.watch_master(ctx);
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
                        let ack = wire::StatusUpdateAcknowledgement {
                            agent_id,
                            framework_id,
                            task_id: update.status.task_id.clone(),
                            uuid,
                        };
                        self.acknowledge(ctx, ack);
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
