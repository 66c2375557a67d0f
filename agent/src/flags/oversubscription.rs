//! The oversubscription flags of `meso agent` (Mesos's `--resource_estimator`,
//! `--oversubscribed_resources_interval`, `--qos_controller`,
//! `--qos_correction_interval_min`, with the `load` estimator's and controller's settings as
//! flags instead of module parameters), mapped onto [`OversubscriptionConfig`]. Each is also
//! read from `MESO_<FLAG>`.

use clap::Args;
use meso_api::duration::parse_duration;
use meso_api::Resources;

use crate::error::AgentError;
use crate::oversubscription::{
    EstimatorConfig, EstimatorKind, OversubscriptionConfig, QosKind, QosThresholds,
};

/// The oversubscription flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct OversubscriptionFlags {
    /// `none` (no revocable resources) or `load`: measure what the machine really uses
    /// (procfs: every process, the agent's tasks included) and offer what its own work
    /// leaves idle, less `--oversubscription-headroom`, as revocable cpus and mem.
    #[arg(long, env = "MESO_RESOURCE_ESTIMATOR", default_value = "none")]
    pub resource_estimator: String,
    /// How often a grown estimate is sent to the master (a shrunk one is sent at once).
    #[arg(
        long,
        env = "MESO_OVERSUBSCRIBED_RESOURCES_INTERVAL",
        default_value = "15secs"
    )]
    pub oversubscribed_resources_interval: String,
    /// What the `load` estimator always leaves to the machine's own work, e.g.
    /// `cpus:0.5;mem:512` (cpus and mem only).
    #[arg(
        long,
        env = "MESO_OVERSUBSCRIPTION_HEADROOM",
        default_value = "cpus:0;mem:0"
    )]
    pub oversubscription_headroom: String,
    /// `none` or `load`: evict revocable tasks, newest first, while an interference signal
    /// is past its threshold (`--qos-*-threshold`); they end TASK_KILLED with
    /// REASON_CONTAINER_PREEMPTED and a message naming the signal.
    #[arg(long, env = "MESO_QOS_CONTROLLER", default_value = "none")]
    pub qos_controller: String,
    /// How often the machine is sampled for the estimator and the QoS controller (the
    /// shortest time between two corrections).
    #[arg(
        long,
        env = "MESO_QOS_CORRECTION_INTERVAL_MIN",
        default_value = "500ms"
    )]
    pub qos_correction_interval_min: String,
    /// Evict when the machine's own CPU use (all but revocable tasks) exceeds this share
    /// of its cores (0 turns the signal off).
    #[arg(long, env = "MESO_QOS_CPU_THRESHOLD", default_value_t = 0.8)]
    pub qos_cpu_threshold: f64,
    /// Evict when runnable tasks per core exceed this (0: off).
    #[arg(long, env = "MESO_QOS_LOAD_THRESHOLD", default_value_t = 0.0)]
    pub qos_load_threshold: f64,
    /// Evict when available memory falls below this share of the machine's (0: off).
    #[arg(long, env = "MESO_QOS_MEM_AVAILABLE_THRESHOLD", default_value_t = 0.1)]
    pub qos_mem_available_threshold: f64,
    /// Evict when CPU pressure (PSI `some avg10`, percent) exceeds this, where the kernel
    /// has PSI (0: off).
    #[arg(long, env = "MESO_QOS_CPU_PRESSURE_THRESHOLD", default_value_t = 0.0)]
    pub qos_cpu_pressure_threshold: f64,
    /// Evict when memory pressure (PSI `some avg10`, percent) exceeds this (0: off).
    #[arg(long, env = "MESO_QOS_MEM_PRESSURE_THRESHOLD", default_value_t = 0.0)]
    pub qos_mem_pressure_threshold: f64,
    /// Evict when a non-revocable task was CFS-throttled in more than this share of the
    /// periods of a sample (0: off).
    #[arg(long, env = "MESO_QOS_THROTTLE_THRESHOLD", default_value_t = 0.0)]
    pub qos_throttle_threshold: f64,
}

impl Default for OversubscriptionFlags {
    /// The defaults `--help` shows.
    fn default() -> Self {
        OversubscriptionFlags {
            resource_estimator: "none".into(),
            oversubscribed_resources_interval: "15secs".into(),
            oversubscription_headroom: "cpus:0;mem:0".into(),
            qos_controller: "none".into(),
            qos_correction_interval_min: "500ms".into(),
            qos_cpu_threshold: 0.8,
            qos_load_threshold: 0.0,
            qos_mem_available_threshold: 0.1,
            qos_cpu_pressure_threshold: 0.0,
            qos_mem_pressure_threshold: 0.0,
            qos_throttle_threshold: 0.0,
        }
    }
}

