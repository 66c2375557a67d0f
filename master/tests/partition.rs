//! Partitions and returning agents, after Mesos's partition_tests.cpp,
//! master_slave_reconciliation_tests.cpp and reconciliation_tests.cpp: a real master, test
//! agents on its node, the real scheduler driver, the paused clock. An agent is cut off by
//! no longer answering pings; it comes back as a new process re-registering under its old id
//! with the tasks it reports.

use std::time::Duration;

use meso_api::v1::{
    AgentId, FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, TaskId, TaskState,
    TaskStatus, TaskStatusReason,
};
use meso_api::wire;
use meso_testkit::master_harness::*;
use tokio::sync::mpsc;

#[path = "partition/returning.rs"]
mod returning;
use returning::{returning, BackEvent, ReturningAgent};

/// A framework info, PARTITION_AWARE or not, checkpointing.
fn framework(partition_aware: bool) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", "partition");
    info.checkpoint = true;
    if partition_aware {
        info.capabilities.push(FrameworkCapability {
            kind: Some(FrameworkCapabilityType::PartitionAware),
        });
    }
    info
}

/// A cluster with one agent running `t1` (reported RUNNING) of a framework.
async fn running_task(partition_aware: bool) -> (Cluster, AgentHandle, FrameworkHandle) {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework(partition_aware)).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Running);
    (cluster, agent, fw)
}

/// The info `fw` registered with (with its id).
fn info_of(fw: &FrameworkHandle, partition_aware: bool) -> FrameworkInfo {
    let mut info = framework(partition_aware);
    info.id = Some(fw.id.clone());
    info
}

/// Stops `agent` answering pings and lets the ping limit (5 × 15 s) pass.
async fn partition(cluster: &Cluster, agent: &AgentHandle) {
    agent
        .answer_pings
        .store(false, std::sync::atomic::Ordering::SeqCst);
    cluster.advance(Duration::from_secs(15), 7).await;
}

/// The next update of `task` the master made (no uuid): the test agent's own updates are
/// retried until acknowledged, so a RUNNING may come again at any time.
async fn update_of(fw: &mut FrameworkHandle, task: &str) -> TaskStatus {
    next_matching(&mut fw.events, "status update", |e| match e {
        SchedEvent::Update(s) if s.task_id.as_str() == task && s.uuid.is_none() => Some(s.clone()),
        _ => None,
    })
    .await
}

fn reconcile(fw: &FrameworkHandle, task: &str, agent: &AgentId) {
    let asked = (TaskId::new(task), Some(agent.clone()));
    fw.driver
        .run(move |a| {
            a.reconcile_tasks(vec![asked])
                .expect("framework is registered");
        })
        .expect("driver is running");
}

