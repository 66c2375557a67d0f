//! The agent's books of what runs on it: frameworks with executors here, each executor's
//! container, state, queued and launched tasks, its event stream, and the KILLs kept for an
//! executor that has not (re-)subscribed yet. Plain data with the few methods that keep
//! their invariants; the lifecycle that fills them is in `tasks.rs`.
//!
//! Invariant: a KILL is sent on the executor's stream, kept (in order) while the executor
//! is `Registering`, or dropped only when the executor will never subscribe.

use std::collections::BTreeMap;
use std::path::PathBuf;

use libprocess::HttpStream;
use meso_api::v1::executor::Event;
use meso_api::v1::{
    ContainerId, ExecutorId, ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, TaskState,
    TaskStatusReason,
};

/// A framework with executors on this agent.
pub(crate) struct Framework {
    pub(crate) info: FrameworkInfo,
    pub(crate) executors: BTreeMap<ExecutorId, Executor>,
}

/// Where an executor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExecutorState {
    /// Launched, not yet subscribed.
    Registering,
    /// Subscribed: events flow on its stream.
    Running,
    /// Told to shut down, or being destroyed.
    Terminating,
}

/// One executor run.
pub(crate) struct Executor {
    pub(crate) info: ExecutorInfo,
    pub(crate) container_id: ContainerId,
    pub(crate) directory: PathBuf,
    pub(crate) state: ExecutorState,
    /// Tasks waiting for the executor to subscribe.
    pub(crate) queued: Vec<TaskInfo>,
    /// Which queued tasks arrived together as task groups (sent as one LAUNCH_GROUP each).
    pub(crate) queued_groups: Vec<Vec<TaskId>>,
    /// Tasks sent to the executor.
    pub(crate) tasks: BTreeMap<TaskId, Task>,
    /// The SUBSCRIBE response stream.
    pub(crate) stream: Option<HttpStream>,
    /// Why the agent ended it, if it did (reported in the tasks' updates).
    pub(crate) ended_by_agent: Option<(TaskStatusReason, String)>,
    /// Taken back from a checkpoint by a restarted agent (it must re-subscribe within
    /// `--executor-reregistration-timeout`).
    pub(crate) recovered: bool,
    /// KILL events that arrived while the executor had not (re-)subscribed yet, in order;
    /// delivered when it subscribes, dropped with the executor if it never does (its tasks
    /// then end terminal anyway).
    pub(crate) pending_kills: Vec<Event>,
}

/// A task as the agent tracks it.
pub(crate) struct Task {
    pub(crate) info: TaskInfo,
    pub(crate) state: TaskState,
    pub(crate) kill_requested: bool,
}

/// What became of a KILL for one of an executor's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillDelivery {
    /// On the executor's stream.
    Sent,
    /// Kept until the executor (re-)subscribes.
    Queued,
    /// The executor has no stream and is not expected to subscribe.
    Dropped,
}

impl Executor {
    /// Sends a KILL event, or keeps it for the subscription of an executor that has not
    /// subscribed yet (e.g. one a restarted agent recovered).
    pub(crate) fn deliver_kill(&mut self, event: Event) -> KillDelivery {
        if self.send_event(&event) {
            KillDelivery::Sent
        } else if self.state == ExecutorState::Registering {
            self.pending_kills.push(event);
            KillDelivery::Queued
        } else {
            KillDelivery::Dropped
        }
    }

    /// Sends the KILLs kept while the executor was not subscribed; how many were sent.
    pub(crate) fn flush_pending_kills(&mut self) -> usize {
        let kills = std::mem::take(&mut self.pending_kills);
        kills.iter().filter(|event| self.send_event(event)).count()
    }

    /// Queues an event on the executor's stream; false if there is no live stream.
    pub(crate) fn send_event(&self, event: &Event) -> bool {
        let Some(stream) = &self.stream else {
            return false;
        };
        let json = serde_json::to_vec(event).expect("executor events always serialise");
        stream.send(meso_api::http::recordio::encode(&json)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::executor::{EventType, Kill};

    fn recovered_executor() -> Executor {
        let info: ExecutorInfo =
            serde_json::from_value(serde_json::json!({"executor_id": {"value": "ex"}})).unwrap();
        Executor {
            info,
            container_id: ContainerId::new("c1"),
            directory: PathBuf::from("/nonexistent"),
            state: ExecutorState::Registering,
            queued: Vec::new(),
            queued_groups: Vec::new(),
            tasks: BTreeMap::new(),
            stream: None,
            ended_by_agent: None,
            recovered: true,
            pending_kills: Vec::new(),
        }
    }

    fn kill(task: &str) -> Event {
        let mut event = Event::new(EventType::Kill);
        event.kill = Some(Kill {
            task_id: TaskId::new(task),
            kill_policy: None,
        });
        event
    }

    #[test]
    fn a_kill_before_the_resubscription_is_kept_in_order_not_dropped() {
        let mut executor = recovered_executor();
        assert_eq!(executor.deliver_kill(kill("t1")), KillDelivery::Queued);
        assert_eq!(executor.deliver_kill(kill("t2")), KillDelivery::Queued);
        let queued: Vec<_> = executor
            .pending_kills
            .iter()
            .map(|e| e.kill.as_ref().unwrap().task_id.as_str().to_string())
            .collect();
        assert_eq!(queued, ["t1", "t2"]);
        // Still no stream: nothing is sent, and the queue is handed over (not kept twice).
        assert_eq!(executor.flush_pending_kills(), 0);
        assert!(executor.pending_kills.is_empty());
    }

    #[test]
    fn a_kill_for_an_executor_that_will_not_subscribe_is_not_kept() {
        let mut executor = recovered_executor();
        executor.state = ExecutorState::Terminating;
        assert_eq!(executor.deliver_kill(kill("t1")), KillDelivery::Dropped);
        assert!(executor.pending_kills.is_empty());
    }
}
