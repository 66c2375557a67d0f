//! The results of general checks (`CheckStatusInfo`, in `TaskStatus.check_status`) and
//! the validation of both kinds of task check ([`validate_health_check`],
//! [`validate_check`]) with Mesos's messages, so the master refuses a bad check with
//! TASK_ERROR before any executor sees it.
//!
//! A general check ([`super::CheckInfo`], Mesos 1.2+) only reports; a health check
//! ([`super::HealthCheck`]) decides `healthy` and may get the task killed.

use serde::{Deserialize, Serialize};

use super::task::{CheckInfo, CheckType, CommandInfo, HealthCheck, HealthCheckType, TaskInfo};
use crate::json::{lenient_enum, opt_lenient};

/// Result of a COMMAND check: absent `exit_code` means the check could not run or timed out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckStatusCommand {
    /// The command's exit code.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub exit_code: Option<i32>,
}

/// Result of an HTTP check: absent `status_code` means no answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckStatusHttp {
    /// The response's status code.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_code: Option<u32>,
}

/// Result of a TCP check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckStatusTcp {
    /// Whether the connection was made.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub succeeded: Option<bool>,
}

/// The latest result of a task's general check (`TaskStatus.check_status`). Every update of
/// a task with a check carries one, empty (only `type` and an empty sub-message) until the
/// first result.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckStatusInfo {
    /// Kind, as the check's.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<CheckType>,
    /// For COMMAND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CheckStatusCommand>,
    /// For HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<CheckStatusHttp>,
    /// For TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<CheckStatusTcp>,
}

impl CheckStatusInfo {
    /// The empty result of a check of `kind`: what updates carry before the first result
    /// and after a check that could not run.
    pub fn empty(kind: CheckType) -> Self {
        CheckStatusInfo {
            kind: Some(kind),
            command: (kind == CheckType::Command).then(CheckStatusCommand::default),
            http: (kind == CheckType::Http).then(CheckStatusHttp::default),
            tcp: (kind == CheckType::Tcp).then(CheckStatusTcp::default),
        }
    }
}

fn check_command(command: &CommandInfo, what: &str) -> Result<(), String> {
    if command.value.as_deref().is_none_or(str::is_empty) {
        let kind = if command.shell {
            "'shell command'"
        } else {
            "'executable path'"
        };
        return Err(format!("{what} must contain {kind}"));
    }
    Ok(())
}

fn check_path(path: Option<&str>, what: &str) -> Result<(), String> {
    match path {
        Some(p) if !p.starts_with('/') => {
            Err(format!("The path '{p}' of HTTP {what} must start with '/'"))
        }
        _ => Ok(()),
    }
}

fn check_port(port: u32, what: &str) -> Result<(), String> {
    if port == 0 || port > u32::from(u16::MAX) {
        return Err(format!(
            "Expecting '{what}.port' to be in 1..65535, got {port}"
        ));
    }
    Ok(())
}

fn non_negative(pairs: &[(&str, f64)]) -> Result<(), String> {
    for (name, value) in pairs {
        // NaN is refused too: it is no duration.
        if value.is_nan() || *value < 0.0 {
            return Err(format!("Expecting '{name}' to be non-negative"));
        }
    }
    Ok(())
}

/// Mesos's checks of a health check: a type, exactly the part that type needs set (and no
/// other), a command with a value, an HTTP scheme of `http`/`https` and a path starting with
/// `/`, a real port, non-negative durations. The error is Mesos's message, naming the field.
pub fn validate_health_check(check: &HealthCheck) -> Result<(), String> {
    let set = [
        ("command", check.command.is_some()),
        ("http", check.http.is_some()),
        ("tcp", check.tcp.is_some()),
    ];
    let wanted = match check.kind {
        None => return Err("HealthCheck must specify 'type'".into()),
        Some(HealthCheckType::Unknown) => {
            return Err("'UNKNOWN' is not a valid health check type".into())
        }
        Some(HealthCheckType::Command) => "command",
        Some(HealthCheckType::Http) => "http",
        Some(HealthCheckType::Tcp) => "tcp",
    };
    for (name, present) in set {
        if name == wanted && !present {
            return Err(format!(
                "Expecting '{name}' to be set for {} health check",
                name.to_uppercase()
            ));
        }
        if name != wanted && present {
            return Err(format!(
                "Expecting only '{wanted}' to be set for {} health check, but '{name}' is set too",
                wanted.to_uppercase()
            ));
        }
    }
    if let Some(command) = &check.command {
        check_command(command, "Command health check")?;
    }
    if let Some(http) = &check.http {
        if let Some(scheme) = http.scheme.as_deref() {
            if scheme != "http" && scheme != "https" {
                return Err(format!("Unsupported HTTP health check scheme: '{scheme}'"));
            }
        }
        check_path(http.path.as_deref(), "health check")?;
        check_port(http.port, "http")?;
    }
    if let Some(tcp) = &check.tcp {
        check_port(tcp.port, "tcp")?;
    }
    non_negative(&[
        ("delay_seconds", check.delay_seconds),
        ("grace_period_seconds", check.grace_period_seconds),
        ("interval_seconds", check.interval_seconds),
        ("timeout_seconds", check.timeout_seconds),
    ])
}

