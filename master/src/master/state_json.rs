//! The legacy JSON documents built from the master's books: `/master/state` and the pieces
//! `/master/frameworks`, `/master/slaves`, `/master/tasks` and `/master/state-summary`
//! reuse, with Mesos's field names and shapes (HTTP reference §4.1-4.3).
//!
//! Pure: [`StateView`] borrows the books and the timeline; the functions here serialise
//! straight from borrowed structs into one byte buffer (no intermediate `serde_json::Value`
//! tree), which is what keeps a 10,000-agent, 100,000-task state in the low hundreds of
//! milliseconds. Per-agent and per-framework sums (used and offered resources, task counts)
//! are computed in one pass over the tasks and offers ([`Totals`]).
//!
//! Invariants: every key Mesos always prints is present (empty arrays, `0` times, `false`
//! flags included); optional ones are omitted when unset; `orphan_tasks` and
//! `unregistered_frameworks` are always empty arrays, as in Mesos 1.11.

use std::collections::VecDeque;

use super::fast_hash::FastMap;
pub use super::resources_object::ResourcesObject;
use super::resources_object::{AttributesObject, ReservedObject};

use meso_api::resources::ResourceFormat;
use meso_api::v1::{AgentId, FrameworkId, MasterInfo, TaskState};
use meso_api::Resources;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::agents::{AgentBook, AgentRecord};
use super::frameworks::{FrameworkBook, FrameworkRecord};
use super::offers::{OfferBook, OfferRecord};
use super::tasks::{Task, TaskBook};
use super::timeline::Timeline;

/// The Mesos version meso answers as (`/version`, `/master/state`): clients check it.
pub const MESOS_VERSION: &str = "1.11.0";
/// Build date reported with the version.
pub const BUILD_DATE: &str = "2026-01-01 00:00:00";
/// Build time (seconds since the epoch) reported with the version.
pub const BUILD_TIME: f64 = 1_767_225_600.0;
/// Build user reported with the version.
pub const BUILD_USER: &str = "meso";

/// Everything the documents are built from, borrowed from the master.
#[derive(Clone, Copy)]
pub struct StateView<'a> {
    /// This master.
    pub info: &'a MasterInfo,
    /// The leader, if known (this master when it leads).
    pub leader: Option<&'a MasterInfo>,
    /// meso's leadership fields for `/master/state` (`raft_term`, `peers`, `elected`: the
    /// object of `Master::leader_json`), when the caller has them.
    pub leadership: Option<&'a serde_json::Value>,
    /// Registered agents and unreachable ids.
    pub agents: &'a AgentBook,
    /// Frameworks.
    pub frameworks: &'a FrameworkBook,
    /// Frameworks removed since the master started, oldest first (bounded by the caller).
    pub completed_frameworks: &'a VecDeque<FrameworkRecord>,
    /// Outstanding offers.
    pub offers: &'a OfferBook,
    /// Active and completed tasks.
    pub tasks: &'a TaskBook,
    /// Start, election and registration times.
    pub timeline: &'a Timeline,
    /// The master's flags as `(name, value)`.
    pub flags: &'a [(String, String)],
}

/// Sums over tasks and offers, keyed by agent and by framework, computed in one pass.
#[derive(Default)]
pub struct Totals<'a> {
    /// Resources of active tasks per agent.
    pub agent_used: FastMap<&'a AgentId, Resources>,
    /// Resources in outstanding offers per agent.
    pub agent_offered: FastMap<&'a AgentId, Resources>,
    /// Resources of active tasks per framework.
    pub framework_used: FastMap<&'a FrameworkId, Resources>,
    /// Resources in outstanding offers per framework.
    pub framework_offered: FastMap<&'a FrameworkId, Resources>,
    /// Offers per framework.
    pub framework_offers: FastMap<&'a FrameworkId, Vec<&'a OfferRecord>>,
}

