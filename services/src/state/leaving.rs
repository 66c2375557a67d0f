//! Agents the master asks back for maintenance (inverse offers): their instances are
//! replaced first. An instance running on such an agent counts as an old member of its app
//! in the rolling step (`reconcile_app`), so a replacement is placed elsewhere and the old
//! task is killed only as the app's `upgradeStrategy` allows, never before the
//! maintenance takes the machine away by surprise; offers from a leaving agent are
//! declined. The set is not stored: a new leader's master sends its inverse offers again.

use std::collections::BTreeSet;

use meso_api::v1::InverseOffer;

use super::{Instance, Services};

impl Services {
    /// The master asks for these agents back: remember each (with the inverse offer that
    /// asked) and return the offers to accept, every one (the framework will move off).
    pub fn agents_leaving(&mut self, offers: &[InverseOffer]) -> Vec<String> {
        let mut accepted = Vec::new();
        for offer in offers {
            let Some(agent) = &offer.agent_id else {
                continue;
            };
            let asked = self.leaving.entry(agent.to_string()).or_default();
            if asked.insert(offer.id.to_string()) && asked.len() == 1 {
                self.emit(serde_json::json!({
                    "eventType": "agent_leaving",
                    "agentId": agent.to_string(),
                }));
            }
            accepted.push(offer.id.to_string());
        }
        if !accepted.is_empty() {
            self.effects.push(super::Effect::Revive);
        }
        accepted
    }

    /// The master withdrew inverse offer `id` (the maintenance was cancelled or is over):
    /// its agent is no longer leaving once no other offer asks for it.
    pub fn inverse_offer_rescinded(&mut self, id: &str) {
        self.leaving.retain(|_, asked: &mut BTreeSet<String>| {
            asked.remove(id);
            !asked.is_empty()
        });
    }

    /// Whether the master asked for agent `agent` back.
    pub fn is_leaving(&self, agent: &str) -> bool {
        self.leaving.contains_key(agent)
    }

    /// Whether `instance` runs on an agent that is leaving.
    pub(super) fn on_leaving_agent(&self, instance: &Instance) -> bool {
        !self.leaving.is_empty()
            && instance
                .task
                .as_ref()
                .is_some_and(|t| self.is_leaving(&t.agent_id))
    }
}
