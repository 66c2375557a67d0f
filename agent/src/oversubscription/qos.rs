//! `--qos-controller load`: evicts revocable containers when the machine's own work suffers.
//!
//! Signals, each against an operator-set threshold (a threshold of 0 turns its signal off):
//! - `cpu`: the machine's own CPU use (everything but revocable containers) as a share of
//!   its cores (`--qos-cpu-threshold`);
//! - `load`: runnable tasks per core (`--qos-load-threshold`);
//! - `memory`: available memory as a share of the machine's, firing when *below*
//!   (`--qos-mem-available-threshold`);
//! - `cpu_pressure` and `mem_pressure`: PSI `some avg10` percentages, where the kernel has
//!   PSI (`--qos-cpu-pressure-threshold`, `--qos-mem-pressure-threshold`);
//! - `throttling`: the share of CFS periods a non-revocable container was throttled in
//!   (`--qos-throttle-threshold`).
//!
//! Hysteresis: a signal starts firing when it crosses its threshold and stops only once it
//! is back past the threshold by a tenth of it, so a signal hovering at the threshold does
//! not start and stop on every sample. On every sample where a signal fires the controller
//! evicts revocable containers newest first: enough that the revocable CPU (or memory) left
//! fits what the threshold leaves, and at least one, so evictions go on until the
//! interference is gone or no revocable container is left.
//!
//! Invariants (property-tested): a correction only names a revocable container of the
//! sample, each at most once, newest first; nothing is evicted while every signal is below
//! its threshold.

/// The controller's thresholds (0 turns a signal off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QosThresholds {
    /// Own CPU use over cores (0..=1).
    pub cpu: f64,
    /// Runnable tasks per core.
    pub load: f64,
    /// Available memory over total (0..=1): fires below.
    pub mem_available: f64,
    /// CPU PSI `some avg10`, percent.
    pub cpu_pressure: f64,
    /// Memory PSI `some avg10`, percent.
    pub mem_pressure: f64,
    /// Share of CFS periods a non-revocable container was throttled in (0..=1).
    pub throttle: f64,
}

impl Default for QosThresholds {
    fn default() -> Self {
        QosThresholds {
            cpu: 0.8,
            load: 0.0,
            mem_available: 0.1,
            cpu_pressure: 0.0,
            mem_pressure: 0.0,
            throttle: 0.0,
        }
    }
}

/// The signals, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Own CPU use.
    Cpu,
    /// Run queue per core.
    Load,
    /// Available memory.
    Memory,
    /// CPU pressure.
    CpuPressure,
    /// Memory pressure.
    MemPressure,
    /// Throttling of non-revocable containers.
    Throttling,
}

const SIGNALS: [Signal; 6] = [
    Signal::Cpu,
    Signal::Load,
    Signal::Memory,
    Signal::CpuPressure,
    Signal::MemPressure,
    Signal::Throttling,
];

impl Signal {
    /// The name used in messages and flags.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Cpu => "cpu",
            Signal::Load => "load",
            Signal::Memory => "memory",
            Signal::CpuPressure => "cpu_pressure",
            Signal::MemPressure => "mem_pressure",
            Signal::Throttling => "throttling",
        }
    }

    /// Whether the signal fires below its threshold (rather than above).
    fn fires_below(self) -> bool {
        self == Signal::Memory
    }

    fn threshold(self, t: &QosThresholds) -> f64 {
        match self {
            Signal::Cpu => t.cpu,
            Signal::Load => t.load,
            Signal::Memory => t.mem_available,
            Signal::CpuPressure => t.cpu_pressure,
            Signal::MemPressure => t.mem_pressure,
            Signal::Throttling => t.throttle,
        }
    }

    /// The signal's value in `s`, or `None` when the machine does not report it.
    fn value(self, s: &super::Sample) -> Option<f64> {
        match self {
            Signal::Cpu => (s.cores > 0.0).then(|| s.business_cpus() / s.cores),
            Signal::Load => (s.cores > 0.0).then(|| f64::from(s.runnable) / s.cores),
            Signal::Memory => (s.mem_total_mb > 0.0).then(|| s.mem_available_mb / s.mem_total_mb),
            Signal::CpuPressure => s.cpu_pressure,
            Signal::MemPressure => s.mem_pressure,
            Signal::Throttling => Some(
                s.containers
                    .iter()
                    .filter(|c| !c.revocable)
                    .map(|c| c.throttled_fraction)
                    .fold(0.0, f64::max),
            ),
        }
    }
}

/// Evict one revocable container.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The container.
    pub container_id: String,
    /// The signal that fired.
    pub signal: Signal,
    /// What it read and its threshold, for the task's status message.
    pub message: String,
}

/// The controller's state: which signals are firing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QosController {
    thresholds: Option<QosThresholds>,
    firing: Vec<Signal>,
}

/// A signal stops firing only this share of its threshold back past it.
const RELEASE_BAND: f64 = 0.1;

