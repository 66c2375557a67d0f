//! The tasks frameworks launched on one emulated agent (the soak benchmark's load): pure
//! bookkeeping of what is running and of the status updates the master has not yet
//! acknowledged. Nothing is executed: a launched task is running at once and a killed one
//! ends at once; the agent process sends the updates this book records.
//!
//! Invariants: a task is in `running` from its launch until it is killed; a framework is in
//! `frameworks` exactly while one of its tasks runs here; at most one update per task waits
//! for its acknowledgement (a newer update of the task replaces the older one, whose state
//! the newer supersedes), so the book holds at most one update per task it ever ran that
//! the master has not acknowledged.

use std::collections::BTreeMap;

use meso_api::v1::{AgentId, FrameworkId, FrameworkInfo, TaskId, TaskInfo, TaskState};
use meso_api::wire::{StatusUpdate, TaskRecord};

/// Tasks launched on one emulated agent and its unacknowledged updates.
#[derive(Debug, Default)]
pub struct Launched {
    running: BTreeMap<(FrameworkId, TaskId), TaskInfo>,
    frameworks: BTreeMap<FrameworkId, (FrameworkInfo, usize)>,
    /// Unacknowledged updates by (framework, task).
    pending: BTreeMap<(FrameworkId, TaskId), StatusUpdate>,
}

impl Launched {
    /// Records `task` of `framework` as running; false (and nothing changes) when the task
    /// runs here already or the framework has no id.
    pub fn run(&mut self, framework: &FrameworkInfo, task: TaskInfo) -> bool {
        let Some(id) = framework.id.clone() else {
            return false;
        };
        let key = (id.clone(), task.task_id.clone());
        if self.running.contains_key(&key) {
            return false;
        }
        self.running.insert(key, task);
        self.frameworks
            .entry(id)
            .or_insert_with(|| (framework.clone(), 0))
            .1 += 1;
        true
    }

    /// Ends a running task; `None` when it does not run here.
    pub fn kill(&mut self, framework: &FrameworkId, task: &TaskId) -> Option<TaskInfo> {
        let info = self.running.remove(&(framework.clone(), task.clone()))?;
        if let Some(entry) = self.frameworks.get_mut(framework) {
            entry.1 -= 1;
            if entry.1 == 0 {
                self.frameworks.remove(framework);
            }
        }
        Some(info)
    }

    /// Keeps `update` until it is acknowledged (replacing the task's older one).
    pub fn sent(&mut self, update: StatusUpdate) {
        let key = (update.framework_id.clone(), update.status.task_id.clone());
        self.pending.insert(key, update);
    }

    /// The master acknowledged the update `uuid` of a task: forget it. False when that is
    /// not the task's waiting update (an older one, or unknown).
    pub fn acknowledged(&mut self, framework: &FrameworkId, task: &TaskId, uuid: &[u8]) -> bool {
        let key = (framework.clone(), task.clone());
        match self.pending.get(&key) {
            Some(update) if update.uuid.as_deref() == Some(uuid) => {
                self.pending.remove(&key);
                true
            }
            _ => false,
        }
    }

    /// Whether the task runs here or its last update waits for an acknowledgement (what
    /// the master's reconciliation request on re-registration asks).
    pub fn knows(&self, framework: &FrameworkId, task: &TaskId) -> bool {
        let key = (framework.clone(), task.clone());
        self.running.contains_key(&key) || self.pending.contains_key(&key)
    }

    /// The updates waiting for an acknowledgement (to send again to a new master).
    pub fn unacknowledged(&self) -> impl Iterator<Item = &StatusUpdate> {
        self.pending.values()
    }

    /// Whether nothing was ever launched here or everything is over and acknowledged.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty() && self.pending.is_empty()
    }

    /// The running tasks as a re-registration reports them.
    pub fn records(&self, agent: &AgentId) -> Vec<TaskRecord> {
        self.running
            .iter()
            .map(|((framework, task), info)| {
                let mut task_info = info.clone();
                task_info.agent_id = agent.clone();
                TaskRecord {
                    task: task_info,
                    framework_id: framework.clone(),
                    executor_id: None,
                    state: TaskState::Running,
                    unacknowledged_update_uuid: self
                        .pending
                        .get(&(framework.clone(), task.clone()))
                        .and_then(|u| u.uuid.clone()),
                }
            })
            .collect()
    }

    /// The frameworks of the running tasks.
    pub fn frameworks(&self) -> impl Iterator<Item = &FrameworkInfo> {
        self.frameworks.values().map(|(info, _)| info)
    }

    /// Tasks running here.
    pub fn running_count(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::TaskStatus;

    fn framework(id: &str) -> FrameworkInfo {
        let mut info = FrameworkInfo::new("u", id);
        info.id = Some(FrameworkId::new(id));
        info
    }

    fn update(fw: &str, task: &str, state: TaskState, uuid: u8) -> StatusUpdate {
        StatusUpdate {
            framework_id: FrameworkId::new(fw),
            executor_id: None,
            agent_id: None,
            status: TaskStatus::new(TaskId::new(task), state),
            timestamp: 1.0,
            uuid: Some(vec![uuid; 16]),
            latest_state: None,
        }
    }

    #[test]
    fn a_task_is_known_while_it_runs_and_until_its_last_update_is_acknowledged() {
        let mut book = Launched::default();
        let (f, t1) = (FrameworkId::new("f"), TaskId::new("t1"));
        assert!(!book.knows(&f, &t1));
        book.run(
            &framework("f"),
            TaskInfo::command("t1", AgentId::new("a"), "true"),
        );
        assert!(book.knows(&f, &t1));
        assert!(
            !book.knows(&FrameworkId::new("g"), &t1),
            "another framework's t1"
        );
        book.kill(&f, &t1);
        book.sent(update("f", "t1", TaskState::Killed, 7));
        assert!(
            book.knows(&f, &t1),
            "its TASK_KILLED is not acknowledged yet"
        );
        assert!(book.acknowledged(&f, &t1, &[7; 16]));
        assert!(!book.knows(&f, &t1));
    }

    #[test]
    fn launched_tasks_are_reported_until_killed_and_frameworks_with_them() {
        let mut book = Launched::default();
        let task = TaskInfo::command("t1", AgentId::new("old"), "true");
        assert!(book.run(&framework("f"), task.clone()));
        assert!(
            !book.run(&framework("f"), task),
            "a second launch of t1 is refused"
        );
        let records = book.records(&AgentId::new("a1"));
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].task.agent_id, AgentId::new("a1"));
        assert_eq!(book.frameworks().count(), 1);
        assert!(book
            .kill(&FrameworkId::new("f"), &TaskId::new("t1"))
            .is_some());
        assert!(book
            .kill(&FrameworkId::new("f"), &TaskId::new("t1"))
            .is_none());
        assert_eq!(book.frameworks().count(), 0);
        assert!(book.is_empty());
    }

    #[test]
    fn only_the_latest_update_of_a_task_waits_and_its_ack_clears_it() {
        let mut book = Launched::default();
        book.sent(update("f", "t1", TaskState::Running, 1));
        book.sent(update("f", "t1", TaskState::Killed, 2));
        assert_eq!(book.unacknowledged().count(), 1);
        let f = FrameworkId::new("f");
        let t = TaskId::new("t1");
        assert!(
            !book.acknowledged(&f, &t, &[1; 16]),
            "the superseded update's ack"
        );
        assert!(book.acknowledged(&f, &t, &[2; 16]));
        assert!(book.is_empty());
    }
}
