//! The master's read-only JSON endpoints (HTTP reference §0.1, §4): `/master/state` (also
//! `/state`, `/state.json`, `/master/state.json`), `/master/state-summary`,
//! `/master/frameworks`, `/master/slaves`, `/master/tasks`, `/master/roles`,
//! `/master/redirect`, `/master/health`, `/version`, `/flags`, `/metrics/snapshot` and
//! `/metrics` (the node routes both here, see `Node::set_metrics_snapshot_process`).
//! Routes arrive with the `master` prefix already removed by the node or whole through
//! delegation; trailing slashes are stripped; `?jsonp=<callback>` wraps any JSON answer.
//!
//! The documents come from the pure builders in `state_json.rs` and `metrics.rs`; this file
//! only routes and turns `HttpError`s into responses.

use libprocess::http_types::{HeaderName, HeaderValue, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::routing::{
    json_or_jsonp, master_redirect, parse_query, query_value, strip_trailing_slash,
};
use meso_api::http::{HttpError, TasksQuery};
use serde::Serialize;

use super::metrics::{master_metrics, snapshot_json, MetricsInput};
use super::state_json::{self, StateView};
use super::Master;

/// An `HttpError` as a response: its status, headers and plain-text body.
pub fn error_response(e: HttpError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = HttpResponse::text(status, e.body);
    for (name, value) in e.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            // Appended: a 401 carries one `WWW-Authenticate` challenge per scheme.
            r.headers.append(n, v);
        }
    }
    r
}

/// Whether the query asks for JSONP (or is malformed: the JSONP path answers its error).
fn jsonp_wanted(query: Option<&str>) -> bool {
    parse_query(query.unwrap_or("")).map_or(true, |pairs| query_value(&pairs, "jsonp").is_some())
}

