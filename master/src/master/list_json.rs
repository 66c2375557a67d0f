//! `GET /master/list/{agents,frameworks,tasks,offers}` (a meso extension): one page of a
//! list, filtered and sorted by the master, so a browser showing 10,000 agents or 100,000
//! tasks reads 50 rows, never the whole state. The web UI's tables and the `meso` CLI read
//! these.
//!
//! Query (every parameter optional): `offset` (0), `limit` (50, at most [`MAX_LIMIT`]),
//! `sort` (a column of the list, see each list's `sort_key`), `order` (`asc`|`desc`),
//! `filter` (case-insensitive substring of the row's ids, names, host and state), `kind`
//! (tasks: `active`|`unreachable`|`completed`|`all`; frameworks: `active`|`inactive`|
//! `completed`|`all`), `framework_id`, `agent_id`, `state` (tasks), `id` (one row, exact).
//! The answer is `{"total": <rows matching>, "offset", "limit", "items": [rows]}`; a task
//! asked for by `id` carries its status history.
//!
//! Pure: built from a [`StateView`] and the [`StatusHistory`]. Invariants: rows are sorted
//! by the key, then by id, so pages never overlap or skip; an unknown parameter value (a
//! `sort` column that does not exist, a bad number, an unknown `kind`) is a 400 naming it.

use std::borrow::Cow;
use std::cmp::Ordering;

use meso_api::http::routing::{parse_query, query_value};
use meso_api::http::HttpError;
use serde_json::{json, Value};

use super::frameworks::FrameworkRecord;
use super::overview_json::{cluster_total, Scalars};
use super::state_json::{agent_id, framework_id, StateView, Totals};
use super::status_history::StatusHistory;
use super::tasks::Task;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;
/// The most rows one page may ask for.
pub const MAX_LIMIT: usize = 1000;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Registered agents.
    Agents,
    /// Frameworks.
    Frameworks,
    /// Tasks.
    Tasks,
    /// Outstanding offers.
    Offers,
}

impl ListKind {
    /// The list a route names (`/list/agents`, ...).
    pub fn of_route(route: &str) -> Option<ListKind> {
        match route.strip_prefix("/list/")? {
            "agents" => Some(ListKind::Agents),
            "frameworks" => Some(ListKind::Frameworks),
            "tasks" => Some(ListKind::Tasks),
            "offers" => Some(ListKind::Offers),
            _ => None,
        }
    }

    fn sort_columns(self) -> &'static [&'static str] {
        match self {
            ListKind::Agents => &[
                "id",
                "hostname",
                "state",
                "cpus",
                "mem",
                "disk",
                "tasks",
                "registered_time",
            ],
            ListKind::Frameworks => &[
                "id",
                "name",
                "user",
                "state",
                "tasks",
                "cpus",
                "mem",
                "max_share",
                "registered_time",
            ],
            ListKind::Tasks => &[
                "id",
                "name",
                "state",
                "framework_id",
                "agent_id",
                "hostname",
                "role",
                "started",
                "cpus",
                "mem",
            ],
            ListKind::Offers => &[
                "id",
                "framework_id",
                "agent_id",
                "hostname",
                "role",
                "cpus",
                "mem",
            ],
        }
    }
}

/// A parsed list query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    /// Rows to skip.
    pub offset: usize,
    /// Rows to return.
    pub limit: usize,
    /// The sort column (`None`: by id).
    pub sort: Option<String>,
    /// Descending order.
    pub descending: bool,
    /// Lower-cased substring to look for.
    pub filter: Option<String>,
    /// `kind` as given.
    pub kind: Option<String>,
    /// Only this framework's rows.
    pub framework_id: Option<String>,
    /// Only this agent's rows.
    pub agent_id: Option<String>,
    /// Only tasks in this state (`TASK_RUNNING` or `RUNNING`).
    pub state: Option<String>,
    /// Only the row with this id.
    pub id: Option<String>,
}

