//! What a principal may see of a state document: Mesos's `view_frameworks`, `view_tasks`
//! and `view_executors` filter the master's `/master/state`, `/master/frameworks`,
//! `/master/tasks`, `/master/state-summary` and the operator API's GET_STATE,
//! GET_FRAMEWORKS, GET_TASKS and GET_EXECUTORS, and the agent's `/state`, rather than
//! refusing them.
//!
//! A pure walk over the JSON document, so the legacy and v1 shapes share one rule: every
//! list under `frameworks`/`completed_frameworks` keeps only the frameworks whose user the
//! principal may view, every list under `tasks`/`unreachable_tasks`/`completed_tasks` only
//! the tasks (by the task's user, else its framework's), and every list under
//! `executors`/`completed_executors` only the executors (by the executor command's user,
//! else its framework's). Ids and users are read from either shape (`"id": "x"` or
//! `"framework_info": {"id": {"value": "x"}}`).
//!
//! Invariant: an element whose framework the walk cannot place is dropped, never shown.

use std::collections::HashMap;

use super::{Acls, Action};
use serde_json::Value;

/// Who is looking, and the users the documents do not always carry.
pub struct Viewer<'a> {
    /// The ACLs.
    pub acls: &'a Acls,
    /// The request's principal (`None`: unauthenticated).
    pub principal: Option<&'a str>,
    /// Framework id -> `FrameworkInfo.user`, for every framework the documents may name.
    pub framework_users: HashMap<String, String>,
    /// (framework id, task id) -> the task's own user, where it has one.
    pub task_users: HashMap<(String, String), String>,
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(m) => m.get("value").and_then(Value::as_str),
        _ => None,
    }
}

