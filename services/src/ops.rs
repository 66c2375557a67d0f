//! The changes the API asks of [`Services`]: create, update (PUT/PATCH, scale, rollback),
//! restart, delete, kill tasks (with or without scaling), cancel a deployment. Each checks
//! first and changes nothing when it refuses: 404 for what does not exist, 409 for an app
//! locked by a deployment without `force` (Marathon's body), 422 for a bad definition.
//! Every accepted change stamps a new app version and starts a deployment.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::app::{AppDefinition, AppError, Violation};
use crate::ids::AppId;
use crate::parse::definition_from;
use crate::state::{AppRecord, Deployment, Goal, Services};
use crate::timestamps::iso;

/// A refusal as Marathon answers it: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `{"message": ..., ...}`.
    pub body: Value,
}

impl ApiError {
    /// A status with a message.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({"message": message.into()}),
        }
    }

    /// `App '/x' does not exist`.
    pub fn no_app(app: &AppId) -> ApiError {
        ApiError::new(404, format!("App '{app}' does not exist"))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Json(details) => ApiError {
                status: 400,
                body: json!({"message": "Invalid JSON", "details": details}),
            },
            AppError::Types(v) => ApiError {
                status: 422,
                body: json!({"message": "Invalid JSON", "details": v}),
            },
            AppError::Invalid(v) => ApiError {
                status: 422,
                body: json!({"message": "Object is not valid", "details": v}),
            },
        }
    }
}

/// `e` for the `i`th app of a list: each `details` path prefixed with `/(i)`.
fn at_item(mut e: ApiError, i: usize) -> ApiError {
    if let Some(details) = e.body.get_mut("details").and_then(Value::as_array_mut) {
        for d in details {
            if let Some(path) = d.get("path").and_then(Value::as_str) {
                let path = format!("/({i}){}", if path == "/" { "" } else { path });
                d["path"] = Value::String(path);
            }
        }
    }
    e
}

/// Versions kept per app (`/v2/apps/{id}/versions` is a bounded history).
pub const MAX_VERSIONS: usize = 50;

/// What an accepted change answers: the deployment and the new version.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// The deployment id.
    pub deployment: String,
    /// The version, ms.
    pub version_ms: u64,
}

/// Time and ids for one change.
pub struct Stamp<'a> {
    /// Now, ms since the epoch.
    pub now_ms: u64,
    /// Makes uuids.
    pub new_id: &'a mut dyn FnMut() -> String,
}

impl Services {
    /// 409 when a running deployment touches one of `apps` and `force` is off; with
    /// `force` those deployments are cancelled where they stand.
    fn lock(&mut self, apps: &[AppId], force: bool) -> Result<(), ApiError> {
        let conflicting: Vec<String> = self
            .deployments
            .values()
            .filter(|d| {
                let touched = d.apps();
                apps.iter().any(|a| touched.contains(a))
            })
            .map(|d| d.id.clone())
            .collect();
        if conflicting.is_empty() {
            return Ok(());
        }
        if !force {
            return Err(ApiError {
                status: 409,
                body: json!({
                    "message": format!(
                        "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/{}'.",
                        conflicting[0]
                    ),
                    "deployments": conflicting.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
                }),
            });
        }
        for id in conflicting {
            self.deployments.remove(&id);
            self.touch_deployment(&id);
        }
        Ok(())
    }

    fn start_deployment(
        &mut self,
        steps: Vec<Vec<(String, AppId)>>,
        original: BTreeMap<AppId, Option<AppDefinition>>,
        stamp: &mut Stamp<'_>,
    ) -> Started {
        let id = (stamp.new_id)();
        let d = Deployment {
            id: id.clone(),
            version_ms: stamp.now_ms,
            steps,
            original,
        };
        self.emit(json!({
            "eventType": "deployment_info",
            "timestamp": iso(stamp.now_ms),
            "plan": crate::deployment::plan_json(&d),
            "currentStep": {"actions": crate::deployment::actions_json(&d.steps[0])},
        }));
        self.deployments.insert(id.clone(), d);
        self.touch_deployment(&id);
        self.reconcile(stamp.new_id);
        Started {
            deployment: id,
            version_ms: stamp.now_ms,
        }
    }

