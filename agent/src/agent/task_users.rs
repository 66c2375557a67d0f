//! Which OS user a container runs as (`--switch-user`, on by default as Mesos's
//! `--switch_user`): the task's `CommandInfo.user`, else its executor's, else
//! `FrameworkInfo.user`. With the flag off, or no user named, the container runs as the
//! agent's own user.
//!
//! Invariants: a named user is never silently dropped: one that does not exist, or that a
//! non-root agent cannot become, fails the launch with a message naming the user; a
//! container image together with a user switch is refused (the built-in executor enters
//! the image itself, which needs root).

use meso_api::v1::{ExecutorInfo, FrameworkInfo, TaskInfo};
use meso_isolators::RunAs;

/// The user named for `task`: its command's, its executor's, else the framework's
/// (`None` when all are empty).
pub fn named_user<'a>(
    framework: &'a FrameworkInfo,
    executor: &'a ExecutorInfo,
    task: &'a TaskInfo,
) -> Option<&'a str> {
    let of = |c: Option<&'a meso_api::v1::CommandInfo>| c.and_then(|c| c.user.as_deref());
    of(task.command.as_ref())
        .or_else(|| of(executor.command.as_ref()))
        .or(Some(framework.user.as_str()))
        .filter(|u| !u.is_empty())
}

/// The user to switch to, `None` to run as the agent's own user, or why the task cannot
/// run. `agent_uid` is the agent's effective uid.
pub fn resolve(
    switch_user: bool,
    user: Option<&str>,
    agent_uid: u32,
    has_image: bool,
) -> Result<Option<RunAs>, String> {
    let Some(name) = user.filter(|_| switch_user) else {
        return Ok(None);
    };
    let run_as = RunAs::lookup(name).map_err(|e| e.to_string())?;
    if run_as.uid == agent_uid {
        return Ok(None);
    }
    if agent_uid != 0 {
        return Err(format!(
            "the agent runs as uid {agent_uid} and cannot switch to user '{name}' \
             (run it as root, or start it with --switch-user=false)"
        ));
    }
    if has_image {
        return Err(format!(
            "running a task with a container image as user '{name}' is not supported yet"
        ));
    }
    Ok(Some(run_as))
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, CommandInfo};

    #[test]
    fn the_task_user_wins_then_the_executors_then_the_frameworks() {
        let framework = FrameworkInfo::new("fw-user", "f");
        let mut task = TaskInfo::command("t", AgentId::new("a"), "true");
        let executor: ExecutorInfo =
            serde_json::from_value(serde_json::json!({"executor_id": {"value": "e"}}))
                .expect("an executor");
        assert_eq!(named_user(&framework, &executor, &task), Some("fw-user"));
        task.command = Some(CommandInfo {
            user: Some("task-user".into()),
            ..task.command.clone().expect("a command task")
        });
        assert_eq!(named_user(&framework, &executor, &task), Some("task-user"));
        let nobody = FrameworkInfo::new("", "f");
        let plain = TaskInfo::command("t", AgentId::new("a"), "true");
        assert_eq!(named_user(&nobody, &executor, &plain), None);
    }

    #[test]
    fn unknown_users_and_impossible_switches_are_refused_naming_the_user() {
        assert_eq!(
            resolve(false, Some("no-such-user-meso"), 0, false),
            Ok(None)
        );
        let e = resolve(true, Some("no-such-user-meso"), 0, false).unwrap_err();
        assert!(e.contains("'no-such-user-meso'"), "{e}");
        // Becoming oneself needs no switch.
        assert_eq!(resolve(true, Some("root"), 0, false), Ok(None));
        let e = resolve(true, Some("root"), 1000, false).unwrap_err();
        assert!(e.contains("cannot switch to user 'root'"), "{e}");
        assert_eq!(resolve(true, None, 0, false), Ok(None));
    }
}
