//! The executor driver: a libprocess process speaking the v1 executor HTTP API to its
//! agent for one [`Executor`], and the [`ExecutorActions`] its callbacks get.
//!
//! Life cycle: `initialize` POSTs SUBSCRIBE; the chunked response is read off the actor
//! (RecordIO records decoded as they come) and every event comes back as a message, which
//! the pure [`Session`] turns into a callback. UPDATE and MESSAGE are one short POST each
//! (202 expected), one at a time in the order the executor made them. When the stream ends: a checkpointing framework's executor
//! (`MESOS_CHECKPOINT=1`) is told `disconnected` and subscribes again with a doubling
//! backoff capped at `MESOS_SUBSCRIPTION_BACKOFF_MAX`, carrying its unacknowledged tasks
//! and updates, for up to `MESOS_RECOVERY_TIMEOUT`, after which it is told `shutdown`;
//! any other executor is told `disconnected` then `shutdown` at once (Mesos's executor
//! library does the same). [`ExecutorActions::stop`] ends the driver once every update
//! sent has been acknowledged, so a terminal update is never lost to an early exit.
//!
//! Invariant: events of an older stream (before a re-subscription) are ignored; each
//! stream has a generation number and only the current one is heard.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use libprocess::http_client::{ClientRequest, ClientResponse};
use libprocess::{Context, Handlers, Pid, Process};
use meso_api::http::recordio::Decoder;
use meso_api::json::Limits;
use meso_api::v1::executor::{Call, Event, Subscribed};
use meso_api::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo};
use meso_api::v1::{TaskId, TaskInfo, TaskStatus};

use super::env::ExecutorEnvironment;
use super::session::{Delivery, Session, UpdateError};

/// Longest wait for an answer's head from the agent.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// First wait before subscribing again (doubled per attempt).
const BACKOFF_MIN: Duration = Duration::from_millis(50);
/// Largest event record accepted from the agent.
const MAX_EVENT_BYTES: usize = 64 << 20;

/// The callbacks of an executor (Mesos's `Executor` interface). Only `launch_task` is
/// required; the others do what most executors want.
pub trait Executor: Send + Sized + 'static {
    /// Subscribed to the agent for the first time.
    fn registered(
        &mut self,
        driver: &mut ExecutorActions<'_, Self>,
        executor: &ExecutorInfo,
        framework: &FrameworkInfo,
        agent: &AgentInfo,
    ) {
        let _ = (driver, executor, framework, agent);
    }
    /// Subscribed again after the agent restarted.
    fn reregistered(&mut self, driver: &mut ExecutorActions<'_, Self>, agent: &AgentInfo) {
        let _ = (driver, agent);
    }
    /// The connection to the agent broke.
    fn disconnected(&mut self, driver: &mut ExecutorActions<'_, Self>) {
        let _ = driver;
    }
    /// Run `task`; report its states with [`ExecutorActions::send_status_update`].
    fn launch_task(&mut self, driver: &mut ExecutorActions<'_, Self>, task: TaskInfo);
    /// Run a task group (LAUNCH_GROUP). By default each task is launched on its own.
    fn launch_task_group(&mut self, driver: &mut ExecutorActions<'_, Self>, group: TaskGroupInfo) {
        for task in group.tasks {
            self.launch_task(driver, task);
        }
    }
    /// Kill a task (with the kill policy the scheduler gave, if any). By default the task
    /// is reported TASK_KILLED at once: an executor that runs something must stop it first.
    fn kill_task(
        &mut self,
        driver: &mut ExecutorActions<'_, Self>,
        task: &TaskId,
        policy: Option<&KillPolicy>,
    ) {
        let _ = policy;
        let status = TaskStatus::new(task.clone(), meso_api::v1::TaskState::Killed);
        let _ = driver.send_status_update(status);
    }
    /// A message from the scheduler.
    fn framework_message(&mut self, driver: &mut ExecutorActions<'_, Self>, data: &[u8]) {
        let _ = (driver, data);
    }
    /// The agent asks the executor to end (or the agent is gone for good). By default the
    /// driver stops once its updates are acknowledged.
    fn shutdown(&mut self, driver: &mut ExecutorActions<'_, Self>) {
        driver.stop();
    }
    /// The agent reported an error or refused a call.
    fn error(&mut self, driver: &mut ExecutorActions<'_, Self>, message: &str) {
        let _ = (driver, message);
    }
}

/// What an executor can ask of the driver from inside a callback.
pub struct ExecutorActions<'a, E: Executor> {
    ctx: &'a Context<ExecutorDriver<E>>,
    env: &'a ExecutorEnvironment,
    session: &'a mut Session,
    outbox: &'a mut VecDeque<Call>,
    stop: &'a mut bool,
}

