//! When the framework asks tasks whether they are ready (`crate::readiness`): every task
//! that runs, of an app with a readiness check, until it is ready; at most one ask in
//! flight per task and one per `intervalSeconds`. An answer with a ready status makes the
//! task ready for good (stored, so a new leader does not ask again); any other answer, or
//! none, is kept in memory only and asked again after the interval.

use meso_api::v1::TaskState;
use serde_json::{json, Value};

use super::Services;
use crate::ids::AppId;
use crate::readiness::{checks_of, is_ready, port_of, HttpAnswer, Probe, ReadinessResult};

impl Services {
    /// The asks due at `now_ms`; each stays in flight until [`Self::readiness_answer`].
    pub fn readiness_probes(&mut self, now_ms: u64) -> Vec<Probe> {
        let mut out = Vec::new();
        for (app, record) in &self.apps {
            if !record.def.has_readiness_checks() {
                continue;
            }
            let Some(check) = checks_of(&record.def).into_iter().next() else {
                continue;
            };
            for t in self.instances_of(app).filter_map(|i| i.task.as_ref()) {
                let ready = t.readiness.as_ref().is_some_and(|r| r.ready);
                let due = self.asks.get(&t.task_id).is_none_or(|at| *at <= now_ms);
                if t.state != TaskState::Running || ready || !due {
                    continue;
                }
                let (Some(host), Some(port)) =
                    (t.address.clone(), port_of(&record.def, &check, &t.ports))
                else {
                    continue;
                };
                out.push(Probe {
                    task_id: t.task_id.clone(),
                    host,
                    port,
                    path: check.path.clone(),
                    timeout_ms: check.timeout_seconds * 1000,
                    keep_body: check.preserve_last_response,
                });
            }
        }
        for p in &out {
            self.asks.insert(p.task_id.clone(), u64::MAX);
        }
        out
    }

    /// The answer to the ask about `task_id` at `now_ms` (`Err`: none came, and why).
    pub fn readiness_answer(
        &mut self,
        task_id: &str,
        answer: Result<HttpAnswer, String>,
        now_ms: u64,
    ) {
        let instance = self
            .by_task
            .get(task_id)
            .and_then(|id| self.instances.get_mut(id));
        let found = instance.and_then(|i| {
            let check = checks_of(&self.apps.get(&i.app)?.def).into_iter().next()?;
            let task = i.task.as_mut().filter(|t| t.task_id == task_id)?;
            Some((i.app.clone(), check, task))
        });
        let Some((app, check, task)) = found else {
            self.asks.remove(task_id);
            return;
        };
        let ready = answer.as_ref().is_ok_and(|a| is_ready(&check, a.status));
        let last_response = answer.ok().map(|mut a| {
            if !check.preserve_last_response {
                a.body.clear();
            }
            a
        });
        task.readiness = Some(ReadinessResult {
            name: check.name.clone(),
            ready,
            last_response,
        });
        if ready {
            self.asks.remove(task_id);
            self.touch_app(&app);
        } else {
            self.asks.insert(
                task_id.to_string(),
                now_ms.saturating_add(check.interval_seconds * 1000),
            );
        }
    }

    /// `readinessCheckResults` of `app`: its tasks' last results while a deployment
    /// touches it (Marathon keeps them for deployments only).
    pub fn readiness_results(&self, app: &AppId) -> Vec<Value> {
        if !self.deployments.values().any(|d| d.apps().contains(app)) {
            return Vec::new();
        }
        self.instances_of(app)
            .filter_map(|i| i.task.as_ref())
            .filter_map(|t| {
                let r = t.readiness.as_ref()?;
                Some(json!({
                    "name": r.name,
                    "taskId": t.task_id,
                    "ready": r.ready,
                    "lastResponse": r.last_response,
                }))
            })
            .collect()
    }
}
