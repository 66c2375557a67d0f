//! The default executor (`ExecutorInfo.type: DEFAULT`) through the agent: a task group
//! needs no executor of the framework's. Each task runs as its own process in
//! `tasks/<id>/` of the shared sandbox and is reported by the executor; a failed task or a
//! kill takes its whole group down (Mesos's semantics); the executor exits once every task
//! ended. Waits are hang guards.

use std::collections::BTreeMap;

use meso_api::v1::{
    ExecutorId, ExecutorInfo, ExecutorType, TaskGroupInfo, TaskState, TaskStatusSource,
};
use meso_api::wire::RunTaskGroup;
use meso_testkit::agent_harness::*;

fn default_executor(id: &str) -> ExecutorInfo {
    let mut info = executor_info(id, meso_api::v1::CommandInfo::shell("unused"));
    info.kind = Some(ExecutorType::Default);
    info.command = None;
    info
}

fn launch(h: &Harness, executor: &str, tasks: &[(&str, &str)]) {
    h.to_agent(RunTaskGroup {
        framework: framework(),
        executor: default_executor(executor),
        task_group: TaskGroupInfo {
            tasks: tasks
                .iter()
                .map(|(id, cmd)| command_task(id, cmd))
                .collect(),
        },
    });
}

/// Acknowledges updates until every one of `n` tasks is terminal; each task's states in
/// order, with the message of its terminal one.
async fn until_all_terminal(
    h: &mut Harness,
    n: usize,
) -> BTreeMap<String, (Vec<TaskState>, Option<String>)> {
    let mut seen: BTreeMap<String, (Vec<TaskState>, Option<String>)> = BTreeMap::new();
    while seen.len() < n || seen.values().any(|(s, _)| !s.last().unwrap().is_terminal()) {
        let u = h.next_update().await;
        h.ack(&u);
        assert_eq!(u.status.source, Some(TaskStatusSource::Executor), "{u:?}");
        let entry = seen.entry(u.status.task_id.to_string()).or_default();
        entry.0.push(u.status.state);
        entry.1 = u.status.message.clone();
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_runs_each_task_in_its_own_sandbox_directory_and_ends() {
    let mut h = Harness::start_registered().await;
    launch(
        &h,
        "group",
        &[
            ("a", "echo a-ran > out; exit 0"),
            ("b", "echo \"$MESOS_TASK_ID\" > out"),
        ],
    );
    let seen = until_all_terminal(&mut h, 2).await;
    for id in ["a", "b"] {
        assert_eq!(
            seen[id].0,
            vec![TaskState::Running, TaskState::Finished],
            "{seen:?}"
        );
    }
    let sandbox = h.sandbox_of("group");
    let out = |id: &str| std::fs::read_to_string(sandbox.join("tasks").join(id).join("out"));
    assert_eq!(out("a").unwrap().trim(), "a-ran");
    assert_eq!(out("b").unwrap().trim(), "b");
    let exited = h.executor_exited().await;
    assert_eq!(exited.executor_id, ExecutorId::new("group"));
    assert_eq!(exited.status, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_task_kills_the_rest_of_its_group() {
    let mut h = Harness::start_registered().await;
    launch(
        &h,
        "group",
        &[("long", "sleep 1000"), ("bad", "sleep 0.2; exit 3")],
    );
    let seen = until_all_terminal(&mut h, 2).await;
    let (bad, why) = &seen["bad"];
    assert_eq!(bad.last(), Some(&TaskState::Failed), "{seen:?}");
    assert!(
        why.as_deref()
            .unwrap_or("")
            .contains("exited with status 3"),
        "{why:?}"
    );
    assert_eq!(seen["long"].0.last(), Some(&TaskState::Killed), "{seen:?}");
    h.executor_exited().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_task_kills_its_group() {
    let mut h = Harness::start_registered().await;
    launch(&h, "group", &[("x", "sleep 1000"), ("y", "sleep 1000")]);
    for _ in 0..2 {
        let u = h.expect_state(TaskState::Running).await;
        assert!(["x", "y"].contains(&u.status.task_id.as_str()));
    }
    h.kill_task("x", grace(1));
    let seen = until_all_terminal(&mut h, 2).await;
    assert_eq!(seen["x"].0.last(), Some(&TaskState::Killed), "{seen:?}");
    assert_eq!(seen["y"].0.last(), Some(&TaskState::Killed), "{seen:?}");
    h.executor_exited().await;
}
