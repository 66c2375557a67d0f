//! Oversubscription: harvesting the capacity a machine's own work leaves idle as revocable
//! resources, and taking it back when that work needs it (Mesos's resource estimator and
//! QoS controller, built in rather than loaded as modules).
//!
//! Pure cores, samples in and decisions out, with no I/O and no clock:
//! - [`sample`]: the cumulative counters read from procfs and the containers
//!   ([`RawSample`]) and the per-window figures derived from two of them ([`Sample`]).
//! - [`estimator`]: `--resource-estimator load`, the revocable cpus and mem to report,
//!   smoothed and with hysteresis so that offers do not flap, never above the machine.
//! - [`qos`]: `--qos-controller load`, which revocable containers to evict (newest first)
//!   when an interference signal crosses its operator-set threshold, and why.
//! - [`eviction_clock`]: when each eviction's latency starts (the signal) and stops (the
//!   container gone), for `slave/qos_eviction_latency_ms`.
//!
//! The shell is [`procfs`] (reads `/proc/stat`, `/proc/loadavg`, `/proc/meminfo`,
//! `/proc/pressure/*`), called off the agent's process by `agent::oversubscription`,
//! which also applies the decisions (reports to the master, evicts).
//!
//! Invariants: an estimate never exceeds the machine (its cores, its memory); a correction
//! never names a non-revocable container.

pub mod estimator;
pub mod eviction_clock;
pub mod procfs;
pub mod qos;
pub mod sample;

use std::time::Duration;

pub use estimator::{Estimator, EstimatorConfig};
pub use eviction_clock::{EvictionClock, EvictionTiming};
pub use qos::{Correction, QosController, QosThresholds};
pub use sample::{RawContainer, RawHost, RawSample, Sample};

/// Which resource estimator runs (`--resource-estimator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EstimatorKind {
    /// No oversubscription: nothing is reported (Mesos's `noop`).
    #[default]
    None,
    /// Measured slack: [`Estimator`].
    Load,
}

/// Which QoS controller runs (`--qos-controller`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QosKind {
    /// No corrections (Mesos's `noop`).
    #[default]
    None,
    /// Threshold-driven evictions: [`QosController`].
    Load,
}

/// What the agent's oversubscription runs with (from its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct OversubscriptionConfig {
    /// The estimator.
    pub estimator: EstimatorKind,
    /// How often the estimate's rises are sent to the master
    /// (`--oversubscribed-resources-interval`); falls are sent at once.
    pub interval: Duration,
    /// The estimator's settings (headroom, smoothing, hysteresis).
    pub estimator_config: EstimatorConfig,
    /// The controller.
    pub qos: QosKind,
    /// How often the machine is sampled (`--qos-correction-interval-min`): the controller
    /// decides on every sample, the estimator smooths over them.
    pub sample_interval: Duration,
    /// The controller's thresholds.
    pub thresholds: QosThresholds,
}

impl Default for OversubscriptionConfig {
    fn default() -> Self {
        OversubscriptionConfig {
            estimator: EstimatorKind::None,
            interval: Duration::from_secs(15),
            estimator_config: EstimatorConfig::default(),
            qos: QosKind::None,
            sample_interval: Duration::from_millis(500),
            thresholds: QosThresholds::default(),
        }
    }
}

impl OversubscriptionConfig {
    /// True when anything samples the machine.
    pub fn enabled(&self) -> bool {
        self.estimator != EstimatorKind::None || self.qos != QosKind::None
    }
}