/// Mesos's checks of a general check, as [`validate_health_check`] (no scheme, no grace
/// period).
pub fn validate_check(check: &CheckInfo) -> Result<(), String> {
    let set = [
        ("command", check.command.is_some()),
        ("http", check.http.is_some()),
        ("tcp", check.tcp.is_some()),
    ];
    let wanted = match check.kind {
        None => return Err("CheckInfo must specify 'type'".into()),
        Some(CheckType::Unknown) => return Err("'UNKNOWN' is not a valid check type".into()),
        Some(CheckType::Command) => "command",
        Some(CheckType::Http) => "http",
        Some(CheckType::Tcp) => "tcp",
    };
    for (name, present) in set {
        if name == wanted && !present {
            return Err(format!(
                "Expecting '{name}' to be set for {} check",
                name.to_uppercase()
            ));
        }
        if name != wanted && present {
            return Err(format!(
                "Expecting only '{wanted}' to be set for {} check, but '{name}' is set too",
                wanted.to_uppercase()
            ));
        }
    }
    if let Some(command) = &check.command {
        check_command(&command.command, "Command check")?;
    }
    if let Some(http) = &check.http {
        check_path(http.path.as_deref(), "check")?;
        check_port(http.port, "http")?;
    }
    if let Some(tcp) = &check.tcp {
        check_port(tcp.port, "tcp")?;
    }
    non_negative(&[
        ("delay_seconds", check.delay_seconds),
        ("interval_seconds", check.interval_seconds),
        ("timeout_seconds", check.timeout_seconds),
    ])
}

impl TaskInfo {
    /// The task's health check and general check, as [`validate_health_check`] and
    /// [`validate_check`]; the error names the task and the check (called by
    /// [`TaskInfo::validate`]).
    pub(crate) fn validate_checks(&self) -> crate::Result<()> {
        let fail = |reason: String| crate::Error::Invalid {
            what: format!("task '{}'", self.task_id),
            reason,
        };
        if let Some(check) = &self.health_check {
            validate_health_check(check)
                .map_err(|e| fail(format!("Task uses invalid health check: {e}")))?;
        }
        if let Some(check) = &self.check {
            validate_check(check).map_err(|e| fail(format!("Task uses invalid check: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn health(text: &str) -> HealthCheck {
        json::from_slice(text.as_bytes(), &json::Limits::default()).unwrap()
    }

    fn check(text: &str) -> CheckInfo {
        json::from_slice(text.as_bytes(), &json::Limits::default()).unwrap()
    }

    #[test]
    fn good_health_checks_pass() {
        for text in [
            r#"{"type":"COMMAND","command":{"value":"true"}}"#,
            r#"{"type":"HTTP","http":{"port":80,"path":"/health","scheme":"https"}}"#,
            r#"{"type":"TCP","tcp":{"port":22},"delay_seconds":0,"grace_period_seconds":0}"#,
        ] {
            assert_eq!(validate_health_check(&health(text)), Ok(()), "{text}");
        }
    }

    #[test]
    fn bad_health_checks_name_the_field() {
        for (text, needle) in [
            (r#"{"command":{"value":"true"}}"#, "must specify 'type'"),
            (r#"{"type":"HTTP","tcp":{"port":1}}"#, "'http' to be set"),
            (
                r#"{"type":"TCP","tcp":{"port":1},"http":{"port":1}}"#,
                "but 'http' is set too",
            ),
            (r#"{"type":"COMMAND","command":{}}"#, "'shell command'"),
            (
                r#"{"type":"HTTP","http":{"port":1,"scheme":"ftp"}}"#,
                "'ftp'",
            ),
            (r#"{"type":"HTTP","http":{"port":1,"path":"x"}}"#, "'x'"),
            (r#"{"type":"TCP","tcp":{"port":0}}"#, "'tcp.port'"),
            (
                r#"{"type":"TCP","tcp":{"port":1},"interval_seconds":-1}"#,
                "'interval_seconds' to be non-negative",
            ),
            (
                r#"{"type":"TCP","tcp":{"port":1},"grace_period_seconds":-0.5}"#,
                "'grace_period_seconds'",
            ),
        ] {
            let error = validate_health_check(&health(text)).unwrap_err();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn general_checks_are_validated_as_mesos() {
        let good = check(r#"{"type":"COMMAND","command":{"command":{"value":"true"}}}"#);
        assert_eq!(good.delay_seconds, 15.0);
        assert_eq!(validate_check(&good), Ok(()));
        for (text, needle) in [
            (r#"{"http":{"port":1}}"#, "must specify 'type'"),
            (r#"{"type":"TCP"}"#, "'tcp' to be set for TCP check"),
            (
                r#"{"type":"HTTP","http":{"port":1},"timeout_seconds":-2}"#,
                "'timeout_seconds'",
            ),
        ] {
            let error = validate_check(&check(text)).unwrap_err();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn empty_check_status_has_only_its_kind() {
        let empty = CheckStatusInfo::empty(CheckType::Http);
        assert_eq!(
            serde_json::to_string(&empty).unwrap(),
            r#"{"type":"HTTP","http":{}}"#
        );
    }
}
