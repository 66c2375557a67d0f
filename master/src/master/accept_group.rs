//! LAUNCH_GROUP in an ACCEPT: the group is checked as a whole
//! (`task_group_validation.rs`); an invalid group gets TASK_ERROR with
//! REASON_TASK_GROUP_INVALID for every task in it; a valid one is tracked in the task book
//! task by task (each task's `info.executor` is the group's executor, so later launches see
//! the executor as running, and the first task carries the executor's resources when it was
//! new) and sent to the agent as one `RunTaskGroup` (Mesos's `RunTaskGroupMessage`).
//!
//! Invariant: what the group consumes is taken out of `available` before anything is sent,
//! so the rest of the accept is checked against what is truly left.

use std::collections::BTreeSet;

use libprocess::{Context, Upid};
use meso_api::v1::{
    ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskGroupInfo, TaskId, TaskInfo,
    TaskState, TaskStatusReason,
};
use meso_api::{wire, Resources};

use super::task_group_validation::validate_task_group;
use super::tasks::Task;
use super::validation::{allocate_unset, ValidOffers};
use super::Master;

/// One launch of an ACCEPT, in the order of its operations.
#[derive(Debug)]
pub(super) enum LaunchItem {
    /// A task of a LAUNCH.
    Task(Box<TaskInfo>),
    /// A LAUNCH_GROUP: its executor and tasks.
    Group(Box<(ExecutorInfo, TaskGroupInfo)>),
}

impl LaunchItem {
    /// The tasks this item launches.
    pub(super) fn tasks(&self) -> Vec<&TaskInfo> {
        match self {
            LaunchItem::Task(task) => vec![&**task],
            LaunchItem::Group(group) => group.1.tasks.iter().collect(),
        }
    }
}

/// The state of the accept a group is launched in.
pub(super) struct GroupLaunch<'a> {
    /// The accept's offers.
    pub offers: &'a ValidOffers,
    /// What is left of them.
    pub available: &'a mut Resources,
    /// Task ids launched earlier in the accept.
    pub launched: &'a mut BTreeSet<TaskId>,
    /// Executors of the framework running on the agent or launched earlier in the accept.
    pub executors: &'a mut BTreeSet<ExecutorId>,
    /// The agent.
    pub agent_pid: &'a Upid,
    /// The framework, as sent to the agent.
    pub framework_info: &'a FrameworkInfo,
}

impl Master {
    /// Validates and launches one task group (see the module docs).
    pub(super) fn launch_group(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        round: &mut GroupLaunch<'_>,
        mut executor: ExecutorInfo,
        mut group: TaskGroupInfo,
    ) {
        if let Some(why) = self.refuse_group(round.framework_info, &executor, &group) {
            for task in &group.tasks {
                let reason = TaskStatusReason::TaskGroupUnauthorized;
                self.launch_failure(ctx, framework, task, TaskState::Error, reason, why.clone());
            }
            return;
        }
        let checked = validate_task_group(
            framework,
            &executor,
            &group,
            round.offers,
            round.available,
            |id| round.launched.contains(id) || self.tasks.contains(framework, id),
            round.executors.contains(&executor.executor_id),
        );
        let consumed = match checked {
            Ok(consumed) => consumed,
            Err(e) => {
                for task in &group.tasks {
                    self.launch_failure(
                        ctx,
                        framework,
                        task,
                        TaskState::Error,
                        TaskStatusReason::TaskGroupInvalid,
                        e.to_string(),
                    );
                }
                return;
            }
        };
        executor.framework_id = Some(framework.clone());
        executor.resources = allocate_unset(&executor.resources, &round.offers.role);
        for (task, consumed) in group.tasks.iter_mut().zip(consumed) {
            task.resources = allocate_unset(&task.resources, &round.offers.role);
            *round.available = round
                .available
                .checked_sub(&consumed)
                .expect("validate_task_group checked the group fits in what is available");
            round.launched.insert(task.task_id.clone());
            let mut info = task.clone();
            info.executor = Some(executor.clone());
            self.tasks.add(Task {
                info,
                framework_id: framework.clone(),
                agent_id: round.offers.agent.clone(),
                state: TaskState::Staging,
                status: None,
                consumed,
                role: round.offers.role.clone(),
                recovered: false,
            });
            self.on_task_added(framework, &task.task_id);
        }
        round.executors.insert(executor.executor_id.clone());
        self.send_to_agent(
            ctx,
            round.agent_pid,
            wire::RunTaskGroup {
                framework: round.framework_info.clone(),
                executor,
                task_group: group,
            },
        );
    }
}
