//! One framework as the allocator sees it: whether it is active, whether it accepts revocable
//! resources, and per role its subscription, suppression, revive epoch, DRF key and
//! allocation.
//!
//! Invariant: a role entry stays while the framework is subscribed to the role or holds
//! resources in it; only subscribed roles have a place (`key`) in the role's framework sorter.

use std::sync::Arc;

use super::roles::RoleIdx;
use super::sorter::SortKey;

/// What a caller says about a framework when adding or updating it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameworkSpec {
    /// Roles the framework subscribes to.
    pub roles: Vec<String>,
    /// The framework has the REVOCABLE_RESOURCES capability.
    pub revocable: bool,
    /// Roles for which the framework starts suppressed.
    pub suppressed_roles: Vec<String>,
}

/// One (framework, role) pair.
#[derive(Clone, Debug)]
pub(crate) struct FrameworkRole {
    pub(crate) role: RoleIdx,
    pub(crate) subscribed: bool,
    pub(crate) suppressed: bool,
    /// Revive epoch: filters made under an older epoch no longer apply.
    pub(crate) epoch: u32,
    /// Scalars allocated in this role, by resource-name id.
    pub(crate) alloc: Vec<i64>,
    /// Place in the role's framework sorter while subscribed.
    pub(crate) key: Option<SortKey>,
    /// Waiting for its key to be refreshed.
    pub(crate) dirty: bool,
}

/// One framework.
#[derive(Clone, Debug)]
pub(crate) struct FrameworkState {
    pub(crate) id: Arc<str>,
    pub(crate) active: bool,
    pub(crate) revocable: bool,
    pub(crate) roles: Vec<FrameworkRole>,
}

impl FrameworkState {
    /// The entry for `role`, if any.
    pub(crate) fn role(&self, role: RoleIdx) -> Option<&FrameworkRole> {
        self.roles.iter().find(|r| r.role == role)
    }

    /// The revive epoch of `role` if the framework takes offers in it now: it is active and
    /// has an entry for the role that is not suppressed.
    pub(crate) fn offer_epoch(&self, role: RoleIdx) -> Option<u32> {
        if !self.active {
            return None;
        }
        self.role(role)
            .filter(|entry| !entry.suppressed)
            .map(|entry| entry.epoch)
    }

    /// The entry for `role`, created (unsubscribed, empty) if missing.
    pub(crate) fn role_mut(&mut self, role: RoleIdx) -> &mut FrameworkRole {
        match self.roles.iter().position(|r| r.role == role) {
            Some(i) => &mut self.roles[i],
            None => {
                self.roles.push(FrameworkRole {
                    role,
                    subscribed: false,
                    suppressed: false,
                    epoch: 0,
                    alloc: Vec::new(),
                    key: None,
                    dirty: false,
                });
                self.roles.last_mut().expect("an entry was just pushed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework(active: bool) -> FrameworkState {
        FrameworkState {
            id: Arc::from("fw"),
            active,
            revocable: false,
            roles: Vec::new(),
        }
    }

    #[test]
    fn offers_go_only_to_active_unsuppressed_roles() {
        let mut fw = framework(true);
        assert_eq!(fw.offer_epoch(1), None, "no entry for the role");
        fw.role_mut(1).epoch = 3;
        assert_eq!(fw.offer_epoch(1), Some(3));
        assert_eq!(fw.offer_epoch(2), None, "another role");
        fw.role_mut(1).suppressed = true;
        assert_eq!(fw.offer_epoch(1), None, "suppressed");
        fw.role_mut(1).suppressed = false;
        fw.active = false;
        assert_eq!(fw.offer_epoch(1), None, "inactive");
    }
}
