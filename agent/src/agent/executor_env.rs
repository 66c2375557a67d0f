//! The environment the agent gives an executor process (HTTP reference §2.4, Mesos's
//! `executorEnvironment`), as a pure function of what the agent knows at launch.
//!
//! Order matters because later entries win when the containerizer builds the process
//! environment: the agent's `MESOS_*` variables first, then `ExecutorInfo.command.environment`
//! (so a framework may override anything, as in Mesos). Nothing of the agent's own
//! environment is passed through except `LIBPROCESS_IP`, as Mesos does.

use std::path::Path;
use std::time::Duration;

use meso_api::duration::format_duration;
use meso_api::v1::{AgentId, ExecutorInfo, FrameworkId};

/// Mesos's default `--recovery_timeout`, given to checkpointing executors.
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Mesos's default `--executor_reregistration_timeout`, the cap of an executor's
/// re-subscription backoff.
pub const DEFAULT_SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The variable carrying an executor's token for the executor API (Mesos's name).
pub const AUTHENTICATION_TOKEN_ENV: &str = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN";

/// What the executor environment is made of.
#[derive(Debug, Clone)]
pub struct ExecutorEnvironment<'a> {
    /// The executor's framework.
    pub framework_id: &'a FrameworkId,
    /// The executor.
    pub info: &'a ExecutorInfo,
    /// This agent's id.
    pub agent_id: &'a AgentId,
    /// This agent's process (`slave(1)@ip:port`), as text.
    pub agent_pid: &'a str,
    /// `ip:port` of the agent's HTTP endpoint.
    pub agent_endpoint: &'a str,
    /// The sandbox on the host.
    pub directory: &'a Path,
    /// The framework checkpoints.
    pub checkpoint: bool,
    /// How long a checkpointing executor waits for a restarted agent (`--recovery-timeout`).
    pub recovery_timeout: Duration,
    /// Time the executor has to exit after SHUTDOWN.
    pub shutdown_grace_period: Duration,
    /// `LIBPROCESS_IP` of the agent's own environment, if set.
    pub libprocess_ip: Option<&'a str>,
    /// The executor's token for the agent's executor API (an HS256 JWT of its `fid`, `eid`
    /// and `cid`), when the agent has a `--jwt-secret-file`; given as Mesos's
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`.
    pub authentication_token: Option<&'a str>,
}

impl ExecutorEnvironment<'_> {
    /// The variables, in the order they are applied (a later one wins).
    pub fn variables(&self) -> Vec<(String, String)> {
        let dir = self.directory.display().to_string();
        let flag = |b: bool| if b { "1" } else { "0" }.to_string();
        let mut env: Vec<(String, String)> = vec![
            ("MESOS_FRAMEWORK_ID".into(), self.framework_id.to_string()),
            (
                "MESOS_EXECUTOR_ID".into(),
                self.info.executor_id.to_string(),
            ),
            ("MESOS_AGENT_ENDPOINT".into(), self.agent_endpoint.into()),
            ("MESOS_DIRECTORY".into(), dir.clone()),
            ("MESOS_SANDBOX".into(), dir),
            ("MESOS_SLAVE_ID".into(), self.agent_id.to_string()),
            ("MESOS_AGENT_ID".into(), self.agent_id.to_string()),
            ("MESOS_SLAVE_PID".into(), self.agent_pid.into()),
            ("MESOS_CHECKPOINT".into(), flag(self.checkpoint)),
            ("MESOS_HTTP_COMMAND_EXECUTOR".into(), "1".into()),
            (
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(),
                format_duration(self.shutdown_grace_period),
            ),
            ("LIBPROCESS_PORT".into(), "0".into()),
        ];
        if let Some(ip) = self.libprocess_ip {
            env.push(("LIBPROCESS_IP".into(), ip.into()));
        }
        if let Some(token) = self.authentication_token {
            env.push((AUTHENTICATION_TOKEN_ENV.into(), token.into()));
        }
        if self.checkpoint {
            env.push((
                "MESOS_RECOVERY_TIMEOUT".into(),
                format_duration(self.recovery_timeout),
            ));
            env.push((
                "MESOS_SUBSCRIPTION_BACKOFF_MAX".into(),
                format_duration(DEFAULT_SUBSCRIPTION_BACKOFF_MAX),
            ));
        }
        if let Some(vars) = self
            .info
            .command
            .as_ref()
            .and_then(|c| c.environment.as_ref())
        {
            for v in &vars.variables {
                env.push((v.name.clone(), v.value.clone().unwrap_or_default()));
            }
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::task::{Environment, EnvironmentVariable, EnvironmentVariableType};
    use meso_api::v1::{CommandInfo, ExecutorId};

    fn info() -> ExecutorInfo {
        let mut command = CommandInfo::shell("./run");
        command.environment = Some(Environment {
            variables: vec![
                EnvironmentVariable {
                    name: "APP".into(),
                    kind: EnvironmentVariableType::Value,
                    value: Some("x".into()),
                },
                EnvironmentVariable {
                    name: "MESOS_SANDBOX".into(),
                    kind: EnvironmentVariableType::Value,
                    value: Some("/override".into()),
                },
            ],
        });
        ExecutorInfo {
            kind: None,
            executor_id: ExecutorId::new("ex1"),
            framework_id: None,
            command: Some(command),
            container: None,
            resources: Default::default(),
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        }
    }

    /// The variables of executor `ex1` (of `info()`) of framework M-0001 on agent M-S3, run
    /// in `/w/run`, with the given checkpointing, grace period and `LIBPROCESS_IP`.
    fn variables(
        checkpoint: bool,
        shutdown_grace_period: Duration,
        libprocess_ip: Option<&str>,
    ) -> Vec<(String, String)> {
        let info = info();
        let fw = FrameworkId::new("M-0001");
        let agent = AgentId::new("M-S3");
        ExecutorEnvironment {
            framework_id: &fw,
            info: &info,
            agent_id: &agent,
            agent_pid: "slave(1)@127.0.0.1:5051",
            agent_endpoint: "127.0.0.1:5051",
            directory: Path::new("/w/run"),
            checkpoint,
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
            shutdown_grace_period,
            libprocess_ip,
            authentication_token: None,
        }
        .variables()
    }

    fn resolve(env: &[(String, String)], name: &str) -> Option<String> {
        env.iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn has_mesos_variables_and_the_command_environment_wins() {
        let env = variables(false, Duration::from_secs(5), None);
        let get = |n: &str| resolve(&env, n);
        assert_eq!(get("MESOS_FRAMEWORK_ID").as_deref(), Some("M-0001"));
        assert_eq!(get("MESOS_EXECUTOR_ID").as_deref(), Some("ex1"));
        assert_eq!(
            get("MESOS_AGENT_ENDPOINT").as_deref(),
            Some("127.0.0.1:5051")
        );
        assert_eq!(get("MESOS_DIRECTORY").as_deref(), Some("/w/run"));
        assert_eq!(get("MESOS_SANDBOX").as_deref(), Some("/override"));
        assert_eq!(get("MESOS_SLAVE_ID").as_deref(), Some("M-S3"));
        assert_eq!(get("MESOS_CHECKPOINT").as_deref(), Some("0"));
        assert_eq!(
            get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD").as_deref(),
            Some("5secs")
        );
        assert_eq!(get("APP").as_deref(), Some("x"));
        assert_eq!(get("MESOS_RECOVERY_TIMEOUT"), None);
        assert_eq!(get("LIBPROCESS_IP"), None);
    }

    #[test]
    fn checkpointing_adds_the_recovery_variables() {
        let env = variables(true, Duration::from_millis(1500), Some("10.0.0.1"));
        let get = |n: &str| resolve(&env, n);
        assert_eq!(get("MESOS_CHECKPOINT").as_deref(), Some("1"));
        assert_eq!(get("MESOS_RECOVERY_TIMEOUT").as_deref(), Some("900secs"));
        assert_eq!(
            get("MESOS_SUBSCRIPTION_BACKOFF_MAX").as_deref(),
            Some("2secs")
        );
        assert_eq!(get("LIBPROCESS_IP").as_deref(), Some("10.0.0.1"));
        assert_eq!(
            get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD").as_deref(),
            Some("1500ms")
        );
    }
}
