//! The agent's answer to the master's reconciliation request on re-registration, as
//! Mesos's agent answers the `reconciliations` of `SlaveReregisteredMessage`.
//!
//! The master lists the tasks it has on this agent that the re-registration did not
//! report. Each one the agent does not know (not queued, not launched, not ended with
//! updates pending) gets a terminal update of the agent's own: TASK_DROPPED for a
//! PARTITION_AWARE framework, TASK_LOST for the others, reason REASON_RECONCILIATION. A
//! task it does know (its launch crossed the re-registration in flight) needs no answer:
//! its own updates follow. The updates go through the status update manager, so they are
//! retried until acknowledged like any other.

use libprocess::Context;
use meso_api::v1::{AgentId, FrameworkId, TaskId, TaskState, TaskStatusReason};
use meso_api::wire::TaskReconciliation;
use slog::warn;

use super::updates::OwnUpdate;
use super::Agent;

impl Agent {
    /// Answers `reconciliations` from the re-registration answer naming `agent_id`; only
    /// from the master, and only once registered under that id.
    pub(super) fn answer_reconciliations(
        &mut self,
        ctx: &mut Context<Self>,
        agent_id: &AgentId,
        reconciliations: Vec<TaskReconciliation>,
    ) {
        if reconciliations.is_empty()
            || ctx.from() != Some(&self.config.master)
            || self.id.as_ref() != Some(agent_id)
            || self.registration != super::Registration::Registered
        {
            return;
        }
        for reconciliation in reconciliations {
            let state = if reconciliation.partition_aware {
                TaskState::Dropped
            } else {
                TaskState::Lost
            };
            for task_id in &reconciliation.task_ids {
                if self.knows_task(&reconciliation.framework_id, task_id) {
                    continue;
                }
                warn!(self.log, "the master asked about a task this agent does not know; it ends";
                    "framework_id" => %reconciliation.framework_id, "task_id" => %task_id,
                    "state" => %state);
                self.agent_update(
                    ctx,
                    OwnUpdate {
                        framework_id: &reconciliation.framework_id,
                        executor_id: None,
                        task_id,
                        state,
                        message: "Reconciliation: task unknown to the agent".into(),
                        reason: TaskStatusReason::Reconciliation,
                    },
                );
            }
        }
    }

    /// Whether the agent holds the task: queued, launched, or ended with its updates not
    /// yet acknowledged.
    fn knows_task(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        let held = self.frameworks.get(framework_id).is_some_and(|fw| {
            fw.executors.values().any(|ex| {
                ex.tasks.contains_key(task_id) || ex.queued.iter().any(|t| &t.task_id == task_id)
            })
        });
        held || self
            .terminated_tasks
            .contains_key(&(framework_id.clone(), task_id.clone()))
            || self.updates.has_pending(framework_id, task_id)
    }
}
