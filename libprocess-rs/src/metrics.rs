//! Per-node metrics registry: counters, gauges and timers registered by name.
//!
//! Owns every metric of one node. Handles are cheap clones of an `Arc` around an atomic, so a
//! hot path bumps a counter with one relaxed atomic add and no lookup. Names are Mesos style
//! (`libprocess/dropped/unknown_process`); `/metrics/snapshot` serves them as a flat JSON
//! object and `/metrics` as Prometheus text (names with every character outside
//! `[a-zA-Z0-9_]` mapped to `_`, unless the node was given a renderer with
//! `Node::set_metrics_text`). Timers keep a bounded window of recent samples. A snapshot
//! also carries the machine's `system/*` figures (`system.rs`), as Mesos's libprocess does.

use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A renderer of a metrics snapshot (`name -> value`) as Prometheus text, for
/// `Node::set_metrics_text`.
pub type MetricsText = fn(&BTreeMap<String, f64>) -> String;

/// How many recent samples a timer keeps for its percentiles.
const TIMER_WINDOW: usize = 1024;

/// A monotonically increasing count.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Adds `d` (may be negative).
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down and may be fractional (e.g. a share or a resource amount).
#[derive(Clone, Debug, Default)]
pub struct FloatGauge(Arc<AtomicU64>);

impl FloatGauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Durations of an operation: count plus percentiles over the most recent samples.
#[derive(Clone, Debug, Default)]
pub struct Timer(Arc<Mutex<TimerState>>);

#[derive(Debug, Default)]
struct TimerState {
    count: u64,
    recent_us: VecDeque<u64>,
}

impl Timer {
    /// Records one duration.
    pub fn record(&self, d: Duration) {
        let mut s = self.0.lock();
        s.count += 1;
        if s.recent_us.len() == TIMER_WINDOW {
            s.recent_us.pop_front();
        }
        s.recent_us
            .push_back(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// Total number of samples ever recorded.
    pub fn count(&self) -> u64 {
        self.0.lock().count
    }

    fn summary(&self) -> Vec<(&'static str, f64)> {
        let s = self.0.lock();
        let mut sorted: Vec<u64> = s.recent_us.iter().copied().collect();
        sorted.sort_unstable();
        let pick = |q: f64| -> f64 {
            if sorted.is_empty() {
                return 0.0;
            }
            let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
            sorted[idx] as f64 / 1000.0
        };
        vec![
            ("count", s.count as f64),
            ("p50_ms", pick(0.5)),
            ("p90_ms", pick(0.9)),
            ("p99_ms", pick(0.99)),
            ("max_ms", pick(1.0)),
        ]
    }
}

#[derive(Clone)]
enum Metric {
    Counter(Counter),
    Gauge(Gauge),
    FloatGauge(FloatGauge),
    Timer(Timer),
}

/// The registry of one node. Registering a name twice returns the same metric (of the kind
/// first registered; asking for another kind under a taken name gives a fresh detached
/// metric and leaves the registered one in place, so callers never fail).
#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<BTreeMap<String, Metric>>>);

impl Metrics {
    /// A new empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter named `name`, registering it if new.
    pub fn counter(&self, name: &str) -> Counter {
        let mut map = self.0.lock();
        match map
            .entry(name.to_string())
            .or_insert_with(|| Metric::Counter(Counter::default()))
        {
            Metric::Counter(c) => c.clone(),
            _ => Counter::default(),
        }
    }

    /// The gauge named `name`, registering it if new.
    pub fn gauge(&self, name: &str) -> Gauge {
        let mut map = self.0.lock();
        match map
            .entry(name.to_string())
            .or_insert_with(|| Metric::Gauge(Gauge::default()))
        {
            Metric::Gauge(g) => g.clone(),
            _ => Gauge::default(),
        }
    }

    /// The fractional gauge named `name`, registering it if new.
    pub fn float_gauge(&self, name: &str) -> FloatGauge {
        let mut map = self.0.lock();
        match map
            .entry(name.to_string())
            .or_insert_with(|| Metric::FloatGauge(FloatGauge::default()))
        {
            Metric::FloatGauge(g) => g.clone(),
            _ => FloatGauge::default(),
        }
    }

    /// The timer named `name`, registering it if new.
    pub fn timer(&self, name: &str) -> Timer {
        let mut map = self.0.lock();
        match map
            .entry(name.to_string())
            .or_insert_with(|| Metric::Timer(Timer::default()))
        {
            Metric::Timer(t) => t.clone(),
            _ => Timer::default(),
        }
    }

    /// Removes a metric; returns whether it existed.
    pub fn remove(&self, name: &str) -> bool {
        self.0.lock().remove(name).is_some()
    }

    /// Every metric as flat `name -> value` pairs; a timer `t` yields `t/count`, `t/p50_ms`, ...
    /// With them the machine's `system/*` figures, read now (see `system.rs`).
    pub fn snapshot(&self) -> BTreeMap<String, f64> {
        let metrics: Vec<(String, Metric)> = self
            .0
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out = crate::system::system_metrics();
        for (name, metric) in metrics {
            match metric {
                Metric::Counter(c) => {
                    out.insert(name, c.get() as f64);
                }
                Metric::Gauge(g) => {
                    out.insert(name, g.get() as f64);
                }
                Metric::FloatGauge(g) => {
                    out.insert(name, g.get());
                }
                Metric::Timer(t) => {
                    for (suffix, v) in t.summary() {
                        out.insert(format!("{name}/{suffix}"), v);
                    }
                }
            }
        }
        out
    }

    /// The snapshot as Mesos-style JSON: `{"name": value, ...}`.
    pub fn snapshot_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .snapshot()
            .into_iter()
            .map(|(k, v)| {
                let value = if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    serde_json::Value::from(v as i64)
                } else {
                    serde_json::Value::from(v)
                };
                (k, value)
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// The snapshot as Prometheus text exposition format.
    pub fn prometheus_text(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.snapshot() {
            let clean: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let clean = if clean.starts_with(|c: char| c.is_ascii_digit()) {
                format!("_{clean}")
            } else {
                clean
            };
            let _ = writeln!(out, "{clean} {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_timers_appear_in_both_formats() {
        let m = Metrics::new();
        m.counter("a/hits").add(3);
        m.counter("a/hits").inc();
        m.gauge("depth").set(-2);
        m.float_gauge("share").set(0.25);
        let t = m.timer("rtt");
        t.record(Duration::from_millis(2));
        t.record(Duration::from_millis(4));
        let json: serde_json::Value = serde_json::from_str(&m.snapshot_json()).unwrap();
        assert_eq!(json["a/hits"], 4);
        assert_eq!(json["depth"], -2);
        assert_eq!(json["share"], 0.25);
        assert_eq!(json["rtt/count"], 2);
        assert_eq!(json["rtt/max_ms"], 4);
        let prom = m.prometheus_text();
        assert!(prom.contains("a_hits 4\n"), "{prom}");
        assert!(prom.contains("depth -2\n"), "{prom}");
    }

    #[test]
    fn a_name_keeps_its_first_kind() {
        let m = Metrics::new();
        m.counter("x").inc();
        m.gauge("x").set(100);
        assert_eq!(m.snapshot()["x"], 1.0);
        assert!(m.remove("x"));
        assert!(!m.remove("x"));
    }
}
