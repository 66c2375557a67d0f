//! The agent against a small test master: registration, pings, re-registration after the
//! master restarts, and tasks run by a real `meso-executor` process to each end state.

use std::time::Duration;

use libprocess::MessageMatch;
use meso_api::v1::{
    CommandInfo, ExecutorId, FrameworkId, TaskId, TaskState, TaskStatusReason, TaskStatusSource,
};
use meso_api::wire::{PingAgent, StatusUpdateMessage};
use meso_testkit::agent_harness::*;
use meso_testkit::eventually::eventually_async_within;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_its_resources_and_answers_pings() {
    let mut h = Harness::start().await;
    let register = h.registered().await;
    assert_eq!(register.agent.hostname, "localhost");
    assert_eq!(register.agent.resources.cpus().unwrap().to_string(), "2");
    h.to_agent(PingAgent { connected: true });
    h.until_pong().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reregisters_with_the_same_id_after_the_master_restarts() {
    let mut h = Harness::start_registered().await;
    let addr = h.master_node.addr();
    h.master_node.shutdown().await;
    // Same address, fresh master (it knows nothing; the agent must come back by itself).
    let (node, master) = start_master(&h.clock, addr, h.sender()).await;
    h.master_node = node;
    h.master = master;
    let rereg = loop {
        // Backoff timers run on the paused clock: move it on until the agent retries.
        h.clock.advance(Duration::from_secs(1));
        match tokio::time::timeout(Duration::from_millis(200), h.seen.recv()).await {
            Ok(Some(Seen::Reregister(r))) => break r,
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("master channel closed"),
        }
    };
    assert_eq!(rereg.agent.id.as_ref().unwrap().as_str(), AGENT_ID);
    // Re-registered: pings are answered again. (No `settle` here: it does not return once
    // a node sharing the clock shut down with frames to it in flight.)
    h.to_agent(PingAgent { connected: true });
    h.until_pong().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_task_runs_to_finished_in_its_sandbox() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("t1", "echo hello-from-task"));
    let starting = h.expect_state(TaskState::Starting).await;
    assert_eq!(starting.status.source, Some(TaskStatusSource::Executor));
    assert_eq!(starting.executor_id, Some(ExecutorId::new("t1")));
    h.expect_state(TaskState::Running).await;
    let finished = h.expect_state(TaskState::Finished).await;
    assert_eq!(finished.agent_id.unwrap().as_str(), AGENT_ID);
    // The sandbox follows Mesos's layout and holds the command's output.
    let run = h.sandbox_of("t1");
    let stdout = std::fs::read_to_string(run.join("stdout")).unwrap();
    assert!(stdout.contains("hello-from-task"), "{stdout}");
    assert!(run.join("stderr").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_command_reports_its_exit_status() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("t3", "exit 3"));
    h.expect_running().await;
    let failed = h.expect_state(TaskState::Failed).await;
    let message = failed.status.message.unwrap_or_default();
    assert!(message.contains("status 3"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_sends_sigterm_first_and_the_task_ends_killed() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task(
        "tk",
        "trap 'echo got-sigterm > marker; exit 0' TERM; touch ready; while true; do sleep 0.05; done",
    ));
    h.expect_running().await;
    // The shell must have set its trap before the signal comes.
    h.wait_for_file("tk", "ready").await;
    h.kill_task("tk", grace(30));
    h.expect_state(TaskState::Killed).await;
    let run = h.sandbox_of("tk");
    assert_eq!(
        std::fs::read_to_string(run.join("marker")).unwrap(),
        "got-sigterm\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_escalates_to_sigkill_after_the_grace_period() {
    let mut h = Harness::start_registered().await;
    let mut task = command_task(
        "ti",
        "trap '' TERM; touch ready; while true; do sleep 0.05; done",
    );
    task.kill_policy = grace(1);
    h.run_task(task);
    h.expect_running().await;
    h.wait_for_file("ti", "ready").await;
    h.kill_task("ti", None);
    let killed = h.expect_state(TaskState::Killed).await;
    let message = killed.status.message.unwrap_or_default();
    assert!(message.contains("SIGKILL"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_exit_without_terminal_update_fails_its_task() {
    let mut h = Harness::start_registered().await;
    // A custom executor that exits at once, never subscribing.
    h.run_task(executor_task(
        "tx",
        executor_info("quitter", CommandInfo::shell("exit 7")),
    ));
    let failed = h.expect_state(TaskState::Failed).await;
    assert_eq!(failed.status.source, Some(TaskStatusSource::Agent));
    assert_eq!(
        failed.status.reason,
        Some(TaskStatusReason::ExecutorTerminated)
    );
    let message = failed.status.message.unwrap_or_default();
    assert!(message.contains("status 7"), "{message}");
    let exited = h.executor_exited().await;
    assert_eq!(exited.executor_id, ExecutorId::new("quitter"));
}

/// The agent reports an executor's exit at once, even while that executor's terminal update
/// still waits behind an unacknowledged one, and the update follows once the master acks.
/// Under load this order happened by chance (the executor's updates are acknowledged by the
/// agent at once, so it may exit before the master has acked RUNNING); here it is forced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_exit_is_reported_while_its_terminal_update_waits_for_an_ack() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("early-exit", "true"));
    h.expect_state(TaskState::Starting).await;
    // RUNNING stays unacknowledged, so FINISHED stays at the agent while the executor ends.
    let running = h.next_update().await;
    assert_eq!(running.status.state, TaskState::Running);
    h.until_arrived(|seen| matches!(seen, Seen::ExecutorExited(_)))
        .await;
    h.ack(&running);
    let finished = h.until_terminal().await;
    assert_eq!(finished.status.state, TaskState::Finished);
    assert_eq!(finished.status.task_id, TaskId::new("early-exit"));
    // Reported before the update the wait above took, it is still there to be seen.
    let exited = h.executor_exited().await;
    assert_eq!(exited.executor_id, ExecutorId::new("early-exit"));
    assert_eq!(exited.status, 0, "the executor exited 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_update_is_retried_with_the_same_uuid_until_acked() {
    let mut h = Harness::start_registered().await;
    // The first copy of the first update is lost on the way to the master.
    let dropped = h
        .master_node
        .filters()
        .drop_next(MessageMatch::of::<StatusUpdateMessage>());
    h.run_task(command_task("tr", "sleep 1000"));
    let lost: StatusUpdateMessage = tokio::time::timeout(HANG_GUARD, dropped)
        .await
        .expect("hang guard")
        .expect("filter caught the update")
        .decode()
        .unwrap();
    assert_eq!(lost.update.status.state, TaskState::Starting);
    // Nothing more is sent before the retry interval: RUNNING waits behind STARTING.
    h.clock.settle().await;
    assert!(h.seen.try_recv().is_err(), "only the head may be in flight");
    h.clock.advance(Duration::from_secs(10));
    let first_retry = h.next_update().await;
    assert_eq!(first_retry.uuid, lost.update.uuid);
    // Not acked: the next retry comes 20 s later, not 10.
    h.clock.advance(Duration::from_secs(10));
    h.clock.settle().await;
    assert!(h.seen.try_recv().is_err(), "backoff doubles to 20 s");
    h.clock.advance(Duration::from_secs(10));
    let second_retry = h.next_update().await;
    assert_eq!(second_retry.uuid, lost.update.uuid);
    // A wrong ack changes nothing; the right one releases RUNNING.
    let mut wrong = second_retry.clone();
    wrong.uuid = Some(vec![0; 16]);
    h.ack(&wrong);
    h.ack(&second_retry);
    let running = h.next_update().await;
    assert_eq!(running.status.state, TaskState::Running);
    assert_eq!(running.status.task_id, TaskId::new("tr"));
    h.ack(&running);
    // Clean up: kill the sleeper.
    h.kill_task("tr", grace(1));
    h.expect_state(TaskState::Killed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_executor_killed_mid_task_fails_the_task_and_its_command_goes() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("tc", "echo $$ > cmdpid; exec sleep 1000"));
    h.expect_running().await;
    h.wait_for_file("tc", "cmdpid").await;
    let sandbox = h.sandbox_of("tc");
    let command: u32 =
        eventually_async_within("the command's pid in cmdpid", HANG_GUARD, || async {
            std::fs::read_to_string(sandbox.join("cmdpid"))
                .ok()
                .and_then(|t| t.trim().parse().ok())
        })
        .await;
    let executor = meso_agent::containerizer::descendants(std::process::id())
        .into_iter()
        .find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains("meso-executor"))
                .unwrap_or(false)
        })
        .expect("the executor runs under the test");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(executor as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the executor");
    let failed = h.expect_state(TaskState::Failed).await;
    assert_eq!(failed.status.source, Some(TaskStatusSource::Agent));
    assert_eq!(
        failed.status.reason,
        Some(TaskStatusReason::ExecutorTerminated)
    );
    let message = failed.status.message.unwrap_or_default();
    assert!(message.contains("signal 9"), "{message}");
    // The orphaned command was destroyed with the container.
    eventually_async_within(
        "the command to go with its executor (it survived)",
        HANG_GUARD,
        || async { matches!(process_state(command).as_deref(), None | Some("Z")) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_that_never_subscribes_is_destroyed_after_the_registration_timeout() {
    let mut h = Harness::start_registered().await;
    h.run_task(executor_task(
        "tw",
        executor_info(
            "silent",
            CommandInfo::shell("touch started; exec sleep 1000"),
        ),
    ));
    // Wait until the executor really runs, then let the 60 s timeout pass on the clock.
    let runs = h
        .work_dir
        .path()
        .join("slaves/M-S0/frameworks/M-0000/executors/silent/runs");
    eventually_async_within("the executor to start", HANG_GUARD, || async {
        std::fs::read_dir(&runs)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .is_some_and(|e| e.path().join("started").exists())
    })
    .await;
    // The executor can run before the agent's launch hook has set its registration timer
    // (under load it did, and the clock moved on before the timer existed): the executor
    // shows in `/state` only once that hook, timer included, is done.
    let agent = h.agent.addr();
    eventually_async_within(
        "the agent to list the executor",
        HANG_GUARD,
        || async move {
            tokio::task::spawn_blocking(move || meso_testkit::http::blocking::get(agent, "/state"))
                .await
                .expect("the /state request ran")
                .text()
                .contains("\"silent\"")
        },
    )
    .await;
    h.clock.advance(Duration::from_secs(61));
    let failed = h.expect_state(TaskState::Failed).await;
    assert_eq!(
        failed.status.reason,
        Some(TaskStatusReason::ExecutorRegistrationTimeout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_shutdown_kills_its_running_task() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task("ts", "touch ready; exec sleep 1000"));
    h.expect_running().await;
    h.wait_for_file("ts", "ready").await;
    h.to_agent(meso_api::wire::ShutdownFramework {
        framework_id: FrameworkId::new("M-0000"),
    });
    h.expect_state(TaskState::Killed).await;
}
