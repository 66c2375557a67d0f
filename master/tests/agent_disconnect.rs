//! An agent whose link to the master breaks (its process on another node exits, so the
//! link breaks over a real socket): the master marks it
//! disconnected and inactive, rescinds its offers, offers nothing from it, keeps its tasks,
//! removes it only after the ping limit, and reactivates it when it re-registers.
//! Real master, test agents on their own node (a real socket), paused clock.

use std::collections::BTreeMap;
use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process, Upid};
use meso_api::v1::{AgentInfo, FrameworkInfo};
use meso_api::wire;
use meso_master::master::operator_api::get_agents;
use meso_master::master::state_json::Totals;
use meso_testkit::master_harness::*;
use tokio::sync::mpsc;

/// What the re-registering agent saw.
#[derive(Debug)]
enum ReturnEvent {
    Reregistered(meso_api::v1::AgentId),
    Ping(bool),
}

#[derive(Debug)]
enum ReturnMsg {
    Reregistered(wire::AgentReregistered),
    Ping(wire::PingAgent),
}

impl From<wire::AgentReregistered> for ReturnMsg {
    fn from(m: wire::AgentReregistered) -> Self {
        ReturnMsg::Reregistered(m)
    }
}

impl From<wire::PingAgent> for ReturnMsg {
    fn from(m: wire::PingAgent) -> Self {
        ReturnMsg::Ping(m)
    }
}

/// The same agent coming back: re-registers with its id (at once, or, like meso's agent,
/// when a ping says the master has it as disconnected), answers pings.
struct ReturningAgent {
    master: Upid,
    info: AgentInfo,
    events: mpsc::UnboundedSender<ReturnEvent>,
    wait_for_ping: bool,
    /// Whether a ping saying it is disconnected makes it re-register (an agent stuck in
    /// its recovery answers pings and never does).
    reregisters: bool,
}

impl ReturningAgent {
    /// `agent` of `cluster` (cpus:4;mem:1024) coming back, re-registering at once or only
    /// when a ping says it is disconnected (`wait_for_ping`); with what it sees.
    fn of(
        cluster: &Cluster,
        agent: &AgentHandle,
        wait_for_ping: bool,
    ) -> (ReturningAgent, mpsc::UnboundedReceiver<ReturnEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut info = AgentInfo::new("agent.test");
        info.id = Some(agent.id.clone());
        info.resources = res("cpus:4;mem:1024");
        let returning = ReturningAgent {
            master: cluster.master.upid().clone(),
            info,
            events: tx,
            wait_for_ping,
            reregisters: true,
        };
        (returning, rx)
    }

    fn reregister(&self, ctx: &mut Context<Self>) {
        // Test agent: the test asserts on what the master does, not on this send.
        let _ = ctx.send(
            &self.master,
            wire::ReregisterAgent {
                agent: self.info.clone(),
                checkpointed_resources: meso_api::Resources::new(),
                executor_infos: Vec::new(),
                tasks: Vec::new(),
                frameworks: Vec::new(),
                version: "test".to_string(),
                capabilities: Vec::new(),
            },
        );
    }
}

impl Process for ReturningAgent {
    type Message = ReturnMsg;

    fn base_name(&self) -> &str {
        "slave"
    }

    fn install(h: &mut Handlers<Self>) {
        h.on::<wire::AgentReregistered>().on::<wire::PingAgent>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        if !self.wait_for_ping {
            self.reregister(ctx);
        }
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: ReturnMsg) {
        match msg {
            ReturnMsg::Reregistered(m) => {
                let _ = self.events.send(ReturnEvent::Reregistered(m.agent_id));
            }
            ReturnMsg::Ping(p) => {
                let _ = self.events.send(ReturnEvent::Ping(p.connected));
                // Test agent: a lost pong shows as a missed ping, which the test would see.
                let _ = ctx.send(&self.master, wire::PongAgent {});
                if !p.connected && self.reregisters {
                    self.reregister(ctx);
                }
            }
        }
    }
}

