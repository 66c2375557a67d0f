//! Offer filters: "do not offer me these resources on this agent again for a while", added
//! when a framework declines an offer or leaves part of one unused.
//!
//! Filters live with their agent, sorted by (framework, role), so the allocation loop finds
//! the filters of one (framework, role) pair on the agent it is looking at by binary search,
//! with no hashing and no per-pair allocation. A filter applies while it has not expired, its
//! revive epoch is current, and the resources about to be offered fit inside the refused
//! ones (offering more than was refused is allowed, as in Mesos).
//!
//! Invariant: `refused` is aligned with the agent's slot layout; an agent whose layout changes starts
//! with no filters.

use std::time::Duration;

use super::catalog::Amount;
use super::roles::RoleIdx;

/// A point in time, as the time since an epoch the embedder picks. The allocator never reads
/// a clock: every call that depends on time takes one of these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub Duration);

impl Timestamp {
    /// `self + d`, saturating.
    pub fn after(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d))
    }
}

/// Default `refuse_seconds` when a decline names none.
pub const DEFAULT_REFUSE: Duration = Duration::from_secs(5);

/// Longest filter honoured (365 days); longer requests are capped.
pub const MAX_REFUSE: Duration = Duration::from_secs(365 * 24 * 3600);

/// One filter on one agent.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    pub(crate) framework: u32,
    pub(crate) role: RoleIdx,
    /// The (framework, role)'s revive epoch when the filter was made; a revive bumps the
    /// epoch, which voids older filters without touching every agent.
    pub(crate) epoch: u32,
    pub(crate) expires: Timestamp,
    /// Refused amounts, aligned with the agent's slots.
    pub(crate) refused: Vec<Amount>,
}

/// The filters of one agent, sorted by (framework, role).
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentFilters {
    list: Vec<Filter>,
}

impl AgentFilters {
    fn range(&self, framework: u32, role: RoleIdx) -> std::ops::Range<usize> {
        let key = (framework, role);
        let start = self.list.partition_point(|f| (f.framework, f.role) < key);
        let end = start
            + self.list[start..]
                .iter()
                .take_while(|f| (f.framework, f.role) == key)
                .count();
        start..end
    }

    /// Adds a filter, dropping expired or stale filters of the same pair on the way.
    pub(crate) fn add(&mut self, filter: Filter, now: Timestamp) {
        let range = self.range(filter.framework, filter.role);
        let start = range.start;
        let mut keep: Vec<Filter> = self.list[range.clone()]
            .iter()
            .filter(|f| f.expires > now && f.epoch == filter.epoch)
            .cloned()
            .collect();
        keep.push(filter);
        self.list.splice(range, keep);
        debug_assert!(self.list[start..]
            .windows(2)
            .all(|w| (w[0].framework, w[0].role) <= (w[1].framework, w[1].role)));
    }

    /// True if a live filter of (framework, role) covers what `covered` accepts.
    pub(crate) fn any_covers(
        &self,
        framework: u32,
        role: RoleIdx,
        epoch: u32,
        now: Timestamp,
        covered: impl Fn(&[Amount]) -> bool,
    ) -> bool {
        if self.list.is_empty() {
            return false;
        }
        let range = self.range(framework, role);
        self.list[range]
            .iter()
            .any(|f| f.expires > now && f.epoch == epoch && covered(&f.refused))
    }

    /// True if no filter is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Drops every filter of `framework`.
    pub(crate) fn remove_framework(&mut self, framework: u32) {
        self.list.retain(|f| f.framework != framework);
    }

    /// Drops expired filters.
    pub(crate) fn expire(&mut self, now: Timestamp) {
        self.list.retain(|f| f.expires > now);
    }

    /// Number of filters held (expired ones included until pruned).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(framework: u32, role: RoleIdx, epoch: u32, secs: u64, cpus: i64) -> Filter {
        Filter {
            framework,
            role,
            epoch,
            expires: Timestamp(Duration::from_secs(secs)),
            refused: vec![Amount::Scalar(cpus)],
        }
    }

    fn covers_cpus(want: i64) -> impl Fn(&[Amount]) -> bool {
        move |refused: &[Amount]| refused[0].contains(&Amount::Scalar(want))
    }

    #[test]
    fn a_filter_applies_until_it_expires_and_only_to_its_pair() {
        let mut filters = AgentFilters::default();
        let now = Timestamp::default();
        filters.add(filter(3, 1, 0, 10, 4000), now);
        filters.add(filter(1, 1, 0, 10, 4000), now);
        assert!(filters.any_covers(3, 1, 0, now, covers_cpus(4000)));
        assert!(!filters.any_covers(3, 2, 0, now, covers_cpus(4000)));
        assert!(!filters.any_covers(2, 1, 0, now, covers_cpus(4000)));
        // More than was refused is offered again.
        assert!(!filters.any_covers(3, 1, 0, now, covers_cpus(5000)));
        let later = Timestamp(Duration::from_secs(10));
        assert!(!filters.any_covers(3, 1, 0, later, covers_cpus(4000)));
        filters.expire(later);
        assert!(filters.is_empty());
    }

    #[test]
    fn a_new_epoch_voids_older_filters() {
        let mut filters = AgentFilters::default();
        let now = Timestamp::default();
        filters.add(filter(1, 1, 0, 10, 4000), now);
        assert!(!filters.any_covers(1, 1, 1, now, covers_cpus(1)));
        filters.add(filter(1, 1, 1, 10, 2000), now);
        assert_eq!(
            filters.len(),
            1,
            "the stale filter is pruned when a new one is added"
        );
        assert!(filters.any_covers(1, 1, 1, now, covers_cpus(2000)));
        filters.remove_framework(1);
        assert!(filters.is_empty());
    }
}
