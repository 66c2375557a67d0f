//! The master's framework book: registered frameworks, their scheduler PIDs, whether they
//! are connected and active, and the generation that guards their failover timer.
//!
//! Invariant: `by_pid` maps exactly the PIDs of connected frameworks; a framework's
//! `failover_generation` changes whenever it reconnects, so a failover timer set before
//! that finds a different generation and does nothing.

use std::collections::{BTreeMap, HashMap};

use libprocess::Upid;
use meso_api::v1::{FrameworkCapabilityType, FrameworkId, FrameworkInfo};

/// One framework.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkRecord {
    /// Its description (with its id).
    pub info: FrameworkInfo,
    /// The scheduler's PID while connected (the last one after a disconnection).
    pub pid: Option<Upid>,
    /// The scheduler is connected.
    pub connected: bool,
    /// Offers are made to it.
    pub active: bool,
    /// Bumped on every reconnection (guards failover timers).
    pub failover_generation: u64,
}

impl FrameworkRecord {
    /// Whether the framework declared PARTITION_AWARE.
    pub fn partition_aware(&self) -> bool {
        self.info
            .has_capability(FrameworkCapabilityType::PartitionAware)
    }
}

/// Registered frameworks.
#[derive(Debug)]
pub struct FrameworkBook {
    master_id: String,
    next: u64,
    frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
    by_pid: HashMap<Upid, FrameworkId>,
}

impl FrameworkBook {
    /// An empty book whose ids are `<master_id>-NNNN`.
    pub fn new(master_id: &str) -> FrameworkBook {
        FrameworkBook {
            master_id: master_id.to_string(),
            next: 0,
            frameworks: BTreeMap::new(),
            by_pid: HashMap::new(),
        }
    }

    /// A fresh framework id.
    pub fn next_id(&mut self) -> FrameworkId {
        let id = FrameworkId::new(format!("{}-{:04}", self.master_id, self.next));
        self.next += 1;
        id
    }

    /// Adds a framework, connected at `pid` (or known only from an agent, when `None`).
    pub fn add(&mut self, mut info: FrameworkInfo, id: FrameworkId, pid: Option<Upid>) {
        info.id = Some(id.clone());
        if let Some(pid) = &pid {
            self.by_pid.insert(pid.clone(), id.clone());
        }
        let connected = pid.is_some();
        self.frameworks.insert(
            id,
            FrameworkRecord {
                info,
                pid,
                connected,
                active: connected,
                failover_generation: 0,
            },
        );
    }

    /// Reconnects a framework at `pid` (possibly a new scheduler instance); returns the
    /// previous PID when it differs.
    pub fn reconnect(&mut self, id: &FrameworkId, info: FrameworkInfo, pid: Upid) -> Option<Upid> {
        let record = self.frameworks.get_mut(id)?;
        let old = record.pid.take();
        if let Some(old) = &old {
            self.by_pid.remove(old);
        }
        let mut info = info;
        info.id = Some(id.clone());
        record.info = info;
        record.pid = Some(pid.clone());
        record.connected = true;
        record.active = true;
        record.failover_generation += 1;
        self.by_pid.insert(pid.clone(), id.clone());
        old.filter(|o| *o != pid)
    }

    /// Adds a framework subscribed over HTTP: connected and active, with no PID (its
    /// stream lives in the master's `FrameworkLinks`).
    pub fn add_http(&mut self, info: FrameworkInfo, id: FrameworkId) {
        self.add(info, id.clone(), None);
        if let Some(record) = self.frameworks.get_mut(&id) {
            record.connected = true;
            record.active = true;
        }
    }

    /// Reconnects a framework over HTTP (a new SUBSCRIBE); returns the PID of the driver
    /// it replaces, if it was connected through one.
    pub fn reconnect_http(&mut self, id: &FrameworkId, info: FrameworkInfo) -> Option<Upid> {
        let record = self.frameworks.get_mut(id)?;
        let old = record.pid.take();
        if let Some(old) = &old {
            self.by_pid.remove(old);
        }
        let mut info = info;
        info.id = Some(id.clone());
        record.info = info;
        record.connected = true;
        record.active = true;
        record.failover_generation += 1;
        old
    }

    /// Replaces a framework's description (UPDATE_FRAMEWORK); false if it is unknown.
    pub fn update_info(&mut self, id: &FrameworkId, mut info: FrameworkInfo) -> bool {
        let Some(record) = self.frameworks.get_mut(id) else {
            return false;
        };
        info.id = Some(id.clone());
        record.info = info;
        true
    }

    /// Marks a framework disconnected and inactive; returns its failover generation.
    pub fn disconnect(&mut self, id: &FrameworkId) -> Option<u64> {
        let record = self.frameworks.get_mut(id)?;
        if let Some(pid) = &record.pid {
            self.by_pid.remove(pid);
        }
        record.connected = false;
        record.active = false;
        Some(record.failover_generation)
    }

    /// Marks a framework inactive (it keeps its connection).
    pub fn deactivate(&mut self, id: &FrameworkId) {
        if let Some(record) = self.frameworks.get_mut(id) {
            record.active = false;
        }
    }

    /// Removes a framework.
    pub fn remove(&mut self, id: &FrameworkId) -> Option<FrameworkRecord> {
        let record = self.frameworks.remove(id)?;
        if let Some(pid) = &record.pid {
            if self.by_pid.get(pid) == Some(id) {
                self.by_pid.remove(pid);
            }
        }
        Some(record)
    }

    /// The framework `id`.
    pub fn get(&self, id: &FrameworkId) -> Option<&FrameworkRecord> {
        self.frameworks.get(id)
    }

    /// The connected framework at `pid`.
    pub fn by_pid(&self, pid: &Upid) -> Option<&FrameworkId> {
        self.by_pid.get(pid)
    }

    /// All frameworks.
    pub fn iter(&self) -> impl Iterator<Item = &FrameworkRecord> {
        self.frameworks.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(port: u16) -> Upid {
        Upid::new("scheduler(1)", ([127, 0, 0, 1], port).into())
    }

    #[test]
    fn reconnecting_bumps_the_failover_generation_and_moves_the_pid() {
        let mut book = FrameworkBook::new("m");
        let id = book.next_id();
        assert_eq!(id.as_str(), "m-0000");
        book.add(FrameworkInfo::new("u", "n"), id.clone(), Some(pid(1)));
        let generation = book.disconnect(&id);
        assert_eq!(generation, Some(0));
        assert!(book.by_pid(&pid(1)).is_none());
        let old = book.reconnect(&id, FrameworkInfo::new("u", "n"), pid(2));
        assert_eq!(old, Some(pid(1)));
        let record = book.get(&id).expect("framework stays registered");
        assert!(record.connected && record.active);
        assert_eq!(record.failover_generation, 1);
        assert_eq!(book.by_pid(&pid(2)), Some(&id));
    }
}