impl<'a> Totals<'a> {
    /// Sums the active tasks and outstanding offers of `view`.
    pub fn of(view: &StateView<'a>) -> Totals<'a> {
        let mut t = Totals::default();
        // Active tasks come ordered by framework: sum a framework's run of tasks locally
        // and store it once, so only the agent sums need a map lookup per task.
        let mut run: Option<(&'a FrameworkId, Resources)> = None;
        for task in view.tasks.active() {
            let r = &task.info.resources;
            *t.agent_used.entry(&task.agent_id).or_default() += r;
            match &mut run {
                Some((f, sum)) if *f == &task.framework_id => *sum += r,
                _ => {
                    if let Some((f, sum)) = run.replace((&task.framework_id, r.clone())) {
                        *t.framework_used.entry(f).or_default() += &sum;
                    }
                }
            }
        }
        if let Some((f, sum)) = run {
            *t.framework_used.entry(f).or_default() += &sum;
        }
        for offer in view.offers.iter() {
            let r = &offer.offer.resources;
            *t.agent_offered.entry(&offer.offer.agent_id).or_default() += r;
            *t.framework_offered
                .entry(&offer.offer.framework_id)
                .or_default() += r;
            t.framework_offers
                .entry(&offer.offer.framework_id)
                .or_default()
                .push(offer);
        }
        t
    }
}

/// The `/master/state` body as compact JSON.
pub fn state(view: &StateView<'_>) -> Vec<u8> {
    let totals = Totals::of(view);
    to_vec(&StateDoc {
        view,
        totals: &totals,
    })
}

/// The `/master/frameworks` body (`framework_id` filters when given).
pub fn frameworks(view: &StateView<'_>, framework_id: Option<&str>) -> Vec<u8> {
    let totals = Totals::of(view);
    #[derive(Serialize)]
    struct Doc<'a> {
        frameworks: FrameworkList<'a, 'a>,
        completed_frameworks: FrameworkList<'a, 'a>,
        unregistered_frameworks: [(); 0],
    }
    to_vec(&Doc {
        frameworks: FrameworkList {
            view,
            totals: &totals,
            only: framework_id,
            completed: false,
        },
        completed_frameworks: FrameworkList {
            view,
            totals: &totals,
            only: framework_id,
            completed: true,
        },
        unregistered_frameworks: [],
    })
}

/// The `/master/slaves` body (`slave_id` filters when given), with the `*_full` arrays.
pub fn slaves(view: &StateView<'_>, slave_id: Option<&str>) -> Vec<u8> {
    let totals = Totals::of(view);
    #[derive(Serialize)]
    struct Doc<'a> {
        slaves: Vec<AgentJson<'a>>,
        recovered_slaves: [(); 0],
    }
    let slaves = view
        .agents
        .iter()
        .filter(|a| slave_id.is_none_or(|id| agent_id(a).as_str() == id))
        .map(|a| AgentJson::new(view, &totals, a, true))
        .collect();
    to_vec(&Doc {
        slaves,
        recovered_slaves: [],
    })
}

/// The tasks `/master/tasks` may list: active then completed, of every framework.
pub fn all_tasks<'a>(view: &StateView<'a>) -> Vec<&'a Task> {
    let mut out: Vec<&Task> = view.tasks.active().collect();
    out.extend(view.tasks.completed());
    out
}

/// The `/master/tasks` body for an already filtered and paged list.
pub fn tasks(list: &[&Task]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Doc<'a> {
        tasks: Vec<TaskJson<'a>>,
    }
    to_vec(&Doc {
        tasks: list.iter().map(|t| TaskJson(t)).collect(),
    })
}

/// The first status timestamp of a task (Mesos sorts `/master/tasks` by it).
pub fn task_timestamp(task: &Task) -> f64 {
    task.status
        .as_ref()
        .and_then(|s| s.timestamp)
        .unwrap_or(0.0)
}

