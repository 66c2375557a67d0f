//! The agent side of the v1 executor HTTP API: `POST /api/v1/executor` (also under
//! `/slave(1)/`).
//!
//! SUBSCRIBE opens a chunked RecordIO stream of JSON events: SUBSCRIBED, then one LAUNCH per
//! queued task; later LAUNCH, KILL, ACKNOWLEDGED, MESSAGE and SHUTDOWN events go down the
//! same stream. UPDATE hands the status to the status update manager, answers 202 and sends
//! ACKNOWLEDGED at once (the agent now owns delivery). MESSAGE goes to the framework through
//! the master; HEARTBEAT is accepted. Malformed calls get the reference's answers: 405 for a
//! method other than POST, 415 for a content type other than JSON, 400 for a missing content
//! type, bad JSON, a call that fails validation or an unknown framework or executor, 406 for
//! a SUBSCRIBE that does not accept JSON, 403 for a call from an executor that has not
//! subscribed. Every error body says why.

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::json::Limits;
use meso_api::v1::executor::{Acknowledged, Call, CallType, Event, EventType, Launch, Subscribed};
use meso_api::wire::{ExecutorToFramework, StatusUpdate};
use slog::{info, warn};

use super::tasks::{ExecutorState, Task};
use super::Agent;

fn error(status: StatusCode, why: impl Into<String>) -> HttpResponse {
    HttpResponse::text(status, why)
}

fn media_type(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers.get(name).map(|v| {
        v.to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

impl Agent {
    pub(super) fn executor_api(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        if request.method != Method::POST {
            return reply.respond(error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Expecting a 'POST' request, received '{}'", request.method),
            ));
        }
        match media_type(&request.headers, http::header::CONTENT_TYPE).as_deref() {
            None => {
                return reply.respond(error(
                    StatusCode::BAD_REQUEST,
                    "Expecting 'Content-Type' to be present",
                ))
            }
            Some("application/json") => {}
            Some(other) => {
                return reply.respond(error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("Expecting 'Content-Type' of application/json, got '{other}'"),
                ))
            }
        }
        let call: Call = match meso_api::json::from_slice(&request.body, &Limits::default()) {
            Ok(call) => call,
            Err(e) => {
                return reply.respond(error(
                    StatusCode::BAD_REQUEST,
                    format!("Failed to parse body into Call: {e}"),
                ))
            }
        };
        if let Err(e) = call.validate() {
            return reply.respond(error(
                StatusCode::BAD_REQUEST,
                format!("Failed to validate executor::Call: {e}"),
            ));
        }
        if call.kind == CallType::Heartbeat {
            return reply.respond(error(StatusCode::ACCEPTED, ""));
        }
        let Some(fw) = self.frameworks.get(&call.framework_id) else {
            return reply.respond(error(StatusCode::BAD_REQUEST, "Framework cannot be found"));
        };
        let Some(executor) = fw.executors.get(&call.executor_id) else {
            return reply.respond(error(StatusCode::BAD_REQUEST, "Executor cannot be found"));
        };
        match call.kind {
            CallType::Subscribe => {
                let accept = media_type(&request.headers, http::header::ACCEPT);
                if !matches!(
                    accept.as_deref(),
                    None | Some("application/json") | Some("*/*")
                ) {
                    return reply.respond(error(
                        StatusCode::NOT_ACCEPTABLE,
                        "Expecting 'Accept' to allow application/json",
                    ));
                }
                self.subscribe(ctx, call, reply)
            }
            _ if executor.state == ExecutorState::Registering => {
                reply.respond(error(StatusCode::FORBIDDEN, "Executor is not subscribed"))
            }
            CallType::Update => self.executor_update(ctx, call, reply),
            CallType::Message => {
                let data = call.message.map(|m| m.data).unwrap_or_default();
                if let Some(agent_id) = self.id.clone() {
                    let _ = ctx.send(
                        &self.config.master,
                        ExecutorToFramework {
                            agent_id,
                            framework_id: call.framework_id,
                            executor_id: call.executor_id,
                            data,
                        },
                    );
                }
                reply.respond(error(StatusCode::ACCEPTED, ""))
            }
            CallType::Heartbeat | CallType::Unknown => {
                reply.respond(error(StatusCode::ACCEPTED, ""))
            }
        }
    }

    fn subscribe(&mut self, _ctx: &mut Context<Self>, call: Call, reply: HttpReply) {
        let agent_info = self.info.clone();
        let fw = self
            .frameworks
            .get_mut(&call.framework_id)
            .expect("invariant: checked by executor_api");
        let framework_info = fw.info.clone();
        let executor = fw
            .executors
            .get_mut(&call.executor_id)
            .expect("invariant: checked by executor_api");
        if executor.state == ExecutorState::Terminating {
            return reply.respond(error(StatusCode::FORBIDDEN, "Executor is terminating"));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        executor.stream = Some(reply.stream(StatusCode::OK, headers));
        executor.state = ExecutorState::Running;
        let mut subscribed = Event::new(EventType::Subscribed);
        subscribed.subscribed = Some(Subscribed {
            executor_info: executor.info.clone(),
            framework_info,
            agent_info,
            container_id: Some(executor.container_id.clone()),
        });
        executor.send_event(&subscribed);
        for task in std::mem::take(&mut executor.queued) {
            let mut launch = Event::new(EventType::Launch);
            launch.launch = Some(Launch { task: task.clone() });
            executor.send_event(&launch);
            executor.tasks.insert(
                task.task_id.clone(),
                Task {
                    info: task,
                    state: meso_api::v1::TaskState::Staging,
                    kill_requested: false,
                },
            );
        }
        info!(self.log, "executor subscribed"; "executor_id" => %call.executor_id,
            "framework_id" => %call.framework_id);
    }

    fn executor_update(&mut self, ctx: &mut Context<Self>, call: Call, reply: HttpReply) {
        let mut status = call
            .update
            .expect("invariant: validate() requires 'update' on UPDATE")
            .status;
        let known = self
            .frameworks
            .get(&call.framework_id)
            .and_then(|fw| fw.executors.get(&call.executor_id))
            .is_some_and(|ex| ex.tasks.contains_key(&status.task_id));
        if !known {
            return reply.respond(error(
                StatusCode::BAD_REQUEST,
                format!("Task '{}' is not known to this executor", status.task_id),
            ));
        }
        status.agent_id = self.id.clone();
        status.executor_id = Some(call.executor_id.clone());
        self.blame_container_limitation(&call.framework_id, &call.executor_id, &mut status);
        let uuid = status.uuid.clone();
        let task_id = status.task_id.clone();
        let update = StatusUpdate {
            framework_id: call.framework_id.clone(),
            executor_id: Some(call.executor_id.clone()),
            agent_id: self.id.clone(),
            timestamp: status.timestamp.unwrap_or(0.0),
            status,
            uuid: uuid.clone(),
            latest_state: None,
        };
        if let Err(e) = self.take_update(ctx, update) {
            warn!(self.log, "executor update refused"; "error" => %e);
            return reply.respond(error(StatusCode::BAD_REQUEST, e.to_string()));
        }
        reply.respond(error(StatusCode::ACCEPTED, ""));
        if let Some(executor) = self
            .frameworks
            .get(&call.framework_id)
            .and_then(|fw| fw.executors.get(&call.executor_id))
        {
            let mut ack = Event::new(EventType::Acknowledged);
            ack.acknowledged = Some(Acknowledged {
                task_id,
                uuid: uuid.expect("invariant: validate() requires a 16-byte uuid"),
            });
            executor.send_event(&ack);
        }
    }
}
