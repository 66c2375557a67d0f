//! Task groups (`RunTaskGroup` from the master, `LAUNCH_GROUP` to the executor): every task
//! of a group goes to the group's executor at once.
//!
//! meso has no built-in default executor yet, so a group runs under the executor the
//! framework names, which must have a `command` (a custom executor speaking the v1 API, e.g.
//! one that handles LAUNCH_GROUP as Mesos's default executor does); a group whose executor
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
use meso_api::v1::{TaskGroupInfo, TaskId, TaskInfo, TaskState, TaskStatusReason};
use meso_api::wire::{RunTask, RunTaskGroup};
use slog::warn;

use super::tasks::{Executor, ExecutorState, Task};
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
        let fail_all = |agent: &mut Agent,
                        ctx: &mut Context<Self>,
                        tasks: &[TaskInfo],
                        state,
                        why: String,
                        reason| {
            for t in tasks {
                agent.agent_update(
                    ctx,
                    OwnUpdate {
                        framework_id: &framework_id,
                        executor_id: Some(&executor.executor_id),
                        task_id: &t.task_id,
                        state,
                        message: why.clone(),
                        reason,
                    },
                );
            }
        };
        if let Some(e) = tasks.iter().find_map(|t| t.validate().err()) {
            return fail_all(
                self,
                ctx,
                &tasks,
                TaskState::Error,
                format!("invalid task group: {e}"),
                TaskStatusReason::TaskGroupInvalid,
            );
        }
        if tasks.is_empty() {
            warn!(self.log, "empty task group dropped");
            return;
        }
        if executor.command.is_none() {
            return fail_all(
                self,
                ctx,
                &tasks,
                TaskState::Failed,
                "task groups need an executor with a command: meso has no default executor yet"
                    .into(),
                TaskStatusReason::ContainerLaunchFailed,
            );
        }
        executor.framework_id = Some(framework_id.clone());
        let executor_id = executor.executor_id.clone();
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.task_id.clone()).collect();
        let existing = self
            .frameworks
            .get_mut(&framework_id)
            .and_then(|fw| fw.executors.get_mut(&executor_id));
        match existing.map(|e| e.state) {
            Some(ExecutorState::Running) => {
                if let Some(fw) = self.frameworks.get_mut(&framework_id) {
                    fw.info = framework;
                }
                let ex = self
                    .frameworks
                    .get_mut(&framework_id)
                    .and_then(|fw| fw.executors.get_mut(&executor_id))
                    .expect("invariant: found just above");
                ex.launch_group(tasks);
            }
            Some(ExecutorState::Registering) => {
                let ex = self
                    .frameworks
                    .get_mut(&framework_id)
                    .and_then(|fw| fw.executors.get_mut(&executor_id))
                    .expect("invariant: found just above");
                ex.queued.extend(tasks);
                ex.queued_groups.push(ids);
            }
            Some(ExecutorState::Terminating) => fail_all(
                self,
                ctx,
                &tasks,
                TaskState::Lost,
                "the executor is terminating".into(),
                TaskStatusReason::ExecutorTerminated,
            ),
            None => {
                // Start the executor through the single-task path with the first task, then
                // queue the rest with it as one group.
                let mut rest = tasks;
                let first = rest.remove(0);
                let mut carrier = first.clone();
                carrier.command = None;
                carrier.executor = Some(executor.clone());
                self.run_task(
                    ctx,
                    RunTask {
                        framework,
                        pid: None,
                        task: carrier,
                    },
                );
                match self
                    .frameworks
                    .get_mut(&framework_id)
                    .and_then(|fw| fw.executors.get_mut(&executor_id))
                {
                    Some(ex) => {
                        // The executor gets the task as the framework sent it.
                        if let Some(queued) =
                            ex.queued.iter_mut().find(|t| t.task_id == first.task_id)
                        {
                            *queued = first;
                        }
                        ex.queued.extend(rest);
                        ex.queued_groups.push(ids);
                    }
                    // The launch failed (its first task got the failure already).
                    None => fail_all(
                        self,
                        ctx,
                        &rest,
                        TaskState::Failed,
                        "the group's executor could not be launched".into(),
                        TaskStatusReason::ContainerLaunchFailed,
                    ),
                }
            }
        }
    }
}
