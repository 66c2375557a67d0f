//! Master and agent: an online change of the agent's total resources and attributes (the
//! UPDATE_AGENT operator call, a meso extension; `crate::http::update_agent`). Mesos has no
//! such messages, so their names are under `meso.`.
//!
//! Flow: the master forwards an operator's call as [`UpdateAgentConfig`]; the agent applies
//! and checkpoints it, then reports [`AgentConfigUpdated`] (also unasked, after a change on
//! its own operator API or a SIGHUP), and the master records what the agent reports.

use serde::{Deserialize, Serialize};

use crate::attributes::Attributes;
use crate::resources::Resources;
use crate::v1::AgentId;

/// Master to agent: change the total resources and/or the attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateAgentConfig {
    /// Names the operator request the answer belongs to.
    pub request_id: String,
    /// New total resources (`None`: unchanged).
    pub resources: Option<Resources>,
    /// New attributes (`None`: unchanged).
    #[serde(with = "super::as_json")]
    pub attributes: Option<Attributes>,
    /// Accept a total below what tasks use.
    pub force: bool,
}

/// Agent to master: the agent's configuration now (after a change), or why a requested
/// change was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfigUpdated {
    /// The agent.
    pub agent_id: AgentId,
    /// The master's request this answers (`None`: a change made on the agent itself).
    pub request_id: Option<String>,
    /// Its total resources now.
    pub resources: Resources,
    /// Its attributes now.
    #[serde(with = "super::as_json")]
    pub attributes: Attributes,
    /// A refused request: the HTTP status and the reason (nothing changed).
    pub refusal: Option<(u16, String)>,
}
