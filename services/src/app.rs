//! The app definition (Marathon's app JSON) as meso stores it: every field with its
//! default filled in, parsed from a request body with each wrong field named.
//!
//! Parsing is two passes: the JSON is read as a value and every known field's type is
//! checked (a wrong type is a violation at that field's path, `error.expected.jsnumber` as
//! Marathon's), then the typed definition is read and its rules checked
//! (`validation.rs`). Unknown fields are ignored, as Marathon does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::AppId;

/// One field's problems, as an entry of Marathon's 422 `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON-pointer-like path, list indices in parentheses (`/constraints(0)`).
    pub path: String,
    /// What is wrong.
    pub errors: Vec<String>,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, error: impl Into<String>) -> Violation {
        Violation {
            path: path.into(),
            errors: vec![error.into()],
        }
    }
}

/// Why a body is not an app definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// Not JSON at all (400 `Invalid JSON`).
    Json(String),
    /// Well-formed JSON with a field of the wrong type (422 `Invalid JSON`).
    Types(Vec<Violation>),
    /// A typed definition that breaks a rule (422 `Object is not valid`).
    Invalid(Vec<Violation>),
}

/// `upgradeStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStrategy {
    /// Share of instances that must stay healthy during a rollout.
    #[serde(default = "one")]
    pub minimum_health_capacity: f64,
    /// Share of extra instances a rollout may start.
    #[serde(default = "one")]
    pub maximum_over_capacity: f64,
}

impl Default for UpgradeStrategy {
    fn default() -> Self {
        UpgradeStrategy {
            minimum_health_capacity: 1.0,
            maximum_over_capacity: 1.0,
        }
    }
}

/// One `portDefinitions` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortDefinition {
    /// The service port (0: assigned).
    #[serde(default)]
    pub port: u64,
    /// `tcp`, `udp` or `udp,tcp`.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Which instances a scale-down kills first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KillSelection {
    /// The most recently started first.
    #[default]
    YoungestFirst,
    /// The longest running first.
    OldestFirst,
}

/// An app definition with defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppDefinition {
    /// The app's path.
    pub id: AppId,
    /// Shell command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// Exec form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// CPUs per instance.
    #[serde(default = "default_cpus")]
    pub cpus: f64,
    /// Memory (MB) per instance.
    #[serde(default = "default_mem")]
    pub mem: f64,
    /// Disk (MB) per instance.
    #[serde(default)]
    pub disk: f64,
    /// GPUs per instance.
    #[serde(default)]
    pub gpus: u64,
    /// How many instances.
    #[serde(default = "default_instances")]
    pub instances: u64,
    /// `[field, OPERATOR(, value)]` lists.
    #[serde(default)]
    pub constraints: Vec<Vec<String>>,
    /// Environment (values are strings, or `{"secret": ...}` kept as given).
    #[serde(default)]
    pub env: BTreeMap<String, Value>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Health checks as given (defaults filled in by `health.rs` when launching).
    #[serde(default)]
    pub health_checks: Vec<Value>,
    /// Rolling restart bounds.
    #[serde(default)]
    pub upgrade_strategy: UpgradeStrategy,
    /// First relaunch delay after a failure.
    #[serde(default = "default_backoff_seconds")]
    pub backoff_seconds: f64,
    /// Delay multiplier per further failure.
    #[serde(default = "default_backoff_factor")]
    pub backoff_factor: f64,
    /// Delay cap.
    #[serde(default = "default_max_launch_delay")]
    pub max_launch_delay_seconds: f64,
    /// Scale-down order.
    #[serde(default)]
    pub kill_selection: KillSelection,
    /// Container (kept as given; `docker.image` becomes a rootfs image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Value>,
    /// Host ports per instance.
    #[serde(default = "default_port_definitions")]
    pub port_definitions: Vec<PortDefinition>,
    /// Use `portDefinitions[].port` as the host port.
    #[serde(default)]
    pub require_ports: bool,
    /// URIs to fetch.
    #[serde(default)]
    pub fetch: Vec<Value>,
    /// OS user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Executor (`""` = command executor).
    #[serde(default)]
    pub executor: String,
    /// Apps this one depends on.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// SIGTERM to SIGKILL delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_kill_grace_period_seconds: Option<f64>,
    /// Unreachable handling (kept as given).
    #[serde(default = "default_unreachable")]
    pub unreachable_strategy: Value,
    /// The app's Mesos role (default: the framework's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Offer roles considered.
    #[serde(default)]
    pub accepted_resource_roles: Vec<String>,
    /// Networks.
    #[serde(default = "default_networks")]
    pub networks: Vec<Value>,
    /// meso extension: run on revocable (oversubscribed) cpus and mem.
    #[serde(default)]
    pub revocable: bool,
}