async fn spawn_back(
    cluster: &Cluster,
    back: ReturningAgent,
    rx: &mut mpsc::UnboundedReceiver<BackEvent>,
) {
    let id = back.info.id.clone();
    cluster.node.spawn(back).expect("returning agent spawns");
    let back_as = next_matching(rx, "re-registration", |e| match e {
        BackEvent::Reregistered(id) => Some(id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(Some(back_as), id, "back under its old id");
}

/// The master's metrics.
async fn metrics(cluster: &Cluster) -> std::collections::BTreeMap<String, f64> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cluster
        .master
        .dispatch(move |m, _| {
            let _ = tx.send(m.metrics_map(0.0));
        })
        .expect("master is running");
    tokio::time::timeout(HANG_GUARD, rx)
        .await
        .expect("hang guard: metrics")
        .expect("metrics answered")
}

/// The operator API's GET_TASKS answer.
async fn get_tasks(cluster: &Cluster) -> serde_json::Value {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cluster
        .master
        .dispatch(move |m, _| {
            let _ = tx.send(meso_master::master::operator_api::get_tasks(
                &m.state_view(),
            ));
        })
        .expect("master is running");
    tokio::time::timeout(HANG_GUARD, rx)
        .await
        .expect("hang guard: GET_TASKS")
        .expect("GET_TASKS answered")
}

/// PartitionedSlave + ReregisterSlavePartitionAware: TASK_UNREACHABLE with its time, the
/// agent listed unreachable with the task under `unreachable_tasks`; reconciliation says
/// TASK_UNREACHABLE; back, the task is RUNNING again and reconciliation says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_aware_framework_sees_unreachable_then_running_again() {
    let (cluster, agent, mut fw) = running_task(true).await;
    partition(&cluster, &agent).await;
    let lost = update_of(&mut fw, "t1").await;
    assert_eq!(lost.state, TaskState::Unreachable);
    assert_eq!(lost.reason, Some(TaskStatusReason::AgentRemoved));
    assert!(lost.unreachable_time.is_some(), "{lost:?}");
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 1);
    assert_eq!(
        state["frameworks"][0]["tasks"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(state["frameworks"][0]["unreachable_tasks"][0]["id"], "t1");
    assert_eq!(
        state["frameworks"][0]["unreachable_tasks"][0]["state"],
        "TASK_UNREACHABLE"
    );
    let metrics = metrics(&cluster).await;
    assert_eq!(metrics["master/tasks_unreachable"], 1.0);
    assert_eq!(metrics["master/slaves_unreachable"], 1.0);
    let tasks = get_tasks(&cluster).await;
    assert_eq!(
        tasks["unreachable_tasks"][0]["task_id"]["value"], "t1",
        "{tasks}"
    );
    assert_eq!(tasks["tasks"].as_array().map(Vec::len), Some(0), "{tasks}");
    reconcile(&fw, "t1", &agent.id);
    let answer = update_of(&mut fw, "t1").await;
    assert_eq!(answer.state, TaskState::Unreachable);
    assert_eq!(answer.reason, Some(TaskStatusReason::Reconciliation));

    let (back, mut rx) = returning(
        &cluster,
        &agent.id,
        &info_of(&fw, true),
        &[("t1", TaskState::Running)],
    );
    spawn_back(&cluster, back, &mut rx).await;
    let again = update_of(&mut fw, "t1").await;
    assert_eq!(again.state, TaskState::Running);
    assert_eq!(again.reason, Some(TaskStatusReason::AgentReregistered));
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 0);
    assert_eq!(state["activated_slaves"], 1);
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1");
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    reconcile(&fw, "t1", &agent.id);
    let answer = update_of(&mut fw, "t1").await;
    assert_eq!(answer.state, TaskState::Running);
}

/// Registry GC (`--registry-max-agent-age`): an agent unreachable for longer than the age
/// is forgotten with its unreachable tasks at the next collection; if it comes back, it is
/// admitted again and its task adopted, as Mesos's MarkSlaveReachable admits an agent the
/// registry no longer lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_unreachable_past_the_max_age_is_forgotten_by_registry_gc() {
    let mut config = Cluster::config();
    config.registry_gc = meso_master::master::registry_gc::RegistryGcConfig {
        interval: Duration::from_secs(60),
        max_agent_age: Duration::from_secs(300),
        max_agent_count: 100,
    };
    let cluster = Cluster::start(config).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework(true)).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Running);
    partition(&cluster, &agent).await;
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Unreachable);
    // Two collections within the age keep it.
    cluster.advance(Duration::from_secs(60), 2).await;
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 1);
    assert_eq!(state["frameworks"][0]["unreachable_tasks"][0]["id"], "t1");
    // Past the age, the next collection forgets the agent and its parked task.
    cluster.advance(Duration::from_secs(60), 4).await;
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 0, "{state}");
    assert_eq!(
        state["frameworks"][0]["unreachable_tasks"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "{state}"
    );
    assert_eq!(metrics(&cluster).await["master/slaves_unreachable"], 0.0);
    let tasks = get_tasks(&cluster).await;
    assert!(tasks.get("unreachable_tasks").is_none(), "{tasks}");
    // Back after all, it is admitted under its id and its running task adopted.
    let (back, mut rx) = returning(
        &cluster,
        &agent.id,
        &info_of(&fw, true),
        &[("t1", TaskState::Running)],
    );
    spawn_back(&cluster, back, &mut rx).await;
    let state = cluster.state().await;
    assert_eq!(state["activated_slaves"], 1, "{state}");
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1", "{state}");
}

