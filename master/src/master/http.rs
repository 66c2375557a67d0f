//! The master's HTTP entry: every request for the `master` process (or delegated to it)
//! arrives in `serve_http`, which dispatches by route: `/health` here, the read-only JSON
//! endpoints and `/metrics/snapshot` in `legacy.rs`, the operator API in
//! `operator_api.rs`, `/weights` and `/quota` in `role_calls.rs`.

use libprocess::http_types::StatusCode;
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::routing::{longest_prefix, strip_trailing_slash};

use super::Master;

impl Master {
    /// The `/master/state` document as a JSON value (for tests; the endpoint writes the
    /// bytes of `state_json::state` directly).
    pub fn state_json(&self) -> serde_json::Value {
        let leadership = self.leader_json();
        let view = super::state_json::StateView {
            leadership: Some(&leadership),
            ..self.state_view()
        };
        serde_json::from_slice(&super::state_json::state(&view))
            .expect("the state document is JSON")
    }

    pub(super) fn serve_http(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let route = strip_trailing_slash(&request.route);
        let route = route.strip_prefix("/master").unwrap_or(route);
        if route == "/api/v1/scheduler" {
            return self.scheduler_api(ctx, request, reply);
        }
        match route {
            "/health" => reply.respond(HttpResponse::text(StatusCode::OK, "")),
            r if longest_prefix(r, &["/api/v1"]).is_some() => {
                self.serve_operator(ctx, request, reply)
            }
            _ => {
                let route = route.to_string();
                if let Some((request, reply)) =
                    self.serve_role_endpoint(ctx, &route, request, reply)
                {
                    self.serve_legacy(ctx, request, reply)
                }
            }
        }
    }
}