impl Viewer<'_> {
    fn may(&self, action: Action, user: &str) -> bool {
        self.acls.authorize(self.principal, action, Some(user))
    }

    fn framework_visible(&self, framework: &Value) -> bool {
        let info = framework.get("framework_info").unwrap_or(framework);
        let user = info.get("user").and_then(Value::as_str).or_else(|| {
            let id = info.get("id").and_then(text)?;
            self.framework_users.get(id).map(String::as_str)
        });
        user.is_some_and(|u| self.may(Action::ViewFrameworks, u))
    }

    fn task_visible(&self, task: &Value, outer: Option<&str>) -> bool {
        let Some(framework) = task.get("framework_id").and_then(text).or(outer) else {
            return false;
        };
        let id = task
            .get("task_id")
            .or_else(|| task.get("id"))
            .and_then(text);
        let own = id.and_then(|id| {
            self.task_users
                .get(&(framework.to_string(), id.to_string()))
                .map(String::as_str)
        });
        let user = task
            .get("user")
            .and_then(Value::as_str)
            .or(own)
            .or_else(|| self.framework_users.get(framework).map(String::as_str));
        user.is_some_and(|u| self.may(Action::ViewTasks, u))
    }

    fn executor_visible(&self, executor: &Value, outer: Option<&str>) -> bool {
        let info = executor.get("executor_info").unwrap_or(executor);
        let Some(framework) = info.get("framework_id").and_then(text).or(outer) else {
            return false;
        };
        let user = info
            .get("command")
            .and_then(|c| c.get("user"))
            .and_then(Value::as_str)
            .or_else(|| self.framework_users.get(framework).map(String::as_str));
        user.is_some_and(|u| self.may(Action::ViewExecutors, u))
    }

    /// Removes from `document` everything the principal may not view.
    pub fn filter(&self, document: &mut Value) {
        self.filter_in(document, None);
    }

    /// `outer`: the framework whose element this is inside (an agent's executors and
    /// tasks do not repeat their framework's id).
    fn filter_in(&self, document: &mut Value, outer: Option<&str>) {
        match document {
            Value::Object(map) => {
                // A framework element is the framework of everything inside it.
                let own = map
                    .get("framework_info")
                    .and_then(|i| i.get("id"))
                    .or_else(|| map.get("user").and(map.get("id")))
                    .and_then(text)
                    .map(str::to_string);
                let outer = own.as_deref().or(outer);
                for (key, value) in map.iter_mut() {
                    if let Value::Array(items) = value {
                        match key.as_str() {
                            "frameworks" | "completed_frameworks" => {
                                items.retain(|f| self.framework_visible(f))
                            }
                            "tasks" | "unreachable_tasks" | "completed_tasks" => {
                                items.retain(|t| self.task_visible(t, outer))
                            }
                            "executors" | "completed_executors" => {
                                items.retain(|e| self.executor_visible(e, outer))
                            }
                            _ => {}
                        }
                    }
                    self.filter_in(value, outer);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.filter_in(v, outer)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn acls() -> Acls {
        Acls::parse(
            &json!({
                "view_frameworks": [
                    {"principals": {"values": ["alice"]}, "users": {"values": ["alice"]}},
                    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
                ],
                "view_tasks": [
                    {"principals": {"values": ["alice"]}, "users": {"values": ["alice"]}},
                    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
                ],
                "view_executors": [
                    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
                ]
            })
            .to_string(),
        )
        .expect("valid ACLs")
    }

    fn viewer<'a>(acls: &'a Acls, principal: Option<&'a str>) -> Viewer<'a> {
        Viewer {
            acls,
            principal,
            framework_users: HashMap::from([
                ("f1".into(), "alice".into()),
                ("f2".into(), "bob".into()),
            ]),
            task_users: HashMap::from([(("f1".into(), "t-bob".into()), "bob".into())]),
        }
    }

    #[test]
    fn the_legacy_state_keeps_only_what_the_principal_may_view() {
        let acls = acls();
        let mut state = json!({
            "frameworks": [
                {"id": "f1", "user": "alice", "tasks": [
                    {"id": "t1", "framework_id": "f1"},
                    {"id": "t-bob", "framework_id": "f1"}
                ], "executors": [{"executor_id": "e", "framework_id": "f1"}]},
                {"id": "f2", "user": "bob", "tasks": [{"id": "t2", "framework_id": "f2"}]}
            ],
            "completed_frameworks": [{"id": "f3", "user": "bob"}],
            "slaves": [{"id": "a1"}]
        });
        viewer(&acls, Some("alice")).filter(&mut state);
        assert_eq!(
            state,
            json!({
                "frameworks": [{"id": "f1", "user": "alice", "tasks": [
                    {"id": "t1", "framework_id": "f1"}
                ], "executors": []}],
                "completed_frameworks": [],
                "slaves": [{"id": "a1"}]
            })
        );
        let mut again = json!({"frameworks": [{"id": "f1", "user": "alice"}]});
        viewer(&acls, None).filter(&mut again);
        assert_eq!(again, json!({"frameworks": []}));
    }

    #[test]
    fn the_v1_shapes_are_filtered_alike() {
        let acls = acls();
        let mut state = json!({"get_state": {
            "get_frameworks": {"frameworks": [
                {"framework_info": {"id": {"value": "f1"}, "user": "alice"}},
                {"framework_info": {"id": {"value": "f2"}, "user": "bob"}}
            ]},
            "get_tasks": {"tasks": [
                {"task_id": {"value": "t1"}, "framework_id": {"value": "f1"}},
                {"task_id": {"value": "t2"}, "framework_id": {"value": "f2"}},
                {"task_id": {"value": "t3"}}
            ]},
            "get_executors": {"executors": [
                {"executor_info": {"framework_id": {"value": "f1"}}}
            ]}
        }});
        viewer(&acls, Some("alice")).filter(&mut state);
        let s = &state["get_state"];
        assert_eq!(
            s["get_frameworks"]["frameworks"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(
            s["get_tasks"]["tasks"],
            json!([{"task_id": {"value": "t1"}, "framework_id": {"value": "f1"}}])
        );
        assert_eq!(s["get_executors"]["executors"], json!([]));
    }
}
