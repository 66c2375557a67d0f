//! The agent side of the v1 executor HTTP API: `POST /api/v1/executor` (also under
//! `/slave(1)/`; HTTP reference §2).
//!
//! Every refusal is decided by the pure front door `meso_api::http::executor_request`
//! (method 405, `Content-Type` 400/415, body and nesting limits, `Call::validate`: ids, the
//! payload for the type, the UPDATE rules of §2.2: a 16-byte uuid, `SOURCE_EXECUTOR`, no
//! TASK_STAGING, a matching `status.executor_id`; `Accept` 406 for SUBSCRIBE) and
//! `ExecutorRequest::admit` given the executor's standing (HEARTBEAT 202 before any lookup,
//! unknown framework or executor 400, any call but SUBSCRIBE before the executor subscribed
//! 403, UNKNOWN 501). This file adds what needs the agent's tables (an UPDATE for a task the
//! executor does not have is 400) and does the work.
//!
//! SUBSCRIBE opens a chunked RecordIO stream of JSON events: SUBSCRIBED, then one LAUNCH per
//! queued task and one LAUNCH_GROUP per queued task group; later LAUNCH, KILL, ACKNOWLEDGED, MESSAGE, SHUTDOWN and, every 30 minutes,
//! HEARTBEAT go down the same stream. An executor that subscribes again (its connection
//! broke) gets a fresh stream in place of the old one, and the updates it lists as
//! unacknowledged are taken again (the status update manager drops the ones it already has,
//! by uuid) and acknowledged. An executor the agent is shutting down gets SUBSCRIBED followed
//! by SHUTDOWN. UPDATE hands the status to the status update manager, answers 202 and sends
//! ACKNOWLEDGED at once (the agent now owns delivery). MESSAGE goes to the framework through
//! the master.

use meso_api::http::auth::{verify_executor_claims, Principal};
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::{executor_request, ExecutorStanding};
use meso_api::json::Limits;
use meso_api::v1::executor::{Acknowledged, Call, CallType, Event, EventType, Launch, Subscribed};
use meso_api::v1::{ContainerId, TaskStatus};
use meso_api::wire::{ExecutorToFramework, StatusUpdate};
use slog::{info, warn};

use super::books::{ExecutorState, Task};
use super::http_routes::{error_response, request_headers};
use super::{Agent, AgentMessage};

/// Time between HEARTBEAT events on an executor's stream (Mesos's
/// `DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL`).
pub const EXECUTOR_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30 * 60);

fn accepted() -> HttpResponse {
    HttpResponse {
        status: StatusCode::ACCEPTED,
        headers: HeaderMap::new(),
        body: bytes::Bytes::new(),
    }
}

impl Agent {
    fn executor_standing(&self, call: &Call) -> ExecutorStanding {
        let Some(fw) = self.frameworks.get(&call.framework_id) else {
            return ExecutorStanding::UnknownFramework;
        };
        match fw.executors.get(&call.executor_id).map(|e| e.state) {
            None => ExecutorStanding::UnknownExecutor,
            Some(ExecutorState::Registering) => ExecutorStanding::Registering,
            Some(ExecutorState::Running) => ExecutorStanding::Running,
            Some(ExecutorState::Terminating) => ExecutorStanding::Terminating,
        }
    }

