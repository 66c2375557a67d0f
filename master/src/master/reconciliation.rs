//! Task reconciliation: what the master answers a framework that asks for the state of its
//! tasks. Pure: the caller supplies lookups and sends the answers (uuid-less updates with
//! REASON_RECONCILIATION, source MASTER, which are not acknowledged).
//!
//! Explicit (task ids given): a known task answers its latest state; an unknown task on a
//! registered agent answers TASK_GONE, on an unreachable agent TASK_UNREACHABLE, on an
//! agent marked gone TASK_GONE_BY_OPERATOR, on an unknown agent (or none given)
//! TASK_UNKNOWN; frameworks without PARTITION_AWARE get TASK_LOST instead of those four.
//! A task parked with its unreachable agent answers the state its framework was told
//! (TASK_UNREACHABLE or TASK_LOST). Implicit (no ids): the latest state of every
//! non-terminal task of the framework.

use meso_api::v1::{AgentId, TaskId, TaskState, TaskStatus, TaskStatusReason, TaskStatusSource};

/// Where the master stands on an agent named in an explicit reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStanding {
    /// Registered.
    Registered,
    /// Marked unreachable.
    Unreachable,
    /// Marked gone by the operator.
    Gone,
    /// Never seen (or not named).
    Unknown,
}

/// The answer for one task the master does not know.
pub fn unknown_task_state(standing: AgentStanding, partition_aware: bool) -> TaskState {
    let state = match standing {
        AgentStanding::Registered => TaskState::Gone,
        AgentStanding::Unreachable => TaskState::Unreachable,
        AgentStanding::Gone => TaskState::GoneByOperator,
        AgentStanding::Unknown => TaskState::Unknown,
    };
    if partition_aware {
        state
    } else {
        TaskState::Lost
    }
}

/// A reconciliation answer for `task` in `state`.
pub fn reconciliation_status(
    task: TaskId,
    state: TaskState,
    agent: Option<AgentId>,
    message: &str,
) -> TaskStatus {
    let mut status = TaskStatus::new(task, state);
    status.agent_id = agent;
    status.source = Some(TaskStatusSource::Master);
    status.reason = Some(TaskStatusReason::Reconciliation);
    status.message = Some(message.to_string());
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_tasks_answer_per_agent_standing_and_partition_awareness() {
        use AgentStanding::*;
        assert_eq!(unknown_task_state(Registered, true), TaskState::Gone);
        assert_eq!(
            unknown_task_state(Unreachable, true),
            TaskState::Unreachable
        );
        assert_eq!(unknown_task_state(Unknown, true), TaskState::Unknown);
        assert_eq!(unknown_task_state(Gone, true), TaskState::GoneByOperator);
        for s in [Registered, Unreachable, Gone, Unknown] {
            assert_eq!(unknown_task_state(s, false), TaskState::Lost);
        }
    }

    #[test]
    fn answers_carry_the_reconciliation_reason() {
        let s = reconciliation_status(TaskId::new("t"), TaskState::Running, None, "m");
        assert_eq!(s.reason, Some(TaskStatusReason::Reconciliation));
        assert_eq!(s.source, Some(TaskStatusSource::Master));
        assert!(s.uuid.is_none());
    }
}