/// ReregisterSlaveNotPartitionAware: TASK_LOST, and since Mesos 1.5 the task is not
/// killed when the agent returns: the framework hears it RUNNING again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_framework_sees_lost_and_its_task_is_not_killed_on_return() {
    let (cluster, agent, mut fw) = running_task(false).await;
    partition(&cluster, &agent).await;
    let lost = update_of(&mut fw, "t1").await;
    assert_eq!(lost.state, TaskState::Lost);
    assert_eq!(lost.reason, Some(TaskStatusReason::AgentRemoved));
    reconcile(&fw, "t1", &agent.id);
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Lost);

    let (back, mut rx) = returning(
        &cluster,
        &agent.id,
        &info_of(&fw, false),
        &[("t1", TaskState::Running)],
    );
    spawn_back(&cluster, back, &mut rx).await;
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Running);
    cluster.clock.settle().await;
    while let Ok(ev) = rx.try_recv() {
        assert!(
            !matches!(ev, BackEvent::Kill(_) | BackEvent::Shutdown(_)),
            "nothing is killed: {ev:?}"
        );
    }
    assert_eq!(
        cluster.state().await["frameworks"][0]["tasks"][0]["state"],
        "TASK_RUNNING"
    );
}

/// A task killed while its agent is unreachable: the framework hears where it stands, and
/// the agent is told to kill it when it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_killed_while_its_agent_is_unreachable_is_killed_on_return() {
    let (cluster, agent, mut fw) = running_task(true).await;
    partition(&cluster, &agent).await;
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Unreachable);
    fw.driver
        .run(|a| {
            a.kill_task(TaskId::new("t1"))
                .expect("framework is registered");
        })
        .expect("driver is running");
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Unreachable);

    let (back, mut rx) = returning(
        &cluster,
        &agent.id,
        &info_of(&fw, true),
        &[("t1", TaskState::Running)],
    );
    spawn_back(&cluster, back, &mut rx).await;
    let killed = next_matching(&mut rx, "kill", |e| match e {
        BackEvent::Kill(t) => Some(t.clone()),
        _ => None,
    })
    .await;
    assert_eq!(killed.as_str(), "t1");
}

/// The next update of `task` an agent made (it carries a uuid).
async fn agent_update_of(fw: &mut FrameworkHandle, task: &str) -> TaskStatus {
    next_matching(&mut fw.events, "status update", |e| match e {
        SchedEvent::Update(s) if s.task_id.as_str() == task && s.uuid.is_some() => Some(s.clone()),
        _ => None,
    })
    .await
}

/// TaskCompletedOnPartitionedAgent / the restarted-agent case of issue 15: an agent back
/// (before or after the ping limit) without a task the master had is asked about it, as
/// Mesos's master asks (`reconciliations`), and the agent's answer ends it for its
/// framework: TASK_DROPPED for PARTITION_AWARE frameworks, TASK_LOST for others, reason
/// REASON_RECONCILIATION; the resources come back in offers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_agent_back_without_a_task_ends_it() {
    for partition_aware in [true, false] {
        let (cluster, agent, mut fw) = running_task(partition_aware).await;
        let (back, mut rx) = returning(&cluster, &agent.id, &info_of(&fw, partition_aware), &[]);
        spawn_back(&cluster, back, &mut rx).await;
        let ended = agent_update_of(&mut fw, "t1").await;
        let expected = if partition_aware {
            TaskState::Dropped
        } else {
            TaskState::Lost
        };
        assert_eq!(ended.state, expected);
        assert_eq!(ended.reason, Some(TaskStatusReason::Reconciliation));
        // The task completes once its framework acknowledges the agent's update.
        next_matching(&mut rx, "acknowledgement", |e| match e {
            BackEvent::Acknowledged(t) if t.as_str() == "t1" => Some(()),
            _ => None,
        })
        .await;
        let state = cluster.state().await;
        assert_eq!(
            state["frameworks"][0]["tasks"].as_array().map(Vec::len),
            Some(0)
        );
        assert_eq!(state["frameworks"][0]["completed_tasks"][0]["id"], "t1");
        // All of the agent is offered again.
        cluster.advance(Duration::from_secs(1), 6).await;
        let offer = first_offer(&mut fw).await;
        assert_eq!(offer.resources.cpus(), res("cpus:4").cpus(), "{offer:?}");
    }
}

