//! The master's HTTP endpoints: `/master/state` (JSON: agents, frameworks with their active
//! and completed tasks and outstanding offers, unreachable agents) and `/master/health`
//! (also `/health` when the master is the node's delegate).

use libprocess::http_types::StatusCode;
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::tasks::Task;
use super::Master;

fn task_json(task: &Task) -> Value {
    json!({
        "id": task.info.task_id.value,
        "name": task.info.name,
        "framework_id": task.framework_id.value,
        "slave_id": task.agent_id.value,
        "state": task.state.to_string(),
        "resources": serde_json::to_value(&task.info.resources).unwrap_or(Value::Null),
        "role": task.role,
        "statuses": task.status.as_ref().map(|s| vec![json!({
            "state": s.state.to_string(),
            "message": s.message,
            "timestamp": s.timestamp,
        })]).unwrap_or_default(),
    })
}

impl Master {
    /// The `/master/state` document.
    pub fn state_json(&self) -> Value {
        let info = self.info.clone();
        let agents: Vec<Value> = self
            .agents
            .iter()
            .map(|a| {
                json!({
                    "id": a.info.id.as_ref().map(|i| i.value.clone()),
                    "hostname": a.info.hostname,
                    "port": a.info.port,
                    "pid": a.pid.to_string(),
                    "resources": serde_json::to_value(&a.info.resources).unwrap_or(Value::Null),
                    "attributes": serde_json::to_value(&a.info.attributes).unwrap_or(Value::Null),
                    "active": true,
                })
            })
            .collect();
        let frameworks: Vec<Value> = self
            .frameworks
            .iter()
            .map(|f| {
                let id = f.info.id.clone().unwrap_or_else(|| meso_api::v1::FrameworkId::new(""));
                let offers: Vec<Value> = self
                    .offers
                    .of_framework(&id)
                    .iter()
                    .filter_map(|o| self.offers.get(o))
                    .map(|o| serde_json::to_value(&o.offer).unwrap_or(Value::Null))
                    .collect();
                json!({
                    "id": id.value,
                    "name": f.info.name,
                    "user": f.info.user,
                    "roles": f.info.effective_roles(),
                    "pid": f.pid.as_ref().map(|p| p.to_string()),
                    "active": f.active,
                    "connected": f.connected,
                    "failover_timeout": f.info.failover_timeout,
                    "tasks": self.tasks.of_framework(&id).map(task_json).collect::<Vec<_>>(),
                    "completed_tasks": self.tasks.completed_of(&id).map(task_json).collect::<Vec<_>>(),
                    "offers": offers,
                })
            })
            .collect();
        let mut doc = json!({
            "id": self.config.master_id,
            "pid": info.as_ref().and_then(|i| i.pid.clone()),
            "hostname": self.config.hostname,
            "version": env!("CARGO_PKG_VERSION"),
            "activated_slaves": self.agents.len(),
            "slaves": agents,
            "unreachable_slaves": self.agents.unreachable().map(|a| a.value.clone()).collect::<Vec<_>>(),
            "frameworks": frameworks,
            "outstanding_offers": self.offers.len(),
            "active_tasks": self.tasks.active_count(),
        });
        if let (Value::Object(doc), Value::Object(leader)) = (&mut doc, self.leader_json()) {
            doc.extend(leader);
        }
        doc
    }

    pub(super) fn serve_http(
        &mut self,
        _ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let route = request.route.trim_end_matches('/');
        let route = route.strip_prefix("/master").unwrap_or(route);
        let response = match route {
            "/state" | "/state.json" => HttpResponse::json(&self.state_json()),
            "/health" => HttpResponse::text(StatusCode::OK, ""),
            other => HttpResponse::not_found(format!("no endpoint {other} on the master")),
        };
        reply.respond(response);
    }
}
