//! An incrementally maintained DRF order: members kept sorted by (weighted dominant share,
//! member id) in a B-tree, so that one allocation change costs O(log n) instead of a full
//! sort, and walking the order stops as soon as the caller is done.
//!
//! Invariant: each member appears once, under the key its owner last stored; the owner keeps
//! that key (see [`Sorter::update`]) so it can be found and moved.

use std::collections::BTreeSet;

/// A member's position: the share as order-preserving bits, then the member id to break ties
/// deterministically.
pub(crate) type SortKey = (u64, u32);

/// Order-preserving bits of a non-negative share (NaN sorts last).
pub(crate) fn share_bits(share: f64) -> u64 {
    if share.is_nan() {
        u64::MAX
    } else {
        // For non-negative IEEE doubles the bit patterns order like the values.
        share.max(0.0).to_bits()
    }
}

/// Weighted dominant share: the largest fraction of any resource held, divided by `weight`.
///
/// `allocated` and `total` are indexed by resource-name id; names with no total are ignored.
pub(crate) fn dominant_share(allocated: &[i64], total: &[i64], weight: f64) -> f64 {
    let mut share = 0.0f64;
    for (i, &a) in allocated.iter().enumerate() {
        if a <= 0 {
            continue;
        }
        match total.get(i) {
            Some(&t) if t > 0 => share = share.max(a as f64 / t as f64),
            _ => {}
        }
    }
    share / weight
}

/// Members sorted by ascending share.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sorter {
    order: BTreeSet<SortKey>,
}

impl Sorter {
    /// Inserts `member` at `share`; returns the key to keep.
    pub(crate) fn insert(&mut self, member: u32, share: f64) -> SortKey {
        let key = (share_bits(share), member);
        self.order.insert(key);
        key
    }

    /// Removes the member stored under `key`.
    pub(crate) fn remove(&mut self, key: SortKey) {
        self.order.remove(&key);
    }

    /// Moves the member stored under `key` to `share`; returns the new key.
    pub(crate) fn update(&mut self, key: SortKey, share: f64) -> SortKey {
        let new_key = (share_bits(share), key.1);
        if new_key != key {
            self.order.remove(&key);
            self.order.insert(new_key);
        }
        new_key
    }

    /// Members from the lowest share to the highest.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.order.iter().map(|&(_, m)| m)
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dominant_share_takes_the_largest_fraction_over_weight() {
        let total = [10_000, 100_000];
        assert_eq!(dominant_share(&[1_000, 50_000], &total, 1.0), 0.5);
        assert_eq!(dominant_share(&[1_000, 50_000], &total, 2.0), 0.25);
        // A name with no total does not count.
        assert_eq!(dominant_share(&[0, 0, 7], &total, 1.0), 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn order_matches_a_full_sort(
            shares in proptest::collection::vec(0.0f64..4.0, 1..40),
            updates in proptest::collection::vec((0usize..40, 0.0f64..4.0), 0..60),
        ) {
            let mut sorter = Sorter::default();
            let mut model: Vec<f64> = shares.clone();
            let mut keys: Vec<SortKey> = shares
                .iter()
                .enumerate()
                .map(|(i, &s)| sorter.insert(i as u32, s))
                .collect();
            for (i, s) in updates {
                let i = i % model.len();
                model[i] = s;
                keys[i] = sorter.update(keys[i], s);
            }
            let mut expected: Vec<u32> = (0..model.len() as u32).collect();
            expected.sort_by(|&a, &b| {
                model[a as usize].total_cmp(&model[b as usize]).then(a.cmp(&b))
            });
            prop_assert_eq!(sorter.iter().collect::<Vec<_>>(), expected);
            prop_assert_eq!(sorter.len(), model.len());
        }
    }
}
