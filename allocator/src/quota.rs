//! Per-role bookkeeping and quota: what each role holds (for DRF) and consumes (for quota),
//! its guarantees and limits, and the headroom rule.
//!
//! A role's *consumption* is its reservations (allocated or not) plus the unreserved,
//! non-revocable resources allocated to it, each counted over the role's whole subtree, as in
//! Mesos 1.9+. A *limit* caps consumption for the role and, through the subtree counting, for
//! its descendants. A *guarantee* is served first in each round (the guarantee stage), and
//! unallocated unreserved resources are held back as *headroom* while any role's guarantee is
//! unmet: other roles only get what exceeds the sum of unmet guarantees.
//!
//! Headroom sums the unmet guarantees of the outermost roles that have one: a guaranteed
//! role below a guaranteed ancestor is covered by the ancestor's subtree consumption.
//!
//! All vectors here are indexed by resource-name id and may be shorter than the number of
//! names (missing entries read as 0, or "no limit" for limits).

use super::error::AllocatorError;
use super::quantities::Quantities;

/// A role's quota as given by the operator: guaranteed and maximum amounts per resource name.
/// Names absent from `limits` are unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    /// Resources set aside for the role.
    pub guarantees: Quantities,
    /// Most the role may consume.
    pub limits: Quantities,
}

impl Quota {
    /// Checks that no guarantee exceeds its limit and that amounts are in range.
    pub fn validate(&self, role: &str) -> Result<(), AllocatorError> {
        for (name, q) in self.guarantees.0.iter().chain(&self.limits.0) {
            if q.milli() > MAX_QUOTA_MILLI {
                return Err(AllocatorError::InvalidQuota {
                    role: role.to_string(),
                    reason: format!("{name}:{q} is above the largest quota amount"),
                });
            }
        }
        for (name, g) in &self.guarantees.0 {
            if let Some(l) = self.limits.0.get(name) {
                if g > l {
                    return Err(AllocatorError::InvalidQuota {
                        role: role.to_string(),
                        reason: format!("guarantee {name}:{g} exceeds limit {name}:{l}"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Largest guarantee or limit (thousandths): 2^52, so sums over many roles cannot overflow.
const MAX_QUOTA_MILLI: i64 = 1 << 52;

/// Reads a name-indexed vector, 0 past its end.
pub(crate) fn get_at(v: &[i64], i: usize) -> i64 {
    v.get(i).copied().unwrap_or(0)
}

/// Adds to a name-indexed vector, growing it as needed.
pub(crate) fn add_at(v: &mut Vec<i64>, i: usize, delta: i64) {
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] += delta;
}

/// What one role holds, consumes and is promised.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoleAccount {
    /// Scalars allocated to the role's own frameworks.
    pub(crate) own_alloc: Vec<i64>,
    /// Scalars allocated in the role's subtree (its DRF share).
    pub(crate) subtree_alloc: Vec<i64>,
    /// Non-revocable reservations to the subtree, allocated or not.
    pub(crate) reserved: Vec<i64>,
    /// Unreserved non-revocable scalars allocated in the subtree.
    pub(crate) unreserved_alloc: Vec<i64>,
    /// Guaranteed amounts (0 = none).
    pub(crate) guarantee: Vec<i64>,
    /// Limits (`i64::MAX` = none; missing entries are unlimited).
    pub(crate) limit: Vec<i64>,
    /// True if the role has any guarantee or limit.
    pub(crate) has_quota: bool,
    /// The role has a guarantee and no ancestor has one: its unmet guarantee counts toward
    /// headroom (valid while the books' `required` is).
    pub(crate) outer: bool,
}

impl RoleAccount {
    /// Consumption of `name`.
    pub(crate) fn consumed(&self, name: usize) -> i64 {
        get_at(&self.reserved, name) + get_at(&self.unreserved_alloc, name)
    }

    /// How much more of `name` the role may consume before its limit.
    pub(crate) fn limit_room(&self, name: usize) -> i64 {
        match self.limit.get(name) {
            Some(&l) if l != i64::MAX => (l - self.consumed(name)).max(0),
            _ => i64::MAX,
        }
    }

    /// How much of the guarantee of `name` is not yet consumed.
    pub(crate) fn unmet(&self, name: usize) -> i64 {
        (get_at(&self.guarantee, name) - self.consumed(name)).max(0)
    }

    /// True if any guarantee is unmet.
    pub(crate) fn any_unmet(&self) -> bool {
        (0..self.guarantee.len()).any(|n| self.unmet(n) > 0)
    }

    /// Installs a quota whose names are already resolved to ids.
    pub(crate) fn set_quota(&mut self, guarantee: Vec<(usize, i64)>, limit: Vec<(usize, i64)>) {
        self.guarantee.clear();
        self.limit.clear();
        for (n, g) in guarantee {
            if self.guarantee.len() <= n {
                self.guarantee.resize(n + 1, 0);
            }
            self.guarantee[n] = g;
        }
        for (n, l) in limit {
            if self.limit.len() <= n {
                self.limit.resize(n + 1, i64::MAX);
            }
            self.limit[n] = l;
        }
        self.has_quota = self.guarantee.iter().any(|&g| g > 0) || !self.limit.is_empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_room_and_unmet_follow_consumption() {
        let mut account = RoleAccount::default();
        account.set_quota(vec![(0, 4000)], vec![(0, 6000)]);
        assert_eq!(account.unmet(0), 4000);
        assert_eq!(account.limit_room(0), 6000);
        assert_eq!(account.limit_room(1), i64::MAX);
        add_at(&mut account.reserved, 0, 1000);
        add_at(&mut account.unreserved_alloc, 0, 2000);
        assert_eq!(account.unmet(0), 1000);
        assert_eq!(account.limit_room(0), 3000);
        add_at(&mut account.unreserved_alloc, 0, 4000);
        assert_eq!(account.unmet(0), 0);
        assert_eq!(account.limit_room(0), 0);
        assert!(!account.any_unmet());
    }

    #[test]
    fn guarantee_above_limit_is_rejected() {
        let quota = Quota {
            guarantees: Quantities::parse("cpus:4").unwrap(),
            limits: Quantities::parse("cpus:2").unwrap(),
        };
        let err = quota.validate("eng").unwrap_err().to_string();
        assert!(err.contains("eng") && err.contains("cpus:4"), "{err}");
    }
}
