//! The agent answers the master's reconciliation request on re-registration (the
//! `reconciliations` of `AgentReregistered`, as Mesos's agent answers those of
//! `SlaveReregisteredMessage`): a task it does not know ends TASK_LOST (TASK_DROPPED for a
//! PARTITION_AWARE framework), reason REASON_RECONCILIATION, from the agent; a task it runs
//! is left alone.

use meso_api::v1::{AgentId, FrameworkId, TaskId, TaskState, TaskStatusReason, TaskStatusSource};
use meso_api::wire::{AgentReregistered, StatusUpdate, TaskReconciliation};
use meso_testkit::agent_harness::*;

async fn update_of(h: &mut Harness, task: &str) -> StatusUpdate {
    h.next_matching(|seen| match seen {
        Seen::Update(u) if u.update.status.task_id.as_str() == task => Ok(u.update),
        other => Err(other),
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tasks_the_agent_does_not_know_end_when_the_master_asks() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("known", "sleep 1000"));
    let starting = h.expect_state(TaskState::Starting).await;
    h.ack(&starting);
    let running = h.expect_state(TaskState::Running).await;
    h.ack(&running);

    h.to_agent(AgentReregistered {
        agent_id: AgentId::new(AGENT_ID),
        total_ping_timeout_seconds: Some(75.0),
        reconciliations: vec![
            TaskReconciliation {
                framework_id: FrameworkId::new("M-0000"),
                partition_aware: false,
                task_ids: vec![TaskId::new("known"), TaskId::new("unknown")],
            },
            TaskReconciliation {
                framework_id: FrameworkId::new("M-0001"),
                partition_aware: true,
                task_ids: vec![TaskId::new("elsewhere")],
            },
        ],
    });
    let lost = update_of(&mut h, "unknown").await;
    assert_eq!(lost.status.state, TaskState::Lost);
    assert_eq!(lost.status.reason, Some(TaskStatusReason::Reconciliation));
    assert_eq!(lost.status.source, Some(TaskStatusSource::Agent));
    assert_eq!(lost.framework_id.as_str(), "M-0000");
    assert!(
        lost.uuid.is_some(),
        "acknowledged like any update of the agent's"
    );
    let dropped = update_of(&mut h, "elsewhere").await;
    assert_eq!(dropped.status.state, TaskState::Dropped);
    assert_eq!(dropped.framework_id.as_str(), "M-0001");

    // The task the agent runs was not ended: its next update is the one its kill brings.
    h.kill_task("known", None);
    assert_eq!(
        update_of(&mut h, "known").await.status.state,
        TaskState::Killed
    );
}
