//! End-to-end over the v1 scheduler HTTP API with no meso code on the client: real
//! `meso master` and `meso agent` processes, and `tests/http_clients/scheduler.py` (Python
//! standard library only) SUBSCRIBEs, reads the RecordIO stream, ACCEPTs with LAUNCH,
//! ACKNOWLEDGEs every UPDATE with a uuid and exits 0 once its tasks reach TASK_FINISHED.
//! The second test runs the tasks under the custom executor `tests/http_clients/executor.py`
//! (ExecutorInfo.command), which speaks the agent's v1 executor API.
//! The third sends the executor bytes in a framework MESSAGE; `executor.py --echo-messages`
//! sends them back, and the scheduler checks it got exactly what it sent.
//!
//! Without python3 the tests fail with a message saying so (they never pass silently);
//! CI installs python3. Timeouts here are hang guards only.

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::http::blocking::try_get;
use meso_testkit::python_clients::executor_py_command;

#[test]
fn a_python_scheduler_runs_command_tasks_to_finished_over_raw_http() {
    let cluster = Cluster::start();
    let (code, out) = cluster.run_scheduler(&["--tasks", "2", "--command", "echo hi"]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    assert!(out.contains("TASK_FINISHED"), "{out}");
    // The framework tore itself down and the master forgot its tasks.
    let state = try_get(cluster.master_port, "/master/state")
        .map(|r| r.text())
        .expect("state");
    let doc: serde_json::Value = serde_json::from_str(&state).expect("state is JSON");
    let active = doc["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .map(|f| f["tasks"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert_eq!(active, 0, "{state}");
}

#[test]
fn a_python_scheduler_runs_tasks_under_a_python_custom_executor() {
    let cluster = Cluster::start();
    let executor = executor_py_command();
    let (code, out) = cluster.run_scheduler(&["--tasks", "2", "--executor-command", &executor]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    assert!(out.contains("TASK_FINISHED"), "{out}");
    // executor.py itself ran (not the built-in command executor): its log lines are in a
    // sandbox's stderr.
    let mut found = false;
    let mut dirs = vec![cluster.agent_work_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "stderr") {
                found |= std::fs::read_to_string(&path).is_ok_and(|t| t.contains("executor: "));
            }
        }
    }
    assert!(
        found,
        "no sandbox stderr holds executor.py's log\n{}",
        cluster.logs()
    );
}

#[test]
fn framework_messages_go_from_scheduler_to_executor_and_back_byte_for_byte() {
    let cluster = Cluster::start();
    // The executor keeps its task running (60 s) so that it is there for the message; the
    // scheduler kills the task once the message is back.
    let executor = format!(
        "HTTP_EXECUTOR_TASK_SECONDS=60 {} --echo-messages",
        executor_py_command()
    );
    // Every byte value, so that nothing is taken for text on the way.
    let sent: String = (0..=255u8).rev().map(|b| format!("{b:02x}")).collect();
    let (code, out) = cluster.run_scheduler(&[
        "--tasks",
        "1",
        "--executor-command",
        &executor,
        "--message-hex",
        &sent,
        "--want",
        "TASK_KILLED",
    ]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    let echoed = out
        .lines()
        .find_map(|l| l.strip_prefix("scheduler: message echoed: "))
        .unwrap_or_else(|| panic!("no echoed message in:\n{out}"));
    assert_eq!(
        echoed, sent,
        "the scheduler got back exactly the bytes it sent"
    );
}

#[test]
fn a_launch_group_runs_every_task_under_the_custom_executor() {
    let cluster = Cluster::start();
    let executor = executor_py_command();
    let (code, out) = cluster.run_scheduler(&[
        "--tasks",
        "3",
        "--task-group",
        "--executor-command",
        &executor,
    ]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    assert!(out.contains("launched a group of 3 task(s)"), "{out}");
    for i in 0..3 {
        for state in ["TASK_RUNNING", "TASK_FINISHED"] {
            assert!(
                out.contains(&format!("update raw-http-task-{i} {state}")),
                "task {i} never reported {state}:\n{out}"
            );
        }
    }
}

#[test]
fn an_invalid_launch_group_gets_task_error_for_every_task() {
    let cluster = Cluster::start();
    let executor = executor_py_command();
    // No ExecutorInfo.type: Mesos requires DEFAULT or CUSTOM for a task group's executor.
    let (code, out) = cluster.run_scheduler(&[
        "--tasks",
        "2",
        "--task-group",
        "--group-executor-type",
        "NONE",
        "--executor-command",
        &executor,
        "--want",
        "TASK_ERROR",
    ]);
    assert_eq!(code, Some(0), "scheduler.py:\n{out}\n{}", cluster.logs());
    for i in 0..2 {
        assert!(
            out.contains(&format!(
                "update raw-http-task-{i} TASK_ERROR (task group executor 'raw-http-executor' is invalid: 'type' must be set"
            )),
            "task {i} did not get TASK_ERROR with the reason:\n{out}"
        );
    }
}
