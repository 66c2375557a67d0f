//! The sandbox garbage collection flags of `meso agent` (Mesos's `--gc_delay`,
//! `--gc_disk_headroom`, `--disk_watch_interval`, same defaults), mapped onto
//! [`GcConfig`]. Each is also read from `MESO_<FLAG>`.

use clap::Args;
use meso_api::duration::parse_duration;

use crate::error::AgentError;
pub use crate::gc::GcConfig;

/// The garbage collection flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct GcFlags {
    /// How long a finished executor's sandbox (and its checkpoint, once complete) is kept;
    /// less when the disk fills up (see `--gc-disk-headroom`).
    #[arg(long, env = "MESO_GC_DELAY", default_value = "1weeks")]
    pub gc_delay: String,
    /// Free-space target, 0.0 to 1.0: every `--disk-watch-interval` sandboxes older than
    /// `gc_delay * max(0, 1 - gc_disk_headroom - disk usage)` are removed at once.
    #[arg(long, env = "MESO_GC_DISK_HEADROOM", default_value_t = 0.1)]
    pub gc_disk_headroom: f64,
    /// How often the work dir's disk usage is checked.
    #[arg(long, env = "MESO_DISK_WATCH_INTERVAL", default_value = "1mins")]
    pub disk_watch_interval: String,
}

impl Default for GcFlags {
    /// The defaults `--help` shows.
    fn default() -> Self {
        GcFlags {
            gc_delay: "1weeks".into(),
            gc_disk_headroom: 0.1,
            disk_watch_interval: "1mins".into(),
        }
    }
}

impl GcFlags {
    /// Checks the flags; errors name the flag and the value.
    pub fn config(&self) -> Result<GcConfig, AgentError> {
        let flag = |flag: &'static str, value: String, reason: String| AgentError::Flag {
            flag,
            value,
            reason,
        };
        let gc_delay = parse_duration(&self.gc_delay)
            .map_err(|e| flag("--gc-delay", self.gc_delay.clone(), e))?;
        let disk_watch_interval = parse_duration(&self.disk_watch_interval)
            .map_err(|e| flag("--disk-watch-interval", self.disk_watch_interval.clone(), e))?;
        if disk_watch_interval.is_zero() {
            return Err(flag(
                "--disk-watch-interval",
                self.disk_watch_interval.clone(),
                "must be more than zero".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.gc_disk_headroom) {
            return Err(flag(
                "--gc-disk-headroom",
                self.gc_disk_headroom.to_string(),
                "must be between 0.0 and 1.0".into(),
            ));
        }
        Ok(GcConfig {
            gc_delay,
            disk_headroom: self.gc_disk_headroom,
            disk_watch_interval,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mesos_s_and_bad_values_name_the_flag() {
        assert_eq!(GcFlags::default().config().unwrap(), GcConfig::default());
        let bad = |f: GcFlags| f.config().unwrap_err().to_string();
        assert!(bad(GcFlags {
            gc_disk_headroom: 1.5,
            ..GcFlags::default()
        })
        .contains("--gc-disk-headroom"));
        assert!(bad(GcFlags {
            gc_delay: "soon".into(),
            ..GcFlags::default()
        })
        .contains("--gc-delay"));
        assert!(bad(GcFlags {
            disk_watch_interval: "0secs".into(),
            ..GcFlags::default()
        })
        .contains("--disk-watch-interval"));
    }
}
