//! The legacy JSON documents built from the master's books: `/master/state` and the pieces
//! `/master/frameworks`, `/master/slaves`, `/master/tasks` and `/master/state-summary`
//! reuse, with Mesos's field names and shapes (HTTP reference §4.1-4.3).
//!
//! Pure: [`StateView`] borrows the books and the timeline; the functions here serialise
//! straight from borrowed structs into one byte buffer (no intermediate `serde_json::Value`
//! tree), which is what keeps a 10,000-agent, 100,000-task state in the low hundreds of
//! milliseconds. Per-agent and per-framework sums of the tasks' resources are kept by the
//! task book; those of the offers are computed in one pass over the offers ([`Totals`]).
//!
//! Invariants: every key Mesos always prints is present (empty arrays, `0` times, `false`
//! flags included); optional ones are omitted when unset; `orphan_tasks` and
//! `unregistered_frameworks` are always empty arrays, as in Mesos 1.11.
//!
//! Active tasks are written once and copied after ([`legacy_text`], kept by the task
//! book until the task changes), so a second `/master/state` costs little more than a
//! copy of the tasks' text.
//!
//! Code map: this file holds the view, the [`Totals`], the endpoint entry points
//! and the helpers every piece shares; `document` writes the top-level `/master/state`
//! object, `agent_json` one agent, `framework_json` one framework with its offers,
//! `task_json` one task with its statuses, and `summary` the `/master/state-summary` body
//! with its per-state task counts.

mod agent_json;
mod document;
mod framework_json;
mod summary;
mod task_json;

pub use agent_json::AgentJson;
pub use document::Flags;
pub use summary::{state_summary, StateCounts};
pub use task_json::TaskJson;

use document::StateDoc;
use framework_json::FrameworkList;

use std::collections::VecDeque;

use super::fast_hash::FastMap;
pub use super::resources_object::ResourcesObject;

use meso_api::v1::{AgentId, FrameworkId, MasterInfo};
use meso_api::Resources;
use serde::ser::SerializeSeq;
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
    /// Tasks of unreachable agents.
    pub unreachable_tasks: &'a super::unreachable_tasks::UnreachableTasks,
    /// Agents recovered from the registry after a failover, not re-registered yet.
    pub recovered_agents: &'a std::collections::BTreeMap<AgentId, meso_api::v1::AgentInfo>,
    /// Start, election and registration times.
    pub timeline: &'a Timeline,
    /// The master's flags as `(name, value)`.
    pub flags: &'a [(String, String)],
}

/// Sums over tasks and offers, keyed by agent and by framework: the tasks' sums are kept
/// by the task book ([`TaskBook::used_on_agent`], [`TaskBook::used_by_framework`]), the
/// offers' are summed in one pass over the outstanding offers.
pub struct Totals<'a> {
    /// The task book the used resources come from.
    tasks: &'a TaskBook,
    /// Resources in outstanding offers per agent.
    pub agent_offered: FastMap<&'a AgentId, Resources>,
    /// Resources in outstanding offers per framework.
    pub framework_offered: FastMap<&'a FrameworkId, Resources>,
    /// Offers per framework.
    pub framework_offers: FastMap<&'a FrameworkId, Vec<&'a OfferRecord>>,
}

impl<'a> Totals<'a> {
    fn empty(tasks: &'a TaskBook) -> Totals<'a> {
        Totals {
            tasks,
            agent_offered: FastMap::default(),
            framework_offered: FastMap::default(),
            framework_offers: FastMap::default(),
        }
    }

    /// Sums the outstanding offers of `view`; the tasks' sums come from its task book.
    pub fn of(view: &StateView<'a>) -> Totals<'a> {
        let mut t = Totals::empty(view.tasks);
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

    /// The resources of the active tasks on `agent` (`None` without any).
    pub fn agent_used(&self, agent: &AgentId) -> Option<&'a Resources> {
        self.tasks.used_on_agent(agent)
    }

    /// The resources of the active tasks of `framework` (`None` without any).
    pub fn framework_used(&self, framework: &FrameworkId) -> Option<&'a Resources> {
        self.tasks.used_by_framework(framework)
    }
}

impl<'a> Totals<'a> {
    /// The sums of one agent only (its own offers, through the offer book's index): what
    /// an operator event about that agent needs, without a walk of the whole cluster.
    pub fn of_agent(view: &StateView<'a>, agent: &'a AgentId) -> Totals<'a> {
        let mut t = Totals::empty(view.tasks);
        let mut offered = Resources::new();
        for id in view.offers.on_agent(agent) {
            if let Some(offer) = view.offers.get(&id) {
                offered += &offer.offer.resources;
            }
        }
        t.agent_offered.insert(agent, offered);
        t
    }

    /// The sums of one framework only, as [`Totals::of_agent`] for an agent.
    pub fn of_framework(view: &StateView<'a>, framework: &'a FrameworkId) -> Totals<'a> {
        let mut t = Totals::empty(view.tasks);
        let mut offered = Resources::new();
        let mut offers = Vec::new();
        for id in view.offers.of_framework(framework) {
            if let Some(offer) = view.offers.get(&id) {
                offered += &offer.offer.resources;
                offers.push(offer);
            }
        }
        t.framework_offered.insert(framework, offered);
        t.framework_offers.insert(framework, offers);
        t
    }
}

/// The `/master/state` body as compact JSON.
pub fn state(view: &StateView<'_>) -> Vec<u8> {
    state_into(view, Vec::with_capacity(state_capacity(view)))
}

/// Room for the whole `/master/state` document up front (about what a task and an agent
/// take): each growth of a buffer of a hundred megabytes is a copy of it.
pub fn state_capacity(view: &StateView<'_>) -> usize {
    4096 + view.tasks.active_count() * 384 + view.agents.len() * 1536
}

/// The `/master/state` body written into `out` (an empty buffer, `state_capacity` large).
pub fn state_into(view: &StateView<'_>, mut out: Vec<u8>) -> Vec<u8> {
    let totals = Totals::of(view);
    serde_json::to_writer(
        &mut out,
        &StateDoc {
            view,
            totals: &totals,
        },
    )
    .expect("state documents hold only strings, numbers and maps");
    out
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
        recovered_slaves: Vec<&'a meso_api::v1::AgentInfo>,
    }
    let slaves = view
        .agents
        .iter()
        .filter(|a| slave_id.is_none_or(|id| agent_id(a).as_str() == id))
        .map(|a| AgentJson::new(view, &totals, a, true))
        .collect();
    to_vec(&Doc {
        slaves,
        recovered_slaves: view.recovered_agents.values().collect(),
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

/// A task's legacy text, as [`TaskJson`] writes it (what the task book keeps).
pub fn legacy_text(task: &Task) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(&TaskJson(task)).expect("a task serializes to JSON")
}

/// The first status timestamp of a task (Mesos sorts `/master/tasks` by it).
pub fn task_timestamp(task: &Task) -> f64 {
    task.status
        .as_ref()
        .and_then(|s| s.timestamp)
        .unwrap_or(0.0)
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

static EMPTY: std::sync::OnceLock<Resources> = std::sync::OnceLock::new();

/// The empty resources, for agents and frameworks with nothing used or offered.
fn empty() -> &'static Resources {
    EMPTY.get_or_init(Resources::new)
}

/// Serialises an iterator as a sequence through `f`, without collecting it. The iterator
/// is consumed by the first serialisation (each document is written once).
struct SeqOf<I, F>(std::cell::RefCell<Option<I>>, F);

/// Wraps `items` and `f` for [`SeqOf`].
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
