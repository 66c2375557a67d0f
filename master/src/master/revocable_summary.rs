//! The cluster's revocable (oversubscribed) resources at a glance (issue 23, a meso
//! extension shown as `revocable` in `/master/state` and `/master/overview`, and so in the
//! web UI): the revocable cpus and mem the agents' resource estimators report in all, what
//! active tasks use of them, and how many of the tasks the master remembers the agents' QoS
//! controllers evicted (TASK_KILLED with REASON_CONTAINER_PREEMPTED).
//!
//! Pure: sums over the books it is handed, in fixed point ([`RevocableTally`], in
//! `revocable_tally`: exact, so the task book keeps the active tasks' part up to date by
//! adding and subtracting each task's, and `/master/state` need not walk every task). `/metrics/snapshot` has the same totals as
//! `master/{cpus,mem}_revocable_{total,used}` and every eviction since the master started
//! as `master/task_killed/source_slave/reason_container_preempted` (the remembered tasks
//! here are bounded by `--max-completed-tasks-per-framework`).

use meso_api::Resources;
use serde::Serialize;

use super::revocable_tally::evicted_by;
pub use super::revocable_tally::RevocableTally;
use super::tasks::Task;

/// Revocable cpus and mem (MB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RevocableScalars {
    /// Revocable CPUs.
    pub cpus: f64,
    /// Revocable memory in MB.
    pub mem: f64,
}

/// The `revocable` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RevocableSummary {
    /// What the agents report in all.
    pub total: RevocableScalars,
    /// What active tasks hold.
    pub used: RevocableScalars,
    /// Remembered tasks the QoS controllers evicted.
    pub evicted_tasks: u64,
}

/// Whether `task` ended by a QoS controller's eviction.
pub fn evicted(task: &Task) -> bool {
    evicted_by(task.state, task.status.as_ref())
}

/// What an active task adds to the summary (see [`RevocableTally::of_active`]).
pub fn active_tally(task: &Task) -> RevocableTally {
    RevocableTally::of_active(task.state, task.status.as_ref(), &task.info.resources)
}

fn scalars(t: &RevocableTally) -> RevocableScalars {
    RevocableScalars {
        cpus: t.cpus.as_f64(),
        mem: t.mem.as_f64(),
    }
}

impl RevocableSummary {
    /// The summary of agents with totals `agent_totals`, `active` and `completed` tasks.
    pub fn of<'a>(
        agent_totals: impl IntoIterator<Item = &'a Resources>,
        active: impl IntoIterator<Item = &'a Task>,
        completed: impl IntoIterator<Item = &'a Task>,
    ) -> RevocableSummary {
        let mut used = RevocableTally::default();
        for t in active {
            used += active_tally(t);
        }
        let completed_evicted = completed.into_iter().filter(|t| evicted(t)).count() as u64;
        Self::with_tasks(agent_totals, used, completed_evicted)
    }

    /// The summary of agents with totals `agent_totals`, the active tasks' tally `used` and
    /// `completed_evicted` evictions among the completed tasks (what the task book keeps).
    pub fn with_tasks<'a>(
        agent_totals: impl IntoIterator<Item = &'a Resources>,
        used: RevocableTally,
        completed_evicted: u64,
    ) -> RevocableSummary {
        let mut total = RevocableTally::default();
        for r in agent_totals {
            total.add_resources(r);
        }
        RevocableSummary {
            total: scalars(&total),
            used: scalars(&used),
            evicted_tasks: used.evicted + completed_evicted,
        }
    }

    /// The summary of agents with totals `agent_totals` and the tasks of `tasks`, from the
    /// sums the book keeps.
    pub fn of_books<'a>(
        agent_totals: impl IntoIterator<Item = &'a Resources>,
        tasks: &super::tasks::TaskBook,
    ) -> RevocableSummary {
        let (used, completed_evicted) = tasks.revocable();
        Self::with_tasks(agent_totals, used, completed_evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, FrameworkId, TaskInfo, TaskState, TaskStatus, TaskStatusReason};

    fn task(resources: &str, state: TaskState, reason: Option<TaskStatusReason>) -> Task {
        let mut info = TaskInfo::command("t", AgentId::new("a"), "true");
        info.resources = Resources::parse(resources, "*").unwrap();
        let mut status = TaskStatus::new(info.task_id.clone(), state);
        status.reason = reason;
        Task {
            info,
            framework_id: FrameworkId::new("f"),
            agent_id: AgentId::new("a"),
            state,
            status: Some(status),
            consumed: Resources::new(),
            role: "*".into(),
            recovered: false,
        }
    }

    fn revocable(text: &str) -> Resources {
        Resources::parse(text, "*")
            .unwrap()
            .iter()
            .cloned()
            .map(meso_api::resources::Resource::into_revocable)
            .collect()
    }

    #[test]
    fn sums_only_revocable_cpus_and_mem_and_counts_only_evictions() {
        let agents = [
            Resources::parse("cpus:4;mem:1024", "*").unwrap() + &revocable("cpus:1.5;mem:256"),
            revocable("cpus:0.5"),
        ];
        let mut running = task("cpus:1", TaskState::Running, None);
        running.info.resources = revocable("cpus:0.5;mem:32");
        let plain = task("cpus:2;mem:64", TaskState::Running, None);
        let done = [
            task(
                "cpus:1",
                TaskState::Killed,
                Some(TaskStatusReason::ContainerPreempted),
            ),
            task("cpus:1", TaskState::Killed, None),
            task(
                "cpus:1",
                TaskState::Failed,
                Some(TaskStatusReason::ContainerPreempted),
            ),
        ];
        let s = RevocableSummary::of(agents.iter(), [&running, &plain], done.iter());
        assert_eq!(
            s.total,
            RevocableScalars {
                cpus: 2.0,
                mem: 256.0
            }
        );
        assert_eq!(
            s.used,
            RevocableScalars {
                cpus: 0.5,
                mem: 32.0
            }
        );
        assert_eq!(s.evicted_tasks, 1);
    }

    #[test]
    fn an_evicted_task_awaiting_its_acknowledgement_counts_as_evicted_and_holds_nothing() {
        let agents = [revocable("cpus:1")];
        let mut unacknowledged = task(
            "cpus:1",
            TaskState::Killed,
            Some(TaskStatusReason::ContainerPreempted),
        );
        unacknowledged.info.resources = revocable("cpus:0.5");
        let s = RevocableSummary::of(agents.iter(), [&unacknowledged], []);
        assert_eq!(s.evicted_tasks, 1);
        assert_eq!(s.used, RevocableScalars::default());
    }
}
