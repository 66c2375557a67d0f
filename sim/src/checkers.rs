//! The checkers: invariants of the whole cluster, read from the production actors' own
//! books (through `Pid::dispatch`, at moments when every actor is idle) and from the
//! simulated machines' truth.
//!
//! - `launches`: no task id ever ran on two different machines (recorded by the
//!   simulated executors as tasks start).
//! - [`allocation_books`]: per agent, what the allocator holds never exceeds the agent's
//!   total, nor what the master books as held (offers, unfinished tasks) — and the
//!   allocator's per (framework, agent) allocation equals the master's.
//! - acknowledgements (after healing, before reconciliation; `world`): no agent holds an
//!   unacknowledged update of a checkpointing framework's task, and
//!   [`terminal_updates`]: every such task that ended on its machine is terminal in its
//!   framework's view.
//! - [`framework_views`] (after healing and reconciliation): every task a framework
//!   believes live runs on some machine, and every task running on a machine is believed
//!   RUNNING by its framework.

use std::collections::BTreeMap;
use std::sync::Arc;

use libprocess::Pid;
use meso_api::v1::TaskState;
use meso_api::Resources;
use meso_master::Master;
use parking_lot::Mutex;

use crate::workload::SharedView;

/// Violations found, in the order found.
#[derive(Clone, Default)]
pub struct Violations(Arc<Mutex<Vec<String>>>);

impl Violations {
    /// Records one.
    pub fn push(&self, what: String) {
        self.0.lock().push(what);
    }
    /// All so far.
    pub fn all(&self) -> Vec<String> {
        self.0.lock().clone()
    }
    /// Whether any.
    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }
}

/// Where each task ran and whether it still runs: the machines' truth.
#[derive(Clone, Default)]
pub struct Truth(Arc<Mutex<BTreeMap<String, (usize, bool)>>>);

impl Truth {
    /// Task `task` started on machine `host`; a second start elsewhere is a violation.
    pub fn started(&self, task: &str, host: usize, violations: &Violations) {
        let mut t = self.0.lock();
        if let Some((first, _)) = t.get(task) {
            if *first != host {
                violations.push(format!(
                    "task {task} launched on machine {host} after machine {first}"
                ));
            }
        }
        t.insert(task.to_string(), (host, true));
    }
    /// Task `task` ended.
    pub fn ended(&self, task: &str) {
        if let Some(e) = self.0.lock().get_mut(task) {
            e.1 = false;
        }
    }
    /// Tasks running now, with their machine.
    pub fn running(&self) -> BTreeMap<String, usize> {
        self.0
            .lock()
            .iter()
            .filter(|(_, (_, r))| *r)
            .map(|(k, (h, _))| (k.clone(), *h))
            .collect()
    }
    /// Tasks that started and have ended, with their machine.
    pub fn finished(&self) -> BTreeMap<String, usize> {
        self.0
            .lock()
            .iter()
            .filter(|(_, (_, r))| !*r)
            .map(|(k, (h, _))| (k.clone(), *h))
            .collect()
    }
    /// Tasks that ever started.
    pub fn started_count(&self) -> usize {
        self.0.lock().len()
    }
}

fn scalars(r: &Resources) -> (i64, i64) {
    let milli = |s: Option<meso_api::resources::Scalar>| s.map_or(0, |s| s.milli());
    (milli(r.cpus()), milli(r.mem()))
}

