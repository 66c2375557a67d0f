//! Fixed-point scalar quantities and port-style range sets: the arithmetic the allocator's
//! hot loop runs on.
//!
//! Scalars are held as whole thousandths (`i64`), as Mesos rounds scalar resources to three
//! decimal places; addition and comparison are then exact and cheap. A [`RangeSet`] keeps
//! disjoint, non-adjacent, sorted inclusive ranges, so equal sets have equal representations.

use std::fmt;

use super::error::AllocatorError;

/// A non-negative scalar in thousandths (`1.5` cpus is `Fixed(1500)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fixed(pub i64);

impl Fixed {
    /// Thousandths in one unit.
    pub const SCALE: i64 = 1000;

    /// Zero.
    pub const ZERO: Fixed = Fixed(0);

    /// Converts a decimal value, rounding to the nearest thousandth.
    ///
    /// Negative, non-finite or absurdly large values (above 2^52 units) are rejected.
    pub fn from_f64(value: f64) -> Result<Fixed, AllocatorError> {
        if !value.is_finite() || value < 0.0 || value > (1u64 << 52) as f64 {
            return Err(AllocatorError::InvalidScalar {
                value: value.to_string(),
            });
        }
        Ok(Fixed((value * Self::SCALE as f64).round() as i64))
    }

    /// Whole units (e.g. `Fixed::units(24)` is 24 cpus).
    pub const fn units(units: i64) -> Fixed {
        Fixed(units * Self::SCALE)
    }

    /// The value as a float (for shares and display only).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::SCALE;
        let frac = self.0 % Self::SCALE;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

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

    /// Builds a set from inclusive ranges in any order; overlapping ranges merge.
    ///
    /// A range whose start exceeds its end is rejected.
    pub fn from_ranges(ranges: &[(u64, u64)]) -> Result<RangeSet, AllocatorError> {
        let mut set = RangeSet::new();
        for &(start, end) in ranges {
            if start > end {
                return Err(AllocatorError::InvalidRange { start, end });
            }
            set.insert(start, end);
        }
        Ok(set)
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
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(|&(s, e)| e - s + 1).sum()
    }

    fn insert(&mut self, start: u64, end: u64) {
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len() + 1);
        let (mut start, mut end) = (start, end);
        let mut placed = false;
        for &(s, e) in &self.ranges {
            if e.saturating_add(1) < start {
                merged.push((s, e));
            } else if end.saturating_add(1) < s {
                if !placed {
                    merged.push((start, end));
                    placed = true;
                }
                merged.push((s, e));
            } else {
                start = start.min(s);
                end = end.max(e);
            }
        }
        if !placed {
            merged.push((start, end));
        }
        self.ranges = merged;
    }

    /// Adds every value of `other`.
    pub fn add(&mut self, other: &RangeSet) {
        for &(s, e) in &other.ranges {
            self.insert(s, e);
        }
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
    fn fixed_rounds_to_thousandths_and_prints_short() {
        assert_eq!(Fixed::from_f64(0.0105).unwrap(), Fixed(11));
        assert_eq!(Fixed::from_f64(24.0).unwrap().to_string(), "24");
        assert_eq!(Fixed(1500).to_string(), "1.5");
        assert_eq!(Fixed(10).to_string(), "0.01");
    }

    #[test]
    fn fixed_rejects_negative_and_nan() {
        assert!(Fixed::from_f64(-1.0).is_err());
        assert!(Fixed::from_f64(f64::NAN).is_err());
        assert!(Fixed::from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn ranges_merge_adjacent_and_subtract() {
        let mut set = RangeSet::from_ranges(&[(10, 20), (21, 30), (40, 50)]).unwrap();
        assert_eq!(set.ranges(), &[(10, 30), (40, 50)]);
        set.subtract(&RangeSet::from_ranges(&[(15, 15), (40, 45)]).unwrap());
        assert_eq!(set.ranges(), &[(10, 14), (16, 30), (46, 50)]);
        assert_eq!(set.count(), 5 + 15 + 5);
    }

    #[test]
    fn inverted_range_is_an_error() {
        assert!(matches!(
            RangeSet::from_ranges(&[(5, 4)]),
            Err(AllocatorError::InvalidRange { start: 5, end: 4 })
        ));
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
