//! Routing of the agent's HTTP endpoints (the agent is the node's delegate, so `/state` and
//! `/slave(1)/state` both arrive here; HTTP reference §0.1 and §4.6) and the glue between
//! `meso_api::http`'s pure answers and libprocess responses.
//!
//! Every request is first authenticated for its endpoint's realm (`meso_api::http::auth`:
//! read-only, read-write for the operator API, executor for the executor API; `/health`
//! and `/version` open); a refusal is a 401, counted in
//! `slave/http_authentication_failures` when credentials were presented.
//!
//! Routes: `/api/v1/executor`, `/api/v1` by longest prefix (so `/api/v1/operator` works),
//! `/health`, `/state` (`/state.json`), `/flags`, `/version`, `/metrics` (Prometheus
//! text, `meso_api::prometheus`), `/metrics/snapshot` (the
//! node sends it here), `/containers`,
//! `/monitor/statistics` (`.json`), `/files/browse|read|download|debug` (`.json` too). A
//! trailing slash is ignored. Read-only JSON endpoints take `?jsonp=`. Anything else is 404
//! naming the path.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::auth::{agent_realm, Principal};
use meso_api::http::routing::{json_or_jsonp, longest_prefix, strip_trailing_slash};
use meso_api::http::{HttpError, RequestHeaders};
use serde_json::Value;
use slog::info;

use super::Agent;

/// Requests refused for wrong, malformed or expired credentials (not for absent ones).
pub(crate) const AUTHENTICATION_FAILURES_METRIC: &str = "slave/http_authentication_failures";

/// Routes with a handler of their own, for longest-prefix matching.
const PREFIX_ROUTES: &[&str] = &["/api/v1/executor", "/api/v1"];

/// A libprocess response for a refusal from the pure HTTP layer.
pub(crate) fn error_response(e: HttpError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::text(status, e.body);
    for (name, value) in e.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            // Appended: a 401 carries one `WWW-Authenticate` challenge per scheme.
            response.headers.append(n, v);
        }
    }
    response
}

/// The request's headers as the pure layer reads them.
pub(crate) fn request_headers(headers: &HeaderMap) -> RequestHeaders {
    let mut out = RequestHeaders::new();
    for (name, value) in headers {
        out.insert(name.as_str(), value.as_bytes());
    }
    out
}

/// `200` with `body` and its content type.
pub(crate) fn body_response(content_type: &str, body: impl Into<bytes::Bytes>) -> HttpResponse {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    HttpResponse {
        status: StatusCode::OK,
        headers,
        body: body.into(),
    }
}

/// A read-only JSON answer, wrapped for `?jsonp=` when asked.
pub(crate) fn json_answer(request: &HttpRequest, value: &Value) -> HttpResponse {
    match json_or_jsonp(request.query.as_deref(), value.to_string()) {
        Ok((content_type, body)) => body_response(content_type, body),
        Err(e) => error_response(e),
    }
}

/// 405 with `Allow: GET` unless the method is GET or HEAD.
pub(crate) fn get_only(request: &HttpRequest) -> Option<HttpResponse> {
    if request.method == http::Method::GET || request.method == http::Method::HEAD {
        return None;
    }
    let mut r = HttpResponse::text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "405 Method Not Allowed. Expecting one of {{ 'GET' }}, but received '{}'.",
            request.method
        ),
    );
    r.headers
        .insert(http::header::ALLOW, HeaderValue::from_static("GET"));
    Some(r)
}

impl Agent {
    /// Serves one HTTP request to the agent.
    pub(super) fn route_http(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let route = strip_trailing_slash(&request.route).to_string();
        let route = route
            .strip_prefix("/slave(1)")
            .filter(|r| r.starts_with('/'))
            .map(str::to_string)
            .unwrap_or(route);
        let principal = match self.authenticate(ctx, &route, &request) {
            Ok(principal) => principal,
            Err(refusal) => return reply.respond(error_response(refusal)),
        };
        if let Some(refusal) = self.authorize_http(principal.as_ref(), &route, &request) {
            return reply.respond(refusal);
        }
        match longest_prefix(&route, PREFIX_ROUTES) {
            Some("/api/v1/executor") => return self.executor_api(ctx, request, reply, principal),
            Some("/api/v1") => return self.operator_api(ctx, request, reply),
            _ => {}
        }
        if let Some(files_route) = route.strip_prefix("/files/") {
            let files_route = files_route.trim_end_matches(".json").to_string();
            return reply.respond(self.files(&request, &files_route));
        }
        if let Some(refusal) = get_only(&request) {
            return reply.respond(refusal);
        }
        let answer = match route.as_str() {
            "/health" => HttpResponse::text(StatusCode::OK, ""),
            "/state" | "/state.json" => {
                let mut state = self.state_json();
                self.filter_state(principal.as_ref(), &mut state);
                json_answer(&request, &state)
            }
            "/flags" => json_answer(&request, &self.flags_json()),
            "/version" => json_answer(&request, &Agent::version_json()),
            "/metrics/snapshot" => {
                // The gauges are computed from the agent's state now, not after every
                // message (see `metrics.rs`).
                self.refresh_metrics(libprocess::unix_secs(ctx.wall_time()));
                body_response("application/json", ctx.node().metrics().snapshot_json())
            }
            "/metrics" => {
                self.refresh_metrics(libprocess::unix_secs(ctx.wall_time()));
                body_response(
                    "text/plain; version=0.0.4",
                    meso_api::prometheus::render(&ctx.node().metrics().snapshot()),
                )
            }
            "/containers" | "/monitor/statistics" | "/monitor/statistics.json" => {
                return self.monitor_statistics(
                    reply,
                    libprocess::unix_secs(ctx.wall_time()),
                    request.query.clone(),
                );
            }
            other => HttpResponse::not_found(format!("No handler for '{other}' on the agent")),
        };
        reply.respond(answer)
    }

    /// Who made the request (`None` on an endpoint not guarded) when it may go on to its
    /// endpoint; the 401 to answer with otherwise.
    fn authenticate(
        &self,
        ctx: &Context<Self>,
        route: &str,
        request: &HttpRequest,
    ) -> Result<Option<Principal>, HttpError> {
        let auth = &self.config.http_auth;
        let realm = agent_realm(route);
        if !realm.is_some_and(|r| auth.guards(r)) {
            return Ok(None);
        }
        let now = libprocess::unix_secs(ctx.wall_time());
        let refusal = match auth.authenticate(realm, &request_headers(&request.headers), now) {
            Ok(principal) => return Ok(principal),
            Err(refusal) => refusal,
        };
        if refusal.attempted {
            ctx.node()
                .metrics()
                .counter(AUTHENTICATION_FAILURES_METRIC)
                .inc();
            info!(self.log, "HTTP authentication failed";
                "path" => &request.route, "peer" => ?request.peer, "reason" => &refusal.error.body);
        }
        Err(refusal.error)
    }
}
