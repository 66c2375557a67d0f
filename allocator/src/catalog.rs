//! Interning of resource kinds: each distinct resource name gets a dense *name id* (used to
//! index per-role and per-framework allocation vectors and cluster totals), and each distinct
//! (name, reservation role, revocable) triple gets a *slot id* (an agent's resources are one
//! [`Amount`] per slot it has).
//!
//! Invariants: a name keeps the kind (scalar, ranges, set) it was first seen with; ids are
//! never reused, so vectors indexed by them only grow.

use std::collections::{BTreeSet, HashMap};

use std::sync::Arc;

use meso_api::resources::{Ranges, Resource, Scalar, Set, Value, ValueType};

use super::error::AllocatorError;
use super::quantity::RangeSet;
use super::roles::{RoleIdx, RoleTree};

/// Index of a resource name.
pub(crate) type NameIdx = u32;

/// Index of a (name, reservation, revocable) slot.
pub(crate) type SlotIdx = u32;

/// A 64-bit fingerprint of amounts in one agent's layout. Equal amounts have equal
/// fingerprints; the allocator uses a match to decide that a filter refused exactly what is
/// free now without comparing the amounts (a false match, at odds of about 2^-64, could only
/// make a filter hold a framework back a little longer: never offer more than is free).
pub(crate) fn fingerprint(amounts: &[Amount]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    amounts.hash(&mut hasher);
    hasher.finish()
}

/// Largest scalar an agent may report for one resource, in thousandths (2^44, about 17.6
/// billion units): keeps cluster-wide sums of many such agents far from `i64` overflow.
pub(crate) const MAX_SCALAR_MILLI: i64 = 1 << 44;

/// An amount of one slot's resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
            Value::Scalar(s) => Amount::Scalar(s.milli().max(0)),
            Value::Ranges(r) => Amount::Ranges(RangeSet::from_canonical(
                r.as_slice().iter().map(|range| (range.begin, range.end)),
            )),
            Value::Set(s) => Amount::Set(s.items().iter().map(|i| i.to_string()).collect()),
        }
    }

    /// The boundary value of this amount.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Amount::Scalar(v) => Value::Scalar(Scalar::from_milli(*v)),
            Amount::Ranges(r) => Value::Ranges(
                Ranges::from_pairs(r.ranges().iter().copied())
                    .expect("a RangeSet holds valid, ordered ranges"),
            ),
            Amount::Set(s) => {
                Value::Set(Set::from_items(s.iter()).expect("set items came from a valid Set"))
            }
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
            // Saturating: amounts from callers (e.g. a filter's list) may be absurd; agents'
            // totals are capped (`MAX_SCALAR_MILLI`) so the ledger itself never gets here.
            (Amount::Scalar(a), Amount::Scalar(b)) => *a = a.saturating_add(*b),
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
    /// Reservation role (of the last reservation), if reserved.
    pub(crate) reservation: Option<RoleIdx>,
    /// Revocable resources go only to frameworks that accept them.
    pub(crate) revocable: bool,
    /// True for scalars (only scalars count toward shares and quota).
    pub(crate) scalar: bool,
    /// False for resources that are used whole (persistent volumes, MOUNT/BLOCK disks,
    /// shared resources): they are offered entirely or not at all.
    pub(crate) divisible: bool,
}

/// The interned names and slots.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    names: Vec<(String, ValueType)>,
    name_ids: HashMap<String, NameIdx>,
    pub(crate) slots: Vec<SlotInfo>,
    /// Each slot's shape: the resource with an empty value and no allocation role.
    shapes: Vec<Resource>,
    slot_ids: HashMap<Resource, SlotIdx>,
}

/// `resource` with an empty value of its type and no allocation role: what identifies its
/// slot.
fn shape_of(resource: &Resource) -> Resource {
    let mut shape = resource.clone();
    shape.allocation_role = None;
    shape.value = match resource.value {
        Value::Scalar(_) => Value::Scalar(Scalar::ZERO),
        Value::Ranges(_) => Value::Ranges(Ranges::new()),
        Value::Set(_) => Value::Set(Set::default()),
    };
    shape
}

impl Catalog {
    /// Number of names interned so far (the length of name-indexed vectors).
    #[cfg(test)]
    pub(crate) fn name_count(&self) -> usize {
        self.names.len()
    }

