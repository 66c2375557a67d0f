//! Deactivating, draining and reactivating agents (Mesos 1.9+, docs/agent-draining.md).
//!
//! A deactivated agent gets no new offers: the allocator deactivates it and its outstanding
//! offers are rescinded. A draining agent is also told to drain (`DrainAgent`, Mesos's
//! `DrainSlaveMessage`): it checkpoints the drain and kills each of its tasks, with the
//! task's kill grace period bounded by `max_grace_period`; once the master knows no task of
//! it whose terminal update is unacknowledged it is DRAINED (recorded in the registry)
//! and, with `mark_gone`, marked gone. An agent that comes back (re-registers) is
//! deactivated again and told to drain again.

use libprocess::slog::info;
use libprocess::Context;
use meso_api::v1::AgentId;
use meso_api::wire;
use meso_registry::DrainState;

use super::super::allocation::AllocatorCall;
use super::super::registrar::RegistryChange;
use super::super::Master;

impl Master {
    /// Offers stop from a registered agent: the allocator deactivates it and its outstanding
    /// offers are rescinded.
    pub(in crate::master) fn stop_offering_agent(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
        if self.agents.get(id).is_none() {
            return;
        }
        self.allocator(AllocatorCall::DeactivateAgent(id.value.clone()));
        for offer in self.offers.on_agent(id) {
            self.rescind_offer(ctx, &offer, None);
        }
    }

    /// Offers resume from a registered, connected agent that was reactivated.
    pub(in crate::master) fn resume_offering_agent(&mut self, id: &AgentId) {
        if self.agents.get(id).is_some_and(|a| a.active) {
            self.allocator(AllocatorCall::ActivateAgent(id.value.clone()));
        }
    }

    /// Starts (or resumes) draining a registered agent: offers stop and the agent is told
    /// to drain; an agent with nothing running is DRAINED at once.
    pub(in crate::master) fn start_drain(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
        let Some((config, DrainState::Draining)) = self.agents.controls().drain(id) else {
            return;
        };
        let Some(pid) = self.agents.get(id).map(|a| a.pid.clone()) else {
            return;
        };
        self.stop_offering_agent(ctx, id);
        info!(ctx.node().logger(), "draining agent"; "agent" => %id,
            "tasks" => self.tasks.on_agent(id).len(),
            "max_grace_period_ns" => ?config.max_grace_period_ns, "mark_gone" => config.mark_gone);
        self.send_to_agent(
            ctx,
            &pid,
            wire::DrainAgent {
                max_grace_period_ns: config.max_grace_period_ns,
                mark_gone: config.mark_gone,
            },
        );
        self.check_drained(ctx, id);
    }

    /// A DRAINING registered agent that runs nothing any more becomes DRAINED (and gone
    /// with `mark_gone`). Called after each acknowledgement and each drain start.
    pub(in crate::master) fn check_drained(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
        let Some((config, DrainState::Draining)) = self.agents.controls().drain(id) else {
            return;
        };
        if self.agents.get(id).is_none() || self.tasks.has_on_agent(id) {
            return;
        }
        if self.agents.controls_mut().mark_drained(id).is_err() {
            return;
        }
        info!(ctx.node().logger(), "agent drained"; "agent" => %id, "mark_gone" => config.mark_gone);
        self.registry(ctx, RegistryChange::MarkAgentDrained(id.clone()), None);
        if config.mark_gone {
            self.mark_agent_gone(ctx, id);
        }
    }

    /// An agent registered or re-registered: the operator's controls apply again (no
    /// offers while deactivated, the drain resumes), its machine's mode too (inverse offers
    /// to the frameworks running on a DRAINING machine).
    pub(in crate::master) fn apply_agent_controls(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
    ) {
        if self.agents.controls().is_deactivated(id) {
            self.stop_offering_agent(ctx, id);
        }
        self.start_drain(ctx, id);
        self.offer_inverse_for_agent(ctx, id);
    }
}
