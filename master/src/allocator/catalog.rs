//! Interning of resource kinds: each distinct resource name gets a dense *name id* (used to
//! index per-role and per-framework allocation vectors and cluster totals), and each distinct
//! (name, reservation role, revocable) triple gets a *slot id* (an agent's resources are one
//! [`Amount`] per slot it has).
//!
//! Invariants: a name keeps the kind (scalar, ranges, set) it was first seen with; ids are
//! never reused, so vectors indexed by them only grow.

use std::collections::{BTreeSet, HashMap};

use super::error::AllocatorError;
use super::quantity::{Fixed, RangeSet};
use super::resources::{Resource, Value};
use super::roles::{RoleIdx, RoleTree};

/// Index of a resource name.
pub(crate) type NameIdx = u32;

/// Index of a (name, reservation, revocable) slot.
pub(crate) type SlotIdx = u32;

/// An amount of one slot's resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Amount {
    /// Thousandths of a unit.
    Scalar(i64),
    /// Specific integers.
    Ranges(RangeSet),
    /// Specific items.
    Set(BTreeSet<String>),
}

impl Amount {
    /// The amount of a boundary value.
    pub(crate) fn from_value(value: &Value) -> Amount {
        match value {
            Value::Scalar(f) => Amount::Scalar(f.0),
            Value::Ranges(r) => Amount::Ranges(r.clone()),
            Value::Set(s) => Amount::Set(s.clone()),
        }
    }

    /// The boundary value of this amount.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Amount::Scalar(v) => Value::Scalar(Fixed(*v)),
            Amount::Ranges(r) => Value::Ranges(r.clone()),
            Amount::Set(s) => Value::Set(s.clone()),
        }
    }

    /// Nothing of the same kind.
    pub(crate) fn empty_like(&self) -> Amount {
        match self {
            Amount::Scalar(_) => Amount::Scalar(0),
            Amount::Ranges(_) => Amount::Ranges(RangeSet::new()),
            Amount::Set(_) => Amount::Set(BTreeSet::new()),
        }
    }

    /// True if nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Amount::Scalar(v) => *v == 0,
            Amount::Ranges(r) => r.is_empty(),
            Amount::Set(s) => s.is_empty(),
        }
    }

    /// The scalar value in thousandths, 0 for other kinds.
    pub(crate) fn scalar(&self) -> i64 {
        match self {
            Amount::Scalar(v) => *v,
            _ => 0,
        }
    }

    /// True if `other` (of the same kind) fits inside `self`.
    pub(crate) fn contains(&self, other: &Amount) -> bool {
        match (self, other) {
            (Amount::Scalar(a), Amount::Scalar(b)) => a >= b,
            (Amount::Ranges(a), Amount::Ranges(b)) => a.contains(b),
            (Amount::Set(a), Amount::Set(b)) => b.is_subset(a),
            _ => false,
        }
    }

    /// Adds `other` (of the same kind).
    pub(crate) fn add(&mut self, other: &Amount) {
        match (self, other) {
            (Amount::Scalar(a), Amount::Scalar(b)) => *a += b,
            (Amount::Ranges(a), Amount::Ranges(b)) => a.add(b),
            (Amount::Set(a), Amount::Set(b)) => a.extend(b.iter().cloned()),
            _ => debug_assert!(false, "amounts of one slot share a kind"),
        }
    }

    /// Removes `other`; the caller has checked `self.contains(other)`.
    pub(crate) fn subtract(&mut self, other: &Amount) {
        match (self, other) {
            (Amount::Scalar(a), Amount::Scalar(b)) => *a -= b,
            (Amount::Ranges(a), Amount::Ranges(b)) => a.subtract(b),
            (Amount::Set(a), Amount::Set(b)) => a.retain(|x| !b.contains(x)),
            _ => debug_assert!(false, "amounts of one slot share a kind"),
        }
    }
}

/// What a slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SlotInfo {
    /// Resource name id.
    pub(crate) name: NameIdx,
    /// Reservation role, if reserved.
    pub(crate) reservation: Option<RoleIdx>,
    /// Revocable resources go only to frameworks that accept them.
    pub(crate) revocable: bool,
    /// True for scalars (only scalars count toward shares and quota).
    pub(crate) scalar: bool,
}

/// The interned names and slots.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    names: Vec<(String, &'static str)>,
    name_ids: HashMap<String, NameIdx>,
    pub(crate) slots: Vec<SlotInfo>,
    slot_ids: HashMap<(NameIdx, Option<RoleIdx>, bool), SlotIdx>,
}

impl Catalog {
    /// Number of names interned so far (the length of name-indexed vectors).
    #[cfg(test)]
    pub(crate) fn name_count(&self) -> usize {
        self.names.len()
    }

    /// The name of a name id.
    pub(crate) fn name(&self, id: NameIdx) -> &str {
        &self.names[id as usize].0
    }

