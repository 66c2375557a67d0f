//! A master elected after a failover, started from a recovered registry, on a paused test
//! clock: recovered agents are held until `--agent-reregister-timeout`, then marked
//! unreachable one at a time as `--agent-removal-rate-limit` allows; one that re-registers
//! in time is never marked; reconciling a task on a recovering agent gets no answer; a
//! recorded framework that does not come back is removed after its stored failover timeout;
//! past `--recovery-agent-removal-limit` the master marks none and stops instead.

use std::collections::BTreeMap;
use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process, TestClock, Upid};
use meso_api::v1::{AgentId, AgentInfo, FrameworkId, FrameworkInfo, TaskId, TaskState};
use meso_api::wire;
use meso_frameworks::{DriverHandle, SchedulerDriver};
use meso_master::master::recovery::RemovalRateLimit;
use meso_master::master::registrar::RegistrySnapshot;
use meso_master::master::removal_limit::RecoveryRemovalLimit;
use meso_master::{InMemoryRegistrar, Master, MasterConfig};
use meso_testkit::master_harness::*;
use serde_json::Value;
use tokio::sync::mpsc;

fn agent(id: &str) -> AgentInfo {
    let mut info = AgentInfo::new(&format!("{id}.test"));
    info.id = Some(AgentId::new(id));
    info.resources = res("cpus:2;mem:1024");
    info
}

/// An agent known from the registry coming back: sends ReregisterAgent once.
struct ReturningAgent {
    master: Upid,
    info: AgentInfo,
    events: mpsc::UnboundedSender<AgentId>,
}

impl ReturningAgent {
    /// Spawns one returning as `info` to `master`; its re-registrations arrive on the channel.
    fn spawn(node: &Node, master: &Upid, info: AgentInfo) -> mpsc::UnboundedReceiver<AgentId> {
        let (events, rx) = mpsc::unbounded_channel();
        node.spawn(ReturningAgent {
            master: master.clone(),
            info,
            events,
        })
        .unwrap();
        rx
    }
}

#[derive(Debug)]
enum ReturningMessage {
    Reregistered(wire::AgentReregistered),
    Ping,
}

impl From<wire::AgentReregistered> for ReturningMessage {
    fn from(m: wire::AgentReregistered) -> Self {
        ReturningMessage::Reregistered(m)
    }
}
impl From<wire::PingAgent> for ReturningMessage {
    fn from(_: wire::PingAgent) -> Self {
        ReturningMessage::Ping
    }
}

impl Process for ReturningAgent {
    type Message = ReturningMessage;

    fn install(h: &mut Handlers<Self>) {
        h.on::<wire::AgentReregistered>().on::<wire::PingAgent>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        // Test agent: the test waits for AgentReregistered, not on this send.
        let _ = ctx.send(
            &self.master,
            wire::ReregisterAgent {
                agent: self.info.clone(),
                checkpointed_resources: Default::default(),
                executor_infos: Vec::new(),
                tasks: Vec::new(),
                frameworks: Vec::new(),
                version: "test".into(),
                capabilities: Vec::new(),
            },
        );
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: ReturningMessage) {
        match msg {
            ReturningMessage::Reregistered(m) => {
                let _ = self.events.send(m.agent_id);
            }
            ReturningMessage::Ping => {
                // Test agent: a lost pong shows as a missed ping, which the test would see.
                let _ = ctx.send(&self.master, wire::PongAgent {});
            }
        }
    }
}

/// Moves the clock `secs` seconds forward one second at a time, settling in between, so
/// periodic timers (pings) run as they would in real time.
async fn advance(clock: &TestClock, secs: u64) {
    for _ in 0..secs {
        clock.advance(Duration::from_secs(1));
        clock.settle().await;
    }
}

