//! Marathon's readiness checks (`readinessChecks` on an app): an HTTP endpoint of the task
//! that the framework itself asks, once the task runs, until it answers with one of
//! `httpStatusCodesForReady`. A new instance counts toward its deployment (and toward the
//! healthy share of a rolling restart) only once it is ready as well as healthy; a ready
//! task is not asked again.
//!
//! Pure: the check's definition with Marathon's defaults and rules, which address a task is
//! asked at, and what an answer means. The asking is the shell's (`framework.rs`, over the
//! node's HTTP client); when to ask is `Services`' (`state/readiness.rs`).
//!
//! meso asks over plain HTTP only: an `HTTPS` check is refused (422) rather than run as
//! something it is not.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::app::{AppDefinition, Violation};

/// One readiness check with its defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessCheck {
    /// Its name (`readinessCheck`).
    pub name: String,
    /// `HTTP`.
    pub protocol: String,
    /// The request path (`/`).
    pub path: String,
    /// The `portDefinitions` entry named so gives the port (`http-api`).
    pub port_name: String,
    /// Time between two asks of a task not ready yet, seconds (30).
    pub interval_seconds: u64,
    /// How long an answer may take, seconds (10).
    pub timeout_seconds: u64,
    /// The statuses that mean ready (`[200]`).
    pub http_status_codes_for_ready: Vec<u16>,
    /// Keep the last answer's body in the results (`false`: status only).
    pub preserve_last_response: bool,
}

/// An answer to one ask, as `readinessCheckResults[].lastResponse` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// Its `Content-Type`.
    pub content_type: String,
    /// The body (empty unless `preserveLastResponse`).
    pub body: String,
}

/// What a task's last ask found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessResult {
    /// The check's name.
    pub name: String,
    /// Ready (stays so once it was).
    pub ready: bool,
    /// The last answer (`None`: no answer yet, or the ask failed).
    pub last_response: Option<HttpAnswer>,
}

/// One ask to make: `GET http://{host}:{port}{path}` within `timeout_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The task asked about.
    pub task_id: String,
    /// The agent's address (IP when known, else its hostname).
    pub host: String,
    /// The task's host port.
    pub port: u16,
    /// The path.
    pub path: String,
    /// How long the answer may take, ms.
    pub timeout_ms: u64,
    /// Keep the body.
    pub keep_body: bool,
}

/// Largest body kept from an answer, bytes.
pub const BODY_LIMIT: usize = 4096;

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

/// Reads `value` (the `i`th of `readinessChecks`) with Marathon's defaults; every wrong
/// field is named.
pub fn read(i: usize, value: &Value) -> Result<ReadinessCheck, Vec<Violation>> {
    let path = format!("/readinessChecks({i})");
    let Some(obj) = value.as_object() else {
        return Err(vec![Violation::new(path, "error.expected.jsobject")]);
    };
    let mut bad = Vec::new();
    let text = |name: &str, default: &str, bad: &mut Vec<Violation>| match field(obj, name) {
        None => default.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            bad.push(Violation::new(
                format!("{path}/{name}"),
                "error.expected.jsstring",
            ));
            default.to_string()
        }
    };
    let seconds = |name: &str, default: u64, bad: &mut Vec<Violation>| match field(obj, name) {
        None => default,
        Some(v) => v.as_u64().unwrap_or_else(|| {
            bad.push(Violation::new(
                format!("{path}/{name}"),
                "error.expected.jsnumber (a whole number of seconds, 0 or more)",
            ));
            default
        }),
    };
    let check = ReadinessCheck {
        name: text("name", "readinessCheck", &mut bad),
        protocol: text("protocol", "HTTP", &mut bad),
        path: text("path", "/", &mut bad),
        port_name: text("portName", "http-api", &mut bad),
        interval_seconds: seconds("intervalSeconds", 30, &mut bad),
        timeout_seconds: seconds("timeoutSeconds", 10, &mut bad),
        http_status_codes_for_ready: match field(obj, "httpStatusCodesForReady") {
            None => vec![200],
            Some(Value::Array(codes)) => codes
                .iter()
                .enumerate()
                .filter_map(|(k, c)| {
                    let code = c.as_u64().filter(|c| (100..=599).contains(c));
                    if code.is_none() {
                        bad.push(Violation::new(
                            format!("{path}/httpStatusCodesForReady({k})"),
                            "an HTTP status code (100 to 599)",
                        ));
                    }
                    code.map(|c| c as u16)
                })
                .collect(),
            Some(_) => {
                bad.push(Violation::new(
                    format!("{path}/httpStatusCodesForReady"),
                    "error.expected.jsarray",
                ));
                Vec::new()
            }
        },
        preserve_last_response: match field(obj, "preserveLastResponse") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                bad.push(Violation::new(
                    format!("{path}/preserveLastResponse"),
                    "error.expected.jsboolean",
                ));
                false
            }
        },
    };
    if bad.is_empty() {
        Ok(check)
    } else {
        Err(bad)
    }
}

/// The checks of `app` (each read as [`read`] does; a check that does not read is
/// skipped: validation has refused such an app already).
pub fn checks_of(app: &AppDefinition) -> Vec<ReadinessCheck> {
    app.readiness_checks
        .iter()
        .enumerate()
        .filter_map(|(i, v)| read(i, v).ok())
        .collect()
}

