//! UPDATE_AGENT on the master (a meso extension; `meso_api::http::update_agent`): an
//! operator changes a running agent's total resources and attributes, with no restart and
//! no task touched.
//!
//! Flow: the call is checked against the books (the agent is registered and connected; a
//! new total below what its tasks use is refused with 409 naming the shortfall unless
//! `force`), then forwarded to the agent as `UpdateAgentConfig`. The agent checks it against
//! its own tasks, checkpoints it and answers `AgentConfigUpdated`. The master writes the
//! agent's new info to the registry (`UpdateAgentInfo`) and, once the registry has it,
//! updates its books and the allocator, rescinds the agent's outstanding offers when they no
//! longer describe it (fewer resources or other attributes; the next offers carry the new
//! attributes), and answers 200. The agent also reports changes made on its own operator
//! API or by SIGHUP the same way, unasked; those are recorded the same way.
//!
//! Why both the agent's checkpoint and the registry: the agent owns its total (it is what
//! its isolators and tasks actually have, and what it answers with after its own restart),
//! so it applies and checkpoints first and the master records what the agent reports, never
//! the reverse. The registry write makes the master's record survive a leader failover
//! before the agent re-registers (the recovered agents of GET_AGENTS, the quota capacity),
//! and a re-registration that carries different values (a change made while no master
//! listened) is recorded in turn, so the agent's word wins whatever failed in between.
//!
//! A forced shrink below what tasks use kills nothing: the allocator keeps the old
//! resources that are still in use and offers nothing beyond the new total until tasks end
//! (`allocation.rs`).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use libprocess::slog::{info, warn};
use libprocess::{Context, HttpReply, HttpResponse, Upid};
use meso_api::attributes::Attributes;
use meso_api::http::update_agent::{shortfall, shortfall_error, UpdateAgent};
use meso_api::http::HttpError;
use meso_api::v1::AgentId;
use meso_api::wire;
use meso_api::Resources;

use super::allocation::AllocatorCall;
use super::legacy::error_response;
use super::registrar::RegistryChange;
use super::{Master, MasterMessage, PendingAdmission};

/// An offer found outdated is given back with this filter (seconds), so that the master
/// and the allocator, should they ever disagree on what an agent holds, cannot pass the
/// same offer back and forth in a loop.
pub const OUTDATED_OFFER_REFUSE_SECONDS: f64 = 1.0;

/// How long the master waits for the agent to apply a forwarded UPDATE_AGENT.
pub const UPDATE_AGENT_TIMEOUT: Duration = Duration::from_secs(15);

/// Operator requests forwarded to agents and not answered yet, by request id, and the
/// agents resized below what they had.
#[derive(Debug, Default)]
pub struct PendingUpdates {
    waiting: HashMap<String, (AgentId, HttpReply)>,
    /// Agents whose total shrank or whose attributes changed: offers for them that the
    /// allocator made before it heard of the change (in flight to the master when it was
    /// applied) are checked against the new total and given back when they exceed it.
    resized: HashSet<AgentId>,
}

impl PendingUpdates {
    /// Remembers `reply` for the agent's answer to `request_id`.
    pub fn insert(&mut self, request_id: String, agent: AgentId, reply: HttpReply) {
        self.waiting.insert(request_id, (agent, reply));
    }

    /// The reply waiting for `request_id` from `agent`, taken out.
    pub fn take(&mut self, request_id: &str, agent: &AgentId) -> Option<HttpReply> {
        match self.waiting.get(request_id) {
            Some((waiting_for, _)) if waiting_for == agent => {
                self.waiting.remove(request_id).map(|(_, reply)| reply)
            }
            _ => None,
        }
    }

    /// The reply waiting for `request_id`, taken out (its time ran out).
    pub fn expire(&mut self, request_id: &str) -> Option<(AgentId, HttpReply)> {
        self.waiting.remove(request_id)
    }
}

