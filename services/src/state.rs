//! [`Services`]: the framework's whole state as a pure core (apps with their versions,
//! instances with their tasks, deployments, launch backoff) and what it does with offers
//! and status updates. No I/O and no clock: times and ids come in as arguments, and what
//! must happen outside (kills, revives, events, records to store) goes out through
//! [`Services::take_effects`] and [`Services::take_writes`].
//!
//! Deployments converge rather than replay: `reconcile` looks at each app as it is now
//! (target definition, instances and their versions) and decides kills and new instances
//! with the `rolling` step, so a new leader that loads the stored state continues every
//! deployment where it stood. A deployment is a record that ends when its apps converge.
//!
//! Invariants: an instance's task id maps back to it (`by_task`); an instance whose goal
//! is `Stop` is never relaunched; a launched instance's agent counts for its app's
//! constraints until its task is terminal, whatever its version.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use meso_api::v1::{Offer, OfferId, TaskInfo, TaskState, TaskStatus};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppDefinition;
use crate::constraints::parse_all;
pub use crate::deployment::Deployment;
use crate::ids::{task_id, AppId};
use crate::placement::{place, AgentFacts, OfferSlot};
use crate::readiness::ReadinessResult;
use crate::rolling::{scale_down, step, Backoff, Member};
use crate::timestamps::iso;

/// An app: its target definition and history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppRecord {
    /// The target definition.
    pub def: AppDefinition,
    /// The app's version (any accepted change), ms.
    pub version_ms: u64,
    /// The last config change (an upgrade or restart), ms.
    pub config_ms: u64,
    /// The last change of any kind, ms.
    pub scaling_ms: u64,
    /// Earlier definitions by version (ms), oldest first, the current one last.
    pub versions: Vec<(u64, AppDefinition)>,
    /// The launch delay.
    pub backoff: Backoff,
    /// The latest failed task, as `lastTaskFailure`.
    pub last_failure: Option<Value>,
}

/// Whether an instance should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Goal {
    /// Keep it running (relaunch after a kill or failure).
    Run,
    /// Kill it and forget it.
    Stop,
}

/// A launched task of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The Mesos task id.
    pub task_id: String,
    /// The agent.
    pub agent_id: String,
    /// What constraints see of the agent.
    pub facts: AgentFacts,
    /// Host ports.
    pub ports: Vec<u64>,
    /// The last Mesos state (`TASK_STAGING` until reported).
    pub state: TaskState,
    /// The last health report.
    pub healthy: Option<bool>,
    /// When it was launched, ms.
    pub staged_ms: u64,
    /// When it was reported running, ms.
    pub started_ms: Option<u64>,
    /// The agent's address for the framework's own asks (readiness checks): its IP from
    /// the offer's URL, else its hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The readiness check's last result (apps with a readiness check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ReadinessResult>,
}

/// One instance of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Its uuid.
    pub id: String,
    /// Its app.
    pub app: AppId,
    /// Relaunches so far (the task id's last number).
    pub incarnation: u32,
    /// Run or stop.
    pub goal: Goal,
    /// The app's config version (ms) it runs (or will run).
    pub config_ms: u64,
    /// The app's version (ms) it was launched with.
    pub version_ms: u64,
    /// Its task, once launched.
    pub task: Option<TaskRecord>,
}

impl Instance {
    /// Launched and not terminal.
    pub fn alive(&self) -> bool {
        self.task.is_some()
    }

    /// Running, healthy when the app has health checks, and ready when it has a readiness
    /// check.
    pub fn serving(&self, checks: bool, readiness: bool) -> bool {
        self.task.as_ref().is_some_and(|t| {
            t.state == TaskState::Running
                && (!checks || t.healthy == Some(true))
                && (!readiness || t.readiness.as_ref().is_some_and(|r| r.ready))
        })
    }
}

/// Something the framework must do outside the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Kill a task.
    Kill {
        /// The task.
        task_id: String,
        /// Its agent.
        agent_id: String,
    },
    /// There is something to launch: clear offer filters.
    Revive,
    /// An event for `/v2/events` (`eventType` set).
    Event(Value),
}

