//! The default executor's bookkeeping of task groups, pure: which tasks run, which are
//! being killed, what terminal state a task's exit means, and which tasks a task's end
//! takes down with it.
//!
//! Mesos's semantics for task groups: a task that finishes (exit status 0) leaves its
//! group running; a task that fails, or is killed, kills every other running task of its
//! group. A task being killed that exits is TASK_KILLED whatever its status.
//!
//! Invariant: every task is in exactly one group, and each reaches one terminal state
//! exactly once ([`Groups::exited`] answers `None` for a task already ended).

use std::collections::BTreeMap;

use meso_api::v1::{TaskId, TaskState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Killing,
    Done,
}

#[derive(Debug, Clone)]
struct Entry {
    group: usize,
    phase: Phase,
}

/// The tasks of every group the executor was given.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    tasks: BTreeMap<TaskId, Entry>,
    groups: Vec<Vec<TaskId>>,
}

impl Groups {
    /// Adds a group whose tasks are all running (a task that cannot start is reported
    /// through [`Groups::exited`] with `success: false`). Ids already known are ignored.
    pub fn add_group(&mut self, ids: Vec<TaskId>) {
        let group = self.groups.len();
        let ids: Vec<TaskId> = ids
            .into_iter()
            .filter(|id| !self.tasks.contains_key(id))
            .collect();
        for id in &ids {
            self.tasks.insert(
                id.clone(),
                Entry {
                    group,
                    phase: Phase::Running,
                },
            );
        }
        self.groups.push(ids);
    }

    /// Task `id` ended: its terminal state, and the other tasks of its group to kill now
    /// (they are marked as being killed). `None` for an unknown or already ended task.
    pub fn exited(&mut self, id: &TaskId, success: bool) -> Option<(TaskState, Vec<TaskId>)> {
        let entry = self.tasks.get_mut(id)?;
        let state = match entry.phase {
            Phase::Done => return None,
            Phase::Killing => TaskState::Killed,
            Phase::Running if success => TaskState::Finished,
            Phase::Running => TaskState::Failed,
        };
        entry.phase = Phase::Done;
        let group = entry.group;
        let kill = if state == TaskState::Finished {
            Vec::new()
        } else {
            self.kill_group(group)
        };
        Some((state, kill))
    }

    /// The scheduler kills task `id`: it and every other running task of its group, marked
    /// as being killed (returned so they can be signalled).
    pub fn kill(&mut self, id: &TaskId) -> Vec<TaskId> {
        match self.tasks.get(id) {
            Some(entry) => self.kill_group(entry.group),
            None => Vec::new(),
        }
    }

    /// Every running task, marked as being killed (SHUTDOWN).
    pub fn kill_all(&mut self) -> Vec<TaskId> {
        (0..self.groups.len())
            .flat_map(|g| self.kill_group(g))
            .collect()
    }

    fn kill_group(&mut self, group: usize) -> Vec<TaskId> {
        let mut killed = Vec::new();
        for id in &self.groups[group] {
            if let Some(entry) = self.tasks.get_mut(id) {
                if entry.phase == Phase::Running {
                    entry.phase = Phase::Killing;
                    killed.push(id.clone());
                }
            }
        }
        killed
    }

    /// Whether `id` has not ended yet.
    pub fn is_live(&self, id: &TaskId) -> bool {
        self.tasks.get(id).is_some_and(|e| e.phase != Phase::Done)
    }

    /// Every task of every group has ended (and there was at least one).
    pub fn all_done(&self) -> bool {
        !self.tasks.is_empty() && self.tasks.values().all(|e| e.phase == Phase::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(names: &[&str]) -> Vec<TaskId> {
        names.iter().map(|n| TaskId::new(*n)).collect()
    }

    #[test]
    fn a_finished_task_leaves_its_group_running() {
        let mut g = Groups::default();
        g.add_group(ids(&["a", "b"]));
        let (state, kill) = g.exited(&TaskId::new("a"), true).unwrap();
        assert_eq!(state, TaskState::Finished);
        assert!(kill.is_empty());
        assert!(g.is_live(&TaskId::new("b")));
        assert!(!g.all_done());
        assert_eq!(g.exited(&TaskId::new("a"), true), None);
    }

    #[test]
    fn a_failed_task_kills_its_group_only() {
        let mut g = Groups::default();
        g.add_group(ids(&["a", "b", "c"]));
        g.add_group(ids(&["x"]));
        let (state, kill) = g.exited(&TaskId::new("b"), false).unwrap();
        assert_eq!(state, TaskState::Failed);
        assert_eq!(kill, ids(&["a", "c"]));
        // Killed tasks end KILLED whatever their exit status.
        assert_eq!(
            g.exited(&TaskId::new("a"), true).unwrap(),
            (TaskState::Killed, vec![])
        );
        assert!(g.is_live(&TaskId::new("x")));
    }

    #[test]
    fn a_kill_takes_the_whole_group_and_shutdown_everything() {
        let mut g = Groups::default();
        g.add_group(ids(&["a", "b"]));
        g.add_group(ids(&["x", "y"]));
        assert_eq!(g.kill(&TaskId::new("a")), ids(&["a", "b"]));
        assert!(g.kill(&TaskId::new("b")).is_empty(), "already being killed");
        assert_eq!(g.kill_all(), ids(&["x", "y"]));
        for id in ["a", "b", "x", "y"] {
            assert_eq!(
                g.exited(&TaskId::new(id), false).unwrap().0,
                TaskState::Killed
            );
        }
        assert!(g.all_done());
    }

    proptest! {
        /// Whatever the exits, each task ends exactly once and the executor ends when all did.
        #[test]
        fn each_task_ends_once(exits in proptest::collection::vec((0usize..6, any::<bool>()), 0..30)) {
            let mut g = Groups::default();
            g.add_group(ids(&["t0", "t1", "t2"]));
            g.add_group(ids(&["t3", "t4", "t5"]));
            let mut ended = std::collections::BTreeSet::new();
            for (i, ok) in exits {
                let id = TaskId::new(format!("t{i}"));
                if let Some((state, kill)) = g.exited(&id, ok) {
                    prop_assert!(state.is_terminal());
                    prop_assert!(ended.insert(i));
                    for k in kill {
                        prop_assert!(g.is_live(&k));
                    }
                }
            }
            prop_assert_eq!(g.all_done(), ended.len() == 6);
        }
    }
}
