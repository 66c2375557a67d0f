//! Marathon's `/v2` routes over [`Services`], as a pure function from a request to a
//! [`Reply`]: routing (app ids with slashes, suffix routes winning), query flags
//! (booleans case-insensitive, `force` defaulting to true only on app DELETE), and the
//! answers' status codes and bodies. `/v2/events` is the process's, not this module's.

use serde_json::{json, Map, Value};

use crate::app::AppError;
use crate::ids::{app_of_task, AppId};
use crate::ops::{ApiError, Stamp, Started};
use crate::parse::parse_object;
use crate::state::Services;
use crate::timestamps::iso;
use crate::views::{self, Embed};

/// An answer: status, extra headers, JSON body (`None`: empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Location`, `Marathon-Deployment-Id`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Option<Value>,
    /// A body already written as JSON text (large lists), sent instead of `body`.
    pub raw: Option<String>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: Some(body),
            raw: None,
        }
    }

    fn started(status: u16, s: &Started) -> Reply {
        Reply {
            status,
            headers: vec![("Marathon-Deployment-Id", s.deployment.clone())],
            body: Some(json!({"deploymentId": s.deployment, "version": iso(s.version_ms)})),
            raw: None,
        }
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            headers: Vec::new(),
            body: Some(e.body),
            raw: None,
        }
    }
}

/// A request as the API sees it.
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path after `/v2` (e.g. `/apps/web`).
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: &'a str,
    /// The body.
    pub body: &'a [u8],
}

/// What the API tells about the framework and its master.
pub struct Env<'a> {
    /// The leading master, `host:port`.
    pub leader: &'a str,
    /// The master's HTTP port.
    pub http_port: u16,
}

/// The values of query parameter `name`.
fn params<'a>(query: &'a str, name: &'a str) -> impl Iterator<Item = String> + 'a {
    query.split('&').filter_map(move |kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let k = k.trim_end_matches("[]");
        (k == name).then(|| percent_decode(v))
    })
}

