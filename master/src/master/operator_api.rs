//! The master's v1 operator API, `POST /api/v1` (HTTP reference §3.1; longest prefix, so
//! `/api/v1/operator` lands here too): the front door in `meso_api::http::operator`
//! checks method, content type, body, payloads and `Accept` and answers 501 for the calls
//! meso does not serve; this file answers the rest from the books, except the weight and
//! quota calls and GET_ROLES, which `role_calls.rs` answers, the maintenance and
//! draining calls, which `maintenance/calls.rs` answers, and UPDATE_AGENT (a meso
//! extension), which `agent_update.rs` answers. GET_* calls are 200 with
//! `{"type": ..., "<type>": {...}}`; TEARDOWN and MARK_AGENT_GONE are 200 with an empty
//! body; SUBSCRIBE is a RecordIO stream: SUBSCRIBED with the state, then the events the
//! [`OperatorEvents`](super::operator_events::OperatorEvents) hub publishes, and a
//! HEARTBEAT every 15 s.
//!
//! The v1 JSON of agents, frameworks and tasks (`GetAgents.Agent`, `GetFrameworks.Framework`,
//! `Task`) is built here by pure functions and shared with the event hub's callers.

use std::time::Duration;

use libprocess::http_types::{header, HeaderValue, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::events::operator_subscribed;
use meso_api::http::operator::{master_operator_request, operator_response, MasterCallType};
use meso_api::http::{HttpError, RequestHeaders};
use meso_api::json::Limits;
use meso_api::v1::{AgentId, FrameworkId};
use meso_api::Resources;
use serde_json::{json, Value};

use super::agents::AgentRecord;
use super::frameworks::FrameworkRecord;
use super::legacy::error_response;
use super::role_controls::RoleControls;
use super::state_json::{self, agent_id, framework_id, StateView, Totals};
use super::tasks::Task;
use super::{Master, MasterMessage};

/// How often SUBSCRIBE streams get a HEARTBEAT.
pub const OPERATOR_HEARTBEAT: Duration = Duration::from_secs(15);

fn nanos(secs: f64) -> Value {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

fn resources_json(r: &Resources) -> Value {
    serde_json::to_value(r).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// A task as the v1 `Task` message.
pub fn v1_task(t: &Task) -> Value {
    let mut out = json!({
        "name": t.info.name,
        "task_id": t.info.task_id,
        "framework_id": t.framework_id,
        "agent_id": t.agent_id,
        "state": t.state.as_str(),
        "resources": resources_json(&t.info.resources),
        "statuses": t.status.iter().collect::<Vec<_>>(),
    });
    if let Some(e) = &t.info.executor {
        out["executor_id"] = json!(e.executor_id);
    }
    if let Some(s) = &t.status {
        out["status_update_state"] = json!(s.state.as_str());
    }
    if let Some(l) = &t.info.labels {
        out["labels"] = json!(l);
    }
    out
}

/// An agent as `GetAgents.Agent`.
pub fn v1_agent(view: &StateView<'_>, totals: &Totals<'_>, a: &AgentRecord) -> Value {
    let id = agent_id(a);
    let times = view.timeline.agent(id);
    let empty = Resources::new();
    let deactivated = view.agents.controls().is_deactivated(id);
    let mut out = json!({
        "agent_info": a.info,
        "active": a.active && !deactivated,
        "deactivated": deactivated,
        "version": state_json::MESOS_VERSION,
        "pid": a.pid.to_string(),
        "registered_time": nanos(times.registered),
        "total_resources": resources_json(&a.info.resources),
        "allocated_resources": resources_json(totals.agent_used(id).unwrap_or(&empty)),
        "offered_resources": resources_json(totals.agent_offered.get(id).unwrap_or(&empty)),
    });
    if let Some(t) = times.reregistered {
        out["reregistered_time"] = nanos(t);
    }
    if let Some(drain) = super::maintenance::drain_info_json(view.agents.controls(), id) {
        out["drain_info"] = drain;
    }
    out
}

/// A framework as `GetFrameworks.Framework`.
pub fn v1_framework(view: &StateView<'_>, totals: &Totals<'_>, f: &FrameworkRecord) -> Value {
    let id = framework_id(f);
    let times = view.timeline.framework(id);
    let empty = Resources::new();
    let mut out = json!({
        "framework_info": f.info,
        "active": f.active,
        "connected": f.connected,
        "recovered": false,
        "registered_time": nanos(times.registered),
        "allocated_resources": resources_json(totals.framework_used(id).unwrap_or(&empty)),
        "offered_resources": resources_json(totals.framework_offered.get(id).unwrap_or(&empty)),
    });
    if let Some(t) = times.reregistered {
        out["reregistered_time"] = nanos(t);
    }
    if let Some(t) = times.unregistered {
        out["unregistered_time"] = nanos(t);
    }
    out
}

/// `GetAgents`: registered agents, and (as `recovered_agents`, Mesos's field) the agents
/// recovered from the registry after a failover that have not re-registered yet.
pub fn get_agents(view: &StateView<'_>, totals: &Totals<'_>) -> Value {
    let mut out = json!({
        "agents": view.agents.iter().map(|a| v1_agent(view, totals, a)).collect::<Vec<_>>(),
    });
    if !view.recovered_agents.is_empty() {
        out["recovered_agents"] = view.recovered_agents.values().map(|a| json!(a)).collect();
    }
    out
}

/// `GetFrameworks`.
pub fn get_frameworks(view: &StateView<'_>, totals: &Totals<'_>) -> Value {
    let mut out = json!({
        "frameworks": view.frameworks.iter().map(|f| v1_framework(view, totals, f)).collect::<Vec<_>>(),
    });
    if !view.completed_frameworks.is_empty() {
        out["completed_frameworks"] = view
            .completed_frameworks
            .iter()
            .map(|f| v1_framework(view, totals, f))
            .collect();
    }
    out
}

/// `GetExecutors`: the executors named by active tasks, with their agents.
pub fn get_executors(view: &StateView<'_>) -> Value {
    let mut seen = std::collections::BTreeSet::new();
    let mut executors = Vec::new();
    // The book counts the tasks with an executor: without any, no walk of every task.
    let tasks = (view.tasks.with_executor_count() > 0).then(|| view.tasks.active());
    for t in tasks.into_iter().flatten() {
        if let Some(e) = &t.info.executor {
            if seen.insert((t.agent_id.as_str(), e.executor_id.as_str())) {
                executors.push(json!({"executor_info": e, "agent_id": t.agent_id}));
            }
        }
    }
    json!({ "executors": executors })
}

/// `GetTasks`: active tasks, the tasks of unreachable agents (`unreachable_tasks`) and the
/// remembered completed ones.
pub fn get_tasks(view: &StateView<'_>) -> Value {
    let mut out = json!({
        "tasks": view.tasks.active().map(v1_task).collect::<Vec<_>>(),
    });
    if !view.unreachable_tasks.is_empty() {
        out["unreachable_tasks"] = view.unreachable_tasks.iter().map(v1_task).collect();
    }
    let completed: Vec<Value> = view.tasks.completed().map(v1_task).collect();
    if !completed.is_empty() {
        out["completed_tasks"] = Value::Array(completed);
    }
    out
}

/// `GetState`.
pub fn get_state(view: &StateView<'_>) -> Value {
    let totals = Totals::of(view);
    json!({
        "get_tasks": get_tasks(view),
        "get_executors": get_executors(view),
        "get_frameworks": get_frameworks(view, &totals),
        "get_agents": get_agents(view, &totals),
    })
}

/// `GetRoles`: every known role (see `roles_json`) with its weight.
pub fn get_roles(view: &StateView<'_>, controls: &RoleControls) -> Value {
    let roles: Vec<Value> = super::roles_json::role_books_with(view, controls)
        .into_iter()
        .map(|(name, b)| {
            let mut r = b.allocated.clone();
            r += &b.offered;
            json!({
                "weight": controls.weight(&name),
                "name": name,
                "frameworks": b.frameworks.iter().map(|f| json!({"value": f})).collect::<Vec<_>>(),
                "resources": resources_json(&r),
            })
        })
        .collect();
    json!({ "roles": roles })
}

/// The answer to a call that only reads the books (GET_STATE, GET_FLAGS, ...), or `None`
/// for a call that is not such a query. GET_METRICS reads the node too: not here.
fn query_payload(kind: MasterCallType, view: &StateView<'_>) -> Option<Value> {
    Some(match kind {
        MasterCallType::GetHealth => json!({"healthy": true}),
        MasterCallType::GetFlags => json!({
            "flags": view.flags.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
        }),
        MasterCallType::GetVersion => json!({
            "version_info": {
                "version": state_json::MESOS_VERSION,
                "build_date": state_json::BUILD_DATE,
                "build_time": state_json::BUILD_TIME,
                "build_user": state_json::BUILD_USER,
            }
        }),
        MasterCallType::GetLoggingLevel => json!({"level": 0}),
        MasterCallType::GetState => get_state(view),
        MasterCallType::GetAgents => get_agents(view, &Totals::of(view)),
        MasterCallType::GetFrameworks => get_frameworks(view, &Totals::of(view)),
        MasterCallType::GetExecutors => get_executors(view),
        MasterCallType::GetTasks => get_tasks(view),
        MasterCallType::GetMaster => json!({
            "master_info": view.info,
            "start_time": view.timeline.start_time,
            "elected_time": view.timeline.elected_time,
        }),
        _ => return None,
    })
}

/// 200 for a served call: `{"type": ..., "<type>": payload}` as JSON, or an empty body for
/// a call that answers nothing (TEARDOWN, MARK_AGENT_GONE).
fn served(kind: MasterCallType, payload: Option<Value>) -> HttpResponse {
    let body = match payload {
        Some(p) => operator_response(kind.as_str(), Some(&p.to_string())),
        None => String::new(),
    };
    let mut r = HttpResponse::text(StatusCode::OK, body);
    if !r.body.is_empty() {
        r.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    r
}

impl Master {
    /// Answers `POST /api/v1` (and anything below it).
    pub(super) fn serve_operator(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let headers = RequestHeaders::from_pairs(
            request
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())),
        );
        let (call, _accept) = match master_operator_request(
            request.method.as_str(),
            &headers,
            &request.body,
            &Limits::default(),
        ) {
            Ok(ok) => ok,
            Err(e) => return reply.respond(error_response(e)),
        };
        let Some((call, reply)) = self.serve_role_call(ctx, call, reply) else {
            return;
        };
        let Some((call, reply)) = self.serve_maintenance_call(ctx, call, reply) else {
            return;
        };
        let Some((call, reply)) = self.serve_reservation_call(ctx, call, &request, reply) else {
            return;
        };
        let kind = call.kind;
        let reply = match self.serve_streamed_query(kind, reply) {
            Ok(()) => return,
            Err(reply) => reply,
        };
        let payload: Option<Value> = match kind {
            MasterCallType::GetMetrics => {
                // The same keys as `/metrics/snapshot`: the allocator adds its own.
                let mut all = ctx.node().metrics().snapshot();
                all.extend(self.metrics_map(self.wall_secs(ctx)));
                let answer = move |allocator: std::collections::BTreeMap<String, f64>| {
                    all.extend(allocator);
                    let list = super::metrics::as_metric_list(&all);
                    reply.respond(served(kind, Some(json!({ "metrics": list }))));
                };
                match &self.allocator {
                    Some(_) => self.allocator(super::allocation::AllocatorCall::Metrics(
                        super::allocation::MetricsRequest(Box::new(answer)),
                    )),
                    None => answer(Default::default()),
                }
                return;
            }
            MasterCallType::Subscribe => {
                let omit_state = call.subscribe.is_some_and(|s| s.omit_state);
                return self.subscribe_operator(ctx, &request, reply, omit_state);
            }
            MasterCallType::UpdateAgent => {
                let update = call
                    .update_agent
                    .expect("the front door requires the update_agent payload");
                return self.update_agent_call(ctx, update, reply);
            }
            MasterCallType::Teardown => {
                let id = call
                    .teardown
                    .map(|t| t.framework_id)
                    .expect("the front door requires the teardown payload");
                if self.frameworks.get(&id).is_none() {
                    return reply.respond(error_response(HttpError::bad_request(format!(
                        "No framework found with specified ID '{id}'"
                    ))));
                }
                self.remove_framework(ctx, &id);
                None
            }
            MasterCallType::MarkAgentGone => {
                let id = call
                    .mark_agent_gone
                    .map(|m| m.agent_id)
                    .expect("the front door requires the mark_agent_gone payload");
                if !self.mark_agent_gone(ctx, &id) {
                    return reply.respond(error_response(HttpError::new(
                        404,
                        format!("Agent '{id}' not found"),
                    )));
                }
                None
            }
            other => match query_payload(other, &self.state_view()) {
                Some(mut payload) => {
                    self.filter_view(ctx, &request, &mut payload);
                    Some(payload)
                }
                None => {
                    return reply.respond(error_response(HttpError::not_implemented(format!(
                        "{other} is not implemented"
                    ))))
                }
            },
        };
        reply.respond(served(kind, payload));
    }

    /// SUBSCRIBE: a RecordIO stream that starts with SUBSCRIBED and the state, then joins
    /// the event hub (and arms the heartbeat if it is the first subscriber). With
    /// `omit_state` (meso's `subscribe.omit_state`) SUBSCRIBED carries an empty `get_state`.
    fn subscribe_operator(
        &mut self,
        ctx: &mut Context<Self>,
        request: &HttpRequest,
        reply: HttpReply,
        omit_state: bool,
    ) {
        let first = if omit_state {
            operator_subscribed(&json!({})).into()
        } else if self.acls().is_some() {
            // The state shows the subscriber only what its view ACLs allow, as GET_STATE.
            let mut state = get_state(&self.state_view());
            self.filter_view(ctx, request, &mut state);
            operator_subscribed(&state).into()
        } else {
            self.operator_subscribed_with_state()
        };
        let audience = self.event_audience(ctx, request);
        let mut headers = libprocess::http_types::HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let stream = reply.stream(StatusCode::OK, headers);
        if stream.send(first).is_ok() {
            self.operator.events.subscribe(stream, audience);
            if self.operator.events.arm_heartbeat() {
                ctx.delay(OPERATOR_HEARTBEAT, MasterMessage::OperatorHeartbeat);
            }
        }
    }

    /// The heartbeat timer of the operator streams: re-armed while anyone listens.
    pub(super) fn operator_heartbeat(&mut self, ctx: &mut Context<Self>) {
        self.operator.events.heartbeat();
        if self.operator.events.arm_heartbeat() {
            ctx.delay(OPERATOR_HEARTBEAT, MasterMessage::OperatorHeartbeat);
        }
    }

    // ------------------------------------------------ event hooks (one line at each change)

    /// An agent registered or re-registered.
    pub(super) fn on_agent_added(&mut self, ctx: &Context<Self>, id: &AgentId) {
        let now = self.wall_secs(ctx);
        self.operator.timeline.agent_seen(id, now);
        if self.operator.events.is_empty() {
            return;
        }
        let view = self.state_view();
        let agent = view
            .agents
            .get(id)
            .map(|a| v1_agent(&view, &Totals::of_agent(&view, id), a));
        if let Some(agent) = agent {
            self.operator.events.agent_added(|| agent);
        }
    }

    /// An agent was removed.
    pub(super) fn on_agent_removed(&mut self, id: &AgentId) {
        self.operator.timeline.agent_gone(id);
        self.operator.events.agent_removed(id);
    }

    /// A framework registered (`added`) or re-registered/changed.
    pub(super) fn on_framework_changed(
        &mut self,
        ctx: &Context<Self>,
        id: &FrameworkId,
        added: bool,
    ) {
        let now = self.wall_secs(ctx);
        self.operator.timeline.framework_seen(id, now);
        if self.operator.events.is_empty() {
            return;
        }
        let view = self.state_view();
        let Some((framework, user)) = view.frameworks.get(id).map(|f| {
            (
                v1_framework(&view, &Totals::of_framework(&view, id), f),
                f.info.user.clone(),
            )
        }) else {
            return;
        };
        let visible = self.event_visibility(user, None);
        if added {
            self.operator.events.framework_added(&visible, || framework);
        } else {
            self.operator
                .events
                .framework_updated(&visible, || framework);
        }
    }

    /// A framework was removed.
    pub(super) fn on_framework_removed(&mut self, ctx: &Context<Self>, record: &FrameworkRecord) {
        let id = framework_id(record).clone();
        let now = self.wall_secs(ctx);
        self.operator.timeline.framework_gone(&id, now);
        for dropped in self.operator.framework_completed(record.clone()) {
            self.tasks.forget_framework(&dropped);
        }
        let visible = self.event_visibility(record.info.user.clone(), None);
        self.operator
            .events
            .framework_removed(&visible, || json!(record.info));
    }

    /// Whether any operator API stream is subscribed to events.
    pub(super) fn has_operator_subscribers(&self) -> bool {
        !self.operator.events.is_empty()
    }

    /// A task was launched (or adopted from a re-registering agent).
    pub(super) fn on_task_added(&mut self, framework: &FrameworkId, task: &meso_api::v1::TaskId) {
        // Built only for a subscriber: 10,000 agents re-registering bring 100,000 tasks.
        if self.operator.events.is_empty() {
            return;
        }
        let visible = self.task_event_visibility(framework, task);
        if let Some(t) = self.tasks.get(framework, task) {
            self.operator.events.task_added(&visible, || v1_task(t));
        }
    }

    /// A task's state changed through a status update.
    pub(super) fn on_task_updated(&mut self, framework: &FrameworkId, task: &meso_api::v1::TaskId) {
        let visible = self.task_event_visibility(framework, task);
        if let Some(t) = self.tasks.get(framework, task) {
            if let Some(status) = &t.status {
                self.operator.status_history.record(framework, task, status);
                self.operator
                    .events
                    .task_updated(&visible, framework, status, t.state);
            }
        }
    }

    /// Who may see a task's events: its framework's user by `view_frameworks`, the task's
    /// user by `view_tasks` (nobody when the framework is unknown and ACLs are on).
    pub(super) fn task_event_visibility(
        &self,
        framework: &FrameworkId,
        task: &meso_api::v1::TaskId,
    ) -> impl Fn(Option<&str>) -> bool {
        self.task_info_visibility(framework, self.tasks.get(framework, task).map(|t| &t.info))
    }

    /// As [`Self::task_event_visibility`], for a task held outside the book.
    pub(super) fn task_info_visibility(
        &self,
        framework: &FrameworkId,
        task: Option<&meso_api::v1::TaskInfo>,
    ) -> impl Fn(Option<&str>) -> bool {
        let info = self.frameworks.get(framework).map(|f| &f.info);
        let users = info.zip(task).map(|(info, t)| {
            (
                info.user.clone(),
                super::authorization::task_user(t, info).to_string(),
            )
        });
        let known = users.is_some();
        let (framework_user, task_user) = users.unwrap_or_default();
        let visible = self.event_visibility(framework_user, Some(task_user));
        let open = self.config.acls.is_none();
        move |p: Option<&str>| open || (known && visible(p))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use meso_api::v1::MasterInfo;

    use super::*;
    use crate::master::agents::AgentBook;
    use crate::master::frameworks::FrameworkBook;
    use crate::master::offers::OfferBook;
    use crate::master::tasks::TaskBook;
    use crate::master::timeline::Timeline;

    fn body_json(r: &HttpResponse) -> Value {
        serde_json::from_slice(&r.body).expect("the body is JSON")
    }

    #[test]
    fn a_served_query_is_typed_json_and_an_action_is_an_empty_200() {
        let r = served(MasterCallType::GetHealth, Some(json!({"healthy": true})));
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        assert_eq!(
            body_json(&r),
            json!({"type": "GET_HEALTH", "get_health": {"healthy": true}})
        );
        let r = served(MasterCallType::Teardown, None);
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.is_empty());
        assert_ne!(
            r.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/json"[..]),
            "an empty body is not JSON"
        );
    }

    #[test]
    fn queries_read_the_books_and_other_calls_are_not_queries() {
        let info = MasterInfo {
            id: "m".into(),
            ip: 0,
            port: 5050,
            pid: Some("master@127.0.0.1:5050".into()),
            hostname: Some("h".into()),
            version: None,
            address: None,
            capabilities: Vec::new(),
        };
        let agents = AgentBook::new("m");
        let frameworks = FrameworkBook::new("m");
        let offers = OfferBook::new("m");
        let tasks = TaskBook::new(10);
        let timeline = Timeline::new(0.0);
        let flags = [("port".to_string(), "5050".to_string())];
        let view = StateView {
            info: &info,
            leader: Some(&info),
            leadership: None,
            agents: &agents,
            frameworks: &frameworks,
            completed_frameworks: &VecDeque::new(),
            offers: &offers,
            tasks: &tasks,
            unreachable_tasks: &Default::default(),
            recovered_agents: &Default::default(),
            timeline: &timeline,
            flags: &flags,
        };
        assert_eq!(
            query_payload(MasterCallType::GetFlags, &view),
            Some(json!({"flags": [{"name": "port", "value": "5050"}]}))
        );
        let master = query_payload(MasterCallType::GetMaster, &view).expect("a query");
        assert_eq!(master["master_info"]["id"], "m");
        assert_eq!(
            query_payload(MasterCallType::GetTasks, &view).expect("a query")["tasks"],
            json!([])
        );
        for action in [
            MasterCallType::Subscribe,
            MasterCallType::Teardown,
            MasterCallType::MarkAgentGone,
            MasterCallType::GetMetrics,
        ] {
            assert_eq!(query_payload(action, &view), None, "{action}");
        }
    }
}
