//! Launches the scheduler has not heard back about, pure: the driver's guard against a
//! lost LAUNCH (a dropped message, a master failover between ACCEPT and the agent).
//!
//! Every task the framework launches (LAUNCH or LAUNCH_GROUP in an ACCEPT) is pending until
//! a status update for it arrives. The driver ticks the core at a fixed interval; a task
//! still pending after 2, 4, 8, ... ticks is due for explicit reconciliation, which Mesos
//! answers with the task's state or TASK_LOST/TASK_DROPPED/TASK_UNKNOWN for a launch the
//! master never saw, so the scheduler's `status_update` decides whether to launch again.
//!
//! Invariant: a task is pending from its launch until its first status update, and due at
//! most once per doubling of its age.

use std::collections::BTreeMap;

use meso_api::v1::{AgentId, Operation, TaskId};

/// The pending launches (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct PendingLaunches {
    tasks: BTreeMap<TaskId, (AgentId, u32)>,
}

impl PendingLaunches {
    /// Records the tasks launched by `operations` (other operations launch nothing).
    pub fn launched(&mut self, operations: &[Operation]) {
        for op in operations {
            let launch = op.launch.iter().flat_map(|l| l.task_infos.iter());
            let group = op
                .launch_group
                .iter()
                .flat_map(|g| g.task_group.tasks.iter());
            for task in launch.chain(group) {
                self.tasks
                    .insert(task.task_id.clone(), (task.agent_id.clone(), 0));
            }
        }
    }

    /// A status update for `task` arrived: it is no longer pending.
    pub fn heard(&mut self, task: &TaskId) {
        self.tasks.remove(task);
    }

    /// One interval passed: the tasks due for reconciliation now.
    pub fn tick(&mut self) -> Vec<(TaskId, AgentId)> {
        let mut due = Vec::new();
        for (id, (agent, age)) in &mut self.tasks {
            *age += 1;
            if *age >= 2 && age.is_power_of_two() {
                due.push((id.clone(), agent.clone()));
            }
        }
        due
    }

    /// Tasks still pending.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// No task is pending.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::TaskInfo;

    fn launch(ids: &[&str]) -> Vec<Operation> {
        vec![Operation::launch(
            ids.iter()
                .map(|id| TaskInfo::command(id, AgentId::new("a"), "true"))
                .collect(),
        )]
    }

    #[test]
    fn unheard_launches_are_due_with_a_doubling_backoff() {
        let mut p = PendingLaunches::default();
        p.launched(&launch(&["t1", "t2"]));
        p.heard(&TaskId::new("t2"));
        let due: Vec<usize> = (0..16).map(|_| p.tick().len()).collect();
        // Ticks 2, 4, 8 and 16 (ages are 1-based).
        assert_eq!(due, vec![0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.heard(&TaskId::new("t1"));
        assert!(p.is_empty());
        assert!(p.tick().is_empty());
    }
}
