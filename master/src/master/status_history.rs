//! The status history the web UI's task page shows: for the tasks whose updates the master
//! forwarded most recently, every state they went through, with time, source, reason and
//! message (the task book keeps only a task's latest status, as the master needs no more).
//!
//! Pure and bounded: at most [`MAX_TASKS`] tasks are remembered (the task first seen
//! longest ago is forgotten first) and at most [`MAX_PER_TASK`] entries per task (the first
//! one is kept, so a task's start time survives, and the oldest of the rest dropped).
//! Invariant: `order` holds exactly the keys of `tasks`, each once.

use std::collections::VecDeque;

use meso_api::v1::{FrameworkId, TaskId, TaskStatus};
use serde::Serialize;

use super::fast_hash::FastMap;

/// Most tasks with a remembered history.
pub const MAX_TASKS: usize = 20_000;
/// Most entries kept per task.
pub const MAX_PER_TASK: usize = 16;

/// One status update, as the task page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusEntry {
    /// `TASK_RUNNING`, ...
    pub state: &'static str,
    /// Seconds since the epoch (the update's own timestamp).
    pub timestamp: f64,
    /// `SOURCE_EXECUTOR`, ..., when the update named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `REASON_...`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free text, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl StatusEntry {
    /// The entry for `status`.
    pub fn of(status: &TaskStatus) -> StatusEntry {
        let text = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_string));
        StatusEntry {
            state: status.state.as_str(),
            timestamp: status.timestamp.unwrap_or(0.0),
            source: text(
                status
                    .source
                    .as_ref()
                    .and_then(|s| serde_json::to_value(s).ok()),
            ),
            reason: text(
                status
                    .reason
                    .as_ref()
                    .and_then(|r| serde_json::to_value(r).ok()),
            ),
            message: status.message.clone(),
        }
    }
}

type Key = (FrameworkId, TaskId);

/// Bounded per-task status histories.
#[derive(Debug, Default)]
pub struct StatusHistory {
    tasks: FastMap<Key, Vec<StatusEntry>>,
    order: VecDeque<Key>,
}

impl StatusHistory {
    /// Records `status` of `task` (a repeated update of the same state and time is kept
    /// once: agents retry until acknowledged).
    pub fn record(&mut self, framework: &FrameworkId, task: &TaskId, status: &TaskStatus) {
        let entry = StatusEntry::of(status);
        let key = (framework.clone(), task.clone());
        match self.tasks.get_mut(&key) {
            Some(list) => {
                if list.last() == Some(&entry) {
                    return;
                }
                if list.len() >= MAX_PER_TASK {
                    list.remove(1);
                }
                list.push(entry);
            }
            None => {
                if self.order.len() >= MAX_TASKS {
                    if let Some(old) = self.order.pop_front() {
                        self.tasks.remove(&old);
                    }
                }
                self.order.push_back(key.clone());
                self.tasks.insert(key, vec![entry]);
            }
        }
    }

    /// The remembered history of a task, oldest first.
    pub fn of(&self, framework: &FrameworkId, task: &TaskId) -> Option<&[StatusEntry]> {
        self.tasks
            .get(&(framework.clone(), task.clone()))
            .map(Vec::as_slice)
    }

    /// How many tasks have a history.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task has a history.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::TaskState;

    fn status(state: TaskState, t: f64) -> TaskStatus {
        let mut s = TaskStatus::new(TaskId::from("t"), state);
        s.timestamp = Some(t);
        s
    }

    #[test]
    fn a_history_keeps_each_state_once_in_order() {
        let mut h = StatusHistory::default();
        let (f, t) = (FrameworkId::from("f"), TaskId::from("t"));
        h.record(&f, &t, &status(TaskState::Starting, 1.0));
        h.record(&f, &t, &status(TaskState::Running, 2.0));
        h.record(&f, &t, &status(TaskState::Running, 2.0));
        h.record(&f, &t, &status(TaskState::Finished, 3.0));
        let states: Vec<_> = h.of(&f, &t).unwrap().iter().map(|e| e.state).collect();
        assert_eq!(states, ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]);
    }

    #[test]
    fn the_first_entry_survives_and_the_book_stays_bounded() {
        let mut h = StatusHistory::default();
        let f = FrameworkId::from("f");
        let t = TaskId::from("t");
        for i in 0..(MAX_PER_TASK * 2) {
            h.record(&f, &t, &status(TaskState::Running, i as f64));
        }
        let list = h.of(&f, &t).unwrap();
        assert_eq!(list.len(), MAX_PER_TASK);
        assert_eq!(list[0].timestamp, 0.0);
        assert_eq!(
            list.last().unwrap().timestamp,
            (MAX_PER_TASK * 2 - 1) as f64
        );
        for i in 0..=MAX_TASKS {
            h.record(
                &f,
                &TaskId::from(format!("x{i}").as_str()),
                &status(TaskState::Running, 0.0),
            );
        }
        assert_eq!(h.len(), MAX_TASKS);
        assert!(
            h.of(&f, &t).is_none(),
            "the task first seen longest ago is forgotten"
        );
    }
}