/// The `/master/state-summary` body.
pub fn state_summary(view: &StateView<'_>) -> Vec<u8> {
    let totals = Totals::of(view);
    let mut agent_counts: FastMap<&AgentId, StateCounts> = FastMap::default();
    let mut framework_counts: FastMap<&FrameworkId, StateCounts> = FastMap::default();
    let mut agent_frameworks: FastMap<&AgentId, Vec<&str>> = FastMap::default();
    let mut framework_agents: FastMap<&FrameworkId, Vec<&str>> = FastMap::default();
    for task in view.tasks.active().chain(view.tasks.completed()) {
        agent_counts
            .entry(&task.agent_id)
            .or_default()
            .add(task.state);
        framework_counts
            .entry(&task.framework_id)
            .or_default()
            .add(task.state);
        let fws = agent_frameworks.entry(&task.agent_id).or_default();
        if !fws.contains(&task.framework_id.as_str()) {
            fws.push(task.framework_id.as_str());
        }
        let ags = framework_agents.entry(&task.framework_id).or_default();
        if !ags.contains(&task.agent_id.as_str()) {
            ags.push(task.agent_id.as_str());
        }
    }
    #[derive(Serialize)]
    struct SummaryAgent<'a> {
        #[serde(flatten)]
        agent: AgentJson<'a>,
        #[serde(flatten)]
        counts: StateCounts,
        framework_ids: &'a [&'a str],
    }
    #[derive(Serialize)]
    struct SummaryFramework<'a> {
        #[serde(flatten)]
        framework: FrameworkSummary<'a>,
        #[serde(flatten)]
        counts: StateCounts,
        slave_ids: &'a [&'a str],
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        hostname: &'a str,
        slaves: Vec<SummaryAgent<'a>>,
        frameworks: Vec<SummaryFramework<'a>>,
    }
    let none: &[&str] = &[];
    let doc = Doc {
        hostname: view.info.hostname.as_deref().unwrap_or(""),
        slaves: view
            .agents
            .iter()
            .map(|a| {
                let id = agent_id(a);
                SummaryAgent {
                    agent: AgentJson::new(view, &totals, a, false),
                    counts: agent_counts.get(id).copied().unwrap_or_default(),
                    framework_ids: agent_frameworks.get(id).map_or(none, Vec::as_slice),
                }
            })
            .collect(),
        frameworks: view
            .frameworks
            .iter()
            .map(|f| {
                let id = framework_id(f);
                SummaryFramework {
                    framework: FrameworkSummary::new(&totals, f),
                    counts: framework_counts.get(id).copied().unwrap_or_default(),
                    slave_ids: framework_agents.get(id).map_or(none, Vec::as_slice),
                }
            })
            .collect(),
    };
    to_vec(&doc)
}

fn to_vec<T: Serialize>(doc: &T) -> Vec<u8> {
    serde_json::to_vec(doc).expect("state documents hold only strings, numbers and maps")
}

/// An agent record's id (the book sets it on add).
pub fn agent_id(a: &AgentRecord) -> &AgentId {
    a.info
        .id
        .as_ref()
        .expect("the agent book sets AgentInfo.id when it adds an agent")
}

/// A framework record's id (the book sets it on add).
pub fn framework_id(f: &FrameworkRecord) -> &FrameworkId {
    f.info
        .id
        .as_ref()
        .expect("the framework book sets FrameworkInfo.id when it adds a framework")
}

// ------------------------------------------------------------------ the document

struct StateDoc<'a, 'b> {
    view: &'b StateView<'a>,
    totals: &'b Totals<'a>,
}