impl ListQuery {
    /// Parses the query string of a request for `list`.
    pub fn parse(list: ListKind, query: Option<&str>) -> Result<ListQuery, HttpError> {
        let pairs = parse_query(query.unwrap_or(""))?;
        let text = |key: &str| {
            query_value(&pairs, key)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let number = |key: &str, default: usize| -> Result<usize, HttpError> {
            match query_value(&pairs, key).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| {
                    HttpError::bad_request(format!(
                        "Failed to parse '{key}': '{v}' is not a non-negative integer"
                    ))
                }),
            }
        };
        let limit = number("limit", DEFAULT_LIMIT)?;
        if limit > MAX_LIMIT {
            return Err(HttpError::bad_request(format!(
                "'limit' is {limit}, more than the most rows a page holds ({MAX_LIMIT})"
            )));
        }
        let sort = text("sort");
        if let Some(s) = &sort {
            if !list.sort_columns().contains(&s.as_str()) {
                return Err(HttpError::bad_request(format!(
                    "Cannot sort by '{s}': the columns are {}",
                    list.sort_columns().join(", ")
                )));
            }
        }
        let descending = match query_value(&pairs, "order").unwrap_or("asc") {
            "" | "asc" => false,
            "desc" => true,
            other => {
                return Err(HttpError::bad_request(format!(
                    "'order' is '{other}': expected 'asc' or 'desc'"
                )))
            }
        };
        let kind = text("kind");
        let kinds: &[&str] = match list {
            ListKind::Tasks => &["active", "unreachable", "completed", "all"],
            ListKind::Frameworks => &["active", "inactive", "completed", "all"],
            ListKind::Agents | ListKind::Offers => &[],
        };
        if let Some(k) = &kind {
            if !kinds.contains(&k.as_str()) {
                return Err(HttpError::bad_request(format!(
                    "'kind' is '{k}': this list has {}",
                    if kinds.is_empty() {
                        "no kinds".to_string()
                    } else {
                        kinds.join(", ")
                    }
                )));
            }
        }
        Ok(ListQuery {
            offset: number("offset", 0)?,
            limit,
            sort,
            descending,
            filter: text("filter").map(|f| f.to_lowercase()),
            kind,
            framework_id: text("framework_id"),
            agent_id: text("agent_id"),
            state: text("state").map(|s| {
                let s = s.to_uppercase();
                if s.starts_with("TASK_") {
                    s
                } else {
                    format!("TASK_{s}")
                }
            }),
            id: text("id"),
        })
    }

    fn kind_is(&self, k: &str) -> bool {
        self.kind
            .as_deref()
            .is_none_or(|mine| mine == "all" || mine == k)
    }

    /// Whether the row whose searchable texts `fields` gives matches the filter (`fields`
    /// is called only when there is a filter).
    fn matches<'f>(&self, fields: impl FnOnce() -> Vec<&'f str>) -> bool {
        self.filter.as_deref().is_none_or(|f| {
            fields()
                .iter()
                .any(|field| field.to_lowercase().contains(f))
        })
    }
}

/// A sort key: text (borrowed from the books where it can be) or a number.
#[derive(Debug, Clone, PartialEq)]
enum Key<'a> {
    Text(Cow<'a, str>),
    Num(f64),
}

fn text<'a>(s: &'a str) -> Key<'a> {
    Key::Text(Cow::Borrowed(s))
}

fn compare(a: &Key<'_>, b: &Key<'_>) -> Ordering {
    match (a, b) {
        (Key::Num(x), Key::Num(y)) => x.total_cmp(y),
        (Key::Text(x), Key::Text(y)) => x.cmp(y),
        (Key::Num(_), Key::Text(_)) => Ordering::Less,
        (Key::Text(_), Key::Num(_)) => Ordering::Greater,
    }
}

/// One row before paging: its sort key, what breaks ties (its id, then its framework's for
/// tasks, whose ids are unique only per framework), and the item.
type Row<'a, T> = (Key<'a>, (&'a str, &'a str), T);