fn bad(flag: &'static str, value: impl ToString, reason: impl Into<String>) -> AgentError {
    AgentError::Flag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

impl OversubscriptionFlags {
    /// Checks the flags; errors name the flag and the value.
    pub fn config(&self) -> Result<OversubscriptionConfig, AgentError> {
        let estimator = match self.resource_estimator.as_str() {
            "none" => EstimatorKind::None,
            "load" => EstimatorKind::Load,
            other => {
                return Err(bad(
                    "--resource-estimator",
                    other,
                    "must be 'none' or 'load'",
                ))
            }
        };
        let qos = match self.qos_controller.as_str() {
            "none" => QosKind::None,
            "load" => QosKind::Load,
            other => return Err(bad("--qos-controller", other, "must be 'none' or 'load'")),
        };
        let duration = |flag: &'static str, value: &str| {
            let d = parse_duration(value).map_err(|reason| bad(flag, value, reason))?;
            if d.is_zero() {
                return Err(bad(flag, value, "must be above 0"));
            }
            Ok(d)
        };
        let interval = duration(
            "--oversubscribed-resources-interval",
            &self.oversubscribed_resources_interval,
        )?;
        let sample_interval = duration(
            "--qos-correction-interval-min",
            &self.qos_correction_interval_min,
        )?;
        let (headroom_cpus, headroom_mem_mb) = self.headroom()?;
        let thresholds = QosThresholds {
            cpu: share("--qos-cpu-threshold", self.qos_cpu_threshold)?,
            load: non_negative("--qos-load-threshold", self.qos_load_threshold)?,
            mem_available: share(
                "--qos-mem-available-threshold",
                self.qos_mem_available_threshold,
            )?,
            cpu_pressure: percent(
                "--qos-cpu-pressure-threshold",
                self.qos_cpu_pressure_threshold,
            )?,
            mem_pressure: percent(
                "--qos-mem-pressure-threshold",
                self.qos_mem_pressure_threshold,
            )?,
            throttle: share("--qos-throttle-threshold", self.qos_throttle_threshold)?,
        };
        Ok(OversubscriptionConfig {
            estimator,
            interval,
            estimator_config: EstimatorConfig {
                headroom_cpus,
                headroom_mem_mb,
                ..EstimatorConfig::default()
            },
            qos,
            sample_interval,
            thresholds,
        })
    }

    /// `--oversubscription-headroom` as (cpus, mem MB).
    fn headroom(&self) -> Result<(f64, f64), AgentError> {
        const FLAG: &str = "--oversubscription-headroom";
        let text = &self.oversubscription_headroom;
        let parsed = Resources::parse(text, "*").map_err(|e| bad(FLAG, text, e.to_string()))?;
        if let Some(r) = parsed.iter().find(|r| !matches!(&*r.name, "cpus" | "mem")) {
            return Err(bad(FLAG, text, format!("'{}' is not cpus or mem", r.name)));
        }
        Ok((
            parsed.cpus().map_or(0.0, |c| c.as_f64()),
            parsed.mem().map_or(0.0, |m| m.as_f64()),
        ))
    }
}

fn non_negative(flag: &'static str, v: f64) -> Result<f64, AgentError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(bad(flag, v, "must be a number of at least 0"))
    }
}

fn share(flag: &'static str, v: f64) -> Result<f64, AgentError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(bad(flag, v, "must be a share between 0 and 1"))
    }
}

fn percent(flag: &'static str, v: f64) -> Result<f64, AgentError> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(bad(flag, v, "must be a percentage between 0 and 100"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn defaults_turn_oversubscription_off() {
        let config = OversubscriptionFlags::default().config().unwrap();
        assert!(!config.enabled());
        assert_eq!(config.interval, Duration::from_secs(15));
    }

    #[test]
    fn settings_are_checked_with_the_flag_named() {
        let config = OversubscriptionFlags {
            resource_estimator: "load".into(),
            qos_controller: "load".into(),
            oversubscription_headroom: "cpus:0.5;mem:512".into(),
            oversubscribed_resources_interval: "2secs".into(),
            ..OversubscriptionFlags::default()
        }
        .config()
        .unwrap();
        assert_eq!(config.estimator, EstimatorKind::Load);
        assert_eq!(config.estimator_config.headroom_cpus, 0.5);
        assert_eq!(config.estimator_config.headroom_mem_mb, 512.0);
        assert_eq!(config.interval, Duration::from_secs(2));
        let err = |f: OversubscriptionFlags| f.config().unwrap_err().to_string();
        let e = err(OversubscriptionFlags {
            resource_estimator: "fixed".into(),
            ..OversubscriptionFlags::default()
        });
        assert!(
            e.contains("--resource-estimator") && e.contains("fixed"),
            "{e}"
        );
        let e = err(OversubscriptionFlags {
            oversubscription_headroom: "disk:10".into(),
            ..OversubscriptionFlags::default()
        });
        assert!(
            e.contains("--oversubscription-headroom") && e.contains("disk"),
            "{e}"
        );
        let e = err(OversubscriptionFlags {
            qos_cpu_threshold: 1.5,
            ..OversubscriptionFlags::default()
        });
        assert!(e.contains("--qos-cpu-threshold"), "{e}");
        let e = err(OversubscriptionFlags {
            qos_correction_interval_min: "0secs".into(),
            ..OversubscriptionFlags::default()
        });
        assert!(e.contains("--qos-correction-interval-min"), "{e}");
    }
}
