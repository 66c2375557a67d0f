//! Orphan containers: every container the agent launches is recorded
//! ([`crate::checkpoint::runtime`]), checkpointing framework or not, until it is destroyed
//! and forgotten. At start, once recovery has taken back what it keeps, every recorded
//! container the agent does not hold is destroyed, as Mesos's containerizer does on
//! recovery: an executor of a framework without `checkpoint` that ignored the agent going
//! away (or one `--recover=cleanup` does not take back) runs supervised by nobody otherwise.

use meso_api::v1::ContainerId;
use slog::{info, warn};

use super::Agent;
use crate::checkpoint::runtime::{self, ContainerRecord};

impl Agent {
    /// Records a just-launched container (its executor is `pid`).
    pub(super) fn record_container(&mut self, container_id: &ContainerId, pid: u32) {
        // A process already gone leaves nothing to kill later.
        let Some(record) = ContainerRecord::of(pid) else {
            return;
        };
        if let Err(e) = runtime::write(&self.config.work_dir, container_id, record) {
            warn!(self.log, "container runtime record not written"; "error" => %e);
        }
    }

    /// Drops the record of a container destroyed and forgotten.
    pub(super) fn unrecord_container(&mut self, container_id: &ContainerId) {
        if let Err(e) = runtime::remove(&self.config.work_dir, container_id) {
            warn!(self.log, "container runtime record not removed"; "error" => %e);
        }
    }

    /// Destroys every recorded container the agent does not hold (after recovery).
    pub(super) fn destroy_orphans(&mut self) {
        for (container_id, record) in runtime::read_all(&self.config.work_dir) {
            if self.containers.contains_key(&container_id.value) {
                continue;
            }
            let pid = match &record {
                Ok(record) if record.still_runs() => Some(record.pid),
                Ok(_) => None,
                Err(e) => {
                    warn!(self.log, "damaged container runtime record"; "error" => %e);
                    None
                }
            };
            match self.containerizer.destroy_orphan(&container_id, pid) {
                Ok(()) => match pid {
                    Some(pid) => info!(self.log, "orphan container destroyed";
                        "container_id" => &container_id.value, "pid" => pid),
                    None => info!(self.log, "orphan container's executor already gone";
                        "container_id" => &container_id.value),
                },
                Err(e) => warn!(self.log, "orphan container not fully cleaned up";
                    "container_id" => &container_id.value, "error" => %e),
            }
            self.unrecord_container(&container_id);
        }
    }
}