impl Serialize for StateDoc<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.view;
        let info = v.info;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", MESOS_VERSION)?;
        m.serialize_entry("build_date", BUILD_DATE)?;
        m.serialize_entry("build_time", &BUILD_TIME)?;
        m.serialize_entry("build_user", BUILD_USER)?;
        m.serialize_entry("start_time", &v.timeline.start_time)?;
        if let Some(t) = v.timeline.elected_time {
            m.serialize_entry("elected_time", &t)?;
        }
        m.serialize_entry("id", &info.id)?;
        m.serialize_entry("pid", info.pid.as_deref().unwrap_or(""))?;
        m.serialize_entry("hostname", info.hostname.as_deref().unwrap_or(""))?;
        m.serialize_entry("capabilities", &["AGENT_UPDATE", "AGENT_DRAINING"])?;
        let active = v.agents.active_count();
        m.serialize_entry("activated_slaves", &active)?;
        m.serialize_entry("deactivated_slaves", &(v.agents.len() - active))?;
        m.serialize_entry("unreachable_slaves", &v.agents.unreachable().count())?;
        if let Some(leader) = v.leader {
            m.serialize_entry("leader", leader.pid.as_deref().unwrap_or(""))?;
            m.serialize_entry("leader_info", &LeaderInfo(leader))?;
        }
        if let Some(serde_json::Value::Object(fields)) = v.leadership {
            for (key, value) in fields.iter().filter(|(key, _)| *key != "leader") {
                m.serialize_entry(key, value)?;
            }
        }
        m.serialize_entry("flags", &Flags(v.flags))?;
        m.serialize_entry(
            "slaves",
            &seq_of(v.agents.iter(), |a| {
                AgentJson::new(v, self.totals, a, false)
            }),
        )?;
        m.serialize_entry("recovered_slaves", &[(); 0])?;
        m.serialize_entry(
            "frameworks",
            &FrameworkList {
                view: v,
                totals: self.totals,
                only: None,
                completed: false,
            },
        )?;
        m.serialize_entry(
            "completed_frameworks",
            &FrameworkList {
                view: v,
                totals: self.totals,
                only: None,
                completed: true,
            },
        )?;
        m.serialize_entry("orphan_tasks", &[(); 0])?;
        m.serialize_entry("unregistered_frameworks", &[(); 0])?;
        m.end()
    }
}

/// Serialises an iterator as a sequence through `f`, without collecting it. The iterator
/// is consumed by the first serialisation (each document is written once).
struct SeqOf<I, F>(std::cell::RefCell<Option<I>>, F);

fn seq_of<I, F>(items: I, f: F) -> SeqOf<I, F> {
    SeqOf(std::cell::RefCell::new(Some(items)), f)
}

impl<I, F, T> Serialize for SeqOf<I, F>
where
    I: Iterator,
    F: Fn(I::Item) -> T,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for item in self.0.borrow_mut().take().into_iter().flatten() {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

struct LeaderInfo<'a>(&'a MasterInfo);

impl Serialize for LeaderInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.0.id)?;
        m.serialize_entry("ip", &self.0.ip)?;
        m.serialize_entry("port", &self.0.port)?;
        if let Some(pid) = &self.0.pid {
            m.serialize_entry("pid", pid)?;
        }
        if let Some(h) = &self.0.hostname {
            m.serialize_entry("hostname", h)?;
        }
        if let Some(v) = &self.0.version {
            m.serialize_entry("version", v)?;
        }
        m.end()
    }
}

/// Flags as a JSON object `{name: value}`.
pub struct Flags<'a>(pub &'a [(String, String)]);

impl Serialize for Flags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Owned resources printed as a resources object.
struct OwnedResources(Resources);

impl Serialize for OwnedResources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ResourcesObject(&self.0).serialize(s)
    }
}

// ------------------------------------------------------------------ agents

/// One agent as `SlaveWriter` prints it (`full` adds the `*_full` resource arrays of
/// `/master/slaves`).
#[derive(Serialize)]
pub struct AgentJson<'b> {
    id: &'b str,
    hostname: &'b str,
    port: u32,
    attributes: AttributesObject<'b>,
    pid: String,
    registered_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reregistered_time: Option<f64>,
    resources: ResourcesObject<'b>,
    used_resources: ResourcesObject<'b>,
    offered_resources: ResourcesObject<'b>,
    reserved_resources: ReservedObject,
    unreserved_resources: OwnedResources,
    active: bool,
    deactivated: bool,
    version: &'static str,
    capabilities: [&'static str; 0],
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    full: Option<AgentFull>,
}

#[derive(Serialize)]
struct AgentFull {
    reserved_resources_full: serde_json::Map<String, serde_json::Value>,
    unreserved_resources_full: serde_json::Value,
    used_resources_full: serde_json::Value,
    offered_resources_full: serde_json::Value,
}

static EMPTY: std::sync::OnceLock<Resources> = std::sync::OnceLock::new();

fn empty() -> &'static Resources {
    EMPTY.get_or_init(Resources::new)
}