impl Master {
    /// Whether an offer the allocator made on `agent` no longer fits the agent's total: with
    /// it, tasks and outstanding offers exceed the total by more than they do without it (a
    /// forced shrink leaves tasks beyond the total; that excess alone does not make an offer
    /// outdated). Such an offer was made before a shrink reached the allocator. Checked only
    /// for resized agents.
    pub(super) fn offer_outdated(&self, agent: &AgentId, offered: &Resources) -> bool {
        if !self.agent_updates.resized.contains(agent) {
            return false;
        }
        let Some(record) = self.agents.get(agent) else {
            return false;
        };
        let mut held = self.agent_task_usage(agent);
        for id in self.offers.on_agent(agent) {
            if let Some(o) = self.offers.get(&id) {
                held += &o.offer.resources;
            }
        }
        let before = shortfall(&record.info.resources, &held);
        held += offered;
        shortfall(&record.info.resources, &held) != before
    }

    /// The resources the master's books say the agent's tasks hold in the allocator (a
    /// task whose terminal update came has given them back, acknowledged or not).
    fn agent_task_usage(&self, id: &AgentId) -> Resources {
        let mut used = Resources::new();
        for (framework, task) in self.tasks.on_agent(id) {
            if let Some(t) = self.tasks.get(&framework, &task).filter(|t| !t.recovered) {
                used += &t.consumed;
            }
        }
        used
    }

    /// Agent `id`'s total from new static resources (what UPDATE_AGENT and the agent's
    /// reports carry): the dynamic reservations and volumes and the revocable part the books
    /// hold for it are kept on top. An error names a reservation or volume that the new
    /// static resources no longer hold.
    fn total_keeping_conversions(
        &self,
        id: &AgentId,
        static_resources: &Resources,
    ) -> Result<Resources, String> {
        let Some(current) = self.agents.get(id).map(|a| &a.info.resources) else {
            return Ok(static_resources.clone());
        };
        let mut total = static_resources
            .non_revocable()
            .apply_checkpointed(&current.checkpointed())
            .map_err(|e| {
                format!(
                    "the new resources must still hold the agent's reservations and volumes \
                     (unreserve or destroy them first): {e}"
                )
            })?;
        total += &current.revocable();
        Ok(total)
    }

    /// UPDATE_AGENT on `POST /api/v1`: checked, then forwarded to the agent; the reply
    /// waits for the agent's answer and the registry.
    pub(super) fn update_agent_call(
        &mut self,
        ctx: &mut Context<Self>,
        update: UpdateAgent,
        reply: HttpReply,
    ) {
        let id = update
            .agent_id
            .clone()
            .expect("the front door requires update_agent.agent_id");
        let Some(agent) = self.agents.get(&id) else {
            return reply.respond(error_response(HttpError::new(
                404,
                format!("Agent '{id}' not found"),
            )));
        };
        if !agent.active {
            return reply.respond(error_response(HttpError::new(
                409,
                format!("Agent '{id}' is disconnected; it must be connected to apply UPDATE_AGENT"),
            )));
        }
        if let Some(asked) = &update.resources {
            let total = match self.total_keeping_conversions(&id, asked) {
                Ok(total) => total,
                Err(e) => {
                    return reply.respond(error_response(HttpError::new(
                        409,
                        format!("Agent '{id}': {e}"),
                    )))
                }
            };
            let short = shortfall(&total, &self.agent_task_usage(&id));
            if !short.is_empty() && !update.force() {
                return reply.respond(error_response(shortfall_error(&id.value, &total, &short)));
            }
        }
        let pid = agent.pid.clone();
        let request_id = ctx.uuid_v4().to_string();
        self.send_to_agent(
            ctx,
            &pid,
            wire::UpdateAgentConfig {
                request_id: request_id.clone(),
                resources: update.resources.clone(),
                attributes: update.attributes.clone(),
                force: update.force(),
            },
        );
        self.agent_updates.insert(request_id.clone(), id, reply);
        ctx.delay(
            UPDATE_AGENT_TIMEOUT,
            MasterMessage::UpdateAgentTimeout(request_id),
        );
    }

    /// The agent did not answer a forwarded UPDATE_AGENT in time.
    pub(super) fn update_agent_timeout(&mut self, request_id: &str) {
        if let Some((id, reply)) = self.agent_updates.expire(request_id) {
            reply.respond(error_response(HttpError::new(
                504,
                format!(
                    "Agent '{id}' did not answer UPDATE_AGENT within {}s; the change may still \
                     apply when it does (GET_AGENTS shows the agent's resources)",
                    UPDATE_AGENT_TIMEOUT.as_secs()
                ),
            )));
        }
    }

