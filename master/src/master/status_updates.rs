//! Status updates through the master: updates from agents are recorded and forwarded to the
//! framework with the agent's PID (so the driver acknowledges them); acknowledgements go
//! back to the agent that holds the update. A terminal update gives the task's resources
//! back to the allocator; the task leaves the active set once its terminal update is
//! acknowledged. Master-generated updates (lost, error, reconciliation) carry no uuid and
//! are not acknowledged.

use libprocess::slog::debug;
use libprocess::{Context, Upid};
use meso_api::v1::{FrameworkId, TaskStatus};
use meso_api::wire;

use super::framework_link::ToFramework;
use super::Master;

impl Master {
    pub(super) fn status_update(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::StatusUpdateMessage,
    ) {
        let update = msg.update;
        let Some(agent_id) = update.agent_id.clone().or(update.status.agent_id.clone()) else {
            return;
        };
        if !self.sender_is_agent(&from, &agent_id) {
            debug!(ctx.node().logger(), "status update from an unregistered agent dropped"; "agent" => %agent_id);
            return;
        }
        let framework = update.framework_id.clone();
        let mut recover = None;
        if let Some(mut task) = self.tasks.get_mut(&framework, &update.status.task_id) {
            let state = update.latest_state.unwrap_or(update.status.state);
            task.state = state;
            let mut status = update.status.clone();
            if status.uuid.is_none() {
                status.uuid = update.uuid.clone();
            }
            task.status = Some(status);
            if state.is_terminal() && !task.recovered {
                task.recovered = true;
                super::oversubscription::count_eviction(ctx, &update.status);
                recover = Some((
                    task.agent_id.value.clone(),
                    task.role.clone(),
                    task.consumed.clone(),
                ));
            }
        }
        if let Some((agent, role, resources)) = recover {
            if resources.iter().any(|r| r.revocable) {
                let ended =
                    super::allocation::offer_shape(&framework.value, &agent, &role, resources);
                self.recover_revocable(ctx, &agent_id, ended);
            } else {
                self.recover(&framework.value, &agent, &role, resources, None);
            }
        }
        self.on_task_updated(&framework, &update.status.task_id);
        let forwarded = wire::StatusUpdateMessage {
            update,
            pid: from.map(|f| f.to_string()),
        };
        self.send_to_framework(ctx, &framework, ToFramework::Update(Box::new(forwarded)));
    }

    pub(super) fn acknowledge(
        &mut self,
        ctx: &mut Context<Self>,
        ack: wire::StatusUpdateAcknowledgement,
    ) {
        if let Some(task) = self.tasks.get(&ack.framework_id, &ack.task_id) {
            let acked_terminal = task.status.as_ref().is_some_and(|s| {
                s.state.is_terminal() && s.uuid.as_deref() == Some(ack.uuid.as_slice())
            }) && task.state.is_terminal();
            if acked_terminal {
                let state = task.state;
                self.tasks.complete(&ack.framework_id, &ack.task_id, state);
            }
        }
        let agent_id = ack.agent_id.clone();
        if let Some(agent) = self.agents.get(&ack.agent_id) {
            self.send_to_agent(ctx, &agent.pid, ack);
        }
        self.check_drained(ctx, &agent_id);
    }

    /// Sends a master-generated (uuid-less) update to a connected framework.
    pub(super) fn send_master_update(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        mut status: TaskStatus,
    ) {
        let now = ctx.node().clock().now().as_secs_f64();
        status.timestamp = Some(now);
        let update = wire::StatusUpdateMessage {
            update: wire::StatusUpdate {
                framework_id: framework.clone(),
                executor_id: None,
                agent_id: status.agent_id.clone(),
                status,
                timestamp: now,
                uuid: None,
                latest_state: None,
            },
            pid: None,
        };
        self.send_to_framework(ctx, framework, ToFramework::Update(Box::new(update)));
    }
}