    /// Puts `def` as the app's new target at `now_ms`: a scale when only `instances`
    /// changed, else an upgrade (new config version, backoff forgotten).
    fn set_definition(&mut self, def: AppDefinition, now_ms: u64, restart: bool) -> String {
        let app = def.id.clone();
        let action;
        match self.apps.get_mut(&app) {
            Some(record) => {
                let scale = !restart && record.def.same_config(&def);
                action = if scale {
                    "ScaleApplication"
                } else {
                    "RestartApplication"
                };
                if !scale {
                    record.config_ms = now_ms;
                    record.backoff.reset();
                }
                record.version_ms = now_ms;
                record.scaling_ms = now_ms;
                record.def = def.clone();
                record.versions.push((now_ms, def));
                let excess = record.versions.len().saturating_sub(MAX_VERSIONS);
                record.versions.drain(..excess);
            }
            None => {
                action = "StartApplication";
                self.apps.insert(
                    app.clone(),
                    AppRecord {
                        def: def.clone(),
                        version_ms: now_ms,
                        config_ms: now_ms,
                        scaling_ms: now_ms,
                        versions: vec![(now_ms, def)],
                        backoff: Default::default(),
                        last_failure: None,
                    },
                );
            }
        }
        self.touch_app(&app);
        action.to_string()
    }

    /// `POST /v2/apps`: a new app (409 if the id exists).
    pub fn create(
        &mut self,
        body: Map<String, Value>,
        stamp: &mut Stamp<'_>,
    ) -> Result<(AppId, Started), ApiError> {
        let def = definition_from(body)?;
        if self.apps.contains_key(&def.id) {
            return Err(ApiError::new(
                409,
                format!("An app with id [{}] already exists.", def.id),
            ));
        }
        self.lock(std::slice::from_ref(&def.id), false)?;
        let app = def.id.clone();
        self.set_definition(def, stamp.now_ms, false);
        self.emit(json!({
            "eventType": "group_change_success",
            "timestamp": iso(stamp.now_ms),
            "groupId": app.parent(),
            "version": iso(stamp.now_ms),
        }));
        let steps = vec![
            vec![("StartApplication".to_string(), app.clone())],
            vec![("ScaleApplication".to_string(), app.clone())],
        ];
        let started = self.start_deployment(steps, BTreeMap::from([(app.clone(), None)]), stamp);
        Ok((app, started))
    }

    /// The definition a `PUT`/`PATCH` body asks for `app`, and the one it replaces (`None`:
    /// a new app), changing nothing: `partial` keeps the fields the body leaves out;
    /// `create` allows a new app (PUT). A body of only `{"version": v}` rolls back to that
    /// stored version.
    fn definition_for(
        &self,
        app: &AppId,
        mut body: Map<String, Value>,
        partial: bool,
        create: bool,
    ) -> Result<(AppDefinition, Option<AppDefinition>), ApiError> {
        let existing = self.apps.get(app).map(|r| r.def.clone());
        if existing.is_none() && !create {
            return Err(ApiError::no_app(app));
        }
        if let Some(id) = body.get("id").and_then(Value::as_str) {
            if AppId::parse(id).ok().as_ref() != Some(app) {
                return Err(ApiError::from(AppError::Invalid(vec![
                    crate::app::Violation::new(
                        "/id",
                        "The 'id' field must match the app in the URL",
                    ),
                ])));
            }
        }
        let def = if body.len() == 1 && body.contains_key("version") {
            let wanted = body["version"].as_str().unwrap_or_default().to_string();
            let record = self.apps.get(app).ok_or_else(|| ApiError::no_app(app))?;
            record
                .versions
                .iter()
                .find(|(v, _)| iso(*v) == wanted)
                .map(|(_, d)| d.clone())
                .ok_or_else(|| {
                    ApiError::new(
                        404,
                        format!("Version '{wanted}' of app '{app}' does not exist"),
                    )
                })?
        } else {
            body.insert("id".into(), Value::String(app.to_string()));
            let merged = match (&existing, partial) {
                (Some(old), true) => {
                    let mut base = old.to_json();
                    for (k, v) in body {
                        base.insert(k, v);
                    }
                    base
                }
                _ => body,
            };
            definition_from(merged)?
        };
        Ok((def, existing))
    }

