//! Offer filters: "do not offer me these resources on this agent again for a while", added
//! when a framework declines an offer or leaves part of one unused.
//!
//! Filters live with their agent, sorted by (framework, role) behind a compact key array, so
//! the allocation loop finds the filters of one (framework, role) pair on the agent it is
//! looking at by binary search, with no hashing and no per-pair allocation. A filter applies
//! while it has not expired, its revive epoch is current, and the resources about to be
//! offered fit inside the refused ones (offering more than was refused is allowed, as in
//! Mesos). Consecutive filters that refused the same amounts share one copy, and a filter
//! whose fingerprint matches the agent's current free resources applies without comparing.
//!
//! Invariant: `refused` is aligned with the agent's slot layout; an agent whose layout
//! changes starts with no filters.

use std::sync::Arc;
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
    /// Refused amounts, aligned with the agent's slots; shared between filters of the same
    /// agent that refused the same amounts (typically the agent's whole free resources).
    pub(crate) refused: Arc<[Amount]>,
    /// `fingerprint(&refused)`: when it matches the agent's current free resources, the
    /// filter covers whatever could be offered there without looking at `refused`.
    pub(crate) refused_print: u64,
}

/// The filters of one agent, sorted by (framework, role).
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentFilters {
    /// `(framework << 32) | role` of each filter, sorted: a compact array to binary-search
    /// (a walk probes it once per framework it passes on this agent).
    keys: Vec<u64>,
    /// The filters, in the same order as `keys`.
    list: Vec<Filter>,
    /// The refused amounts of the last filter added, with their fingerprint, to share.
    last_refused: Option<(u64, Arc<[Amount]>)>,
}

fn pair_key(framework: u32, role: RoleIdx) -> u64 {
    (u64::from(framework) << 32) | u64::from(role)
}

impl AgentFilters {
    fn range(&self, framework: u32, role: RoleIdx) -> std::ops::Range<usize> {
        let key = pair_key(framework, role);
        let start = self.keys.partition_point(|&k| k < key);
        let end = start + self.keys[start..].iter().take_while(|&&k| k == key).count();
        start..end
    }

    /// `refused` as a shared slice: the last added filter's when equal (frameworks declining
    /// the same free resources one after another), else a new one.
    pub(crate) fn share(&mut self, refused: Vec<Amount>, print: u64) -> Arc<[Amount]> {
        if let Some((last_print, last)) = &self.last_refused {
            if *last_print == print && **last == *refused {
                return last.clone();
            }
        }
        let shared: Arc<[Amount]> = Arc::from(refused);
        self.last_refused = Some((print, shared.clone()));
        shared
    }

    /// Adds a filter, dropping expired or stale filters of the same pair on the way.
    pub(crate) fn add(&mut self, filter: Filter, now: Timestamp) {
        let range = self.range(filter.framework, filter.role);
        let key = pair_key(filter.framework, filter.role);
        let mut keep: Vec<Filter> = self.list[range.clone()]
            .iter()
            .filter(|f| f.expires > now && f.epoch == filter.epoch)
            .cloned()
            .collect();
        keep.push(filter);
        let count = keep.len();
        self.list.splice(range.clone(), keep);
        self.keys.splice(range, std::iter::repeat_n(key, count));
        debug_assert!(self.keys.windows(2).all(|w| w[0] <= w[1]));
        debug_assert_eq!(self.keys.len(), self.list.len());
    }

    /// Keeps the filters `keep` accepts.
    fn retain(&mut self, keep: impl Fn(&Filter) -> bool) {
        let list = std::mem::take(&mut self.list);
        self.list = list.into_iter().filter(|f| keep(f)).collect();
        self.keys = self
            .list
            .iter()
            .map(|f| pair_key(f.framework, f.role))
            .collect();
    }

    /// If live filters of (framework, role) cover what `covered` accepts, the time the
    /// last of them expires (until then the pair stays filtered); `None` if none covers.
    pub(crate) fn covered_until(
        &self,
        framework: u32,
        role: RoleIdx,
        epoch: u32,
        now: Timestamp,
        free_print: u64,
        covered: impl Fn(&[Amount]) -> bool,
    ) -> Option<Timestamp> {
        if self.list.is_empty() {
            return None;
        }
        let range = self.range(framework, role);
        self.list[range]
            .iter()
            .filter(|f| {
                f.expires > now
                    && f.epoch == epoch
                    && (f.refused_print == free_print || covered(&f.refused))
            })
            .map(|f| f.expires)
            .max()
    }

    /// If a live filter of (framework, role) refused exactly the agent's free resources
    /// (its fingerprint is `free_print`), so that it covers anything that could be offered
    /// there, the time the last such filter expires. Cheaper than [`Self::covered_until`]:
    /// no claim is needed. It may name an earlier time than `covered_until` would (other
    /// covering filters are not looked at), which only makes the agent be walked again
    /// sooner.
    pub(crate) fn refused_all_until(
        &self,
        framework: u32,
        role: RoleIdx,
        epoch: u32,
        now: Timestamp,
        free_print: u64,
    ) -> Option<Timestamp> {
        let range = self.range(framework, role);
        self.list[range]
            .iter()
            .filter(|f| f.expires > now && f.epoch == epoch && f.refused_print == free_print)
            .map(|f| f.expires)
            .max()
    }

    /// True if no filter is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Live (unexpired) filters per role, as (role, count) pairs.
    pub(crate) fn live_by_role(&self, now: Timestamp) -> Vec<(RoleIdx, usize)> {
        let mut out: Vec<(RoleIdx, usize)> = Vec::new();
        for f in self.list.iter().filter(|f| f.expires > now) {
            match out.iter_mut().find(|(r, _)| *r == f.role) {
                Some((_, n)) => *n += 1,
                None => out.push((f.role, 1)),
            }
        }
        out
    }

    /// Drops every filter of `framework`.
    pub(crate) fn remove_framework(&mut self, framework: u32) {
        self.retain(|f| f.framework != framework);
    }

    /// Drops expired filters.
    pub(crate) fn expire(&mut self, now: Timestamp) {
        self.retain(|f| f.expires > now);
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
            refused_print: cpus as u64,
            refused: Arc::from(vec![Amount::Scalar(cpus)]),
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
        assert!(filters
            .covered_until(3, 1, 0, now, 0, covers_cpus(4000))
            .is_some());
        assert!(filters
            .covered_until(3, 2, 0, now, 0, covers_cpus(4000))
            .is_none());
        assert!(filters
            .covered_until(2, 1, 0, now, 0, covers_cpus(4000))
            .is_none());
        // More than was refused is offered again.
        assert!(filters
            .covered_until(3, 1, 0, now, 0, covers_cpus(5000))
            .is_none());
        let later = Timestamp(Duration::from_secs(10));
        assert!(filters
            .covered_until(3, 1, 0, later, 0, covers_cpus(4000))
            .is_none());
        filters.expire(later);
        assert!(filters.is_empty());
    }

    #[test]
    fn a_new_epoch_voids_older_filters() {
        let mut filters = AgentFilters::default();
        let now = Timestamp::default();
        filters.add(filter(1, 1, 0, 10, 4000), now);
        assert!(filters
            .covered_until(1, 1, 1, now, 0, covers_cpus(1))
            .is_none());
        filters.add(filter(1, 1, 1, 10, 2000), now);
        assert_eq!(
            filters.len(),
            1,
            "the stale filter is pruned when a new one is added"
        );
        assert!(filters
            .covered_until(1, 1, 1, now, 0, covers_cpus(2000))
            .is_some());
        filters.remove_framework(1);
        assert!(filters.is_empty());
    }
}
