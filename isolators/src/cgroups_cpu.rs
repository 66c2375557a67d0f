//! `cgroups/cpu`: CPU shares of 1024 x cpus and, with CFS enabled, a hard cap of cpus x the
//! CFS period; usage from the cgroup (user/system time, throttled periods). A revocable
//! container gets the smallest weight the kernel allows (v1 shares 2, v2 weight 1) whatever
//! its cpus, so any other process wins a contended core; its CFS cap stays its own cpus.
//!
//! Weights count only among siblings, so a revocable container's `cpu` cgroup does not sit
//! under the cgroups root (whose weight, 1024, would let the revocable subtree take a full
//! share from the host's processes whenever nothing else of ours runs) but under
//! `<root>_revocable` ([`CgroupsOptions::revocable_root`]), a sibling of the root at the
//! lowest weight and, where the kernel has `cpu.idle` (5.15+), SCHED_IDLE as a group: the
//! host's processes preempt it at once. Its `cpuacct` cgroup stays under the root.
//!
//! A killed process must still run to exit, and in the idle group on a busy machine it waits
//! for that CPU: 0.4-3 s measured under load (`evacuate` moves a revocable container's
//! killed processes to the hierarchy's root cgroup, where they die in milliseconds, so an
//! eviction is not held up by the low priority it enforces).
//!
//! v1 uses two hierarchies (`cpu` for shares and quota, `cpuacct` for time); v2 one cgroup
//! with the `cpu` controller (`cpu.weight`, `cpu.max`, `cpu.stat`). The arithmetic is pure.

use nix::unistd::Pid;

use crate::cgroup_table::{destroy_dirs, CgroupTable, CgroupsOptions};
use crate::cgroupfs::{keyed, CgroupDir, CgroupVersion};
use crate::container::{ContainerConfig, ContainerId, LaunchPrep, Limits};
use crate::error::Result;
use crate::isolator::Isolator;
use crate::statistics::ResourceStatistics;

/// The CFS period we use, microseconds (the kernel's default).
pub const CFS_PERIOD_US: u64 = 100_000;
/// The smallest CFS quota the kernel accepts, microseconds.
pub const MIN_CFS_QUOTA_US: u64 = 1_000;
/// The smallest cgroup v1 `cpu.shares`.
pub const MIN_SHARES: u64 = 2;

/// v1 `cpu.shares` for `cpus` (pure).
pub fn shares_for(cpus: f64) -> u64 {
    ((cpus * 1024.0) as u64).max(MIN_SHARES)
}

/// v1 `cpu.shares` for a container's limits: the minimum for revocable ones (pure).
pub fn shares_for_limits(cpus: f64, revocable: bool) -> u64 {
    if revocable {
        MIN_SHARES
    } else {
        shares_for(cpus)
    }
}

