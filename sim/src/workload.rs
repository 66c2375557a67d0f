//! A framework's seeded workload: a [`Scheduler`] run by the real scheduler driver that
//! launches tasks into offers it likes, declines the rest with seeded filters, and, on the
//! simulator's agenda, kills tasks, suppresses and revives offers and reconciles.
//!
//! What the framework believes (the latest state of each of its tasks) is kept in a shared
//! [`FrameworkView`] for the end-of-run checker, which compares it with the machines'
//! truth after reconciliation.

use std::collections::BTreeMap;
use std::sync::Arc;

use meso_api::v1::{
    AgentId, Filters, FrameworkId, MasterInfo, Offer, OfferId, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use meso_api::Resources;
use meso_frameworks::{DriverActions, Scheduler};
use parking_lot::Mutex;

use crate::rng::SimRng;
use crate::trace::Trace;
use libprocess::{Clock, TestClock};

/// What a framework believes.
#[derive(Debug, Default)]
pub struct FrameworkView {
    /// Its id once registered.
    pub id: Option<FrameworkId>,
    /// Latest state of each task it launched (STAGING until an update says otherwise).
    pub tasks: BTreeMap<String, TaskState>,
    /// Tasks launched.
    pub launched: u64,
    /// Offers declined.
    pub declined: u64,
    /// Updates received.
    pub updates: u64,
    /// Whether it asked for no more offers.
    pub suppressed: bool,
    /// Whether the workload still launches tasks (off once the run heals).
    pub launching: bool,
}

/// A shared view.
pub type SharedView = Arc<Mutex<FrameworkView>>;

/// The seeded scheduler.
pub struct SimScheduler {
    name: String,
    rng: SimRng,
    view: SharedView,
    next_task: u64,
    trace: Trace,
    clock: TestClock,
}

impl SimScheduler {
    /// Framework `name`, drawing from `rng`.
    pub fn new(
        name: &str,
        rng: SimRng,
        view: SharedView,
        trace: Trace,
        clock: TestClock,
    ) -> SimScheduler {
        SimScheduler {
            name: name.to_string(),
            rng,
            view,
            next_task: 0,
            trace,
            clock,
        }
    }

    fn launch_into(&mut self, offer: &Offer) -> Vec<TaskInfo> {
        let mut left = offer.resources.clone();
        let mut tasks = Vec::new();
        let want = self.rng.range(1, 3);
        for _ in 0..want {
            let cpus = self.rng.range(1, 10) as f64 / 10.0;
            let mem = self.rng.range(1, 8) * 32;
            let Ok(need) = Resources::parse(&format!("cpus:{cpus};mem:{mem}"), "*") else {
                break;
            };
            let need = need.allocate(
                offer
                    .resources
                    .allocations()
                    .keys()
                    .next()
                    .map(|r| r.as_ref())
                    .unwrap_or("*"),
            );
            if !left.contains(&need) {
                break;
            }
            left -= &need;
            self.next_task += 1;
            let id = format!("{}-t{}", self.name, self.next_task);
            tasks.push(TaskInfo::command(&id, offer.agent_id.clone(), "sim").with_resources(need));
        }
        tasks
    }
}

impl Scheduler for SimScheduler {
    fn registered(&mut self, _d: &mut DriverActions<'_>, id: &FrameworkId, _m: &MasterInfo) {
        self.view.lock().id = Some(id.clone());
    }

    fn resource_offers(&mut self, d: &mut DriverActions<'_>, offers: Vec<Offer>) {
        for offer in offers {
            let launching = self.view.lock().launching;
            let tasks = if launching && self.rng.chance(0.7) {
                self.launch_into(&offer)
            } else {
                Vec::new()
            };
            let filters = Filters {
                refuse_seconds: self.rng.range(0, 10) as f64,
            };
            let mut view = self.view.lock();
            if tasks.is_empty() {
                view.declined += 1;
            }
            for t in &tasks {
                self.trace.line(
                    self.clock.now(),
                    format_args!(
                        "{} launches {} on {}",
                        self.name,
                        t.task_id.as_str(),
                        offer.agent_id.value
                    ),
                );
                view.launched += 1;
                view.tasks
                    .insert(t.task_id.as_str().to_string(), TaskState::Staging);
            }
            drop(view);
            let _ = d.launch_tasks(vec![offer.id.clone()], tasks, filters);
        }
    }

    fn offer_rescinded(&mut self, _d: &mut DriverActions<'_>, _offer: &OfferId) {}

    fn status_update(&mut self, _d: &mut DriverActions<'_>, status: &TaskStatus) {
        self.trace.line(
            self.clock.now(),
            format_args!(
                "{} hears {} {:?} ({:?})",
                self.name,
                status.task_id.as_str(),
                status.state,
                status.reason
            ),
        );
        let mut view = self.view.lock();
        view.updates += 1;
        view.tasks
            .insert(status.task_id.as_str().to_string(), status.state);
    }

    fn agent_lost(&mut self, _d: &mut DriverActions<'_>, _agent: &AgentId) {}
}

/// One workload step on the agenda: kill a running task, suppress, revive or reconcile,
/// drawn from `rng`.
pub fn step(rng: &mut SimRng, view: &SharedView, d: &mut DriverActions<'_>) -> String {
    let roll = rng.below(100);
    let mut v = view.lock();
    if roll < 40 {
        let running: Vec<&String> = v
            .tasks
            .iter()
            .filter(|(_, s)| !s.is_terminal())
            .map(|(id, _)| id)
            .collect();
        if running.is_empty() {
            return "kill: nothing to kill".into();
        }
        let id = running[rng.below(running.len())].clone();
        drop(v);
        let _ = d.kill_task(TaskId::new(&id));
        format!("kill {id}")
    } else if roll < 55 {
        if v.suppressed {
            v.suppressed = false;
            drop(v);
            let _ = d.revive_offers();
            "revive".into()
        } else {
            v.suppressed = true;
            drop(v);
            let _ = d.suppress_offers();
            "suppress".into()
        }
    } else if roll < 65 {
        drop(v);
        let _ = d.reconcile_tasks(Vec::new());
        "reconcile".into()
    } else if v.suppressed {
        v.suppressed = false;
        drop(v);
        let _ = d.revive_offers();
        "revive".into()
    } else {
        "idle".into()
    }
}
