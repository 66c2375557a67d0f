//! `--switch-user` on a real agent with real processes, as root: a task runs as its
//! command's user, else its framework's (its `id -u` in the sandbox's stdout is that
//! user's, and the sandbox is the user's), through the plain posix containerizer and the
//! isolating one (whose launcher drops to the user after its root-only steps); an unknown
//! user fails the task naming the user; with `--switch-user=false` the task runs as the
//! agent's user.

use meso_agent::containerizer::{Containerizer, IsolatingContainerizer, PosixContainerizer};
use meso_api::v1::{CommandInfo, TaskInfo, TaskState};
use meso_api::wire::RunTask;
use meso_isolators::{IsolationConfig, RunAs};
use meso_testkit::agent_harness::*;
use meso_testkit::skip_unless_root;
use std::os::unix::fs::MetadataExt;

fn as_user(mut task: TaskInfo, user: &str) -> TaskInfo {
    task.command = Some(CommandInfo {
        user: Some(user.into()),
        ..task.command.clone().expect("a command task")
    });
    task
}

async fn stdout_of(h: &Harness, task: &str) -> String {
    h.wait_for_file(task, "done").await;
    std::fs::read_to_string(h.sandbox_of(task).join("stdout")).expect("stdout")
}

async fn runs_as_the_named_user(containerizer: Box<dyn Containerizer>) {
    let nobody = RunAs::lookup("nobody").expect("the nobody user exists");
    let mut h = Harness::start_with(containerizer).await;
    h.registered().await;
    let script = "id -u; id -g; touch done; sleep 300";

    // The command's user.
    h.run_task(as_user(command_task("t-cmd", script), "nobody"));
    h.expect_state(TaskState::Starting).await;
    h.expect_state(TaskState::Running).await;
    let out = stdout_of(&h, "t-cmd").await;
    assert!(
        out.contains(&format!("{}\n{}\n", nobody.uid, nobody.gid)),
        "the task's id -u/-g: {out:?}"
    );
    let sandbox = std::fs::metadata(h.sandbox_of("t-cmd")).expect("sandbox");
    assert_eq!(sandbox.uid(), nobody.uid, "the sandbox is the user's");

    // The framework's user when the command names none.
    let mut framework = framework();
    framework.user = "nobody".into();
    h.to_agent(RunTask {
        framework,
        pid: None,
        task: command_task("t-fw", script),
    });
    h.expect_state(TaskState::Starting).await;
    h.expect_state(TaskState::Running).await;
    let out = stdout_of(&h, "t-fw").await;
    assert!(out.starts_with(&format!("{}\n", nobody.uid)), "{out:?}");

    // An unknown user fails the task, naming the user.
    h.run_task(as_user(
        command_task("t-unknown", script),
        "no-such-user-meso",
    ));
    let failed = h.until_terminal().await;
    assert_eq!(failed.status.state, TaskState::Failed);
    let message = failed.status.message.unwrap_or_default();
    assert!(message.contains("no-such-user-meso"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_posix_containerizer_runs_tasks_as_their_users() {
    skip_unless_root!("switching users needs root");
    runs_as_the_named_user(Box::new(PosixContainerizer::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_isolating_launcher_runs_tasks_as_their_users() {
    skip_unless_root!("switching users needs root");
    let containerizer = IsolatingContainerizer::new(&IsolationConfig::default())
        .expect("the posix isolators need no privileges");
    runs_as_the_named_user(Box::new(containerizer)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_switch_user_the_task_runs_as_the_agent() {
    let mut h = Harness::start_configured(Box::new(PosixContainerizer::new()), |c| {
        c.switch_user = false
    })
    .await;
    h.registered().await;
    h.run_task(as_user(
        command_task("t", "id -u; touch done; sleep 300"),
        "no-such-user-meso",
    ));
    h.expect_state(TaskState::Starting).await;
    h.expect_state(TaskState::Running).await;
    let out = stdout_of(&h, "t").await;
    let own = nix::unistd::geteuid().as_raw();
    assert!(out.starts_with(&format!("{own}\n")), "{out:?}");
}
