//! `--resource-estimator load`: how much revocable cpus and mem this agent can offer.
//!
//! The machine's own work (the host's processes and the non-revocable tasks: everything but
//! the revocable containers) is measured every sample. What it leaves, minus
//! `--oversubscription-headroom`, is the capacity revocable tasks may occupy; the report is
//! that capacity, or what revocable tasks already hold if that is more (as Mesos's agent
//! adds the allocated revocable resources to the estimator's answer), never more than the
//! machine.
//!
//! While the QoS controller takes capacity back ([`Estimator::observe_while`]), the
//! containers it evicts are not counted as held, and no capacity beyond what the remaining
//! revocable containers hold is reported, so evicted tasks are not offered and relaunched
//! at once.
//!
//! Smoothing: the load counted is the larger of the latest sample and an exponentially
//! weighted average of the past ones, so a rise counts at once and a fall only gradually.
//! Hysteresis: the reported capacity drops as soon as the measured capacity is below it and
//! rises only once the measured capacity exceeds it by a band; each move lands half a band
//! under the measured capacity. Noise narrower than a quarter band around a steady load
//! therefore moves the report at most once (property-tested), and the report is never
//! above the capacity just measured.

/// The estimator's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimatorConfig {
    /// Cpus always left to the machine's own work.
    pub headroom_cpus: f64,
    /// Mem (MB) always left to the machine's own work.
    pub headroom_mem_mb: f64,
    /// Weight of the newest sample in the load average (0 < w <= 1).
    pub smoothing: f64,
    /// Hysteresis band for cpus.
    pub band_cpus: f64,
    /// Hysteresis band for mem, MB.
    pub band_mem_mb: f64,
}

impl Default for EstimatorConfig {
    fn default() -> Self {
        EstimatorConfig {
            headroom_cpus: 0.0,
            headroom_mem_mb: 0.0,
            smoothing: 0.3,
            band_cpus: 0.2,
            band_mem_mb: 256.0,
        }
    }
}

/// What to report: revocable totals (allocated and free), as Mesos's
/// `UpdateSlaveMessage.oversubscribed_resources`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Revocable cpus.
    pub cpus: f64,
    /// Revocable mem, MB.
    pub mem_mb: f64,
}

/// One resource's smoothed load and hysteresis state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Track {
    average: Option<f64>,
    reported: Option<f64>,
}

impl Track {
    /// Folds in a load sample; returns the load to count (fast up, slow down).
    fn load(&mut self, sample: f64, weight: f64) -> f64 {
        let average = match self.average {
            None => sample,
            Some(a) => weight * sample + (1.0 - weight) * a,
        };
        self.average = Some(average);
        average.max(sample)
    }

    /// The capacity to report given the one just measured.
    fn report(&mut self, capacity: f64, band: f64) -> f64 {
        let next = match self.reported {
            Some(r) if capacity >= r && capacity <= r + band => r,
            _ => (capacity - band / 2.0).max(0.0),
        };
        self.reported = Some(next);
        next
    }
}

/// The load estimator's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimator {
    config: EstimatorConfig,
    cpus: Track,
    mem: Track,
}

impl Estimator {
    /// A fresh estimator.
    pub fn new(config: EstimatorConfig) -> Estimator {
        Estimator {
            config,
            cpus: Track::default(),
            mem: Track::default(),
        }
    }

    /// The revocable totals after `sample`.
    pub fn observe(&mut self, sample: &super::Sample) -> Estimate {
        self.observe_while(sample, &[], false)
    }

    /// The revocable totals after `sample`, while the QoS controller takes revocable
    /// capacity back: the containers in `leaving` are being evicted, so what they hold is no
    /// longer reported; and while `interference` (a QoS signal fires) nothing beyond what
    /// the remaining revocable containers hold is reported, since offering it would launch
    /// tasks the controller evicts at once (and, evicting newest first, it would keep
    /// evicting those while older containers wait their turn).
    pub fn observe_while(
        &mut self,
        sample: &super::Sample,
        leaving: &[String],
        interference: bool,
    ) -> Estimate {
        let c = &self.config;
        let (allocated_cpus, allocated_mem) = sample.revocable_allocated_except(leaving);

        let cores = sample.cores.max(0.0);
        let load = self.cpus.load(sample.business_cpus(), c.smoothing);
        let capacity = (cores - load - c.headroom_cpus).clamp(0.0, cores);
        let free_cpus = match self.cpus.report(capacity, c.band_cpus) {
            _ if interference => 0.0,
            free => free,
        };
        let cpus = free_cpus.max(allocated_cpus).min(cores);

        let total = sample.mem_total_mb.max(0.0);
        let load = self.mem.load(sample.business_mem_mb(), c.smoothing);
        let capacity = (total - load - c.headroom_mem_mb).clamp(0.0, total);
        let free_mem = match self.mem.report(capacity, c.band_mem_mb) {
            _ if interference => 0.0,
            free => free,
        };
        let mem_mb = free_mem.max(allocated_mem).min(total);
        Estimate {
            cpus: round_milli(cpus),
            mem_mb: mem_mb.floor(),
        }
    }
}