    /// The id of a name, if known.
    pub(crate) fn name_id(&self, name: &str) -> Option<NameIdx> {
        self.name_ids.get(name).copied()
    }

    /// The id of a scalar name, interning it if new.
    pub(crate) fn intern_scalar_name(&mut self, name: &str) -> Result<NameIdx, AllocatorError> {
        self.intern_name(name, "scalar")
    }

    fn intern_name(&mut self, name: &str, kind: &'static str) -> Result<NameIdx, AllocatorError> {
        if let Some(&id) = self.name_ids.get(name) {
            let expected = self.names[id as usize].1;
            if expected != kind {
                return Err(AllocatorError::KindMismatch {
                    name: name.to_string(),
                    expected,
                    found: kind,
                });
            }
            return Ok(id);
        }
        let id = NameIdx::try_from(self.names.len())
            .expect("fewer than 2^32 resource names: name ids fit in u32");
        self.names.push((name.to_string(), kind));
        self.name_ids.insert(name.to_string(), id);
        Ok(id)
    }

    /// The slot of a resource, interning its name, reservation role and slot if new.
    pub(crate) fn intern(
        &mut self,
        resource: &Resource,
        tree: &mut RoleTree,
    ) -> Result<SlotIdx, AllocatorError> {
        let name = self.intern_name(&resource.name, resource.value.kind())?;
        let reservation = match &resource.reservation {
            Some(role) => Some(tree.ensure(role)?),
            None => None,
        };
        let key = (name, reservation, resource.revocable);
        if let Some(&slot) = self.slot_ids.get(&key) {
            return Ok(slot);
        }
        let slot = SlotIdx::try_from(self.slots.len())
            .expect("fewer than 2^32 slots: slot ids fit in u32");
        self.slots.push(SlotInfo {
            name,
            reservation,
            revocable: resource.revocable,
            scalar: matches!(resource.value, Value::Scalar(_)),
        });
        self.slot_ids.insert(key, slot);
        Ok(slot)
    }

    /// The slot of a resource if it was ever seen (no interning).
    pub(crate) fn find(&self, resource: &Resource, tree: &RoleTree) -> Option<SlotIdx> {
        let name = self.name_id(&resource.name)?;
        let reservation = match &resource.reservation {
            Some(role) => Some(tree.lookup(role)?),
            None => None,
        };
        self.slot_ids
            .get(&(name, reservation, resource.revocable))
            .copied()
    }

    /// The boundary form of `amount` in `slot`.
    pub(crate) fn to_resource(&self, slot: SlotIdx, amount: &Amount, tree: &RoleTree) -> Resource {
        let info = self.slots[slot as usize];
        Resource {
            name: self.name(info.name).to_string(),
            value: amount.to_value(),
            reservation: info.reservation.map(|r| tree.name(r).to_string()),
            revocable: info.revocable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocator::resources::ResourceList;

    #[test]
    fn slots_separate_reservations_and_revocability() {
        let mut tree = RoleTree::new();
        let mut catalog = Catalog::default();
        let list = ResourceList::parse("cpus:1;cpus(eng):1;cpus:2").unwrap();
        let a = catalog.intern(&list.0[0], &mut tree).unwrap();
        let b = catalog.intern(&list.0[1], &mut tree).unwrap();
        let c = catalog.intern(&list.0[2], &mut tree).unwrap();
        let rev = ResourceList::parse("cpus:1").unwrap().into_revocable();
        let d = catalog.intern(&rev.0[0], &mut tree).unwrap();
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_ne!(a, d);
        assert_eq!(catalog.name_count(), 1);
        assert_eq!(catalog.find(&list.0[1], &tree), Some(b));
    }

    #[test]
    fn a_name_keeps_its_kind() {
        let mut tree = RoleTree::new();
        let mut catalog = Catalog::default();
        let scalar = ResourceList::parse("ports:3").unwrap();
        let ranges = ResourceList::parse("ports:[1-3]").unwrap();
        catalog.intern(&scalar.0[0], &mut tree).unwrap();
        assert!(matches!(
            catalog.intern(&ranges.0[0], &mut tree),
            Err(AllocatorError::KindMismatch { .. })
        ));
    }

    #[test]
    fn amounts_add_subtract_and_contain() {
        let mut a = Amount::Ranges(RangeSet::from_ranges(&[(1, 10)]).unwrap());
        let b = Amount::Ranges(RangeSet::from_ranges(&[(3, 4)]).unwrap());
        assert!(a.contains(&b));
        a.subtract(&b);
        assert!(!a.contains(&b));
        a.add(&b);
        assert_eq!(
            a,
            Amount::Ranges(RangeSet::from_ranges(&[(1, 10)]).unwrap())
        );
        assert!(!Amount::Scalar(3).contains(&Amount::Scalar(4)));
    }
}
