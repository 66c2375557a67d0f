//! GET_TASKS, GET_STATE and SUBSCRIBE's first event serialized straight to text (issue 22):
//! with 500,000 tasks, building `operator_api`'s JSON tree (one `serde_json::Value` map
//! per task, status and resource) took minutes and gigabytes; here the tasks are written
//! one by one from the books ([`V1Task`]), and only the small parts (executors, frameworks,
//! agents) still go through `operator_api`'s tree builders.
//!
//! Invariant: [`V1Task`] serializes to the same JSON value as `operator_api::v1_task` (a
//! test checks it), so a client cannot tell which path answered. Answers that ACLs filter
//! (the filter edits a tree) take `operator_api`'s path.

use libprocess::http_types::{header, HeaderValue, StatusCode};
use libprocess::{HttpReply, HttpResponse};
use meso_api::http::operator::{operator_response, MasterCallType};
use meso_api::labels::Labels;
use meso_api::v1::{AgentId, ExecutorId, FrameworkId, TaskId, TaskStatus};
use meso_api::Resources;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::operator_api::{get_agents, get_executors, get_frameworks};
use super::state_json::{StateView, Totals};
use super::tasks::Task;
use super::Master;

/// A task as the v1 `Task` message, borrowed from the books.
#[derive(serde::Serialize)]
pub struct V1Task<'a> {
    agent_id: &'a AgentId,
    #[serde(skip_serializing_if = "Option::is_none")]
    executor_id: Option<&'a ExecutorId>,
    framework_id: &'a FrameworkId,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a Labels>,
    name: &'a str,
    resources: &'a Resources,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_update_state: Option<&'static str>,
    statuses: &'a [TaskStatus],
    task_id: &'a TaskId,
}

impl<'a> V1Task<'a> {
    /// The v1 form of `t`.
    pub fn of(t: &'a Task) -> V1Task<'a> {
        V1Task {
            agent_id: &t.agent_id,
            executor_id: t.info.executor.as_ref().map(|e| &e.executor_id),
            framework_id: &t.framework_id,
            labels: t.info.labels.as_ref(),
            name: &t.info.name,
            resources: &t.info.resources,
            state: t.state.as_str(),
            status_update_state: t.status.as_ref().map(|s| s.state.as_str()),
            statuses: t.status.as_slice(),
            task_id: &t.info.task_id,
        }
    }
}

/// A sequence of tasks written as they are iterated (the closure makes the iterator).
struct Tasks<F>(F);

impl<'a, F, I> Serialize for Tasks<F>
where
    F: Fn() -> I,
    I: Iterator<Item = &'a Task>,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)().map(V1Task::of))
    }
}

/// The `get_tasks` payload (as `operator_api::get_tasks`).
pub struct GetTasks<'v, 'a>(pub &'v StateView<'a>);

impl Serialize for GetTasks<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let mut map = s.serialize_map(None)?;
        if view.tasks.completed().next().is_some() {
            map.serialize_entry("completed_tasks", &Tasks(|| view.tasks.completed()))?;
        }
        map.serialize_entry("tasks", &Tasks(|| view.tasks.active()))?;
        if !view.unreachable_tasks.is_empty() {
            map.serialize_entry(
                "unreachable_tasks",
                &Tasks(|| view.unreachable_tasks.iter()),
            )?;
        }
        map.end()
    }
}

/// The `get_state` payload (as `operator_api::get_state`).
pub struct GetState<'v, 'a>(pub &'v StateView<'a>);

impl Serialize for GetState<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let totals = Totals::of(view);
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("get_agents", &get_agents(view, &totals))?;
        map.serialize_entry("get_executors", &get_executors(view))?;
        map.serialize_entry("get_frameworks", &get_frameworks(view, &totals))?;
        map.serialize_entry("get_tasks", &GetTasks(view))?;
        map.end()
    }
}

impl Master {
    /// SUBSCRIBE's first event, SUBSCRIBED with the whole state.
    pub(super) fn operator_subscribed_with_state(&self) -> Vec<u8> {
        meso_api::http::events::operator_subscribed(&GetState(&self.state_view()))
    }

    /// Answers GET_STATE or GET_TASKS written straight to text; `Err(reply)` gives the reply
    /// back for `operator_api`'s path (another call, or ACLs that filter the answer).
    pub(super) fn serve_streamed_query(
        &self,
        kind: MasterCallType,
        reply: HttpReply,
    ) -> Result<(), HttpReply> {
        if self.acls().is_some() {
            return Err(reply);
        }
        let view = self.state_view();
        let payload = match kind {
            MasterCallType::GetState => serde_json::to_string(&GetState(&view)),
            MasterCallType::GetTasks => serde_json::to_string(&GetTasks(&view)),
            _ => return Err(reply),
        };
        let payload = payload.expect("the books serialize to JSON");
        let mut r = HttpResponse::text(
            StatusCode::OK,
            operator_response(kind.as_str(), Some(&payload)),
        );
        r.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        reply.respond(r);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{TaskInfo, TaskState};

    #[test]
    fn a_streamed_task_is_the_task_of_the_tree_builder() {
        let mut status = TaskStatus::new(TaskId::new("t1"), TaskState::Running);
        status.timestamp = Some(12.5);
        let resources =
            Resources::parse("cpus:0.5;mem:64;ports:[31000-31001]", "*").expect("resources parse");
        let task = Task {
            info: TaskInfo::command("t1", AgentId::new("a1"), "sleep 1")
                .with_resources(resources.clone()),
            framework_id: FrameworkId::new("f1"),
            agent_id: AgentId::new("a1"),
            state: TaskState::Running,
            status: Some(status),
            consumed: resources,
            role: "*".to_string(),
            recovered: false,
        };
        let streamed = serde_json::to_value(V1Task::of(&task)).expect("serializes");
        assert_eq!(streamed, super::super::operator_api::v1_task(&task));
        let mut bare = task.clone();
        bare.status = None;
        let streamed = serde_json::to_value(V1Task::of(&bare)).expect("serializes");
        assert_eq!(streamed, super::super::operator_api::v1_task(&bare));
    }
}
