//! The command executor's side of a task's checks: starting the health check and the
//! general check (the `meso-checks` runners, one small thread each, feeding the executor's
//! input channel) and shaping their status updates as Mesos's command executor does.
//!
//! A health result is a copy of the last update (state, `check_status`, ...) with `healthy`
//! set and the reason `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`; a general check result is a
//! copy with the new `check_status` and the reason `REASON_TASK_CHECK_STATUS_UPDATED`. State
//! changes carry the empty `check_status` of the task's check kind (Mesos sets it on every
//! update of a task with a check). A COMMAND check runs in the task's sandbox with the
//! task's environment, on the host even when the task has its own root filesystem.

use std::path::Path;
use std::sync::mpsc;

use meso_api::v1::{CheckStatusInfo, CheckType, TaskInfo, TaskStatus, TaskStatusReason};
use meso_checks::probe::Context;
use meso_checks::runner;

use super::Input;

/// Starts the task's health check and general check, if it has them; each result arrives
/// as an [`Input`]. Returns why a check could not start, one line each (the task runs on).
pub(super) fn start(
    task: &TaskInfo,
    sandbox: Option<&Path>,
    tx: &mpsc::Sender<Input>,
) -> Vec<String> {
    let context = Context {
        cwd: sandbox.map(Path::to_path_buf),
        env: task
            .command
            .as_ref()
            .and_then(|c| c.environment.as_ref())
            .map(|e| {
                e.variables
                    .iter()
                    .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut problems = Vec::new();
    if let Some(check) = &task.health_check {
        let tx = tx.clone();
        let started = runner::spawn_health(check, context.clone(), move |verdict, outcome| {
            tx.send(Input::Health(verdict, outcome.describe())).is_ok()
        });
        if let Err(e) = started {
            problems.push(e);
        }
    }
    if let Some(check) = &task.check {
        let tx = tx.clone();
        let started = runner::spawn_check(check, context, move |status| {
            tx.send(Input::Check(status)).is_ok()
        });
        if let Err(e) = started {
            problems.push(e);
        }
    }
    problems
}

/// The empty `check_status` every state update of `task` carries, when it has a check.
pub(super) fn empty_check_status(task: Option<&TaskInfo>) -> Option<Box<CheckStatusInfo>> {
    let kind = task?.check.as_ref()?.kind?;
    (kind != CheckType::Unknown).then(|| Box::new(CheckStatusInfo::empty(kind)))
}

/// The health update: `last` with `healthy` and the health reason (uuid and time are set
/// when it is sent).
pub(super) fn health_update(last: &TaskStatus, healthy: bool) -> TaskStatus {
    let mut status = last.clone();
    status.healthy = Some(healthy);
    status.reason = Some(TaskStatusReason::TaskHealthCheckStatusUpdated);
    status.message = None;
    status
}

/// The general check update: `last` with the new result and the check reason.
pub(super) fn check_update(last: &TaskStatus, result: CheckStatusInfo) -> TaskStatus {
    let mut status = last.clone();
    status.check_status = Some(Box::new(result));
    status.reason = Some(TaskStatusReason::TaskCheckStatusUpdated);
    status.message = None;
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, CheckInfo, CheckTcp, TaskId, TaskState};

    #[test]
    fn updates_keep_the_last_status_and_set_their_part() {
        let mut last = TaskStatus::new(TaskId::new("t"), TaskState::Running);
        last.check_status = Some(Box::new(CheckStatusInfo::empty(CheckType::Tcp)));
        last.message = Some("started".into());
        let health = health_update(&last, false);
        assert_eq!(health.healthy, Some(false));
        assert_eq!(health.state, TaskState::Running);
        assert_eq!(health.check_status, last.check_status);
        assert_eq!(
            health.reason,
            Some(TaskStatusReason::TaskHealthCheckStatusUpdated)
        );
        let mut result = CheckStatusInfo::empty(CheckType::Tcp);
        result.tcp.as_mut().unwrap().succeeded = Some(true);
        let check = check_update(&health, result.clone());
        assert_eq!(check.healthy, Some(false));
        assert_eq!(check.check_status, Some(Box::new(result)));
        assert_eq!(check.reason, Some(TaskStatusReason::TaskCheckStatusUpdated));
    }

    #[test]
    fn state_updates_carry_an_empty_check_status_only_with_a_check() {
        let mut task = TaskInfo::command("t", AgentId::new("a"), "true");
        assert_eq!(empty_check_status(Some(&task)), None);
        task.check = Some(CheckInfo {
            kind: Some(CheckType::Tcp),
            command: None,
            http: None,
            tcp: Some(CheckTcp { port: 1 }),
            delay_seconds: 0.0,
            interval_seconds: 1.0,
            timeout_seconds: 1.0,
        });
        assert_eq!(
            empty_check_status(Some(&task)),
            Some(Box::new(CheckStatusInfo::empty(CheckType::Tcp)))
        );
    }
}
