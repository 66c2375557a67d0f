//! `Resources`: a bag of [`Resource`]s with Mesos's arithmetic, filters and text/JSON forms.
//!
//! # Invariants
//! * No entry is empty (a scalar at or below zero, no ranges, no set items): adding an
//!   empty resource is a no-op and subtraction removes entries that become empty.
//! * Divisible resources (not shared, not persistent volumes, not MOUNT/BLOCK disks) of the
//!   same shape (everything but the value equal, see [`Resource::same_shape`]) are merged
//!   into one entry; so each divisible shape appears at most once.
//! * Indivisible resources are whole copies: adding one pushes a copy, subtracting one
//!   removes one equal copy. Two copies of a shared volume mean "used twice" (Mesos's
//!   shared count).
//!
//! # Subtraction policy
//! * `a - b` (and `-=`) is Mesos's `operator-`: it never fails and never goes negative.
//!   What is not contained is dropped: a scalar saturates at zero (the entry disappears),
//!   ranges and set items not present are ignored, an indivisible resource without an
//!   equal copy is ignored.
//! * [`Resources::checked_sub`] first checks [`Resources::contains`] and refuses with
//!   [`Error::NotContained`] when `b` is not wholly in `a`; use it wherever taking more
//!   than is there would be a bug (e.g. allocating from an agent's free resources).
//!
//! Order of entries is insertion order and not significant: equality is multiset equality.

mod grammar;
mod json;
mod ranges;
mod resource;
mod scalar;
mod set;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::Arc;

pub use grammar::parse_resource_list;
pub use json::ResourceFormat;
pub use ranges::{Range, Ranges};
pub use resource::{
    DiskInfo, DiskSource, DiskSourceType, Persistence, ReservationInfo, ReservationType, Resource,
    Volume, VolumeMode,
};
pub use scalar::{Scalar, MILLI_PER_UNIT};
pub use set::Set;
pub use value::{parse_value, ParsedValue, Value, ValueType};

use crate::error::{Error, Result};

/// A canonical bag of resources (see the module docs for the invariants).
#[derive(Debug, Clone, Default)]
pub struct Resources {
    items: Vec<Resource>,
}

impl Resources {
    /// No resources.
    pub const fn new() -> Self {
        Resources { items: Vec::new() }
    }

    /// Parses the agent's `--resources` flag: a JSON array of Resource objects when the
    /// text is one, otherwise the `name(role):value;...` text form. Resources without a
    /// role get `default_role` (`*` leaves them unreserved).
    pub fn parse(text: &str, default_role: &str) -> Result<Resources> {
        grammar::parse_flag(text, default_role)
    }

    /// The resources as a JSON array in the given format (Mesos's `convertResourceFormat`):
    /// post-refinement (what `Serialize` writes), pre-refinement for frameworks without
    /// RESERVATION_REFINEMENT (fails on refined reservations), or both for endpoints.
    pub fn to_json_value(&self, format: ResourceFormat) -> Result<serde_json::Value> {
        json::to_json_value(self, format)
    }