impl QosController {
    /// A controller with `thresholds`.
    pub fn new(thresholds: QosThresholds) -> QosController {
        QosController {
            thresholds: Some(thresholds),
            firing: Vec::new(),
        }
    }

    /// The signals firing after the latest sample.
    pub fn firing(&self) -> &[Signal] {
        &self.firing
    }

    /// Updates which signals fire after `sample`; returns the first that fires, with its
    /// value and threshold.
    fn update_signals(&mut self, sample: &super::Sample) -> Option<(Signal, f64, f64)> {
        let t = self.thresholds.unwrap_or_default();
        let mut first = None;
        for signal in SIGNALS {
            let threshold = signal.threshold(&t);
            let was = self.firing.contains(&signal);
            let fires = match signal.value(sample) {
                Some(v) if threshold > 0.0 => {
                    let (over, released) = if signal.fires_below() {
                        (v < threshold, v >= threshold * (1.0 + RELEASE_BAND))
                    } else {
                        (v > threshold, v <= threshold * (1.0 - RELEASE_BAND))
                    };
                    let fires = over || (was && !released);
                    if fires && first.is_none() {
                        first = Some((signal, v, threshold));
                    }
                    fires
                }
                _ => false,
            };
            if fires && !was {
                self.firing.push(signal);
            } else if !fires && was {
                self.firing.retain(|s| *s != signal);
            }
        }
        first
    }

