//! `cgroups/mem`: a hard memory limit (v1 `memory.limit_in_bytes`, v2 `memory.max`); for a
//! revocable container also a soft limit of 0 (v1 `memory.soft_limit_in_bytes`, v2
//! `memory.high` at half its limit), so the kernel reclaims from it first; usage
//! from `memory.stat`, and OOM detection: the watch polls the cgroup's `oom_kill` counter
//! (v1 `memory.oom_control`, v2 `memory.events`) and resolves with a memory limitation
//! whose message names the limit.
//!
//! Invariant: the watch checks before it sleeps, so a watch polled after the container's
//! process has died of OOM resolves at once (the containerizer can ask "why did it die?").

use std::time::Duration;

use nix::unistd::Pid;

use crate::cgroup_table::{CgroupTable, CgroupsOptions};
use crate::cgroupfs::{keyed, CgroupDir, CgroupVersion};
use crate::container::{
    format_mib, ContainerConfig, ContainerId, LaunchPrep, Limitation, LimitationKind, Limits,
};
use crate::error::Result;
use crate::isolator::{no_limitation, Isolator, LimitationFuture};
use crate::statistics::ResourceStatistics;

const NAME: &str = "cgroups/mem";

/// The OOM kills recorded by the cgroup, or `None` when it is gone.
fn oom_kills(dir: &CgroupDir) -> Option<u64> {
    let file = match dir.version {
        CgroupVersion::V1 => "memory.oom_control",
        CgroupVersion::V2 => "memory.events",
    };
    dir.read_keyed(file)
        .ok()
        .map(|v| keyed(&v, "oom_kill").unwrap_or(0))
}

/// The message of a memory limitation (pure).
pub fn memory_limitation_message(limit_bytes: u64, peak_bytes: Option<u64>) -> String {
    let mut m = format!(
        "Memory limit exceeded: Requested: {} ({limit_bytes} bytes)",
        format_mib(limit_bytes)
    );
    if let Some(peak) = peak_bytes {
        m.push_str(&format!(", Maximum Used: {}", format_mib(peak)));
    }
    m.push_str("; the kernel's OOM killer killed a process of the container");
    m
}

/// `cgroups/mem`.
#[derive(Debug)]
pub struct CgroupsMem {
    options: CgroupsOptions,
    poll_interval: Duration,
    table: CgroupTable,
}

impl CgroupsMem {
    /// Checks that the memory controller is there; `poll_interval` paces OOM checks.
    pub fn new(options: CgroupsOptions, poll_interval: Duration) -> Result<Self> {
        options.locate(NAME, "memory")?;
        Ok(CgroupsMem {
            options,
            poll_interval,
            table: CgroupTable::default(),
        })
    }

    fn apply(dir: &CgroupDir, limits: &Limits) -> Result<()> {
        let Some(mem) = limits.mem_bytes else {
            return Ok(());
        };
        match dir.version {
            CgroupVersion::V1 => {
                dir.write("memory.limit_in_bytes", &mem.to_string())?;
                if limits.revocable {
                    dir.write("memory.soft_limit_in_bytes", "0")?;
                }
                Ok(())
            }
            CgroupVersion::V2 => {
                dir.write("memory.max", &mem.to_string())?;
                if limits.revocable {
                    dir.write("memory.high", &(mem / 2).max(4096).to_string())?;
                }
                // No swapping around the limit (v1 has no swap accounting enabled here).
                let _ = dir.write("memory.swap.max", "0");
                Ok(())
            }
        }
    }
}

impl Isolator for CgroupsMem {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        self.table.check_new(&config.id, NAME)?;
        let dir = self.options.create(NAME, "memory", &config.id)?;
        self.table
            .apply_and_insert(&config.id, vec![dir], config.limits, |dirs| {
                Self::apply(&dirs[0], &config.limits)
            })
    }

    fn isolate(&self, id: &ContainerId, _pid: Pid) -> Result<()> {
        self.table.get(id, NAME).map(|_| ())
    }

    fn recover(&self, config: &ContainerConfig, _pid: Pid) -> Result<()> {
        self.table.check_new(&config.id, NAME)?;
        let dir = self.options.existing(NAME, "memory", &config.id)?;
        self.table
            .insert_recovered(&config.id, vec![dir], config.limits);
        Ok(())
    }

    fn watch(&self, id: &ContainerId) -> LimitationFuture {
        let Ok(entry) = self.table.get(id, NAME) else {
            return no_limitation();
        };
        let interval = self.poll_interval;
        let dir = entry.dirs[0].clone();
        let limit = entry.limits.mem_bytes;
        Box::pin(async move {
            loop {
                match oom_kills(&dir) {
                    Some(n) if n > 0 => {
                        let peak_file = match dir.version {
                            CgroupVersion::V1 => "memory.max_usage_in_bytes",
                            CgroupVersion::V2 => "memory.peak",
                        };
                        let limit = limit
                            .or_else(|| dir.read_u64(Self::limit_file(dir.version)).ok())
                            .unwrap_or(0);
                        return Limitation {
                            kind: LimitationKind::Memory,
                            message: memory_limitation_message(limit, dir.read_u64(peak_file).ok()),
                        };
                    }
                    Some(_) => {}
                    // The cgroup is gone: the container ended without an OOM kill.
                    None => futures::future::pending::<()>().await,
                }
                tokio::time::sleep(interval).await;
            }
        })
    }

    fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()> {
        let entry = self.table.get(id, NAME)?;
        Self::apply(&entry.dirs[0], limits)?;
        self.table.set_limits(id, *limits);
        Ok(())
    }

    fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics> {
        let entry = self.table.get(id, NAME)?;
        let dir = &entry.dirs[0];
        let stat = dir.read_keyed("memory.stat")?;
        let mut stats = ResourceStatistics::at(timestamp);
        stats.mem_rss_bytes = match dir.version {
            CgroupVersion::V1 => keyed(&stat, "total_rss").or_else(|| keyed(&stat, "rss")),
            CgroupVersion::V2 => keyed(&stat, "anon"),
        };
        stats.mem_limit_bytes = entry
            .limits
            .mem_bytes
            .or_else(|| dir.read_u64(Self::limit_file(dir.version)).ok());
        Ok(stats)
    }

    fn cleanup(&self, id: &ContainerId) -> Result<()> {
        self.table.destroy(id)
    }
}

impl CgroupsMem {
    fn limit_file(version: CgroupVersion) -> &'static str {
        match version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_limit() {
        let m = memory_limitation_message(32 << 20, Some(32 << 20));
        assert!(
            m.starts_with("Memory limit exceeded: Requested: 32MB (33554432 bytes)"),
            "{m}"
        );
        assert!(m.contains("Maximum Used: 32MB"), "{m}");
    }
}
