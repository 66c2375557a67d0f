//! In-process cluster harness: a real master on a node with a paused test clock, small test
//! agents made of libprocess processes speaking the wire messages, and the real scheduler
//! driver with a scheduler that reports every callback on a channel.

#![allow(clippy::large_enum_variant)] // test messages are moved once, never stored in bulk

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use libprocess::{Context, Handlers, Node, Pid, Process, TestClock, Upid};
use meso_api::v1::{
    AgentId, AgentInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, TaskId, TaskInfo,
    TaskState, TaskStatus, TaskStatusReason,
};
use meso_api::wire;
use meso_api::Resources;
use meso_frameworks::{DriverActions, DriverHandle, Scheduler, SchedulerDriver};
use meso_master::{InMemoryRegistrar, Master, MasterConfig};
use tokio::sync::mpsc;

/// Hang guard for waiting on events (never an assertion of speed).
pub const HANG_GUARD: Duration = Duration::from_secs(60);

pub fn res(text: &str) -> Resources {
    Resources::parse(text, "*").expect("test resources parse")
}

/// What a test agent saw.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    Registered(AgentId),
    RunTask(FrameworkId, TaskInfo),
    Kill(TaskId),
    /// An acknowledgement; `true` the first time for its uuid.
    Ack(Vec<u8>, bool),
    ShutdownFramework(FrameworkId),
    Shutdown(String),
    /// Told to drain, with this bound on kill grace periods (nanoseconds).
    Drain(Option<i64>),
    /// The master's complete set of the agent's reservations and volumes.
    Checkpointed(Resources),
}

#[derive(Debug)]
pub enum AgentMsg {
    Registered(wire::AgentRegistered),
    Reregistered(wire::AgentReregistered),
    Ping(wire::PingAgent),
    Run(wire::RunTask),
    Kill(wire::KillTask),
    Ack(wire::StatusUpdateAcknowledgement),
    ShutdownFramework(wire::ShutdownFramework),
    Shutdown(wire::ShutdownAgent),
    Drain(wire::DrainAgent),
    Checkpoint(wire::CheckpointResources),
    /// Test command: send a status update for a task.
    SendUpdate(FrameworkId, TaskId, TaskState),
    /// Test command: report these revocable resources (as a resource estimator would).
    SendOversubscribed(Resources),
    Retry(Vec<u8>),
}

macro_rules! from_wire {
    ($($ty:ident => $v:ident,)*) => {
        $(impl From<wire::$ty> for AgentMsg { fn from(m: wire::$ty) -> Self { AgentMsg::$v(m) } })*
    };
}
from_wire! {
    AgentRegistered => Registered,
    AgentReregistered => Reregistered,
    PingAgent => Ping,
    RunTask => Run,
    KillTask => Kill,
    StatusUpdateAcknowledgement => Ack,
    ShutdownFramework => ShutdownFramework,
    ShutdownAgent => Shutdown,
    DrainAgent => Drain,
    CheckpointResources => Checkpoint,
}

/// A test agent: registers, answers pings while `answer_pings`, reports what it is told,
/// and retries status updates every 10 s until acknowledged.
pub struct TestAgent {
    master: Upid,
    info: AgentInfo,
    id: Option<AgentId>,
    answer_pings: Arc<AtomicBool>,
    events: mpsc::UnboundedSender<AgentEvent>,
    pending: HashMap<Vec<u8>, wire::StatusUpdate>,
    acked: std::collections::HashSet<Vec<u8>>,
    next_uuid: u8,
}

impl Process for TestAgent {
    type Message = AgentMsg;

    fn base_name(&self) -> &str {
        "slave"
    }

