//! GET_TASKS, GET_STATE and SUBSCRIBE's first event serialized straight to text (issue 22):
//! with 500,000 tasks, building `operator_api`'s JSON tree (one `serde_json::Value` map
//! per task, status and resource) took minutes and gigabytes; here the tasks are written
//! one by one from the books ([`V1Task`]) and so are the agents (`V1Agent`); only the
//! small parts (executors, frameworks) still go through `operator_api`'s tree builders.
//!
//! Active tasks are written once and copied after ([`v1_text`], kept by the task book
//! until the task changes), agents one at a time, and the `{"type":..}` wrapper (and for
//! SUBSCRIBED the RecordIO length) around the payload in the same buffer, so an answer is
//! held once, not three times.
//!
//! Invariant: [`V1Task`] serializes to the same JSON value as `operator_api::v1_task` (a
//! test checks it), so a client cannot tell which path answered. Answers that ACLs filter
//! (the filter edits a tree) take `operator_api`'s path.

use bytes::Bytes;
use libprocess::http_types::{header, HeaderMap, HeaderValue, StatusCode};
use libprocess::{HttpReply, HttpResponse};
use meso_api::http::operator::MasterCallType;
use meso_api::labels::Labels;
use meso_api::v1::{AgentId, ExecutorId, FrameworkId, TaskId, TaskStatus};
use meso_api::Resources;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use super::agents::AgentRecord;
use super::answer_buffer::AnswerBuffer;
use super::operator_api::{get_executors, get_frameworks};
use super::state_json::{agent_id, StateView, Totals};
use super::tasks::{Task, TaskForm};
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

/// A task's v1 text, as [`V1Task`] writes it (what the task book keeps).
pub fn v1_text(t: &Task) -> Box<RawValue> {
    serde_json::value::to_raw_value(&V1Task::of(t)).expect("a task serializes to JSON")
}

/// The active tasks, each copied from its kept v1 text (written first if not kept).
struct ActiveTasks<'v, 'a>(&'v StateView<'a>);

impl Serialize for ActiveTasks<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .tasks
                .active_cached()
                .map(|t| t.text(TaskForm::V1, v1_text)),
        )
    }
}

/// The `get_agents` payload (as `operator_api::get_agents`), each agent built and written
/// in turn instead of one tree of every agent.
struct GetAgents<'v, 'a>(&'v StateView<'a>, &'v Totals<'a>);

impl Serialize for GetAgents<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (view, totals) = (self.0, self.1);
        // Keys in the tree's (sorted) order.
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "agents",
            &Seq(|| view.agents.iter().map(|a| V1Agent { view, totals, a })),
        )?;
        if !view.recovered_agents.is_empty() {
            map.serialize_entry("recovered_agents", &Seq(|| view.recovered_agents.values()))?;
        }
        map.end()
    }
}

/// An agent as `operator_api::v1_agent` builds it (the same keys, in the tree's sorted
/// order), written straight from the books.
struct V1Agent<'v, 'a> {
    view: &'v StateView<'a>,
    totals: &'v Totals<'a>,
    a: &'a AgentRecord,
}

/// A time as the v1 API's `TimeInfo`.
struct Nanos(f64);

impl Serialize for Nanos {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("nanoseconds", &((self.0 * 1e9) as i64))?;
        map.end()
    }
}

impl Serialize for V1Agent<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (view, a) = (self.view, self.a);
        let id = agent_id(a);
        let times = view.timeline.agent(id);
        let controls = view.agents.controls();
        let deactivated = controls.is_deactivated(id);
        let empty = Resources::new();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("active", &(a.active && !deactivated))?;
        map.serialize_entry("agent_info", &a.info)?;
        map.serialize_entry(
            "allocated_resources",
            self.totals.agent_used(id).unwrap_or(&empty),
        )?;
        map.serialize_entry("deactivated", &deactivated)?;
        if let Some(drain) = super::maintenance::drain_info_json(controls, id) {
            map.serialize_entry("drain_info", &drain)?;
        }
        map.serialize_entry(
            "offered_resources",
            self.totals.agent_offered.get(id).unwrap_or(&empty),
        )?;
        map.serialize_entry("pid", a.pid.as_str())?;
        map.serialize_entry("registered_time", &Nanos(times.registered))?;
        if let Some(t) = times.reregistered {
            map.serialize_entry("reregistered_time", &Nanos(t))?;
        }
        map.serialize_entry("total_resources", &a.info.resources)?;
        map.serialize_entry("version", super::state_json::MESOS_VERSION)?;
        map.end()
    }
}

