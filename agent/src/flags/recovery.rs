//! The recovery flags of `meso agent` (Mesos's `--recover`, `--strict`,
//! `--recovery_timeout`, `--executor_reregistration_timeout`, `--reconfiguration_policy`),
//! mapped onto [`RecoveryConfig`]. Each is also read from `MESO_<FLAG>`.

use std::time::Duration;

use clap::Args;
use meso_api::duration::parse_duration;

use crate::error::AgentError;

/// Longest `--executor-reregistration-timeout` accepted (Mesos's
/// `MAX_EXECUTOR_REREGISTRATION_TIMEOUT`).
pub const MAX_EXECUTOR_REREGISTRATION_TIMEOUT: Duration = Duration::from_secs(15);

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

/// The recovery flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct RecoveryFlags {
    /// After a restart: `reconnect` to the executors of checkpointing frameworks that are
    /// still running (their tasks keep running), or `cleanup`: kill them and report their
    /// tasks. Tasks of frameworks without `checkpoint` are never recovered.
    #[arg(long, env = "MESO_RECOVER", default_value = "reconnect")]
    pub recover: String,
    /// A damaged checkpoint stops the agent with a message naming the file; with
    /// `--strict=false` the agent recovers what it can and logs the rest.
    #[arg(
        long,
        env = "MESO_STRICT",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub strict: bool,
    /// How long executors of checkpointing frameworks wait for a restarted agent before
    /// they give up and exit.
    #[arg(long, env = "MESO_RECOVERY_TIMEOUT", default_value = "15mins")]
    pub recovery_timeout: String,
    /// How long a restarted agent waits for recovered executors to re-subscribe before it
    /// kills them and reports their tasks (at most 15secs).
    #[arg(
        long,
        env = "MESO_EXECUTOR_REREGISTRATION_TIMEOUT",
        default_value = "2secs"
    )]
    pub executor_reregistration_timeout: String,
    /// What a restart may change in `--resources`/`--attributes`: `equal` (nothing) or
    /// `additive` (resources may grow, attributes may be added).
    #[arg(long, env = "MESO_RECONFIGURATION_POLICY", default_value = "equal")]
    pub reconfiguration_policy: String,
    /// Kill checkpointed tasks too when this agent stops (set by `meso local`).
    #[arg(skip)]
    pub stop_tasks_on_exit: bool,
}

impl Default for RecoveryFlags {
    /// The defaults `--help` shows.
    fn default() -> Self {
        RecoveryFlags {
            recover: "reconnect".into(),
            strict: true,
            recovery_timeout: "15mins".into(),
            executor_reregistration_timeout: "2secs".into(),
            reconfiguration_policy: "equal".into(),
            stop_tasks_on_exit: false,
        }
    }
}

fn duration(flag: &'static str, value: &str) -> Result<Duration, AgentError> {
    parse_duration(value).map_err(|reason| AgentError::Flag {
        flag,
        value: value.to_string(),
        reason,
    })
}

impl RecoveryFlags {
    /// Checks the flags; errors name the flag and the value.
    pub fn config(&self) -> Result<RecoveryConfig, AgentError> {
        let recover = match self.recover.as_str() {
            "reconnect" => RecoverMode::Reconnect,
            "cleanup" => RecoverMode::Cleanup,
            other => {
                return Err(AgentError::Flag {
                    flag: "--recover",
                    value: other.into(),
                    reason: "expected 'reconnect' or 'cleanup'".into(),
                })
            }
        };
        let reconfiguration_policy = match self.reconfiguration_policy.as_str() {
            "equal" => ReconfigurationPolicy::Equal,
            "additive" => ReconfigurationPolicy::Additive,
            other => {
                return Err(AgentError::Flag {
                    flag: "--reconfiguration-policy",
                    value: other.into(),
                    reason: "expected 'equal' or 'additive'".into(),
                })
            }
        };
        let reregistration = duration(
            "--executor-reregistration-timeout",
            &self.executor_reregistration_timeout,
        )?;
        if reregistration > MAX_EXECUTOR_REREGISTRATION_TIMEOUT {
            return Err(AgentError::Flag {
                flag: "--executor-reregistration-timeout",
                value: self.executor_reregistration_timeout.clone(),
                reason: format!(
                    "must be at most {}secs",
                    MAX_EXECUTOR_REREGISTRATION_TIMEOUT.as_secs()
                ),
            });
        }
        Ok(RecoveryConfig {
            recover,
            strict: self.strict,
            recovery_timeout: duration("--recovery-timeout", &self.recovery_timeout)?,
            executor_reregistration_timeout: reregistration,
            reconfiguration_policy,
            stop_tasks_on_exit: self.stop_tasks_on_exit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mesos_s_and_keep_tasks_on_exit() {
        let config = RecoveryFlags::default().config().unwrap();
        assert_eq!(
            config,
            RecoveryConfig {
                stop_tasks_on_exit: false,
                ..RecoveryConfig::default()
            }
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        let flags = RecoveryFlags {
            executor_reregistration_timeout: "16secs".into(),
            ..RecoveryFlags::default()
        };
        let err = flags.config().unwrap_err().to_string();
        assert!(
            err.contains("--executor-reregistration-timeout") && err.contains("15secs"),
            "{err}"
        );
        let flags = RecoveryFlags {
            recover: "maybe".into(),
            ..RecoveryFlags::default()
        };
        assert!(flags
            .config()
            .unwrap_err()
            .to_string()
            .contains("--recover"));
        let flags = RecoveryFlags {
            reconfiguration_policy: "any".into(),
            ..RecoveryFlags::default()
        };
        assert!(flags
            .config()
            .unwrap_err()
            .to_string()
            .contains("--reconfiguration-policy"));
    }
}