    /// Makes each definition its app's target and starts one deployment for them all: new
    /// apps start in a first step, then every app scales or restarts.
    fn apply_all(
        &mut self,
        prepared: Vec<(AppDefinition, Option<AppDefinition>)>,
        stamp: &mut Stamp<'_>,
    ) -> Started {
        let mut starts = Vec::new();
        let mut actions = Vec::new();
        let mut original = BTreeMap::new();
        for (def, existing) in prepared {
            let app = def.id.clone();
            let action = self.set_definition(def, stamp.now_ms, false);
            if existing.is_none() {
                starts.push(("StartApplication".to_string(), app.clone()));
                actions.push(("ScaleApplication".to_string(), app.clone()));
            } else {
                actions.push((action, app.clone()));
            }
            original.insert(app, existing);
        }
        let steps = if starts.is_empty() {
            vec![actions]
        } else {
            vec![starts, actions]
        };
        self.start_deployment(steps, original, stamp)
    }

    /// `PUT`/`PATCH /v2/apps/{id}` (see [`Self::definition_for`]). Answers whether it
    /// created the app.
    pub fn update(
        &mut self,
        app: &AppId,
        body: Map<String, Value>,
        partial: bool,
        create: bool,
        force: bool,
        stamp: &mut Stamp<'_>,
    ) -> Result<(bool, Started), ApiError> {
        let (def, existing) = self.definition_for(app, body, partial, create)?;
        self.lock(std::slice::from_ref(app), force)?;
        let created = existing.is_none();
        Ok((created, self.apply_all(vec![(def, existing)], stamp)))
    }

    /// `PUT`/`PATCH /v2/apps`: every app of the list (each with its `id`) is checked
    /// first, a refusal naming the item (`/(i)/...`) changes nothing; then all change in
    /// one deployment (`None`: an empty list).
    pub fn update_many(
        &mut self,
        items: Vec<Map<String, Value>>,
        partial: bool,
        create: bool,
        force: bool,
        stamp: &mut Stamp<'_>,
    ) -> Result<Option<Started>, ApiError> {
        let mut prepared: Vec<(AppDefinition, Option<AppDefinition>)> = Vec::new();
        for (i, body) in items.into_iter().enumerate() {
            let id = body.get("id").and_then(Value::as_str).unwrap_or("");
            let app = AppId::parse(id).map_err(|e| {
                ApiError::from(AppError::Invalid(vec![Violation::new(
                    format!("/({i})/id"),
                    e,
                )]))
            })?;
            if prepared.iter().any(|(d, _)| d.id == app) {
                return Err(ApiError::from(AppError::Invalid(vec![Violation::new(
                    format!("/({i})/id"),
                    format!("{app} is listed more than once"),
                )])));
            }
            let p = self
                .definition_for(&app, body, partial, create)
                .map_err(|e| at_item(e, i))?;
            prepared.push(p);
        }
        if prepared.is_empty() {
            return Ok(None);
        }
        let ids: Vec<AppId> = prepared.iter().map(|(d, _)| d.id.clone()).collect();
        self.lock(&ids, force)?;
        Ok(Some(self.apply_all(prepared, stamp)))
    }

    /// `POST /v2/apps/{id}/restart`: a rolling restart without a change.
    pub fn restart(
        &mut self,
        app: &AppId,
        force: bool,
        stamp: &mut Stamp<'_>,
    ) -> Result<Started, ApiError> {
        let def = self
            .apps
            .get(app)
            .ok_or_else(|| ApiError::no_app(app))?
            .def
            .clone();
        self.lock(std::slice::from_ref(app), force)?;
        let action = self.set_definition(def.clone(), stamp.now_ms, true);
        Ok(self.start_deployment(
            vec![vec![(action, app.clone())]],
            BTreeMap::from([(app.clone(), Some(def))]),
            stamp,
        ))
    }

    /// `DELETE /v2/apps/{id}`: the app goes at once, its tasks are killed by the
    /// deployment.
    pub fn delete(
        &mut self,
        app: &AppId,
        force: bool,
        stamp: &mut Stamp<'_>,
    ) -> Result<Started, ApiError> {
        let record = self.apps.get(app).ok_or_else(|| ApiError::no_app(app))?;
        let def = record.def.clone();
        self.lock(std::slice::from_ref(app), force)?;
        self.apps.remove(app);
        self.touch_app(app);
        self.emit(json!({"eventType": "app_terminated_event", "timestamp": iso(stamp.now_ms), "appId": app.as_str()}));
        Ok(self.start_deployment(
            vec![vec![("StopApplication".to_string(), app.clone())]],
            BTreeMap::from([(app.clone(), Some(def))]),
            stamp,
        ))
    }