/// Simulator seed 10024: a launch that crossed an agent's re-registration (the agent
/// re-registered before the launch reached it, so it did not report the task) is not the
/// master's to end. The master asks the agent (the re-registration answer names the task)
/// and keeps the task and its resources; when the agent runs it, the framework hears
/// RUNNING, never LOST or DROPPED, and the task's resources are not offered again. (The
/// master used to end such a task itself and offer its resources while the agent ran it:
/// the agent was then booked over its total, and the allocator refused it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_that_crossed_a_reregistration_is_asked_about_not_ended() {
    for partition_aware in [true, false] {
        let (cluster, mut agent, mut fw) = running_task(partition_aware).await;
        cluster.advance(Duration::from_secs(1), 6).await;
        launch_one(&mut fw, &mut agent, "t2").await;
        // Back before the launch reached it: it reports t1 only.
        let (mut back, mut rx) = returning(
            &cluster,
            &agent.id,
            &info_of(&fw, partition_aware),
            &[("t1", TaskState::Running)],
        );
        back.arrived.push(TaskId::new("t2"));
        let back = cluster.node.spawn(back).expect("returning agent spawns");
        // What the re-registration answer asked (it comes just before the answer itself).
        let mut asked = Vec::new();
        loop {
            let event = tokio::time::timeout(HANG_GUARD, rx.recv())
                .await
                .expect("hang guard: re-registration")
                .expect("the returning agent runs");
            match event {
                BackEvent::Asked(r) => asked.extend(r),
                BackEvent::Reregistered(_) => break,
                _ => {}
            }
        }
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert_eq!(asked[0].framework_id, fw.id);
        assert_eq!(asked[0].partition_aware, partition_aware);
        assert_eq!(asked[0].task_ids, vec![TaskId::new("t2")]);
        // The launch arrives after all, and the task runs.
        let framework = fw.id.clone();
        back.dispatch(move |a, ctx| {
            a.send_update(
                ctx,
                &framework,
                &TaskId::new("t2"),
                TaskState::Running,
                None,
            )
        })
        .expect("the returning agent runs");
        let next = next_matching(&mut fw.events, "update of t2", |e| match e {
            SchedEvent::Update(s) if s.task_id.as_str() == "t2" => Some(s.clone()),
            _ => None,
        })
        .await;
        assert_eq!(next.state, TaskState::Running, "{next:?}");
        let state = cluster.state().await;
        let tasks: Vec<(String, String)> = state["frameworks"][0]["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| {
                (
                    t["id"].as_str().unwrap_or_default().to_string(),
                    t["state"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert!(
            tasks.contains(&("t2".to_string(), "TASK_RUNNING".to_string())),
            "{tasks:?}"
        );
        // Two of the four cpus stay in use: nothing of t2 is offered.
        cluster.advance(Duration::from_secs(1), 6).await;
        let offer = first_offer(&mut fw).await;
        assert_eq!(offer.resources.cpus(), res("cpus:2").cpus(), "{offer:?}");
    }
}

/// The master fails to know a task the agent reports (SpuriousSlaveReregistration and the
/// adopted-task case): it is adopted, nothing is killed, and its resources are not offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_agent_back_with_an_unknown_task_has_it_adopted() {
    let (cluster, agent, mut fw) = running_task(true).await;
    let (back, mut rx) = returning(
        &cluster,
        &agent.id,
        &info_of(&fw, true),
        &[("t1", TaskState::Running), ("t2", TaskState::Running)],
    );
    spawn_back(&cluster, back, &mut rx).await;
    let state = cluster.state().await;
    let ids: Vec<_> = state["frameworks"][0]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, vec!["t1", "t2"]);
    cluster.advance(Duration::from_secs(1), 6).await;
    let offer = first_offer(&mut fw).await;
    assert_eq!(
        offer.resources.cpus(),
        res("cpus:2").cpus(),
        "two of four cpus are used: {offer:?}"
    );
    while let Ok(ev) = fw.events.try_recv() {
        assert!(
            !matches!(&ev, SchedEvent::Update(s) if s.uuid.is_none()),
            "the master says nothing of the adopted task: {ev:?}"
        );
    }
}

