//! The agent's shell around the status update manager core: taking updates from executors
//! (and making its own), forwarding stream heads to the master, the retry timer, and
//! acknowledgements from the framework.
//!
//! Invariants: at most one retry timer is armed, for the core's earliest due time; updates
//! go to the master only while registered (the core is paused otherwise).

use libprocess::Context;
use meso_api::v1::status::{ContainerStatus, NetworkInfo};
use meso_api::v1::{
    AgentId, ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus, TaskStatusReason,
    TaskStatusSource,
};
use meso_api::wire::{StatusUpdate, StatusUpdateAcknowledgement, StatusUpdateMessage};
use slog::{debug, warn};

use super::{Agent, AgentMessage};
use crate::error::AgentError;
use crate::status_updates::{AckOutcome, UpdateOutcome};

/// An update the agent makes itself: the facts that differ from one cause to another.
pub(super) struct OwnUpdate<'a> {
    pub framework_id: &'a FrameworkId,
    pub executor_id: Option<&'a ExecutorId>,
    pub task_id: &'a TaskId,
    pub state: TaskState,
    pub message: String,
    pub reason: TaskStatusReason,
}

impl OwnUpdate<'_> {
    /// The status update from `agent_id`, with the `uuid` and `timestamp` (seconds since the
    /// Unix epoch) its caller drew from the node's seams.
    fn into_status_update(
        self,
        agent_id: Option<AgentId>,
        uuid: Vec<u8>,
        timestamp: f64,
    ) -> StatusUpdate {
        let mut status = TaskStatus::new(self.task_id.clone(), self.state);
        status.message = Some(self.message);
        status.reason = Some(self.reason);
        status.source = Some(TaskStatusSource::Agent);
        status.executor_id = self.executor_id.cloned();
        status.agent_id = agent_id.clone();
        status.uuid = Some(uuid.clone());
        status.timestamp = Some(timestamp);
        StatusUpdate {
            framework_id: self.framework_id.clone(),
            executor_id: self.executor_id.cloned(),
            agent_id,
            timestamp,
            status,
            uuid: Some(uuid),
            latest_state: None,
        }
    }
}

impl Agent {
    /// An update the agent itself makes (executor gone, launch failed, killed while queued).
    pub(super) fn agent_update(&mut self, ctx: &mut Context<Self>, own: OwnUpdate<'_>) {
        let uuid = ctx.uuid_v4().as_bytes().to_vec();
        let timestamp = libprocess::unix_secs(ctx.wall_time());
        let update = own.into_status_update(self.id.clone(), uuid, timestamp);
        if let Err(e) = self.take_update(ctx, update) {
            warn!(self.log, "own status update refused"; "error" => %e);
        }
    }

    /// Hands an update to the status update manager and sends it if it is a stream's head.
    pub(super) fn take_update(
        &mut self,
        ctx: &mut Context<Self>,
        mut update: StatusUpdate,
    ) -> Result<(), AgentError> {
        self.add_container_status(ctx, &mut update);
        let now = ctx.node().clock().now();
        let framework_id = update.framework_id.clone();
        let task_id = update.status.task_id.clone();
        let state = update.status.state;
        // Written before it is taken, so that what the executor was told (acknowledged)
        // survives a crash. Duplicates are not written.
        if !self.checkpoint_update(&update)? {
            return Ok(());
        }
        match self.updates.update(update, now)? {
            UpdateOutcome::Forward(head) => {
                self.send_update(ctx, head);
                self.arm_update_timer(ctx);
            }
            UpdateOutcome::Queued => {}
            UpdateOutcome::Duplicate => return Ok(()),
        }
        // Track the task's state as the executor reports it.
        if let Some(task) = self.frameworks.get_mut(&framework_id).and_then(|fw| {
            fw.executors
                .values_mut()
                .find_map(|ex| ex.tasks.get_mut(&task_id))
        }) {
            task.state = state;
        }
        Ok(())
    }

    /// Adds what Mesos's agent adds to every update of a task in a container it knows: the
    /// container's id and, as the task shares the host's network, the agent's IP as its
    /// address. What the executor already set is kept.
    fn add_container_status(&self, ctx: &Context<Self>, update: &mut StatusUpdate) {
        let Some(executor) = self.frameworks.get(&update.framework_id).and_then(|fw| {
            fw.executors.values().find(|ex| {
                ex.tasks.contains_key(&update.status.task_id)
                    || update.executor_id.as_ref() == Some(&ex.info.executor_id)
            })
        }) else {
            return;
        };
        let status = update
            .status
            .container_status
            .get_or_insert_with(|| ContainerStatus {
                container_id: None,
                network_infos: Vec::new(),
                executor_pid: None,
            });
        if status.container_id.is_none() {
            status.container_id = Some(executor.container_id.clone());
        }
        if status.network_infos.is_empty() {
            let ip = ctx.self_upid().addr().ip().to_string();
            status.network_infos.push(NetworkInfo::host(ip));
        }
    }

