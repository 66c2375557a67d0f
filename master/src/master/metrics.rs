//! The master's `/metrics/snapshot` keys with Mesos's names (HTTP reference §4.5), computed
//! from the books on demand: `master/elected`, `master/uptime_secs`, resource totals, used
//! and percentages (plain and revocable), agents, frameworks, outstanding offers, tasks per
//! state, operator event stream subscribers. Pure: the caller passes the time and the node's
//! own (libprocess) metrics, which are merged in under their own names.
//!
//! Invariants: every key below is always present (0 when nothing counts); percentages are
//! `used / total` and 0 when the total is 0; values are printed as JSON doubles, as Mesos does.

use std::collections::BTreeMap;

use meso_api::resources::{Scalar, Value};
use meso_api::v1::TaskState;
use meso_api::Resources;

use super::state_json::StateView;

/// Agents registered for the first time (a counter in the node's registry).
pub const AGENT_REGISTRATIONS: &str = "master/slave_registrations";

/// Agents re-registered (a counter in the node's registry).
pub const AGENT_REREGISTRATIONS: &str = "master/slave_reregistrations";

/// What the master metrics are computed from.
pub struct MetricsInput<'a> {
    /// The books.
    pub view: StateView<'a>,
    /// Now, in seconds since the epoch (same clock as the timeline).
    pub now: f64,
    /// Whether this master leads.
    pub elected: bool,
    /// Live operator event stream subscribers.
    pub subscribers: usize,
}

/// Active task states and the key each is counted under.
const ACTIVE_STATES: [(TaskState, &str); 5] = [
    (TaskState::Staging, "staging"),
    (TaskState::Starting, "starting"),
    (TaskState::Running, "running"),
    (TaskState::Killing, "killing"),
    (TaskState::Unreachable, "unreachable"),
];

/// Terminal task states and their keys.
const TERMINAL_STATES: [(TaskState, &str); 8] = [
    (TaskState::Finished, "finished"),
    (TaskState::Failed, "failed"),
    (TaskState::Killed, "killed"),
    (TaskState::Lost, "lost"),
    (TaskState::Error, "error"),
    (TaskState::Dropped, "dropped"),
    (TaskState::Gone, "gone"),
    (TaskState::GoneByOperator, "gone_by_operator"),
];

/// The scalar resources whose totals, use and percentages are reported.
const SUMMED: [&str; 4] = ["cpus", "gpus", "mem", "disk"];

/// Sums of the [`SUMMED`] scalars, plain and revocable, in `Scalar`'s fixed point (as a
/// merged `Resources` would hold them), without building a `Resources` value.
#[derive(Default)]
struct ScalarSums([[Scalar; 2]; SUMMED.len()]);

impl ScalarSums {
    fn add(&mut self, resources: &Resources) {
        for r in resources.iter() {
            if let Value::Scalar(s) = &r.value {
                if let Some(i) = SUMMED.iter().position(|n| *n == &*r.name) {
                    self.0[i][usize::from(r.revocable)] += *s;
                }
            }
        }
    }

    fn get(&self, i: usize, revocable: bool) -> f64 {
        self.0[i][usize::from(revocable)].as_f64()
    }
}