/// Compares the master's books with its allocator's; `None` when the master is gone.
pub async fn allocation_books(master: &Pid<Master>) -> Option<Vec<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    master
        .dispatch(move |m, _| {
            let _ = tx.send((m.held_by_frameworks(), m.agent_totals(), m.allocator_pid()));
        })
        .ok()?;
    let (held, totals, allocator) = rx.await.ok()?;
    let allocator = allocator?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let registered: Vec<String> = totals.iter().map(|(a, _)| a.clone()).collect();
    allocator
        .dispatch(move |a, _| {
            let core = a.core();
            let allocations = core.allocations();
            let mut agent_totals = BTreeMap::new();
            for o in &allocations {
                if let Ok(t) = core.total_resources(&o.agent) {
                    agent_totals.insert(o.agent.to_string(), t);
                }
            }
            let unknown: Vec<String> = registered
                .into_iter()
                .filter(|agent| core.total_resources(agent).is_err())
                .collect();
            let _ = tx.send((allocations, agent_totals, unknown));
        })
        .ok()?;
    let (allocations, alloc_totals, unknown) = rx.await.ok()?;
    let mut out = Vec::new();
    for agent in unknown {
        out.push(format!(
            "agent {agent} is registered with the master but unknown to the allocator"
        ));
    }
    let mut by_pair: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut by_agent: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for o in &allocations {
        let (c, m) = scalars(&o.resources);
        let e = by_pair
            .entry((o.framework.to_string(), o.agent.to_string()))
            .or_default();
        e.0 += c;
        e.1 += m;
        let a = by_agent.entry(o.agent.to_string()).or_default();
        a.0 += c;
        a.1 += m;
    }
    for (agent, (c, m)) in &by_agent {
        if let Some(total) = alloc_totals.get(agent) {
            let (tc, tm) = scalars(total);
            if *c > tc || *m > tm {
                out.push(format!(
                    "agent {agent}: allocated cpus {c}m mem {m} exceed its total cpus {tc}m mem {tm}"
                ));
            }
        }
    }
    let master_totals: BTreeMap<String, Resources> = totals.into_iter().collect();
    let mut master_pairs: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut master_agents: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for h in &held {
        let (c, m) = scalars(&h.resources);
        master_pairs.insert((h.framework.clone(), h.agent.clone()), (c, m));
        let a = master_agents.entry(h.agent.clone()).or_default();
        a.0 += c;
        a.1 += m;
    }
    for (agent, (c, m)) in &master_agents {
        if let Some(total) = master_totals.get(agent) {
            let (tc, tm) = scalars(total);
            if *c > tc || *m > tm {
                out.push(format!(
                    "master books agent {agent} as holding cpus {c}m mem {m} over its total cpus {tc}m mem {tm}"
                ));
            }
        }
    }
    let keys: std::collections::BTreeSet<&(String, String)> =
        by_pair.keys().chain(master_pairs.keys()).collect();
    for key in keys {
        let a = by_pair.get(key).copied().unwrap_or_default();
        let m = master_pairs.get(key).copied().unwrap_or_default();
        if a != m {
            out.push(format!(
                "framework {} on agent {}: allocator holds cpus {}m mem {}, master books cpus {}m mem {}",
                key.0, key.1, a.0, a.1, m.0, m.1
            ));
        }
    }
    Some(out)
}

/// After healing, before reconciliation: every task of `views` (checkpointing frameworks)
/// that started on a machine and ended there has a terminal state in its framework's view:
/// its terminal update reached the framework.
pub fn terminal_updates(views: &[SharedView], truth: &Truth) -> Vec<String> {
    let ended = truth.finished();
    let mut out = Vec::new();
    for view in views {
        for (task, state) in &view.lock().tasks {
            if let Some(host) = ended.get(task) {
                if !state.is_terminal() {
                    out.push(format!(
                        "task {task} ended on machine {host}, but its framework still believes {state:?} (its terminal update was lost)"
                    ));
                }
            }
        }
    }
    out
}

/// After healing and reconciliation: each framework's view against the machines' truth.
pub fn framework_views(views: &[SharedView], truth: &Truth) -> Vec<String> {
    let running = truth.running();
    let mut out = Vec::new();
    let mut believed: BTreeMap<String, TaskState> = BTreeMap::new();
    for view in views {
        for (task, state) in &view.lock().tasks {
            believed.insert(task.clone(), *state);
        }
    }
    for (task, state) in &believed {
        let live = !state.is_terminal() && *state != TaskState::Unreachable;
        if live && !running.contains_key(task) {
            out.push(format!(
                "framework believes task {task} is {state:?}, but no machine runs it"
            ));
        }
    }
    for (task, host) in &running {
        match believed.get(task) {
            Some(TaskState::Running) => {}
            other => out.push(format!(
                "task {task} runs on machine {host}, but its framework believes {other:?}"
            )),
        }
    }
    out
}