    fn install(h: &mut Handlers<Self>) {
        h.on::<wire::AgentRegistered>()
            .on::<wire::AgentReregistered>()
            .on::<wire::PingAgent>()
            .on::<wire::RunTask>()
            .on::<wire::KillTask>()
            .on::<wire::StatusUpdateAcknowledgement>()
            .on::<wire::ShutdownFramework>()
            .on::<wire::ShutdownAgent>()
            .on::<wire::DrainAgent>()
            .on::<wire::CheckpointResources>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        // Test agent: the tests wait for AgentRegistered, not on this send.
        let _ = ctx.send(
            &self.master,
            wire::RegisterAgent {
                agent: self.info.clone(),
                checkpointed_resources: Resources::new(),
                version: "test".to_string(),
                capabilities: Vec::new(),
            },
        );
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: AgentMsg) {
        let ev = &self.events;
        match msg {
            AgentMsg::Registered(m) => {
                self.id = Some(m.agent_id.clone());
                let _ = ev.send(AgentEvent::Registered(m.agent_id));
            }
            AgentMsg::Reregistered(_) => {}
            AgentMsg::Checkpoint(m) => {
                let _ = ev.send(AgentEvent::Checkpointed(m.resources));
            }
            AgentMsg::Ping(_) => {
                if self.answer_pings.load(Ordering::SeqCst) {
                    // Test agent: a lost pong shows as a missed ping, which the tests would see.
                    let _ = ctx.send(&self.master, wire::PongAgent {});
                }
            }
            AgentMsg::Run(m) => {
                let fw = m
                    .framework
                    .id
                    .clone()
                    .expect("RunTask carries a registered framework");
                let _ = ev.send(AgentEvent::RunTask(fw, m.task));
            }
            AgentMsg::Kill(m) => {
                let _ = ev.send(AgentEvent::Kill(m.task_id));
            }
            AgentMsg::Ack(m) => {
                let first =
                    self.pending.remove(&m.uuid).is_some() && self.acked.insert(m.uuid.clone());
                let _ = ev.send(AgentEvent::Ack(m.uuid, first));
            }
            AgentMsg::ShutdownFramework(m) => {
                let _ = ev.send(AgentEvent::ShutdownFramework(m.framework_id));
            }
            AgentMsg::Shutdown(m) => {
                let _ = ev.send(AgentEvent::Shutdown(m.message));
            }
            AgentMsg::Drain(m) => {
                let _ = ev.send(AgentEvent::Drain(m.max_grace_period_ns));
            }
            AgentMsg::SendUpdate(framework, task, state) => {
                self.next_uuid += 1;
                let uuid = vec![self.next_uuid; 16];
                let mut status = TaskStatus::new(task, state);
                status.agent_id = self.id.clone();
                status.uuid = Some(uuid.clone());
                let update = wire::StatusUpdate {
                    framework_id: framework,
                    executor_id: None,
                    agent_id: self.id.clone(),
                    status,
                    timestamp: 0.0,
                    uuid: Some(uuid.clone()),
                    latest_state: None,
                };
                self.pending.insert(uuid.clone(), update.clone());
                // Test agent: the update is retried below until acknowledged.
                let _ = ctx.send(
                    &self.master,
                    wire::StatusUpdateMessage {
                        update,
                        pid: Some(ctx.self_upid().to_string()),
                    },
                );
                ctx.delay(Duration::from_secs(10), AgentMsg::Retry(uuid));
            }
            AgentMsg::SendOversubscribed(resources) => {
                if let Some(agent_id) = self.id.clone() {
                    // Test agent: the test waits for the master to show the change.
                    let _ = ctx.send(
                        &self.master,
                        wire::UpdateOversubscribedResources {
                            agent_id,
                            oversubscribed_resources: resources,
                        },
                    );
                }
            }
            AgentMsg::Retry(uuid) => {
                if let Some(update) = self.pending.get(&uuid).cloned() {
                    // Test agent: retried again on the next timer until acknowledged.
                    let _ = ctx.send(
                        &self.master,
                        wire::StatusUpdateMessage {
                            update,
                            pid: Some(ctx.self_upid().to_string()),
                        },
                    );
                    ctx.delay(Duration::from_secs(10), AgentMsg::Retry(uuid));
                }
            }
        }
    }
}

/// What the test scheduler saw.
#[derive(Debug, Clone, PartialEq)]
pub enum SchedEvent {
    Registered(FrameworkId),
    Reregistered,
    Offers(Vec<Offer>),
    Rescinded(OfferId),
    Update(TaskStatus),
    AgentLost(AgentId),
    Disconnected,
    Error(String),
    InverseOffers(Vec<meso_api::v1::InverseOffer>),
    InverseOfferRescinded(OfferId),
}

pub struct ChannelScheduler(pub mpsc::UnboundedSender<SchedEvent>);

impl Scheduler for ChannelScheduler {
    fn registered(&mut self, _d: &mut DriverActions<'_>, id: &FrameworkId, _m: &MasterInfo) {
        let _ = self.0.send(SchedEvent::Registered(id.clone()));
    }
    fn reregistered(&mut self, _d: &mut DriverActions<'_>, _m: &MasterInfo) {
        let _ = self.0.send(SchedEvent::Reregistered);
    }
    fn disconnected(&mut self, _d: &mut DriverActions<'_>) {
        let _ = self.0.send(SchedEvent::Disconnected);
    }
    fn resource_offers(&mut self, _d: &mut DriverActions<'_>, offers: Vec<Offer>) {
        let _ = self.0.send(SchedEvent::Offers(offers));
    }
    fn offer_rescinded(&mut self, _d: &mut DriverActions<'_>, offer: &OfferId) {
        let _ = self.0.send(SchedEvent::Rescinded(offer.clone()));
    }
    fn status_update(&mut self, _d: &mut DriverActions<'_>, status: &TaskStatus) {
        let _ = self.0.send(SchedEvent::Update(status.clone()));
    }
    fn inverse_offers(
        &mut self,
        _d: &mut DriverActions<'_>,
        offers: Vec<meso_api::v1::InverseOffer>,
    ) {
        let _ = self.0.send(SchedEvent::InverseOffers(offers));
    }
    fn inverse_offer_rescinded(&mut self, _d: &mut DriverActions<'_>, offer: &OfferId) {
        let _ = self
            .0
            .send(SchedEvent::InverseOfferRescinded(offer.clone()));
    }
    fn agent_lost(&mut self, _d: &mut DriverActions<'_>, agent: &AgentId) {
        let _ = self.0.send(SchedEvent::AgentLost(agent.clone()));
    }
    fn error(&mut self, _d: &mut DriverActions<'_>, message: &str) {
        let _ = self.0.send(SchedEvent::Error(message.to_string()));
    }
}

