//! The master's ACL checks (`--acls`, `meso_api::acl`): which action and object each
//! request asks for, and the gates that refuse it, naming the action.
//!
//! - HTTP: `serve_http` calls [`Master::authorize_http`] after authentication; v1 operator
//!   calls and the legacy `/weights`, `/quota`, `/maintenance/schedule`, `/machine/*`,
//!   `/metrics/snapshot` and `/files/*` get a 403 whose body names the action.
//!   Reservations and volumes, which arrive by both the operator API and the legacy form
//!   endpoints, are checked where both meet (`queue_operation`), and in a framework's
//!   ACCEPT (the operation is dropped and logged, as Mesos).
//! - Frameworks: `register_frameworks` for each role at (re-)registration and SUBSCRIBE
//!   (subject: `FrameworkInfo.principal`); `run_tasks` for each launched task's user (the
//!   command's, else the framework's), TASK_ERROR with REASON_TASK_UNAUTHORIZED.
//! - Reads: `view_frameworks`, `view_tasks` and `view_executors` filter the state
//!   documents (`meso_api::acl::view`) instead of refusing them, as Mesos.
//!
//! Without `--acls` nothing here runs (no ask is even computed). Invariant: a refused
//! request has changed nothing.

use libprocess::http_types::{Method, StatusCode};
use libprocess::slog::info;
use libprocess::{Context, HttpRequest, HttpResponse};
use meso_api::acl::view::Viewer;
use meso_api::acl::{Acls, Action};
use meso_api::http::auth::master_realm;
use meso_api::http::operator::{master_operator_request, MasterCall, MasterCallType};
use meso_api::http::routing::strip_trailing_slash;
use meso_api::http::RequestHeaders;
use meso_api::json::Limits;
use meso_api::v1::{FrameworkId, FrameworkInfo, Operation, OperationType, TaskInfo};

use super::Master;

/// One thing a request asks to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// `action` on `object` (`None`: the action's implicit object).
    On(Action, Option<String>),
    /// Tear down a framework: the object is its principal, which the master knows.
    Teardown(FrameworkId),
}

/// What a reservation or volume operation asks: `reserve_resources` and `create_volumes`
/// by role, `unreserve_resources` by the reservation's principal, `destroy_volumes` by the
/// volume's creator (an absent principal is the empty one, as Mesos).
pub fn operation_asks(operation: &Operation) -> Vec<Ask> {
    let mut asks = Vec::new();
    match operation.kind {
        OperationType::Reserve => {
            for r in operation.reserve.iter().flat_map(|r| r.resources.iter()) {
                asks.push(Ask::On(
                    Action::ReserveResources,
                    Some(r.reservation_role().to_string()),
                ));
            }
        }
        OperationType::Unreserve => {
            for r in operation.unreserve.iter().flat_map(|r| r.resources.iter()) {
                let principal = r.reservations.last().and_then(|x| x.principal.clone());
                asks.push(Ask::On(
                    Action::UnreserveResources,
                    Some(principal.unwrap_or_default()),
                ));
            }
        }
        OperationType::Create => {
            for r in operation.create.iter().flat_map(|v| v.volumes.iter()) {
                asks.push(Ask::On(
                    Action::CreateVolumes,
                    Some(r.reservation_role().to_string()),
                ));
            }
        }
        OperationType::Destroy => {
            for r in operation.destroy.iter().flat_map(|v| v.volumes.iter()) {
                let creator = r
                    .disk
                    .as_ref()
                    .and_then(|d| d.persistence.as_ref())
                    .and_then(|p| p.principal.clone());
                asks.push(Ask::On(
                    Action::DestroyVolumes,
                    Some(creator.unwrap_or_default()),
                ));
            }
        }
        _ => {}
    }
    asks
}

