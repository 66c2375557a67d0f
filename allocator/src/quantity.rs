//! Port-style range sets for the allocator's internal amounts (scalars are plain `i64`
//! thousandths there). A [`RangeSet`] keeps disjoint, non-adjacent, sorted inclusive ranges,
//! so equal sets have equal representations.

use std::fmt;

/// A set of `u64` values stored as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    /// The empty set.
    pub fn new() -> RangeSet {
        RangeSet { ranges: Vec::new() }
    }

    /// Builds a set from inclusive `(start, end)` ranges in any order (test shorthand).
    #[cfg(test)]
    pub fn from_ranges(ranges: &[(u64, u64)]) -> Option<RangeSet> {
        ranges
            .iter()
            .all(|&(s, e)| s <= e)
            .then(|| RangeSet::from_canonical(ranges.iter().copied()))
    }

    /// Builds a set from ranges that may overlap or touch, in any order (e.g. from an
    /// already valid `meso_api` value); a pair given backwards is read as its reverse.
    pub(crate) fn from_canonical(ranges: impl Iterator<Item = (u64, u64)>) -> RangeSet {
        let mut pairs: Vec<(u64, u64)> = ranges.map(|(s, e)| (s.min(e), s.max(e))).collect();
        if !pairs.windows(2).all(|w| w[0].0 <= w[1].0) {
            pairs.sort_unstable();
        }
        RangeSet {
            ranges: coalesce(pairs.into_iter()),
        }
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// True if the set holds no value.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many values the set holds.
    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(|&(s, e)| e - s + 1).sum()
    }

    /// Adds every value of `other`: one merge pass over both sorted lists.
    pub fn add(&mut self, other: &RangeSet) {
        if other.ranges.is_empty() {
            return;
        }
        if self.ranges.is_empty() {
            self.ranges.clone_from(&other.ranges);
            return;
        }
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.ranges, &other.ranges);
        let merged = coalesce(std::iter::from_fn(|| {
            let next = match (a.get(i), b.get(j)) {
                (Some(&x), Some(&y)) if x.0 <= y.0 => {
                    i += 1;
                    x
                }
                (_, Some(&y)) => {
                    j += 1;
                    y
                }
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (None, None) => return None,
            };
            Some(next)
        }));
        self.ranges = merged;
    }

    /// True if every value of `other` is in `self`.
    pub fn contains(&self, other: &RangeSet) -> bool {
        // Both sides are sorted, so one forward pass suffices.
        let mut i = 0;
        for &(s, e) in &other.ranges {
            while i < self.ranges.len() && self.ranges[i].1 < s {
                i += 1;
            }
            match self.ranges.get(i) {
                Some(&(ms, me)) if ms <= s && e <= me => {}
                _ => return false,
            }
        }
        true
    }

    /// Removes every value of `other`; the caller has checked `self.contains(other)`.
    pub fn subtract(&mut self, other: &RangeSet) {
        if self.ranges == other.ranges {
            // All of it (a whole slot offered or given back): no merge, no new vector.
            self.ranges.clear();
            return;
        }
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len() + other.ranges.len());
        let mut j = 0;
        for &(s, e) in &self.ranges {
            let mut cur = s;
            let mut done = false;
            while j < other.ranges.len() && other.ranges[j].0 <= e {
                let (os, oe) = other.ranges[j];
                if oe < cur {
                    j += 1;
                    continue;
                }
                if os > cur {
                    out.push((cur, os - 1));
                }
                if oe >= e {
                    done = true;
                    break;
                }
                cur = oe + 1;
                j += 1;
            }
            if !done {
                out.push((cur, e));
            }
        }
        self.ranges = out;
    }
}

/// Merges overlapping or adjacent ranges of a list sorted by start.
fn coalesce(sorted: impl Iterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

impl fmt::Display for RangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, (s, e)) in self.ranges.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{s}-{e}")?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_merge_adjacent_and_subtract() {
        let mut set = RangeSet::from_ranges(&[(10, 20), (21, 30), (40, 50)]).unwrap();
        assert_eq!(set.ranges(), &[(10, 30), (40, 50)]);
        set.subtract(&RangeSet::from_ranges(&[(15, 15), (40, 45)]).unwrap());
        assert_eq!(set.ranges(), &[(10, 14), (16, 30), (46, 50)]);
        assert_eq!(set.count(), 5 + 15 + 5);
    }

    #[test]
    fn inverted_range_is_refused() {
        assert!(RangeSet::from_ranges(&[(5, 4)]).is_none());
    }

    fn arb_set() -> impl Strategy<Value = RangeSet> {
        proptest::collection::vec((0u64..200, 0u64..20), 0..8).prop_map(|v| {
            let ranges: Vec<(u64, u64)> = v.into_iter().map(|(s, l)| (s, s + l)).collect();
            RangeSet::from_ranges(&ranges).expect("generated ranges have start <= end")
        })
    }

    fn members(set: &RangeSet) -> std::collections::BTreeSet<u64> {
        set.ranges().iter().flat_map(|&(s, e)| s..=e).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn set_operations_match_a_model(a in arb_set(), b in arb_set()) {
            let (ma, mb) = (members(&a), members(&b));
            prop_assert_eq!(a.contains(&b), mb.is_subset(&ma));
            let mut sum = a.clone();
            sum.add(&b);
            prop_assert_eq!(members(&sum), ma.union(&mb).copied().collect());
            prop_assert_eq!(sum.count() as usize, members(&sum).len());
            let mut diff = sum.clone();
            diff.subtract(&b);
            prop_assert_eq!(members(&diff), members(&sum).difference(&mb).copied().collect());
            // Canonical form: rebuilding from the members gives the same ranges.
            let rebuilt = RangeSet::from_ranges(
                &members(&diff).iter().map(|&v| (v, v)).collect::<Vec<_>>()).unwrap();
            prop_assert_eq!(rebuilt, diff);
        }
    }
}