fn one() -> f64 {
    1.0
}
fn tcp() -> String {
    "tcp".to_string()
}
fn default_cpus() -> f64 {
    1.0
}
fn default_mem() -> f64 {
    128.0
}
fn default_instances() -> u64 {
    1
}
fn default_backoff_seconds() -> f64 {
    1.0
}
fn default_backoff_factor() -> f64 {
    1.15
}
fn default_max_launch_delay() -> f64 {
    300.0
}
fn default_port_definitions() -> Vec<PortDefinition> {
    vec![PortDefinition {
        port: 0,
        protocol: tcp(),
        name: Some("default".to_string()),
        labels: BTreeMap::new(),
    }]
}
fn default_unreachable() -> Value {
    serde_json::json!({"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0})
}
fn default_networks() -> Vec<Value> {
    vec![serde_json::json!({"mode": "host"})]
}

/// The JSON type each known field must have.
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Integer,
    Text,
    Bool,
    Object,
    TextList,
    List,
    TextMap,
}

const FIELDS: &[(&str, Kind)] = &[
    ("id", Kind::Text),
    ("cmd", Kind::Text),
    ("args", Kind::TextList),
    ("cpus", Kind::Number),
    ("mem", Kind::Number),
    ("disk", Kind::Number),
    ("gpus", Kind::Integer),
    ("instances", Kind::Integer),
    ("constraints", Kind::List),
    ("env", Kind::Object),
    ("labels", Kind::TextMap),
    ("healthChecks", Kind::List),
    ("upgradeStrategy", Kind::Object),
    ("backoffSeconds", Kind::Integer),
    ("backoffFactor", Kind::Number),
    ("maxLaunchDelaySeconds", Kind::Integer),
    ("killSelection", Kind::Text),
    ("container", Kind::Object),
    ("portDefinitions", Kind::List),
    ("ports", Kind::List),
    ("requirePorts", Kind::Bool),
    ("fetch", Kind::List),
    ("uris", Kind::TextList),
    ("user", Kind::Text),
    ("executor", Kind::Text),
    ("dependencies", Kind::TextList),
    ("taskKillGracePeriodSeconds", Kind::Integer),
    ("role", Kind::Text),
    ("acceptedResourceRoles", Kind::TextList),
    ("networks", Kind::List),
    ("revocable", Kind::Bool),
];

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Number => "error.expected.jsnumber",
        Kind::Integer => "error.expected.jsnumber (an integer)",
        Kind::Text => "error.expected.jsstring",
        Kind::Bool => "error.expected.jsboolean",
        Kind::Object | Kind::TextMap => "error.expected.jsobject",
        Kind::TextList | Kind::List => "error.expected.jsarray",
    }
}

fn type_violations(body: &Map<String, Value>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (name, kind) in FIELDS {
        let Some(v) = body.get(*name) else { continue };
        if v.is_null() {
            continue;
        }
        let path = format!("/{name}");
        let ok = match kind {
            Kind::Number => v.is_number(),
            Kind::Integer => v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
            Kind::Text => v.is_string(),
            Kind::Bool => v.is_boolean(),
            Kind::Object => v.is_object(),
            Kind::List => v.is_array(),
            Kind::TextList => {
                if let Some(items) = v.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        if !item.is_string() {
                            out.push(Violation::new(
                                format!("{path}({i})"),
                                "error.expected.jsstring",
                            ));
                        }
                    }
                    true
                } else {
                    false
                }
            }
            Kind::TextMap => {
                if let Some(map) = v.as_object() {
                    for (k, item) in map {
                        if !item.is_string() {
                            out.push(Violation::new(
                                format!("{path}/{k}"),
                                "error.expected.jsstring",
                            ));
                        }
                    }
                    true
                } else {
                    false
                }
            }
        };
        if !ok {
            out.push(Violation::new(path, expected(*kind)));
        }
    }
    if let Some(cs) = body.get("constraints").and_then(Value::as_array) {
        for (i, c) in cs.iter().enumerate() {
            let strings = c
                .as_array()
                .is_some_and(|parts| parts.iter().all(Value::is_string));
            if !strings {
                out.push(Violation::new(
                    format!("/constraints({i})"),
                    "Each constraint must be an array of strings",
                ));
            }
        }
    }
    if let Some(n) = body.get("instances").and_then(Value::as_i64) {
        if n < 0 {
            out.push(Violation::new(
                "/instances",
                "must be greater than or equal to 0",
            ));
        }
    }
    out
}

