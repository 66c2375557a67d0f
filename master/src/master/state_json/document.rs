//! The top-level `/master/state` object: the master's own fields (version, build, times,
//! ids, agent counts, leader and leadership, flags) followed by the agent and framework
//! arrays written by `agent_json` and `framework_json`, and meso's `revocable` summary
//! (`revocable_summary`).
//!
//! Invariants: keys come in Mesos's order; `elected_time`, `leader` and `leader_info` are
//! omitted while unset; `recovered_slaves` lists the agents recovered from the registry
//! that have not re-registered (their AgentInfo); `orphan_tasks` and
//! `unregistered_frameworks` are always empty arrays.

use meso_api::v1::MasterInfo;

use super::super::revocable_summary::RevocableSummary;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{
    seq_of, AgentJson, FrameworkList, StateView, Totals, BUILD_DATE, BUILD_TIME, BUILD_USER,
    MESOS_VERSION,
};

/// The `/master/state` object of `view`, with its sums.
pub(super) struct StateDoc<'a, 'b> {
    pub(super) view: &'b StateView<'a>,
    pub(super) totals: &'b Totals<'a>,
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
            &seq_of(v.agents.iter(), |a| AgentJson::for_state(v, self.totals, a)),
        )?;
        m.serialize_entry(
            "recovered_slaves",
            &v.recovered_agents.values().collect::<Vec<_>>(),
        )?;
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
        m.serialize_entry(
            "revocable",
            &RevocableSummary::of_books(v.agents.iter().map(|a| &a.info.resources), v.tasks),
        )?;
        m.serialize_entry("orphan_tasks", &[(); 0])?;
        m.serialize_entry("unregistered_frameworks", &[(); 0])?;
        m.end()
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
