//! A custom executor from `ExecutorInfo.command`: the standard-library Python executor of
//! `tests/http_clients/executor.py` (no meso code) started by the agent through
//! `/bin/sh -c`, speaking the v1 executor API over real HTTP. It gets Mesos's executor
//! environment, runs several tasks (one queued before it subscribed, one launched on its
//! live stream) and exits on SHUTDOWN.

use meso_api::v1::task::{Environment, EnvironmentVariable, EnvironmentVariableType};
use meso_api::v1::{
    CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, TaskId, TaskState, TaskStatusSource,
};
use meso_api::wire::{RunTaskGroup, ShutdownExecutor};
use meso_testkit::agent_harness::*;

const EXECUTOR_PY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/http_clients/executor.py"
);

fn python_executor(id: &str) -> ExecutorInfo {
    // The environment is recorded first so the test can check what the executor saw.
    let mut command = CommandInfo::shell(&format!("env > env.txt; exec python3 {EXECUTOR_PY}"));
    command.environment = Some(Environment {
        variables: vec![EnvironmentVariable {
            name: "HTTP_EXECUTOR_TIMEOUT".into(),
            kind: EnvironmentVariableType::Value,
            value: Some("120".into()),
        }],
    });
    ExecutorInfo {
        name: Some("python executor".into()),
        ..executor_info(id, command)
    }
}

fn task_for(id: &str, executor: &ExecutorInfo) -> meso_api::v1::TaskInfo {
    command_task(id, "unused").with_executor(executor.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_custom_executor_runs_several_tasks_and_shuts_down() {
    let mut h = Harness::start_registered().await;
    let executor = python_executor("py");
    h.run_task(task_for("a", &executor));
    let running = h.expect_state(TaskState::Running).await;
    assert_eq!(running.status.task_id, TaskId::new("a"));
    assert_eq!(running.status.source, Some(TaskStatusSource::Executor));
    assert_eq!(running.executor_id, Some(ExecutorId::new("py")));
    h.expect_state(TaskState::Finished).await;

    // The second task goes to the same, already subscribed executor as a LAUNCH event.
    h.run_task(task_for("b", &executor));
    let running = h.expect_state(TaskState::Running).await;
    assert_eq!(running.status.task_id, TaskId::new("b"));
    h.expect_state(TaskState::Finished).await;

    // The executor saw Mesos's environment.
    let run = h.sandbox_of("py");
    let env = std::fs::read_to_string(run.join("env.txt")).expect("env.txt in the sandbox");
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    assert_eq!(var("MESOS_FRAMEWORK_ID").as_deref(), Some("M-0000"));
    assert_eq!(var("MESOS_EXECUTOR_ID").as_deref(), Some("py"));
    assert_eq!(var("MESOS_SLAVE_ID").as_deref(), Some(AGENT_ID));
    assert_eq!(var("MESOS_CHECKPOINT").as_deref(), Some("0"));
    assert_eq!(var("HTTP_EXECUTOR_TIMEOUT").as_deref(), Some("120"));
    assert_eq!(
        var("MESOS_AGENT_ENDPOINT"),
        Some(h.agent.addr().to_string())
    );
    let sandbox = var("MESOS_DIRECTORY").expect("MESOS_DIRECTORY set");
    assert_eq!(
        std::fs::canonicalize(&sandbox).unwrap(),
        std::fs::canonicalize(&run).unwrap()
    );
    assert_eq!(var("MESOS_SANDBOX"), Some(sandbox));

    // SHUTDOWN: the executor exits by itself and the master hears of it.
    h.to_agent(ShutdownExecutor {
        framework_id: FrameworkId::new("M-0000"),
        executor_id: ExecutorId::new("py"),
    });
    let exited = h.executor_exited().await;
    assert_eq!(exited.executor_id, ExecutorId::new("py"));
    assert_eq!(exited.status, 0, "the executor exited 0 on SHUTDOWN");
}

fn group(ids: &[&str]) -> meso_api::v1::TaskGroupInfo {
    meso_api::v1::TaskGroupInfo {
        tasks: ids.iter().map(|id| command_task(id, "unused")).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_groups_reach_the_python_executor_as_launch_group() {
    let mut h = Harness::start_registered().await;
    let executor = python_executor("grouped");
    // The first group starts the executor and waits for it to subscribe; the second goes
    // to its live stream.
    for ids in [["g1", "g2"], ["g3", "g4"]] {
        h.to_agent(RunTaskGroup {
            framework: framework(),
            executor: executor.clone(),
            task_group: group(&ids),
        });
        let mut seen = std::collections::BTreeMap::new();
        while seen.len() < 2 || seen.values().any(|s| *s != TaskState::Finished) {
            let u = h.next_update().await;
            h.ack(&u);
            assert_eq!(u.executor_id, Some(ExecutorId::new("grouped")));
            assert!(ids.contains(&u.status.task_id.as_str()), "{u:?}");
            seen.insert(u.status.task_id.as_str().to_string(), u.status.state);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_group_without_an_executor_command_fails_each_task() {
    let mut h = Harness::start_registered().await;
    let mut executor = python_executor("default");
    executor.command = None;
    h.to_agent(RunTaskGroup {
        framework: framework(),
        executor,
        task_group: group(&["d1", "d2"]),
    });
    for _ in 0..2 {
        let u = h.expect_state(TaskState::Failed).await;
        let message = u.status.message.unwrap_or_default();
        assert!(message.contains("of type DEFAULT"), "{message}");
    }
}
