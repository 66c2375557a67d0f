//! Draining (Mesos 1.9+, docs/agent-draining.md): the master's `DrainAgent` is checkpointed
//! (`meta/slaves/<id>/drain.config`) before anything is killed, then every task the agent
//! runs or has queued is killed with its kill grace period bounded by the drain's
//! `max_grace_period`. Once the agent's last framework is gone the drain is complete and
//! forgotten, on disk too. A restarted agent that finds a checkpointed drain resumes it:
//! it kills what it took back (queued until each executor re-subscribes). A task that
//! arrives while the agent drains is refused (TASK_DROPPED, or TASK_LOST without
//! PARTITION_AWARE, reason AGENT_DRAINING).
//!
//! The master owns the rest: the agent gets no offers while draining, and the master marks
//! it DRAINED once every terminal update is acknowledged.

use libprocess::Context;
use meso_api::v1::{FrameworkCapabilityType, FrameworkInfo, TaskId, TaskState, TaskStatusReason};
use meso_api::wire::{DrainAgent, KillTask};
use slog::{info, warn};

use super::updates::OwnUpdate;
use super::Agent;

impl Agent {
    /// The master asks the agent to drain.
    pub(super) fn drain(&mut self, ctx: &mut Context<Self>, drain: DrainAgent) {
        if let Err(e) = self.store.write_drain_config(&drain) {
            // The drain still goes on: the master asks again when the agent re-registers.
            warn!(self.log, "the drain could not be checkpointed"; "error" => %e);
        }
        info!(self.log, "draining"; "max_grace_period_ns" => ?drain.max_grace_period_ns);
        self.drain = Some(drain);
        self.kill_for_drain(ctx);
    }

    /// After recovery: a checkpointed drain goes on.
    pub(super) fn resume_drain(&mut self, ctx: &mut Context<Self>) {
        match self.store.read_drain_config() {
            Ok(Some(drain)) => {
                info!(self.log, "resuming a checkpointed drain");
                self.drain = Some(drain);
                self.kill_for_drain(ctx);
            }
            Ok(None) => {}
            Err(e) => {
                warn!(self.log, "the checkpointed drain is unreadable; ignored"; "error" => %e)
            }
        }
    }

    /// Kills every task (running or queued), each with the drain's bounded kill policy.
    fn kill_for_drain(&mut self, ctx: &mut Context<Self>) {
        let Some(drain) = self.drain else {
            return;
        };
        let kills: Vec<KillTask> = self
            .frameworks
            .iter()
            .flat_map(|(framework_id, fw)| {
                fw.executors.values().flat_map(move |ex| {
                    let running = ex
                        .tasks
                        .values()
                        .filter(|t| !t.state.is_terminal())
                        .map(|t| &t.info);
                    running.chain(ex.queued.iter()).map(move |info| KillTask {
                        framework_id: framework_id.clone(),
                        task_id: info.task_id.clone(),
                        kill_policy: drain.kill_policy_for(info.kill_policy.as_ref()),
                    })
                })
            })
            .collect();
        for kill in kills {
            self.kill_task(ctx, kill);
        }
        self.drain_done_if_empty();
    }

    /// A task that arrives while the agent drains is not launched (Mesos: TASK_DROPPED for a
    /// PARTITION_AWARE framework, TASK_LOST otherwise, reason AGENT_DRAINING). Returns
    /// whether it was refused.
    pub(super) fn refuse_while_draining(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkInfo,
        task: &TaskId,
    ) -> bool {
        let (Some(_), Some(framework_id)) = (self.drain, framework.id.as_ref()) else {
            return false;
        };
        warn!(self.log, "task refused: the agent is draining"; "task_id" => %task);
        let state = if framework.has_capability(FrameworkCapabilityType::PartitionAware) {
            TaskState::Dropped
        } else {
            TaskState::Lost
        };
        self.agent_update(
            ctx,
            OwnUpdate {
                framework_id,
                executor_id: None,
                task_id: task,
                state,
                message: "Task was received while agent was already draining".into(),
                reason: TaskStatusReason::AgentDraining,
            },
        );
        true
    }

    /// A drain is complete once no framework is left: it is forgotten, on disk too.
    pub(super) fn drain_done_if_empty(&mut self) {
        if self.drain.is_none() || !self.frameworks.is_empty() {
            return;
        }
        match self.store.remove_drain_config() {
            Ok(()) => {
                info!(self.log, "drained: nothing runs any more");
                self.drain = None;
            }
            Err(e) => warn!(self.log, "the drain's checkpoint could not be removed"; "error" => %e),
        }
    }
}