/// What a v1 operator call asks (reservations and volumes are asked by
/// [`operation_asks`] where they are queued; reads are filtered, not refused).
pub fn operator_call_asks(call: &MasterCall) -> Vec<Ask> {
    let on = |action, object: Option<&str>| Ask::On(action, object.map(str::to_string));
    match call.kind {
        MasterCallType::Teardown => call
            .teardown
            .iter()
            .map(|t| Ask::Teardown(t.framework_id.clone()))
            .collect(),
        MasterCallType::MarkAgentGone => vec![on(Action::MarkAgentsGone, None)],
        MasterCallType::DrainAgent => vec![on(Action::DrainAgents, None)],
        MasterCallType::DeactivateAgent => vec![on(Action::DeactivateAgents, None)],
        MasterCallType::ReactivateAgent => vec![on(Action::ReactivateAgents, None)],
        MasterCallType::UpdateMaintenanceSchedule => {
            vec![on(Action::UpdateMaintenanceSchedules, None)]
        }
        MasterCallType::StartMaintenance => vec![on(Action::StartMaintenances, None)],
        MasterCallType::StopMaintenance => vec![on(Action::StopMaintenances, None)],
        MasterCallType::UpdateWeights => call
            .update_weights
            .iter()
            .flat_map(|u| u.weight_infos.iter())
            .map(|w| on(Action::UpdateWeights, Some(&w.role)))
            .collect(),
        MasterCallType::UpdateQuota => call
            .update_quota
            .iter()
            .flat_map(|u| u.quota_configs.iter())
            .map(|q| on(Action::UpdateQuotas, Some(&q.role)))
            .collect(),
        MasterCallType::SetQuota => call
            .set_quota
            .iter()
            .map(|s| on(Action::UpdateQuotas, Some(&s.quota_request.role)))
            .collect(),
        MasterCallType::RemoveQuota => call
            .remove_quota
            .iter()
            .map(|r| on(Action::UpdateQuotas, Some(&r.role)))
            .collect(),
        _ => Vec::new(),
    }
}