/// Orders the rows and cuts the page; the answer's JSON. Only the rows up to the end of
/// the page are sorted (a selection finds them first), so a page of 50 out of 100,000
/// costs a linear pass, not a sort of everything.
fn page<T>(q: &ListQuery, mut rows: Vec<Row<'_, T>>, row: impl Fn(&T) -> Value) -> Value {
    let order = |a: &Row<'_, T>, b: &Row<'_, T>| {
        let by_key = compare(&a.0, &b.0).then_with(|| a.1.cmp(&b.1));
        if q.descending {
            by_key.reverse()
        } else {
            by_key
        }
    };
    let total = rows.len();
    let end = q.offset.saturating_add(q.limit).min(total);
    if end > 0 && end < total {
        rows.select_nth_unstable_by(end - 1, order);
        rows.truncate(end);
    }
    rows.sort_by(order);
    let items: Vec<Value> = rows
        .iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|(_, _, item)| row(item))
        .collect();
    json!({"total": total, "offset": q.offset, "limit": q.limit, "items": items})
}

/// The page `q` asks for, of `list`.
pub fn list(view: &StateView<'_>, history: &StatusHistory, list: ListKind, q: &ListQuery) -> Value {
    match list {
        ListKind::Agents => agents(view, q),
        ListKind::Frameworks => frameworks(view, q),
        ListKind::Tasks => tasks(view, history, q),
        ListKind::Offers => offers(view, q),
    }
}

fn agents(view: &StateView<'_>, q: &ListQuery) -> Value {
    let totals = Totals::of(view);
    let mut tasks_on: std::collections::HashMap<&str, u64> = Default::default();
    for t in view.tasks.active() {
        *tasks_on.entry(t.agent_id.as_str()).or_default() += 1;
    }
    let rows = view
        .agents
        .iter()
        .filter(|a| {
            let id = agent_id(a).as_str();
            q.id.as_deref().is_none_or(|want| want == id)
                && q.matches(|| vec![id, &a.info.hostname, state_of_agent(a.active)])
        })
        .map(|a| {
            let id = agent_id(a).as_str();
            let total = Scalars::of(&a.info.resources);
            let key = match q.sort.as_deref() {
                Some("hostname") => text(&a.info.hostname),
                Some("state") => text(state_of_agent(a.active)),
                Some("cpus") => Key::Num(total.cpus),
                Some("mem") => Key::Num(total.mem),
                Some("disk") => Key::Num(total.disk),
                Some("tasks") => Key::Num(tasks_on.get(id).copied().unwrap_or(0) as f64),
                Some("registered_time") => Key::Num(view.timeline.agent(agent_id(a)).registered),
                _ => text(id),
            };
            (key, (id, ""), a)
        })
        .collect();
    page(q, rows, |a| {
        let id = agent_id(a);
        let times = view.timeline.agent(id);
        let used = totals.agent_used(id).map(Scalars::of).unwrap_or_default();
        let offered = totals
            .agent_offered
            .get(id)
            .map(Scalars::of)
            .unwrap_or_default();
        json!({
            "id": id.as_str(),
            "hostname": a.info.hostname,
            "port": a.info.port,
            "pid": a.pid.to_string(),
            "state": state_of_agent(a.active),
            "active": a.active,
            "tasks": tasks_on.get(id.as_str()).copied().unwrap_or(0),
            "resources": Scalars::of(&a.info.resources),
            "allocated": used,
            "offered": offered,
            "attributes": serde_json::to_value(&a.info.attributes).unwrap_or(Value::Null),
            "registered_time": times.registered,
            "reregistered_time": times.reregistered,
        })
    })
}

fn state_of_agent(active: bool) -> &'static str {
    if active {
        "active"
    } else {
        "deactivated"
    }
}

fn framework_state(f: &FrameworkRecord, completed: bool) -> &'static str {
    match (completed, f.active) {
        (true, _) => "completed",
        (false, true) => "active",
        (false, false) => "inactive",
    }
}

fn roles_of(f: &FrameworkRecord) -> Vec<String> {
    if !f.info.roles.is_empty() {
        f.info.roles.clone()
    } else {
        vec![f.info.role.clone().unwrap_or_else(|| "*".into())]
    }
}

