//! Agent and executor (for executors that speak libprocess rather than the v1 HTTP API).

use serde::{Deserialize, Serialize};

use crate::v1::{AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo};

/// Executor to agent: register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterExecutor {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
}

/// Agent to executor: registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutorRegistered {
    /// The executor.
    #[serde(with = "super::as_json")]
    pub executor_info: ExecutorInfo,
    /// The framework id.
    pub framework_id: FrameworkId,
    /// The framework.
    #[serde(with = "super::as_json")]
    pub framework_info: FrameworkInfo,
    /// The agent's id.
    pub agent_id: AgentId,
    /// The agent.
    #[serde(with = "super::as_json")]
    pub agent_info: AgentInfo,
}