pub struct Cluster {
    pub clock: TestClock,
    pub node: Node,
    pub master: Pid<Master>,
    pub config: MasterConfig,
}

pub struct AgentHandle {
    pub pid: Pid<TestAgent>,
    pub id: AgentId,
    pub answer_pings: Arc<AtomicBool>,
    pub events: mpsc::UnboundedReceiver<AgentEvent>,
}

pub struct FrameworkHandle {
    pub driver: DriverHandle,
    pub id: FrameworkId,
    pub events: mpsc::UnboundedReceiver<SchedEvent>,
}

pub use crate::eventually::{next, next_matching};

impl Cluster {
    pub async fn start(config: MasterConfig) -> Cluster {
        Cluster::start_seeded(config, TestClock::paused(), None).await
    }

    /// A master on a node run by `clock`, its rng seeded with `seed` when one is given.
    pub async fn start_seeded(
        config: MasterConfig,
        clock: TestClock,
        seed: Option<u64>,
    ) -> Cluster {
        let mut builder = Node::builder().test_clock(&clock);
        if let Some(seed) = seed {
            builder = builder.seed(seed);
        }
        let node = builder.build().await.expect("node starts");
        let master = node
            .spawn_named(
                "master",
                Master::new(config.clone(), Box::new(InMemoryRegistrar::new())),
            )
            .expect("master spawns");
        Cluster {
            clock,
            node,
            master,
            config,
        }
    }

    pub fn config() -> MasterConfig {
        let mut c = MasterConfig::new("m", "localhost");
        c.agent_ping_timeout = Duration::from_secs(15);
        c.max_agent_ping_timeouts = 5;
        c
    }

    pub async fn add_agent(&self, resources: &str) -> AgentHandle {
        self.add_agent_on(&self.node, resources).await
    }

    /// A test agent on `node` (another node on the same clock: its link to the master is a
    /// real socket that shutting the node breaks).
    pub async fn add_agent_on(&self, node: &Node, resources: &str) -> AgentHandle {
        self.add_agent_named(node, None, resources).await
    }

    /// A test agent on `node` under the process id `name` (a fresh agent at the address of
    /// an old one) or a new one.
    pub async fn add_agent_named(
        &self,
        node: &Node,
        name: Option<&str>,
        resources: &str,
    ) -> AgentHandle {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let answer_pings = Arc::new(AtomicBool::new(true));
        let mut info = AgentInfo::new("agent.test");
        info.resources = res(resources);
        let agent = TestAgent {
            master: self.master.upid().clone(),
            info,
            id: None,
            answer_pings: answer_pings.clone(),
            events: tx,
            pending: HashMap::new(),
            acked: Default::default(),
            next_uuid: 0,
        };
        let pid = match name {
            Some(name) => node.spawn_named(name, agent),
            None => node.spawn(agent),
        }
        .expect("agent spawns");
        let id = next_matching(&mut rx, "agent registration", |e| match e {
            AgentEvent::Registered(id) => Some(id.clone()),
            _ => None,
        })
        .await;
        AgentHandle {
            pid,
            id,
            answer_pings,
            events: rx,
        }
    }

    /// A test agent on `node` whose registration the master refuses: returns the message
    /// of the shutdown it is told (e.g. its machine is DOWN).
    pub async fn add_agent_refused(&self, node: &Node, resources: &str) -> String {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut info = AgentInfo::new("agent.test");
        info.resources = res(resources);
        let agent = TestAgent {
            master: self.master.upid().clone(),
            info,
            id: None,
            answer_pings: Arc::new(AtomicBool::new(true)),
            events: tx,
            pending: HashMap::new(),
            acked: Default::default(),
            next_uuid: 0,
        };
        let pid = node.spawn(agent).expect("agent spawns");
        let said = next_matching(&mut rx, "refusal of the agent", |e| match e {
            AgentEvent::Shutdown(message) => Some(message.clone()),
            AgentEvent::Registered(id) => panic!("agent {id} was registered, not refused"),
            _ => None,
        })
        .await;
        pid.terminate();
        said
    }