    /// An agent reports its configuration after a change (or refuses a forwarded one).
    pub(super) fn agent_config_updated(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::AgentConfigUpdated,
    ) {
        if !self.sender_is_agent(&from, &msg.agent_id) {
            warn!(ctx.node().logger(), "AgentConfigUpdated not from the agent it names dropped";
                "agent" => %msg.agent_id);
            return;
        }
        let reply = msg
            .request_id
            .as_deref()
            .and_then(|r| self.agent_updates.take(r, &msg.agent_id));
        if let Some((status, reason)) = msg.refusal {
            if let Some(reply) = reply {
                reply.respond(error_response(HttpError::new(status, reason)));
            }
            return;
        }
        self.record_agent_config(ctx, &msg.agent_id, msg.resources, msg.attributes, reply);
    }

    /// Writes an agent's reported configuration to the registry if it differs from the
    /// books; applies it once the registry has it (and answers `reply`, if any).
    pub(super) fn record_agent_config(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        resources: Resources,
        attributes: Attributes,
        reply: Option<HttpReply>,
    ) {
        // The agent reports its static resources; the books hold its total.
        let resources = match self.total_keeping_conversions(id, &resources) {
            Ok(total) => total,
            Err(e) => {
                warn!(ctx.node().logger(), "agent configuration not recorded";
                    "agent" => %id, "error" => &e);
                if let Some(reply) = reply {
                    reply.respond(error_response(HttpError::new(
                        409,
                        format!("Agent '{id}': {e}"),
                    )));
                }
                return;
            }
        };
        let Some(agent) = self.agents.get(id) else {
            if let Some(reply) = reply {
                reply.respond(error_response(HttpError::new(
                    404,
                    format!("Agent '{id}' is no longer registered"),
                )));
            }
            return;
        };
        if agent.info.resources == resources && agent.info.attributes == attributes {
            if let Some(reply) = reply {
                reply.respond(HttpResponse::text(
                    libprocess::http_types::StatusCode::OK,
                    "",
                ));
            }
            return;
        }
        let mut info = agent.info.clone();
        info.id = Some(id.clone());
        info.resources = resources;
        info.attributes = attributes;
        self.registry(
            ctx,
            RegistryChange::UpdateAgentInfo(info),
            Some(PendingAdmission::AgentConfig(reply)),
        );
    }

    /// The registry answered an agent's new info: apply it and answer the operator.
    pub(super) fn agent_config_recorded(
        &mut self,
        ctx: &mut Context<Self>,
        change: &RegistryChange,
        applied: bool,
        reply: Option<HttpReply>,
    ) {
        let RegistryChange::UpdateAgentInfo(info) = change else {
            return;
        };
        let id = info
            .id
            .clone()
            .expect("UpdateAgentInfo changes are built with the agent's id");
        if !applied {
            if let Some(reply) = reply {
                reply.respond(error_response(HttpError::new(
                    409,
                    format!("the registry no longer admits agent '{id}'; nothing was applied"),
                )));
            }
            return;
        }
        let Some(old) = self.agents.get(&id).map(|a| a.info.clone()) else {
            if let Some(reply) = reply {
                reply.respond(error_response(HttpError::new(
                    404,
                    format!("Agent '{id}' is no longer registered"),
                )));
            }
            return;
        };
        self.agents
            .update_config(&id, info.resources.clone(), info.attributes.clone());
        // Offers made before the change describe the agent as it was: rescinded when it
        // has less to offer or other attributes, so the next offers describe it as it is.
        if old.attributes != info.attributes || !info.resources.contains(&old.resources) {
            self.agent_updates.resized.insert(id.clone());
            for offer in self.offers.on_agent(&id) {
                self.rescind_offer(ctx, &offer, None);
            }
        }
        self.allocator(AllocatorCall::UpdateAgent {
            agent: id.value.clone(),
            total: info.resources.clone(),
        });
        let short = shortfall(&info.resources, &self.agent_task_usage(&id));
        info!(ctx.node().logger(), "agent resources and attributes changed online";
            "agent" => %id, "resources" => %info.resources, "attributes" => %info.attributes,
            "was" => format!("{}; {}", old.resources, old.attributes),
            "tasks_beyond_total" => %short);
        if let Some(reply) = reply {
            reply.respond(HttpResponse::text(
                libprocess::http_types::StatusCode::OK,
                "",
            ));
        }
    }
}
