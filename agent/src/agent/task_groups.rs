//! Task groups (`RunTaskGroup` from the master, `LAUNCH_GROUP` to the executor): every task
//! of a group goes to the group's executor at once.
//!
//! A group whose executor is of type DEFAULT runs under meso's default executor
//! (`meso executor default`, `crate::default_executor`), which the agent names as the
//! executor's command; any other group runs under the executor the framework names, which
//! must have a `command` (a custom executor speaking the v1 API); a group whose executor
//! has no command gets TASK_FAILED for each task, saying so. The master sends `RunTaskGroup`
//! for a valid LAUNCH_GROUP offer operation.
//!
//! Queued group tasks live in the executor's `queued` list like single tasks (so kills,
//! executor exits and re-registration treat them alike) and `queued_groups` remembers which
//! of them were sent together: on SUBSCRIBE each group goes as one LAUNCH_GROUP event.
//! Invariant: every id in `queued_groups` names a task in `queued` (ids of tasks killed while
//! queued are dropped from their group).

use libprocess::Context;
use meso_api::v1::executor::{Event, EventType, LaunchGroup};
use meso_api::v1::{
    CommandInfo, ExecutorId, ExecutorInfo, ExecutorType, FrameworkId, TaskGroupInfo, TaskId,
    TaskInfo, TaskState, TaskStatusReason,
};
use meso_api::wire::{RunTask, RunTaskGroup};
use slog::warn;

use super::books::{Executor, ExecutorState, Task};
use super::updates::OwnUpdate;
use super::{Agent, Registration};

impl Executor {
    /// Sends the tasks as one LAUNCH_GROUP event and records them as launched.
    pub(crate) fn launch_group(&mut self, tasks: Vec<TaskInfo>) {
        let mut event = Event::new(EventType::LaunchGroup);
        event.launch_group = Some(LaunchGroup {
            task_group: TaskGroupInfo {
                tasks: tasks.clone(),
            },
        });
        self.send_event(&event);
        for task in tasks {
            self.tasks.insert(
                task.task_id.clone(),
                Task {
                    info: task,
                    state: TaskState::Staging,
                    kill_requested: false,
                },
            );
        }
    }

    /// Takes the queued tasks that form groups out of `queued`, group by group (tasks
    /// killed meanwhile are gone from their group).
    pub(crate) fn take_queued_groups(&mut self) -> Vec<Vec<TaskInfo>> {
        let groups = std::mem::take(&mut self.queued_groups);
        let mut out = Vec::new();
        for ids in groups {
            let mut group = Vec::new();
            for id in ids {
                if let Some(pos) = self.queued.iter().position(|t| t.task_id == id) {
                    group.push(self.queued.remove(pos));
                }
            }
            if !group.is_empty() {
                out.push(group);
            }
        }
        out
    }
}