impl<E: Executor> ExecutorActions<'_, E> {
    /// Sends `status` to the agent: the driver sets a fresh uuid, the timestamp (unless
    /// set), the executor id and `SOURCE_EXECUTOR`, and resends it after a re-subscription
    /// until the agent acknowledges it.
    pub fn send_status_update(&mut self, mut status: TaskStatus) -> Result<(), UpdateError> {
        status.uuid = Some(self.ctx.uuid_v4().as_bytes().to_vec());
        if status.timestamp.is_none() {
            let now = self.ctx.wall_time();
            let secs = now
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            status.timestamp = Some(secs);
        }
        let call = self.session.update(status)?;
        // While disconnected the update waits in the session for the next SUBSCRIBE.
        if self.session.is_connected() {
            self.outbox.push_back(call);
        }
        Ok(())
    }

    /// Sends `data` to the scheduler (best effort, as in Mesos: dropped while the agent
    /// is away).
    pub fn send_framework_message(&mut self, data: Vec<u8>) {
        if self.session.is_connected() {
            self.outbox.push_back(self.session.message(data));
        }
    }

    /// Ends the driver once every update sent so far is acknowledged.
    pub fn stop(&mut self) {
        *self.stop = true;
    }

    /// A handle for code outside the callbacks (a thread watching a child process).
    pub fn handle(&self) -> ExecutorHandle<E> {
        ExecutorHandle {
            pid: self.ctx.pid().clone(),
        }
    }

    /// The environment the agent gave the executor (sandbox, ids, timeouts).
    pub fn environment(&self) -> &ExecutorEnvironment {
        self.env
    }
}

/// Posts `call` to the agent off the actor; the answer comes back as a message.
fn post<E: Executor>(ctx: &Context<ExecutorDriver<E>>, env: &ExecutorEnvironment, call: &Call) {
    let kind = call.kind;
    let exchange = ctx
        .node()
        .http_send(env.agent, request(env, call), CALL_TIMEOUT);
    ctx.defer(
        async move {
            let response = exchange.await.map_err(|e| e.to_string())?;
            let status = response.status;
            if status == StatusCode::ACCEPTED || status == StatusCode::OK {
                return Ok(());
            }
            let body = response.bytes(4096).await.unwrap_or_default();
            Err(format!(
                "the agent answered {kind} with {status}: {}",
                String::from_utf8_lossy(&body)
            ))
        },
        DriverMessage::CallAnswered,
    );
}

fn request(env: &ExecutorEnvironment, call: &Call) -> ClientRequest {
    let body = serde_json::to_vec(call).expect("invariant: a Call always serializes");
    let mut request = ClientRequest::post(&env.api_path, "application/json", Bytes::from(body));
    request.headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    if let Some(token) = &env.authentication_token {
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            request.headers.insert(http::header::AUTHORIZATION, value);
        }
    }
    request
}

/// Reads a SUBSCRIBE response's events into the driver; returns why the stream ended.
async fn read_events<E: Executor>(
    response: Result<ClientResponse, String>,
    pid: Pid<ExecutorDriver<E>>,
    generation: u64,
) -> String {
    let mut response = match response {
        Ok(r) => r,
        Err(e) => return format!("SUBSCRIBE failed: {e}"),
    };
    if response.status != StatusCode::OK {
        let status = response.status;
        let body = response.bytes(4096).await.unwrap_or_default();
        return format!(
            "the agent answered SUBSCRIBE with {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let mut decoder = Decoder::new(MAX_EVENT_BYTES);
    let limits = Limits::default();
    while let Some(chunk) = response.chunk().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return format!("the event stream broke: {e}"),
        };
        let records = match decoder.feed(&chunk) {
            Ok(r) => r,
            Err(e) => return format!("the event stream is malformed: {e}"),
        };
        for record in records {
            let event: Event = match meso_api::json::from_slice(&record, &limits) {
                Ok(e) => e,
                Err(e) => return format!("an event is malformed: {e}"),
            };
            if pid
                .send(DriverMessage::Event(generation, Box::new(event)))
                .is_err()
            {
                return "the driver stopped".into();
            }
        }
    }
    "the agent closed the event stream".into()
}