fn frameworks(view: &StateView<'_>, q: &ListQuery) -> Value {
    let totals = Totals::of(view);
    let total = cluster_total(view);
    let mut tasks_of: std::collections::HashMap<&str, u64> = Default::default();
    for t in view.tasks.active() {
        *tasks_of.entry(t.framework_id.as_str()).or_default() += 1;
    }
    let records = view
        .frameworks
        .iter()
        .map(|f| (f, false))
        .chain(view.completed_frameworks.iter().map(|f| (f, true)));
    let rows = records
        .filter(|(f, completed)| {
            let state = framework_state(f, *completed);
            let id = framework_id(f).as_str();
            q.kind_is(state)
                && q.id.as_deref().is_none_or(|want| want == id)
                && q.matches(|| vec![id, &f.info.name, &f.info.user, state])
        })
        .map(|(f, completed)| {
            let id = framework_id(f);
            let used = totals
                .framework_used(id)
                .map(Scalars::of)
                .unwrap_or_default();
            let key = match q.sort.as_deref() {
                Some("name") => text(&f.info.name),
                Some("user") => text(&f.info.user),
                Some("state") => text(framework_state(f, completed)),
                Some("tasks") => Key::Num(tasks_of.get(id.as_str()).copied().unwrap_or(0) as f64),
                Some("cpus") => Key::Num(used.cpus),
                Some("mem") => Key::Num(used.mem),
                Some("max_share") => Key::Num(used.dominant_share(total)),
                Some("registered_time") => Key::Num(view.timeline.framework(id).registered),
                _ => text(id.as_str()),
            };
            (key, (id.as_str(), ""), (f, completed))
        })
        .collect();
    page(q, rows, |(f, completed)| {
        let id = framework_id(f);
        let times = view.timeline.framework(id);
        let used = totals
            .framework_used(id)
            .map(Scalars::of)
            .unwrap_or_default();
        let offered = totals
            .framework_offered
            .get(id)
            .map(Scalars::of)
            .unwrap_or_default();
        json!({
            "id": id.as_str(),
            "name": f.info.name,
            "user": f.info.user,
            "hostname": f.info.hostname,
            "principal": f.info.principal,
            "webui_url": f.info.webui_url,
            "roles": roles_of(f),
            "state": framework_state(f, *completed),
            "active": f.active && !completed,
            "connected": f.connected && !completed,
            "checkpoint": f.info.checkpoint,
            "failover_timeout": f.info.failover_timeout,
            "tasks": tasks_of.get(id.as_str()).copied().unwrap_or(0),
            "allocated": used,
            "offered": offered,
            "offers": totals.framework_offers.get(id).map_or(0, Vec::len),
            "max_share": used.dominant_share(total),
            "registered_time": times.registered,
            "reregistered_time": times.reregistered,
            "unregistered_time": times.unregistered,
        })
    })
}

/// Where a task is: `active`, `unreachable` or `completed`.
fn task_rows<'a>(view: &StateView<'a>, q: &ListQuery) -> Vec<(&'a Task, &'static str)> {
    let mut out = Vec::new();
    if q.kind_is("active") {
        out.extend(view.tasks.active().map(|t| (t, "active")));
    }
    if q.kind_is("unreachable") {
        out.extend(view.unreachable_tasks.iter().map(|t| (t, "unreachable")));
    }
    if q.kind_is("completed") {
        out.extend(view.tasks.completed().map(|t| (t, "completed")));
    }
    out
}

