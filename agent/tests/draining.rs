//! An agent told to drain by the master (Mesos's `DrainSlaveMessage`) against a small test
//! master, with a real `meso-executor`: the drain is checkpointed under
//! `meta/slaves/<id>/drain.config` while tasks run, each task is killed with its grace
//! period bounded by the drain's (a task that ignores SIGTERM is SIGKILLed), and once
//! nothing runs the checkpoint is gone.

use meso_api::v1::TaskState;
use meso_api::wire::DrainAgent;
use meso_testkit::agent_harness::*;
use meso_testkit::eventually::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_is_checkpointed_kills_every_task_and_is_forgotten_once_empty() {
    let mut h = Harness::start_registered().await;
    let mut task = command_task(
        "td",
        "trap '' TERM; touch ready; while true; do sleep 0.05; done",
    );
    task.kill_policy = grace(600);
    h.run_task(task);
    h.expect_running().await;
    h.wait_for_file("td", "ready").await;

    h.to_agent(DrainAgent {
        max_grace_period_ns: Some(3_000_000_000),
        mark_gone: false,
    });
    let checkpoint = h
        .work_dir
        .path()
        .join("meta/slaves")
        .join(AGENT_ID)
        .join("drain.config");
    // The task ignores SIGTERM, so it runs until the (bounded) grace period is over.
    eventually("the drain to be checkpointed", || checkpoint.exists());
    let killed = h.expect_state(TaskState::Killed).await;
    let message = killed.status.message.clone().unwrap_or_default();
    assert!(message.contains("SIGKILL"), "{message}");
    h.ack(&killed);
    eventually("the drain to be forgotten once nothing runs", || {
        !checkpoint.exists()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_arrives_while_the_agent_drains_is_not_launched() {
    let mut h = Harness::start_registered().await;
    let mut task = command_task(
        "keep",
        "trap '' TERM; touch ready; while true; do sleep 0.05; done",
    );
    task.kill_policy = grace(600);
    h.run_task(task);
    h.expect_running().await;
    h.wait_for_file("keep", "ready").await;
    // A long bound keeps the agent draining while the next task arrives.
    h.to_agent(DrainAgent {
        max_grace_period_ns: Some(600_000_000_000),
        mark_gone: false,
    });
    h.run_task(command_task("late", "true"));
    let refused = h.next_update().await;
    assert_eq!(refused.status.task_id.as_str(), "late");
    assert_eq!(refused.status.state, TaskState::Lost);
    assert_eq!(
        refused.status.reason,
        Some(meso_api::v1::TaskStatusReason::AgentDraining)
    );
}
