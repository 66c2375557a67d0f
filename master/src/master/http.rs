//! The master's HTTP entry: every request for the `master` process (or delegated to it)
//! arrives in `serve_http`, which first authenticates it for its endpoint's realm
//! (`meso_api::http::auth`; a refusal is a 401 counted in
//! `master/http_authentication_failures` when credentials were presented, and without the
//! `WWW-Authenticate` challenge for a script's `X-Requested-With: XMLHttpRequest` request,
//! so the web UI's login dialog asks instead of the browser), then dispatches
//! by route: `/health` here, the read-only JSON endpoints and `/metrics/snapshot` in
//! `legacy.rs`, `/agents/<id>/...` in `agent_proxy.rs`, `/kill-task` in `operator_kill.rs`,
//! the operator API in `operator_api.rs`, `/weights` and `/quota` in `role_calls.rs`,
//! `/maintenance/*` and `/machine/*` in `maintenance/calls.rs`, `/reserve`, `/unreserve`,
//! `/create-volumes` and `/destroy-volumes` in `reservations.rs`, `/files/*` (the master's
//! own log) in `log_files.rs`.

use libprocess::http_types::StatusCode;
use libprocess::slog::info;
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::auth::master_realm;
use meso_api::http::routing::{longest_prefix, strip_trailing_slash};
use meso_api::http::RequestHeaders;

use super::Master;

/// Requests refused for wrong, malformed or expired credentials (not for absent ones: a
/// client's first unauthenticated try is not a failed attempt).
pub const AUTHENTICATION_FAILURES_METRIC: &str = "master/http_authentication_failures";

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
        if let Some(refusal) = self.authenticate(ctx, route, &request) {
            return reply.respond(refusal);
        }
        if let Some(refusal) = self.authorize_http(ctx, route, &request) {
            return reply.respond(refusal);
        }
        if route == "/api/v1/scheduler" {
            return self.scheduler_api(ctx, request, reply);
        }
        if let Some(response) = super::webui::only_get(request.method.as_str(), route)
            .filter(|_| super::webui::is_ui_route(route))
            .or_else(|| self.serve_ui(ctx, route, &request))
        {
            return reply.respond(response);
        }
        if let Some(target) = super::agent_proxy::parse_route(request.method.as_str(), route) {
            return match target {
                Ok(target) => self.serve_agent_proxy(ctx, target, request, reply),
                Err(e) => reply.respond(super::legacy::error_response(e)),
            };
        }
        match route {
            "/health" => reply.respond(HttpResponse::text(StatusCode::OK, "")),
            super::operator_kill::ROUTE => self.serve_kill_task(ctx, request, reply),
            r if r.starts_with("/files/") => reply.respond(super::log_files::serve(
                &request,
                &r["/files/".len()..],
                self.config.log_file.as_deref(),
            )),
            r if longest_prefix(r, &["/api/v1"]).is_some() => {
                self.serve_operator(ctx, request, reply)
            }
            _ => {
                let route = route.to_string();
                let Some((request, reply)) = self.serve_role_endpoint(ctx, &route, request, reply)
                else {
                    return;
                };
                let Some((request, reply)) =
                    self.serve_reservation_endpoint(ctx, &route, request, reply)
                else {
                    return;
                };
                if let Some((request, reply)) =
                    self.serve_maintenance_endpoint(ctx, &route, request, reply)
                {
                    self.serve_legacy(ctx, request, reply)
                }
            }
        }
    }

    /// `None` when the request may go on to its endpoint; the 401 to answer otherwise.
    fn authenticate(
        &self,
        ctx: &Context<Self>,
        route: &str,
        request: &HttpRequest,
    ) -> Option<HttpResponse> {
        let auth = &self.config.http_auth;
        let realm = master_realm(route);
        if !realm.is_some_and(|r| auth.guards(r)) {
            return None;
        }
        let headers = RequestHeaders::from_pairs(
            request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes())),
        );
        let refusal = auth
            .authenticate(realm, &headers, self.wall_secs(ctx))
            .err()?;
        if refusal.attempted {
            ctx.node()
                .metrics()
                .counter(AUTHENTICATION_FAILURES_METRIC)
                .inc();
            info!(ctx.node().logger(), "HTTP authentication failed";
                "path" => &request.route, "peer" => ?request.peer, "reason" => &refusal.error.body);
        }
        let mut response = super::legacy::error_response(refusal.error);
        if request
            .headers
            .get("x-requested-with")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"))
        {
            // A script's request (the web UI's): without the challenge the browser shows
            // no prompt of its own and the page asks for credentials itself.
            response.headers.remove("www-authenticate");
        }
        Some(response)
    }
}
