//! Inverse offers (docs/maintenance.md): each framework with tasks on an agent of a
//! DRAINING machine is asked, once per agent, to give the agent back before the machine's
//! unavailability (v1 INVERSE_OFFERS, or the driver's `InverseOffersMessage`). Its answer
//! (ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS) is recorded for GET_MAINTENANCE_STATUS
//! and, as Mesos's filters do, the framework is asked again once the answer's
//! `refuse_seconds` (5 by default) have passed while the machine is still DRAINING; every
//! ping round also asks the frameworks not asked yet (subscribed since). An
//! inverse offer is rescinded (RESCIND_INVERSE_OFFER) when its machine leaves DRAINING or
//! its agent leaves. Answers are advice for the operator: they change nothing else.

use std::collections::BTreeSet;
use std::time::Duration;

use libprocess::slog::debug;
use libprocess::Context;
use meso_api::v1::{AgentId, Filters, FrameworkId, InverseOffer, OfferId};
use meso_api::wire;

use super::super::framework_link::ToFramework;
use super::super::{Master, MasterMessage};
use super::{Answer, InverseOfferRecord};

impl Master {
    fn wall_ns(&self, ctx: &Context<Self>) -> i64 {
        (self.wall_secs(ctx) * 1e9) as i64
    }

    /// Sends inverse offers for agent `id` when its machine is DRAINING: one to each
    /// connected framework with tasks on it that has none outstanding for it.
    pub(in crate::master) fn offer_inverse_for_agent(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
    ) {
        let Some(machine) = self.machine_of_agent(id) else {
            return;
        };
        let Some(unavailability) = self.maintenance.unavailability(&machine) else {
            return;
        };
        let frameworks: BTreeSet<FrameworkId> = self
            .tasks
            .on_agent(id)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        let now_ns = self.wall_ns(ctx);
        for framework in frameworks {
            if !self.frameworks.get(&framework).is_some_and(|f| f.connected) {
                continue;
            }
            let Some(offer_id) =
                self.maintenance
                    .offer(&self.config.master_id, &framework, id, &machine, now_ns)
            else {
                continue;
            };
            debug!(ctx.node().logger(), "inverse offer"; "framework" => %framework, "agent" => %id, "id" => %offer_id);
            let offer = InverseOffer {
                id: offer_id,
                url: None,
                framework_id: framework.clone(),
                agent_id: Some(id.clone()),
                unavailability: unavailability.clone(),
                resources: Default::default(),
            };
            self.send_to_framework(
                ctx,
                &framework,
                ToFramework::InverseOffers(wire::InverseOffers {
                    inverse_offers: vec![offer],
                }),
            );
        }
    }

    /// Rescinds the outstanding inverse offers `which` selects.
    pub(in crate::master) fn rescind_inverse_offers(
        &mut self,
        ctx: &mut Context<Self>,
        which: impl Fn(&InverseOfferRecord) -> bool,
    ) {
        for (id, record) in self.maintenance.take_where(which) {
            self.send_to_framework(
                ctx,
                &record.framework,
                ToFramework::RescindInverseOffer(wire::RescindInverseOffer {
                    inverse_offer_id: id,
                }),
            );
        }
    }

    /// ACCEPT_INVERSE_OFFERS (`accept`) or DECLINE_INVERSE_OFFERS from `framework`.
    pub(in crate::master) fn answer_inverse_offers(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        ids: &[OfferId],
        filters: Option<Filters>,
        accept: bool,
    ) {
        let answer = if accept {
            Answer::Accept
        } else {
            Answer::Decline
        };
        let now_ns = self.wall_ns(ctx);
        let refuse_seconds = filters.map_or(5.0, |f| f.refuse_seconds);
        let after =
            Duration::try_from_secs_f64(refuse_seconds.max(0.0)).unwrap_or(Duration::MAX / 4);
        let refuse_ns = i64::try_from(after.as_nanos()).unwrap_or(i64::MAX);
        let answered = self
            .maintenance
            .answer(framework, ids, answer, now_ns, refuse_ns);
        for record in answered {
            ctx.delay(
                after,
                MasterMessage::InverseOfferFilterExpired(record.framework, record.agent),
            );
        }
    }

    /// Every agent on a DRAINING machine: its frameworks are asked (again) unless an
    /// inverse offer is outstanding or an answer filters them. Run each ping round, so a
    /// framework that (re-)subscribes later (after a master failover, say) is asked too.
    pub(in crate::master) fn offer_inverse_everywhere(&mut self, ctx: &mut Context<Self>) {
        if self.maintenance.machines.windows().is_empty() {
            return;
        }
        let agents: Vec<AgentId> = self
            .agents
            .iter()
            .filter_map(|a| a.info.id.clone())
            .collect();
        for id in agents {
            self.offer_inverse_for_agent(ctx, &id);
        }
    }

    /// A framework's filter on inverse offers for an agent expired: ask it again if the
    /// agent's machine is still DRAINING.
    pub(in crate::master) fn inverse_offer_filter_expired(
        &mut self,
        ctx: &mut Context<Self>,
        _framework: &FrameworkId,
        agent: &AgentId,
    ) {
        self.offer_inverse_for_agent(ctx, agent);
    }
}
