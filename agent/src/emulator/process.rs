//! One emulated agent: a libprocess process (`slave(N)`) that registers with the leading
//! master, answers its pings, and re-registers with its tasks whenever it loses the master
//! (broken link, ping timeout, or a `NotLeader` answer), following leader hints.
//!
//! It runs no processes: it reports `--tasks-per-agent` running tasks of one framework on
//! re-registration, which is what a master's failover handling has to absorb. Tasks that
//! frameworks launch on it (the soak benchmark) run at once and end at once when killed
//! ([`super::launched`]): each gets TASK_RUNNING, then TASK_KILLED, sent to the master and
//! sent again to each new master until acknowledged; they are reported on re-registration
//! beside the emulated ones. A task the master asks about on re-registration that this
//! agent does not know (a launch lost on a broken link) ends TASK_LOST or TASK_DROPPED, as
//! a real agent answers.
//!
//! Invariants: every timer message carries the generation it was set for and is ignored when
//! the generation moved on; the shared [`Progress`] counts this agent as registered exactly
//! while `registered` is true.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use libprocess::slog::{debug, warn};
use libprocess::{Context, Encoded, Handlers, Process, Upid};
use meso_api::v1::{AgentId, AgentInfo, FrameworkId};
use meso_api::v1::{TaskState, TaskStatus, TaskStatusReason, TaskStatusSource};
use meso_api::wire::{
    AgentRegistered, AgentReregistered, KillTask, NotLeader, PingAgent, PongAgent, RegisterAgent,
    ReregisterAgent, RunTask, ShutdownAgent, StatusUpdate, StatusUpdateAcknowledgement,
    StatusUpdateMessage,
};
use meso_api::Resources;

use super::launched::Launched;
use super::plan::{self, Backoff, Jitter};
use super::tracker::{MasterTracker, Next};

/// What every emulated agent of one emulator shares (read-only).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The configured masters.
    pub masters: Vec<Upid>,
    /// Tasks each agent reports.
    pub tasks_per_agent: usize,
    /// Each agent's total resources.
    pub resources: Resources,
    /// Each task's resources.
    pub task_resources: Resources,
    /// The framework the tasks belong to.
    pub framework_id: FrameworkId,
    /// Hostname prefix (`<prefix>-<index>`).
    pub hostname_prefix: String,
    /// Wait before retrying after the master went away (first step and cap; grows while
    /// masters keep going away or refusing connections).
    pub backoff: Backoff,
    /// Time to wait for an answer to a (re)registration before sending it again (plus up to
    /// half of it as jitter); doubled per unanswered attempt up to `max_answer_timeout`
    /// ([`plan::answer_wait`]).
    pub answer_timeout: Duration,
    /// Largest wait for an answer.
    pub max_answer_timeout: Duration,
    /// Wait (jittered in [step/2, step], not growing) before asking again after a master
    /// answered that no leader is known (an election is under way).
    pub election_poll: Duration,
    /// First registrations are spread uniformly over this.
    pub initial_spread: Duration,
    /// Jitter seed.
    pub seed: u64,
}

/// Counters shared by all emulated agents and read by the emulator's reporter.
#[derive(Debug, Default)]
pub struct Progress {
    total: usize,
    registered: AtomicUsize,
    attempts: AtomicU64,
    not_leader: AtomicU64,
    losses: AtomicU64,
    shutdowns: AtomicU64,
    /// Unix ms of the first loss after all agents were registered (0: none since).
    wave_started_ms: AtomicU64,
    /// Unix ms when the count last reached `total`.
    all_registered_ms: AtomicU64,
    /// How many times the count reached `total`.
    waves_done: AtomicU64,
}

/// A copy of the counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Agents in the emulator.
    pub total: usize,
    /// Agents registered now.
    pub registered: usize,
    /// (Re)registration messages sent.
    pub attempts: u64,
    /// `NotLeader` answers received.
    pub not_leader: u64,
    /// Times an agent lost its master.
    pub losses: u64,
    /// Agents the master shut down.
    pub shutdowns: u64,
    /// Unix ms of the first loss of the current or last wave (0: none).
    pub wave_started_ms: u64,
    /// Unix ms when all agents were last registered (0: never).
    pub all_registered_ms: u64,
    /// How many times all agents were registered.
    pub waves_done: u64,
}

