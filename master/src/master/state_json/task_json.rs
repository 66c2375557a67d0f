//! One task as Mesos's legacy endpoints print it, with the one status the master keeps
//! (its latest).
//!
//! Invariant: optional task and status fields (labels, container, health) are omitted when
//! unset; `executor_id` is an empty string for command tasks.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::super::tasks::Task;
use super::ResourcesObject;

/// One task as Mesos's legacy endpoints print it.
pub struct TaskJson<'a>(pub &'a Task);

impl Serialize for TaskJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", t.info.task_id.as_str())?;
        m.serialize_entry("name", &t.info.name)?;
        m.serialize_entry("framework_id", t.framework_id.as_str())?;
        m.serialize_entry(
            "executor_id",
            t.info
                .executor
                .as_ref()
                .map_or("", |e| e.executor_id.as_str()),
        )?;
        m.serialize_entry("slave_id", t.agent_id.as_str())?;
        m.serialize_entry("state", t.state.as_str())?;
        m.serialize_entry("resources", &ResourcesObject(&t.info.resources))?;
        m.serialize_entry("role", &t.role)?;
        m.serialize_entry("statuses", &StatusList(t))?;
        if let Some(labels) = &t.info.labels {
            m.serialize_entry("labels", &labels.labels)?;
        }
        if let Some(c) = &t.info.container {
            m.serialize_entry("container", c)?;
        }
        if let Some(h) = &t.info.health_check {
            m.serialize_entry("health_check", h)?;
        }
        m.end()
    }
}

/// The statuses the master keeps of a task (its latest one).
struct StatusList<'a>(&'a Task);

impl Serialize for StatusList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        if let Some(status) = &self.0.status {
            seq.serialize_element(&StatusJson(status))?;
        }
        seq.end()
    }
}

struct StatusJson<'a>(&'a meso_api::v1::TaskStatus);

impl Serialize for StatusJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let st = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("state", st.state.as_str())?;
        m.serialize_entry("timestamp", &st.timestamp.unwrap_or(0.0))?;
        if let Some(labels) = &st.labels {
            m.serialize_entry("labels", &labels.labels)?;
        }
        if let Some(c) = &st.container_status {
            m.serialize_entry("container_status", c)?;
        }
        if let Some(h) = st.healthy {
            m.serialize_entry("healthy", &h)?;
        }
        m.end()
    }
}