/// MARK_AGENT_GONE of an unreachable agent: its task ends TASK_GONE_BY_OPERATOR for a
/// PARTITION_AWARE framework; the agent is refused and told to shut down when it returns;
/// reconciliation answers TASK_GONE_BY_OPERATOR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_marked_gone_is_refused_when_it_returns() {
    let (cluster, agent, mut fw) = running_task(true).await;
    partition(&cluster, &agent).await;
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Unreachable);
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    let body = format!(
        r#"{{"type":"MARK_AGENT_GONE","mark_agent_gone":{{"agent_id":{{"value":"{}"}}}}}}"#,
        agent.id
    );
    let r = tokio::time::timeout(
        HANG_GUARD,
        tokio::task::spawn_blocking(move || meso_testkit::http::blocking::call(addr, &body)),
    )
    .await
    .expect("hang guard: http")
    .expect("http client thread");
    assert_eq!(
        r.status,
        200,
        "the unreachable agent is known: {}",
        r.text()
    );
    let gone = update_of(&mut fw, "t1").await;
    assert_eq!(gone.state, TaskState::GoneByOperator);
    assert_eq!(gone.reason, Some(TaskStatusReason::AgentRemovedByOperator));

    let (back, mut rx) = returning(
        &cluster,
        &agent.id,
        &info_of(&fw, true),
        &[("t1", TaskState::Running)],
    );
    cluster.node.spawn(back).expect("returning agent spawns");
    let told = next_matching(&mut rx, "shutdown", |e| match e {
        BackEvent::Shutdown(m) => Some(m.clone()),
        BackEvent::Reregistered(_) => panic!("a gone agent re-registered"),
        _ => None,
    })
    .await;
    assert!(told.contains("gone"), "{told}");
    reconcile(&fw, "t1", &agent.id);
    assert_eq!(
        update_of(&mut fw, "t1").await.state,
        TaskState::GoneByOperator
    );
}

/// `--agent-removal-rate-limit`: two silent agents are marked unreachable one interval
/// apart, not together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_agents_unreachable_respects_the_rate_limit() {
    let mut config = Cluster::config();
    config.agent_removal_rate_limit =
        Some(meso_master::master::recovery::RemovalRateLimit::parse("1/10mins").expect("parses"));
    let cluster = Cluster::start(config).await;
    let a = cluster.add_agent("cpus:1;mem:128").await;
    let b = cluster.add_agent("cpus:1;mem:128").await;
    for agent in [&a, &b] {
        agent
            .answer_pings
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
    cluster.advance(Duration::from_secs(15), 7).await;
    assert_eq!(cluster.state().await["unreachable_slaves"], 1);
    cluster.advance(Duration::from_secs(60), 11).await;
    assert_eq!(cluster.state().await["unreachable_slaves"], 2);
}

/// Unreachable and gone survive a master failover (the registry holds them): a new master
/// refuses an agent the registry lists gone, and re-admits one it lists unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_and_unreachable_agents_survive_a_master_failover() {
    use meso_master::master::registrar::RegistrySnapshot;
    let clock = libprocess::TestClock::paused();
    let node = libprocess::Node::builder()
        .test_clock(&clock)
        .build()
        .await
        .expect("node starts");
    let config = Cluster::config();
    let now_ms = libprocess::unix_ms(node.wall_time());
    let snapshot = RegistrySnapshot {
        unreachable: [(AgentId::new("u"), now_ms)].into(),
        gone: [(AgentId::new("dead"), now_ms)].into(),
        ..Default::default()
    };
    let master = node
        .spawn_named(
            "master",
            meso_master::Master::new(
                config.clone(),
                Box::new(meso_master::InMemoryRegistrar::new()),
            )
            .recovered_from(snapshot),
        )
        .expect("master spawns");
    let cluster = Cluster {
        clock,
        node,
        master,
        config,
    };
    cluster.clock.settle().await;
    assert_eq!(cluster.state().await["unreachable_slaves"], 1);
    let mut fw = cluster.add_framework(framework(true)).await;
    let info = info_of(&fw, true);

    let (back, mut rx) = returning(&cluster, &AgentId::new("dead"), &info, &[]);
    cluster.node.spawn(back).expect("agent spawns");
    let told = next_matching(&mut rx, "shutdown", |e| match e {
        BackEvent::Shutdown(m) => Some(m.clone()),
        BackEvent::Reregistered(_) => panic!("a gone agent re-registered"),
        _ => None,
    })
    .await;
    assert!(told.contains("gone"), "{told}");
    reconcile(&fw, "t9", &AgentId::new("dead"));
    assert_eq!(
        update_of(&mut fw, "t9").await.state,
        TaskState::GoneByOperator
    );
    // ReconciliationTest.PartitionedAgentThenMasterFailover: a task of the unreachable
    // agent, unknown to the new master, is TASK_UNREACHABLE.
    reconcile(&fw, "t1", &AgentId::new("u"));
    let answer = update_of(&mut fw, "t1").await;
    assert_eq!(answer.state, TaskState::Unreachable);
    assert_eq!(answer.reason, Some(TaskStatusReason::Reconciliation));

    let (back, mut rx) = returning(
        &cluster,
        &AgentId::new("u"),
        &info,
        &[("t1", TaskState::Running)],
    );
    spawn_back(&cluster, back, &mut rx).await;
    let again = update_of(&mut fw, "t1").await;
    assert_eq!(again.state, TaskState::Running);
    assert_eq!(again.reason, Some(TaskStatusReason::AgentReregistered));
    assert_eq!(cluster.state().await["unreachable_slaves"], 0);
}