/// The operator API's GET_AGENTS answer and the master's metrics.
async fn operator_view(cluster: &Cluster) -> (serde_json::Value, BTreeMap<String, f64>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cluster
        .master
        .dispatch(move |m, _| {
            let view = m.state_view();
            let agents = get_agents(&view, &Totals::of(&view));
            let _ = tx.send((agents, m.metrics_map(0.0)));
        })
        .expect("master is running");
    tokio::time::timeout(HANG_GUARD, rx)
        .await
        .expect("hang guard: operator view")
        .expect("operator view answered")
}

async fn agent_node(cluster: &Cluster) -> Node {
    Node::builder()
        .test_clock(&cluster.clock)
        .build()
        .await
        .expect("agent node starts")
}

/// Ends the test agent's process (its node tells the master's node that the PID exited),
/// waits for `fw`'s offer of the agent to be rescinded and lets the master settle; the
/// rescinded offer's id.
async fn break_link(
    cluster: &Cluster,
    node: &Node,
    agent: &AgentHandle,
    fw: &mut FrameworkHandle,
) -> meso_api::v1::OfferId {
    let pid = agent.pid.upid().clone();
    let gone = node.wait(&pid);
    assert!(node.terminate(&pid), "the test agent runs");
    tokio::time::timeout(HANG_GUARD, gone)
        .await
        .expect("hang guard: agent exit");
    let rescinded = next_matching(&mut fw.events, "rescind", |e| match e {
        SchedEvent::Rescinded(id) => Some(id.clone()),
        _ => None,
    })
    .await;
    cluster.clock.settle().await;
    rescinded
}

/// An agent on its own node running task `t1` (1 cpu of 4), and a checkpointing
/// framework holding an offer of the rest.
async fn agent_with_a_task_and_an_offer(
    cluster: &Cluster,
    node: &Node,
) -> (AgentHandle, FrameworkHandle, meso_api::v1::OfferId) {
    agent_with_a_task_of(cluster, node, true).await
}