impl Agent {
    pub(super) fn run_task_group(&mut self, ctx: &mut Context<Self>, run: RunTaskGroup) {
        let RunTaskGroup {
            framework,
            mut executor,
            task_group,
        } = run;
        let Some(framework_id) = framework.id.clone() else {
            warn!(self.log, "RunTaskGroup without a framework id dropped");
            return;
        };
        if self.registration != Registration::Registered {
            warn!(self.log, "RunTaskGroup while not registered dropped");
            return;
        }
        let tasks = task_group.tasks;
        let executor_id = executor.executor_id.clone();
        if executor.kind == Some(ExecutorType::Default) {
            let binary = self.config.command_executor.display().to_string();
            executor.command = Some(default_executor_command(&binary));
        }
        if let Err((state, why, reason)) = group_refusal(&tasks, &executor) {
            return self.fail_tasks(
                ctx,
                GroupFailure {
                    framework_id: &framework_id,
                    executor_id: &executor_id,
                    tasks: &tasks,
                    state,
                    why,
                    reason,
                },
            );
        }
        if tasks.is_empty() {
            warn!(self.log, "empty task group dropped");
            return;
        }
        if self.drain.is_some() {
            for task in &tasks {
                self.refuse_while_draining(ctx, &framework, &task.task_id);
            }
            return;
        }
        executor.framework_id = Some(framework_id.clone());
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.task_id.clone()).collect();
        let existing = self
            .frameworks
            .get(&framework_id)
            .and_then(|fw| fw.executors.get(&executor_id))
            .map(|e| e.state);
        if matches!(
            existing,
            Some(ExecutorState::Running | ExecutorState::Registering)
        ) {
            if let Err(why) = self.join_group_volumes(&framework_id, &executor_id, &tasks) {
                return self.fail_tasks(
                    ctx,
                    GroupFailure {
                        framework_id: &framework_id,
                        executor_id: &executor_id,
                        tasks: &tasks,
                        state: TaskState::Failed,
                        why,
                        reason: TaskStatusReason::ContainerLaunchFailed,
                    },
                );
            }
        }
        match existing {
            Some(ExecutorState::Running) => {
                if let Some(fw) = self.frameworks.get_mut(&framework_id) {
                    fw.info = framework;
                }
                self.checkpoint_tasks(&framework_id, &executor_id, &tasks);
                self.executor_mut(&framework_id, &executor_id)
                    .launch_group(tasks);
            }
            Some(ExecutorState::Registering) => {
                self.checkpoint_tasks(&framework_id, &executor_id, &tasks);
                let ex = self.executor_mut(&framework_id, &executor_id);
                ex.queued.extend(tasks);
                ex.queued_groups.push(ids);
            }
            Some(ExecutorState::Terminating) => self.fail_tasks(
                ctx,
                GroupFailure {
                    framework_id: &framework_id,
                    executor_id: &executor_id,
                    tasks: &tasks,
                    state: TaskState::Lost,
                    why: "the executor is terminating".into(),
                    reason: TaskStatusReason::ExecutorTerminated,
                },
            ),
            None => self.launch_group_executor(ctx, framework, executor, tasks),
        }
    }

    /// Starts the group's executor through the single-task path with the first task, then
    /// queues the rest with it as one group.
    fn launch_group_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework: meso_api::v1::FrameworkInfo,
        executor: ExecutorInfo,
        tasks: Vec<TaskInfo>,
    ) {
        let framework_id = framework
            .id
            .clone()
            .expect("invariant: checked by the caller");
        let executor_id = executor.executor_id.clone();
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.task_id.clone()).collect();
        let mut rest = tasks;
        let first = rest.remove(0);
        let mut carrier = first.clone();
        carrier.command = None;
        // The container holds the whole group: its limits and its volumes (which a
        // container with its own root can only get at launch) are every task's.
        carrier.resources = rest
            .iter()
            .fold(first.resources.clone(), |sum, t| sum + &t.resources);
        carrier.executor = Some(executor);
        self.run_task(
            ctx,
            RunTask {
                framework,
                pid: None,
                task: carrier,
            },
        );
        let launched = self
            .frameworks
            .get(&framework_id)
            .is_some_and(|fw| fw.executors.contains_key(&executor_id));
        if !launched {
            // The launch failed (its first task got the failure already).
            return self.fail_tasks(
                ctx,
                GroupFailure {
                    framework_id: &framework_id,
                    executor_id: &executor_id,
                    tasks: &rest,
                    state: TaskState::Failed,
                    why: "the group's executor could not be launched".into(),
                    reason: TaskStatusReason::ContainerLaunchFailed,
                },
            );
        }
        // The executor gets (and the checkpoint holds) the task as the framework sent it.
        let mut group = vec![first.clone()];
        group.extend(rest.iter().cloned());
        self.checkpoint_tasks(&framework_id, &executor_id, &group);
        let ex = self.executor_mut(&framework_id, &executor_id);
        if let Some(queued) = ex.queued.iter_mut().find(|t| t.task_id == first.task_id) {
            *queued = first;
        }
        ex.queued.extend(rest);
        ex.queued_groups.push(ids);
    }

    /// Gives every task of a group joining a live executor its volumes (see
    /// `Agent::join_volumes`); the first refusal refuses the group.
    fn join_group_volumes(
        &self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        tasks: &[TaskInfo],
    ) -> Result<(), String> {
        let ex = self
            .frameworks
            .get(framework_id)
            .and_then(|fw| fw.executors.get(executor_id))
            .expect("invariant: the caller found the executor");
        for task in tasks {
            self.join_volumes(&ex.info, task, &ex.directory)?;
        }
        Ok(())
    }

    fn executor_mut(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> &mut Executor {
        self.frameworks
            .get_mut(framework_id)
            .and_then(|fw| fw.executors.get_mut(executor_id))
            .expect("invariant: the caller found the executor")
    }

    /// Every task of a group gets the same agent-made update.
    fn fail_tasks(&mut self, ctx: &mut Context<Self>, failure: GroupFailure<'_>) {
        let GroupFailure {
            framework_id,
            executor_id,
            tasks,
            state,
            why,
            reason,
        } = failure;
        for t in tasks {
            self.agent_update(
                ctx,
                OwnUpdate {
                    framework_id,
                    executor_id: Some(executor_id),
                    task_id: &t.task_id,
                    state,
                    message: why.clone(),
                    reason,
                },
            );
        }
    }
}

/// The same agent-made update for every task of a group (see `Agent::fail_tasks`).
struct GroupFailure<'a> {
    framework_id: &'a FrameworkId,
    executor_id: &'a ExecutorId,
    tasks: &'a [TaskInfo],
    state: TaskState,
    why: String,
    reason: TaskStatusReason,
}

/// The command that starts the built-in default executor from the agent's executor binary.
fn default_executor_command(binary: &str) -> CommandInfo {
    CommandInfo::exec(binary, &[binary, "executor", "default"])
}

/// Why a task group cannot run at all: an invalid task, or an executor without a command.
fn group_refusal(
    tasks: &[TaskInfo],
    executor: &ExecutorInfo,
) -> Result<(), (TaskState, String, TaskStatusReason)> {
    if let Some(e) = tasks.iter().find_map(|t| t.validate().err()) {
        return Err((
            TaskState::Error,
            format!("invalid task group: {e}"),
            TaskStatusReason::TaskGroupInvalid,
        ));
    }
    if executor.command.is_none() {
        return Err((
            TaskState::Failed,
            "task groups need an executor with a command, or of type DEFAULT".into(),
            TaskStatusReason::ContainerLaunchFailed,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(command: bool) -> ExecutorInfo {
        let mut json = serde_json::json!({"executor_id": {"value": "ex"}});
        if command {
            json["command"] = serde_json::json!({"value": "run"});
        }
        serde_json::from_value(json).unwrap()
    }

    fn task(id: &str) -> TaskInfo {
        serde_json::from_value(serde_json::json!({
            "name": "t", "task_id": {"value": id}, "agent_id": {"value": "a"},
            "command": {"value": "true"}
        }))
        .unwrap()
    }

    #[test]
    fn a_group_needs_valid_tasks_and_an_executor_command() {
        assert!(group_refusal(&[task("a")], &executor(true)).is_ok());
        let (state, why, _) = group_refusal(&[task("a")], &executor(false)).unwrap_err();
        assert_eq!(state, TaskState::Failed);
        assert!(why.contains("command"), "{why}");
        let (state, _, reason) = group_refusal(&[task("a/b")], &executor(true)).unwrap_err();
        assert_eq!(state, TaskState::Error);
        assert_eq!(reason, TaskStatusReason::TaskGroupInvalid);
    }
}
