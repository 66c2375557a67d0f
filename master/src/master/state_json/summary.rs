//! The `/master/state-summary` body: every agent and framework with its task counts per
//! state and the ids of the frameworks (agents) it shares tasks with.
//!
//! Invariant: counts cover active and completed tasks; states Mesos does not count
//! (e.g. `TASK_GONE`) are left out.

use meso_api::v1::{AgentId, FrameworkId, TaskState};
use serde::Serialize;

use super::super::fast_hash::FastMap;
use super::framework_json::FrameworkSummary;
use super::{agent_id, framework_id, to_vec, AgentJson, StateView, Totals};

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
