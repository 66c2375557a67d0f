//! The app definition (Marathon's app JSON) as meso stores it: every field with its
//! default filled in, parsed from a request body with each wrong field named.
//!
//! Reading one from a request body is `parse.rs`; its rules are `validation.rs`.

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
    /// Readiness checks (`readiness.rs`), with their defaults filled in.
    #[serde(default)]
    pub readiness_checks: Vec<Value>,
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

    /// Whether the app has readiness checks (then an instance counts once ready too).
    pub fn has_readiness_checks(&self) -> bool {
        !self.readiness_checks.is_empty()
    }
}
