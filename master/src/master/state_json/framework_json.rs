//! Frameworks as the legacy endpoints print them: the summary fields
//! (`/master/state-summary`), the full framework with its tasks, completed tasks and
//! offers (`/master/state`, `/master/frameworks`), and the offer objects.
//!
//! Invariant: a framework's `resources` is its used plus its offered resources; tasks are
//! streamed from the task book without being collected.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::super::frameworks::FrameworkRecord;
use super::super::offers::OfferRecord;
use super::super::tasks::{CachedTask, TaskForm};
use super::{
    empty, framework_id, legacy_text, seq_of, ResourcesObject, StateView, TaskJson, Totals,
};
use serde_json::value::RawValue;

/// The registered (or, with `completed`, the removed) frameworks of the view, or only
/// `only`, each with tasks, offers and executors.
pub(super) struct FrameworkList<'a, 'b> {
    pub(super) view: &'b StateView<'a>,
    pub(super) totals: &'b Totals<'a>,
    pub(super) only: Option<&'b str>,
    pub(super) completed: bool,
}

impl Serialize for FrameworkList<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let list: Box<dyn Iterator<Item = &FrameworkRecord>> = if self.completed {
            Box::new(self.view.completed_frameworks.iter())
        } else {
            Box::new(self.view.frameworks.iter())
        };
        for f in list {
            if self.only.is_some_and(|id| framework_id(f).as_str() != id) {
                continue;
            }
            seq.serialize_element(&FullFramework {
                view: self.view,
                totals: self.totals,
                record: f,
            })?;
        }
        seq.end()
    }
}

/// The summary fields of a framework (`/master/state-summary`).
#[derive(Serialize)]
pub(super) struct FrameworkSummary<'b> {
    id: &'b str,
    name: &'b str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<String>,
    used_resources: ResourcesObject<'b>,
    offered_resources: ResourcesObject<'b>,
    capabilities: Vec<&'static str>,
    hostname: &'b str,
    webui_url: &'b str,
    active: bool,
    connected: bool,
    recovered: bool,
}

impl<'b> FrameworkSummary<'b> {
    /// The summary fields of `f` with its sums from `totals`.
    pub(super) fn new<'a: 'b>(
        totals: &'b Totals<'a>,
        f: &'a FrameworkRecord,
    ) -> FrameworkSummary<'b> {
        let id = framework_id(f);
        FrameworkSummary {
            id: id.as_str(),
            name: &f.info.name,
            pid: f.pid.as_ref().map(|p| p.to_string()),
            used_resources: ResourcesObject(totals.framework_used(id).unwrap_or(empty())),
            offered_resources: ResourcesObject(totals.framework_offered.get(id).unwrap_or(empty())),
            capabilities: f
                .info
                .capabilities
                .iter()
                .filter_map(|c| c.kind.map(|k| k.as_str()))
                .collect(),
            hostname: f.info.hostname.as_deref().unwrap_or(""),
            webui_url: f.info.webui_url.as_deref().unwrap_or(""),
            active: f.active,
            connected: f.connected,
            recovered: false,
        }
    }
}

/// A framework as `FullFrameworkWriter` prints it.
struct FullFramework<'a, 'b> {
    view: &'b StateView<'a>,
    totals: &'b Totals<'a>,
    record: &'a FrameworkRecord,
}

impl Serialize for FullFramework<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.record;
        let id = framework_id(f);
        let times = self.view.timeline.framework(id);
        let summary = FrameworkSummary::new(self.totals, f);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", summary.id)?;
        m.serialize_entry("name", summary.name)?;
        if let Some(pid) = &summary.pid {
            m.serialize_entry("pid", pid)?;
        }
        m.serialize_entry("used_resources", &summary.used_resources)?;
        m.serialize_entry("offered_resources", &summary.offered_resources)?;
        m.serialize_entry("capabilities", &summary.capabilities)?;
        m.serialize_entry("hostname", summary.hostname)?;
        m.serialize_entry("webui_url", summary.webui_url)?;
        m.serialize_entry("active", &summary.active)?;
        m.serialize_entry("connected", &summary.connected)?;
        m.serialize_entry("recovered", &summary.recovered)?;
        m.serialize_entry("user", &f.info.user)?;
        m.serialize_entry("failover_timeout", &f.info.failover_timeout)?;
        m.serialize_entry("checkpoint", &f.info.checkpoint)?;
        m.serialize_entry("registered_time", &times.registered)?;
        m.serialize_entry("unregistered_time", &times.unregistered.unwrap_or(0.0))?;
        if let Some(p) = &f.info.principal {
            m.serialize_entry("principal", p)?;
        }
        let mut resources = summary.used_resources.0.clone();
        resources += summary.offered_resources.0;
        m.serialize_entry("resources", &ResourcesObject(&resources))?;
        if let Some(t) = times.reregistered {
            m.serialize_entry("reregistered_time", &t)?;
        }
        if f.info.roles.is_empty() {
            m.serialize_entry("role", f.info.role.as_deref().unwrap_or("*"))?;
        } else {
            m.serialize_entry("roles", &f.info.roles)?;
        }
        m.serialize_entry(
            "tasks",
            &seq_of(self.view.tasks.of_framework_cached(id), kept_legacy),
        )?;
        m.serialize_entry(
            "unreachable_tasks",
            &seq_of(self.view.unreachable_tasks.of_framework(id), TaskJson),
        )?;
        m.serialize_entry(
            "completed_tasks",
            &seq_of(self.view.tasks.completed_of(id), TaskJson),
        )?;
        let offers: &[&OfferRecord] = self
            .totals
            .framework_offers
            .get(id)
            .map_or(&[], Vec::as_slice);
        m.serialize_entry("offers", &seq_of(offers.iter().copied(), OfferJson))?;
        m.serialize_entry("executors", &[(); 0])?;
        if let Some(labels) = &f.info.labels {
            m.serialize_entry("labels", &labels.labels)?;
        }
        m.end()
    }
}

struct OfferJson<'a>(&'a OfferRecord);

impl Serialize for OfferJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = &self.0.offer;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("id", o.id.as_str())?;
        m.serialize_entry("framework_id", o.framework_id.as_str())?;
        m.serialize_entry("allocation_info", &RoleObject(&self.0.role))?;
        m.serialize_entry("slave_id", o.agent_id.as_str())?;
        m.serialize_entry("resources", &ResourcesObject(&o.resources))?;
        m.end()
    }
}

struct RoleObject<'a>(&'a str);

impl Serialize for RoleObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("role", self.0)?;
        m.end()
    }
}

/// A task's kept legacy text.
fn kept_legacy<'a>(t: CachedTask<'a>) -> &'a RawValue {
    t.text(TaskForm::Legacy, legacy_text)
}
