//! The agent's metrics under Mesos's key names (`slave/registered`, `slave/tasks_running`,
//! `slave/executors_running`, `slave/cpus_used`, ...; HTTP reference §4.5), kept in the
//! node's metrics registry so that `/metrics/snapshot` and GET_METRICS show them next to
//! libprocess's own.
//!
//! The gauges are recomputed from the agent's state by [`Agent::refresh_metrics`] when they
//! are read: the agent answers `/metrics/snapshot`, `/metrics` (it is the node's metrics
//! snapshot process) and GET_METRICS itself, refreshing first. Recomputing after every message
//! cost a pass over all executors and tasks per status update, for gauges nobody read.
//! The counters count as things happen. Invariant: every `/metrics/snapshot` or
//! GET_METRICS answer, and every `/metrics` text, shows gauges matching the agent's state
//! when it was asked.

use std::net::IpAddr;

use libprocess::{Counter, FloatGauge, Gauge, Metrics};
use meso_api::v1::TaskState;

use super::{Agent, Registration};

/// Task states with a `slave/tasks_<state>` gauge.
const TASK_GAUGES: &[(TaskState, &str)] = &[
    (TaskState::Staging, "staging"),
    (TaskState::Starting, "starting"),
    (TaskState::Running, "running"),
    (TaskState::Killing, "killing"),
    (TaskState::Finished, "finished"),
    (TaskState::Failed, "failed"),
    (TaskState::Killed, "killed"),
    (TaskState::Lost, "lost"),
    (TaskState::Gone, "gone"),
];

/// What the agent shows about itself beyond its state: start time, address, metrics.
pub(crate) struct Observability {
    /// Seconds since the epoch when the agent process started.
    pub(crate) start_time_secs: f64,
    /// The IP the agent serves on (for `pid` in `/state`).
    pub(crate) ip: IpAddr,
    /// The file the agent's log is written to (`--log-dir`), served as `/slave/log`.
    pub(crate) log_file: Option<std::path::PathBuf>,
    gauges: Option<Gauges>,
}

struct Gauges {
    registered: Gauge,
    uptime_secs: FloatGauge,
    frameworks_active: Gauge,
    executors: [Gauge; 3],
    tasks: Vec<(TaskState, Gauge)>,
    resources: Vec<(&'static str, FloatGauge, FloatGauge, FloatGauge)>,
    /// Executor UPDATE calls taken.
    pub(crate) valid_status_updates: Counter,
    /// Executor UPDATE calls refused.
    pub(crate) invalid_status_updates: Counter,
    /// Framework messages delivered to an executor.
    pub(crate) valid_framework_messages: Counter,
    /// Framework messages for an unknown executor.
    pub(crate) invalid_framework_messages: Counter,
}

impl Observability {
    /// Nothing registered yet (the node is not known before the process starts).
    pub(crate) fn new() -> Self {
        Observability {
            start_time_secs: 0.0,
            ip: IpAddr::from([127, 0, 0, 1]),
            log_file: None,
            gauges: None,
        }
    }

    /// Registers the metrics in the node's registry.
    pub(crate) fn install(&mut self, metrics: &Metrics, ip: IpAddr, now_secs: f64) {
        self.ip = ip;
        self.start_time_secs = now_secs;
        let res = |name: &'static str| {
            (
                name,
                metrics.float_gauge(&format!("slave/{name}_total")),
                metrics.float_gauge(&format!("slave/{name}_used")),
                metrics.float_gauge(&format!("slave/{name}_percent")),
            )
        };
        self.gauges = Some(Gauges {
            registered: metrics.gauge("slave/registered"),
            uptime_secs: metrics.float_gauge("slave/uptime_secs"),
            frameworks_active: metrics.gauge("slave/frameworks_active"),
            executors: [
                metrics.gauge("slave/executors_registering"),
                metrics.gauge("slave/executors_running"),
                metrics.gauge("slave/executors_terminating"),
            ],
            tasks: TASK_GAUGES
                .iter()
                .map(|(s, n)| (*s, metrics.gauge(&format!("slave/tasks_{n}"))))
                .collect(),
            resources: SCALARS.iter().map(|n| res(n)).collect(),
            valid_status_updates: metrics.counter("slave/valid_status_updates"),
            invalid_status_updates: metrics.counter("slave/invalid_status_updates"),
            valid_framework_messages: metrics.counter("slave/valid_framework_messages"),
            invalid_framework_messages: metrics.counter("slave/invalid_framework_messages"),
        });
        // Registered with a value so that the key is there from the start.
        metrics.gauge("slave/recovery_errors").set(0);
        metrics.gauge("slave/executors_terminated");
    }

