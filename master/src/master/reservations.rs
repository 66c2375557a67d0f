//! Dynamic reservations and persistent volumes on the master: the operator calls
//! RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES, GROW_VOLUME and
//! SHRINK_VOLUME, the legacy `POST /master/reserve`, `/unreserve`, `/create-volumes` and
//! `/destroy-volumes`, and the same operations in a framework's ACCEPT. The checks are
//! `reservation_checks.rs`; this file applies them.
//!
//! Where they live, as Mesos: the agent's total in the agent book includes its dynamic
//! reservations and volumes, and the agent checkpoints them (`CheckpointResources`, the
//! complete set, after every change). Nothing goes to the registry: a master that fails
//! over learns them again when the agent re-registers with its checkpointed resources
//! (`Resources::apply_checkpointed` over its static `--resources`); a master that still
//! knows an agent keeps its own view and re-sends it when the agent reports another.
//!
//! An operator's operation consumes free resources: the agent's outstanding offers are
//! rescinded (all of them, to give the operation every chance), then the allocator converts
//! its free resources and answers (`UpdateAvailable`); only then does the agent book change,
//! the agent get its checkpoint and the caller its 202. Resources in use, or not on the
//! agent, are a 409 naming them; a request that breaks a rule is a 400 naming it. One
//! operator operation is in flight at a time (the rest wait in order), so each is checked
//! against the books its predecessors left.
//!
//! A framework's operation converts what it was offered: an invalid one is dropped with a
//! warning (as Mesos) and the rest of the ACCEPT goes on; a valid one changes the resources
//! its later LAUNCHes use, the agent book and what the framework holds in the allocator.

use std::collections::VecDeque;

use libprocess::http_types::StatusCode;
use libprocess::slog::{info, warn};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::operator::{MasterCall, MasterCallType};
use meso_api::http::reservations::{AgentOperation, LegacyOperation};
use meso_api::http::{HttpError, RequestHeaders};
use meso_api::v1::{AgentId, FrameworkId, Operation};
use meso_api::{wire, Resources};

use super::allocation::AllocatorCall;
use super::legacy::error_response;
use super::reservation_checks::{allocated, check_operation, conversion, unallocated, Asker};
use super::validation::ValidOffers;
use super::{Master, MasterMessage};

/// How many times an operator's operation is tried when what it needs is offered: a round
/// may have made offers that were on their way to the master when it rescinded the agent's.
const ATTEMPTS: u32 = 3;

/// An operator's operation waiting for its turn.
#[derive(Debug)]
pub struct PendingOperation {
    /// The agent and the operation.
    pub request: AgentOperation,
    /// The authenticated caller, if any.
    pub principal: Option<String>,
    /// Where the answer goes.
    pub reply: HttpReply,
    /// Tries so far.
    pub attempts: u32,
}

/// Operator operations: the one in flight and those waiting; and the record of every
/// applied operation, the operator's and the frameworks' (`operation_records.rs`).
#[derive(Debug, Default)]
pub struct OperatorOperations {
    waiting: VecDeque<PendingOperation>,
    in_flight: bool,
    pub(super) book: meso_api::v1::operation_book::OperationBook,
}

/// The allocator's answer to an operator's operation.
#[derive(Debug)]
pub struct OperationApplied {
    /// The new total, or why not (and whether trying again may help).
    pub result: Result<Resources, (String, bool)>,
    /// What was asked.
    pub pending: PendingOperation,
}

fn accepted() -> HttpResponse {
    HttpResponse::text(StatusCode::ACCEPTED, "")
}