/// A 200 JSON (or JSONP) answer, or the query's error.
pub fn json_response(query: Option<&str>, body: Vec<u8>) -> HttpResponse {
    // Without a callback the body goes out as written: a `/master/state` of 500,000 tasks
    // is 160 MB, and a UTF-8 check of it costs tens of milliseconds (serde_json writes
    // UTF-8 already).
    if !jsonp_wanted(query) {
        let mut r = HttpResponse::text(StatusCode::OK, String::new());
        r.body = body.into();
        r.headers.insert(
            libprocess::http_types::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return r;
    }
    let json = String::from_utf8(body).expect("serde_json writes UTF-8");
    match json_or_jsonp(query, json) {
        Ok((content_type, body)) => {
            let mut r = HttpResponse::text(StatusCode::OK, body);
            r.headers.insert(
                libprocess::http_types::header::CONTENT_TYPE,
                HeaderValue::from_static(content_type),
            );
            r
        }
        Err(e) => error_response(e),
    }
}

/// Seconds since the Unix epoch by the node's clock: the clock's own time plus the offset
/// taken from the system's wall clock when the master started (a test clock still drives it).
pub fn now_secs<P: libprocess::Process>(ctx: &Context<P>, epoch_offset: f64) -> f64 {
    epoch_offset + ctx.node().clock().now().as_secs_f64()
}

/// The offset that turns the node clock's time into seconds since the Unix epoch, read once
/// from the node's wall clock.
pub fn epoch_offset<P: libprocess::Process>(ctx: &Context<P>) -> f64 {
    let wall = libprocess::unix_secs(ctx.wall_time());
    wall - ctx.node().clock().now().as_secs_f64()
}

impl Master {
    /// Now, in seconds since the Unix epoch.
    pub(super) fn wall_secs(&self, ctx: &Context<Self>) -> f64 {
        now_secs(ctx, self.operator.epoch_offset)
    }

    /// The books, borrowed for the pure builders.
    pub fn state_view(&self) -> StateView<'_> {
        let info = self
            .info
            .as_ref()
            .expect("master info is set in initialize, before any request");
        StateView {
            unreachable_tasks: &self.unreachable_tasks,
            recovered_agents: self.recovery.book.agents(),
            info,
            leader: Some(info),
            leadership: None,
            agents: &self.agents,
            frameworks: &self.frameworks,
            completed_frameworks: &self.operator.completed_frameworks,
            offers: &self.offers,
            tasks: &self.tasks,
            timeline: &self.operator.timeline,
            flags: &self.operator.flags,
        }
    }

    /// Installs pre-built books in place of the master's own, for benchmarks and shape
    /// tests that need a large or exact cluster without registering it message by message.
    /// The allocator is not told, so the master must not be driven further with them.
    pub fn install_books(
        &mut self,
        agents: super::agents::AgentBook,
        frameworks: super::frameworks::FrameworkBook,
        offers: super::offers::OfferBook,
        tasks: super::tasks::TaskBook,
    ) {
        self.agents = agents;
        self.frameworks = frameworks;
        self.offers = offers;
        self.tasks = tasks;
    }

    /// The `/metrics/snapshot` body: the master's metrics and the node's.
    pub fn metrics_snapshot(&self, now: f64, node: &libprocess::Metrics) -> Vec<u8> {
        snapshot_json(self.metrics_map(now), node.snapshot())
    }

    /// The master's metrics by Mesos name.
    pub fn metrics_map(&self, now: f64) -> std::collections::BTreeMap<String, f64> {
        let mut all = master_metrics(&MetricsInput {
            view: self.state_view(),
            now,
            elected: true,
            subscribers: self.operator.events.len(),
        });
        all.extend(self.role_metrics());
        all
    }

    /// `/metrics/snapshot` (JSON, Mesos's keys) or `/metrics` (Prometheus text,
    /// `meso_api::prometheus`): the node's metrics, the master's from its books, and the
    /// allocator's, which its process adds before the answer leaves.
    fn serve_metrics(
        &mut self,
        ctx: &mut Context<Self>,
        query: Option<String>,
        prometheus: bool,
        reply: HttpReply,
    ) {
        let mut all = ctx.node().metrics().snapshot();
        all.extend(self.metrics_map(self.wall_secs(ctx)));
        let answer = move |allocator: std::collections::BTreeMap<String, f64>| {
            all.extend(allocator);
            reply.respond(if prometheus {
                let mut r = HttpResponse::text(StatusCode::OK, meso_api::prometheus::render(&all));
                r.headers.insert(
                    libprocess::http_types::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                r
            } else {
                json_response(query.as_deref(), snapshot_json(all, Default::default()))
            });
        };
        match &self.allocator {
            Some(_) => self.allocator(super::allocation::AllocatorCall::Metrics(
                super::allocation::MetricsRequest(Box::new(answer)),
            )),
            None => answer(Default::default()),
        }
    }

    /// Answers a legacy route (or 404).
    pub(super) fn serve_legacy(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let query = request.query.as_deref();
        let route = strip_trailing_slash(&request.route);
        let route = route
            .strip_prefix("/master")
            .filter(|r| r.starts_with('/'))
            .unwrap_or(route);
        if route == "/metrics/snapshot" || route == "/metrics" {
            let prometheus = route == "/metrics";
            return self.serve_metrics(ctx, request.query, prometheus, reply);
        }
        let leadership = self.leader_json();
        let view = StateView {
            leadership: Some(&leadership),
            ..self.state_view()
        };
        let response = match route {
            "/state" | "/state.json" => {
                let answers = &self.operator.answers;
                let buf = answers.take(state_json::state_capacity(&view));
                let body = state_json::state_into(&view, buf);
                if jsonp_wanted(query) {
                    json_response(query, body)
                } else {
                    let mut r = json_response(None, Vec::new());
                    r.body = answers.bytes(body, 0);
                    r
                }
            }
            "/state-summary" => json_response(query, state_json::state_summary(&view)),
            "/frameworks" | "/frameworks.json" => match query_param(query, "framework_id") {
                Ok(id) => json_response(query, state_json::frameworks(&view, id.as_deref())),
                Err(e) => error_response(e),
            },
            "/slaves" | "/slaves.json" => match query_param(query, "slave_id") {
                Ok(id) => json_response(query, state_json::slaves(&view, id.as_deref())),
                Err(e) => error_response(e),
            },
            "/tasks" | "/tasks.json" => match TasksQuery::parse(query) {
                Ok(q) => {
                    let list: Vec<_> = state_json::all_tasks(&view)
                        .into_iter()
                        .filter(|t| q.matches(t.info.task_id.as_str(), t.framework_id.as_str()))
                        .collect();
                    let page = q.page(list, |t| state_json::task_timestamp(t));
                    json_response(query, state_json::tasks(&page))
                }
                Err(e) => error_response(e),
            },
            "/roles" | "/roles.json" => {
                json_response(query, super::roles_json::roles(&view, &self.operator.roles))
            }
            "/health" => HttpResponse::text(StatusCode::OK, ""),
            "/version" => json_response(query, version_json()),
            "/flags" => json_response(query, flags_json(&view)),
            r if r == "/redirect" || r.starts_with("/redirect/") => {
                let info = self.master_info();
                let host = info.hostname.clone().unwrap_or_default();
                error_response(master_redirect(Some((&host, info.port as u16)), r))
            }
            other => error_response(HttpError::new(
                404,
                format!("No handler for '{other}' on the master"),
            )),
        };
        let response = match route {
            "/state" | "/state.json" | "/state-summary" | "/frameworks" | "/frameworks.json"
            | "/tasks" | "/tasks.json" => self.filter_view_response(ctx, &request, response),
            _ => response,
        };
        reply.respond(response);
    }
}

fn query_param(query: Option<&str>, key: &str) -> Result<Option<String>, HttpError> {
    let pairs = meso_api::http::routing::parse_query(query.unwrap_or(""))?;
    Ok(meso_api::http::routing::query_value(&pairs, key)
        .filter(|v| !v.is_empty())
        .map(str::to_string))
}

/// The `/version` body.
pub fn version_json() -> Vec<u8> {
    #[derive(Serialize)]
    struct Version {
        version: &'static str,
        build_date: &'static str,
        build_time: f64,
        build_user: &'static str,
    }
    serde_json::to_vec(&Version {
        version: state_json::MESOS_VERSION,
        build_date: state_json::BUILD_DATE,
        build_time: state_json::BUILD_TIME,
        build_user: state_json::BUILD_USER,
    })
    .expect("strings and a number serialise")
}

/// The `/flags` body: `{"flags": {name: value}}`.
pub fn flags_json(view: &StateView<'_>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Doc<'a> {
        flags: state_json::Flags<'a>,
    }
    serde_json::to_vec(&Doc {
        flags: state_json::Flags(view.flags),
    })
    .expect("strings serialise")
}