/// Code run with the executor and the driver's actions (from [`ExecutorHandle::run`]).
pub type ExternalCall<E> = Box<dyn FnOnce(&mut E, &mut ExecutorActions<'_, E>) + Send>;

/// Everything the executor driver process handles.
pub enum DriverMessage<E: Executor> {
    /// An event of stream `generation`.
    Event(u64, Box<Event>),
    /// Stream `generation` ended, and why.
    StreamEnded(u64, String),
    /// An UPDATE or MESSAGE was answered (or failed).
    CallAnswered(Result<(), String>),
    /// Time to subscribe again.
    Resubscribe,
    /// The recovery timeout of disconnection `n` passed.
    RecoveryTimeout(u64),
    /// Code from an [`ExecutorHandle`].
    External(ExternalCall<E>),
}

impl<E: Executor> std::fmt::Debug for DriverMessage<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverMessage::Event(g, e) => write!(f, "Event({g}, {})", e.kind),
            DriverMessage::StreamEnded(g, why) => write!(f, "StreamEnded({g}, {why})"),
            DriverMessage::CallAnswered(r) => write!(f, "CallAnswered({r:?})"),
            DriverMessage::Resubscribe => f.write_str("Resubscribe"),
            DriverMessage::RecoveryTimeout(n) => write!(f, "RecoveryTimeout({n})"),
            DriverMessage::External(_) => f.write_str("External"),
        }
    }
}

/// The driver process (see the module docs).
pub struct ExecutorDriver<E: Executor> {
    env: ExecutorEnvironment,
    session: Session,
    executor: E,
    generation: u64,
    /// Disconnections so far (names the recovery timer that is current).
    disconnections: u64,
    backoff: Duration,
    stopping: bool,
    exit_code: Arc<AtomicI32>,
    /// UPDATE and MESSAGE calls not sent yet: one is in flight at a time, so the agent
    /// gets them in the order the executor made them.
    outbox: VecDeque<Call>,
    in_flight: bool,
}

impl<E: Executor> ExecutorDriver<E> {
    /// A driver for `executor` in the environment `env`; `exit_code` gets 0 when the
    /// driver ends normally, 1 when it gives up on the agent.
    pub fn new(env: ExecutorEnvironment, executor: E, exit_code: Arc<AtomicI32>) -> Self {
        ExecutorDriver {
            session: Session::new(env.framework_id.clone(), env.executor_id.clone()),
            env,
            executor,
            generation: 0,
            disconnections: 0,
            backoff: BACKOFF_MIN,
            stopping: false,
            exit_code,
            outbox: VecDeque::new(),
            in_flight: false,
        }
    }

    fn subscribe(&mut self, ctx: &Context<Self>) {
        self.generation += 1;
        let generation = self.generation;
        let call = self.session.subscribe();
        let exchange =
            ctx.node()
                .http_send(self.env.agent, request(&self.env, &call), CALL_TIMEOUT);
        let pid = ctx.pid().clone();
        ctx.defer(
            async move {
                let response = exchange.await.map_err(|e| e.to_string());
                read_events(response, pid, generation).await
            },
            move |why| DriverMessage::StreamEnded(generation, why),
        );
    }

    fn with_actions(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut E, &mut ExecutorActions<'_, E>),
    ) {
        let mut stop = false;
        {
            let mut actions = ExecutorActions {
                ctx,
                env: &self.env,
                session: &mut self.session,
                outbox: &mut self.outbox,
                stop: &mut stop,
            };
            f(&mut self.executor, &mut actions);
        }
        if stop {
            self.stopping = true;
        }
        self.pump(ctx);
        self.maybe_finish(ctx);
    }

    /// Sends the next queued call unless one is in flight.
    fn pump(&mut self, ctx: &Context<Self>) {
        if self.in_flight {
            return;
        }
        if let Some(call) = self.outbox.pop_front() {
            self.in_flight = true;
            post(ctx, &self.env, &call);
        }
    }

    /// Terminates once stopping and every update is acknowledged (or no agent is there to
    /// acknowledge them).
    fn maybe_finish(&mut self, ctx: &mut Context<Self>) {
        let sent = self.outbox.is_empty() && !self.in_flight;
        let settled =
            (sent && self.session.unacknowledged_updates() == 0) || !self.session.is_connected();
        if self.stopping && settled {
            ctx.terminate();
        }
    }

