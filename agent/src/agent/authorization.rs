//! The agent's ACL checks (`--acls`, `meso_api::acl`) on its own endpoints, as Mesos's
//! agent: `get_endpoints` for `/metrics/snapshot`, `/containers`, `/monitor/statistics`
//! and `/files/debug` (by path); `access_mesos_logs` for the agent's log under `/files/*`;
//! `access_sandboxes` for a sandbox under `/files/*`, by its executor's user, else its
//! framework's (an executor the agent no longer knows is the object `ANY`); `/state` is
//! filtered by `view_frameworks`, `view_tasks` and `view_executors`.
//!
//! Without `--acls` nothing here runs. A refusal is a 403 naming the action.

use http::StatusCode;
use libprocess::{HttpRequest, HttpResponse};
use meso_api::acl::view::Viewer;
use meso_api::acl::{Acls, Action};
use meso_api::http::auth::Principal;
use meso_api::http::routing::{parse_query, query_value};
use meso_api::v1::{ExecutorId, FrameworkId};
use serde_json::Value;

use super::files::{parse_virtual_path, AGENT_LOG_PATH};
use super::Agent;

/// The refusal message naming who, the action and the object.
fn refusal(principal: Option<&str>, action: Action, object: Option<&str>) -> HttpResponse {
    let who = match principal {
        Some(p) => format!("Principal '{p}' is"),
        None => "An unauthenticated principal is".to_string(),
    };
    let body = match object {
        Some(o) => format!("{who} not authorized to {action} for '{o}'"),
        None => format!("{who} not authorized to {action}"),
    };
    HttpResponse::text(StatusCode::FORBIDDEN, body)
}

/// The endpoints Mesos's `get_endpoints` covers on an agent, by their route.
fn endpoint_path(route: &str) -> Option<&'static str> {
    match route {
        "/metrics/snapshot" => Some("/metrics/snapshot"),
        "/containers" => Some("/containers"),
        "/monitor/statistics" | "/monitor/statistics.json" => Some("/monitor/statistics"),
        "/files/debug" | "/files/debug.json" => Some("/files/debug"),
        _ => None,
    }
}

impl Agent {
    fn acls(&self) -> Option<&Acls> {
        self.config.acls.as_deref()
    }

    /// `None` when the request may go on; a 403 naming the refused action otherwise.
    pub(super) fn authorize_http(
        &self,
        principal: Option<&Principal>,
        route: &str,
        request: &HttpRequest,
    ) -> Option<HttpResponse> {
        let acls = self.acls()?;
        let who = principal.and_then(|p| p.value.as_deref());
        if let Some(path) = endpoint_path(route) {
            return (!acls.authorize(who, Action::GetEndpoints, Some(path)))
                .then(|| refusal(who, Action::GetEndpoints, Some(path)));
        }
        if !route.starts_with("/files/") {
            return None;
        }
        let pairs = parse_query(request.query.as_deref().unwrap_or("")).ok()?;
        let path = query_value(&pairs, "path").filter(|p| !p.is_empty())?;
        if path.trim_end_matches('/') == AGENT_LOG_PATH {
            return (!acls.authorize(who, Action::AccessMesosLogs, None))
                .then(|| refusal(who, Action::AccessMesosLogs, None));
        }
        let user = self.sandbox_user(path);
        (!acls.authorize(who, Action::AccessSandboxes, user.as_deref()))
            .then(|| refusal(who, Action::AccessSandboxes, user.as_deref()))
    }

    /// The user whose sandbox a `/files` path names: its executor's command user, else
    /// its framework's; `None` when the agent does not know them (or the path is no
    /// sandbox: the files endpoint answers that itself).
    fn sandbox_user(&self, path: &str) -> Option<String> {
        let agent = self.id.as_ref()?;
        let v = parse_virtual_path(path, &self.config.work_dir, agent.as_str()).ok()?;
        // `<...>/frameworks/<fw>/executors/<ex>/runs`.
        let executors = v.runs_dir.parent()?;
        let executor = ExecutorId::new(executors.file_name()?.to_str()?);
        let frameworks = executors.parent()?.parent()?;
        let framework = FrameworkId::new(frameworks.file_name()?.to_str()?);
        let fw = self.frameworks.get(&framework)?;
        let own = fw
            .executors
            .get(&executor)
            .and_then(|e| e.info.command.as_ref())
            .and_then(|c| c.user.clone());
        Some(own.unwrap_or_else(|| fw.info.user.clone()))
    }

    /// `/state` as `principal` may view it.
    pub(super) fn filter_state(&self, principal: Option<&Principal>, state: &mut Value) {
        let Some(acls) = self.acls() else {
            return;
        };
        let framework_users = self
            .frameworks
            .iter()
            .map(|(id, fw)| (id.as_str().to_string(), fw.info.user.clone()))
            .collect();
        let task_users = self
            .frameworks
            .iter()
            .flat_map(|(id, fw)| {
                fw.executors.values().flat_map(move |ex| {
                    ex.tasks.values().filter_map(move |t| {
                        let user = t.info.command.as_ref()?.user.clone()?;
                        Some((
                            (id.as_str().to_string(), t.info.task_id.as_str().to_string()),
                            user,
                        ))
                    })
                })
            })
            .collect();
        Viewer {
            acls,
            principal: principal.and_then(|p| p.value.as_deref()),
            framework_users,
            task_users,
        }
        .filter(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_endpoints_covers_mesoss_agent_paths_only() {
        assert_eq!(
            endpoint_path("/monitor/statistics.json"),
            Some("/monitor/statistics")
        );
        assert_eq!(endpoint_path("/containers"), Some("/containers"));
        assert_eq!(endpoint_path("/state"), None);
        let r = refusal(Some("dev"), Action::AccessSandboxes, Some("root"));
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            "Principal 'dev' is not authorized to access_sandboxes for 'root'"
        );
    }
}