    pub async fn add_framework(&self, info: FrameworkInfo) -> FrameworkHandle {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let pid = self
            .node
            .spawn(SchedulerDriver::new(
                self.master.upid().clone(),
                info,
                Box::new(ChannelScheduler(tx)),
            ))
            .expect("driver spawns");
        let id = next_matching(&mut rx, "framework registration", |e| match e {
            SchedEvent::Registered(id) => Some(id.clone()),
            _ => None,
        })
        .await;
        FrameworkHandle {
            driver: DriverHandle::new(pid),
            id,
            events: rx,
        }
    }

    /// The master's `/master/state` document.
    pub async fn state(&self) -> serde_json::Value {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.master
            .dispatch(move |m, _| {
                let _ = tx.send(m.state_json());
            })
            .expect("master is running");
        tokio::time::timeout(HANG_GUARD, rx)
            .await
            .expect("hang guard: state")
            .expect("state answered")
    }

    /// Advances the clock in steps of `step`, `n` times, letting the cluster settle between.
    pub async fn advance(&self, step: Duration, n: u32) {
        for _ in 0..n {
            self.clock.advance(step);
            self.clock.settle().await;
        }
    }
}

/// Task `id` running `true` on `agent` with `resources`.
pub fn command_task(id: &str, agent: &AgentId, resources: &str) -> TaskInfo {
    TaskInfo::command(id, agent.clone(), "true").with_resources(res(resources))
}

pub async fn first_offer(fw: &mut FrameworkHandle) -> Offer {
    next_matching(&mut fw.events, "offers", |e| match e {
        SchedEvent::Offers(o) if !o.is_empty() => Some(o[0].clone()),
        _ => None,
    })
    .await
}

pub async fn next_update(fw: &mut FrameworkHandle) -> TaskStatus {
    next_matching(&mut fw.events, "status update", |e| match e {
        SchedEvent::Update(s) => Some(s.clone()),
        _ => None,
    })
    .await
}

/// Expects what follows the removal of `agent`, on which `fw` ran task `task`: the task's
/// next update is TASK_LOST with reason AGENT_REMOVED, `fw` hears that the agent is lost,
/// and the master counts no activated agent and one unreachable one. Returns the master's
/// state for the caller's further checks.
pub async fn expect_agent_removed(
    cluster: &Cluster,
    fw: &mut FrameworkHandle,
    agent: &AgentId,
    task: &str,
) -> serde_json::Value {
    let lost = next_update(fw).await;
    assert_eq!(lost.task_id, TaskId::new(task));
    assert_eq!(lost.state, TaskState::Lost);
    assert_eq!(lost.reason, Some(TaskStatusReason::AgentRemoved));
    next_matching(&mut fw.events, "agent lost", |e| match e {
        SchedEvent::AgentLost(a) if a == agent => Some(()),
        _ => None,
    })
    .await;
    let state = cluster.state().await;
    assert_eq!(state["activated_slaves"], 0);
    // Mesos prints the number of unreachable agents.
    assert_eq!(state["unreachable_slaves"], 1);
    state
}

/// Launches task `id` (cpus:1;mem:128) on `agent` with `fw`'s first offer and waits until
/// the agent is told to run it.
pub async fn launch_one(fw: &mut FrameworkHandle, agent: &mut AgentHandle, id: &str) {
    let offer = first_offer(fw).await;
    launch(
        fw,
        vec![offer.id.clone()],
        vec![command_task(id, &agent.id, "cpus:1;mem:128")],
    );
    next_matching(&mut agent.events, "RunTask", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == id => Some(()),
        _ => None,
    })
    .await;
}

impl AgentHandle {
    /// Has the test agent report `resources` as its revocable total.
    pub fn send_oversubscribed(&self, resources: Resources) {
        self.pid
            .send(AgentMsg::SendOversubscribed(resources))
            .expect("the test agent runs");
    }

    /// Has the test agent send the master an update of `framework`'s task `task` in `state`.
    pub fn send_update(&self, framework: &FrameworkId, task: &str, state: TaskState) {
        self.pid
            .send(AgentMsg::SendUpdate(
                framework.clone(),
                TaskId::new(task),
                state,
            ))
            .expect("the test agent runs");
    }
}

pub fn launch(fw: &FrameworkHandle, offers: Vec<OfferId>, tasks: Vec<TaskInfo>) {
    fw.driver
        .run(move |a| {
            a.launch_tasks(offers, tasks, meso_api::v1::Filters::default())
                .expect("framework is registered");
        })
        .expect("driver is running");
}
