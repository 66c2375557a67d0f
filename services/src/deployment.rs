//! [`Deployment`]: a change being rolled out (its steps of `(action, app)` and the
//! definitions it replaced, for a rollback), and its plan as events carry it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppDefinition;
use crate::ids::AppId;
use crate::timestamps::iso;

/// A deployment: the change that started it and the apps it waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Its uuid.
    pub id: String,
    /// The version it deploys, ms.
    pub version_ms: u64,
    /// Steps of `(action, app)`.
    pub steps: Vec<Vec<(String, AppId)>>,
    /// The definitions before the change (`None`: the app did not exist), for a rollback.
    pub original: BTreeMap<AppId, Option<AppDefinition>>,
}

impl Deployment {
    /// The apps it touches.
    pub fn apps(&self) -> BTreeSet<AppId> {
        self.steps
            .iter()
            .flatten()
            .map(|(_, a)| a.clone())
            .collect()
    }
}

/// The actions of one step.
pub fn actions_json(step: &[(String, AppId)]) -> Vec<Value> {
    step.iter()
        .map(|(action, app)| json!({"action": action, "app": app.as_str(), "readinessCheckResults": []}))
        .collect()
}

/// A deployment plan for events: light form plus the `original`/`target` objects
/// marathon-python's event parser needs.
pub fn plan_json(d: &Deployment) -> Value {
    json!({
        "id": d.id,
        "version": iso(d.version_ms),
        "steps": d.steps.iter().map(|s| json!({"actions": actions_json(s)})).collect::<Vec<_>>(),
        "original": {"id": "/", "apps": [], "groups": [], "pods": [], "dependencies": [], "version": iso(d.version_ms)},
        "target": {"id": "/", "apps": [], "groups": [], "pods": [], "dependencies": [], "version": iso(d.version_ms)},
    })
}