    /// The entries.
    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.items.iter()
    }

    /// Number of entries (not of units).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are no resources.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds one resource (merging it into an entry of the same shape when divisible).
    pub fn add_resource(&mut self, that: &Resource) {
        if that.is_empty() {
            return;
        }
        if that.is_divisible() {
            if let Some(entry) = self.items.iter_mut().find(|r| r.same_shape(that)) {
                let merged = entry.value.add_assign(&that.value);
                debug_assert!(merged, "same_shape implies the same value type");
                return;
            }
        }
        self.items.push(that.clone());
    }

    /// Adds one owned resource, avoiding a clone when it becomes a new entry.
    pub fn push(&mut self, that: Resource) {
        if that.is_empty() {
            return;
        }
        if that.is_divisible() {
            if let Some(entry) = self.items.iter_mut().find(|r| r.same_shape(&that)) {
                entry.value.add_assign(&that.value);
                return;
            }
        }
        self.items.push(that);
    }

    /// Removes one resource with the saturating policy (see the module docs).
    pub fn subtract_resource(&mut self, that: &Resource) {
        if that.is_empty() {
            return;
        }
        let found = if that.is_divisible() {
            self.items.iter().position(|r| r.same_shape(that))
        } else {
            self.items.iter().position(|r| r == that)
        };
        if let Some(idx) = found {
            let entry = &mut self.items[idx];
            if that.is_divisible() {
                entry.value.saturating_sub_assign(&that.value);
                if entry.is_empty() {
                    self.items.swap_remove(idx);
                }
            } else {
                self.items.swap_remove(idx);
            }
        }
    }

    /// True when `that` (one resource) is wholly contained.
    pub fn contains_resource(&self, that: &Resource) -> bool {
        if that.is_empty() {
            return true;
        }
        if that.is_divisible() {
            self.items
                .iter()
                .any(|r| r.same_shape(that) && r.value.contains(&that.value))
        } else {
            self.items.iter().any(|r| r == that)
        }
    }

    /// True when every resource of `that` is contained (as a multiset for whole copies).
    pub fn contains(&self, that: &Resources) -> bool {
        if that.items.iter().all(Resource::is_divisible) {
            // Each divisible shape occurs once in `that` and matches at most one entry of
            // `self`, so entries can be checked independently, without a scratch copy.
            return that.items.iter().all(|r| self.contains_resource(r));
        }
        let mut remaining = self.clone();
        for r in &that.items {
            if !remaining.contains_resource(r) {
                return false;
            }
            remaining.subtract_resource(r);
        }
        true
    }

    /// `self - that`, refusing (and changing nothing) when `that` is not contained.
    pub fn checked_sub(&self, that: &Resources) -> Result<Resources> {
        if !self.contains(that) {
            return Err(Error::NotContained {
                minuend: self.to_string(),
                subtrahend: that.to_string(),
            });
        }
        Ok(self.clone() - that)
    }

    /// Keeps the entries for which `keep` is true.
    pub fn filter(&self, mut keep: impl FnMut(&Resource) -> bool) -> Resources {
        Resources {
            items: self.items.iter().filter(|r| keep(r)).cloned().collect(),
        }
    }

    /// Entries whose current reservation is for exactly `role`.
    pub fn reserved(&self, role: &str) -> Resources {
        self.filter(|r| r.is_reserved_to(role))
    }

    /// Entries reserved for any role.
    pub fn reserved_any(&self) -> Resources {
        self.filter(Resource::is_reserved)
    }

    /// Unreserved entries (role `*`).
    pub fn unreserved(&self) -> Resources {
        self.filter(|r| !r.is_reserved())
    }

    /// Revocable entries.
    pub fn revocable(&self) -> Resources {
        self.filter(|r| r.revocable)
    }

    /// Non-revocable entries.
    pub fn non_revocable(&self) -> Resources {
        self.filter(|r| !r.revocable)
    }

    /// Shared entries.
    pub fn shared(&self) -> Resources {
        self.filter(|r| r.shared)
    }

    /// Non-shared entries.
    pub fn non_shared(&self) -> Resources {
        self.filter(|r| !r.shared)
    }

    /// Persistent volumes.
    pub fn persistent_volumes(&self) -> Resources {
        self.filter(Resource::is_persistent_volume)
    }

    /// Entries a framework in `role` may be offered (see [`Resource::is_allocatable_to`]).
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| r.is_allocatable_to(role))
    }

    /// Entries allocated to `role`.
    pub fn allocated_to(&self, role: &str) -> Resources {
        self.filter(|r| r.allocation_role.as_deref() == Some(role))
    }

    /// Entries with the given name.
    pub fn named(&self, name: &str) -> Resources {
        self.filter(|r| &*r.name == name)
    }

    /// The same resources allocated to `role` (Mesos's `allocate`).
    pub fn allocate(&self, role: &str) -> Resources {
        let role: Arc<str> = Arc::from(role);
        self.map(|r| r.allocation_role = Some(role.clone()))
    }

    /// The same resources with allocation info removed.
    pub fn unallocate(&self) -> Resources {
        self.map(|r| r.allocation_role = None)
    }

    /// The same resources with all reservations removed (Mesos's `toUnreserved`).
    pub fn to_unreserved(&self) -> Resources {
        self.map(|r| r.reservations.clear())
    }

    /// The same quantities, unreserved and unallocated: what the resources amount to
    /// regardless of who may use them.
    pub fn flatten(&self) -> Resources {
        self.map(|r| {
            r.reservations.clear();
            r.allocation_role = None;
        })
    }

    /// The same resources with `reservation` pushed onto each stack.
    pub fn push_reservation(&self, reservation: &ReservationInfo) -> Resources {
        self.map(|r| r.reservations.push(reservation.clone()))
    }

    /// The same resources with the top reservation popped from each stack.
    pub fn pop_reservation(&self) -> Resources {
        self.map(|r| {
            r.reservations.pop();
        })
    }

    /// Only scalar entries, stripped to name and value and merged by name (what DRF and
    /// quota accounting work on).
    pub fn scalar_quantities(&self) -> Resources {
        let mut out = Resources::new();
        for r in &self.items {
            if let Value::Scalar(_) = r.value {
                out.push(Resource {
                    name: r.name.clone(),
                    value: r.value.clone(),
                    reservations: Vec::new(),
                    allocation_role: None,
                    disk: None,
                    revocable: false,
                    shared: false,
                    provider_id: None,
                });
            }
        }
        out
    }

    /// Applies `change` to a copy of each entry and re-canonicalises.
    fn map(&self, mut change: impl FnMut(&mut Resource)) -> Resources {
        let mut out = Resources::new();
        for r in &self.items {
            let mut copy = r.clone();
            change(&mut copy);
            out.push(copy);
        }
        out
    }

    /// Sum of the scalar entries named `name`, or `None` when there are none.
    pub fn scalar(&self, name: &str) -> Option<Scalar> {
        let mut total: Option<Scalar> = None;
        for r in &self.items {
            if let (true, Value::Scalar(s)) = (&*r.name == name, &r.value) {
                total = Some(total.unwrap_or_default() + *s);
            }
        }
        total
    }

    /// Union of the ranges entries named `name`, or `None` when there are none.
    pub fn ranges(&self, name: &str) -> Option<Ranges> {
        let mut total: Option<Ranges> = None;
        for r in &self.items {
            if let (true, Value::Ranges(x)) = (&*r.name == name, &r.value) {
                total.get_or_insert_with(Ranges::new).add_assign(x);
            }
        }
        total
    }

    /// Union of the set entries named `name`, or `None` when there are none.
    pub fn set(&self, name: &str) -> Option<Set> {
        let mut total: Option<Set> = None;
        for r in &self.items {
            if let (true, Value::Set(x)) = (&*r.name == name, &r.value) {
                total = Some(total.unwrap_or_default().union(x));
            }
        }
        total
    }

    /// Total `cpus`.
    pub fn cpus(&self) -> Option<Scalar> {
        self.scalar("cpus")
    }

    /// Total `gpus`.
    pub fn gpus(&self) -> Option<Scalar> {
        self.scalar("gpus")
    }

    /// Total `mem` (MB).
    pub fn mem(&self) -> Option<Scalar> {
        self.scalar("mem")
    }

    /// Total `disk` (MB).
    pub fn disk(&self) -> Option<Scalar> {
        self.scalar("disk")
    }

    /// All `ports`.
    pub fn ports(&self) -> Option<Ranges> {
        self.ranges("ports")
    }

    /// Distinct names, sorted.
    pub fn names(&self) -> Vec<Arc<str>> {
        let mut names: Vec<Arc<str>> = self.items.iter().map(|r| r.name.clone()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Entries grouped by the role of their current reservation (reserved entries only).
    pub fn reservations(&self) -> BTreeMap<Arc<str>, Resources> {
        let mut out: BTreeMap<Arc<str>, Resources> = BTreeMap::new();
        for r in &self.items {
            if let Some(top) = r.reservations.last() {
                out.entry(top.role.clone()).or_default().push(r.clone());
            }
        }
        out
    }

    /// Entries grouped by allocation role (allocated entries only).
    pub fn allocations(&self) -> BTreeMap<Arc<str>, Resources> {
        let mut out: BTreeMap<Arc<str>, Resources> = BTreeMap::new();
        for r in &self.items {
            if let Some(role) = &r.allocation_role {
                out.entry(role.clone()).or_default().push(r.clone());
            }
        }
        out
    }

    /// Checks every entry (see [`Resource::validate`]) and Mesos's cross-entry rules:
    /// persistence ids unique, at most one allocation role.
    pub fn validate(&self) -> Result<()> {
        let mut ids: Vec<(&str, &str)> = Vec::new();
        let mut allocation: Option<&str> = None;
        for r in &self.items {
            r.validate()?;
            if let Some(p) = r.disk.as_ref().and_then(|d| d.persistence.as_ref()) {
                let key = (r.reservation_role(), p.id.as_str());
                if ids.contains(&key) && !r.shared {
                    return Err(Error::BadResource {
                        token: r.to_string(),
                        reason: format!("duplicate persistence id '{}'", p.id),
                    });
                }
                ids.push(key);
            }
            if let Some(role) = r.allocation_role.as_deref() {
                match allocation {
                    Some(other) if other != role => {
                        return Err(Error::BadResource {
                            token: r.to_string(),
                            reason: format!(
                                "allocated to '{role}' and '{other}': at most one allocation role"
                            ),
                        })
                    }
                    _ => allocation = Some(role),
                }
            }
        }
        Ok(())
    }

    /// Sorted copy of the entries, for order-independent comparison and stable display.
    fn sorted(&self) -> Vec<&Resource> {
        let mut v: Vec<&Resource> = self.items.iter().collect();
        v.sort_by_cached_key(|r| r.to_string());
        v
    }
}

impl PartialEq for Resources {
    /// Multiset equality: the same entries in any order.
    fn eq(&self, other: &Resources) -> bool {
        self.items.len() == other.items.len() && self.contains(other) && other.contains(self)
    }
}

impl Eq for Resources {}

impl fmt::Display for Resources {
    /// Entries sorted by their display, joined by `; `. When every entry is expressible
    /// in the `--resources` grammar the output parses back to an equal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.sorted().into_iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            r.fmt(f)?;
        }
        Ok(())
    }
}

