//! The agent's v1 operator API, `POST /api/v1` (HTTP reference §3.2): GET_HEALTH,
//! GET_FLAGS, GET_VERSION, GET_METRICS, GET_STATE, GET_CONTAINERS, GET_FRAMEWORKS,
//! GET_EXECUTORS, GET_TASKS, and UPDATE_AGENT (a meso extension, `config_update.rs`).
//!
//! The front door (`meso_api::http::agent_operator_request`) decides every refusal (405,
//! 400, 415, 406, 413-style limits, 501 for calls meso does not serve, each with a body that
//! says why); this file only builds the answers, `{"type":"GET_X","get_x":{...}}` with 200.

use libprocess::{Context, HttpReply, HttpRequest};
use meso_api::http::{agent_operator_request, AgentCallType};
use meso_api::json::Limits;
use serde_json::{json, Value};

use super::http_routes::{body_response, error_response, request_headers};
use super::Agent;

impl Agent {
    pub(super) fn operator_api(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let headers = request_headers(&request.headers);
        let (call, accept) = match agent_operator_request(
            request.method.as_str(),
            &headers,
            &request.body,
            &Limits::default(),
        ) {
            Ok(ok) => ok,
            Err(e) => return reply.respond(error_response(e)),
        };
        let payload = match call.kind {
            AgentCallType::GetHealth => json!({ "healthy": true }),
            AgentCallType::GetFlags => {
                let flags: Vec<Value> = self
                    .flag_pairs()
                    .into_iter()
                    .map(|(name, value)| json!({ "name": name, "value": value }))
                    .collect();
                json!({ "flags": flags })
            }
            AgentCallType::GetVersion => json!({ "version_info": Agent::version_json() }),
            AgentCallType::GetMetrics => {
                self.refresh_metrics(libprocess::unix_secs(ctx.wall_time()));
                let metrics: Vec<Value> = ctx
                    .node()
                    .metrics()
                    .snapshot()
                    .into_iter()
                    .map(|(name, value)| json!({ "name": name, "value": value }))
                    .collect();
                json!({ "metrics": metrics })
            }
            AgentCallType::GetState => json!({
                "get_tasks": self.get_tasks(),
                "get_executors": self.get_executors(),
                "get_frameworks": self.get_frameworks(),
            }),
            AgentCallType::GetContainers => {
                return self.get_containers(
                    reply,
                    libprocess::unix_secs(ctx.wall_time()),
                    accept.as_str(),
                );
            }
            AgentCallType::GetFrameworks => self.get_frameworks(),
            AgentCallType::GetExecutors => self.get_executors(),
            AgentCallType::GetTasks => self.get_tasks(),
            AgentCallType::GetOperations => self.get_operations(),
            AgentCallType::UpdateAgent => {
                let update = call
                    .update_agent
                    .expect("the front door requires the update_agent payload");
                return self.update_agent_call(ctx, update, reply);
            }
            other => {
                // The front door answers 501 for every call not listed above.
                return reply.respond(error_response(meso_api::http::HttpError::not_implemented(
                    format!("{other} is not implemented"),
                )));
            }
        };
        reply.respond(body_response(
            accept.as_str(),
            operator_answer(call.kind.as_str(), &payload),
        ))
    }
}

/// `{"type":"<NAME>","<name>":<payload>}` with `type` first, as Mesos writes it.
pub(crate) fn operator_answer(name: &str, payload: &Value) -> String {
    format!(
        r#"{{"type":"{name}","{}":{payload}}}"#,
        name.to_ascii_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_put_the_type_first() {
        assert_eq!(
            operator_answer("GET_HEALTH", &json!({"healthy": true})),
            r#"{"type":"GET_HEALTH","get_health":{"healthy":true}}"#
        );
    }
}
