//! `POST /api/v1/scheduler` (also `/master/api/v1/scheduler`): the v1 scheduler HTTP API
//! on the master (HTTP reference §1).
//!
//! The pure front door (`meso_api::http::scheduler_request`: method, content type, body
//! limits, call validation, `Accept`, no stream id on SUBSCRIBE) runs first; then, for
//! SUBSCRIBE, the framework is added or reconnected and the answer becomes its event stream
//! (`framework_link.rs` owns the stream from then on); for every other call the framework's
//! standing is checked (`SchedulerRequest::admit`: unknown 400, not subscribed 403, driver
//! 403, stream id missing or wrong 400, UNKNOWN 501) and the call is carried out by the same
//! code as a native driver's `SchedulerCall`, answered 202 (UPDATE_FRAMEWORK: 200).
//!
//! Invariant: every answer that refuses a request has a body saying why; a SUBSCRIBE whose
//! failure is only known after the 200 (a framework id the master removed) gets an ERROR
//! record as its only event, then the stream ends.

use libprocess::http_types::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libprocess::slog::{debug, info, warn};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::{
    events, scheduler_request, FrameworkStanding, HttpError, RequestHeaders, SchedulerRequest,
};
use meso_api::json::Limits;
use meso_api::v1::scheduler::{Call, CallType, Subscribe};
use meso_api::v1::FrameworkId;
use meso_api::wire;

use super::allocation::AllocatorCall;
use super::framework_messages::spec_of;
use super::registrar::RegistryChange;
use super::sends::send_to_driver;
use super::Master;

/// A refusal as an HTTP response: its status, plain-text body and extra headers.
fn refusal(error: HttpError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::text(status, error.body);
    for (name, value) in error.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers.insert(name, value);
        }
    }
    response
}

/// An answer with `status` and an empty body (202 for most calls).
fn empty(status: StatusCode) -> HttpResponse {
    HttpResponse {
        status,
        headers: HeaderMap::new(),
        body: Default::default(),
    }
}