    /// Counts an executor UPDATE, taken or refused.
    pub(crate) fn count_status_update(&self, valid: bool) {
        if let Some(g) = &self.gauges {
            if valid {
                g.valid_status_updates.inc()
            } else {
                g.invalid_status_updates.inc()
            }
        }
    }

    /// Counts a framework message, delivered or not.
    pub(crate) fn count_framework_message(&self, valid: bool) {
        if let Some(g) = &self.gauges {
            if valid {
                g.valid_framework_messages.inc()
            } else {
                g.invalid_framework_messages.inc()
            }
        }
    }
}

/// The scalar resources with `slave/<name>_{total,used,percent}` gauges, in gauge order.
const SCALARS: [&str; 4] = ["cpus", "gpus", "mem", "disk"];

impl Agent {
    /// cpus, gpus, mem, disk used by executors and unfinished tasks (plain sums, no
    /// `Resources` arithmetic).
    fn used_scalars(&self) -> [f64; 4] {
        let mut used = [0.0; 4];
        let mut add = |r: &meso_api::Resources| {
            for item in r.iter().filter(|i| !i.revocable) {
                if let (Some(i), meso_api::resources::Value::Scalar(v)) =
                    (SCALARS.iter().position(|n| **n == *item.name), &item.value)
                {
                    used[i] += v.as_f64();
                }
            }
        };
        for (fid, fw) in &self.frameworks {
            for ex in fw.executors.values() {
                add(&ex.info.resources);
                ex.queued.iter().for_each(|t| add(&t.resources));
                for t in ex.tasks.values() {
                    if !self.task_state(fid, &t.info.task_id, t.state).is_terminal() {
                        add(&t.info.resources);
                    }
                }
            }
        }
        used
    }

    /// Recomputes every gauge from the agent's state; `now` is the wall clock in seconds.
    pub(super) fn refresh_metrics(&self, now: f64) {
        let Some(g) = &self.observe.gauges else {
            return;
        };
        g.registered
            .set(i64::from(self.registration == Registration::Registered));
        g.uptime_secs
            .set((now - self.observe.start_time_secs).max(0.0));
        g.frameworks_active.set(self.frameworks.len() as i64);
        for (gauge, n) in g.executors.iter().zip(self.executor_counts()) {
            gauge.set(n as i64);
        }
        let mut per_state = [0i64; TASK_GAUGES.len()];
        let mut count = |state: TaskState| {
            if let Some(i) = TASK_GAUGES.iter().position(|(s, _)| *s == state) {
                per_state[i] += 1;
            }
        };
        for (fid, fw) in &self.frameworks {
            for ex in fw.executors.values() {
                ex.queued.iter().for_each(|_| count(TaskState::Staging));
                for t in ex.tasks.values() {
                    count(self.task_state(fid, &t.info.task_id, t.state));
                }
            }
        }
        for ((_, gauge), n) in g.tasks.iter().zip(per_state) {
            gauge.set(n);
        }
        let used = self.used_scalars();
        let total = self.info.resources.non_revocable();
        for ((name, t, u, p), uv) in g.resources.iter().zip(used) {
            let tv = total.scalar(name).map_or(0.0, |s| s.as_f64());
            t.set(tv);
            u.set(uv);
            p.set(if tv > 0.0 { uv / tv } else { 0.0 });
        }
    }
}
