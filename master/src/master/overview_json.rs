//! `GET /master/overview` (a meso extension): the bounded summary the web UI's first view
//! reads instead of `/master/state`: the master's identity and leadership, agent,
//! framework, offer and task counts, the cluster's cpus/gpus/mem/disk as total, allocated,
//! offered and idle, and its revocable ones (`revocable_summary`). Its size does not grow
//! with the cluster (a few hundred bytes at 10,000 agents and 100,000 tasks), though
//! building it is one pass over the agents, tasks and offers.
//!
//! Pure: built from a [`StateView`]. Invariants: the numbers are the ones `/master/state`
//! gives for the same books (`activated_slaves`, `deactivated_slaves`,
//! `unreachable_slaves`, the sum of the agents' `resources`, tasks counted by their latest
//! state over active, unreachable and completed tasks); allocated is what active tasks
//! hold, idle is total minus allocated minus offered, never below zero.

use std::collections::BTreeMap;

use meso_api::Resources;
use serde::Serialize;
use serde_json::{json, Value};

use super::revocable_summary::RevocableSummary;
use super::state_json::{StateView, BUILD_TIME, MESOS_VERSION};

/// cpus, gpus, mem (MB) and disk (MB) of a set of resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scalars {
    /// CPUs.
    pub cpus: f64,
    /// GPUs.
    pub gpus: f64,
    /// Memory in MB.
    pub mem: f64,
    /// Disk in MB.
    pub disk: f64,
}

impl Scalars {
    /// The non-revocable cpus, gpus, mem and disk of `r`.
    pub fn of(r: &Resources) -> Scalars {
        let mut s = Scalars::default();
        s.add(r);
        s
    }

    /// Adds the non-revocable cpus, gpus, mem and disk of `r`.
    pub fn add(&mut self, r: &Resources) {
        for res in r.iter().filter(|res| !res.revocable) {
            let meso_api::resources::Value::Scalar(x) = &res.value else {
                continue;
            };
            match &*res.name {
                "cpus" => self.cpus += x.as_f64(),
                "gpus" => self.gpus += x.as_f64(),
                "mem" => self.mem += x.as_f64(),
                "disk" => self.disk += x.as_f64(),
                _ => {}
            }
        }
    }

    /// `self - a - b`, each field at least zero.
    pub fn minus(self, a: Scalars, b: Scalars) -> Scalars {
        let f = |x: f64, y: f64, z: f64| (x - y - z).max(0.0);
        Scalars {
            cpus: f(self.cpus, a.cpus, b.cpus),
            gpus: f(self.gpus, a.gpus, b.gpus),
            mem: f(self.mem, a.mem, b.mem),
            disk: f(self.disk, a.disk, b.disk),
        }
    }

    /// The largest of `self / total` over the four (a DRF dominant share), 0 when the
    /// total is empty.
    pub fn dominant_share(self, total: Scalars) -> f64 {
        let share = |x: f64, t: f64| if t > 0.0 { x / t } else { 0.0 };
        share(self.cpus, total.cpus)
            .max(share(self.gpus, total.gpus))
            .max(share(self.mem, total.mem))
            .max(share(self.disk, total.disk))
    }
}

/// The cluster's total resources (the sum over registered agents).
pub fn cluster_total(view: &StateView<'_>) -> Scalars {
    let mut total = Scalars::default();
    for a in view.agents.iter() {
        total.add(&a.info.resources);
    }
    total
}

/// The `/master/overview` document as a JSON value.
pub fn overview(view: &StateView<'_>) -> Value {
    let total = cluster_total(view);
    let mut allocated = Scalars::default();
    let mut tasks: BTreeMap<&'static str, u64> = BTreeMap::new();
    for t in view.tasks.active() {
        allocated.add(&t.info.resources);
        *tasks.entry(t.state.as_str()).or_default() += 1;
    }
    for t in view.tasks.completed().chain(view.unreachable_tasks.iter()) {
        *tasks.entry(t.state.as_str()).or_default() += 1;
    }
    let mut offered = Scalars::default();
    for o in view.offers.iter() {
        offered.add(&o.offer.resources);
    }
    let active_agents = view.agents.active_count();
    let active_frameworks = view.frameworks.iter().filter(|f| f.active).count();
    let frameworks = view.frameworks.iter().count();
    let mut doc = json!({
        "id": view.info.id,
        "pid": view.info.pid,
        "hostname": view.info.hostname,
        "cluster": flag(view, "cluster"),
        "version": MESOS_VERSION,
        "build_time": BUILD_TIME,
        "start_time": view.timeline.start_time,
        "elected_time": view.timeline.elected_time,
        "leader": view.leader.and_then(|l| l.pid.clone()),
        "agents": {
            "active": active_agents,
            "deactivated": view.agents.len() - active_agents,
            "unreachable": view.agents.unreachable().count(),
            "recovered": view.recovered_agents.len(),
            "gone": view.agents.gone().count(),
        },
        "frameworks": {
            "active": active_frameworks,
            "inactive": frameworks - active_frameworks,
            "completed": view.completed_frameworks.len(),
        },
        "offers": view.offers.len(),
        "tasks": {
            "active": view.tasks.active_count(),
            "unreachable": view.unreachable_tasks.len(),
            "completed": view.tasks.completed().count(),
            "by_state": tasks,
        },
        "resources": {
            "total": total,
            "allocated": allocated,
            "offered": offered,
            "idle": total.minus(allocated, offered),
        },
        "revocable": RevocableSummary::of_books(
            view.agents.iter().map(|a| &a.info.resources),
            view.tasks,
        ),
    });
    if let (Some(Value::Object(fields)), Value::Object(out)) = (view.leadership, &mut doc) {
        for (key, value) in fields.iter().filter(|(key, _)| *key != "leader") {
            out.insert(key.clone(), value.clone());
        }
    }
    doc
}

fn flag(view: &StateView<'_>, name: &str) -> Option<String> {
    view.flags
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_sum_idle_never_goes_below_zero_and_the_share_is_the_largest() {
        let r = Resources::parse("cpus:4;mem:1024;disk:100", "*").unwrap();
        let total = Scalars::of(&r);
        assert_eq!(
            (total.cpus, total.mem, total.disk, total.gpus),
            (4.0, 1024.0, 100.0, 0.0)
        );
        let used = Scalars::of(&Resources::parse("cpus:1;mem:768", "*").unwrap());
        let offered = Scalars::of(&Resources::parse("cpus:4", "*").unwrap());
        let idle = total.minus(used, offered);
        assert_eq!((idle.cpus, idle.mem, idle.disk), (0.0, 256.0, 100.0));
        assert_eq!(used.dominant_share(total), 0.75);
        assert_eq!(used.dominant_share(Scalars::default()), 0.0);
    }
}