fn tasks(view: &StateView<'_>, history: &StatusHistory, q: &ListQuery) -> Value {
    let host = |t: &Task| {
        view.agents
            .get(&t.agent_id)
            .map_or("", |a| a.info.hostname.as_str())
    };
    let started = |t: &Task| {
        history
            .of(&t.framework_id, &t.info.task_id)
            .and_then(|h| h.first())
            .map(|e| e.timestamp)
            .or_else(|| t.status.as_ref().and_then(|s| s.timestamp))
            .unwrap_or(0.0)
    };
    let rows = task_rows(view, q)
        .into_iter()
        .filter(|(t, _)| {
            q.id.as_deref()
                .is_none_or(|id| id == t.info.task_id.as_str())
                && q.framework_id
                    .as_deref()
                    .is_none_or(|f| f == t.framework_id.as_str())
                && q.agent_id
                    .as_deref()
                    .is_none_or(|a| a == t.agent_id.as_str())
                && q.state.as_deref().is_none_or(|s| s == t.state.as_str())
                && q.matches(|| {
                    vec![
                        t.info.task_id.as_str(),
                        &t.info.name,
                        t.state.as_str(),
                        t.framework_id.as_str(),
                        t.agent_id.as_str(),
                        host(t),
                    ]
                })
        })
        .map(|(t, kind)| {
            let key = match q.sort.as_deref() {
                Some("name") => text(&t.info.name),
                Some("state") => text(t.state.as_str()),
                Some("framework_id") => text(t.framework_id.as_str()),
                Some("agent_id") => text(t.agent_id.as_str()),
                Some("hostname") => text(host(t)),
                Some("role") => text(&t.role),
                Some("started") => Key::Num(started(t)),
                Some("cpus") => Key::Num(Scalars::of(&t.info.resources).cpus),
                Some("mem") => Key::Num(Scalars::of(&t.info.resources).mem),
                _ => text(t.info.task_id.as_str()),
            };
            (
                key,
                (t.info.task_id.as_str(), t.framework_id.as_str()),
                (t, kind),
            )
        })
        .collect();
    page(q, rows, |(t, kind)| {
        let status = t.status.as_ref();
        let terminal = *kind == "completed" || t.state.is_terminal();
        let mut row = json!({
            "id": t.info.task_id.as_str(),
            "name": t.info.name,
            "framework_id": t.framework_id.as_str(),
            "agent_id": t.agent_id.as_str(),
            "executor_id": t.info.executor.as_ref().map_or("", |e| e.executor_id.as_str()),
            "hostname": host(t),
            "role": t.role,
            "state": t.state.as_str(),
            "kind": kind,
            "started": started(t),
            "stopped": if terminal { status.and_then(|s| s.timestamp) } else { None },
            "healthy": status.and_then(|s| s.healthy),
            "resources": Scalars::of(&t.info.resources),
        });
        if q.id.is_some() {
            let statuses = match history.of(&t.framework_id, &t.info.task_id) {
                Some(h) => serde_json::to_value(h).unwrap_or(Value::Null),
                None => serde_json::to_value(
                    status
                        .map(super::status_history::StatusEntry::of)
                        .into_iter()
                        .collect::<Vec<_>>(),
                )
                .unwrap_or(Value::Null),
            };
            row["statuses"] = statuses;
            row["labels"] = t
                .info
                .labels
                .as_ref()
                .and_then(|l| serde_json::to_value(&l.labels).ok())
                .unwrap_or(Value::Array(Vec::new()));
            row["command"] = t
                .info
                .command
                .as_ref()
                .and_then(|c| c.value.clone())
                .map_or(Value::Null, Value::String);
        }
        row
    })
}

