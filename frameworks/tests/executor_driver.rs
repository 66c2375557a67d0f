//! The executor SDK through its public API against a real agent (the kit's in-process
//! agent and test master): the agent starts this test binary as a custom executor, whose
//! `sdk_executor` entry runs an [`Executor`] with [`meso_frameworks::executor::run`]. Tasks
//! are reported by the executor (RUNNING then FINISHED, or KILLED on a kill), several tasks
//! share one executor, and the executor exits on SHUTDOWN once its updates are
//! acknowledged. Waits are hang guards.

use meso_api::v1::{CommandInfo, ExecutorId, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_api::v1::{TaskGroupInfo, TaskStatusSource};
use meso_api::wire::ShutdownExecutor;
use meso_frameworks::executor::{run, Executor, ExecutorActions};
use meso_testkit::agent_harness::*;

/// The executor the agent starts: tasks whose data is `wait` run until killed; others
/// report RUNNING, send their id to the scheduler and finish.
struct TestExecutor;

impl Executor for TestExecutor {
    fn launch_task(&mut self, driver: &mut ExecutorActions<'_, Self>, task: TaskInfo) {
        let id = task.task_id.clone();
        let _ = driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running));
        if task.data.as_deref() == Some(b"wait".as_slice()) {
            return;
        }
        driver.send_framework_message(id.to_string().into_bytes());
        let _ = driver.send_status_update(TaskStatus::new(id, TaskState::Finished));
    }

    fn launch_task_group(&mut self, driver: &mut ExecutorActions<'_, Self>, group: TaskGroupInfo) {
        for task in group.tasks {
            self.launch_task(driver, task);
        }
    }
}

/// Not a test: the entry of the executor process the agent starts (run with
/// `--ignored --exact sdk_executor`); without the agent's environment it does nothing.
#[test]
#[ignore = "the executor process of these tests, started by the agent"]
fn sdk_executor() {
    if std::env::var_os("MESOS_EXECUTOR_ID").is_none() {
        return;
    }
    std::process::exit(run(TestExecutor));
}

fn sdk_executor_info(id: &str) -> meso_api::v1::ExecutorInfo {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let exe = exe.to_str().expect("a UTF-8 path");
    let command = CommandInfo::exec(
        exe,
        &[exe, "--ignored", "--exact", "sdk_executor", "--nocapture"],
    );
    executor_info(id, command)
}

fn task(id: &str, executor: &meso_api::v1::ExecutorInfo, data: Option<&[u8]>) -> TaskInfo {
    let mut t = command_task(id, "unused").with_executor(executor.clone());
    t.data = data.map(<[u8]>::to_vec);
    t
}

/// The next update is `task`'s `state`, sent by the executor; it is acknowledged.
async fn expect(h: &mut Harness, task: &str, state: TaskState) {
    let update = h.next_update().await;
    h.ack(&update);
    if update.status.state != state {
        let sandbox = h.sandbox_of("sdk");
        let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default();
        panic!("expected {state} of {task}, got {update:?}; executor stderr:\n{stderr}");
    }
    assert_eq!(update.status.task_id, TaskId::new(task));
    assert_eq!(update.status.source, Some(TaskStatusSource::Executor));
    assert_eq!(update.status.uuid.as_ref().map(Vec::len), Some(16));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_executor_reports_runs_kills_and_shuts_down() {
    let mut h = Harness::start_registered().await;
    let executor = sdk_executor_info("sdk");

    h.run_task(task("a", &executor, None));
    expect(&mut h, "a", TaskState::Running).await;
    expect(&mut h, "a", TaskState::Finished).await;

    // A second task goes to the same subscribed executor; it runs until killed.
    h.run_task(task("b", &executor, Some(b"wait")));
    expect(&mut h, "b", TaskState::Running).await;
    h.kill_task("b", None);
    expect(&mut h, "b", TaskState::Killed).await;

    // SHUTDOWN: the executor exits and the agent reports it.
    h.to_agent(ShutdownExecutor {
        executor_id: ExecutorId::new("sdk"),
        framework_id: framework().id.unwrap(),
    });
    let exited = h.executor_exited().await;
    assert_eq!(exited.executor_id, ExecutorId::new("sdk"));
    assert_eq!(exited.status, 0, "the executor exits 0 after SHUTDOWN");
}