    fn deliver(&mut self, ctx: &mut Context<Self>, delivery: Delivery) {
        match delivery {
            Delivery::Registered(s) => {
                self.backoff = BACKOFF_MIN;
                let Subscribed {
                    executor_info,
                    framework_info,
                    agent_info,
                    ..
                } = *s;
                self.with_actions(ctx, |e, a| {
                    e.registered(a, &executor_info, &framework_info, &agent_info)
                });
            }
            Delivery::Reregistered(s) => {
                self.backoff = BACKOFF_MIN;
                self.with_actions(ctx, |e, a| e.reregistered(a, &s.agent_info));
            }
            Delivery::Launch(task) => self.with_actions(ctx, |e, a| e.launch_task(a, *task)),
            Delivery::LaunchGroup(group) => {
                self.with_actions(ctx, |e, a| e.launch_task_group(a, *group))
            }
            Delivery::Kill(task, policy) => {
                self.with_actions(ctx, |e, a| e.kill_task(a, &task, policy.as_ref()))
            }
            Delivery::Message(data) => self.with_actions(ctx, |e, a| e.framework_message(a, &data)),
            Delivery::Shutdown => self.with_actions(ctx, |e, a| e.shutdown(a)),
            Delivery::Error(message) => self.with_actions(ctx, |e, a| e.error(a, &message)),
            Delivery::Nothing => self.maybe_finish(ctx),
        }
    }

    fn stream_ended(&mut self, ctx: &mut Context<Self>, why: String) {
        let was_connected = self.session.disconnected();
        // Queued updates go again in the next SUBSCRIBE; queued messages are lost.
        self.outbox.clear();
        if was_connected {
            self.with_actions(ctx, |e, a| e.disconnected(a));
        }
        if self.stopping {
            return ctx.terminate();
        }
        if !self.env.checkpoint {
            self.give_up(ctx, &why);
            return;
        }
        if was_connected || self.disconnections == 0 {
            self.disconnections += 1;
            ctx.delay(
                self.env.recovery_timeout,
                DriverMessage::RecoveryTimeout(self.disconnections),
            );
        }
        ctx.delay(self.backoff, DriverMessage::Resubscribe);
        self.backoff = (self.backoff * 2).min(self.env.subscription_backoff_max.max(BACKOFF_MIN));
    }

    /// The agent is gone for good: the executor is told to shut down, and the driver ends.
    fn give_up(&mut self, ctx: &mut Context<Self>, why: &str) {
        self.exit_code.store(1, Ordering::SeqCst);
        let why = why.to_string();
        self.with_actions(ctx, |e, a| {
            e.error(a, &why);
            e.shutdown(a);
        });
        ctx.terminate();
    }
}

impl<E: Executor> Process for ExecutorDriver<E> {
    type Message = DriverMessage<E>;

    fn base_name(&self) -> &str {
        "executor"
    }

    fn install(_handlers: &mut Handlers<Self>) {}

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.subscribe(ctx);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: DriverMessage<E>) {
        match msg {
            DriverMessage::Event(generation, event) if generation == self.generation => {
                let delivery = self.session.event(*event);
                self.deliver(ctx, delivery);
            }
            DriverMessage::Event(..) => {}
            DriverMessage::StreamEnded(generation, why) if generation == self.generation => {
                self.stream_ended(ctx, why)
            }
            DriverMessage::StreamEnded(..) => {}
            DriverMessage::CallAnswered(Ok(())) => {
                self.in_flight = false;
                self.pump(ctx);
                self.maybe_finish(ctx);
            }
            DriverMessage::CallAnswered(Err(why)) => {
                self.in_flight = false;
                self.pump(ctx);
                // A broken connection shows on the stream too (and the update is resent
                // after re-subscribing); a refusal is the executor's to hear.
                if self.session.is_connected() {
                    self.with_actions(ctx, |e, a| e.error(a, &why));
                }
            }
            DriverMessage::Resubscribe => {
                if !self.session.is_connected() {
                    self.subscribe(ctx);
                }
            }
            DriverMessage::RecoveryTimeout(n) => {
                if n == self.disconnections && !self.session.is_connected() {
                    self.give_up(
                        ctx,
                        "the agent did not come back within the recovery timeout",
                    );
                }
            }
            DriverMessage::External(f) => self.with_actions(ctx, |e, a| f(e, a)),
        }
    }
}

/// A handle to a running executor driver for code outside the callbacks.
pub struct ExecutorHandle<E: Executor> {
    pid: Pid<ExecutorDriver<E>>,
}

impl<E: Executor> Clone for ExecutorHandle<E> {
    fn clone(&self) -> Self {
        ExecutorHandle {
            pid: self.pid.clone(),
        }
    }
}

impl<E: Executor> ExecutorHandle<E> {
    /// The driver's process (to wait for its end, or to end it as a crash would).
    pub fn upid(&self) -> &libprocess::Upid {
        self.pid.upid()
    }

    /// Runs `f` with the executor and the driver's actions, in turn with the events.
    /// Returns false when the driver has stopped.
    pub fn run(
        &self,
        f: impl FnOnce(&mut E, &mut ExecutorActions<'_, E>) + Send + 'static,
    ) -> bool {
        self.pid.send(DriverMessage::External(Box::new(f))).is_ok()
    }
}