impl FromIterator<Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Self {
        let iter = iter.into_iter();
        // Room for every item up front (filtered iterators know only an upper bound): one
        // allocation instead of one per doubling.
        let (lower, upper) = iter.size_hint();
        let mut out = Resources {
            items: Vec::with_capacity(upper.unwrap_or(lower).min(64)),
        };
        for r in iter {
            out.push(r);
        }
        out
    }
}

impl From<Resource> for Resources {
    fn from(r: Resource) -> Self {
        let mut out = Resources::new();
        out.push(r);
        out
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a Resource;
    type IntoIter = std::slice::Iter<'a, Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl IntoIterator for Resources {
    type Item = Resource;
    type IntoIter = std::vec::IntoIter<Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, that: &Resources) {
        for r in &that.items {
            self.add_resource(r);
        }
    }
}

impl AddAssign<&Resource> for Resources {
    fn add_assign(&mut self, that: &Resource) {
        self.add_resource(that);
    }
}

impl AddAssign<Resources> for Resources {
    fn add_assign(&mut self, that: Resources) {
        for r in that.items {
            self.push(r);
        }
    }
}

impl Add<&Resources> for Resources {
    type Output = Resources;
    fn add(mut self, that: &Resources) -> Resources {
        self += that;
        self
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;
    fn add(self, that: &Resources) -> Resources {
        self.clone() + that
    }
}

impl Add<Resources> for Resources {
    type Output = Resources;
    fn add(mut self, that: Resources) -> Resources {
        self += that;
        self
    }
}

impl SubAssign<&Resources> for Resources {
    /// Saturating subtraction (see the module docs).
    fn sub_assign(&mut self, that: &Resources) {
        for r in &that.items {
            self.subtract_resource(r);
        }
    }
}

impl SubAssign<&Resource> for Resources {
    /// Saturating subtraction (see the module docs).
    fn sub_assign(&mut self, that: &Resource) {
        self.subtract_resource(that);
    }
}

impl Sub<&Resources> for Resources {
    type Output = Resources;
    /// Saturating subtraction (see the module docs).
    fn sub(mut self, that: &Resources) -> Resources {
        self -= that;
        self
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;
    /// Saturating subtraction (see the module docs).
    fn sub(self, that: &Resources) -> Resources {
        self.clone() - that
    }
}

impl Sub<Resources> for Resources {
    type Output = Resources;
    /// Saturating subtraction (see the module docs).
    fn sub(mut self, that: Resources) -> Resources {
        self -= &that;
        self
    }
}

#[cfg(test)]
mod tests;