fn flag(query: &str, name: &str, default: bool) -> bool {
    params(query, name)
        .next()
        .map_or(default, |v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn embed(query: &str, single: bool) -> Embed {
    let mut e = Embed {
        tasks: single,
        last_task_failure: single,
        readiness: false,
    };
    for v in params(query, "embed") {
        let v = v
            .trim_start_matches("group.")
            .trim_start_matches("apps.")
            .trim_start_matches("app.");
        match v {
            "tasks" => e.tasks = true,
            "lastTaskFailure" => e.last_task_failure = true,
            "readiness" => e.readiness = true,
            "failures" => {
                e.tasks = true;
                e.last_task_failure = true;
            }
            _ => {}
        }
    }
    e
}

fn app_id(text: &str) -> Result<AppId, Reply> {
    AppId::parse(text).map_err(|e| {
        Reply::from(ApiError::from(AppError::Invalid(vec![
            crate::app::Violation::new("/id", e),
        ])))
    })
}

fn body_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    parse_object(body).map_err(|e| Reply::from(ApiError::from(e)))
}

/// Answers one `/v2` request.
pub fn handle(s: &mut Services, req: &Request<'_>, env: &Env<'_>, stamp: &mut Stamp<'_>) -> Reply {
    match route(s, req, env, stamp) {
        Ok(r) | Err(r) => r,
    }
}

fn route(
    s: &mut Services,
    req: &Request<'_>,
    env: &Env<'_>,
    stamp: &mut Stamp<'_>,
) -> Result<Reply, Reply> {
    let path = req.path.trim_end_matches('/');
    let q = req.query;
    let force = flag(q, "force", false);
    match (req.method, path) {
        ("GET", "/apps") => {
            let e = embed(q, false);
            let cmd = params(q, "cmd").next().map(|c| c.to_lowercase());
            let id = params(q, "id").next().map(|c| c.to_lowercase());
            let labels: Vec<String> = params(q, "label").collect();
            let apps = s.apps.values().filter(|r| {
                cmd.as_ref().is_none_or(|c| {
                    r.def
                        .cmd
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(c)
                }) && id
                    .as_ref()
                    .is_none_or(|i| r.def.id.as_str().to_lowercase().contains(i))
                    && labels
                        .iter()
                        .all(|l| crate::labels::matches(l, &r.def.labels))
            });
            Ok(Reply {
                status: 200,
                headers: Vec::new(),
                body: None,
                raw: Some(views::apps_text(s, apps, e)),
            })
        }
        ("POST", "/apps") => {
            let body = body_object(req.body)?;
            let (app, started) = s.create(body, stamp)?;
            let info = views::app_info(s, &s.apps[&app], Embed::default());
            Ok(Reply {
                status: 201,
                headers: vec![
                    ("Location", app.to_string()),
                    ("Marathon-Deployment-Id", started.deployment),
                ],
                body: Some(info),
                raw: None,
            })
        }
        ("PUT" | "PATCH", "/apps") => {
            let list: Value = serde_json::from_slice(req.body)
                .map_err(|e| Reply::from(ApiError::from(AppError::Json(e.to_string()))))?;
            let Value::Array(items) = list else {
                return Err(Reply::from(ApiError::from(AppError::Types(vec![
                    crate::app::Violation::new("/", "error.expected.jsarray"),
                ]))));
            };
            let mut bodies = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                let Value::Object(body) = item else {
                    return Err(Reply::from(ApiError::from(AppError::Types(vec![
                        crate::app::Violation::new(format!("/({i})"), "error.expected.jsobject"),
                    ]))));
                };
                bodies.push(body);
            }
            let partial = req.method == "PATCH" || flag(q, "partialUpdate", true);
            match s.update_many(bodies, partial, req.method == "PUT", force, stamp)? {
                Some(st) => Ok(Reply::started(200, &st)),
                None => Ok(Reply::ok(
                    json!({"deploymentId": Value::Null, "version": iso(stamp.now_ms)}),
                )),
            }
        }
        ("GET", "/deployments") => Ok(Reply::ok(Value::Array(
            s.deployments
                .values()
                .map(|d| views::deployment_json(s, d))
                .collect(),
        ))),
        ("DELETE", p) if p.starts_with("/deployments/") => {
            let id = &p["/deployments/".len()..];
            match s.cancel_deployment(id, force, stamp)? {
                Some(started) => Ok(Reply::started(200, &started)),
                None => Ok(Reply {
                    status: 202,
                    headers: Vec::new(),
                    body: None,
                    raw: None,
                }),
            }
        }
        ("GET", "/tasks") => {
            let wanted: Vec<String> = params(q, "status").map(|v| v.to_lowercase()).collect();
            let tasks: Vec<Value> = s
                .instances
                .values()
                .map(|i| views::task_json(s, i))
                .filter(|t| !t.is_null())
                .filter(|t| {
                    wanted.is_empty()
                        || wanted.iter().any(|w| {
                            t["state"]
                                .as_str()
                                .is_some_and(|st| st.eq_ignore_ascii_case(&format!("task_{w}")))
                        })
                })
                .collect();
            Ok(Reply::ok(json!({"tasks": tasks})))
        }
        ("POST", "/tasks/delete") => {
            if flag(q, "scale", false) && flag(q, "wipe", false) {
                return Err(Reply::from(ApiError::new(
                    400,
                    "You cannot use scale and wipe at the same time.",
                )));
            }
            let body = body_object(req.body)?;
            let ids: Vec<String> = body
                .get("ids")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    Reply::from(ApiError::from(AppError::Types(vec![
                        crate::app::Violation::new("/ids", "error.path.missing"),
                    ])))
                })?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            for id in &ids {
                app_of_task(id).map_err(|e| Reply::from(ApiError::new(400, e)))?;
            }
            kill(s, &ids, flag(q, "scale", false), force, stamp)
        }
        ("GET", "/groups") => Ok(Reply::ok(views::group_json(s, "/", embed(q, false)))),
        ("GET", p) if p.starts_with("/groups/") => {
            let g = &p["/groups".len()..];
            let exists = s.apps.keys().any(|a| a.is_under(g) && a.as_str() != g);
            if !exists {
                return Err(Reply::from(ApiError::new(
                    404,
                    format!("Group '{g}' does not exist"),
                )));
            }
            Ok(Reply::ok(views::group_json(s, g, embed(q, false))))
        }
        ("GET", "/queue") => Ok(Reply::ok(views::queue_json(s, stamp.now_ms))),
        ("DELETE", p) if p.starts_with("/queue/") && p.ends_with("/delay") => {
            let app = app_id(&p["/queue/".len()..p.len() - "/delay".len()])?;
            s.reset_delay(&app)?;
            Ok(Reply {
                status: 204,
                headers: Vec::new(),
                body: None,
                raw: None,
            })
        }
        ("GET", "/info") => Ok(Reply::ok(json!({
            "name": "meso-services",
            "version": env!("CARGO_PKG_VERSION"),
            "buildref": "meso",
            "elected": true,
            "leader": env.leader,
            "frameworkId": s.framework_id,
            "marathon_config": {"mesos_role": s.role, "framework_name": "meso-services"},
            "zookeeper_config": {},
            "http_config": {"http_port": env.http_port, "https_port": 0},
        }))),
        ("GET", "/leader") => Ok(Reply::ok(json!({"leader": env.leader}))),
        // `DELETE /leader` needs the Raft log: the framework's process answers it before
        // this pure router is called (`framework.rs`, `abdicate`).
        (_, p) if p.starts_with("/apps/") => apps_route(s, req, &p["/apps".len()..], stamp),
        _ => Err(Reply::from(ApiError::new(404, "URI not found"))),
    }
}

fn kill(
    s: &mut Services,
    ids: &[String],
    scale: bool,
    force: bool,
    stamp: &mut Stamp<'_>,
) -> Result<Reply, Reply> {
    let (killed, started) = s.kill_tasks(ids, scale, force, stamp)?;
    Ok(match started {
        Some(st) => Reply::started(200, &st),
        None => Reply::ok(json!({"tasks": killed})),
    })
}

