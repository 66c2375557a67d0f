//! An agent's link to the master breaking and the agent coming back, as in Mesos: when the
//! libprocess link to a registered agent breaks (`exited` of its PID), the agent is marked
//! disconnected and deactivated. The allocator stops offering its resources and its
//! outstanding offers are rescinded (recovered); it stays registered. Tasks of frameworks
//! that do not checkpoint cannot survive an agent restart, so they end TASK_LOST at once
//! (reason REASON_AGENT_DISCONNECTED, resources recovered), as Mesos; tasks of
//! checkpointing frameworks stay and wait for the agent or the ping limit.
//! Pings go on (saying `connected: false`, which makes a live agent re-register); after
//! `--max-agent-ping-timeouts` misses it is marked unreachable as any silent agent, and so
//! is one that answers pings but has not re-registered within `--agent-reregister-timeout`
//! (an agent stuck in its recovery, MESOS-6286). Re-registration reactivates it.
//!
//! Invariant: the allocator is told to deactivate the agent before its offers are recovered,
//! so no round can re-offer them in between.

use libprocess::slog::{info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::{AgentId, TaskState, TaskStatusReason};

use super::allocation::AllocatorCall;
use super::partition::master_status;
use super::{Master, MasterMessage};

impl Master {
    /// The link to `pid` broke; if it is a registered, active agent, deactivate it.
    /// Returns whether `pid` was such an agent.
    pub(super) fn agent_link_broke(&mut self, ctx: &mut Context<Self>, pid: &Upid) -> bool {
        let Some(id) = self.agents.disconnect(pid) else {
            return false;
        };
        info!(ctx.node().logger(), "agent disconnected; its offers are rescinded"; "agent" => %id, "pid" => %pid);
        self.allocator(AllocatorCall::DeactivateAgent(id.value.clone()));
        for offer in self.offers.on_agent(&id) {
            self.rescind_offer(ctx, &offer, None);
        }
        self.lose_uncheckpointed_tasks(ctx, &id);
        if let Some(record) = self.agents.get(&id) {
            let n = record.disconnection;
            ctx.delay(
                self.config.agent_reregister_timeout,
                MasterMessage::DisconnectedAgentTimeout(id, n),
            );
        }
        true
    }

    /// `--agent-reregister-timeout` after agent `id`'s disconnection number `n`: still
    /// disconnected since then, it is marked unreachable (paced as ping expiries are).
    pub(super) fn disconnected_agent_timeout(
        &mut self,
        ctx: &mut Context<Self>,
        id: AgentId,
        n: u64,
    ) {
        let still = self
            .agents
            .get(&id)
            .is_some_and(|r| !r.active && r.disconnection == n);
        if still {
            warn!(ctx.node().logger(), "disconnected agent did not re-register in time"; "agent" => %id);
            self.agent_missed_pings(ctx, id);
        }
    }

    /// Ends the tasks on disconnected agent `id` of frameworks that do not checkpoint.
    fn lose_uncheckpointed_tasks(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
        let hostname = match self.agents.get(id) {
            Some(a) => a.info.hostname.clone(),
            None => return,
        };
        for (framework_id, task_id) in self.tasks.on_agent(id) {
            let checkpointing = self
                .frameworks
                .get(&framework_id)
                .is_some_and(|f| f.info.checkpoint);
            if checkpointing {
                continue;
            }
            let state = TaskState::Lost;
            let status = master_status(
                task_id.clone(),
                id,
                state,
                TaskStatusReason::AgentDisconnected,
                format!("Agent {hostname} disconnected"),
            );
            let visible = self.task_event_visibility(&framework_id, &task_id);
            self.operator
                .events
                .task_updated(&visible, &framework_id, &status, state);
            if let Some(done) = self.tasks.complete(&framework_id, &task_id, state) {
                if !done.recovered {
                    self.recover(
                        &framework_id.value,
                        &id.value,
                        &done.role,
                        done.consumed,
                        None,
                    );
                }
            }
            self.send_master_update(ctx, &framework_id, status);
        }
    }

    /// A disconnected agent re-registered (its record is active again): offers resume.
    pub(super) fn agent_reactivated(&mut self, id: &AgentId) {
        if self.agents.controls().is_deactivated(id) {
            // The operator's deactivation outlives the disconnection.
            return;
        }
        self.allocator(AllocatorCall::ActivateAgent(id.value.clone()));
    }

    /// Whether the master still believes the agent at `pid` connected (what pings say).
    pub(super) fn agent_connected(&self, pid: &Upid) -> bool {
        self.agents
            .by_pid(pid)
            .and_then(|id| self.agents.get(id))
            .is_some_and(|record| record.active)
    }
}
