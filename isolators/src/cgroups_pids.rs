//! `cgroups/pids`: a limit on the number of processes (and threads) in the container
//! (`pids.max`, from the `--cgroups-pids-max` flag; unlimited when not set) and the count
//! as `processes` in the usage. The same files exist in v1 and v2.

use nix::unistd::Pid;

use crate::cgroup_table::{CgroupTable, CgroupsOptions};
use crate::container::{ContainerConfig, ContainerId, LaunchPrep, Limits};
use crate::error::{IsolatorError, Result};
use crate::isolator::Isolator;
use crate::statistics::ResourceStatistics;

const NAME: &str = "cgroups/pids";

/// `cgroups/pids`.
#[derive(Debug)]
pub struct CgroupsPids {
    options: CgroupsOptions,
    max: Option<u64>,
    table: CgroupTable,
}

impl CgroupsPids {
    /// Checks that the pids controller is there; `max` is the per-container limit.
    pub fn new(options: CgroupsOptions, max: Option<u64>) -> Result<Self> {
        if max == Some(0) {
            return Err(IsolatorError::InvalidConfig {
                field: "cgroups-pids-max",
                value: "0".into(),
                reason: "a container needs at least one process".into(),
            });
        }
        options.locate(NAME, "pids")?;
        Ok(CgroupsPids {
            options,
            max,
            table: CgroupTable::default(),
        })
    }
}

impl Isolator for CgroupsPids {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        self.table.check_new(&config.id, NAME)?;
        let dir = self.options.create(NAME, "pids", &config.id)?;
        let value = self.max.map_or("max".to_string(), |m| m.to_string());
        self.table
            .apply_and_insert(&config.id, vec![dir], config.limits, |dirs| {
                dirs[0].write("pids.max", &value)
            })
    }

    fn isolate(&self, id: &ContainerId, _pid: Pid) -> Result<()> {
        self.table.get(id, NAME).map(|_| ())
    }

    fn recover(&self, config: &ContainerConfig, _pid: Pid) -> Result<()> {
        self.table.check_new(&config.id, NAME)?;
        let dir = self.options.existing(NAME, "pids", &config.id)?;
        self.table
            .insert_recovered(&config.id, vec![dir], config.limits);
        Ok(())
    }

    fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()> {
        // The process limit is per agent, not a task resource: nothing to change.
        self.table.get(id, NAME)?;
        self.table.set_limits(id, *limits);
        Ok(())
    }

    fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics> {
        let entry = self.table.get(id, NAME)?;
        let mut stats = ResourceStatistics::at(timestamp);
        stats.processes = Some(entry.dirs[0].read_u64("pids.current")?);
        Ok(stats)
    }

    fn cleanup(&self, id: &ContainerId) -> Result<()> {
        self.table.destroy(id)
    }
}