/// As `agent_with_a_task_and_an_offer`, the framework checkpointing or not.
async fn agent_with_a_task_of(
    cluster: &Cluster,
    node: &Node,
    checkpoint: bool,
) -> (AgentHandle, FrameworkHandle, meso_api::v1::OfferId) {
    let mut agent = cluster.add_agent_on(node, "cpus:4;mem:1024").await;
    let mut info = FrameworkInfo::new("tester", "f");
    info.checkpoint = checkpoint;
    let mut fw = cluster.add_framework(info).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    // The rest comes back after the accept's default 5 s filter.
    cluster.advance(Duration::from_secs(1), 6).await;
    let rest = first_offer(&mut fw).await;
    assert_eq!(rest.agent_id, agent.id);
    (agent, fw, rest.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_link_deactivates_the_agent_until_it_reregisters() {
    let cluster = Cluster::start(Cluster::config()).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, outstanding) = agent_with_a_task_and_an_offer(&cluster, &node).await;

    let rescinded = break_link(&cluster, &node, &agent, &mut fw).await;
    assert_eq!(rescinded, outstanding);

    let state = cluster.state().await;
    assert_eq!(state["activated_slaves"], 0);
    assert_eq!(state["deactivated_slaves"], 1);
    assert_eq!(state["slaves"][0]["id"], agent.id.as_str());
    assert_eq!(state["slaves"][0]["active"], false);
    assert_eq!(
        state["frameworks"][0]["tasks"][0]["id"], "t1",
        "the disconnected agent's task stays"
    );
    assert_eq!(
        state["frameworks"][0]["offers"].as_array().map(Vec::len),
        Some(0)
    );
    let (agents, metrics) = operator_view(&cluster).await;
    assert_eq!(agents["agents"][0]["active"], false, "GET_AGENTS: {agents}");
    assert_eq!(metrics["master/slaves_disconnected"], 1.0);
    assert_eq!(metrics["master/slaves_active"], 0.0);

    // Allocation rounds go on (less than the ping limit): nothing comes from the agent.
    cluster.advance(Duration::from_secs(1), 20).await;
    while let Ok(ev) = fw.events.try_recv() {
        assert!(
            !matches!(ev, SchedEvent::Offers(_) | SchedEvent::Update(_)),
            "nothing offered from or reported about a disconnected agent: {ev:?}"
        );
    }

    // The agent comes back on a new PID and re-registers with its id.
    let (returning, mut rx) = ReturningAgent::of(&cluster, &agent, false);
    node.spawn(returning).expect("returning agent spawns");
    next_matching(&mut rx, "re-registration", |e| match e {
        ReturnEvent::Reregistered(id) if *id == agent.id => Some(()),
        _ => None,
    })
    .await;
    let state = cluster.state().await;
    assert_eq!(state["activated_slaves"], 1);
    assert_eq!(state["slaves"][0]["active"], true);
    let (agents, metrics) = operator_view(&cluster).await;
    assert_eq!(agents["agents"][0]["active"], true, "GET_AGENTS: {agents}");
    assert_eq!(metrics["master/slaves_connected"], 1.0);

    cluster.advance(Duration::from_secs(1), 2).await;
    let offer = first_offer(&mut fw).await;
    assert_eq!(offer.agent_id, agent.id, "offers resume from the agent");
    // A re-registered agent is pinged as connected again.
    cluster.advance(Duration::from_secs(15), 1).await;
    let connected = next_matching(&mut rx, "ping", |e| match e {
        ReturnEvent::Ping(c) => Some(*c),
        _ => None,
    })
    .await;
    assert!(connected);
}

/// Mesos's `exited` of an agent: tasks of a framework that does not checkpoint cannot
/// survive an agent restart and are reported TASK_LOST at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_link_loses_the_tasks_of_a_framework_that_does_not_checkpoint() {
    let cluster = Cluster::start(Cluster::config()).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, _) = agent_with_a_task_of(&cluster, &node, false).await;
    break_link(&cluster, &node, &agent, &mut fw).await;
    let lost = next_update(&mut fw).await;
    assert_eq!(lost.task_id.as_str(), "t1");
    assert_eq!(lost.state, meso_api::v1::TaskState::Lost);
    assert_eq!(
        lost.reason,
        Some(meso_api::v1::TaskStatusReason::AgentDisconnected)
    );
    let state = cluster.state().await;
    assert_eq!(state["slaves"][0]["active"], false, "still registered");
    assert_eq!(
        state["frameworks"][0]["tasks"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(state["frameworks"][0]["completed_tasks"][0]["id"], "t1");
}

/// Issue 15: an agent restarted without its state registers afresh at its old address. It
/// gets a new id; the old agent is removed and its task reported, never left RUNNING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_agent_at_the_address_of_a_disconnected_one_replaces_it() {
    let cluster = Cluster::start(Cluster::config()).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, _) = agent_with_a_task_and_an_offer(&cluster, &node).await;
    let old_pid = agent.pid.upid().clone();
    break_link(&cluster, &node, &agent, &mut fw).await;
    let fresh = cluster
        .add_agent_named(&node, Some(old_pid.id()), "cpus:4;mem:1024")
        .await;
    assert_ne!(fresh.id, agent.id, "a fresh registration gets a new id");
    let lost = next_update(&mut fw).await;
    assert_eq!(lost.task_id.as_str(), "t1");
    assert_eq!(lost.state, meso_api::v1::TaskState::Lost);
    assert_eq!(
        lost.reason,
        Some(meso_api::v1::TaskStatusReason::AgentRemoved)
    );
    let state = cluster.state().await;
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(1));
    assert_eq!(state["slaves"][0]["id"], fresh.id.as_str());
    assert_eq!(
        state["frameworks"][0]["tasks"].as_array().map(Vec::len),
        Some(0)
    );
    cluster.clock.settle().await;
    let mut fresh = fresh;
    while let Ok(ev) = fresh.events.try_recv() {
        assert!(
            !matches!(ev, AgentEvent::Shutdown(_)),
            "the new agent at the old address is not told to shut down: {ev:?}"
        );
    }
}