/// What one offer round decided: per offer, the tasks to launch (empty: decline).
#[derive(Debug, Default)]
pub struct OfferRound {
    /// Offers used, with their tasks.
    pub launches: Vec<(OfferId, Vec<TaskInfo>)>,
    /// Offers not used.
    pub declines: Vec<OfferId>,
    /// Whether instances are still waiting for resources.
    pub waiting: bool,
}

/// The framework's state (see the module docs).
#[derive(Debug, Default)]
pub struct Services {
    /// Apps by id.
    pub apps: BTreeMap<AppId, AppRecord>,
    /// Instances by id.
    pub instances: BTreeMap<String, Instance>,
    /// Running deployments by id.
    pub deployments: BTreeMap<String, Deployment>,
    /// The framework id, once registered.
    pub framework_id: Option<String>,
    /// The framework's role.
    pub role: String,
    by_task: HashMap<String, String>,
    /// Instance ids by app (kept with `instances`: `add_instance`, `remove_instance`).
    by_app: HashMap<AppId, BTreeSet<String>>,
    effects: Vec<Effect>,
    dirty: BTreeSet<String>,
    /// Readiness asks by task id: when the next may start, ms (`u64::MAX`: in flight).
    asks: HashMap<String, u64>,
    /// Each app's definition as JSON text, dropped whenever the app changes
    /// (`touch_app`): a list of a thousand apps serializes only those that changed since
    /// the last one (`views::apps_text`).
    def_text: RefCell<HashMap<AppId, String>>,
    /// Agents the master asked back (inverse offers), with the inverse offers that asked
    /// (`leaving.rs`).
    leaving: BTreeMap<String, BTreeSet<String>>,
}

/// The key under which an app (with its instances) is stored.
pub fn app_key(app: &AppId) -> String {
    format!("app:{app}")
}
/// The key of a deployment.
pub fn deployment_key(id: &str) -> String {
    format!("deployment:{id}")
}
/// The key of the framework id.
pub const FRAMEWORK_KEY: &str = "framework";

#[derive(Serialize, Deserialize)]
struct StoredApp {
    app: Option<AppRecord>,
    instances: Vec<Instance>,
}

impl Services {
    /// An empty state for a framework in `role`.
    pub fn new(role: &str) -> Services {
        Services {
            role: role.to_string(),
            ..Services::default()
        }
    }

    /// The state stored under `records` (as written by [`Services::take_writes`]); records
    /// that do not decode are skipped and named in the returned list.
    pub fn restore(role: &str, records: &BTreeMap<String, Vec<u8>>) -> (Services, Vec<String>) {
        let mut s = Services::new(role);
        let mut bad = Vec::new();
        for (key, bytes) in records {
            if key == FRAMEWORK_KEY {
                s.framework_id = String::from_utf8(bytes.clone()).ok();
            } else if key.starts_with("app:") {
                match serde_json::from_slice::<StoredApp>(bytes) {
                    Ok(stored) => {
                        if let Some(app) = stored.app {
                            s.apps.insert(app.def.id.clone(), app);
                        }
                        for i in stored.instances {
                            if let Some(t) = &i.task {
                                s.by_task.insert(t.task_id.clone(), i.id.clone());
                            }
                            s.add_instance(i);
                        }
                    }
                    Err(e) => bad.push(format!("{key}: {e}")),
                }
            } else if key.starts_with("deployment:") {
                match serde_json::from_slice::<Deployment>(bytes) {
                    Ok(d) => {
                        s.deployments.insert(d.id.clone(), d);
                    }
                    Err(e) => bad.push(format!("{key}: {e}")),
                }
            }
        }
        (s, bad)
    }

