//! Rebuilding status update streams from their checkpointed records after an agent
//! restart (Mesos's `TaskStatusUpdateManager::recover`).
//!
//! Replay applies the records of `task.updates` in order: an `Update` as if it had just
//! arrived (a duplicate uuid is skipped, as it was when first received), an `Ack` as the
//! acknowledgement of the head. The manager must be paused while replaying (the agent is
//! not registered yet): nothing is sent, and [`StatusUpdateManager::resume`] hands back the
//! unacknowledged heads once the agent has re-registered.
//!
//! An `Ack` that does not match the head cannot have been written by this agent (acks are
//! checkpointed only after `check_ack`); replay stops at it and names the task and record,
//! leaving the stream as rebuilt so far. The caller applies `--strict`.

use std::time::Duration;

use meso_api::v1::{FrameworkId, TaskId};

use super::{AckOutcome, StatusUpdateManager};
use crate::checkpoint::UpdateRecord;
use crate::error::AgentError;

impl StatusUpdateManager {
    /// Replays one task's checkpointed records into its stream (the manager paused).
    pub fn replay(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        records: &[UpdateRecord],
    ) -> Result<(), AgentError> {
        assert!(
            self.is_paused(),
            "invariant: streams are replayed into a paused manager"
        );
        let refuse = |index: usize, reason: String| AgentError::StatusUpdate {
            task_id: task_id.to_string(),
            reason: format!("checkpointed record {index}: {reason}"),
        };
        for (index, record) in records.iter().enumerate() {
            match record {
                UpdateRecord::Update(update) => {
                    if &update.framework_id != framework_id || &update.status.task_id != task_id {
                        return Err(refuse(
                            index,
                            format!(
                                "an update of task '{}' of framework '{}' in this task's stream",
                                update.status.task_id, update.framework_id
                            ),
                        ));
                    }
                    self.update(update.clone(), Duration::ZERO)
                        .map_err(|e| refuse(index, e.to_string()))?;
                }
                UpdateRecord::Ack { uuid } => {
                    if let AckOutcome::Ignored =
                        self.acknowledge(framework_id, task_id, uuid, Duration::ZERO)
                    {
                        return Err(refuse(
                            index,
                            "an acknowledgement that does not match the stream's head".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