/// The master's metrics by Mesos name.
pub fn master_metrics(input: &MetricsInput<'_>) -> BTreeMap<String, f64> {
    let v = &input.view;
    let mut out = BTreeMap::new();
    let mut put = |name: &str, value: f64| {
        out.insert(format!("master/{name}"), value);
    };
    put("elected", if input.elected { 1.0 } else { 0.0 });
    put("uptime_secs", (input.now - v.timeline.start_time).max(0.0));

    // Scalar sums only, straight from each resource: a snapshot used to merge every task's
    // resources into one `Resources` value, 100,000 merges on a large cluster.
    let mut total = ScalarSums::default();
    for a in v.agents.iter() {
        total.add(&a.info.resources);
    }
    let mut used = ScalarSums::default();
    let mut active_tasks = [0u64; ACTIVE_STATES.len()];
    for t in v.tasks.active() {
        used.add(&t.info.resources);
        if let Some(i) = ACTIVE_STATES
            .iter()
            .position(|(state, _)| *state == t.state)
        {
            active_tasks[i] += 1;
        }
    }
    // Tasks of unreachable agents count as TASK_UNREACHABLE (Mesos's
    // `master/tasks_unreachable`); those their frameworks were told TASK_LOST do not.
    if let Some(i) = ACTIVE_STATES
        .iter()
        .position(|(state, _)| *state == TaskState::Unreachable)
    {
        active_tasks[i] += v
            .unreachable_tasks
            .iter()
            .filter(|t| t.state == TaskState::Unreachable)
            .count() as u64;
    }
    for o in v.offers.iter() {
        used.add(&o.offer.resources);
    }
    for (i, name) in SUMMED.iter().enumerate() {
        for revocable in [false, true] {
            let (t, u) = (total.get(i, revocable), used.get(i, revocable));
            let infix = if revocable { "_revocable" } else { "" };
            put(&format!("{name}{infix}_total"), t);
            put(&format!("{name}{infix}_used"), u);
            put(
                &format!("{name}{infix}_percent"),
                if t > 0.0 { u / t } else { 0.0 },
            );
        }
    }

    let agents = v.agents.len() as f64;
    let unreachable = v.agents.unreachable().count() as f64;
    let active = v.agents.active_count() as f64;
    put("slaves_active", active);
    put("slaves_inactive", agents - active);
    put("slaves_connected", active);
    put("slaves_disconnected", agents - active);
    put("slaves_unreachable", unreachable);

    let (mut active, mut inactive, mut connected, mut disconnected) = (0.0, 0.0, 0.0, 0.0);
    for f in v.frameworks.iter() {
        if f.active {
            active += 1.0;
        } else {
            inactive += 1.0;
        }
        if f.connected {
            connected += 1.0;
        } else {
            disconnected += 1.0;
        }
    }
    put("frameworks_active", active);
    put("frameworks_inactive", inactive);
    put("frameworks_connected", connected);
    put("frameworks_disconnected", disconnected);
    put("outstanding_offers", v.offers.len() as f64);

    for ((_, key), count) in ACTIVE_STATES.iter().zip(active_tasks) {
        put(&format!("tasks_{key}"), count as f64);
    }
    for (state, key) in TERMINAL_STATES {
        put(
            &format!("tasks_{key}"),
            v.tasks.terminal_count(state) as f64,
        );
    }
    put(
        "operator_event_stream_subscribers",
        input.subscribers as f64,
    );
    out
}

/// The allocator's keys under Mesos's names: `allocator/mesos/allocation_runs`,
/// `allocator/mesos/resources/<name>/{total,offered_or_allocated}`,
/// `allocator/mesos/offer_filters/roles/<role>/active`, and meso's own
/// `allocator/mesos/roles/<role>/resources/<name>/allocated` (what the role's subtree holds)
/// and `allocator/mesos/roles/<role>/weight`. (The dominant shares and quota keys come from
/// the master's books, `role_calls.rs`.)
pub fn allocator_metrics(m: &meso_allocator::AllocatorMetrics) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    out.insert(
        "allocator/mesos/allocation_runs".to_string(),
        m.allocation_runs as f64,
    );
    for (name, total) in &m.total {
        let held = m
            .offered_or_allocated
            .get(name)
            .copied()
            .unwrap_or_default();
        let prefix = format!("allocator/mesos/resources/{name}");
        out.insert(format!("{prefix}/total"), total.as_f64());
        out.insert(format!("{prefix}/offered_or_allocated"), held.as_f64());
    }
    for (role, r) in &m.roles {
        out.insert(
            format!("allocator/mesos/offer_filters/roles/{role}/active"),
            r.active_filters as f64,
        );
        out.insert(format!("allocator/mesos/roles/{role}/weight"), r.weight);
        for (name, amount) in &r.allocated {
            out.insert(
                format!("allocator/mesos/roles/{role}/resources/{name}/allocated"),
                amount.as_f64(),
            );
        }
    }
    out
}

/// The `/metrics/snapshot` body: the master's metrics plus `node` (libprocess's own), as a
/// flat JSON object of doubles.
pub fn snapshot_json(master: BTreeMap<String, f64>, node: BTreeMap<String, f64>) -> Vec<u8> {
    let mut all = node;
    all.extend(master);
    serde_json::to_vec(&all).expect("a map of strings to numbers serialises")
}

/// The snapshot as operator `Metric`s: `[{"name": ..., "value": ...}]` (GET_METRICS).
pub fn as_metric_list(all: &BTreeMap<String, f64>) -> serde_json::Value {
    serde_json::Value::Array(
        all.iter()
            .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
            .collect(),
    )
}
