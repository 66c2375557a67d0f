//! `POST /master/kill-task`: an operator kills one task (`meso task kill`). Mesos's v1
//! operator API has no such call (only a framework may kill its tasks there, and an
//! operator tears the whole framework down); this meso endpoint sends the same KILL the
//! framework's own call would (`kill_task`), so the task ends TASK_KILLED and its
//! framework hears of it through the usual status updates.
//!
//! Body: JSON `{"task_id": "ID", "framework_id": "ID"}`, `framework_id` optional when one
//! framework alone has a task of that id. Read-write realm (`--authenticate-http-readwrite`).
//! Answers: 202 with an empty body once the kill is sent (or recorded for an agent that is
//! away); 405 for another method; 400 for a body that is not that JSON; 404 naming an
//! unknown task; 409 naming the frameworks when several have a task of that id; 409 for a
//! task already terminal.

use libprocess::http_types::StatusCode;
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::HttpError;
use meso_api::json::Limits;
use meso_api::v1::{FrameworkId, TaskId};
use serde::Deserialize;

use super::legacy::error_response;
use super::Master;

/// The route, after `/master`.
pub const ROUTE: &str = "/kill-task";

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillTaskRequest {
    /// The task.
    pub task_id: String,
    /// Its framework, when the id alone is ambiguous.
    #[serde(default)]
    pub framework_id: Option<String>,
}

/// Checks method and body.
pub fn parse(method: &str, body: &[u8]) -> Result<KillTaskRequest, HttpError> {
    if method != "POST" {
        return Err(HttpError::post_only(method));
    }
    let request: KillTaskRequest =
        meso_api::json::from_slice(body, &Limits::default()).map_err(|e| {
            HttpError::bad_request(format!(
                "Expecting a JSON body {{\"task_id\": ..., \"framework_id\": ...}}: {e}"
            ))
        })?;
    if request.task_id.is_empty() {
        return Err(HttpError::bad_request("'task_id' is empty"));
    }
    Ok(request)
}

/// The one framework to kill `task` in, given the frameworks that have an unfinished task
/// of that id and the framework asked for (if any).
pub fn choose_framework(
    task: &str,
    holders: &[FrameworkId],
    asked: Option<&str>,
) -> Result<FrameworkId, HttpError> {
    match (asked, holders) {
        (Some(f), _) => holders
            .iter()
            .find(|h| h.as_str() == f)
            .cloned()
            .ok_or_else(|| {
                HttpError::new(
                    404,
                    format!("Framework '{f}' has no unfinished task '{task}'"),
                )
            }),
        (None, []) => Err(HttpError::new(
            404,
            format!("No unfinished task '{task}' is known to this master"),
        )),
        (None, [one]) => Ok(one.clone()),
        (None, many) => {
            Err(HttpError::new(
                409,
                format!(
                "Task id '{task}' is used by several frameworks ({}); name one in 'framework_id'",
                many.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
            ),
            ))
        }
    }
}

impl Master {
    /// Serves `POST /master/kill-task`.
    pub(super) fn serve_kill_task(
        &mut self,
        ctx: &mut Context<Self>,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let asked = match parse(request.method.as_str(), &request.body) {
            Ok(r) => r,
            Err(e) => return reply.respond(error_response(e)),
        };
        let mut holders: Vec<FrameworkId> = self
            .tasks
            .active()
            .filter(|t| t.info.task_id.as_str() == asked.task_id)
            .map(|t| t.framework_id.clone())
            .collect();
        holders.extend(
            self.unreachable_tasks
                .iter()
                .filter(|t| t.info.task_id.as_str() == asked.task_id)
                .map(|t| t.framework_id.clone()),
        );
        holders.sort();
        holders.dedup();
        let framework =
            match choose_framework(&asked.task_id, &holders, asked.framework_id.as_deref()) {
                Ok(f) => f,
                Err(e) => return reply.respond(error_response(e)),
            };
        let task = TaskId::new(&asked.task_id);
        if self
            .tasks
            .get(&framework, &task)
            .is_some_and(|t| t.state.is_terminal())
        {
            return reply.respond(error_response(HttpError::new(
                409,
                format!("Task '{task}' of framework '{framework}' has already ended"),
            )));
        }
        self.kill_task(ctx, &framework, &task, None);
        reply.respond(HttpResponse::text(StatusCode::ACCEPTED, ""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_json_with_a_task_id() {
        let r = parse("POST", br#"{"task_id":"t","framework_id":"f"}"#).unwrap();
        assert_eq!(r.framework_id.as_deref(), Some("f"));
        assert_eq!(parse("GET", b"").unwrap_err().status, 405);
        let e = parse("POST", b"task_id=t").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.body.contains("task_id"), "{}", e.body);
        assert_eq!(parse("POST", br#"{"task_id":""}"#).unwrap_err().status, 400);
        assert_eq!(
            parse("POST", br#"{"task_id":"t","x":1}"#)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn the_framework_is_the_only_holder_or_the_one_named() {
        let f = |s: &str| FrameworkId::new(s);
        assert_eq!(choose_framework("t", &[f("A")], None).unwrap(), f("A"));
        assert_eq!(
            choose_framework("t", &[f("A"), f("B")], Some("B")).unwrap(),
            f("B")
        );
        let e = choose_framework("t", &[f("A"), f("B")], None).unwrap_err();
        assert_eq!(e.status, 409);
        assert!(e.body.contains("A, B"), "{}", e.body);
        assert_eq!(choose_framework("t", &[], None).unwrap_err().status, 404);
        assert_eq!(
            choose_framework("t", &[f("A")], Some("C"))
                .unwrap_err()
                .status,
            404
        );
    }
}