    /// Sends one update to the master (the core decided it is due).
    pub(super) fn send_update(&mut self, ctx: &mut Context<Self>, update: StatusUpdate) {
        debug!(self.log, "forwarding status update"; "task_id" => %update.status.task_id,
            "state" => %update.status.state);
        let message = StatusUpdateMessage {
            update,
            pid: Some(ctx.self_upid().to_string()),
        };
        if let Err(e) = ctx.send(&self.config.master, message) {
            // Retried by the timer like any lost message.
            warn!(self.log, "status update not sent"; "error" => %e);
        }
    }

    /// Arms the retry timer for the core's earliest due time, unless one is already set
    /// for that time or earlier.
    pub(super) fn arm_update_timer(&mut self, ctx: &mut Context<Self>) {
        let Some(due) = self.updates.next_due() else {
            return;
        };
        let now = ctx.node().clock().now();
        if let Some(at) = self.update_timer_at {
            if at <= due && at >= now {
                return;
            }
        }
        self.update_timer_at = Some(due);
        ctx.delay(due.saturating_sub(now), AgentMessage::RetryStatusUpdates);
    }

    pub(super) fn retry_status_updates(&mut self, ctx: &mut Context<Self>) {
        self.update_timer_at = None;
        let now = ctx.node().clock().now();
        for update in self.updates.due(now) {
            self.send_update(ctx, update);
        }
        self.arm_update_timer(ctx);
    }

    pub(super) fn on_acknowledgement(
        &mut self,
        ctx: &mut Context<Self>,
        ack: StatusUpdateAcknowledgement,
    ) {
        if Some(&ack.agent_id) != self.id.as_ref() {
            warn!(self.log, "acknowledgement for another agent ignored"; "agent_id" => %ack.agent_id);
            return;
        }
        let now = ctx.node().clock().now();
        if !self.checkpoint_ack(&ack.framework_id, &ack.task_id, &ack.uuid) {
            debug!(self.log, "unexpected or duplicate acknowledgement ignored";
                "task_id" => %ack.task_id);
            return;
        }
        match self
            .updates
            .acknowledge(&ack.framework_id, &ack.task_id, &ack.uuid, now)
        {
            AckOutcome::Ignored => {
                debug!(self.log, "unexpected or duplicate acknowledgement ignored";
                    "task_id" => %ack.task_id);
            }
            AckOutcome::Acknowledged { next, terminal } => {
                if let Some(next) = next {
                    self.send_update(ctx, next);
                }
                if terminal && !self.task_is_live(&ack.framework_id, &ack.task_id) {
                    self.forget_stream(&ack.framework_id, &ack.task_id);
                }
                self.arm_update_timer(ctx);
            }
        }
    }

    /// Whether an executor on this agent still holds the task.
    fn task_is_live(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        self.frameworks.get(framework_id).is_some_and(|fw| {
            fw.executors.values().any(|ex| {
                ex.tasks.contains_key(task_id) || ex.queued.iter().any(|t| &t.task_id == task_id)
            })
        })
    }

    /// Tasks with an update the framework has not acknowledged yet, with that update's
    /// state (for the simulator's acknowledgement checker and tests).
    pub fn unacknowledged_updates(&self) -> Vec<(FrameworkId, TaskId, TaskState)> {
        self.updates.unacknowledged()
    }

    /// Status update streams held (for tests and `/state`).
    pub fn status_update_streams(&self) -> usize {
        self.updates.stream_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_update_carries_the_given_uuid_and_time_in_both_places() {
        let (framework, executor, task) = (
            FrameworkId::new("f"),
            ExecutorId::new("e"),
            TaskId::new("t"),
        );
        let update = OwnUpdate {
            framework_id: &framework,
            executor_id: Some(&executor),
            task_id: &task,
            state: TaskState::Lost,
            message: "gone".into(),
            reason: TaskStatusReason::ExecutorTerminated,
        }
        .into_status_update(Some(AgentId::new("a")), vec![7; 16], 12.5);
        assert_eq!(update.uuid.as_deref(), Some(&[7u8; 16][..]));
        assert_eq!(update.status.uuid, update.uuid);
        assert_eq!(
            (update.timestamp, update.status.timestamp),
            (12.5, Some(12.5))
        );
        assert_eq!(update.status.source, Some(TaskStatusSource::Agent));
        assert_eq!(update.status.agent_id, Some(AgentId::new("a")));
        assert_eq!(update.executor_id.as_ref(), Some(&executor));
        assert_eq!(update.status.message.as_deref(), Some("gone"));
    }
}