/// v2 `cpu.weight` (1..=10000) equivalent to v1 `shares` (pure; the mapping runc uses).
pub fn weight_for_shares(shares: u64) -> u64 {
    let shares = shares.clamp(MIN_SHARES, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// CFS quota for `cpus` over [`CFS_PERIOD_US`] (pure).
pub fn cfs_quota_for(cpus: f64) -> u64 {
    ((cpus * CFS_PERIOD_US as f64) as u64).max(MIN_CFS_QUOTA_US)
}

/// `cgroups/cpu`.
#[derive(Debug)]
pub struct CgroupsCpu {
    options: CgroupsOptions,
    enable_cfs: bool,
    table: CgroupTable,
}

const NAME: &str = "cgroups/cpu";

impl CgroupsCpu {
    /// Checks that the controllers are there; `enable_cfs` caps usage at the cpus.
    pub fn new(options: CgroupsOptions, enable_cfs: bool) -> Result<Self> {
        let (version, _) = options.locate(NAME, "cpu")?;
        if version == CgroupVersion::V1 {
            options.locate(NAME, "cpuacct")?;
        }
        Ok(CgroupsCpu {
            options,
            enable_cfs,
            table: CgroupTable::default(),
        })
    }

    fn apply(&self, dirs: &[CgroupDir], limits: &Limits) -> Result<()> {
        // A revocable container without cpus (e.g. revocable mem only) still runs at the
        // lowest weight.
        let Some(cpus) = limits.cpus.or(limits.revocable.then_some(0.0)) else {
            return Ok(());
        };
        let cfs = self.enable_cfs && limits.cpus.is_some();
        let cpu = &dirs[0];
        match cpu.version {
            CgroupVersion::V1 => {
                cpu.write(
                    "cpu.shares",
                    &shares_for_limits(cpus, limits.revocable).to_string(),
                )?;
                if cfs {
                    cpu.write("cpu.cfs_period_us", &CFS_PERIOD_US.to_string())?;
                    cpu.write("cpu.cfs_quota_us", &cfs_quota_for(cpus).to_string())?;
                }
            }
            CgroupVersion::V2 => {
                cpu.write(
                    "cpu.weight",
                    &weight_for_shares(shares_for_limits(cpus, limits.revocable)).to_string(),
                )?;
                if cfs {
                    cpu.write(
                        "cpu.max",
                        &format!("{} {}", cfs_quota_for(cpus), CFS_PERIOD_US),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Creates the revocable root's `cpu` cgroup (if needed) at the lowest weight, idle as a
    /// group where the kernel can; then container `id`'s cgroup under it.
    fn create_revocable(&self, id: &ContainerId) -> Result<CgroupDir> {
        let (version, mount) = self.options.locate(NAME, "cpu")?;
        let parent_name = self.options.revocable_root();
        let dir = CgroupDir::create(version, &mount, &parent_name, id.as_str(), &["cpu"])?;
        let parent = CgroupDir {
            version,
            path: mount.join(&parent_name),
        };
        // An idle group refuses a weight (EINVAL): set up once, by the first container.
        if parent.read("cpu.idle").is_ok_and(|v| v.trim() == "1") {
            return Ok(dir);
        }
        let written = match version {
            CgroupVersion::V1 => parent.write("cpu.shares", &MIN_SHARES.to_string()),
            CgroupVersion::V2 => parent.write("cpu.weight", "1"),
        };
        if let Err(e) = written {
            let _ = dir.destroy();
            return Err(e);
        }
        // Older kernels lack `cpu.idle`; the lowest weight alone then protects the host.
        if parent.path.join("cpu.idle").exists() {
            let _ = parent.write("cpu.idle", "1");
        }
        Ok(dir)
    }

    fn make_dirs(&self, id: &ContainerId, revocable: bool) -> Result<Vec<CgroupDir>> {
        let cpu = if revocable {
            self.create_revocable(id)?
        } else {
            self.options.create(NAME, "cpu", id)?
        };
        let mut dirs = vec![cpu];
        if dirs[0].version == CgroupVersion::V1 {
            let made = self
                .options
                .locate(NAME, "cpuacct")
                .and_then(|(v, m)| CgroupDir::create(v, &m, &self.options.root, id.as_str(), &[]));
            match made {
                Ok(d) => dirs.push(d),
                Err(e) => {
                    let _ = destroy_dirs(&dirs);
                    return Err(e);
                }
            }
        }
        Ok(dirs)
    }
}

impl Isolator for CgroupsCpu {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        self.table.check_new(&config.id, NAME)?;
        let dirs = self.make_dirs(&config.id, config.limits.revocable)?;
        self.table
            .apply_and_insert(&config.id, dirs, config.limits, |dirs| {
                self.apply(dirs, &config.limits)
            })
    }

    fn isolate(&self, id: &ContainerId, _pid: Pid) -> Result<()> {
        // The launcher's child joined the cgroups itself before exec.
        self.table.get(id, NAME).map(|_| ())
    }

    fn recover(&self, config: &ContainerConfig, _pid: Pid) -> Result<()> {
        self.table.check_new(&config.id, NAME)?;
        // Revocable containers' `cpu` cgroups sit under the revocable root (those of an
        // agent from before it existed, under the root).
        let revocable_root = self.options.revocable_root();
        let parents = if config.limits.revocable {
            [revocable_root.as_str(), self.options.root.as_str()]
        } else {
            [self.options.root.as_str(), revocable_root.as_str()]
        };
        let cpu = self
            .options
            .existing_under(NAME, "cpu", parents[0], &config.id)
            .or_else(|e| {
                self.options
                    .existing_under(NAME, "cpu", parents[1], &config.id)
                    .map_err(|_| e)
            })?;
        let mut dirs = vec![cpu];
        if dirs[0].version == CgroupVersion::V1 {
            dirs.push(self.options.existing(NAME, "cpuacct", &config.id)?);
        }
        self.table.insert_recovered(&config.id, dirs, config.limits);
        Ok(())
    }

    fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()> {
        let entry = self.table.get(id, NAME)?;
        self.apply(&entry.dirs, limits)?;
        self.table.set_limits(id, *limits);
        Ok(())
    }

    fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics> {
        let entry = self.table.get(id, NAME)?;
        let mut stats = ResourceStatistics::at(timestamp);
        stats.cpus_limit = entry.limits.cpus;
        let cpu = &entry.dirs[0];
        let cpu_stat = cpu.read_keyed("cpu.stat")?;
        stats.cpus_nr_throttled = keyed(&cpu_stat, "nr_throttled");
        match cpu.version {
            CgroupVersion::V1 => {
                let acct = entry
                    .dirs
                    .get(1)
                    .unwrap_or(cpu)
                    .read_keyed("cpuacct.stat")?;
                // SAFETY: sysconf has no preconditions.
                let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
                stats.cpus_user_time_secs = keyed(&acct, "user").map(|t| t as f64 / hz);
                stats.cpus_system_time_secs = keyed(&acct, "system").map(|t| t as f64 / hz);
            }
            CgroupVersion::V2 => {
                stats.cpus_user_time_secs = keyed(&cpu_stat, "user_usec").map(|u| u as f64 / 1e6);
                stats.cpus_system_time_secs =
                    keyed(&cpu_stat, "system_usec").map(|u| u as f64 / 1e6);
            }
        }
        Ok(stats)
    }

    fn evacuate(&self, id: &ContainerId) {
        let Ok(entry) = self.table.get(id, NAME) else {
            return;
        };
        if !entry.limits.revocable {
            return;
        }
        let cpu = &entry.dirs[0];
        if let Ok((version, mount)) = self.options.locate(NAME, "cpu") {
            cpu.kill_into(&CgroupDir {
                version,
                path: mount,
            });
        }
    }

    fn cleanup(&self, id: &ContainerId) -> Result<()> {
        self.table.destroy(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares_and_quota_follow_cpus() {
        assert_eq!(shares_for(1.0), 1024);
        assert_eq!(shares_for(0.5), 512);
        assert_eq!(shares_for(0.0001), MIN_SHARES);
        assert_eq!(cfs_quota_for(0.5), 50_000);
        assert_eq!(cfs_quota_for(0.001), MIN_CFS_QUOTA_US);
        assert_eq!(weight_for_shares(2), 1);
        assert_eq!(weight_for_shares(262_144), 10_000);
        assert_eq!(shares_for_limits(4.0, true), MIN_SHARES);
        assert_eq!(weight_for_shares(shares_for_limits(4.0, true)), 1);
        assert_eq!(shares_for_limits(4.0, false), 4096);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn weight_is_in_range_and_monotone(a in 0u64..300_000, b in 0u64..300_000) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!((1..=10_000).contains(&weight_for_shares(lo)));
            prop_assert!(weight_for_shares(lo) <= weight_for_shares(hi));
        }

        #[test]
        fn quota_never_below_kernel_minimum(cpus in 0.0001f64..64.0) {
            prop_assert!(cfs_quota_for(cpus) >= MIN_CFS_QUOTA_US);
            prop_assert!(shares_for(cpus) >= MIN_SHARES);
        }
    }
}