/// `/v2/apps/{id}...`: `rest` starts with `/`; suffix routes win over the id.
fn apps_route(
    s: &mut Services,
    req: &Request<'_>,
    rest: &str,
    stamp: &mut Stamp<'_>,
) -> Result<Reply, Reply> {
    let q = req.query;
    let force = flag(q, "force", false);
    let segments: Vec<&str> = rest.split('/').filter(|x| !x.is_empty()).collect();
    let find = |name: &str| segments.iter().rposition(|x| *x == name);
    if let Some(i) = find("tasks").filter(|&i| i + 2 >= segments.len() && i > 0) {
        let app = app_id(&segments[..i].join("/"))?;
        if !s.apps.contains_key(&app) {
            return Err(ApiError::no_app(&app).into());
        }
        let task = segments.get(i + 1).map(|t| t.to_string());
        return match (req.method, task) {
            ("GET", None) => {
                let tasks: Vec<Value> = s
                    .instances_of(&app)
                    .map(|inst| views::task_json(s, inst))
                    .filter(|t| !t.is_null())
                    .collect();
                Ok(Reply::ok(json!({"tasks": tasks})))
            }
            ("DELETE", None) => {
                let host = crate::api::params(q, "host").next();
                let ids: Vec<String> = s
                    .instances_of(&app)
                    .filter_map(|inst| inst.task.as_ref())
                    .filter(|t| host.as_ref().is_none_or(|h| &t.facts.hostname == h))
                    .map(|t| t.task_id.clone())
                    .collect();
                kill(s, &ids, flag(q, "scale", false), force, stamp)
            }
            ("DELETE", Some(t)) => {
                if s.instance_of_task(&t).is_none_or(|i| i.app != app) {
                    return Err(ApiError::new(404, format!("Task '{t}' does not exist")).into());
                }
                let scale = flag(q, "scale", false);
                let (killed, started) =
                    s.kill_tasks(std::slice::from_ref(&t), scale, force, stamp)?;
                Ok(match started {
                    Some(st) => Reply::started(200, &st),
                    None => Reply::ok(json!({"task": killed.into_iter().next()})),
                })
            }
            _ => Err(ApiError::new(405, "method not allowed").into()),
        };
    }
    if let Some(i) = find("versions").filter(|&i| i + 2 >= segments.len() && i > 0) {
        let app = app_id(&segments[..i].join("/"))?;
        let record = s
            .apps
            .get(&app)
            .ok_or_else(|| Reply::from(ApiError::no_app(&app)))?;
        return match segments.get(i + 1) {
            None => Ok(Reply::ok(json!({
                "versions": record.versions.iter().rev().map(|(v, _)| iso(*v)).collect::<Vec<_>>()
            }))),
            Some(v) => record
                .versions
                .iter()
                .find(|(ms, _)| iso(*ms) == *v)
                .map(|(ms, d)| {
                    let mut m = d.to_json();
                    m.insert("version".into(), json!(iso(*ms)));
                    Reply::ok(Value::Object(m))
                })
                .ok_or_else(|| {
                    ApiError::new(404, format!("Version '{v}' of app '{app}' does not exist"))
                        .into()
                }),
        };
    }
    if segments.last() == Some(&"restart") && req.method == "POST" && segments.len() > 1 {
        let app = app_id(&segments[..segments.len() - 1].join("/"))?;
        let st = s.restart(&app, force, stamp)?;
        return Ok(Reply::started(200, &st));
    }
    if segments.last() == Some(&"*") && req.method == "GET" {
        let group = format!("/{}", segments[..segments.len() - 1].join("/"));
        let e = embed(q, false);
        let apps: Vec<Value> = s
            .apps
            .values()
            .filter(|r| r.def.id.is_under(&group))
            .map(|r| views::app_info(s, r, e))
            .collect();
        return Ok(Reply::ok(json!({"*": apps})));
    }
    let app = app_id(rest)?;
    match req.method {
        "GET" => {
            let r = s
                .apps
                .get(&app)
                .ok_or_else(|| Reply::from(ApiError::no_app(&app)))?;
            Ok(Reply::ok(
                json!({"app": views::app_info(s, r, embed(q, true))}),
            ))
        }
        "PUT" | "PATCH" => {
            let body = body_object(req.body)?;
            let partial = req.method == "PATCH" || flag(q, "partialUpdate", true);
            let (created, st) = s.update(&app, body, partial, req.method == "PUT", force, stamp)?;
            Ok(Reply::started(if created { 201 } else { 200 }, &st))
        }
        "DELETE" => {
            let st = s.delete(&app, flag(q, "force", true), stamp)?;
            Ok(Reply::started(200, &st))
        }
        _ => Err(ApiError::new(405, "method not allowed").into()),
    }
}

#[cfg(test)]
mod tests;
