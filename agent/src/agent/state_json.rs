//! What the agent shows of itself: the legacy `/state` JSON (HTTP reference §4.6), `/flags`,
//! `/version`, and the v1 shapes the operator API answers with (GET_FRAMEWORKS,
//! GET_EXECUTORS, GET_TASKS, GET_STATE, GET_FLAGS, GET_VERSION).
//!
//! Everything here reads the agent's state and builds JSON; nothing changes state. A task's
//! state is the latest one the status update manager has seen for it (the executor's
//! report), or the agent's own record before the first update.
//!
//! Not kept yet: completed frameworks, executors and tasks (the agent forgets an executor
//! when it exits), and a task's status history (`statuses` holds its latest state only).

use std::collections::BTreeMap;

use meso_api::resources::Value as ResourceValue;
use meso_api::v1::{FrameworkId, TaskId, TaskInfo, TaskState};
use meso_api::Resources;
use serde_json::{json, Map, Value};

use super::books::{Executor, ExecutorState};
use super::{Agent, Registration};

/// The Mesos version meso answers as (`/version`, GET_VERSION, `/state`).
pub const MESOS_VERSION: &str = "1.11.0";

/// Resources as the legacy endpoints flatten them: `cpus`, `gpus`, `mem`, `disk` always (0
/// when absent), other scalars by name, ranges as `"[b-e, b-e]"`, sets as `"{a, b}"`;
/// revocable ones get the suffix `_revocable`.
pub fn resources_object(resources: &Resources) -> Value {
    let mut out = Map::new();
    for name in ["cpus", "gpus", "mem", "disk"] {
        out.insert(name.into(), json!(0.0));
    }
    let mut kinds: BTreeMap<(String, bool), ()> = BTreeMap::new();
    for r in resources.iter() {
        kinds.insert((r.name.to_string(), r.revocable), ());
    }
    for (name, revocable) in kinds.into_keys() {
        let same = resources.filter(|r| *r.name == *name && r.revocable == revocable);
        let key = if revocable {
            format!("{name}_revocable")
        } else {
            name.clone()
        };
        let value = match same.iter().next().map(|r| &r.value) {
            Some(ResourceValue::Scalar(_)) => json!(same.scalar(&name).map_or(0.0, |s| s.as_f64())),
            Some(ResourceValue::Ranges(_)) => {
                json!(same
                    .ranges(&name)
                    .map(|r| r.to_string())
                    .unwrap_or_default())
            }
            Some(ResourceValue::Set(_)) => {
                json!(same.set(&name).map(|s| s.to_string()).unwrap_or_default())
            }
            None => continue,
        };
        out.insert(key, value);
    }
    Value::Object(out)
}

/// `{"name": value}` for the legacy endpoints: scalars as numbers, the rest as text.
fn attributes_object(attributes: &meso_api::attributes::Attributes) -> Value {
    let mut out = Map::new();
    for a in &attributes.0 {
        let value = match &a.value {
            meso_api::attributes::AttributeValue::Scalar(s) => json!(s.as_f64()),
            other => json!(other.to_string()),
        };
        out.insert(a.name.clone(), value);
    }
    Value::Object(out)
}

fn id(value: &str) -> Value {
    json!({ "value": value })
}

impl Agent {
    /// The state a task is in as far as the agent knows.
    pub(super) fn task_state(
        &self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        own: TaskState,
    ) -> TaskState {
        self.updates
            .latest_state(framework_id, task_id)
            .unwrap_or(own)
    }

    /// The agent's flags as `(name, value)` pairs, Mesos's names.
    pub(super) fn flag_pairs(&self) -> Vec<(&'static str, String)> {
        let c = &self.config;
        let secs = |d: std::time::Duration| meso_api::duration::format_duration(d);
        vec![
            ("attributes", c.attributes.to_string()),
            // Never the credential's secret.
            ("authenticatee", "crammd5".into()),
            ("authentication_timeout_min", secs(c.authentication.timeout)),
            (
                "executor_registration_timeout",
                secs(c.executor_registration_timeout),
            ),
            (
                "executor_shutdown_grace_period",
                secs(c.executor_shutdown_grace_period),
            ),
            ("hostname", c.hostname.clone()),
            ("http_command_executor", "true".into()),
            ("launcher_dir", c.command_executor.display().to_string()),
            ("master", c.master.to_string()),
            (
                "registration_backoff_factor",
                secs(c.registration_backoff_factor),
            ),
            ("resources", c.resources.to_string()),
            ("work_dir", c.work_dir.display().to_string()),
        ]
    }