/// Reads the request body as a JSON object.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, AppError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| AppError::Json(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(AppError::Types(vec![Violation::new(
            "/",
            "error.expected.jsobject",
        )])),
    }
}

/// The app a JSON object defines (`id` already set in it), with defaults filled in and
/// every rule checked. The deprecated `ports` and `uris` are turned into
/// `portDefinitions` and `fetch`.
pub fn definition_from(mut body: Map<String, Value>) -> Result<AppDefinition, AppError> {
    let types = type_violations(&body);
    if !types.is_empty() {
        return Err(AppError::Types(types));
    }
    body.retain(|_, v| !v.is_null());
    let mut violations = Vec::new();
    if let Some(ports) = body.remove("ports") {
        if body.contains_key("portDefinitions") {
            violations.push(Violation::new(
                "/",
                "You cannot specify both ports and port definitions",
            ));
        }
        let defs: Vec<Value> = ports
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| serde_json::json!({"port": p, "protocol": "tcp"}))
            .collect();
        body.insert("portDefinitions".into(), Value::Array(defs));
    }
    if let Some(uris) = body.remove("uris") {
        if body.contains_key("fetch") {
            violations.push(Violation::new(
                "/",
                "You cannot specify both uris and fetch fields",
            ));
        }
        let fetch: Vec<Value> = uris
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|u| {
                let extract = [".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"]
                    .iter()
                    .any(|s| u.ends_with(s));
                serde_json::json!({"uri": u, "extract": extract, "executable": false, "cache": false})
            })
            .collect();
        body.insert("fetch".into(), Value::Array(fetch));
    }
    match body.get("id").and_then(Value::as_str).map(AppId::parse) {
        None => violations.push(Violation::new("/id", "error.path.missing")),
        Some(Err(e)) => violations.push(Violation::new("/id", e)),
        Some(Ok(id)) => {
            body.insert("id".into(), Value::String(id.as_str().to_string()));
        }
    }
    if !violations.is_empty() {
        return Err(AppError::Invalid(violations));
    }
    let app: AppDefinition = serde_json::from_value(Value::Object(body))
        .map_err(|e| AppError::Types(vec![Violation::new("/", e.to_string())]))?;
    let violations = crate::validation::validate(&app);
    if violations.is_empty() {
        Ok(app)
    } else {
        Err(AppError::Invalid(violations))
    }
}

impl AppDefinition {
    /// The definition as JSON (what `GET /v2/apps/{id}/versions/{v}` and AppInfo print).
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("an app definition serializes to an object"),
        }
    }

    /// Whether `other` differs from this one only in `instances` (a scale, not an
    /// upgrade).
    pub fn same_config(&self, other: &AppDefinition) -> bool {
        let mut a = self.clone();
        a.instances = other.instances;
        a == *other
    }

    /// The Mesos role the app's tasks run under.
    pub fn role_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.role.as_deref().unwrap_or(default)
    }

    /// Whether the app has health checks (then an instance counts once healthy).
    pub fn has_health_checks(&self) -> bool {
        !self.health_checks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<AppDefinition, AppError> {
        definition_from(parse_object(body.as_bytes())?)
    }

    #[test]
    fn defaults_are_filled_in_and_deprecated_fields_converted() {
        let app = parse(
            r#"{"id": "web", "cmd": "sleep 100", "ports": [0, 0], "uris": ["http://x/a.tgz"]}"#,
        )
        .unwrap();
        assert_eq!(app.id.as_str(), "/web");
        assert_eq!((app.cpus, app.mem, app.instances), (1.0, 128.0, 1));
        assert_eq!(app.port_definitions.len(), 2);
        assert_eq!(app.fetch[0]["extract"], true);
        let json = app.to_json();
        assert!(!json.contains_key("ports") && !json.contains_key("uris"));
        assert_eq!(
            parse(r#"{"id":"/a","cmd":"x"}"#)
                .unwrap()
                .port_definitions
                .len(),
            1
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let Err(AppError::Types(v)) = parse(r#"{"id": "/a", "cmd": "x", "cpus": "lots"}"#) else {
            panic!("wrong type accepted")
        };
        assert_eq!(v, [Violation::new("/cpus", "error.expected.jsnumber")]);
        assert!(matches!(parse("{nope"), Err(AppError::Json(_))));
        let Err(AppError::Invalid(v)) = parse(r#"{"cmd": "x"}"#) else {
            panic!("missing id accepted")
        };
        assert_eq!(v[0].path, "/id");
    }
}
