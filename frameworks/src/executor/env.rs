//! What an executor learns from the environment its agent gives it (Mesos's executor
//! environment: `MESOS_AGENT_ENDPOINT`, `MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID`, ...), as a
//! pure function of a variable lookup so it is tested without touching the process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use meso_api::duration::parse_duration;
use meso_api::v1::{ExecutorId, FrameworkId};

/// Path of the executor API on an agent when `MESOS_SLAVE_PID` does not name its process.
pub const EXECUTOR_API_PATH: &str = "/api/v1/executor";

/// A variable that is missing or malformed, by name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// The executor's view of its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorEnvironment {
    /// `MESOS_AGENT_ENDPOINT`: the agent's `ip:port`.
    pub agent: SocketAddr,
    /// Path of the executor API: `/<agent process id>/api/v1/executor` from `MESOS_SLAVE_PID`
    /// (which matters when the agent shares its node with a master), else
    /// [`EXECUTOR_API_PATH`].
    pub api_path: String,
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: ExecutorId,
    /// `MESOS_SANDBOX` (else `MESOS_DIRECTORY`).
    pub sandbox: Option<PathBuf>,
    /// `MESOS_CHECKPOINT=1`: a broken connection is an agent restart to wait for.
    pub checkpoint: bool,
    /// `MESOS_RECOVERY_TIMEOUT` (default 15 mins): how long to wait for a restarted agent.
    pub recovery_timeout: Duration,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX` (default 2 s): the longest wait between
    /// re-subscription attempts.
    pub subscription_backoff_max: Duration,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (default 5 s).
    pub shutdown_grace_period: Duration,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`: the bearer token for the executor API.
    pub authentication_token: Option<String>,
}

impl ExecutorEnvironment {
    /// Reads the process environment.
    pub fn from_process() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the environment through `get`; an error names the variable.
    ///
    /// ```
    /// use meso_frameworks::executor::ExecutorEnvironment;
    ///
    /// let env = ExecutorEnvironment::from_lookup(|name| match name {
    ///     "MESOS_AGENT_ENDPOINT" => Some("127.0.0.1:5051".into()),
    ///     "MESOS_FRAMEWORK_ID" => Some("fw-1".into()),
    ///     "MESOS_EXECUTOR_ID" => Some("ex-1".into()),
    ///     "MESOS_SLAVE_PID" => Some("slave(1)@127.0.0.1:5051".into()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(env.api_path, "/slave(1)/api/v1/executor");
    /// assert!(!env.checkpoint);
    /// let err = ExecutorEnvironment::from_lookup(|_| None).unwrap_err();
    /// assert_eq!(err.name, "MESOS_AGENT_ENDPOINT");
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let need = |name: &'static str| {
            get(name).filter(|v| !v.is_empty()).ok_or(EnvError {
                name,
                reason: "not set".into(),
            })
        };
        let duration = |name: &'static str, default: Duration| match get(name) {
            Some(text) => parse_duration(&text).map_err(|reason| EnvError { name, reason }),
            None => Ok(default),
        };
        let endpoint = need("MESOS_AGENT_ENDPOINT")?;
        let agent = endpoint.parse().map_err(|_| EnvError {
            name: "MESOS_AGENT_ENDPOINT",
            reason: format!("'{endpoint}' is not an ip:port"),
        })?;
        let framework_id = FrameworkId::new(need("MESOS_FRAMEWORK_ID")?);
        framework_id.validate().map_err(|e| EnvError {
            name: "MESOS_FRAMEWORK_ID",
            reason: e.to_string(),
        })?;
        let executor_id = ExecutorId::new(need("MESOS_EXECUTOR_ID")?);
        executor_id.validate().map_err(|e| EnvError {
            name: "MESOS_EXECUTOR_ID",
            reason: e.to_string(),
        })?;
        let api_path = get("MESOS_SLAVE_PID")
            .and_then(|pid| {
                let (id, _) = pid.split_once('@')?;
                let usable = !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_graphic() && !"/?#%".contains(c));
                usable.then(|| format!("/{id}{EXECUTOR_API_PATH}"))
            })
            .unwrap_or_else(|| EXECUTOR_API_PATH.to_string());
        Ok(ExecutorEnvironment {
            agent,
            api_path,
            framework_id,
            executor_id,
            sandbox: get("MESOS_SANDBOX")
                .or_else(|| get("MESOS_DIRECTORY"))
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            checkpoint: get("MESOS_CHECKPOINT").as_deref() == Some("1"),
            recovery_timeout: duration("MESOS_RECOVERY_TIMEOUT", Duration::from_secs(15 * 60))?,
            subscription_backoff_max: duration(
                "MESOS_SUBSCRIPTION_BACKOFF_MAX",
                Duration::from_secs(2),
            )?,
            shutdown_grace_period: duration(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                Duration::from_secs(5),
            )?,
            authentication_token: get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN")
                .filter(|v| !v.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<ExecutorEnvironment, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ExecutorEnvironment::from_lookup(|k| map.get(k).cloned())
    }

    const BASE: [(&str, &str); 3] = [
        ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_EXECUTOR_ID", "ex"),
    ];

    #[test]
    fn checkpointing_and_durations_are_read() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("MESOS_CHECKPOINT", "1"),
            ("MESOS_RECOVERY_TIMEOUT", "3secs"),
            ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "500ms"),
            ("MESOS_SANDBOX", "/sb"),
        ]);
        let e = env(&pairs).unwrap();
        assert!(e.checkpoint);
        assert_eq!(e.recovery_timeout, Duration::from_secs(3));
        assert_eq!(e.subscription_backoff_max, Duration::from_millis(500));
        assert_eq!(e.sandbox, Some(PathBuf::from("/sb")));
        assert_eq!(e.api_path, EXECUTOR_API_PATH);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let mut pairs = BASE.to_vec();
        pairs[0] = ("MESOS_AGENT_ENDPOINT", "localhost");
        assert_eq!(env(&pairs).unwrap_err().name, "MESOS_AGENT_ENDPOINT");
        let mut pairs = BASE.to_vec();
        pairs.push(("MESOS_RECOVERY_TIMEOUT", "soon"));
        assert_eq!(env(&pairs).unwrap_err().name, "MESOS_RECOVERY_TIMEOUT");
        let mut pairs = BASE.to_vec();
        pairs[2] = ("MESOS_EXECUTOR_ID", "a/b");
        assert_eq!(env(&pairs).unwrap_err().name, "MESOS_EXECUTOR_ID");
        let mut pairs = BASE.to_vec();
        pairs.push(("MESOS_SLAVE_PID", "sl/ave@1.2.3.4:5"));
        assert_eq!(env(&pairs).unwrap().api_path, EXECUTOR_API_PATH);
    }
}