fn full_json(r: &Resources) -> serde_json::Value {
    r.to_json_value(ResourceFormat::Endpoint)
        .unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

impl<'b> AgentJson<'b> {
    /// The agent `a` with its sums from `totals`.
    pub fn new<'a: 'b>(
        view: &StateView<'a>,
        totals: &'b Totals<'a>,
        a: &'a AgentRecord,
        full: bool,
    ) -> AgentJson<'b> {
        let id = agent_id(a);
        let times = view.timeline.agent(id);
        let used = totals.agent_used.get(id).unwrap_or(empty());
        let offered = totals.agent_offered.get(id).unwrap_or(empty());
        let reserved: Vec<(String, Resources)> = a
            .info
            .resources
            .reservations()
            .into_iter()
            .map(|(role, r)| (role.to_string(), r))
            .collect();
        let unreserved = a.info.resources.unreserved();
        let full = full.then(|| AgentFull {
            reserved_resources_full: reserved
                .iter()
                .map(|(role, r)| (role.clone(), full_json(r)))
                .collect(),
            unreserved_resources_full: full_json(&unreserved),
            used_resources_full: full_json(used),
            offered_resources_full: full_json(offered),
        });
        AgentJson {
            id: id.as_str(),
            hostname: &a.info.hostname,
            port: a.info.port,
            attributes: AttributesObject(&a.info.attributes),
            pid: a.pid.to_string(),
            registered_time: times.registered,
            reregistered_time: times.reregistered,
            resources: ResourcesObject(&a.info.resources),
            used_resources: ResourcesObject(used),
            offered_resources: ResourcesObject(offered),
            reserved_resources: ReservedObject(reserved),
            unreserved_resources: OwnedResources(unreserved),
            active: a.active,
            deactivated: false,
            version: MESOS_VERSION,
            capabilities: [],
            full,
        }
    }
}

// ------------------------------------------------------------------ frameworks

/// The registered (or, with `completed`, the removed) frameworks of the view, or only
/// `only`, each with tasks, offers and executors.
struct FrameworkList<'a, 'b> {
    view: &'b StateView<'a>,
    totals: &'b Totals<'a>,
    only: Option<&'b str>,
    completed: bool,
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
struct FrameworkSummary<'b> {
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
    fn new<'a: 'b>(totals: &'b Totals<'a>, f: &'a FrameworkRecord) -> FrameworkSummary<'b> {
        let id = framework_id(f);
        FrameworkSummary {
            id: id.as_str(),
            name: &f.info.name,
            pid: f.pid.as_ref().map(|p| p.to_string()),
            used_resources: ResourcesObject(totals.framework_used.get(id).unwrap_or(empty())),
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
        m.serialize_entry("tasks", &seq_of(self.view.tasks.of_framework(id), TaskJson))?;
        m.serialize_entry("unreachable_tasks", &[(); 0])?;
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

// ------------------------------------------------------------------ tasks

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

// ------------------------------------------------------------------ counts

/// Tasks per state, as `/master/state-summary` prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    #[serde(rename = "TASK_STAGING")]
    staging: u64,
    #[serde(rename = "TASK_STARTING")]
    starting: u64,
    #[serde(rename = "TASK_RUNNING")]
    running: u64,
    #[serde(rename = "TASK_KILLING")]
    killing: u64,
    #[serde(rename = "TASK_FINISHED")]
    finished: u64,
    #[serde(rename = "TASK_KILLED")]
    killed: u64,
    #[serde(rename = "TASK_FAILED")]
    failed: u64,
    #[serde(rename = "TASK_LOST")]
    lost: u64,
    #[serde(rename = "TASK_ERROR")]
    error: u64,
    #[serde(rename = "TASK_UNREACHABLE")]
    unreachable: u64,
}

impl StateCounts {
    fn add(&mut self, state: TaskState) {
        let slot = match state {
            TaskState::Staging => &mut self.staging,
            TaskState::Starting => &mut self.starting,
            TaskState::Running => &mut self.running,
            TaskState::Killing => &mut self.killing,
            TaskState::Finished => &mut self.finished,
            TaskState::Killed => &mut self.killed,
            TaskState::Failed => &mut self.failed,
            TaskState::Lost => &mut self.lost,
            TaskState::Error => &mut self.error,
            TaskState::Unreachable => &mut self.unreachable,
            _ => return,
        };
        *slot += 1;
    }
}