/// An agent queued behind the removal rate limit is still pinged, and answering spares it
/// (Mesos's observer: a permit acquired for an agent that recovered is not used).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_answers_while_queued_for_removal_is_spared() {
    let mut config = Cluster::config();
    config.agent_removal_rate_limit =
        Some(meso_master::master::recovery::RemovalRateLimit::parse("1/10mins").expect("parses"));
    let cluster = Cluster::start(config).await;
    let a = cluster.add_agent("cpus:1;mem:128").await;
    let b = cluster.add_agent("cpus:1;mem:128").await;
    for agent in [&a, &b] {
        agent
            .answer_pings
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
    cluster.advance(Duration::from_secs(15), 7).await;
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 1);
    assert_eq!(
        state["slaves"][0]["id"],
        b.id.as_str(),
        "b waits for its permit"
    );
    b.answer_pings
        .store(true, std::sync::atomic::Ordering::SeqCst);
    cluster.advance(Duration::from_secs(60), 11).await;
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 1, "b was spared");
    assert_eq!(state["activated_slaves"], 1);
}

/// PartitionedSlaveOrphanedTask: the framework is torn down while its agent is unreachable;
/// when the agent returns with the task, the task is not taken back and the agent is told
/// to shut the framework down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_framework_removed_while_its_agent_was_away_is_shut_down_on_return() {
    let (cluster, agent, mut fw) = running_task(true).await;
    partition(&cluster, &agent).await;
    assert_eq!(update_of(&mut fw, "t1").await.state, TaskState::Unreachable);
    let info = info_of(&fw, true);
    fw.driver
        .run(|a| {
            a.teardown().expect("framework is registered");
        })
        .expect("driver is running");
    // The teardown reaches the master (the driver sends it from its own process).
    let start = std::time::Instant::now();
    loop {
        cluster.clock.settle().await;
        if cluster.state().await["frameworks"].as_array().map(Vec::len) == Some(0) {
            break;
        }
        assert!(start.elapsed() < HANG_GUARD, "hang guard: teardown");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let (back, mut rx) = returning(&cluster, &agent.id, &info, &[("t1", TaskState::Running)]);
    spawn_back(&cluster, back, &mut rx).await;
    let shut = next_matching(&mut rx, "framework shutdown", |e| match e {
        BackEvent::ShutdownFramework(f) => Some(f.clone()),
        _ => None,
    })
    .await;
    assert_eq!(shut, fw.id);
    let state = cluster.state().await;
    assert_eq!(
        state["frameworks"].as_array().map(Vec::len),
        Some(0),
        "{state}"
    );
    assert_eq!(state["activated_slaves"], 1);
}

/// AgentWithTerminalTaskPartitioned: a task that finished (its update not acknowledged yet)
/// on an agent that becomes unreachable is listed under `unreachable_tasks` as TASK_FINISHED,
/// not reported unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_task_on_an_unreachable_agent_stays_finished() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework(true)).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    // The master keeps the task until the agent hears the acknowledgement: drop it.
    let _acks = cluster
        .node
        .filters()
        .drop_matching(libprocess::MessageMatch::of::<
            wire::StatusUpdateAcknowledgement,
        >());
    agent.send_update(&fw.id, "t1", TaskState::Finished);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Finished);
    partition(&cluster, &agent).await;
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 1);
    assert_eq!(
        state["frameworks"][0]["unreachable_tasks"][0]["id"], "t1",
        "{state}"
    );
    assert_eq!(
        state["frameworks"][0]["unreachable_tasks"][0]["state"],
        "TASK_FINISHED"
    );
    while let Ok(ev) = fw.events.try_recv() {
        assert!(
            !matches!(&ev, SchedEvent::Update(s) if s.uuid.is_none()),
            "nothing more is said of the finished task: {ev:?}"
        );
    }
}
