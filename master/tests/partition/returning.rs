//! The returning agent of the partition tests: a process that re-registers with the master
//! under an old id, reports the tasks it is given, answers pings and the master's
//! reconciliation requests, and tells the test what it was sent.

use libprocess::{Context, Handlers, Process, Upid};
use meso_api::v1::{
    AgentId, AgentInfo, FrameworkId, FrameworkInfo, TaskId, TaskState, TaskStatus, TaskStatusReason,
};
use meso_api::wire;
use meso_testkit::master_harness::*;
use tokio::sync::mpsc;

/// What a returning agent saw.
#[derive(Debug)]
pub enum BackEvent {
    Reregistered(AgentId),
    /// The re-registration answer asked about these tasks (framework's, partition-aware).
    Asked(Vec<wire::TaskReconciliation>),
    Kill(TaskId),
    Shutdown(String),
    ShutdownFramework(meso_api::v1::FrameworkId),
    /// The framework acknowledged an update of this agent's.
    Acknowledged(TaskId),
}

#[derive(Debug)]
pub enum BackMsg {
    Reregistered(wire::AgentReregistered),
    /// A ping (its `connected` flag does not matter here: the agent re-registers at once).
    #[allow(dead_code)]
    Ping(wire::PingAgent),
    Kill(wire::KillTask),
    Shutdown(wire::ShutdownAgent),
    ShutdownFramework(wire::ShutdownFramework),
    Acknowledged(wire::StatusUpdateAcknowledgement),
}

macro_rules! back_from {
    ($($ty:ident => $v:ident,)*) => {
        $(impl From<wire::$ty> for BackMsg { fn from(m: wire::$ty) -> Self { BackMsg::$v(m) } })*
    };
}
back_from! {
    AgentReregistered => Reregistered,
    PingAgent => Ping,
    KillTask => Kill,
    ShutdownAgent => Shutdown,
    ShutdownFramework => ShutdownFramework,
    StatusUpdateAcknowledgement => Acknowledged,
}

/// An agent process re-registering under an old id with the tasks it reports (as a
/// restarted, recovered agent does), answering pings, reporting what it is told. Like a
/// real agent, it answers the master's reconciliation request: each task asked about that
/// it does not report ends TASK_DROPPED (partition-aware) or TASK_LOST.
pub struct ReturningAgent {
    master: Upid,
    pub info: AgentInfo,
    tasks: Vec<wire::TaskRecord>,
    frameworks: Vec<FrameworkInfo>,
    events: mpsc::UnboundedSender<BackEvent>,
    /// Tasks whose launch reached it after it sent its re-registration: not reported, but
    /// known when the master asks.
    pub arrived: Vec<TaskId>,
    /// How many times it sends its re-registration in a row when it starts (1; more: an
    /// agent that re-sent before the master answered).
    pub copies: usize,
}

impl Process for ReturningAgent {
    type Message = BackMsg;

    fn base_name(&self) -> &str {
        "slave"
    }

    fn install(h: &mut Handlers<Self>) {
        h.on::<wire::AgentReregistered>()
            .on::<wire::PingAgent>()
            .on::<wire::KillTask>()
            .on::<wire::ShutdownAgent>()
            .on::<wire::ShutdownFramework>()
            .on::<wire::StatusUpdateAcknowledgement>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        for _ in 0..self.copies {
            let _ = ctx.send(
                &self.master,
                wire::ReregisterAgent {
                    agent: self.info.clone(),
                    checkpointed_resources: meso_api::Resources::new(),
                    executor_infos: Vec::new(),
                    tasks: self.tasks.clone(),
                    frameworks: self.frameworks.clone(),
                    version: "test".to_string(),
                    capabilities: Vec::new(),
                },
            );
        }
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: BackMsg) {
        let event = match msg {
            BackMsg::Reregistered(m) => {
                self.answer(ctx, &m);
                if !m.reconciliations.is_empty() {
                    let _ = self.events.send(BackEvent::Asked(m.reconciliations));
                }
                BackEvent::Reregistered(m.agent_id)
            }
            BackMsg::Ping(_) => {
                let _ = ctx.send(&self.master, wire::PongAgent {});
                return;
            }
            BackMsg::Kill(k) => BackEvent::Kill(k.task_id),
            BackMsg::Shutdown(s) => BackEvent::Shutdown(s.message),
            BackMsg::ShutdownFramework(s) => BackEvent::ShutdownFramework(s.framework_id),
            BackMsg::Acknowledged(a) => BackEvent::Acknowledged(a.task_id),
        };
        let _ = self.events.send(event);
    }
}

impl ReturningAgent {
    /// Sends `state` for `task` of `framework` (an update of this agent's, with a uuid).
    pub fn send_update(
        &self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        task: &TaskId,
        state: TaskState,
        reason: Option<TaskStatusReason>,
    ) {
        let uuid = uuid::Uuid::new_v4().as_bytes().to_vec();
        let mut status = TaskStatus::new(task.clone(), state);
        status.agent_id = self.info.id.clone();
        status.reason = reason;
        status.uuid = Some(uuid.clone());
        let update = wire::StatusUpdate {
            framework_id: framework.clone(),
            executor_id: None,
            agent_id: self.info.id.clone(),
            status,
            timestamp: 0.0,
            uuid: Some(uuid),
            latest_state: None,
        };
        let pid = Some(ctx.self_upid().to_string());
        let _ = ctx.send(&self.master, wire::StatusUpdateMessage { update, pid });
    }

    /// Ends each task the master asked about that this agent does not report.
    fn answer(&self, ctx: &mut Context<Self>, m: &wire::AgentReregistered) {
        for asked in &m.reconciliations {
            let state = if asked.partition_aware {
                TaskState::Dropped
            } else {
                TaskState::Lost
            };
            for task in &asked.task_ids {
                let known = self
                    .tasks
                    .iter()
                    .any(|r| r.framework_id == asked.framework_id && &r.task.task_id == task);
                if !known && !self.arrived.contains(task) {
                    self.send_update(
                        ctx,
                        &asked.framework_id,
                        task,
                        state,
                        Some(TaskStatusReason::Reconciliation),
                    );
                }
            }
        }
    }
}

/// Agent `id` (cpus:4;mem:1024) coming back with `tasks` of `fw` in `state`.
pub fn returning(
    cluster: &Cluster,
    id: &AgentId,
    fw: &FrameworkInfo,
    tasks: &[(&str, TaskState)],
) -> (ReturningAgent, mpsc::UnboundedReceiver<BackEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut info = AgentInfo::new("agent.test");
    info.id = Some(id.clone());
    info.resources = res("cpus:4;mem:1024");
    let framework_id = fw.id.clone().expect("a registered framework");
    let tasks = tasks
        .iter()
        .map(|(task, state)| wire::TaskRecord {
            task: command_task(task, id, "cpus:1;mem:128"),
            framework_id: framework_id.clone(),
            executor_id: None,
            state: *state,
            unacknowledged_update_uuid: None,
        })
        .collect();
    let agent = ReturningAgent {
        master: cluster.master.upid().clone(),
        info,
        tasks,
        frameworks: vec![fw.clone()],
        events: tx,
        arrived: Vec::new(),
        copies: 1,
    };
    (agent, rx)
}