fn offers(view: &StateView<'_>, q: &ListQuery) -> Value {
    let host = |a: &meso_api::v1::AgentId| {
        view.agents
            .get(a)
            .map_or(String::new(), |r| r.info.hostname.clone())
    };
    let rows = view
        .offers
        .iter()
        .filter(|o| {
            let id = o.offer.id.as_str();
            q.id.as_deref().is_none_or(|want| want == id)
                && q.framework_id
                    .as_deref()
                    .is_none_or(|f| f == o.offer.framework_id.as_str())
                && q.agent_id
                    .as_deref()
                    .is_none_or(|a| a == o.offer.agent_id.as_str())
                && q.matches(|| {
                    vec![
                        id,
                        o.offer.framework_id.as_str(),
                        o.offer.agent_id.as_str(),
                        &o.role,
                    ]
                })
        })
        .map(|o| {
            let r = Scalars::of(&o.offer.resources);
            let key = match q.sort.as_deref() {
                Some("framework_id") => text(o.offer.framework_id.as_str()),
                Some("agent_id") => text(o.offer.agent_id.as_str()),
                Some("hostname") => Key::Text(Cow::Owned(host(&o.offer.agent_id))),
                Some("role") => text(&o.role),
                Some("cpus") => Key::Num(r.cpus),
                Some("mem") => Key::Num(r.mem),
                _ => text(o.offer.id.as_str()),
            };
            (key, (o.offer.id.as_str(), ""), o)
        })
        .collect();
    page(q, rows, |o| {
        json!({
            "id": o.offer.id.as_str(),
            "framework_id": o.offer.framework_id.as_str(),
            "agent_id": o.offer.agent_id.as_str(),
            "hostname": host(&o.offer.agent_id),
            "role": o.role,
            "resources": Scalars::of(&o.offer.resources),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_parsed_with_defaults_and_bad_values_are_named() {
        let q = ListQuery::parse(
            ListKind::Tasks,
            Some("sort=started&order=desc&filter=Web&state=running&kind=all"),
        )
        .unwrap();
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert_eq!(q.sort.as_deref(), Some("started"));
        assert!(q.descending);
        assert_eq!(q.filter.as_deref(), Some("web"));
        assert_eq!(q.state.as_deref(), Some("TASK_RUNNING"));
        let e = ListQuery::parse(ListKind::Agents, Some("sort=colour")).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.body.contains("colour"), "{}", e.body);
        let e = ListQuery::parse(ListKind::Tasks, Some("limit=-1")).unwrap_err();
        assert!(e.body.contains("limit"), "{}", e.body);
        let e = ListQuery::parse(ListKind::Tasks, Some("limit=100000")).unwrap_err();
        assert!(e.body.contains("100000"), "{}", e.body);
        let e = ListQuery::parse(ListKind::Frameworks, Some("kind=unreachable")).unwrap_err();
        assert!(e.body.contains("unreachable"), "{}", e.body);
        let e = ListQuery::parse(ListKind::Offers, Some("order=up")).unwrap_err();
        assert!(e.body.contains("up"), "{}", e.body);
        assert_eq!(ListKind::of_route("/list/tasks"), Some(ListKind::Tasks));
        assert_eq!(ListKind::of_route("/list/nothing"), None);
    }

    #[test]
    fn pages_are_sorted_by_key_then_id_and_never_overlap() {
        let q = |offset, descending| ListQuery {
            offset,
            limit: 2,
            descending,
            ..ListQuery::default()
        };
        let rows = || {
            vec![
                (Key::Num(2.0), ("b", ""), "b"),
                (Key::Num(1.0), ("c", ""), "c"),
                (Key::Num(2.0), ("a", ""), "a"),
            ]
        };
        let ids = |v: Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect()
        };
        let first = page(&q(0, false), rows(), |s| json!(s));
        assert_eq!(first["total"], 3);
        assert_eq!(ids(first), ["c", "a"]);
        assert_eq!(ids(page(&q(2, false), rows(), |s| json!(s))), ["b"]);
        assert_eq!(ids(page(&q(0, true), rows(), |s| json!(s))), ["b", "a"]);
    }

    proptest::proptest! {
        #[test]
        fn a_page_is_the_same_slice_of_the_fully_sorted_rows(
            keys in proptest::collection::vec((0u8..5, 0u16..50), 0..60),
            offset in 0usize..70,
            limit in 1usize..20,
            descending: bool,
        ) {
            let q = ListQuery { offset, limit, descending, ..ListQuery::default() };
            let ids: Vec<String> = keys.iter().enumerate().map(|(i, (_, id))| format!("{id:03}-{i}")).collect();
            let rows = || -> Vec<Row<'_, usize>> {
                keys.iter().enumerate().map(|(i, (k, _))| (Key::Num(f64::from(*k)), (ids[i].as_str(), ""), i)).collect()
            };
            let mut all = rows();
            all.sort_by(|a, b| {
                let o = compare(&a.0, &b.0).then_with(|| a.1.cmp(&b.1));
                if descending { o.reverse() } else { o }
            });
            let want: Vec<Value> = all.iter().skip(offset).take(limit).map(|r| json!(r.2)).collect();
            let got = page(&q, rows(), |i| json!(i));
            proptest::prop_assert_eq!(got["items"].as_array().unwrap(), &want);
            proptest::prop_assert_eq!(got["total"].as_u64().unwrap() as usize, keys.len());
        }
    }
}