/// A sequence written as it is iterated (the closure makes the iterator).
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
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
        map.serialize_entry("tasks", &ActiveTasks(view))?;
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
        map.serialize_entry("get_agents", &GetAgents(view, &totals))?;
        map.serialize_entry("get_executors", &get_executors(view))?;
        map.serialize_entry("get_frameworks", &get_frameworks(view, &totals))?;
        map.serialize_entry("get_tasks", &GetTasks(view))?;
        map.end()
    }
}

/// Room left before a SUBSCRIBED event for its RecordIO length (`u64::MAX` has 20 digits).
const RECORD_HEAD: usize = 21;

/// A first guess of an answer's size, so that the buffer seldom grows (each growth of a
/// 200 MB buffer is a copy): about what a task and an agent take.
fn capacity_hint(view: &StateView<'_>) -> usize {
    4096 + view.tasks.active_count() * 512 + view.agents.len() * 2048
}

/// `{"type":"<KIND>","<kind>":<payload>}` written into `out` (empty) after `head` bytes of
/// room.
fn wrapped(kind: &str, payload: &impl Serialize, head: usize, mut out: Vec<u8>) -> Vec<u8> {
    out.resize(head, 0);
    out.extend_from_slice(br#"{"type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(br#"",""#);
    out.extend_from_slice(kind.to_ascii_lowercase().as_bytes());
    out.extend_from_slice(br#"":"#);
    serde_json::to_writer(&mut out, payload).expect("the books serialize to JSON");
    out.push(b'}');
    out
}

/// SUBSCRIBED's payload: the state and the heartbeat interval.
struct Subscribed<'v, 'a>(&'v StateView<'a>);

impl Serialize for Subscribed<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("get_state", &GetState(self.0))?;
        map.serialize_entry(
            "heartbeat_interval_seconds",
            &meso_api::http::HEARTBEAT_INTERVAL_SECS,
        )?;
        map.end()
    }
}

/// SUBSCRIBED with the whole state of `view` as one RecordIO record, written in place: the
/// length goes into the room left before the event.
pub fn subscribed_record(view: &StateView<'_>) -> Bytes {
    subscribed_record_in(view, &AnswerBuffer::default())
}

/// [`subscribed_record`] written into `answers`' spare buffer (given back when sent).
pub fn subscribed_record_in(view: &StateView<'_>, answers: &AnswerBuffer) -> Bytes {
    let buf = answers.take(RECORD_HEAD + capacity_hint(view));
    let mut out = wrapped("SUBSCRIBED", &Subscribed(view), RECORD_HEAD, buf);
    let length = format!("{}\n", out.len() - RECORD_HEAD);
    let start = RECORD_HEAD - length.len();
    out[start..RECORD_HEAD].copy_from_slice(length.as_bytes());
    answers.bytes(out, start)
}

/// The answer to GET_STATE or GET_TASKS (`None` for another call), wrapped in place.
pub fn query_answer(view: &StateView<'_>, kind: MasterCallType) -> Option<Bytes> {
    query_answer_in(view, kind, &AnswerBuffer::default())
}

/// [`query_answer`] written into `answers`' spare buffer (given back when sent).
pub fn query_answer_in(
    view: &StateView<'_>,
    kind: MasterCallType,
    answers: &AnswerBuffer,
) -> Option<Bytes> {
    if !matches!(kind, MasterCallType::GetState | MasterCallType::GetTasks) {
        return None;
    }
    let buf = answers.take(capacity_hint(view));
    let out = match kind {
        MasterCallType::GetState => wrapped(kind.as_str(), &GetState(view), 0, buf),
        _ => wrapped(kind.as_str(), &GetTasks(view), 0, buf),
    };
    Some(answers.bytes(out, 0))
}

impl Master {
    /// SUBSCRIBE's first event, SUBSCRIBED with the whole state.
    pub(super) fn operator_subscribed_with_state(&self) -> Bytes {
        subscribed_record_in(&self.state_view(), &self.operator.answers)
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
        let Some(body) = query_answer_in(&self.state_view(), kind, &self.operator.answers) else {
            return Err(reply);
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        reply.respond(HttpResponse {
            status: StatusCode::OK,
            headers,
            body,
        });
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
