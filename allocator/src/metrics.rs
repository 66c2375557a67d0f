//! A snapshot of the allocator's state for `/metrics` (Mesos's `allocator/mesos/*` family):
//! rounds run, cluster totals and what is offered or allocated, and per role its weight,
//! dominant share, allocation, quota and active filters. Computed on demand; nothing here
//! is updated on the hot path.

use std::collections::BTreeMap;

use meso_api::resources::Scalar;

use super::core::Allocator;
use super::quota::get_at;
use super::sorter::dominant_share;

/// One role's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleMetrics {
    /// Weight (default 1).
    pub weight: f64,
    /// Weighted dominant share of the role's subtree (what DRF sorts by).
    pub dominant_share: f64,
    /// Scalars allocated in the role's subtree, by name.
    pub allocated: BTreeMap<String, Scalar>,
    /// Quota consumption (reservations plus unreserved allocations), by name, for the
    /// names the role has a guarantee or limit on.
    pub quota_consumed: BTreeMap<String, Scalar>,
    /// Live filters held by frameworks in this role, over all agents.
    pub active_filters: usize,
}

/// See the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct AllocatorMetrics {
    /// Allocation rounds run so far.
    pub allocation_runs: u64,
    /// Agents known.
    pub agents: usize,
    /// Frameworks known.
    pub frameworks: usize,
    /// All scalars of all agents, by name.
    pub total: BTreeMap<String, Scalar>,
    /// Scalars offered or allocated, by name.
    pub offered_or_allocated: BTreeMap<String, Scalar>,
    /// Per role (roles that ever existed; the root is left out).
    pub roles: BTreeMap<String, RoleMetrics>,
}

impl Allocator {
    /// The current figures (see [`AllocatorMetrics`]). Filters count as active if they
    /// have not expired by `now`.
    pub fn metrics(&self, now: super::filters::Timestamp) -> AllocatorMetrics {
        let names = self.catalog.names();
        let by_name = |v: &[i64]| -> BTreeMap<String, Scalar> {
            names
                .iter()
                .enumerate()
                .filter(|&(i, _)| get_at(v, i) != 0)
                .map(|(i, n)| (n.clone(), Scalar::from_milli(get_at(v, i))))
                .collect()
        };
        let mut filters_by_role = vec![0usize; self.tree.nodes.len()];
        let mut allocated = vec![0i64; names.len()];
        for agent in self.agents.iter().flatten() {
            for (role, count) in agent.filters.live_by_role(now) {
                filters_by_role[role as usize] += count;
            }
            for allocation in &agent.allocations {
                for (i, amount) in allocation.held.iter().enumerate() {
                    let info = self.catalog.slots[agent.slots[i] as usize];
                    if info.scalar {
                        allocated[info.name as usize] += amount.scalar();
                    }
                }
            }
        }
        let mut roles = BTreeMap::new();
        for (r, node) in self.tree.nodes.iter().enumerate().skip(1) {
            let empty = Default::default();
            let account = self.books.accounts.get(r).unwrap_or(&empty);
            let quota_names: Vec<usize> = (0..names.len())
                .filter(|&n| {
                    get_at(&account.guarantee, n) > 0
                        || account.limit.get(n).is_some_and(|&l| l != i64::MAX)
                })
                .collect();
            roles.insert(
                node.name.to_string(),
                RoleMetrics {
                    weight: node.weight,
                    dominant_share: dominant_share(
                        &account.subtree_alloc,
                        &self.books.totals,
                        node.weight,
                    ),
                    allocated: by_name(&account.subtree_alloc),
                    quota_consumed: quota_names
                        .into_iter()
                        .map(|n| (names[n].clone(), Scalar::from_milli(account.consumed(n))))
                        .collect(),
                    active_filters: filters_by_role[r],
                },
            );
        }
        AllocatorMetrics {
            allocation_runs: self.rounds,
            agents: self.agent_count(),
            frameworks: self.framework_count(),
            total: by_name(&self.books.totals),
            offered_or_allocated: by_name(&allocated),
            roles,
        }
    }
}
