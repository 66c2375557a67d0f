//! ACCEPT counts a custom executor's resources only when the executor is new on the agent
//! (Mesos's task validation): not for a second task of an executor launched earlier in the
//! same accept, nor for a task of an executor already running there.

use meso_api::v1::{
    AgentId, CommandInfo, ExecutorId, ExecutorInfo, ExecutorType, FrameworkInfo, TaskInfo,
};
use meso_testkit::master_harness::*;

fn executor_task(id: &str, agent: &AgentId, resources: &str) -> TaskInfo {
    command_task(id, agent, resources).with_executor(ExecutorInfo {
        kind: Some(ExecutorType::Custom),
        executor_id: ExecutorId::new("ex"),
        framework_id: None,
        command: Some(CommandInfo::shell("run-my-executor")),
        container: None,
        resources: meso_api::Resources::parse("cpus:0.5;mem:64", "*")
            .expect("executor resources parse"),
        name: None,
        data: None,
        shutdown_grace_period: None,
        labels: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_is_charged_once_per_agent() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:1.25;mem:192").await;
    let mut fw = cluster.add_framework(FrameworkInfo::new("u", "f")).await;

    // Two tasks of one new executor: 0.25 + 0.25 + 0.5 (executor, once) = 1 cpu of 1.25.
    let offer = first_offer(&mut fw).await;
    launch(
        &fw,
        vec![offer.id.clone()],
        vec![
            executor_task("t1", &agent.id, "cpus:0.25;mem:32"),
            executor_task("t2", &agent.id, "cpus:0.25;mem:32"),
        ],
    );
    for id in ["t1", "t2"] {
        next_matching(&mut agent.events, id, |e| match e {
            AgentEvent::RunTask(_, t) if t.task_id.as_str() == id => Some(()),
            _ => None,
        })
        .await;
    }

    // What is left (cpus:0.25;mem:64) holds a third task of the running executor, but
    // not the task plus the executor again.
    fw.driver
        .run(|a| a.revive_offers().expect("registered"))
        .expect("driver runs");
    let rest = first_offer(&mut fw).await;
    launch(
        &fw,
        vec![rest.id.clone()],
        vec![executor_task("t3", &agent.id, "cpus:0.25;mem:32")],
    );
    next_matching(&mut agent.events, "t3", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == "t3" => Some(()),
        _ => None,
    })
    .await;
    let refused = fw.events.try_recv();
    assert!(
        !matches!(&refused, Ok(SchedEvent::Update(_))),
        "no task was refused: {refused:?}"
    );
}