impl Master {
    /// The principal of an authenticated request, `None` when it is not authenticated.
    fn http_principal(
        &self,
        ctx: &Context<Self>,
        route: &str,
        request: &HttpRequest,
    ) -> Option<String> {
        let headers = RequestHeaders::from_pairs(
            request
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())),
        );
        let realm = meso_api::http::auth::master_realm(route);
        self.config
            .http_auth
            .authenticate(realm, &headers, self.wall_secs(ctx))
            .ok()
            .flatten()
            .and_then(|p| p.value)
    }

    /// Answers a reservation or volume call of the v1 operator API; `None` hands other
    /// calls back.
    pub(super) fn serve_reservation_call(
        &mut self,
        ctx: &mut Context<Self>,
        call: MasterCall,
        request: &HttpRequest,
        reply: HttpReply,
    ) -> Option<(MasterCall, HttpReply)> {
        let missing = || unreachable_payload(call.kind);
        let request_op = match call.kind {
            MasterCallType::ReserveResources => {
                Ok(call.reserve_resources.clone().map(|c| c.into_operation()))
            }
            MasterCallType::UnreserveResources => {
                Ok(call.unreserve_resources.clone().map(|c| c.into_operation()))
            }
            MasterCallType::CreateVolumes => {
                Ok(call.create_volumes.clone().map(|c| c.into_create()))
            }
            MasterCallType::DestroyVolumes => {
                Ok(call.destroy_volumes.clone().map(|c| c.into_destroy()))
            }
            MasterCallType::GrowVolume => call
                .grow_volume
                .clone()
                .map(|c| c.into_operation())
                .transpose(),
            MasterCallType::ShrinkVolume => call
                .shrink_volume
                .clone()
                .map(|c| c.into_operation())
                .transpose(),
            MasterCallType::GetOperations => {
                self.get_operations(reply);
                return None;
            }
            _ => return Some((call, reply)),
        };
        match request_op {
            Ok(Some(op)) => {
                let principal = self.http_principal(ctx, "/api/v1", request);
                self.queue_operation(ctx, op, principal, reply);
            }
            Ok(None) => reply.respond(error_response(missing())),
            Err(e) => reply.respond(error_response(e)),
        }
        None
    }

    /// Answers the legacy `/reserve`, `/unreserve`, `/create-volumes`, `/destroy-volumes`
    /// (POST, form body); `None` when it answered, the request back for other routes.
    pub(super) fn serve_reservation_endpoint(
        &mut self,
        ctx: &mut Context<Self>,
        route: &str,
        request: HttpRequest,
        reply: HttpReply,
    ) -> Option<(HttpRequest, HttpReply)> {
        let Some(endpoint) = LegacyOperation::of_route(route) else {
            return Some((request, reply));
        };
        if request.method != libprocess::http_types::Method::POST {
            let mut e = HttpError::new(
                405,
                "Expecting one of { 'POST' }, but received another method".to_string(),
            );
            e.headers.push(("Allow".into(), "POST".into()));
            reply.respond(error_response(e));
            return None;
        }
        match endpoint.decode(&request.body) {
            Ok(op) => {
                let principal = self.http_principal(ctx, route, &request);
                self.queue_operation(ctx, op, principal, reply);
            }
            Err(e) => reply.respond(error_response(e)),
        }
        None
    }

    fn queue_operation(
        &mut self,
        ctx: &mut Context<Self>,
        request: AgentOperation,
        principal: Option<String>,
        reply: HttpReply,
    ) {
        if let Some(why) = self.refuse_operation(principal.as_deref(), &request.operation) {
            return reply.respond(error_response(HttpError::forbidden(why)));
        }
        self.operations.waiting.push_back(PendingOperation {
            request,
            principal,
            reply,
            attempts: 0,
        });
        self.start_next_operation(ctx);
    }

    /// Starts the next waiting operator operation unless one is in flight; answers at once
    /// those refused by the checks.
    fn start_next_operation(&mut self, ctx: &mut Context<Self>) {
        while !self.operations.in_flight {
            let Some(next) = self.operations.waiting.pop_front() else {
                return;
            };
            let PendingOperation {
                request,
                principal,
                reply,
                attempts,
            } = next;
            let agent_id = request.agent_id.clone();
            let operation = unallocated(&request.operation);
            let kind = operation.kind;
            let Some(total) = self.agents.get(&agent_id).map(|a| a.info.resources.clone()) else {
                reply.respond(error_response(HttpError::bad_request(format!(
                    "No agent found with specified ID '{agent_id}'"
                ))));
                continue;
            };
            let asker = Asker {
                principal: principal.as_deref(),
                roles: None,
            };
            let invalid = |why: String| {
                HttpError::bad_request(format!(
                    "Invalid {kind} operation on agent {agent_id}: {why}"
                ))
            };
            if let Err(why) = check_operation(&operation, &asker, &self.in_use_on_agent(&agent_id))
            {
                reply.respond(error_response(invalid(why)));
                continue;
            }
            let after = match total.apply(&operation) {
                Ok(after) => after,
                Err(e) => {
                    reply.respond(error_response(HttpError::new(
                        409,
                        format!("Invalid {kind} operation on agent {agent_id}: {e}"),
                    )));
                    continue;
                }
            };
            let (consumed, produced) = conversion(&total, &after);
            let recovered = self.withdraw_offers(ctx, &agent_id);
            let (done, answer) = tokio::sync::oneshot::channel();
            self.allocator(AllocatorCall::UpdateAvailable {
                recovered,
                agent: agent_id.value.clone(),
                consumed,
                produced,
                done,
            });
            self.operations.in_flight = true;
            let pending = PendingOperation {
                request,
                principal,
                reply,
                attempts: attempts + 1,
            };
            ctx.defer(answer, move |r| {
                let result = match r {
                    Ok(Ok(total)) => Ok(total),
                    Ok(Err(e)) => {
                        let retry = matches!(e, meso_allocator::AllocatorError::NotFree { .. });
                        Err((e.to_string(), retry))
                    }
                    Err(_) => Err(("the allocator stopped".to_string(), false)),
                };
                MasterMessage::OperationApplied(Box::new(OperationApplied { result, pending }))
            });
        }
    }

    /// Takes every outstanding offer on `agent` back from its framework (rescinded) and
    /// returns them for the allocator to recover.
    fn withdraw_offers(
        &mut self,
        ctx: &mut Context<Self>,
        agent: &AgentId,
    ) -> Vec<meso_allocator::Offer> {
        let mut recovered = Vec::new();
        for id in self.offers.on_agent(agent) {
            let Some(record) = self.offers.remove(&id) else {
                continue;
            };
            let rescind = wire::RescindResourceOffer { offer_id: id };
            self.send_to_framework(
                ctx,
                &record.offer.framework_id,
                super::framework_link::ToFramework::Rescind(rescind),
            );
            recovered.push(super::allocation::offer_shape(
                &record.offer.framework_id.value,
                &record.offer.agent_id.value,
                &record.role,
                record.offer.resources,
            ));
        }
        recovered
    }

    /// The allocator answered an operator's operation: see the module docs.
    pub(super) fn operation_applied(&mut self, ctx: &mut Context<Self>, done: OperationApplied) {
        self.operations.in_flight = false;
        let OperationApplied { result, pending } = done;
        let agent_id = pending.request.agent_id.clone();
        let kind = pending.request.operation.kind;
        match result {
            Ok(total) => {
                let before = self
                    .agents
                    .get(&agent_id)
                    .map(|a| a.info.resources.clone())
                    .unwrap_or_default();
                let (_, produced) = conversion(&before, &total);
                if self.agents.set_resources(&agent_id, total) {
                    self.send_checkpointed(ctx, &agent_id);
                    let info = pending.request.operation.clone();
                    self.record_operation(ctx, None, &agent_id, info, produced);
                }
                info!(ctx.node().logger(), "operator operation applied"; "operation" => %kind, "agent" => %agent_id);
                pending.reply.respond(accepted());
            }
            Err((_, true)) if pending.attempts < ATTEMPTS => {
                // Offers made before the rescind may have reached the master since.
                self.operations.waiting.push_front(pending);
            }
            Err((why, _)) => pending.reply.respond(error_response(HttpError::new(
                409,
                format!("Invalid {kind} operation on agent {agent_id}: {why}"),
            ))),
        }
        self.start_next_operation(ctx);
    }

    /// What unfinished tasks hold on `agent` (unallocated): volumes in use cannot be
    /// destroyed or shrunk.
    fn in_use_on_agent(&self, agent: &AgentId) -> Resources {
        let mut used = Resources::new();
        for (f, t) in self.tasks.on_agent(agent) {
            if let Some(task) = self.tasks.get(&f, &t) {
                if !task.state.is_terminal() {
                    used += &task.consumed.unallocate();
                    used += &task.info.resources.unallocate();
                }
            }
        }
        used
    }

    /// Sends the agent its complete set of checkpointed resources.
    pub(super) fn send_checkpointed(&self, ctx: &Context<Self>, agent: &AgentId) {
        if let Some(record) = self.agents.get(agent) {
            let message = wire::CheckpointResources {
                resources: record.info.resources.checkpointed(),
            };
            self.send_to_agent(ctx, &record.pid, message);
        }
    }

    /// One RESERVE, UNRESERVE, CREATE, DESTROY, GROW_VOLUME or SHRINK_VOLUME of an ACCEPT,
    /// applied to what is left of the offers (`available`); dropped with a warning when
    /// invalid.
    pub(super) fn apply_offered_operation(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        offers: &ValidOffers,
        available: &mut Resources,
        operation: Operation,
    ) {
        let kind = operation.kind;
        let Some(info) = self.frameworks.get(framework).map(|f| f.info.clone()) else {
            return;
        };
        let roles = info.effective_roles();
        let asker = Asker {
            principal: info.principal.as_deref(),
            roles: Some(&roles),
        };
        let drop = |why: String| {
            warn!(ctx.node().logger(), "dropping an offer operation of a framework";
                "operation" => %kind, "framework" => %framework, "error" => why);
        };
        if let Err(why) = check_operation(&operation, &asker, &self.in_use_on_agent(&offers.agent))
        {
            return drop(why);
        }
        if let Some(why) = self.refuse_operation(asker.principal, &operation) {
            return drop(why);
        }
        if let Some(r) = operation.reserve.as_ref().and_then(|r| {
            r.resources
                .iter()
                .find(|r| r.reservation_role() != offers.role)
                .cloned()
        }) {
            return drop(format!(
                "{r} is reserved for role '{}' but offered to role '{}'",
                r.reservation_role(),
                offers.role
            ));
        }
        let sent = operation.clone();
        let operation = allocated(&operation, &offers.role);
        let after = match available.apply(&operation) {
            Ok(after) => after,
            Err(e) => return drop(format!("not in the offers: {e}")),
        };
        let total = self
            .agents
            .get(&offers.agent)
            .map(|a| a.info.resources.clone())
            .unwrap_or_default();
        let new_total = match total.apply(&unallocated(&operation)) {
            Ok(t) => t,
            Err(e) => return drop(format!("the agent's total does not allow it: {e}")),
        };
        let (consumed, produced) = conversion(available, &after);
        *available = after;
        let converted = conversion(&total, &new_total).1;
        self.agents.set_resources(&offers.agent, new_total);
        self.allocator(AllocatorCall::UpdateAllocation {
            framework: framework.value.clone(),
            agent: offers.agent.value.clone(),
            role: offers.role.clone(),
            consumed,
            produced,
        });
        self.send_checkpointed(ctx, &offers.agent);
        self.record_operation(ctx, Some(framework.clone()), &offers.agent, sent, converted);
        info!(ctx.node().logger(), "offer operation applied"; "operation" => %kind,
            "framework" => %framework, "agent" => %offers.agent);
    }

    /// A re-registering agent's checkpointed resources: when they differ from the master's
    /// view of a registered agent, the master's are sent to it (the agent missed a change).
    pub(super) fn resend_checkpointed_if_stale(
        &self,
        ctx: &Context<Self>,
        agent: &AgentId,
        reported: &Resources,
    ) {
        let stale = self
            .agents
            .get(agent)
            .is_some_and(|a| &a.info.resources.checkpointed() != reported);
        if stale {
            self.send_checkpointed(ctx, agent);
        }
    }
}

/// The front door requires each call's payload, so a missing one is a bug; answered as a
/// 400 all the same.
fn unreachable_payload(kind: MasterCallType) -> HttpError {
    HttpError::bad_request(format!(
        "Failed to validate master::Call: Expecting '{}' to be present",
        kind.as_str().to_ascii_lowercase()
    ))
}

/// The agent's total from what it registers with: its static resources and its
/// checkpointed reservations and volumes (see the module docs).
pub fn registered_total(
    static_resources: &Resources,
    checkpointed: &Resources,
) -> Result<Resources, String> {
    static_resources
        .apply_checkpointed(checkpointed)
        .map_err(|e| format!("invalid checkpointed resources: {e}"))
}
