//! An agent's link to the master breaking and the agent coming back, as in Mesos: when the
//! libprocess link to a registered agent breaks (`exited` of its PID), the agent is marked
//! disconnected and deactivated. The allocator stops offering its resources and its
//! outstanding offers are rescinded (recovered); its tasks stay, and it stays registered.
//! Pings go on (saying `connected: false`, which makes a live agent re-register); after
//! `--max-agent-ping-timeouts` misses it is removed as any silent agent. Re-registration
//! reactivates it.
//!
//! Invariant: the allocator is told to deactivate the agent before its offers are recovered,
//! so no round can re-offer them in between.

use libprocess::slog::info;
use libprocess::{Context, Upid};
use meso_api::v1::AgentId;

use super::allocation::AllocatorCall;
use super::Master;

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
        true
    }

    /// A disconnected agent re-registered (its record is active again): offers resume.
    pub(super) fn agent_reactivated(&mut self, id: &AgentId) {
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
