//! Serde adapter (`#[serde(with = "crate::wire::task_info")]`) for a v1 [`TaskInfo`] inside
//! a binary frame, in a form that decodes about four times faster than its JSON.
//!
//! A master failover brings every agent's tasks to the new leader at once (10,000 agents
//! with 10 tasks each in the benchmark), so the cost of decoding a task is on the failover's
//! critical path. Most of a task's JSON decode went to its resources; here the name, ids,
//! resources and data travel in postcard's native form, and only the nested v1 values
//! (executor, command, container, health check, kill policy, labels, deadline,
//! general check) travel as
//! JSON, each one only when it is set.
//!
//! Invariants:
//! - The same validation as the JSON form: resources are checked on decode
//!   (`Resource`'s binary form validates), and each nested JSON value is read with
//!   [`crate::json::Limits::default`].
//! - Every field of `TaskInfo` is written: the conversion destructures the struct, so a
//!   field added to `TaskInfo` does not compile until it is added here.
//! - In a human-readable format the task is written as its v1 JSON, as [`super::as_json`]
//!   does.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::labels::Labels;
use crate::resources::Resources;
use crate::v1::{
    AgentId, CheckInfo, CommandInfo, ContainerInfo, DurationInfo, ExecutorInfo, HealthCheck,
    KillPolicy, TaskId, TaskInfo,
};

/// A v1 value written as JSON bytes inside the binary frame ([`super::as_json`]).
struct Json<T>(T);

impl<T: Serialize> Serialize for Json<&T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::as_json::serialize(self.0, s)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::as_json::deserialize(d).map(Json)
    }
}

#[derive(Serialize)]
struct TaskInfoOut<'a> {
    name: &'a str,
    task_id: &'a TaskId,
    agent_id: &'a AgentId,
    resources: &'a Resources,
    data: Option<&'a [u8]>,
    executor: Option<Json<&'a ExecutorInfo>>,
    command: Option<Json<&'a CommandInfo>>,
    container: Option<Json<&'a ContainerInfo>>,
    health_check: Option<Json<&'a HealthCheck>>,
    kill_policy: Option<Json<&'a KillPolicy>>,
    labels: Option<Json<&'a Labels>>,
    max_completion_time: Option<Json<&'a DurationInfo>>,
    check: Option<Json<&'a CheckInfo>>,
}

#[derive(Deserialize)]
struct TaskInfoIn {
    name: String,
    task_id: TaskId,
    agent_id: AgentId,
    resources: Resources,
    data: Option<Vec<u8>>,
    executor: Option<Json<ExecutorInfo>>,
    command: Option<Json<CommandInfo>>,
    container: Option<Json<ContainerInfo>>,
    health_check: Option<Json<HealthCheck>>,
    kill_policy: Option<Json<KillPolicy>>,
    labels: Option<Json<Labels>>,
    max_completion_time: Option<Json<DurationInfo>>,
    check: Option<Json<CheckInfo>>,
}

/// Writes the task: native fields, then its nested v1 values as JSON.
pub fn serialize<S: Serializer>(task: &TaskInfo, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        return task.serialize(s);
    }
    let TaskInfo {
        name,
        task_id,
        agent_id,
        resources,
        executor,
        command,
        container,
        health_check,
        kill_policy,
        check,
        data,
        labels,
        max_completion_time,
    } = task;
    TaskInfoOut {
        name,
        task_id,
        agent_id,
        resources,
        data: data.as_deref(),
        executor: executor.as_ref().map(Json),
        command: command.as_ref().map(Json),
        container: container.as_ref().map(Json),
        health_check: health_check.as_ref().map(Json),
        kill_policy: kill_policy.as_ref().map(Json),
        labels: labels.as_ref().map(Json),
        max_completion_time: max_completion_time.as_ref().map(Json),
        check: check.as_ref().map(Json),
    }
    .serialize(s)
}

/// Reads a task written by [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TaskInfo, D::Error> {
    if d.is_human_readable() {
        return TaskInfo::deserialize(d);
    }
    let TaskInfoIn {
        name,
        task_id,
        agent_id,
        resources,
        data,
        executor,
        command,
        container,
        health_check,
        kill_policy,
        labels,
        max_completion_time,
        check,
    } = TaskInfoIn::deserialize(d)?;
    Ok(TaskInfo {
        name,
        task_id,
        agent_id,
        resources,
        executor: executor.map(|j| j.0),
        command: command.map(|j| j.0),
        container: container.map(|j| j.0),
        health_check: health_check.map(|j| j.0),
        kill_policy: kill_policy.map(|j| j.0),
        check: check.map(|j| j.0),
        data,
        labels: labels.map(|j| j.0),
        max_completion_time: max_completion_time.map(|j| j.0),
    })
}