/// Every broken rule of `app`'s readiness checks (Marathon's: at most one check; name,
/// path and port name not empty; the port name one of `portDefinitions`' names; a timeout
/// above 0 and below the interval; at least one status code).
pub fn violations(app: &AppDefinition) -> Vec<Violation> {
    let mut out = Vec::new();
    if app.readiness_checks.len() > 1 {
        out.push(Violation::new(
            "/readinessChecks",
            "only one readiness check per app is supported",
        ));
    }
    for (i, value) in app.readiness_checks.iter().enumerate() {
        let path = format!("/readinessChecks({i})");
        let check = match read(i, value) {
            Ok(c) => c,
            Err(v) => {
                out.extend(v);
                continue;
            }
        };
        let mut bad =
            |name: &str, why: String| out.push(Violation::new(format!("{path}/{name}"), why));
        if check.name.is_empty() {
            bad("name", "must not be empty".into());
        }
        if check.path.is_empty() {
            bad("path", "must not be empty".into());
        }
        match check.protocol.as_str() {
            "HTTP" => {}
            "HTTPS" => bad(
                "protocol",
                "HTTPS readiness checks are not supported by meso; use HTTP".into(),
            ),
            other => bad("protocol", format!("got {other}, expected HTTP or HTTPS")),
        }
        let names: Vec<&str> = app
            .port_definitions
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        if check.port_name.is_empty() {
            bad("portName", "must not be empty".into());
        } else if !names.contains(&check.port_name.as_str()) {
            bad(
                "portName",
                format!(
                    "got {}, expected one of the port definitions' names: {}",
                    check.port_name,
                    names.join(", ")
                ),
            );
        }
        if check.timeout_seconds == 0 {
            bad("timeoutSeconds", "must be greater than 0".into());
        }
        if check.timeout_seconds >= check.interval_seconds {
            bad(
                "timeoutSeconds",
                format!(
                    "got {}, expected less than intervalSeconds ({})",
                    check.timeout_seconds, check.interval_seconds
                ),
            );
        }
        if check.http_status_codes_for_ready.is_empty() {
            bad(
                "httpStatusCodesForReady",
                "must name at least one status code".into(),
            );
        }
    }
    out
}

/// The check as the app echoes it (defaults filled in).
pub fn echo(check: &ReadinessCheck) -> Value {
    json!(check)
}

/// The host port `check` asks at, of a task holding `ports` (one per port definition).
pub fn port_of(app: &AppDefinition, check: &ReadinessCheck, ports: &[u64]) -> Option<u16> {
    let index = app
        .port_definitions
        .iter()
        .position(|p| p.name.as_deref() == Some(check.port_name.as_str()))?;
    ports.get(index).and_then(|p| u16::try_from(*p).ok())
}

/// Whether an answer with `status` means ready.
pub fn is_ready(check: &ReadinessCheck, status: u16) -> bool {
    check.http_status_codes_for_ready.contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{definition_from, parse_object};

    fn app(body: &str) -> Result<AppDefinition, crate::app::AppError> {
        definition_from(parse_object(body.as_bytes())?)
    }

    fn paths(body: &str) -> Vec<String> {
        match app(body) {
            Err(crate::app::AppError::Invalid(v)) => v.into_iter().map(|v| v.path).collect(),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_marathons_and_the_port_comes_from_its_name() {
        let a = app(
            r#"{"id":"/r","cmd":"x","portDefinitions":[{"name":"admin"},{"name":"http-api"}],
            "readinessChecks":[{}]}"#,
        )
        .expect("valid");
        let c = &checks_of(&a)[0];
        assert_eq!(
            (c.name.as_str(), c.protocol.as_str(), c.path.as_str()),
            ("readinessCheck", "HTTP", "/")
        );
        assert_eq!((c.interval_seconds, c.timeout_seconds), (30, 10));
        assert_eq!(c.http_status_codes_for_ready, [200]);
        assert_eq!(port_of(&a, c, &[31000, 31001]), Some(31001));
        assert!(is_ready(c, 200) && !is_ready(c, 503));
        let echoed = &a.to_json()["readinessChecks"][0];
        assert_eq!(echoed["portName"], "http-api");
        assert_eq!(echoed["httpStatusCodesForReady"], json!([200]));
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        assert_eq!(
            paths(r#"{"id":"/r","cmd":"x","readinessChecks":[{"portName":"web"}]}"#),
            ["/readinessChecks(0)/portName"]
        );
        assert_eq!(
            paths(
                r#"{"id":"/r","cmd":"x","portDefinitions":[{"name":"http-api"}],
                "readinessChecks":[{"timeoutSeconds":30,"intervalSeconds":30}]}"#
            ),
            ["/readinessChecks(0)/timeoutSeconds"]
        );
        assert_eq!(
            paths(
                r#"{"id":"/r","cmd":"x","portDefinitions":[{"name":"http-api"}],
                "readinessChecks":[{"httpStatusCodesForReady":[]},{"protocol":"HTTPS"}]}"#
            ),
            [
                "/readinessChecks",
                "/readinessChecks(0)/httpStatusCodesForReady",
                "/readinessChecks(1)/protocol"
            ]
        );
        assert_eq!(
            paths(
                r#"{"id":"/r","cmd":"x","portDefinitions":[{"name":"http-api"}],
                "readinessChecks":[{"intervalSeconds":"often"}]}"#
            ),
            ["/readinessChecks(0)/intervalSeconds"]
        );
    }
}
