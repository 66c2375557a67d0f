//! What the agent is told about recovery: the mode, the strictness, the timeouts and the
//! reconfiguration policy. `meso agent`'s recovery flags (`crate::flags::recovery`) map onto
//! [`RecoveryConfig`]; an embedded agent takes its `Default`. Plain data, so the flags and
//! the agent each read it without reading the other.

use std::time::Duration;

/// What a restarted agent does with the executors of its previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverMode {
    /// Re-attach to live executors of checkpointing frameworks and keep their tasks.
    Reconnect,
    /// Kill them and report their tasks.
    Cleanup,
}

/// What a restarted agent accepts as a change of its `--resources` and `--attributes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconfigurationPolicy {
    /// Nothing may change.
    Equal,
    /// Resources may grow (never shrink); attributes may be added (never changed).
    Additive,
}

/// Everything about recovery the agent needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// `--recover`.
    pub recover: RecoverMode,
    /// `--strict`: a damaged checkpoint stops the agent.
    pub strict: bool,
    /// `--recovery-timeout`: how long checkpointing executors wait for a restarted agent.
    pub recovery_timeout: Duration,
    /// `--executor-reregistration-timeout`.
    pub executor_reregistration_timeout: Duration,
    /// `--reconfiguration-policy`.
    pub reconfiguration_policy: ReconfigurationPolicy,
    /// Kill checkpointed tasks too when the agent stops (`meso local`, tests); `meso agent`
    /// leaves them running for the next agent to recover.
    pub stop_tasks_on_exit: bool,
}

impl Default for RecoveryConfig {
    /// Mesos's defaults, and stop everything on exit (an embedded agent).
    fn default() -> Self {
        RecoveryConfig {
            recover: RecoverMode::Reconnect,
            strict: true,
            recovery_timeout: Duration::from_secs(15 * 60),
            executor_reregistration_timeout: Duration::from_secs(2),
            reconfiguration_policy: ReconfigurationPolicy::Equal,
            stop_tasks_on_exit: true,
        }
    }
}