    /// `/flags`: `{"flags": {name: value}}`.
    pub(super) fn flags_json(&self) -> Value {
        let flags: Map<String, Value> = self
            .flag_pairs()
            .into_iter()
            .map(|(n, v)| (n.to_string(), Value::String(v)))
            .collect();
        json!({ "flags": flags })
    }

    /// `/version`.
    pub(super) fn version_json() -> Value {
        json!({
            "version": MESOS_VERSION,
            "build_date": "",
            "build_time": 0,
            "build_user": "",
        })
    }

    /// Resources of every executor and unfinished task on the agent.
    pub(super) fn used_resources(&self) -> Resources {
        let mut used = Resources::new();
        for (fid, fw) in &self.frameworks {
            for ex in fw.executors.values() {
                for r in ex.info.resources.iter() {
                    used.add_resource(r);
                }
                for t in ex.queued.iter() {
                    for r in t.resources.iter() {
                        used.add_resource(r);
                    }
                }
                for t in ex.tasks.values() {
                    if !self.task_state(fid, &t.info.task_id, t.state).is_terminal() {
                        for r in t.info.resources.iter() {
                            used.add_resource(r);
                        }
                    }
                }
            }
        }
        used
    }

    fn legacy_task(
        &self,
        fid: &FrameworkId,
        ex: &Executor,
        info: &TaskInfo,
        state: TaskState,
    ) -> Value {
        let mut task = json!({
            "id": info.task_id.as_str(),
            "name": info.name,
            "framework_id": fid.as_str(),
            "executor_id": ex.info.executor_id.as_str(),
            "slave_id": self.id.as_ref().map(|i| i.as_str()).unwrap_or(""),
            "state": state.to_string(),
            "resources": resources_object(&info.resources),
            "statuses": [ { "state": state.to_string() } ],
        });
        if let Some(labels) = &info.labels {
            task["labels"] = serde_json::to_value(labels).unwrap_or(Value::Null);
        }
        task
    }

    fn legacy_executor(&self, fid: &FrameworkId, ex: &Executor) -> Value {
        let tasks: Vec<Value> = ex
            .tasks
            .values()
            .map(|t| {
                self.legacy_task(
                    fid,
                    ex,
                    &t.info,
                    self.task_state(fid, &t.info.task_id, t.state),
                )
            })
            .collect();
        let queued: Vec<Value> = ex
            .queued
            .iter()
            .map(|t| {
                json!({
                    "id": t.task_id.as_str(),
                    "name": t.name,
                    "slave_id": self.id.as_ref().map(|i| i.as_str()).unwrap_or(""),
                    "resources": resources_object(&t.resources),
                    "executor_id": ex.info.executor_id.as_str(),
                })
            })
            .collect();
        json!({
            "id": ex.info.executor_id.as_str(),
            "name": ex.info.name.clone().unwrap_or_default(),
            "source": ex.info.executor_id.as_str(),
            "container": ex.container_id.value,
            "directory": ex.directory.display().to_string(),
            "resources": resources_object(&ex.info.resources),
            "tasks": tasks,
            "queued_tasks": queued,
            "completed_tasks": [],
        })
    }