impl Master {
    /// Serves one request to the scheduler endpoint.
    pub(super) fn scheduler_api(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let headers = RequestHeaders::from_pairs(
            request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes())),
        );
        let parsed = scheduler_request(
            request.method.as_str(),
            &headers,
            &request.body,
            &Limits::default(),
        );
        let call = match parsed {
            Ok(call) => call,
            Err(e) => {
                debug!(ctx.node().logger(), "scheduler call refused"; "status" => e.status, "why" => &e.body, "peer" => %request.peer);
                return reply.respond(refusal(e));
            }
        };
        if call.is_subscribe() {
            return self.subscribe_http(ctx, call, reply);
        }
        let id = call
            .framework_id()
            .cloned()
            .expect("scheduler_request validated that non-SUBSCRIBE calls carry a framework id");
        let stream_id = self.framework_links.stream_id(&id).map(str::to_string);
        let standing = match self.frameworks.get(&id) {
            None => FrameworkStanding::Unknown,
            Some(f) if !f.connected => FrameworkStanding::Disconnected,
            Some(f) if f.pid.is_some() => FrameworkStanding::Driver,
            Some(_) => match &stream_id {
                Some(stream_id) => FrameworkStanding::Http { stream_id },
                None => FrameworkStanding::Disconnected,
            },
        };
        if let Err(e) = call.admit(standing) {
            return reply.respond(refusal(e));
        }
        let status = call.success_status();
        let SchedulerRequest { call, .. } = call;
        if call.kind == CallType::UpdateFramework {
            let answer = match self.update_framework(ctx, &id, &call) {
                Ok(()) => empty(StatusCode::OK),
                Err(e) => refusal(e),
            };
            return reply.respond(answer);
        }
        self.apply_scheduler_call(ctx, id, call);
        reply.respond(empty(
            StatusCode::from_u16(status).unwrap_or(StatusCode::ACCEPTED),
        ));
    }

    /// SUBSCRIBE over HTTP: a new framework gets an id; a known id fails over (the old
    /// stream gets ERROR "Framework failed over" and ends, an old driver gets
    /// FrameworkError); an id unknown to this master is taken back as it is (after a
    /// master failover). The answer is the event stream.
    fn subscribe_http(
        &mut self,
        ctx: &mut Context<Self>,
        request: SchedulerRequest,
        reply: HttpReply,
    ) {
        let stream_id = ctx.uuid_v4().to_string();
        let mut headers = HeaderMap::new();
        for (name, value) in request.subscribe_headers(&stream_id) {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
        let Subscribe {
            framework_info: info,
            suppressed_roles,
        } = request
            .call
            .subscribe
            .expect("scheduler_request validated that SUBSCRIBE carries its payload");
        if let Some(why) = self.refuse_framework(&info) {
            info!(ctx.node().logger(), "framework refused by the ACLs"; "reason" => &why);
            let stream = reply.stream(StatusCode::OK, headers);
            let _ = stream.send(events::scheduler_error(&why));
            return;
        }
        let known = info
            .id
            .as_ref()
            .is_some_and(|id| self.frameworks.get(id).is_some());
        let id = match info.id.clone() {
            Some(id) if self.framework_links.was_removed(&id) => {
                let stream = reply.stream(StatusCode::OK, headers);
                let _ = stream.send(events::scheduler_error("Framework has been removed"));
                return;
            }
            Some(id) if self.frameworks.get(&id).is_some() => {
                let was_active = self.frameworks.get(&id).is_some_and(|f| f.active);
                self.close_http_link(&id, "Framework failed over");
                if let Some(old) = self.frameworks.reconnect_http(&id, info.clone()) {
                    ctx.unlink(&old);
                    send_to_driver(
                        ctx,
                        &old,
                        wire::FrameworkError {
                            message: "Framework failed over".to_string(),
                        },
                    );
                }
                self.allocator(AllocatorCall::UpdateFramework(
                    id.value.clone(),
                    spec_of(&info, &suppressed_roles),
                ));
                if !was_active {
                    self.allocator(AllocatorCall::Activate(id.value.clone()));
                }
                info!(ctx.node().logger(), "framework re-subscribed over http"; "framework" => %id);
                id
            }
            Some(id) => {
                self.frameworks.add_http(info.clone(), id.clone());
                self.allocator(AllocatorCall::AddFramework {
                    framework: id.value.clone(),
                    spec: spec_of(&info, &suppressed_roles),
                    active: true,
                });
                info!(ctx.node().logger(), "unknown framework re-subscribed over http; taken back"; "framework" => %id);
                id
            }
            None => {
                let id = self.frameworks.next_id();
                self.frameworks.add_http(info.clone(), id.clone());
                self.allocator(AllocatorCall::AddFramework {
                    framework: id.value.clone(),
                    spec: spec_of(&info, &suppressed_roles),
                    active: true,
                });
                info!(ctx.node().logger(), "framework subscribed over http"; "framework" => %id, "name" => &info.name);
                id
            }
        };
        self.on_framework_changed(ctx, &id, !known);
        // Record (or refresh) it so its failover timeout survives the next master failover.
        let mut recorded = info.clone();
        recorded.id = Some(id.clone());
        self.registry(ctx, RegistryChange::AddFramework(recorded), None);
        let stream = reply.stream(StatusCode::OK, headers);
        self.open_http_link(ctx, &id, stream, stream_id);
    }

    /// UPDATE_FRAMEWORK: `principal`, `user` and `checkpoint` may not change (400); the
    /// new description and suppressed roles go to the allocator; offers for roles the
    /// framework left are rescinded.
    fn update_framework(
        &mut self,
        ctx: &mut Context<Self>,
        id: &FrameworkId,
        call: &Call,
    ) -> Result<(), HttpError> {
        let update = call
            .update_framework
            .as_ref()
            .ok_or_else(|| HttpError::bad_request("Expecting 'update_framework' to be present"))?;
        let info = &update.framework_info;
        if info.id.as_ref() != Some(id) {
            return Err(HttpError::bad_request(format!(
                "'framework_info.id' ({:?}) differs from 'framework_id' ({id})",
                info.id.as_ref().map(|i| i.value.as_str())
            )));
        }
        let current = self
            .frameworks
            .get(id)
            .map(|f| f.info.clone())
            .ok_or_else(|| HttpError::bad_request("Framework cannot be found"))?;
        for (field, changed) in [
            ("principal", current.principal != info.principal),
            ("user", current.user != info.user),
            ("checkpoint", current.checkpoint != info.checkpoint),
        ] {
            if changed {
                return Err(HttpError::bad_request(format!(
                    "Updating 'FrameworkInfo.{field}' is unsupported"
                )));
            }
        }
        let roles = info.effective_roles();
        self.frameworks.update_info(id, info.clone());
        self.allocator(AllocatorCall::UpdateFramework(
            id.value.clone(),
            spec_of(info, &update.suppressed_roles),
        ));
        for offer in self.offers.of_framework(id) {
            let gone = self
                .offers
                .get(&offer)
                .is_some_and(|o| !roles.contains(&o.role));
            if gone {
                self.rescind_offer(ctx, &offer, None);
            }
        }
        info!(ctx.node().logger(), "framework updated"; "framework" => %id);
        Ok(())
    }

    /// The scheduler calls `apply_scheduler_call` leaves: SHUTDOWN (to the executor's
    /// agent), UPDATE_FRAMEWORK from a driver, the inverse-offer answers (to
    /// `maintenance/inverse.rs`), and the calls meso accepts with nothing to do: REQUEST
    /// (ignored by the allocator, as in Mesos), operation acknowledgements and
    /// reconciliation (no offer operation reports feedback yet).
    pub(super) fn apply_other_scheduler_call(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        call: Call,
    ) {
        match call.kind {
            CallType::Shutdown => {
                let Some(shutdown) = call.shutdown else {
                    return;
                };
                match self.agents.get(&shutdown.agent_id) {
                    Some(agent) => {
                        self.send_to_agent(
                            ctx,
                            &agent.pid,
                            wire::ShutdownExecutor {
                                executor_id: shutdown.executor_id,
                                framework_id: framework.clone(),
                            },
                        );
                    }
                    None => {
                        warn!(ctx.node().logger(), "SHUTDOWN for an executor on an unknown agent dropped";
                            "framework" => %framework, "agent" => %shutdown.agent_id);
                    }
                }
            }
            CallType::UpdateFramework => {
                if let Err(e) = self.update_framework(ctx, framework, &call) {
                    self.send_to_framework(
                        ctx,
                        framework,
                        super::framework_link::ToFramework::Error(wire::FrameworkError {
                            message: e.body,
                        }),
                    );
                }
            }
            CallType::AcceptInverseOffers | CallType::DeclineInverseOffers => {
                let accept = call.kind == CallType::AcceptInverseOffers;
                let answer = if accept {
                    call.accept_inverse_offers
                } else {
                    call.decline_inverse_offers
                };
                let answer = answer.unwrap_or_default();
                self.answer_inverse_offers(
                    ctx,
                    framework,
                    &answer.inverse_offer_ids,
                    answer.filters,
                    accept,
                );
            }
            CallType::Request
            | CallType::AcknowledgeOperationStatus
            | CallType::ReconcileOperations => {
                debug!(ctx.node().logger(), "scheduler call accepted with nothing to do";
                    "framework" => %framework, "call" => %call.kind);
            }
            other => {
                warn!(ctx.node().logger(), "scheduler call not carried out"; "framework" => %framework, "call" => %other);
            }
        }
    }
}
