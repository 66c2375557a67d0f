//! The isolation flags of `meso agent` (`--isolation` and the isolators' settings), kept
//! in their own group so they map one to one onto [`IsolationConfig`]. Each is also read
//! from `MESO_<FLAG>`; `meso agent --help` lists them with their defaults.

use clap::Args;
use meso_isolators::{CgroupMode, IsolationConfig};

use crate::error::AgentError;
use meso_api::duration::parse_duration;

/// The isolation flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct IsolationFlags {
    /// Isolators to run for every container, comma-separated (known: posix/cpu, posix/mem,
    /// cgroups/cpu, cgroups/mem, cgroups/pids, disk/du, namespaces/pid, filesystem/rootfs).
    /// An unknown or unavailable one stops the agent at start. `filesystem/rootfs` (root
    /// only) runs a task whose `container.mesos.image` is a DOCKER image named by an
    /// absolute path on the agent (a directory, or a .tar/.tar.gz/.tgz unpacked into the
    /// sandbox) with that as its `/` and its sandbox at /mnt/mesos/sandbox.
    #[arg(long, env = "MESO_ISOLATION", default_value = "posix/cpu,posix/mem")]
    pub isolation: String,
    /// Parent cgroup of the containers' cgroups in each hierarchy (`cgroups/*` isolators).
    #[arg(long, env = "MESO_CGROUPS_ROOT", default_value = "meso")]
    pub cgroups_root: String,
    /// Which cgroup hierarchy the `cgroups/*` isolators use: `auto` (v1 where the
    /// controller is mounted as v1, else v2), `v1` or `v2`.
    #[arg(long, env = "MESO_CGROUPS_HIERARCHY", default_value = "auto")]
    pub cgroups_hierarchy: String,
    /// `cgroups/cpu` also sets a CFS quota of cpus x period: a hard cap, not only a weight
    /// [default: off].
    #[arg(long, env = "MESO_CGROUPS_ENABLE_CFS", default_value_t = false)]
    pub cgroups_enable_cfs: bool,
    /// `cgroups/pids`: most processes (and threads) a container may have at once
    /// [default: no limit, only counted].
    #[arg(long, env = "MESO_CGROUPS_PIDS_LIMIT")]
    pub cgroups_pids_limit: Option<u64>,
    /// `disk/du`: how often each sandbox is measured.
    #[arg(
        long,
        env = "MESO_CONTAINER_DISK_WATCH_INTERVAL",
        default_value = "15secs"
    )]
    pub container_disk_watch_interval: String,
    /// `disk/du`: a container whose sandbox grows past its disk resource is killed and its
    /// tasks fail with REASON_CONTAINER_LIMITATION_DISK [default: off, usage is only
    /// measured].
    #[arg(
        long,
        env = "MESO_ENFORCE_CONTAINER_DISK_QUOTA",
        default_value_t = false
    )]
    pub enforce_container_disk_quota: bool,
}

impl Default for IsolationFlags {
    /// The defaults `--help` shows.
    fn default() -> Self {
        IsolationFlags {
            isolation: "posix/cpu,posix/mem".into(),
            cgroups_root: "meso".into(),
            cgroups_hierarchy: "auto".into(),
            cgroups_enable_cfs: false,
            cgroups_pids_limit: None,
            container_disk_watch_interval: "15secs".into(),
            enforce_container_disk_quota: false,
        }
    }
}

impl IsolationFlags {
    /// The isolators' configuration from the isolation flags (checked; whether each
    /// isolator is available here is checked when the containerizer is built).
    pub fn config(&self) -> Result<IsolationConfig, AgentError> {
        let cgroups_mode = match self.cgroups_hierarchy.as_str() {
            "auto" => CgroupMode::Auto,
            "v1" => CgroupMode::V1,
            "v2" => CgroupMode::V2,
            other => {
                return Err(AgentError::Flag {
                    flag: "--cgroups-hierarchy",
                    value: other.to_string(),
                    reason: "must be auto, v1 or v2".into(),
                })
            }
        };
        if self.cgroups_pids_limit == Some(0) {
            return Err(AgentError::Flag {
                flag: "--cgroups-pids-limit",
                value: "0".into(),
                reason: "a container needs at least one process".into(),
            });
        }
        Ok(IsolationConfig {
            isolation: self.isolation.clone(),
            cgroups_root: self.cgroups_root.clone(),
            cgroups_mode,
            cgroups_enable_cfs: self.cgroups_enable_cfs,
            cgroups_pids_max: self.cgroups_pids_limit,
            container_disk_watch_interval: parse_duration(&self.container_disk_watch_interval)
                .map_err(|reason| AgentError::Flag {
                    flag: "--container-disk-watch-interval",
                    value: self.container_disk_watch_interval.clone(),
                    reason,
                })?,
            enforce_container_disk_quota: self.enforce_container_disk_quota,
            ..IsolationConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::time::Duration;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: crate::flags::AgentFlags,
    }

    #[test]
    fn isolation_flags() {
        let dir = tempfile::tempdir().unwrap();
        let base = [
            "agent",
            "--master",
            "127.0.0.1:5050",
            "--work-dir",
            dir.path().to_str().unwrap(),
        ];
        let config = Cli::try_parse_from(base)
            .unwrap()
            .flags
            .isolation
            .config()
            .unwrap();
        assert_eq!(config.isolation, "posix/cpu,posix/mem");
        assert_eq!(
            config.container_disk_watch_interval,
            Duration::from_secs(15)
        );
        assert!(!config.cgroups_enable_cfs && !config.enforce_container_disk_quota);
        let mut args = base.to_vec();
        args.extend([
            "--cgroups-enable-cfs",
            "--cgroups-pids-limit",
            "16",
            "--container-disk-watch-interval",
            "100ms",
            "--enforce-container-disk-quota",
            "--cgroups-hierarchy",
            "v2",
        ]);
        let config = Cli::try_parse_from(args)
            .unwrap()
            .flags
            .isolation
            .config()
            .unwrap();
        assert!(config.cgroups_enable_cfs && config.enforce_container_disk_quota);
        assert_eq!(config.cgroups_pids_max, Some(16));
        assert_eq!(config.cgroups_mode, CgroupMode::V2);
        assert_eq!(
            config.container_disk_watch_interval,
            Duration::from_millis(100)
        );
        for (flag, value) in [
            ("--cgroups-hierarchy", "v3"),
            ("--cgroups-pids-limit", "0"),
            ("--container-disk-watch-interval", "soon"),
        ] {
            let mut args = base.to_vec();
            args.extend([flag, value]);
            let err = Cli::try_parse_from(args)
                .unwrap()
                .flags
                .isolation
                .config()
                .unwrap_err()
                .to_string();
            assert!(err.contains(flag) && err.contains(value), "{err}");
        }
    }

    #[test]
    fn defaults_match_the_help() {
        let parsed = Cli::try_parse_from(["agent", "--master", "m:1", "--work-dir", "/w"])
            .unwrap()
            .flags
            .isolation;
        let default = IsolationFlags::default();
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
    }
}