    /// The legacy `/state` (also `/slave(1)/state`, `/state.json`).
    pub fn state_json(&self) -> Value {
        let frameworks: Vec<Value> = self
            .frameworks
            .iter()
            .map(|(fid, fw)| {
                let executors: Vec<Value> = fw
                    .executors
                    .values()
                    .map(|ex| self.legacy_executor(fid, ex))
                    .collect();
                let mut f = json!({
                    "id": fid.as_str(),
                    "name": fw.info.name,
                    "user": fw.info.user,
                    "failover_timeout": fw.info.failover_timeout,
                    "checkpoint": fw.info.checkpoint,
                    "hostname": fw.info.hostname.clone().unwrap_or_default(),
                    "executors": executors,
                    "completed_executors": [],
                });
                if let Some(p) = &fw.info.principal {
                    f["principal"] = json!(p);
                }
                f["roles"] = json!(fw.info.roles);
                f
            })
            .collect();
        let total = &self.total_resources();
        let unreserved = total.unreserved();
        let mut reserved = Map::new();
        let mut reserved_full = Map::new();
        for (role, r) in total.reservations() {
            reserved.insert(role.to_string(), resources_object(&r));
            reserved_full.insert(
                role.to_string(),
                serde_json::to_value(&r).unwrap_or(json!([])),
            );
        }
        let port = self.info.port;
        json!({
            "version": MESOS_VERSION,
            "build_date": "",
            "build_time": 0,
            "build_user": "",
            "start_time": self.observe.start_time_secs,
            "id": self.id.as_ref().map(|i| i.as_str()).unwrap_or(""),
            "pid": format!("{}@{}:{}", super::AGENT_PROCESS_ID, self.observe.ip, port),
            "hostname": self.info.hostname,
            "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT", "TASK_KILLING_STATE"],
            "resources": resources_object(total),
            "reserved_resources": reserved,
            "unreserved_resources": resources_object(&unreserved),
            "reserved_resources_full": reserved_full,
            "checkpointed_resources": serde_json::to_value(&self.checkpointed_resources).unwrap_or(json!([])),
            "unreserved_resources_full": serde_json::to_value(&unreserved).unwrap_or(json!([])),
            "reserved_resources_allocated": Map::new(),
            "unreserved_resources_allocated": resources_object(&self.used_resources()),
            "resource_providers": [],
            "attributes": attributes_object(&self.info.attributes),
            "master_hostname": self.config.master.addr().ip().to_string(),
            "flags": self.flags_json()["flags"].clone(),
            "frameworks": frameworks,
            "completed_frameworks": [],
            "registered": self.registration == Registration::Registered,
        })
    }

    /// GET_FRAMEWORKS's payload.
    pub(super) fn get_frameworks(&self) -> Value {
        let frameworks: Vec<Value> = self
            .frameworks
            .values()
            .map(|fw| json!({ "framework_info": fw.info }))
            .collect();
        json!({ "frameworks": frameworks })
    }

    /// GET_EXECUTORS's payload.
    pub(super) fn get_executors(&self) -> Value {
        let executors: Vec<Value> = self
            .frameworks
            .iter()
            .flat_map(|(fid, fw)| {
                fw.executors.values().map(move |ex| {
                    let mut info = ex.info.clone();
                    info.framework_id = Some(fid.clone());
                    json!({ "executor_info": info })
                })
            })
            .collect();
        json!({ "executors": executors })
    }

    fn v1_task(
        &self,
        fid: &FrameworkId,
        ex: &Executor,
        info: &TaskInfo,
        state: TaskState,
    ) -> Value {
        let mut task = json!({
            "name": info.name,
            "task_id": id(info.task_id.as_str()),
            "framework_id": id(fid.as_str()),
            "executor_id": id(ex.info.executor_id.as_str()),
            "agent_id": id(self.id.as_ref().map(|i| i.as_str()).unwrap_or("")),
            "state": state.to_string(),
        });
        if !info.resources.is_empty() {
            task["resources"] = serde_json::to_value(&info.resources).unwrap_or(json!([]));
        }
        if let Some(labels) = &info.labels {
            task["labels"] = serde_json::to_value(labels).unwrap_or(Value::Null);
        }
        task
    }

    /// GET_TASKS's payload: queued tasks (executor not subscribed yet), launched tasks
    /// (not terminal) and terminated tasks (terminal, executor still there).
    pub(super) fn get_tasks(&self) -> Value {
        let (mut queued, mut launched, mut terminated) = (Vec::new(), Vec::new(), Vec::new());
        for (fid, fw) in &self.frameworks {
            for ex in fw.executors.values() {
                for t in &ex.queued {
                    queued.push(self.v1_task(fid, ex, t, TaskState::Staging));
                }
                for t in ex.tasks.values() {
                    let state = self.task_state(fid, &t.info.task_id, t.state);
                    let v = self.v1_task(fid, ex, &t.info, state);
                    if state.is_terminal() {
                        terminated.push(v);
                    } else {
                        launched.push(v);
                    }
                }
            }
        }
        let mut out = Map::new();
        for (key, list) in [
            ("queued_tasks", queued),
            ("launched_tasks", launched),
            ("terminated_tasks", terminated),
        ] {
            if !list.is_empty() {
                out.insert(key.into(), Value::Array(list));
            }
        }
        Value::Object(out)
    }

    /// How many executors are in each state (registering, running, terminating).
    pub(super) fn executor_counts(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for fw in self.frameworks.values() {
            for ex in fw.executors.values() {
                counts[match ex.state {
                    ExecutorState::Registering => 0,
                    ExecutorState::Running => 1,
                    ExecutorState::Terminating => 2,
                }] += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_flattened_as_mesos_does() {
        let r = Resources::parse(
            "cpus:2;mem:1024;ports:[31000-31005,32000-32000];disks:{a,b}",
            "*",
        )
        .unwrap();
        let v = resources_object(&r);
        assert_eq!(v["cpus"], json!(2.0));
        assert_eq!(v["gpus"], json!(0.0));
        assert_eq!(v["mem"], json!(1024.0));
        assert_eq!(v["disk"], json!(0.0));
        assert_eq!(v["ports"], json!("[31000-31005, 32000-32000]"));
        assert_eq!(v["disks"], json!("{a, b}"));
    }
}