    /// Kills the given tasks. Without `scale` their instances are relaunched; with it
    /// the app's `instances` drops by the number killed, through a deployment. Unknown
    /// tasks are skipped. Answers the killed tasks (as JSON) and the deployment if any.
    pub fn kill_tasks(
        &mut self,
        tasks: &[String],
        scale: bool,
        force: bool,
        stamp: &mut Stamp<'_>,
    ) -> Result<(Vec<Value>, Option<Started>), ApiError> {
        let mut per_app: BTreeMap<AppId, Vec<String>> = BTreeMap::new();
        for t in tasks {
            if let Some(i) = self.instance_of_task(t) {
                per_app.entry(i.app.clone()).or_default().push(i.id.clone());
            }
        }
        if scale {
            let apps: Vec<AppId> = per_app.keys().cloned().collect();
            self.lock(&apps, force)?;
        }
        let mut killed = Vec::new();
        for instances in per_app.values() {
            for id in instances {
                if let Some(i) = self.instances.get(id) {
                    killed.push(crate::views::task_json(self, i));
                }
            }
        }
        if !scale {
            for id in per_app.values().flatten() {
                self.kill_instance(id);
            }
            return Ok((killed, None));
        }
        let mut original = BTreeMap::new();
        let mut steps = Vec::new();
        for (app, instances) in &per_app {
            let Some(record) = self.apps.get(app) else {
                continue;
            };
            let mut def = record.def.clone();
            original.insert(app.clone(), Some(def.clone()));
            def.instances = def.instances.saturating_sub(instances.len() as u64);
            for id in instances {
                self.stop_instance(id);
            }
            self.set_definition(def, stamp.now_ms, false);
            steps.push(("ScaleApplication".to_string(), app.clone()));
        }
        if steps.is_empty() {
            return Ok((killed, None));
        }
        let started = self.start_deployment(vec![steps], original, stamp);
        Ok((killed, Some(started)))
    }

    /// `DELETE /v2/deployments/{id}`: with `force` it just stops; without, a new
    /// deployment puts the apps back as they were before it.
    pub fn cancel_deployment(
        &mut self,
        id: &str,
        force: bool,
        stamp: &mut Stamp<'_>,
    ) -> Result<Option<Started>, ApiError> {
        let d = self
            .deployments
            .remove(id)
            .ok_or_else(|| ApiError::new(404, format!("DeploymentPlan {id} does not exist")))?;
        self.touch_deployment(id);
        self.emit(json!({
            "eventType": "deployment_failed",
            "timestamp": iso(stamp.now_ms),
            "id": id,
            "plan": crate::deployment::plan_json(&d),
            "reason": "cancelled",
        }));
        if force {
            return Ok(None);
        }
        let mut steps = Vec::new();
        for (app, def) in d.original.clone() {
            match def {
                Some(def) => {
                    let action = self.set_definition(def, stamp.now_ms, false);
                    steps.push((action, app));
                }
                None => {
                    self.apps.remove(&app);
                    self.touch_app(&app);
                    steps.push(("StopApplication".to_string(), app));
                }
            }
        }
        let original = d
            .apps()
            .into_iter()
            .map(|a| {
                let def = self.apps.get(&a).map(|r| r.def.clone());
                (a, def)
            })
            .collect();
        Ok(Some(self.start_deployment(vec![steps], original, stamp)))
    }

    /// `api_post_event` for an accepted write to `path` (with the definition of `app`,
    /// the app it created or changed, if any).
    pub fn emit_api_event(
        &mut self,
        method: &str,
        path: &str,
        app: Option<&str>,
        client_ip: String,
        now_ms: u64,
    ) {
        let def = app
            .or_else(|| path.strip_prefix("/v2/apps"))
            .and_then(|id| AppId::parse(id).ok())
            .and_then(|app| self.apps.get(&app))
            .map(|r| Value::Object(r.def.to_json()))
            .unwrap_or_else(|| json!({}));
        self.emit(json!({
            "eventType": "api_post_event",
            "timestamp": iso(now_ms),
            "clientIp": client_ip,
            "uri": path,
            "method": method,
            "appDefinition": def,
        }));
    }

    /// `DELETE /v2/queue/{id}/delay`.
    pub fn reset_delay(&mut self, app: &AppId) -> Result<(), ApiError> {
        let waiting = self
            .instances_of(app)
            .any(|i| i.goal == Goal::Run && i.task.is_none());
        match self.apps.get_mut(app) {
            Some(r) if waiting => {
                r.backoff.reset();
                self.touch_app(app);
                Ok(())
            }
            _ => Err(ApiError::new(
                404,
                format!("Application {app} not found in tasks queue."),
            )),
        }
    }
}
