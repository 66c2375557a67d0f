//! In-process cluster tests: a real master, test agents, the real scheduler driver, a
//! paused clock and message filters.

use std::sync::atomic::Ordering;
use std::time::Duration;

use libprocess::MessageMatch;
use meso_api::v1::{
    FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, TaskId, TaskState,
    TaskStatusReason,
};
use meso_api::wire;
use meso_testkit::master_harness::*;

fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo::new("tester", name)
}

fn partition_aware(name: &str) -> FrameworkInfo {
    let mut info = framework(name);
    info.capabilities.push(FrameworkCapability {
        kind: Some(FrameworkCapabilityType::PartitionAware),
    });
    info
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_that_stops_answering_pings_is_removed_and_its_tasks_lost() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    launch_one(&mut fw, &mut agent, "t1").await;

    agent.answer_pings.store(false, Ordering::SeqCst);
    // 5 missed pings of 15 s: removal happens on the round after the fifth miss.
    cluster.advance(Duration::from_secs(15), 7).await;

    expect_agent_removed(&cluster, &mut fw, &agent.id, "t1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_aware_frameworks_see_task_unreachable() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(partition_aware("pa")).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.answer_pings.store(false, Ordering::SeqCst);
    cluster.advance(Duration::from_secs(15), 7).await;
    let update = next_update(&mut fw).await;
    assert_eq!(update.state, TaskState::Unreachable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answering_pings_stays() {
    let cluster = Cluster::start(Cluster::config()).await;
    let _agent = cluster.add_agent("cpus:4;mem:1024").await;
    cluster.advance(Duration::from_secs(15), 12).await;
    assert_eq!(cluster.state().await["activated_slaves"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_status_update_is_retried_until_acknowledged() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    launch_one(&mut fw, &mut agent, "t1").await;

    let dropped = cluster
        .node
        .filters()
        .drop_next(MessageMatch::of::<wire::StatusUpdateMessage>().to(cluster.master.upid()));
    agent.send_update(&fw.id, "t1", TaskState::Running);
    tokio::time::timeout(HANG_GUARD, dropped)
        .await
        .expect("hang guard")
        .expect("update dropped");
    cluster.clock.settle().await;
    // The retry after 10 s gets through; the driver acknowledges it and the ack reaches the agent.
    cluster.advance(Duration::from_secs(10), 1).await;
    let update = next_update(&mut fw).await;
    assert_eq!(update.state, TaskState::Running);
    let first = next_matching(&mut agent.events, "ack", |e| match e {
        AgentEvent::Ack(_, first) => Some(*first),
        _ => None,
    })
    .await;
    assert!(first, "the retried update is acknowledged");
    // Acknowledged: no more retries reach the framework.
    cluster.advance(Duration::from_secs(10), 3).await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    while let Ok(ev) = fw.events.try_recv() {
        assert!(
            !matches!(ev, SchedEvent::Update(_)),
            "no retry after the ack: {ev:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_acknowledgement_is_ignored() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Finished);
    let update = next_update(&mut fw).await;
    assert_eq!(update.state, TaskState::Finished);
    let uuid = next_matching(&mut agent.events, "ack", |e| match e {
        AgentEvent::Ack(uuid, true) => Some(uuid.clone()),
        _ => None,
    })
    .await;
    // The same acknowledgement again, from the framework's driver.
    let ack = wire::StatusUpdateAcknowledgement {
        agent_id: agent.id.clone(),
        framework_id: fw.id.clone(),
        task_id: TaskId::new("t1"),
        uuid: uuid.clone(),
    };
    cluster
        .node
        .send_from(Some(fw.driver.upid()), cluster.master.upid(), ack)
        .expect("send");
    let first = next_matching(&mut agent.events, "duplicate ack", |e| match e {
        AgentEvent::Ack(u, first) if *u == uuid => Some(*first),
        _ => None,
    })
    .await;
    assert!(!first, "the agent sees the duplicate as such");
    let state = cluster.state().await;
    let f = &state["frameworks"][0];
    assert_eq!(f["tasks"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        f["completed_tasks"].as_array().map(Vec::len),
        Some(1),
        "completed once: {f}"
    );
    assert_eq!(f["completed_tasks"][0]["state"], "TASK_FINISHED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_accepts_get_task_error_or_lost_and_the_framework_stays() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    let offer = first_offer(&mut fw).await;

    // Too much, no cpus/mem, wrong agent, both command and executor missing, and a valid one
    // followed by its duplicate, all in one accept.
    let mut neither = command_task("neither", &agent.id, "cpus:1;mem:32");
    neither.command = None;
    let tasks = vec![
        command_task("too-much", &agent.id, "cpus:5;mem:32"),
        command_task("nothing", &agent.id, "disk:10"),
        command_task(
            "elsewhere",
            &meso_api::v1::AgentId::new("other"),
            "cpus:1;mem:32",
        ),
        neither,
        command_task("ok", &agent.id, "cpus:1;mem:32"),
        command_task("ok", &agent.id, "cpus:1;mem:32"),
    ];
    launch(&fw, vec![offer.id.clone()], tasks);
    let mut errors = std::collections::BTreeMap::new();
    for _ in 0..5 {
        let u = next_update(&mut fw).await;
        assert_eq!(u.state, TaskState::Error, "{u:?}");
        assert_eq!(u.reason, Some(TaskStatusReason::TaskInvalid));
        *errors.entry(u.task_id.value.clone()).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<_, _> = [
        ("too-much", 1),
        ("nothing", 1),
        ("elsewhere", 1),
        ("neither", 1),
        ("ok", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(errors, expected);
    next_matching(&mut agent.events, "the valid task", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == "ok" => Some(()),
        _ => None,
    })
    .await;

    // A used offer is no longer valid: TASK_LOST with REASON_INVALID_OFFERS.
    launch(
        &fw,
        vec![offer.id.clone()],
        vec![command_task("late", &agent.id, "cpus:1;mem:32")],
    );
    let u = next_update(&mut fw).await;
    assert_eq!(
        (u.state, u.reason),
        (TaskState::Lost, Some(TaskStatusReason::InvalidOffers))
    );

    // The framework is still registered and can launch on a fresh offer.
    fw.driver
        .run(|a| a.revive_offers().expect("registered"))
        .expect("driver runs");
    let fresh = first_offer(&mut fw).await;
    launch(
        &fw,
        vec![fresh.id.clone()],
        vec![command_task("after", &agent.id, "cpus:1;mem:32")],
    );
    next_matching(&mut agent.events, "task after errors", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == "after" => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_aware_framework_gets_task_dropped_for_invalid_offers() {
    let cluster = Cluster::start(Cluster::config()).await;
    let agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(partition_aware("pa")).await;
    let _ = first_offer(&mut fw).await;
    launch(
        &fw,
        vec![meso_api::v1::OfferId::new("no-such-offer")],
        vec![command_task("t", &agent.id, "cpus:1;mem:32")],
    );
    let u = next_update(&mut fw).await;
    assert_eq!(
        (u.state, u.reason),
        (TaskState::Dropped, Some(TaskStatusReason::InvalidOffers))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_failover_timeout_kills_its_tasks() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut info = framework("f");
    info.failover_timeout = 60.0;
    let mut fw = cluster.add_framework(info).await;
    launch_one(&mut fw, &mut agent, "t1").await;

    // The scheduler goes away: the master sees the link break.
    cluster.node.terminate(fw.driver.upid());
    cluster.node.wait(fw.driver.upid()).await;
    cluster.clock.settle().await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["connected"], false);

    cluster.advance(Duration::from_secs(30), 1).await;
    assert_eq!(
        cluster.state().await["frameworks"].as_array().map(Vec::len),
        Some(1),
        "still within the timeout"
    );
    cluster.advance(Duration::from_secs(31), 1).await;
    let shut = next_matching(&mut agent.events, "ShutdownFramework", |e| match e {
        AgentEvent::ShutdownFramework(f) => Some(f.clone()),
        _ => None,
    })
    .await;
    assert_eq!(shut, fw.id);
    assert_eq!(
        cluster.state().await["frameworks"].as_array().map(Vec::len),
        Some(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_answers_known_and_unknown_tasks() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    launch_one(&mut fw, &mut agent, "t1").await;

    // Implicit: every non-terminal task.
    fw.driver
        .run(|a| a.reconcile_tasks(Vec::new()).expect("registered"))
        .expect("driver");
    let u = next_update(&mut fw).await;
    assert_eq!((u.task_id.as_str(), u.state), ("t1", TaskState::Staging));
    assert_eq!(u.reason, Some(TaskStatusReason::Reconciliation));

    // Explicit: an unknown task on a registered agent is TASK_LOST for this framework.
    let agent_id = agent.id.clone();
    fw.driver
        .run(move |a| {
            a.reconcile_tasks(vec![(TaskId::new("ghost"), Some(agent_id))])
                .expect("registered")
        })
        .expect("driver");
    let u = next_update(&mut fw).await;
    assert_eq!((u.task_id.as_str(), u.state), ("ghost", TaskState::Lost));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_reaches_the_agent_and_unknown_kill_answers_lost() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    fw.driver
        .run(|a| a.kill_task(TaskId::new("t1")).expect("registered"))
        .expect("driver");
    next_matching(&mut agent.events, "kill", |e| match e {
        AgentEvent::Kill(t) if t.as_str() == "t1" => Some(()),
        _ => None,
    })
    .await;
    fw.driver
        .run(|a| a.kill_task(TaskId::new("ghost")).expect("registered"))
        .expect("driver");
    let u = next_update(&mut fw).await;
    assert_eq!((u.task_id.as_str(), u.state), ("ghost", TaskState::Lost));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_time_out_when_configured() {
    let mut config = Cluster::config();
    config.offer_timeout = Some(Duration::from_secs(30));
    let cluster = Cluster::start(config).await;
    let _agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    let offer = first_offer(&mut fw).await;
    cluster.advance(Duration::from_secs(31), 1).await;
    let rescinded = next_matching(&mut fw.events, "rescind", |e| match e {
        SchedEvent::Rescinded(id) => Some(id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(rescinded, offer.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_scheduler_failing_over_in_time_keeps_the_tasks() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut info = framework("f");
    info.failover_timeout = 60.0;
    let mut fw = cluster.add_framework(info.clone()).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    cluster.node.terminate(fw.driver.upid());
    cluster.node.wait(fw.driver.upid()).await;
    cluster.advance(Duration::from_secs(30), 1).await;

    // A new scheduler instance re-registers with the framework id.
    info.id = Some(fw.id.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    cluster
        .node
        .spawn(meso_frameworks::SchedulerDriver::new(
            cluster.master.upid().clone(),
            info,
            Box::new(ChannelScheduler(tx)),
        ))
        .expect("driver spawns");
    next_matching(&mut rx, "re-registration", |e| {
        matches!(e, SchedEvent::Reregistered).then_some(())
    })
    .await;
    cluster.advance(Duration::from_secs(60), 2).await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["connected"], true);
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1");
    while let Ok(ev) = agent.events.try_recv() {
        assert!(
            !matches!(ev, AgentEvent::ShutdownFramework(_)),
            "tasks kept: {ev:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_the_framework_and_shuts_it_down_on_its_agents() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster.add_framework(framework("f")).await;
    launch_one(&mut fw, &mut agent, "t1").await;
    fw.driver
        .run(|a| a.teardown().expect("registered"))
        .expect("driver");
    let shut = next_matching(&mut agent.events, "ShutdownFramework", |e| match e {
        AgentEvent::ShutdownFramework(f) => Some(f.clone()),
        _ => None,
    })
    .await;
    assert_eq!(shut, fw.id);
    let state = cluster.state().await;
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
}

/// Launches one task on its first offer and tears its framework down from inside the
/// `status_update` of its TASK_FINISHED, before the driver acknowledges it (as a batch job
/// does with its last task).
struct LeaveWhenFinished {
    launched: bool,
}

impl meso_frameworks::Scheduler for LeaveWhenFinished {
    fn resource_offers(
        &mut self,
        driver: &mut meso_frameworks::DriverActions<'_>,
        offers: Vec<meso_api::v1::Offer>,
    ) {
        for offer in offers {
            let mut packer = meso_frameworks::packing::OfferPacker::new(&offer);
            let resources = packer
                .take(&res("cpus:1;mem:32"))
                .filter(|_| !self.launched);
            let tasks = resources.map(|r| {
                meso_api::v1::TaskInfo::command("t1", offer.agent_id.clone(), "true")
                    .with_resources(r)
            });
            self.launched |= tasks.is_some();
            let filters = meso_api::v1::Filters::default();
            let _ = driver.launch_tasks(vec![offer.id], tasks.into_iter().collect(), filters);
        }
    }

    fn status_update(
        &mut self,
        driver: &mut meso_frameworks::DriverActions<'_>,
        status: &meso_api::v1::TaskStatus,
    ) {
        if status.state == TaskState::Finished {
            driver.teardown().expect("registered");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_finished_before_its_framework_left_stays_finished() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let scheduler = LeaveWhenFinished { launched: false };
    let driver = meso_frameworks::SchedulerDriver::new(
        cluster.master.upid().clone(),
        framework("leaves"),
        Box::new(scheduler),
    );
    let _driver = cluster.node.spawn(driver).expect("driver spawns");
    let framework_id = next_matching(&mut agent.events, "the task's launch", |e| match e {
        AgentEvent::RunTask(f, _) => Some(f.clone()),
        _ => None,
    })
    .await;
    agent.send_update(&framework_id, "t1", TaskState::Finished);
    let state = meso_testkit::eventually::eventually_async("the framework removed", || async {
        let state = cluster.state().await;
        let gone = state["completed_frameworks"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        gone.then_some(state)
    })
    .await;
    let task = &state["completed_frameworks"][0]["completed_tasks"][0];
    assert_eq!(task["id"], "t1", "{state}");
    assert_eq!(task["state"], "TASK_FINISHED", "{state}");
}