    /// The records changed since the last call, to be written together.
    pub fn take_writes(&mut self) -> Vec<(String, Option<Vec<u8>>)> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|key| {
                let value = if key == FRAMEWORK_KEY {
                    self.framework_id.clone().map(String::into_bytes)
                } else if let Some(id) = key.strip_prefix("deployment:") {
                    self.deployments
                        .get(id)
                        .map(|d| serde_json::to_vec(d).expect("a deployment encodes"))
                } else {
                    let app = AppId::parse(key.trim_start_matches("app:")).ok();
                    app.and_then(|app| {
                        let stored = StoredApp {
                            app: self.apps.get(&app).cloned(),
                            instances: self.instances_of(&app).cloned().collect(),
                        };
                        (stored.app.is_some() || !stored.instances.is_empty())
                            .then(|| serde_json::to_vec(&stored).expect("an app encodes"))
                    })
                };
                (key, value)
            })
            .collect()
    }

    /// Whether records wait to be written.
    pub fn has_writes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The effects produced since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(crate) fn touch_app(&mut self, app: &AppId) {
        self.def_text.get_mut().remove(app);
        self.dirty.insert(app_key(app));
    }

    /// Calls `f` with `r`'s definition as JSON text (serialized once per change).
    pub fn with_def_text<T>(&self, r: &AppRecord, f: impl FnOnce(&str) -> T) -> T {
        let mut cache = self.def_text.borrow_mut();
        let text = cache.entry(r.def.id.clone()).or_insert_with(|| {
            serde_json::to_string(&r.def).expect("invariant: an app definition serializes")
        });
        f(text)
    }

    pub(crate) fn touch_deployment(&mut self, id: &str) {
        self.dirty.insert(deployment_key(id));
    }

    pub(crate) fn emit(&mut self, event: Value) {
        self.effects.push(Effect::Event(event));
    }

    /// Records the framework id the master gave.
    pub fn set_framework_id(&mut self, id: &str) {
        if self.framework_id.as_deref() != Some(id) {
            self.framework_id = Some(id.to_string());
            self.dirty.insert(FRAMEWORK_KEY.to_string());
        }
    }

    /// The instances of `app`.
    pub fn instances_of<'a>(&'a self, app: &'a AppId) -> impl Iterator<Item = &'a Instance> + 'a {
        self.by_app
            .get(app)
            .into_iter()
            .flatten()
            .filter_map(|id| self.instances.get(id))
    }

    fn add_instance(&mut self, i: Instance) {
        self.by_app
            .entry(i.app.clone())
            .or_default()
            .insert(i.id.clone());
        self.instances.insert(i.id.clone(), i);
    }

    fn remove_instance(&mut self, id: &str) {
        if let Some(i) = self.instances.remove(id) {
            if let Some(set) = self.by_app.get_mut(&i.app) {
                set.remove(id);
                if set.is_empty() {
                    self.by_app.remove(&i.app);
                }
            }
        }
    }

    /// The instance running task `task_id`.
    pub fn instance_of_task(&self, task_id: &str) -> Option<&Instance> {
        self.by_task
            .get(task_id)
            .and_then(|i| self.instances.get(i))
    }

    /// Every known (task id, agent id), for reconciliation.
    pub fn known_tasks(&self) -> Vec<(String, String)> {
        self.instances
            .values()
            .filter_map(|i| i.task.as_ref())
            .map(|t| (t.task_id.clone(), t.agent_id.clone()))
            .collect()
    }

    /// Sends a kill for `instance`'s task (if launched); the goal is left as it is.
    pub(crate) fn kill_instance(&mut self, instance: &str) {
        if let Some(t) = self.instances.get(instance).and_then(|i| i.task.as_ref()) {
            self.effects.push(Effect::Kill {
                task_id: t.task_id.clone(),
                agent_id: t.agent_id.clone(),
            });
        }
    }

    /// Stops `instance`: killed if launched, forgotten at once otherwise.
    pub(crate) fn stop_instance(&mut self, instance: &str) {
        let Some(i) = self.instances.get_mut(instance) else {
            return;
        };
        i.goal = Goal::Stop;
        let app = i.app.clone();
        if i.task.is_some() {
            self.kill_instance(instance);
        } else {
            self.remove_instance(instance);
        }
        self.touch_app(&app);
    }

    /// Brings every app toward its target: new instances to launch, old or surplus ones
    /// killed; ends deployments whose apps arrived. `new_id` makes instance ids.
    pub fn reconcile(&mut self, new_id: &mut dyn FnMut() -> String) {
        let apps: Vec<AppId> = self.apps.keys().cloned().collect();
        for app in apps {
            self.reconcile_app(&app, new_id);
        }
        // Instances of deleted apps.
        let orphans: Vec<String> = self
            .instances
            .values()
            .filter(|i| i.goal == Goal::Run && !self.apps.contains_key(&i.app))
            .map(|i| i.id.clone())
            .collect();
        for id in orphans {
            self.stop_instance(&id);
        }
        self.finish_deployments();
    }

    fn reconcile_app(&mut self, app: &AppId, new_id: &mut dyn FnMut() -> String) {
        let Some(record) = self.apps.get(app) else {
            return;
        };
        let n = record.def.instances as usize;
        let checks = record.def.has_health_checks();
        let readiness = record.def.has_readiness_checks();
        let strategy = record.def.upgrade_strategy;
        let selection = record.def.kill_selection;
        let (config_ms, version_ms) = (record.config_ms, record.version_ms);
        let mut old = Vec::new();
        let mut new = Vec::new();
        let mut going = 0;
        let mut restamp = Vec::new();
        for i in self.instances_of(app) {
            let member = (
                i.id.clone(),
                Member {
                    healthy: i.serving(checks, readiness),
                    started_ms: i.task.as_ref().map_or(u64::MAX, |t| t.staged_ms),
                },
            );
            match i.goal {
                Goal::Stop => going += usize::from(i.alive()),
                // An instance on an agent the master asks back is replaced like one of an
                // older config: a new one first, within the upgrade strategy.
                Goal::Run
                    if i.alive() && (i.config_ms != config_ms || self.on_leaving_agent(i)) =>
                {
                    old.push(member)
                }
                Goal::Run => {
                    if !i.alive() && i.config_ms != config_ms {
                        restamp.push(i.id.clone());
                    }
                    new.push(member);
                }
            }
        }
        for id in restamp {
            if let Some(i) = self.instances.get_mut(&id) {
                i.config_ms = config_ms;
                i.version_ms = version_ms;
            }
        }
        let (kills, launch) = if old.is_empty() {
            if new.len() > n {
                let members: Vec<Member> = new.iter().map(|(_, m)| *m).collect();
                let chosen = scale_down(&members, new.len() - n, selection);
                (chosen.into_iter().map(|k| new[k].0.clone()).collect(), 0)
            } else {
                (Vec::new(), n - new.len())
            }
        } else {
            let old_m: Vec<Member> = old.iter().map(|(_, m)| *m).collect();
            let new_m: Vec<Member> = new.iter().map(|(_, m)| *m).collect();
            let s = step(n, strategy, &old_m, &new_m, going);
            (
                s.kill_old
                    .into_iter()
                    .map(|k| old[k].0.clone())
                    .collect::<Vec<_>>(),
                s.launch,
            )
        };
        for id in kills {
            self.stop_instance(&id);
        }
        for _ in 0..launch {
            let id = new_id();
            self.add_instance(Instance {
                id,
                app: app.clone(),
                incarnation: 0,
                goal: Goal::Run,
                config_ms,
                version_ms,
                task: None,
            });
        }
        if launch > 0 {
            self.effects.push(Effect::Revive);
            self.touch_app(app);
        }
    }

    /// Whether `app` has arrived at its target.
    pub fn converged(&self, app: &AppId) -> bool {
        let Some(record) = self.apps.get(app) else {
            return self.instances_of(app).next().is_none();
        };
        let checks = record.def.has_health_checks();
        let readiness = record.def.has_readiness_checks();
        let mut serving = 0;
        for i in self.instances_of(app) {
            if i.goal == Goal::Stop || i.config_ms != record.config_ms {
                return false;
            }
            if !i.serving(checks, readiness) {
                return false;
            }
            serving += 1;
        }
        serving == record.def.instances as usize
    }

    fn finish_deployments(&mut self) {
        let done: Vec<String> = self
            .deployments
            .values()
            .filter(|d| d.apps().iter().all(|a| self.converged(a)))
            .map(|d| d.id.clone())
            .collect();
        for id in done {
            if let Some(d) = self.deployments.remove(&id) {
                self.touch_deployment(&id);
                self.emit(json!({
                    "eventType": "deployment_success",
                    "id": d.id,
                    "plan": crate::deployment::plan_json(&d),
                }));
            }
        }
    }

    /// Matches waiting instances with `offers` at `now_ms` (apps in id order, each app's
    /// backoff respected); what is not used is declined.
    pub fn offers(&mut self, offers: Vec<Offer>, now_ms: u64) -> OfferRound {
        // Nothing new goes to an agent the master asks back: its offers are declined.
        let mut slots: Vec<OfferSlot> = offers
            .iter()
            .map(|o| OfferSlot {
                facts: AgentFacts::of(&o.hostname, &o.attributes),
                remaining: if self.is_leaving(o.agent_id.as_str()) {
                    Default::default()
                } else {
                    o.resources.clone()
                },
            })
            .collect();
        let mut tasks: Vec<Vec<TaskInfo>> = vec![Vec::new(); offers.len()];
        let mut waiting = false;
        let apps: Vec<AppId> = self.apps.keys().cloned().collect();
        for app in apps {
            let pending: Vec<String> = self
                .instances_of(&app)
                .filter(|i| i.goal == Goal::Run && i.task.is_none())
                .map(|i| i.id.clone())
                .collect();
            if pending.is_empty() {
                continue;
            }
            let record = &self.apps[&app];
            if !record.backoff.ready(now_ms) {
                waiting = true;
                continue;
            }
            let def = record.def.clone();
            let version_ms = record.version_ms;
            let role = def.role_or(&self.role).to_string();
            let constraints = parse_all(&def.constraints);
            let placed: Vec<AgentFacts> = self
                .instances_of(&app)
                .filter_map(|i| i.task.as_ref().map(|t| t.facts.clone()))
                .collect();
            let placements = place(
                &def,
                &role,
                &constraints,
                &mut slots,
                &placed,
                pending.len(),
            );
            waiting |= placements.len() < pending.len();
            for (p, instance_id) in placements.into_iter().zip(pending) {
                let offer = &offers[p.offer];
                let instance = self
                    .instances
                    .get_mut(&instance_id)
                    .expect("pending exists");
                instance.incarnation += 1;
                instance.version_ms = version_ms;
                let tid = task_id(&app, &instance_id, instance.incarnation);
                let task =
                    crate::launch::task_info(&def, &tid, offer, p.resources, &p.ports, version_ms);
                instance.task = Some(TaskRecord {
                    task_id: tid.clone(),
                    agent_id: offer.agent_id.to_string(),
                    facts: slots[p.offer].facts.clone(),
                    ports: p.ports,
                    state: TaskState::Staging,
                    healthy: None,
                    staged_ms: now_ms,
                    started_ms: None,
                    address: offer
                        .url
                        .as_ref()
                        .and_then(|u| u.address.ip.clone())
                        .or_else(|| Some(offer.hostname.clone())),
                    readiness: None,
                });
                self.by_task.insert(tid, instance_id);
                tasks[p.offer].push(task);
            }
            self.touch_app(&app);
        }
        let mut round = OfferRound {
            waiting,
            ..OfferRound::default()
        };
        for (offer, tasks) in offers.into_iter().zip(tasks) {
            if tasks.is_empty() {
                round.declines.push(offer.id);
            } else {
                round.launches.push((offer.id, tasks));
            }
        }
        round
    }

    /// A status update at `now_ms`.
    pub fn status(&mut self, status: &TaskStatus, now_ms: u64) {
        let tid = status.task_id.to_string();
        let Some(instance_id) = self.by_task.get(&tid).cloned() else {
            // A task of ours nobody knows (launched just before a failover and never
            // stored, or of a deleted app): kill it.
            if !status.state.is_terminal() {
                if let Some(agent) = &status.agent_id {
                    self.effects.push(Effect::Kill {
                        task_id: tid,
                        agent_id: agent.to_string(),
                    });
                }
            }
            return;
        };
        let Some(instance) = self.instances.get_mut(&instance_id) else {
            return;
        };
        let app = instance.app.clone();
        let Some(task) = instance.task.as_mut() else {
            return;
        };
        if task.task_id != tid {
            return;
        }
        let was_healthy = task.healthy;
        task.state = status.state;
        if status.healthy.is_some() {
            task.healthy = status.healthy;
        }
        if status.state == TaskState::Running && task.started_ms.is_none() {
            task.started_ms = Some(now_ms);
        }
        let healthy = task.healthy;
        let (host, agent, ports) = (
            task.facts.hostname.clone(),
            task.agent_id.clone(),
            task.ports.clone(),
        );
        let version = iso(instance.version_ms);
        self.emit(json!({
            "eventType": "status_update_event",
            "timestamp": iso(now_ms),
            "slaveId": agent,
            "taskId": tid,
            "taskStatus": status.state.as_str(),
            "message": status.message.clone().unwrap_or_default(),
            "appId": app.as_str(),
            "host": host,
            "ports": ports,
            "ipAddresses": [],
            "version": version,
        }));
        if healthy != was_healthy {
            if let Some(h) = healthy {
                self.emit(json!({
                    "eventType": "health_status_changed_event",
                    "timestamp": iso(now_ms),
                    "appId": app.as_str(),
                    "instanceId": instance_id,
                    "version": version,
                    "alive": h,
                }));
            }
        }
        let gone = status.state.is_terminal() || status.state == TaskState::Unreachable;
        if gone {
            self.task_ended(&instance_id, status, now_ms);
        }
        self.touch_app(&app);
    }

    fn task_ended(&mut self, instance_id: &str, status: &TaskStatus, now_ms: u64) {
        let Some(instance) = self.instances.get_mut(instance_id) else {
            return;
        };
        let task = instance.task.take().expect("an ended task was launched");
        self.by_task.remove(&task.task_id);
        self.asks.remove(&task.task_id);
        let app = instance.app.clone();
        let config_ms = instance.config_ms;
        let goal = instance.goal;
        let version = iso(instance.version_ms);
        // A kill for failing health checks counts as a failure (for the backoff), as
        // Marathon's; any other kill does not.
        let unhealthy_kill = status.state == TaskState::Killed && status.healthy == Some(false);
        let failed = unhealthy_kill
            || matches!(
                status.state,
                TaskState::Failed
                    | TaskState::Finished
                    | TaskState::Error
                    | TaskState::Dropped
                    | TaskState::Gone
                    | TaskState::Lost
            );
        if unhealthy_kill {
            self.emit(json!({
                "eventType": "unhealthy_instance_kill_event",
                "timestamp": iso(now_ms),
                "appId": app.as_str(),
                "taskId": task.task_id,
                "instanceId": instance_id,
                "version": version,
                "reason": status.message.clone().unwrap_or_default(),
                "host": task.facts.hostname,
                "slaveId": task.agent_id,
            }));
        }
        let keep = goal == Goal::Run
            && self
                .apps
                .get(&app)
                .is_some_and(|a| a.config_ms == config_ms);
        if !keep {
            self.remove_instance(instance_id);
        }
        if let Some(record) = self.apps.get_mut(&app) {
            if failed && goal == Goal::Run {
                let d = &record.def;
                record.backoff.failed(
                    now_ms,
                    d.backoff_seconds,
                    d.backoff_factor,
                    d.max_launch_delay_seconds,
                );
                record.last_failure = Some(json!({
                    "appId": app.as_str(),
                    "host": task.facts.hostname,
                    "message": status.message.clone().unwrap_or_default(),
                    "state": status.state.as_str(),
                    "taskId": task.task_id,
                    "timestamp": iso(now_ms),
                    "version": version,
                    "slaveId": task.agent_id,
                }));
            }
        }
        if keep {
            self.effects.push(Effect::Revive);
        }
        self.touch_app(&app);
    }
}

mod leaving;
mod readiness;
#[cfg(test)]
pub(crate) mod tests;