/// The same when the master has not yet seen the old agent's link break: a registration
/// from the address of an agent running tasks is no retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_registration_from_an_agent_with_tasks_is_not_a_retry() {
    let cluster = Cluster::start(Cluster::config()).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, _) = agent_with_a_task_and_an_offer(&cluster, &node).await;
    let pid = agent.pid.upid().clone();
    // The agent "restarted" in place: a RegisterAgent from its PID, link intact.
    let mut info = AgentInfo::new("agent.test");
    info.resources = res("cpus:4;mem:1024");
    let master = cluster.master.upid().clone();
    node.send_from(
        Some(&pid),
        &master,
        wire::RegisterAgent {
            agent: info,
            checkpointed_resources: meso_api::Resources::new(),
            version: "test".to_string(),
            capabilities: Vec::new(),
        },
    )
    .expect("sent");
    let lost = next_update(&mut fw).await;
    assert_eq!(lost.task_id.as_str(), "t1");
    assert_eq!(lost.state, meso_api::v1::TaskState::Lost);
}

/// MESOS-6286: an agent back at its address that answers pings but never re-registers is
/// marked unreachable after `--agent-reregister-timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_agent_that_never_reregisters_is_marked_unreachable() {
    let mut config = Cluster::config();
    config.agent_reregister_timeout = Duration::from_secs(120);
    let cluster = Cluster::start(config).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, _) = agent_with_a_task_and_an_offer(&cluster, &node).await;
    let old_pid = agent.pid.upid().clone();
    break_link(&cluster, &node, &agent, &mut fw).await;
    let (mut stuck, mut rx) = ReturningAgent::of(&cluster, &agent, true);
    stuck.reregisters = false;
    node.spawn_named(old_pid.id(), stuck)
        .expect("agent spawns under its old id");
    cluster.advance(Duration::from_secs(15), 7).await;
    let connected = next_matching(&mut rx, "ping", |e| match e {
        ReturnEvent::Ping(c) => Some(*c),
        _ => None,
    })
    .await;
    assert!(!connected);
    assert_eq!(
        cluster.state().await["slaves"][0]["active"],
        false,
        "answering pings, past the ping limit, still registered"
    );
    cluster.advance(Duration::from_secs(15), 2).await;
    expect_agent_removed(&cluster, &mut fw, &agent.id, "t1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_agent_is_removed_after_the_ping_limit() {
    let cluster = Cluster::start(Cluster::config()).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, _) = agent_with_a_task_and_an_offer(&cluster, &node).await;
    break_link(&cluster, &node, &agent, &mut fw).await;
    cluster.advance(Duration::from_secs(15), 3).await;
    assert_eq!(
        cluster.state().await["slaves"][0]["active"],
        false,
        "still registered, inactive, within the ping limit"
    );

    // 5 missed pings of 15 s in all: removal as for any silent agent.
    cluster.advance(Duration::from_secs(15), 4).await;
    let state = expect_agent_removed(&cluster, &mut fw, &agent.id, "t1").await;
    assert_eq!(state["deactivated_slaves"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_tell_an_agent_back_at_its_address_that_it_is_disconnected() {
    let cluster = Cluster::start(Cluster::config()).await;
    let node = agent_node(&cluster).await;
    let (agent, mut fw, _) = agent_with_a_task_and_an_offer(&cluster, &node).await;
    let old_pid = agent.pid.upid().clone();
    break_link(&cluster, &node, &agent, &mut fw).await;

    // The agent is back at the same PID without having re-registered: the master's next
    // ping says it is disconnected, and it re-registers.
    let (returning, mut rx) = ReturningAgent::of(&cluster, &agent, true);
    node.spawn_named(old_pid.id(), returning)
        .expect("agent spawns under its old id");
    cluster.advance(Duration::from_secs(15), 1).await;
    let connected = next_matching(&mut rx, "ping", |e| match e {
        ReturnEvent::Ping(c) => Some(*c),
        _ => None,
    })
    .await;
    assert!(!connected, "the ping says the master has it disconnected");
    next_matching(&mut rx, "re-registration", |e| match e {
        ReturnEvent::Reregistered(id) if *id == agent.id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(cluster.state().await["slaves"][0]["active"], true);
    cluster.advance(Duration::from_secs(1), 2).await;
    assert_eq!(first_offer(&mut fw).await.agent_id, agent.id);
}