/// Rounds down to the thousandth (the resolution of `Resources` scalars).
fn round_milli(x: f64) -> f64 {
    (x * 1000.0).floor() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::super::sample::{ContainerWindow, Sample};
    use super::*;
    use proptest::prelude::*;

    fn sample(cores: f64, busy: f64, mem_total: f64, available: f64) -> Sample {
        Sample {
            window_secs: 0.5,
            cores,
            cpus_busy: busy,
            runnable: 0,
            load: [0.0; 3],
            mem_total_mb: mem_total,
            mem_available_mb: available,
            cpu_pressure: None,
            mem_pressure: None,
            containers: Vec::new(),
        }
    }

    fn revocable(allocated_cpus: f64, used: f64) -> ContainerWindow {
        ContainerWindow {
            container_id: "r".into(),
            revocable: true,
            launch_seq: 1,
            allocated_cpus,
            allocated_mem_mb: 64.0,
            cpus_used: used,
            mem_used_mb: 10.0,
            throttled_fraction: 0.0,
        }
    }

    #[test]
    fn an_idle_machine_offers_its_cores_less_headroom_and_half_a_band() {
        let mut e = Estimator::new(EstimatorConfig {
            headroom_cpus: 0.5,
            headroom_mem_mb: 512.0,
            ..EstimatorConfig::default()
        });
        let est = e.observe(&sample(2.0, 0.0, 4096.0, 4096.0));
        assert_eq!(est.cpus, 1.4);
        assert_eq!(est.mem_mb, 4096.0 - 512.0 - 128.0);
    }

    #[test]
    fn revocable_use_is_not_the_machines_own_load() {
        let mut e = Estimator::new(EstimatorConfig::default());
        let mut s = sample(2.0, 1.9, 4096.0, 4096.0);
        s.containers.push(revocable(1.0, 1.9));
        let est = e.observe(&s);
        assert_eq!(est.cpus, 1.9);
    }

    #[test]
    fn a_rising_load_shrinks_the_estimate_at_once_and_what_is_held_stays_reported() {
        let mut e = Estimator::new(EstimatorConfig::default());
        assert_eq!(e.observe(&sample(2.0, 0.0, 1000.0, 1000.0)).cpus, 1.9);
        let mut busy = sample(2.0, 1.8, 1000.0, 1000.0);
        assert!(e.observe(&busy).cpus <= 0.2);
        busy.containers.push(revocable(1.0, 0.0));
        // Held revocable cpus are reported even when the capacity is gone (the QoS
        // controller, not the estimate, takes them back).
        assert_eq!(e.observe(&busy).cpus, 1.0);
        // The load falls: the estimate comes back only gradually.
        let idle = sample(2.0, 0.0, 1000.0, 1000.0);
        let first = e.observe(&idle).cpus;
        assert!(first < 1.9, "{first}");
    }

    fn held(id: &str, seq: u64, cpus: f64, mem: f64) -> ContainerWindow {
        ContainerWindow {
            container_id: id.into(),
            launch_seq: seq,
            allocated_cpus: cpus,
            allocated_mem_mb: mem,
            cpus_used: 0.0,
            ..revocable(0.0, 0.0)
        }
    }

    #[test]
    fn evicted_containers_are_not_reported_and_interference_offers_nothing_new() {
        let mut e = Estimator::new(EstimatorConfig::default());
        // An idle machine: capacity well above what the two containers hold.
        let mut s = sample(4.0, 0.0, 4096.0, 4096.0);
        s.containers = vec![held("a", 1, 0.5, 16.0), held("b", 2, 0.5, 16.0)];
        assert_eq!(e.observe(&s).cpus, 3.9);
        // The QoS controller fires (say on memory) and evicts "b": what "a" holds is all
        // that is reported, however idle the cpus are.
        let est = e.observe_while(&s, &["b".to_string()], true);
        assert_eq!((est.cpus, est.mem_mb), (0.5, 16.0));
        // Without interference, an evicted container's resources still leave the report
        // when the capacity is below what the containers held.
        let mut busy = sample(4.0, 3.5, 4096.0, 4096.0);
        busy.containers = s.containers.clone();
        let est = e.observe_while(&busy, &["b".to_string()], false);
        assert_eq!(est.cpus, 0.5);
        // Interference over: the capacity comes back.
        assert!(e.observe_while(&s, &[], false).cpus > 1.0);
    }

    /// The churn of session 9's wave: a busy machine, four revocable containers that use
    /// no CPU (stopped, or new), one evicted per sample. After each sample the master may
    /// offer what the report leaves beyond what the remaining containers hold; that must
    /// never fit a task, or the evicted task is relaunched at once and, newest first, evicted
    /// again while the older containers wait.
    #[test]
    fn evictions_leave_no_room_to_relaunch_and_reach_every_container() {
        use super::super::qos::{QosController, QosThresholds};
        let mut qos = QosController::new(QosThresholds::default());
        let mut e = Estimator::new(EstimatorConfig::default());
        let mut s = sample(2.0, 1.7, 4096.0, 4096.0);
        s.containers = (1..=4)
            .map(|i| held(&format!("c{i}"), i, 0.5, 16.0))
            .collect();
        let mut evicting: Vec<String> = Vec::new();
        for _ in 0..4 {
            for c in qos.corrections(&s, &evicting) {
                evicting.push(c.container_id);
            }
            let est = e.observe_while(&s, &evicting, !qos.firing().is_empty());
            let (still_held, _) = s.revocable_allocated_except(&evicting);
            assert!(
                est.cpus - still_held < 0.5,
                "{est:?} leaves room for a 0.5-cpu task beside {still_held} held"
            );
        }
        evicting.sort();
        assert_eq!(evicting, ["c1", "c2", "c3", "c4"]);
    }

    fn noisy(centre: f64, noise: f64) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(-1.0f64..1.0, 2..60)
            .prop_map(move |v| v.into_iter().map(|n| centre + n * noise).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the samples, the estimate is within the machine.
        #[test]
        fn never_more_than_the_machine(
            cores in 1u32..64,
            steps in prop::collection::vec((0.0f64..2.0, 0.0f64..2.0, 0.0f64..1.5, 0.0f64..3.0), 1..40),
            headroom in 0.0f64..4.0,
        ) {
            let cores = f64::from(cores);
            let mut e = Estimator::new(EstimatorConfig {
                headroom_cpus: headroom,
                headroom_mem_mb: headroom * 100.0,
                ..EstimatorConfig::default()
            });
            for (busy, avail, used, alloc) in steps {
                let mut s = sample(cores, busy * cores, 8192.0, avail * 4096.0);
                s.containers.push(revocable(alloc * cores, used * cores));
                let est = e.observe(&s);
                prop_assert!(est.cpus >= 0.0 && est.cpus <= cores, "{est:?}");
                prop_assert!(est.mem_mb >= 0.0 && est.mem_mb <= 8192.0, "{est:?}");
            }
        }

        /// Noise narrower than a quarter band around a steady load moves the report at
        /// most once after the first sample.
        #[test]
        fn no_flapping_on_noisy_samples(
            centre in 0.2f64..1.8,
            fraction in 0.0f64..0.99,
            loads in noisy(0.0, 1.0),
        ) {
            let config = EstimatorConfig::default();
            let noise = config.band_cpus / 4.0 * fraction;
            let mut e = Estimator::new(config);
            let mut reports = Vec::new();
            for n in loads {
                let busy = (centre + n * noise).clamp(0.0, 2.0);
                reports.push(e.observe(&sample(2.0, busy, 1024.0, 512.0)).cpus);
            }
            let changes = reports.windows(2).filter(|w| (w[0] - w[1]).abs() > 1e-9).count();
            prop_assert!(changes <= 1, "{changes} changes: {reports:?}");
        }

        /// While a QoS signal fires the report is exactly what the remaining revocable
        /// containers hold (within the machine): nothing new is offered and nothing held
        /// is taken away by the report.
        #[test]
        fn under_interference_only_what_the_remaining_containers_hold(
            busy in 0.0f64..2.0,
            held_by in prop::collection::vec((0.0f64..1.5, 0.0f64..2048.0, any::<bool>()), 0..6),
        ) {
            let mut e = Estimator::new(EstimatorConfig::default());
            let mut s = sample(2.0, busy, 4096.0, 2048.0);
            let mut leaving = Vec::new();
            for (i, (cpus, mem, evicted)) in held_by.iter().enumerate() {
                let id = format!("c{i}");
                if *evicted {
                    leaving.push(id.clone());
                }
                s.containers.push(held(&id, i as u64, *cpus, *mem));
            }
            let (cpus, mem) = s.revocable_allocated_except(&leaving);
            let est = e.observe_while(&s, &leaving, true);
            prop_assert_eq!(est.cpus, round_milli(cpus.min(2.0)));
            prop_assert_eq!(est.mem_mb, mem.min(4096.0).floor());
        }

        /// The report is never above the capacity the latest sample leaves.
        #[test]
        fn never_above_what_the_latest_sample_leaves(
            loads in prop::collection::vec(0.0f64..2.0, 1..40),
        ) {
            let mut e = Estimator::new(EstimatorConfig::default());
            for busy in loads {
                let est = e.observe(&sample(2.0, busy, 1024.0, 1024.0));
                prop_assert!(est.cpus <= 2.0 - busy + 1e-9, "{est:?} at load {busy}");
            }
        }
    }
}