async fn state(master: &libprocess::Pid<Master>) -> Value {
    let (tx, rx) = tokio::sync::oneshot::channel();
    master
        .dispatch(move |m, _| {
            let _ = tx.send(m.state_json());
        })
        .expect("master is running");
    tokio::time::timeout(HANG_GUARD, rx)
        .await
        .expect("hang guard: state")
        .expect("state answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovered_agents_and_frameworks_follow_mesos_failover_rules() {
    let clock = TestClock::paused();
    let node = Node::builder().test_clock(&clock).build().await.unwrap();
    let mut config = MasterConfig::new("m2", "localhost");
    config.agent_reregister_timeout = Duration::from_secs(600);
    config.agent_removal_rate_limit = Some(RemovalRateLimit::parse("1/1mins").unwrap());
    let mut gone = FrameworkInfo::new("tester", "gone");
    gone.id = Some(FrameworkId::new("m1-0000"));
    gone.failover_timeout = 100.0;
    let snapshot = RegistrySnapshot {
        admitted: ["a", "b", "c"]
            .iter()
            .map(|id| (AgentId::new(*id), agent(id)))
            .collect::<BTreeMap<_, _>>(),
        unreachable: BTreeMap::from([(AgentId::new("old"), libprocess::unix_ms(node.wall_time()))]),
        gone: BTreeMap::from([(AgentId::new("dead"), libprocess::unix_ms(node.wall_time()))]),
        frameworks: BTreeMap::from([(FrameworkId::new("m1-0000"), gone)]),
        ..Default::default()
    };
    let master = node
        .spawn_named(
            "master",
            Master::new(config, Box::new(InMemoryRegistrar::new())).recovered_from(snapshot),
        )
        .unwrap();
    clock.settle().await;
    let doc = state(&master).await;
    assert_eq!(doc["activated_slaves"], 0);
    assert_eq!(doc["unreachable_slaves"], 1, "only old is unreachable");
    assert_eq!(doc["frameworks"][0]["id"], "m1-0000");
    assert_eq!(doc["frameworks"][0]["connected"], false);
    let recovered: Vec<_> = doc["recovered_slaves"]
        .as_array()
        .expect("recovered_slaves")
        .iter()
        .map(|a| a["id"]["value"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(recovered, ["a", "b", "c"], "{doc}");

    // Agent b comes back in time.
    let mut back = ReturningAgent::spawn(&node, master.upid(), agent("b"));
    assert_eq!(next(&mut back, "b re-registered").await, AgentId::new("b"));
    let agents = {
        let (tx, rx) = tokio::sync::oneshot::channel();
        master
            .dispatch(move |m, _| {
                let view = m.state_view();
                let totals = meso_master::master::state_json::Totals::of(&view);
                let _ = tx.send(meso_master::master::operator_api::get_agents(
                    &view, &totals,
                ));
            })
            .unwrap();
        rx.await.unwrap()
    };
    assert_eq!(
        agents["agents"][0]["agent_info"]["id"]["value"], "b",
        "{agents}"
    );
    assert_eq!(
        agents["recovered_agents"].as_array().map(Vec::len),
        Some(2),
        "a and c have not re-registered: {agents}"
    );

    // A framework reconciling a task on recovering agent a gets no answer; on an unknown
    // agent it gets TASK_UNKNOWN (it is partition aware).
    let (tx, mut events) = mpsc::unbounded_channel();
    let mut info = FrameworkInfo::new("tester", "asker");
    info.capabilities.push(meso_api::v1::FrameworkCapability {
        kind: Some(meso_api::v1::FrameworkCapabilityType::PartitionAware),
    });
    let driver = node
        .spawn(SchedulerDriver::new(
            master.upid().clone(),
            info,
            Box::new(ChannelScheduler(tx)),
        ))
        .unwrap();
    next_matching(&mut events, "registered", |e| match e {
        SchedEvent::Registered(_) => Some(()),
        _ => None,
    })
    .await;
    DriverHandle::new(driver)
        .run(|a| {
            a.reconcile_tasks(vec![
                (TaskId::new("on-a"), Some(AgentId::new("a"))),
                (TaskId::new("on-x"), Some(AgentId::new("x"))),
            ])
            .expect("registered");
        })
        .unwrap();
    let update = next_matching(&mut events, "reconciliation answer", |e| match e {
        SchedEvent::Update(s) => Some(s.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (update.task_id.as_str(), update.state),
        ("on-x", TaskState::Unknown)
    );
    clock.settle().await;
    while let Ok(e) = events.try_recv() {
        assert!(
            !matches!(e, SchedEvent::Update(_)),
            "no answer for on-a: {e:?}"
        );
    }

    // The framework that does not come back goes after its failover timeout (100 s).
    advance(&clock, 101).await;
    let doc = state(&master).await;
    let names: Vec<&str> = doc["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names, ["asker"]);
    assert_eq!(doc["unreachable_slaves"], 1, "only old is unreachable");

    // At the re-registration timeout (t = 600 s) a is marked unreachable; c a minute later.
    advance(&clock, 499).await;
    let doc = state(&master).await;
    assert_eq!(doc["unreachable_slaves"], 2, "a joins old");
    next_matching(&mut events, "agent a lost", |e| match e {
        SchedEvent::AgentLost(id) if id.value == "a" => Some(()),
        _ => None,
    })
    .await;
    advance(&clock, 59).await;
    assert_eq!(
        state(&master).await["unreachable_slaves"],
        2,
        "c waits for the rate limit"
    );
    advance(&clock, 1).await;
    let doc = state(&master).await;
    assert_eq!(doc["unreachable_slaves"], 3, "then c");
    assert_eq!(doc["activated_slaves"], 1);
    assert_eq!(doc["slaves"][0]["id"], "b");
    node.shutdown().await;
}

/// A recovered master with agents a, b, c and d and the given removal limit; agent b comes
/// back; then the re-registration timeout (60 s) passes.
async fn timeout_with_limit(
    limit: &str,
) -> (
    Node,
    libprocess::Pid<Master>,
    impl std::future::Future<Output = ()>,
) {
    let clock = TestClock::paused();
    let node = Node::builder().test_clock(&clock).build().await.unwrap();
    let mut config = MasterConfig::new("m2", "localhost");
    config.agent_reregister_timeout = Duration::from_secs(60);
    config.recovery_agent_removal_limit = RecoveryRemovalLimit::parse(limit).unwrap();
    let snapshot = RegistrySnapshot {
        admitted: ["a", "b", "c", "d"]
            .iter()
            .map(|id| (AgentId::new(*id), agent(id)))
            .collect::<BTreeMap<_, _>>(),
        unreachable: BTreeMap::new(),
        gone: BTreeMap::new(),
        frameworks: BTreeMap::new(),
        ..Default::default()
    };
    let master = node
        .spawn_named(
            "master",
            Master::new(config, Box::new(InMemoryRegistrar::new())).recovered_from(snapshot),
        )
        .unwrap();
    clock.settle().await;
    let mut back = ReturningAgent::spawn(&node, master.upid(), agent("b"));
    assert_eq!(next(&mut back, "b re-registered").await, AgentId::new("b"));
    let exited = node.wait(master.upid());
    advance(&clock, 61).await;
    (node, master, exited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_removal_limit_the_master_stops_instead_of_removing_agents() {
    // Three of four recovered agents missing is 75% > 50%: the master marks none and stops.
    let (node, master, exited) = timeout_with_limit("50%").await;
    tokio::time::timeout(HANG_GUARD, exited)
        .await
        .expect("hang guard: the master process stops");
    drop(master);
    node.shutdown().await;

    // At 75% the same failover is within the limit: a, c and d are marked unreachable.
    let (node, master, _exited) = timeout_with_limit("75%").await;
    let doc = state(&master).await;
    assert_eq!(doc["unreachable_slaves"], 3);
    assert_eq!(doc["activated_slaves"], 1);
    node.shutdown().await;
}