    pub(super) fn executor_api(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
        principal: Option<Principal>,
    ) {
        let headers = request_headers(&request.headers);
        let front = executor_request(
            request.method.as_str(),
            &headers,
            &request.body,
            &Limits::default(),
        );
        let front = match front {
            Ok(front) => front,
            Err(e) => {
                if request.body.windows(8).any(|w| w == b"\"UPDATE\"") {
                    self.observe.count_status_update(false);
                }
                return reply.respond(error_response(e));
            }
        };
        if front.is_heartbeat() {
            return reply.respond(accepted());
        }
        if let Err(e) = front.admit(self.executor_standing(&front.call)) {
            if front.call.kind == CallType::Update {
                self.observe.count_status_update(false);
            }
            return reply.respond(error_response(e));
        }
        // An authenticated executor speaks only for itself (its token's fid, eid and cid).
        if let Some(principal) = &principal {
            let container = self
                .frameworks
                .get(&front.call.framework_id)
                .and_then(|f| f.executors.get(&front.call.executor_id))
                .map(|e| e.container_id.value.clone())
                .unwrap_or_default();
            if let Err(e) = verify_executor_claims(
                principal,
                front.call.framework_id.as_str(),
                front.call.executor_id.as_str(),
                &container,
            ) {
                return reply.respond(error_response(e));
            }
        }
        let call = front.call;
        match call.kind {
            CallType::Subscribe => self.subscribe(ctx, call, reply),
            CallType::Update => self.executor_update(ctx, call, reply),
            CallType::Message => {
                let data = call.message.map(|m| m.data).unwrap_or_default();
                if let Some(agent_id) = self.id.clone() {
                    // Framework messages are best effort, as in Mesos: the executor is told ACCEPTED.
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
                reply.respond(accepted())
            }
            CallType::Heartbeat | CallType::Unknown => reply.respond(accepted()),
        }
    }

    /// Timer: sends HEARTBEAT to a subscribed executor and arms the next one.
    pub(super) fn executor_heartbeat(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: ContainerId,
    ) {
        let Some((fw, ex)) = self.containers.get(&container_id.value) else {
            return;
        };
        let Some(executor) = self.frameworks.get(fw).and_then(|f| f.executors.get(ex)) else {
            return;
        };
        executor.send_event(&Event::new(EventType::Heartbeat));
        ctx.delay(
            EXECUTOR_HEARTBEAT_INTERVAL,
            AgentMessage::ExecutorHeartbeat { container_id },
        );
    }

    fn subscribe(&mut self, ctx: &mut Context<Self>, call: Call, reply: HttpReply) {
        let agent_info = self.info.clone();
        let fw = self
            .frameworks
            .get_mut(&call.framework_id)
            .expect("invariant: admit() found the framework");
        let framework_info = fw.info.clone();
        let executor = fw
            .executors
            .get_mut(&call.executor_id)
            .expect("invariant: admit() found the executor");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // A re-subscription replaces the old stream (dropping it ends that response).
        executor.stream = Some(reply.stream(StatusCode::OK, headers));
        let first = executor.state == ExecutorState::Registering;
        let terminating = executor.state == ExecutorState::Terminating;
        if !terminating {
            executor.state = ExecutorState::Running;
        }
        let mut subscribed = Event::new(EventType::Subscribed);
        subscribed.subscribed = Some(Subscribed {
            executor_info: executor.info.clone(),
            framework_info,
            agent_info,
            container_id: Some(executor.container_id.clone()),
        });
        executor.send_event(&subscribed);
        if terminating {
            executor.send_event(&Event::new(EventType::Shutdown));
            return;
        }
        let groups = executor.take_queued_groups();
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
        for group in groups {
            executor.launch_group(group);
        }
        let kills = executor.flush_pending_kills();
        if kills > 0 {
            info!(self.log, "kills queued before the subscription delivered";
                "executor_id" => %call.executor_id, "kills" => kills);
        }
        let container_id = executor.container_id.clone();
        if first {
            ctx.delay(
                EXECUTOR_HEARTBEAT_INTERVAL,
                AgentMessage::ExecutorHeartbeat {
                    container_id: executor.container_id.clone(),
                },
            );
        }
        info!(self.log, "executor subscribed"; "executor_id" => %call.executor_id,
            "framework_id" => %call.framework_id, "resubscription" => !first);
        self.checkpoint_http_subscribed(&call.framework_id, &call.executor_id, &container_id);
        self.adopt_unacknowledged_tasks(&call);
        // Updates the executor sent but never saw acknowledged: take them again (duplicates
        // by uuid are dropped by the status update manager) and acknowledge them.
        let pending = call
            .subscribe
            .as_ref()
            .map(|s| s.unacknowledged_updates.clone())
            .unwrap_or_default();
        for update in pending {
            let status = update.status;
            if status.uuid.as_ref().map(Vec::len) != Some(16) {
                warn!(self.log, "unacknowledged update without a valid uuid ignored";
                    "task_id" => %status.task_id);
                continue;
            }
            if let Err(why) = self.take_executor_status(ctx, &call, status) {
                warn!(self.log, "unacknowledged update refused"; "error" => why);
            }
        }
    }

    /// Tasks a re-subscribing executor holds that the agent does not know (sent to it just
    /// before the agent died, before their checkpoint): the agent takes them as launched.
    fn adopt_unacknowledged_tasks(&mut self, call: &Call) {
        let tasks = call
            .subscribe
            .as_ref()
            .map(|s| s.unacknowledged_tasks.clone())
            .unwrap_or_default();
        let unknown: Vec<_> = match self
            .frameworks
            .get(&call.framework_id)
            .and_then(|fw| fw.executors.get(&call.executor_id))
        {
            Some(ex) => tasks
                .into_iter()
                .filter(|t| !ex.tasks.contains_key(&t.task_id))
                .collect(),
            None => return,
        };
        if unknown.is_empty() {
            return;
        }
        self.checkpoint_tasks(&call.framework_id, &call.executor_id, &unknown);
        if let Some(ex) = self
            .frameworks
            .get_mut(&call.framework_id)
            .and_then(|fw| fw.executors.get_mut(&call.executor_id))
        {
            for task in unknown {
                info!(self.log, "task known only to the re-subscribing executor adopted";
                    "task_id" => %task.task_id);
                ex.tasks.insert(
                    task.task_id.clone(),
                    Task {
                        info: task,
                        state: meso_api::v1::TaskState::Staging,
                        kill_requested: false,
                    },
                );
            }
        }
    }

    /// Takes one status from an executor: checks the task is the executor's, stamps the
    /// agent and executor ids, hands it to the status update manager and sends ACKNOWLEDGED.
    fn take_executor_status(
        &mut self,
        ctx: &mut Context<Self>,
        call: &Call,
        mut status: TaskStatus,
    ) -> Result<(), String> {
        let known = self
            .frameworks
            .get(&call.framework_id)
            .and_then(|fw| fw.executors.get(&call.executor_id))
            .is_some_and(|ex| ex.tasks.contains_key(&status.task_id));
        if !known {
            return Err(format!(
                "Task '{}' is not known to executor '{}'",
                status.task_id, call.executor_id
            ));
        }
        status.agent_id = self.id.clone();
        status.executor_id = Some(call.executor_id.clone());
        self.blame_container_limitation(&call.framework_id, &call.executor_id, &mut status);
        let uuid = status
            .uuid
            .clone()
            .ok_or_else(|| "expecting 'status.uuid' to be present".to_string())?;
        let task_id = status.task_id.clone();
        let update = StatusUpdate {
            framework_id: call.framework_id.clone(),
            executor_id: Some(call.executor_id.clone()),
            agent_id: self.id.clone(),
            timestamp: status.timestamp.unwrap_or(0.0),
            status,
            uuid: Some(uuid.clone()),
            latest_state: None,
        };
        self.take_update(ctx, update).map_err(|e| e.to_string())?;
        if let Some(executor) = self
            .frameworks
            .get(&call.framework_id)
            .and_then(|fw| fw.executors.get(&call.executor_id))
        {
            let mut ack = Event::new(EventType::Acknowledged);
            ack.acknowledged = Some(Acknowledged { task_id, uuid });
            executor.send_event(&ack);
        }
        Ok(())
    }

    fn executor_update(&mut self, ctx: &mut Context<Self>, call: Call, reply: HttpReply) {
        let status = call
            .update
            .clone()
            .expect("invariant: validate() requires 'update' on UPDATE")
            .status;
        match self.take_executor_status(ctx, &call, status) {
            Ok(()) => {
                self.observe.count_status_update(true);
                reply.respond(accepted())
            }
            Err(why) => {
                self.observe.count_status_update(false);
                warn!(self.log, "executor update refused"; "error" => &why);
                reply.respond(HttpResponse::text(StatusCode::BAD_REQUEST, why))
            }
        }
    }
}
