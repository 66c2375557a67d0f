//! The cluster's revocable (oversubscribed) resources at a glance (issue 23, a meso
//! extension shown as `revocable` in `/master/state` and `/master/overview`, and so in the
//! web UI): the revocable cpus and mem the agents' resource estimators report in all, what
//! active tasks use of them, and how many of the tasks the master remembers the agents' QoS
//! controllers evicted (TASK_KILLED with REASON_CONTAINER_PREEMPTED).
//!
//! Pure: sums over the books it is handed, in fixed point ([`RevocableTally`], exact, so
//! the task book can keep the active tasks' part up to date by adding and subtracting
//! each task's, and `/master/state` need not walk every task). `/metrics/snapshot` has the same totals as
//! `master/{cpus,mem}_revocable_{total,used}` and every eviction since the master started
//! as `master/task_killed/source_slave/reason_container_preempted` (the remembered tasks
//! here are bounded by `--max-completed-tasks-per-framework`).

use std::ops::{AddAssign, SubAssign};

use meso_api::resources::{Scalar, Value};
use meso_api::v1::{TaskState, TaskStatusReason};
use meso_api::Resources;
use serde::Serialize;

use super::tasks::Task;

/// Revocable cpus and mem (MB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RevocableScalars {
    /// Revocable CPUs.
    pub cpus: f64,
    /// Revocable memory in MB.
    pub mem: f64,
}

/// Revocable cpus and mem in fixed point, and a count of evicted tasks: what a set of
/// tasks (or agents) adds to the summary. Adding and subtracting one task's tally is exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevocableTally {
    /// Revocable CPUs.
    pub cpus: Scalar,
    /// Revocable memory in MB.
    pub mem: Scalar,
    /// Tasks evicted by a QoS controller.
    pub evicted: u64,
}

impl RevocableTally {
    /// Adds the revocable cpus and mem of `r`.
    fn add_resources(&mut self, r: &Resources) {
        for res in r.iter().filter(|res| res.revocable) {
            let Value::Scalar(x) = &res.value else {
                continue;
            };
            match &*res.name {
                "cpus" => self.cpus += *x,
                "mem" => self.mem += *x,
                _ => {}
            }
        }
    }

    /// What an active task adds: a task that ended and waits for its framework's
    /// acknowledgement is still active, but its resources are free again and, if evicted,
    /// it counts as evicted already (as the master's eviction metric does, from the same
    /// status update).
    pub fn of_active(task: &Task) -> RevocableTally {
        let mut out = RevocableTally::default();
        if task.state.is_terminal() {
            out.evicted = u64::from(evicted(task));
        } else {
            out.add_resources(&task.info.resources);
        }
        out
    }

    fn scalars(&self) -> RevocableScalars {
        RevocableScalars {
            cpus: self.cpus.as_f64(),
            mem: self.mem.as_f64(),
        }
    }
}

impl AddAssign for RevocableTally {
    fn add_assign(&mut self, that: RevocableTally) {
        self.cpus += that.cpus;
        self.mem += that.mem;
        self.evicted += that.evicted;
    }
}

impl SubAssign for RevocableTally {
    fn sub_assign(&mut self, that: RevocableTally) {
        self.cpus -= that.cpus;
        self.mem -= that.mem;
        self.evicted -= that.evicted;
    }
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
    task.state == TaskState::Killed
        && task
            .status
            .as_ref()
            .is_some_and(|s| s.reason == Some(TaskStatusReason::ContainerPreempted))
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
            used += RevocableTally::of_active(t);
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
            total: total.scalars(),
            used: used.scalars(),
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
    use meso_api::v1::{AgentId, FrameworkId, TaskInfo, TaskStatus};

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