    /// The evictions `sample` calls for. Containers in `evicting` are on their way out and
    /// neither chosen again nor counted as still running.
    pub fn corrections(&mut self, sample: &super::Sample, evicting: &[String]) -> Vec<Correction> {
        let Some((signal, value, threshold)) = self.update_signals(sample) else {
            return Vec::new();
        };
        let mut candidates: Vec<&super::sample::ContainerWindow> = sample
            .containers
            .iter()
            .filter(|c| c.revocable && !evicting.contains(&c.container_id))
            .collect();
        candidates.sort_by(|a, b| {
            b.launch_seq
                .cmp(&a.launch_seq)
                .then_with(|| b.container_id.cmp(&a.container_id))
        });
        // How much revocable use may stay: what the threshold leaves of the machine.
        let (mut left, room) = match signal {
            Signal::Memory => (
                candidates.iter().map(|c| c.mem_used_mb).sum::<f64>(),
                (sample.mem_available_mb - threshold * sample.mem_total_mb).max(0.0),
            ),
            _ => (
                candidates.iter().map(|c| c.cpus_used).sum::<f64>(),
                (threshold.min(1.0) * sample.cores - sample.business_cpus()).max(0.0),
            ),
        };
        let message = format!(
            "evicted by the QoS controller: signal '{}' read {:.3} against threshold {:.3}",
            signal.name(),
            value,
            threshold
        );
        let mut out = Vec::new();
        for c in candidates {
            if !out.is_empty() && left <= room {
                break;
            }
            left -= match signal {
                Signal::Memory => c.mem_used_mb,
                _ => c.cpus_used,
            };
            out.push(Correction {
                container_id: c.container_id.clone(),
                signal,
                message: message.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::{ContainerWindow, Sample};
    use super::*;
    use proptest::prelude::*;

    fn sample(busy: f64, containers: Vec<ContainerWindow>) -> Sample {
        Sample {
            window_secs: 0.5,
            cores: 2.0,
            cpus_busy: busy,
            runnable: 1,
            load: [0.0; 3],
            mem_total_mb: 4096.0,
            mem_available_mb: 2048.0,
            cpu_pressure: None,
            mem_pressure: None,
            containers,
        }
    }

    fn container(id: &str, revocable: bool, seq: u64, used: f64) -> ContainerWindow {
        ContainerWindow {
            container_id: id.into(),
            revocable,
            launch_seq: seq,
            allocated_cpus: 1.0,
            allocated_mem_mb: 64.0,
            cpus_used: used,
            mem_used_mb: 32.0,
            throttled_fraction: 0.0,
        }
    }

    #[test]
    fn a_busy_machine_evicts_the_newest_revocable_container_naming_the_signal() {
        let mut q = QosController::new(QosThresholds::default());
        let s = sample(
            2.0,
            vec![
                container("old", true, 1, 0.0),
                container("new", true, 2, 0.0),
                container("owner", false, 3, 0.5),
            ],
        );
        let c = q.corrections(&s, &[]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].container_id, "new");
        assert!(c[0].message.contains("signal 'cpu'"), "{}", c[0].message);
        // Still firing next sample: the next one goes (the first is on its way out).
        let c = q.corrections(&s, &["new".to_string()]);
        assert_eq!(c[0].container_id, "old");
        assert!(q.corrections(&s, &["new".into(), "old".into()]).is_empty());
    }

    #[test]
    fn enough_go_at_once_to_leave_the_room_the_threshold_leaves() {
        let mut q = QosController::new(QosThresholds::default());
        // Own use 1.7 of 2 cores (0.85 > 0.8): the room under the threshold is 0; three
        // revocable hogs of 0.1 each all go.
        let s = sample(
            2.0,
            vec![
                container("a", true, 1, 0.1),
                container("b", true, 2, 0.1),
                container("c", true, 3, 0.1),
            ],
        );
        let ids: Vec<_> = q
            .corrections(&s, &[])
            .into_iter()
            .map(|c| c.container_id)
            .collect();
        assert_eq!(ids, ["c", "b", "a"]);
    }

    #[test]
    fn memory_fires_below_its_threshold_and_pressure_only_when_reported() {
        let mut q = QosController::new(QosThresholds {
            cpu: 0.0,
            mem_pressure: 20.0,
            ..QosThresholds::default()
        });
        let mut s = sample(2.0, vec![container("r", true, 1, 1.0)]);
        assert!(q.corrections(&s, &[]).is_empty(), "cpu is off");
        s.mem_available_mb = 100.0;
        let c = q.corrections(&s, &[]);
        assert!(c[0].message.contains("'memory'"), "{}", c[0].message);
        s.mem_available_mb = 2048.0;
        s.mem_pressure = Some(35.0);
        let c = q.corrections(&s, &[]);
        assert!(c[0].message.contains("'mem_pressure'"), "{}", c[0].message);
    }

    #[test]
    fn a_signal_stops_only_a_band_below_its_threshold() {
        let mut q = QosController::new(QosThresholds::default());
        let rev = || vec![container("r", true, 1, 0.0)];
        assert!(!q.corrections(&sample(1.7, rev()), &[]).is_empty());
        // 0.78 < 0.8 but above 0.72: still firing.
        assert!(!q.corrections(&sample(1.56, rev()), &[]).is_empty());
        assert!(q.corrections(&sample(1.4, rev()), &[]).is_empty());
        assert!(q.firing().is_empty());
        // Hovering just under the threshold after release: nothing.
        assert!(q.corrections(&sample(1.58, rev()), &[]).is_empty());
    }

    fn containers() -> impl Strategy<Value = Vec<ContainerWindow>> {
        prop::collection::vec((any::<bool>(), 0u64..20, 0.0f64..1.0, 0.0f64..500.0), 0..8).prop_map(
            |v| {
                v.into_iter()
                    .enumerate()
                    .map(|(i, (revocable, seq, used, mem))| ContainerWindow {
                        container_id: format!("c{i}"),
                        revocable,
                        launch_seq: seq,
                        allocated_cpus: 1.0,
                        allocated_mem_mb: 64.0,
                        cpus_used: used,
                        mem_used_mb: mem,
                        throttled_fraction: used / 2.0,
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Corrections name only revocable containers of the sample, once each, newest
        /// first, and none that is already being evicted.
        #[test]
        fn never_a_non_revocable_eviction(
            steps in prop::collection::vec(
                (0.0f64..2.0, 0.0f64..4096.0, proptest::option::of(0.0f64..100.0), 0u32..10, containers()),
                1..20,
            ),
        ) {
            let mut q = QosController::new(QosThresholds {
                load: 1.5,
                mem_pressure: 30.0,
                cpu_pressure: 30.0,
                throttle: 0.3,
                ..QosThresholds::default()
            });
            let mut evicting: Vec<String> = Vec::new();
            for (busy, available, pressure, runnable, cs) in steps {
                let mut s = sample(busy, cs);
                s.mem_available_mb = available;
                s.mem_pressure = pressure;
                s.cpu_pressure = pressure;
                s.runnable = runnable;
                let corrections = q.corrections(&s, &evicting);
                let mut seen = Vec::new();
                let mut last_seq = u64::MAX;
                for c in &corrections {
                    let w = s.containers.iter().find(|w| w.container_id == c.container_id);
                    prop_assert!(w.is_some_and(|w| w.revocable), "{c:?}");
                    prop_assert!(!seen.contains(&c.container_id));
                    prop_assert!(!evicting.contains(&c.container_id));
                    let seq = w.unwrap().launch_seq;
                    prop_assert!(seq <= last_seq, "newest first");
                    last_seq = seq;
                    seen.push(c.container_id.clone());
                }
                if s.containers.iter().all(|c| !c.revocable) {
                    prop_assert!(corrections.is_empty());
                }
                evicting.extend(seen);
            }
        }

        /// Signals below their thresholds evict nothing, however noisy.
        #[test]
        fn quiet_noise_evicts_nothing(
            loads in prop::collection::vec(0.0f64..0.79, 1..40),
        ) {
            let mut q = QosController::new(QosThresholds::default());
            for l in loads {
                let s = sample(l * 2.0, vec![container("r", true, 1, 0.0)]);
                prop_assert!(q.corrections(&s, &[]).is_empty());
            }
        }
    }
}