    /// The names, indexed by name id.
    pub(crate) fn names(&self) -> Vec<String> {
        self.names.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The id of a scalar name, interning it if new.
    pub(crate) fn intern_scalar_name(&mut self, name: &str) -> Result<NameIdx, AllocatorError> {
        self.intern_name(name, ValueType::Scalar)
    }

    fn intern_name(&mut self, name: &str, kind: ValueType) -> Result<NameIdx, AllocatorError> {
        if let Some(&id) = self.name_ids.get(name) {
            let expected = self.names[id as usize].1;
            if expected != kind {
                return Err(AllocatorError::KindMismatch {
                    name: name.to_string(),
                    expected: expected.as_str(),
                    found: kind.as_str(),
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
        let shape = shape_of(resource);
        if let Some(&slot) = self.slot_ids.get(&shape) {
            return Ok(slot);
        }
        let name = self.intern_name(&resource.name, resource.value.value_type())?;
        let reservation = match resource.reservations.last() {
            Some(r) => Some(tree.ensure(&r.role)?),
            None => None,
        };
        let slot = SlotIdx::try_from(self.slots.len())
            .expect("fewer than 2^32 slots: slot ids fit in u32");
        self.slots.push(SlotInfo {
            name,
            reservation,
            revocable: resource.revocable,
            scalar: matches!(resource.value, Value::Scalar(_)),
            divisible: resource.is_divisible(),
        });
        self.shapes.push(shape.clone());
        self.slot_ids.insert(shape, slot);
        Ok(slot)
    }

    /// The slot of a resource if it was ever seen (no interning).
    #[cfg(test)]
    pub(crate) fn find(&self, resource: &Resource) -> Option<SlotIdx> {
        self.slot_ids.get(&shape_of(resource)).copied()
    }

    /// True if `resource` belongs in `slot` (same shape, ignoring value and allocation
    /// role); compares in place, without building a key.
    pub(crate) fn is_slot_of(&self, slot: SlotIdx, resource: &Resource) -> bool {
        let shape = &self.shapes[slot as usize];
        shape.name == resource.name
            && shape.value.value_type() == resource.value.value_type()
            && shape.revocable == resource.revocable
            && shape.shared == resource.shared
            && shape.reservations == resource.reservations
            && shape.disk == resource.disk
            && shape.provider_id == resource.provider_id
    }

    /// The boundary form of `amount` in `slot`, allocated to `role` if given.
    pub(crate) fn to_resource(
        &self,
        slot: SlotIdx,
        amount: &Amount,
        role: Option<&Arc<str>>,
    ) -> Resource {
        let mut resource = self.shapes[slot as usize].clone();
        resource.value = amount.to_value();
        resource.allocation_role = role.cloned();
        resource
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::Resources;

    fn res(text: &str) -> Vec<Resource> {
        Resources::parse(text, "*")
            .unwrap()
            .iter()
            .cloned()
            .collect()
    }

    #[test]
    fn slots_separate_reservations_and_revocability() {
        let mut tree = RoleTree::new();
        let mut catalog = Catalog::default();
        let list = res("cpus:1;cpus(eng):1");
        let a = catalog.intern(&list[0], &mut tree).unwrap();
        let b = catalog.intern(&list[1], &mut tree).unwrap();
        let c = catalog.intern(&res("cpus:2")[0], &mut tree).unwrap();
        let rev = res("cpus:1")[0].clone().into_revocable();
        let d = catalog.intern(&rev, &mut tree).unwrap();
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_ne!(a, d);
        assert_eq!(catalog.name_count(), 1);
        assert_eq!(catalog.find(&list[1]), Some(b));
        // The allocation role does not make a new slot.
        assert_eq!(catalog.find(&list[1].clone().allocated_to("eng")), Some(b));
        let back = catalog.to_resource(b, &Amount::Scalar(1500), Some(&Arc::from("eng")));
        assert_eq!(
            back.to_string(),
            "cpus(allocated: eng)(reservations: [(STATIC,eng)]):1.5"
        );
    }

    #[test]
    fn a_name_keeps_its_kind() {
        let mut tree = RoleTree::new();
        let mut catalog = Catalog::default();
        catalog.intern(&res("ports:3")[0], &mut tree).unwrap();
        assert!(matches!(
            catalog.intern(&res("ports:[1-3]")[0], &mut tree),
            Err(AllocatorError::KindMismatch { .. })
        ));
    }

    #[test]
    fn amounts_round_trip_through_values() {
        for text in ["cpus:1.5", "ports:[1-3, 7-9]", "zones:{a,b}"] {
            let value = &res(text)[0].value;
            assert_eq!(&Amount::from_value(value).to_value(), value, "{text}");
        }
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