impl Progress {
    /// Counters for `total` agents.
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            ..Progress::default()
        }
    }

    /// One more agent registered, at `now_ms` (Unix ms by its node's wall clock).
    fn up(&self, now_ms: u64) {
        let before = self.registered.fetch_add(1, Ordering::AcqRel);
        if before + 1 == self.total {
            self.all_registered_ms.store(now_ms, Ordering::Release);
            self.waves_done.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// One agent lost its master, at `now_ms` (Unix ms by its node's wall clock).
    fn down(&self, now_ms: u64) {
        self.losses.fetch_add(1, Ordering::Relaxed);
        let before = self.registered.fetch_sub(1, Ordering::AcqRel);
        if before == self.total {
            self.wave_started_ms.store(now_ms, Ordering::Release);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            total: self.total,
            registered: self.registered.load(Ordering::Acquire),
            attempts: self.attempts.load(Ordering::Relaxed),
            not_leader: self.not_leader.load(Ordering::Relaxed),
            losses: self.losses.load(Ordering::Relaxed),
            shutdowns: self.shutdowns.load(Ordering::Relaxed),
            wave_started_ms: self.wave_started_ms.load(Ordering::Acquire),
            all_registered_ms: self.all_registered_ms.load(Ordering::Acquire),
            waves_done: self.waves_done.load(Ordering::Acquire),
        }
    }
}

/// Everything an emulated agent handles.
#[derive(Debug)]
pub enum EmulatedMessage {
    /// Master: registered.
    Registered(AgentRegistered),
    /// Master: re-registered.
    Reregistered(AgentReregistered),
    /// Master: ping.
    Ping(PingAgent),
    /// A master that does not lead.
    NotLeader(NotLeader),
    /// Master: go away.
    Shutdown(ShutdownAgent),
    /// Master: launch a task.
    Run(Box<RunTask>),
    /// Master: kill a task.
    Kill(KillTask),
    /// Master: a status update was received by its framework.
    Ack(StatusUpdateAcknowledgement),
    /// Timer: try again if attempt `generation` got no answer.
    Retry {
        /// The attempt this timer belongs to.
        generation: u64,
    },
    /// Timer: no ping since `generation`.
    PingTimeout {
        /// The ping this timer belongs to.
        generation: u64,
    },
}

macro_rules! from_wire {
    ($($ty:ty => $variant:ident,)*) => {
        $(impl From<$ty> for EmulatedMessage {
            fn from(m: $ty) -> Self { EmulatedMessage::$variant(m) }
        })*
    };
}

from_wire! {
    AgentRegistered => Registered,
    AgentReregistered => Reregistered,
    PingAgent => Ping,
    NotLeader => NotLeader,
    ShutdownAgent => Shutdown,
    KillTask => Kill,
    StatusUpdateAcknowledgement => Ack,
}

impl From<RunTask> for EmulatedMessage {
    fn from(m: RunTask) -> Self {
        EmulatedMessage::Run(Box::new(m))
    }
}

/// One emulated agent process.
pub struct EmulatedAgent {
    index: usize,
    config: Arc<EmulatorConfig>,
    progress: Arc<Progress>,
    tracker: MasterTracker,
    jitter: Jitter,
    info: AgentInfo,
    id: Option<AgentId>,
    registered: bool,
    attempt: u32,
    /// (Re)registrations sent in a row without an answer: the next wait doubles with it.
    unanswered: u32,
    generation: u64,
    ping_generation: u64,
    ping_timeout: Duration,
    linked: Option<Upid>,
    /// This agent's re-registration (its info and tasks), encoded once when the master
    /// first assigned the id and resent as the same bytes on every later attempt.
    reregister: Option<Encoded<ReregisterAgent>>,
    /// Tasks frameworks launched here and updates not yet acknowledged.
    launched: Launched,
}

impl EmulatedAgent {
    /// Emulated agent number `index` (its process id is [`plan::process_id`]`(index)`);
    /// `None` when the configuration names no master.
    pub fn new(
        index: usize,
        config: Arc<EmulatorConfig>,
        progress: Arc<Progress>,
    ) -> Option<EmulatedAgent> {
        let tracker = MasterTracker::new(config.masters.clone(), index)?;
        let mut info = AgentInfo::new(&plan::hostname(&config.hostname_prefix, index));
        info.resources = config.resources.clone();
        Some(EmulatedAgent {
            jitter: Jitter::new(config.seed, index),
            index,
            config,
            progress,
            tracker,
            info,
            id: None,
            registered: false,
            attempt: 0,
            unanswered: 0,
            generation: 0,
            ping_generation: 0,
            ping_timeout: crate::agent::DEFAULT_PING_TIMEOUT,
            linked: None,
            reregister: None,
            launched: Launched::default(),
        })
    }

    /// Arms a retry after `wait` for the current generation.
    fn retry_after(&mut self, ctx: &mut Context<Self>, wait: Duration) {
        self.generation += 1;
        ctx.delay(
            wait,
            EmulatedMessage::Retry {
                generation: self.generation,
            },
        );
    }

    fn backoff_wait(&mut self) -> Duration {
        let wait = self
            .config
            .backoff
            .delay(self.attempt, self.jitter.next_unit());
        self.attempt = self.attempt.saturating_add(1);
        wait
    }

    /// The re-registration this agent sends under `id` (all its tasks), encoded once;
    /// `None` (logged) if it cannot be encoded.
    fn encode_reregistration(
        &self,
        ctx: &Context<Self>,
        id: &AgentId,
    ) -> Option<Encoded<ReregisterAgent>> {
        let mut tasks = plan::task_records(
            self.index,
            self.config.tasks_per_agent,
            id,
            &self.config.framework_id,
            &self.config.task_resources,
        );
        tasks.extend(self.launched.records(id));
        let mut frameworks = if self.config.tasks_per_agent > 0 {
            vec![plan::framework_info(&self.config.framework_id)]
        } else {
            Vec::new()
        };
        frameworks.extend(self.launched.frameworks().cloned());
        let message = ReregisterAgent {
            agent: self.info.clone(),
            checkpointed_resources: Resources::new(),
            executor_infos: Vec::new(),
            tasks,
            frameworks,
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Vec::new(),
        };
        match Encoded::new(message) {
            Ok(encoded) => Some(encoded),
            Err(e) => {
                warn!(ctx.node().logger(), "re-registration cannot be encoded";
                    "agent" => self.index, "error" => %e);
                None
            }
        }
    }

    /// Sends (re)registration to the target and arms the retry timer.
    fn attempt_registration(&mut self, ctx: &mut Context<Self>) {
        if self.registered {
            return;
        }
        let target = self.tracker.target().clone();
        if self.linked.as_ref() != Some(&target) {
            if let Some(old) = self.linked.take() {
                ctx.unlink(&old);
            }
            ctx.link(&target);
            self.linked = Some(target.clone());
        }
        let sent = match &self.id {
            None => ctx.send(
                &target,
                RegisterAgent {
                    agent: self.info.clone(),
                    checkpointed_resources: Resources::new(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    capabilities: Vec::new(),
                },
            ),
            // With launched tasks the message changes as they come and go: encode it anew.
            Some(id) if !self.launched.is_empty() => {
                match self.encode_reregistration(ctx, &id.clone()) {
                    Some(encoded) => ctx.send_encoded(&target, &encoded),
                    None => Ok(()),
                }
            }
            Some(_) => match &self.reregister {
                Some(encoded) => ctx.send_encoded(&target, encoded),
                None => Ok(()),
            },
        };
        self.progress.attempts.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = sent {
            debug!(ctx.node().logger(), "registration not sent"; "agent" => self.index, "error" => %e);
        }
        // A busy leader (thousands of agents re-registering at once) answers late: resending
        // early would only add to its queue, so each unanswered attempt doubles the wait.
        let wait = plan::answer_wait(
            self.config.answer_timeout,
            self.config.max_answer_timeout,
            self.unanswered,
            self.jitter.next_unit(),
        );
        self.unanswered = self.unanswered.saturating_add(1);
        self.retry_after(ctx, wait);
    }

    /// The master is gone, silent, or no longer leads: count it and start over.
    fn master_lost(&mut self, ctx: &mut Context<Self>) {
        if self.registered {
            self.registered = false;
            self.progress.down(libprocess::unix_ms(ctx.wall_time()));
            // A fresh loss starts a fresh backoff; a failing attempt keeps growing it.
            self.attempt = 0;
            self.unanswered = 0;
        }
        self.ping_generation += 1;
        let wait = self.backoff_wait();
        self.retry_after(ctx, wait);
    }

    fn on_registered(&mut self, ctx: &mut Context<Self>, id: AgentId, ping_secs: Option<f64>) {
        if ctx.from() != Some(self.tracker.target()) || self.registered {
            return;
        }
        if let Some(known) = &self.id {
            if known != &id {
                warn!(ctx.node().logger(), "master answered with another agent id; ignored";
                    "agent" => self.index, "ours" => %known, "theirs" => %id);
                return;
            }
        }
        self.info.id = Some(id.clone());
        if self.reregister.is_none() {
            self.reregister = self.encode_reregistration(ctx, &id);
        }
        self.id = Some(id);
        self.registered = true;
        self.tracker.registered();
        self.attempt = 0;
        self.unanswered = 0;
        self.generation += 1; // cancels the pending retry
        self.progress.up(libprocess::unix_ms(ctx.wall_time()));
        if let Some(secs) = ping_secs.filter(|s| s.is_finite() && *s > 0.0) {
            self.ping_timeout = Duration::from_secs_f64(secs.min(1e6));
        }
        self.arm_ping_timer(ctx);
        // Updates the previous master may not have passed on go to this one.
        let target = self.tracker.target().clone();
        for update in self.launched.unacknowledged() {
            let message = StatusUpdateMessage {
                update: update.clone(),
                pid: Some(ctx.self_upid().to_string()),
            };
            let _ = ctx.send(&target, message);
        }
    }

    /// Answers the master's reconciliation request (as a real agent does): each task asked
    /// about that this agent does not know ends TASK_DROPPED (partition-aware framework) or
    /// TASK_LOST, reason REASON_RECONCILIATION.
    fn answer_reconciliations(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        asked: &[meso_api::wire::TaskReconciliation],
    ) {
        if ctx.from() != Some(self.tracker.target())
            || !self.registered
            || self.id.as_ref() != Some(id)
        {
            return;
        }
        for reconciliation in asked {
            let state = if reconciliation.partition_aware {
                TaskState::Dropped
            } else {
                TaskState::Lost
            };
            for task in &reconciliation.task_ids {
                if !self.launched.knows(&reconciliation.framework_id, task) {
                    self.task_update(
                        ctx,
                        &reconciliation.framework_id,
                        task,
                        state,
                        Some(TaskStatusReason::Reconciliation),
                    );
                }
            }
        }
    }

    /// Makes, records and sends (when registered) the update of a launched task.
    fn task_update(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        task: &meso_api::v1::TaskId,
        state: TaskState,
        reason: Option<TaskStatusReason>,
    ) {
        let uuid = ctx.uuid_v4().as_bytes().to_vec();
        let timestamp = libprocess::unix_secs(ctx.wall_time());
        let mut status = TaskStatus::new(task.clone(), state);
        status.reason = reason;
        status.source = Some(TaskStatusSource::Agent);
        status.agent_id = self.id.clone();
        status.uuid = Some(uuid.clone());
        status.timestamp = Some(timestamp);
        let update = StatusUpdate {
            framework_id: framework.clone(),
            executor_id: None,
            agent_id: self.id.clone(),
            status,
            timestamp,
            uuid: Some(uuid),
            latest_state: None,
        };
        self.launched.sent(update.clone());
        if self.registered {
            let message = StatusUpdateMessage {
                update,
                pid: Some(ctx.self_upid().to_string()),
            };
            let _ = ctx.send(self.tracker.target(), message);
        }
    }

    fn arm_ping_timer(&mut self, ctx: &mut Context<Self>) {
        self.ping_generation += 1;
        ctx.delay(
            self.ping_timeout,
            EmulatedMessage::PingTimeout {
                generation: self.ping_generation,
            },
        );
    }
}

impl Process for EmulatedAgent {
    type Message = EmulatedMessage;

    fn base_name(&self) -> &str {
        "slave"
    }

    fn install(h: &mut Handlers<Self>) {
        h.on::<AgentRegistered>()
            .on::<AgentReregistered>()
            .on::<PingAgent>()
            .on::<NotLeader>()
            .on::<ShutdownAgent>()
            .on::<RunTask>()
            .on::<KillTask>()
            .on::<StatusUpdateAcknowledgement>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.info.port = u32::from(ctx.self_upid().addr().port());
        let wait = self.jitter.up_to(self.config.initial_spread);
        self.retry_after(ctx, wait);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: EmulatedMessage) {
        match msg {
            EmulatedMessage::Registered(m) => {
                self.on_registered(ctx, m.agent_id, m.total_ping_timeout_seconds)
            }
            EmulatedMessage::Reregistered(m) => {
                let id = m.agent_id.clone();
                self.on_registered(ctx, m.agent_id, m.total_ping_timeout_seconds);
                self.answer_reconciliations(ctx, &id, &m.reconciliations);
            }
            EmulatedMessage::Ping(_) => {
                let Some(from) = ctx.from().cloned() else {
                    return;
                };
                // A lost pong is a missed ping for the master to count, as for a real agent.
                let _ = ctx.send(&from, PongAgent {});
                if self.registered && &from == self.tracker.target() {
                    self.arm_ping_timer(ctx);
                }
            }
            EmulatedMessage::NotLeader(hint) => {
                let Some(from) = ctx.from().cloned() else {
                    return;
                };
                self.progress.not_leader.fetch_add(1, Ordering::Relaxed);
                let leader = hint.leader.as_deref().and_then(|l| l.parse::<Upid>().ok());
                let was_registered = self.registered && &from == self.tracker.target();
                match self.tracker.not_leader(&from, leader, hint.term) {
                    Next::Ignore => {}
                    Next::Now => {
                        if was_registered {
                            self.registered = false;
                            self.progress.down(libprocess::unix_ms(ctx.wall_time()));
                        }
                        self.attempt_registration(ctx);
                    }
                    Next::Backoff => {
                        if was_registered {
                            self.registered = false;
                            self.progress.down(libprocess::unix_ms(ctx.wall_time()));
                            self.ping_generation += 1;
                            self.attempt = 0;
                        }
                        // A live master says an election is under way: ask again soon, at a
                        // steady jittered pace (a definite answer is not a reason to back off).
                        let poll =
                            Backoff::new(self.config.election_poll, self.config.election_poll);
                        let wait = poll.delay(0, self.jitter.next_unit());
                        self.retry_after(ctx, wait);
                    }
                }
            }
            EmulatedMessage::Shutdown(m) => {
                warn!(ctx.node().logger(), "master shut an emulated agent down";
                    "agent" => self.index, "message" => m.message);
                self.progress.shutdowns.fetch_add(1, Ordering::Relaxed);
                if self.registered {
                    self.registered = false;
                    self.progress.down(libprocess::unix_ms(ctx.wall_time()));
                }
                ctx.terminate();
            }
            EmulatedMessage::Run(m) => {
                if ctx.from() != Some(self.tracker.target()) {
                    return;
                }
                let Some(framework) = m.framework.id.clone() else {
                    return;
                };
                let task = m.task.task_id.clone();
                let (state, reason) = if self.launched.run(&m.framework, m.task) {
                    (TaskState::Running, None)
                } else {
                    (TaskState::Error, Some(TaskStatusReason::TaskInvalid))
                };
                self.task_update(ctx, &framework, &task, state, reason);
            }
            EmulatedMessage::Kill(m) => {
                if ctx.from() != Some(self.tracker.target()) {
                    return;
                }
                if self.launched.kill(&m.framework_id, &m.task_id).is_some() {
                    self.task_update(ctx, &m.framework_id, &m.task_id, TaskState::Killed, None);
                }
            }
            EmulatedMessage::Ack(m) => {
                self.launched
                    .acknowledged(&m.framework_id, &m.task_id, &m.uuid);
            }
            EmulatedMessage::Retry { generation } => {
                if generation == self.generation && !self.registered {
                    self.attempt_registration(ctx);
                }
            }
            EmulatedMessage::PingTimeout { generation } => {
                if generation == self.ping_generation && self.registered {
                    let target = self.tracker.target().clone();
                    self.tracker.lost(&target);
                    self.master_lost(ctx);
                }
            }
        }
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        if self.linked.as_ref() == Some(&pid) {
            self.linked = None;
        }
        if self.tracker.lost(&pid) == Next::Backoff {
            self.master_lost(ctx);
        }
    }
}