/// What a request to a legacy endpoint asks (`route` without `/master`). A body that does
/// not parse asks nothing: the endpoint answers 400 itself.
pub fn legacy_asks(method: &Method, route: &str, body: &[u8], query: Option<&str>) -> Vec<Ask> {
    let on = |action, object: Option<&str>| vec![Ask::On(action, object.map(str::to_string))];
    match (method, route) {
        (&Method::PUT, "/weights") => {
            serde_json::from_slice::<Vec<meso_api::http::role_controls::WeightInfo>>(body)
                .map(|infos| {
                    infos
                        .iter()
                        .map(|w| Ask::On(Action::UpdateWeights, Some(w.role.clone())))
                        .collect()
                })
                .unwrap_or_default()
        }
        (&Method::POST, "/quota") => {
            serde_json::from_slice::<meso_api::http::role_controls::QuotaRequest>(body)
                .map(|q| on(Action::UpdateQuotas, Some(&q.role)))
                .unwrap_or_default()
        }
        (&Method::DELETE, r) if r.starts_with("/quota/") => {
            on(Action::UpdateQuotas, Some(&r["/quota/".len()..]))
        }
        (&Method::POST, "/maintenance/schedule") => on(Action::UpdateMaintenanceSchedules, None),
        (&Method::POST, "/machine/down") => on(Action::StartMaintenances, None),
        (&Method::POST, "/machine/up") => on(Action::StopMaintenances, None),
        (_, "/metrics/snapshot") => on(Action::GetEndpoints, Some("/metrics/snapshot")),
        (_, "/files/debug") => on(Action::GetEndpoints, Some("/files/debug")),
        (_, "/files/read" | "/files/download" | "/files/browse") => {
            let pairs =
                meso_api::http::routing::parse_query(query.unwrap_or("")).unwrap_or_default();
            match meso_api::http::routing::query_value(&pairs, "path") {
                Some(path) if !path.is_empty() => on(Action::AccessMesosLogs, None),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// The user a task runs as, as the run_tasks and view_tasks objects: the command's user,
/// else the framework's.
pub fn task_user<'a>(task: &'a TaskInfo, framework: &'a FrameworkInfo) -> &'a str {
    task.command
        .as_ref()
        .and_then(|c| c.user.as_deref())
        .or_else(|| {
            task.executor
                .as_ref()
                .and_then(|e| e.command.as_ref())
                .and_then(|c| c.user.as_deref())
        })
        .unwrap_or(&framework.user)
}

/// The refusal message naming who, the action and the object.
pub fn refusal_message(principal: Option<&str>, action: Action, object: Option<&str>) -> String {
    let who = match principal {
        Some(p) => format!("Principal '{p}' is"),
        None => "An unauthenticated principal is".to_string(),
    };
    match object {
        Some(o) => format!("{who} not authorized to {action} for '{o}'"),
        None => format!("{who} not authorized to {action}"),
    }
}

impl Master {
    pub(super) fn acls(&self) -> Option<&Acls> {
        self.config.acls.as_deref()
    }

    /// The authenticated principal of an HTTP request, `None` when unauthenticated.
    pub(super) fn request_principal(
        &self,
        ctx: &Context<Self>,
        route: &str,
        request: &HttpRequest,
    ) -> Option<String> {
        let headers = RequestHeaders::from_pairs(
            request
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        );
        // As Mesos: a request to an endpoint whose realm is not guarded has no principal.
        self.config
            .http_auth
            .authenticate(master_realm(route), &headers, self.wall_secs(ctx))
            .ok()
            .flatten()
            .and_then(|p| p.value)
    }

    /// The first of `asks` that `principal` may not do, as its refusal message.
    fn first_refused(&self, principal: Option<&str>, asks: &[Ask]) -> Option<String> {
        let acls = self.acls()?;
        for ask in asks {
            let (action, object) = match ask {
                Ask::On(action, object) => (*action, object.clone()),
                Ask::Teardown(id) => (
                    Action::TeardownFrameworks,
                    self.frameworks
                        .get(id)
                        .map(|f| f.info.principal.clone().unwrap_or_default()),
                ),
            };
            if !acls.authorize(principal, action, object.as_deref()) {
                return Some(refusal_message(principal, action, object.as_deref()));
            }
        }
        None
    }

    /// `None` when the request may go on; a 403 naming the refused action otherwise.
    pub(super) fn authorize_http(
        &self,
        ctx: &Context<Self>,
        route: &str,
        request: &HttpRequest,
    ) -> Option<HttpResponse> {
        self.acls()?;
        let asks = if route.starts_with("/api/v1") && route != "/api/v1/scheduler" {
            let headers = RequestHeaders::from_pairs(
                request
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_bytes())),
            );
            match master_operator_request(
                request.method.as_str(),
                &headers,
                &request.body,
                &Limits::default(),
            ) {
                Ok((call, _)) => operator_call_asks(&call),
                Err(_) => return None,
            }
        } else {
            legacy_asks(
                &request.method,
                route,
                &request.body,
                request.query.as_deref(),
            )
        };
        if asks.is_empty() {
            return None;
        }
        let principal = self.request_principal(ctx, route, request);
        let why = self.first_refused(principal.as_deref(), &asks)?;
        info!(ctx.node().logger(), "HTTP request refused by the ACLs";
            "path" => &request.route, "reason" => &why);
        Some(HttpResponse::text(StatusCode::FORBIDDEN, why))
    }

    /// Why `principal` may not carry out `operation` (a reservation or volume change);
    /// `None` when it may.
    pub(super) fn refuse_operation(
        &self,
        principal: Option<&str>,
        operation: &Operation,
    ) -> Option<String> {
        self.acls()?;
        self.first_refused(principal, &operation_asks(operation))
    }

    /// Why a framework with `info` may not register in one of its roles; `None` when it
    /// may.
    pub(super) fn refuse_framework(&self, info: &FrameworkInfo) -> Option<String> {
        self.acls()?;
        let asks: Vec<Ask> = info
            .effective_roles()
            .into_iter()
            .map(|role| Ask::On(Action::RegisterFrameworks, Some(role)))
            .collect();
        self.first_refused(info.principal.as_deref(), &asks)
    }

    /// Why a framework with `info` may not run one of `group`'s tasks (each as its own
    /// user, else the executor's, else the framework's); `None` when it may run them all.
    pub(super) fn refuse_group(
        &self,
        info: &FrameworkInfo,
        executor: &meso_api::v1::ExecutorInfo,
        group: &meso_api::v1::TaskGroupInfo,
    ) -> Option<String> {
        self.acls()?;
        let asks: Vec<Ask> = group
            .tasks
            .iter()
            .map(|task| {
                let user = task
                    .command
                    .as_ref()
                    .and_then(|c| c.user.as_deref())
                    .or_else(|| executor.command.as_ref().and_then(|c| c.user.as_deref()))
                    .unwrap_or(&info.user);
                Ask::On(Action::RunTasks, Some(user.to_string()))
            })
            .collect();
        self.first_refused(info.principal.as_deref(), &asks)
    }

    /// Why a framework with `info` may not run `task` as its user; `None` when it may.
    pub(super) fn refuse_task(&self, info: &FrameworkInfo, task: &TaskInfo) -> Option<String> {
        self.acls()?;
        let user = task_user(task, info).to_string();
        self.first_refused(
            info.principal.as_deref(),
            &[Ask::On(Action::RunTasks, Some(user))],
        )
    }
}

impl Master {
    /// Who looks at a state document, with the users the documents may not carry;
    /// `None` without ACLs (everything is shown).
    fn viewer<'a>(&'a self, principal: Option<&'a str>) -> Option<Viewer<'a>> {
        let acls = self.acls()?;
        let records = self
            .frameworks
            .iter()
            .chain(self.operator.completed_frameworks.iter());
        let framework_users = records
            .map(|f| {
                let id = super::state_json::framework_id(f).value.clone();
                (id, f.info.user.clone())
            })
            .collect();
        let tasks = self
            .tasks
            .active()
            .chain(self.tasks.completed())
            .chain(self.unreachable_tasks.iter());
        let task_users = tasks
            .filter_map(|t| {
                let user = t.info.command.as_ref()?.user.clone()?;
                Some((
                    (t.framework_id.value.clone(), t.info.task_id.value.clone()),
                    user,
                ))
            })
            .collect();
        Some(Viewer {
            acls,
            principal,
            framework_users,
            task_users,
        })
    }

    /// Filters a state document of the v1 operator API for the request's principal.
    pub(super) fn filter_view(
        &self,
        ctx: &Context<Self>,
        request: &HttpRequest,
        document: &mut serde_json::Value,
    ) {
        if self.acls().is_none() {
            return;
        }
        let route = strip_trailing_slash(&request.route);
        let route = route.strip_prefix("/master").unwrap_or(route);
        let principal = self.request_principal(ctx, route, request);
        if let Some(viewer) = self.viewer(principal.as_deref()) {
            viewer.filter(document);
        }
    }

    /// Who an operator event stream opened by `request` is for: everyone without ACLs,
    /// else the request's principal (whose view ACLs filter its events).
    pub(super) fn event_audience(
        &self,
        ctx: &Context<Self>,
        request: &HttpRequest,
    ) -> super::operator_events::Audience {
        use super::operator_events::Audience;
        if self.acls().is_none() {
            return Audience::All;
        }
        let route = strip_trailing_slash(&request.route);
        let route = route.strip_prefix("/master").unwrap_or(route);
        Audience::Principal(self.request_principal(ctx, route, request))
    }

    /// Who may see the events of a framework run by `framework_user` (`view_frameworks`),
    /// and with `task_user` of one of its tasks (`view_tasks` too), as Mesos's per
    /// subscriber approvers. Owns what it reads, so the hub can be borrowed beside it.
    pub(super) fn event_visibility(
        &self,
        framework_user: String,
        task_user: Option<String>,
    ) -> impl Fn(Option<&str>) -> bool {
        let acls = self.config.acls.clone();
        move |principal: Option<&str>| {
            let Some(acls) = &acls else {
                return true;
            };
            acls.authorize(principal, Action::ViewFrameworks, Some(&framework_user))
                && task_user
                    .as_deref()
                    .is_none_or(|u| acls.authorize(principal, Action::ViewTasks, Some(u)))
        }
    }

    /// Filters a legacy state endpoint's answer (JSON or JSONP) for the request's
    /// principal; other answers pass unchanged.
    pub(super) fn filter_view_response(
        &self,
        ctx: &Context<Self>,
        request: &HttpRequest,
        mut response: HttpResponse,
    ) -> HttpResponse {
        if self.acls().is_none() || response.status != StatusCode::OK {
            return response;
        }
        let body = String::from_utf8_lossy(&response.body).into_owned();
        // JSONP wraps the document as `callback(<json>);`.
        let (head, json, tail) = match (body.find('('), body.rfind(')')) {
            (Some(open), Some(close)) if !body.starts_with('{') && open < close => {
                (&body[..=open], &body[open + 1..close], &body[close..])
            }
            _ => ("", body.as_str(), ""),
        };
        let Ok(mut document) = serde_json::from_str::<serde_json::Value>(json) else {
            return response;
        };
        self.filter_view(ctx, request, &mut document);
        response.body = format!("{head}{document}{tail}").into_bytes().into();
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::Resources;

    #[test]
    fn operations_ask_by_role_or_by_the_principal_that_made_them() {
        let operation = |kind: &str, resources: Resources| -> Operation {
            serde_json::from_value(serde_json::json!({
                "type": kind,
                kind.to_ascii_lowercase(): {"resources": resources},
            }))
            .expect("an operation")
        };
        let mut reserved = Resources::parse("cpus(ops):1", "*").expect("valid resources");
        assert_eq!(
            operation_asks(&operation("RESERVE", reserved.clone())),
            [Ask::On(Action::ReserveResources, Some("ops".into()))]
        );
        assert_eq!(
            operation_asks(&operation("UNRESERVE", reserved.clone())),
            [Ask::On(Action::UnreserveResources, Some(String::new()))]
        );
        let json = serde_json::to_value(&reserved).expect("json");
        let mut json = json;
        json[0]["reservations"][0]["principal"] = "alice".into();
        reserved = serde_json::from_value(json).expect("resources");
        assert_eq!(
            operation_asks(&operation("UNRESERVE", reserved)),
            [Ask::On(Action::UnreserveResources, Some("alice".into()))]
        );
    }

    #[test]
    fn legacy_routes_name_their_action_and_bad_bodies_ask_nothing() {
        assert_eq!(
            legacy_asks(
                &Method::PUT,
                "/weights",
                br#"[{"role":"a","weight":2}]"#,
                None
            ),
            [Ask::On(Action::UpdateWeights, Some("a".into()))]
        );
        assert!(legacy_asks(&Method::PUT, "/weights", b"{", None).is_empty());
        assert_eq!(
            legacy_asks(&Method::DELETE, "/quota/dev", b"", None),
            [Ask::On(Action::UpdateQuotas, Some("dev".into()))]
        );
        assert_eq!(
            legacy_asks(
                &Method::GET,
                "/files/read",
                b"",
                Some("path=/master/log&offset=0")
            ),
            [Ask::On(Action::AccessMesosLogs, None)]
        );
        assert!(legacy_asks(&Method::GET, "/state", b"", None).is_empty());
    }

    #[test]
    fn a_refusal_names_the_principal_the_action_and_the_object() {
        assert_eq!(
            refusal_message(Some("dev"), Action::UpdateWeights, Some("prod")),
            "Principal 'dev' is not authorized to update_weights for 'prod'"
        );
        assert_eq!(
            refusal_message(None, Action::MarkAgentsGone, None),
            "An unauthenticated principal is not authorized to mark_agents_gone"
        );
    }
}
