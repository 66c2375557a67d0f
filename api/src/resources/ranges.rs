//! Ranges of unsigned integers (`[31000-32000,33000-34000]`), e.g. ports.
//!
//! Invariant of [`Ranges`]: its intervals are inclusive, sorted, and neither overlap nor
//! touch (`[1-2,3-4]` is stored as `[1-4]`). Every constructor and operation keeps this
//! canonical form, so equality of values is equality of the vectors and all operations are
//! linear merges.

use std::fmt;

use crate::error::{Error, Result};

/// One inclusive interval `begin..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    /// First value, inclusive.
    pub begin: u64,
    /// Last value, inclusive; never less than `begin`.
    pub end: u64,
}

/// A canonical set of disjoint, non-adjacent, sorted inclusive intervals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Ranges(Vec<Range>);

impl Ranges {
    /// No values.
    pub const fn new() -> Self {
        Ranges(Vec::new())
    }

    /// One interval; refuses `begin > end`.
    pub fn single(begin: u64, end: u64) -> Result<Self> {
        Ranges::from_pairs([(begin, end)])
    }

    /// From intervals in any order. Touching intervals are merged; an interval with
    /// `begin > end` or intervals that overlap are refused (as Mesos's resource validation
    /// does), naming the interval.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u64, u64)>) -> Result<Self> {
        let pairs = pairs.into_iter();
        let mut items: Vec<Range> = Vec::with_capacity(pairs.size_hint().0);
        for (begin, end) in pairs {
            if begin > end {
                return Err(Error::BadRanges {
                    token: format!("{begin}-{end}"),
                    reason: "begin is greater than end".into(),
                });
            }
            items.push(Range { begin, end });
        }
        items.sort_unstable();
        for pair in items.windows(2) {
            if pair[1].begin <= pair[0].end {
                return Err(Error::BadRanges {
                    token: format!(
                        "{}-{},{}-{}",
                        pair[0].begin, pair[0].end, pair[1].begin, pair[1].end
                    ),
                    reason: "ranges overlap".into(),
                });
            }
        }
        Ok(Ranges(coalesce_sorted(items)))
    }

    /// From intervals in any order, merging overlapping ones instead of refusing them
    /// (Mesos's `coalesce`). Still refuses `begin > end`.
    pub fn coalesced(pairs: impl IntoIterator<Item = (u64, u64)>) -> Result<Self> {
        let mut items: Vec<Range> = Vec::new();
        for (begin, end) in pairs {
            if begin > end {
                return Err(Error::BadRanges {
                    token: format!("{begin}-{end}"),
                    reason: "begin is greater than end".into(),
                });
            }
            items.push(Range { begin, end });
        }
        items.sort_unstable();
        Ok(Ranges(coalesce_sorted(items)))
    }

    /// Parses `[a-b,c-d]` (spaces allowed). Refuses a missing bracket, a non-integer, an
    /// odd number of bounds, `begin > end` and overlapping intervals; touching ones merge.
    pub fn parse(text: &str) -> Result<Self> {
        let fail = |reason: String| Error::BadRanges {
            token: text.to_string(),
            reason,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let inner = compact
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .ok_or_else(|| fail("expected '[begin-end,...]'".into()))?;
        if inner.is_empty() {
            return Ok(Ranges::new());
        }
        let mut pairs = Vec::new();
        for piece in inner.split(',') {
            let (begin, end) = piece
                .split_once('-')
                .ok_or_else(|| fail(format!("'{piece}' is not 'begin-end'")))?;
            let bound = |s: &str| {
                s.parse::<u64>()
                    .map_err(|_| fail(format!("'{s}' is not a non-negative integer")))
            };
            pairs.push((bound(begin)?, bound(end)?));
        }
        Ranges::from_pairs(pairs).map_err(|e| match e {
            Error::BadRanges { token, reason } => fail(format!("{reason} ({token})")),
            other => other,
        })
    }

    /// The intervals, sorted.
    pub fn as_slice(&self) -> &[Range] {
        &self.0
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many values (not intervals) are covered, saturating at `u64::MAX`.
    pub fn count(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, r| {
            acc.saturating_add((r.end - r.begin).saturating_add(1))
        })
    }

    /// True when `value` is covered.
    pub fn contains_value(&self, value: u64) -> bool {
        let idx = self.0.partition_point(|r| r.end < value);
        self.0.get(idx).is_some_and(|r| r.begin <= value)
    }

    /// True when every value of `other` is covered by `self`.
    pub fn contains(&self, other: &Ranges) -> bool {
        let mut mine = self.0.iter().peekable();
        'outer: for r in &other.0 {
            while let Some(m) = mine.peek() {
                if m.end < r.begin {
                    mine.next();
                    continue;
                }
                // Canonical form: `r` must fit inside one interval of `self`.
                if m.begin <= r.begin && r.end <= m.end {
                    continue 'outer;
                }
                return false;
            }
            return false;
        }
        true
    }

    /// Union.
    pub fn union(&self, other: &Ranges) -> Ranges {
        if other.0.is_empty() {
            return self.clone();
        }
        if self.0.is_empty() {
            return other.clone();
        }
        let mut merged = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if x <= y {
                        a.next()
                    } else {
                        b.next()
                    }
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if let Some(r) = next {
                merged.push(*r);
            }
        }
        Ranges(coalesce_sorted(merged))
    }

    /// Values of `self` not in `other` (values of `other` outside `self` are ignored).
    pub fn difference(&self, other: &Ranges) -> Ranges {
        if other.0.is_empty() || self.0.is_empty() {
            return self.clone();
        }
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut cut = other.0.iter().peekable();
        for r in &self.0 {
            let mut begin = r.begin;
            let end = r.end;
            let mut alive = true;
            while let Some(c) = cut.peek() {
                if c.end < begin {
                    cut.next();
                    continue;
                }
                if c.begin > end {
                    break;
                }
                // `c` overlaps [begin, end].
                if c.begin > begin {
                    out.push(Range {
                        begin,
                        end: c.begin - 1,
                    });
                }
                if c.end >= end {
                    alive = false;
                    break;
                }
                begin = c.end + 1;
                cut.next();
            }
            if alive {
                out.push(Range { begin, end });
            }
        }
        Ranges(out)
    }

    /// Values in both.
    pub fn intersection(&self, other: &Ranges) -> Ranges {
        self.difference(&self.difference(other))
    }

    /// Adds `other` in place. A few intervals (the usual case: a task's ports) are spliced
    /// into the existing vector without a new allocation; many are merged into a new one.
    pub fn add_assign(&mut self, other: &Ranges) {
        if other.0.len() <= IN_PLACE_MAX {
            for r in &other.0 {
                self.insert_interval(r.begin, r.end);
            }
        } else {
            *self = self.union(other);
        }
    }

    /// Removes `other` in place (see [`Ranges::add_assign`] on allocation).
    pub fn sub_assign(&mut self, other: &Ranges) {
        if other.0.len() <= IN_PLACE_MAX {
            for r in &other.0 {
                self.remove_interval(r.begin, r.end);
            }
        } else {
            *self = self.difference(other);
        }
    }

    /// Adds `begin..=end` (`begin <= end`), merging with overlapping or touching intervals.
    fn insert_interval(&mut self, begin: u64, end: u64) {
        // Ends and begins both increase along the vector, so both predicates are monotone.
        let start = self.0.partition_point(|r| r.end.saturating_add(1) < begin);
        let stop = self.0.partition_point(|r| r.begin <= end.saturating_add(1));
        if start >= stop {
            self.0.insert(start, Range { begin, end });
            return;
        }
        let merged = Range {
            begin: begin.min(self.0[start].begin),
            end: end.max(self.0[stop - 1].end),
        };
        self.0[start] = merged;
        self.0.drain(start + 1..stop);
    }

    /// Removes `begin..=end` (`begin <= end`), splitting an interval if needed.
    fn remove_interval(&mut self, begin: u64, end: u64) {
        let start = self.0.partition_point(|r| r.end < begin);
        let stop = self.0.partition_point(|r| r.begin <= end);
        if start >= stop {
            return;
        }
        let (first, last) = (self.0[start], self.0[stop - 1]);
        // `first.begin < begin` implies `begin > 0`; `last.end > end` implies `end < MAX`.
        let left = (first.begin < begin).then(|| Range {
            begin: first.begin,
            end: begin - 1,
        });
        let right = (last.end > end).then(|| Range {
            begin: end + 1,
            end: last.end,
        });
        self.0.splice(start..stop, left.into_iter().chain(right));
    }
}

/// Up to this many intervals, `add_assign`/`sub_assign` edit in place.
const IN_PLACE_MAX: usize = 8;

/// Merges overlapping or touching intervals of a sorted vector, in place.
fn coalesce_sorted(mut items: Vec<Range>) -> Vec<Range> {
    let mut write = 0usize;
    for read in 0..items.len() {
        let current = items[read];
        if write > 0 && current.begin <= items[write - 1].end.saturating_add(1) {
            let last = &mut items[write - 1];
            last.end = last.end.max(current.end);
        } else {
            items[write] = current;
            write += 1;
        }
    }
    items.truncate(write);
    items
}

impl fmt::Display for Ranges {
    /// `[31000-32000, 33000-34000]`, as Mesos prints ranges.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}-{}", r.begin, r.end)?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(pairs: &[(u64, u64)]) -> Ranges {
        Ranges::coalesced(pairs.iter().copied()).expect("test ranges are well formed")
    }

    #[test]
    fn splits_a_range_around_a_removed_value() {
        let ports = r(&[(31000, 32000)]);
        let left = ports.difference(&r(&[(31500, 31500)]));
        assert_eq!(left, r(&[(31000, 31499), (31501, 32000)]));
        assert_eq!(left.count(), 1000);
        assert_eq!(left.union(&r(&[(31500, 31500)])), ports);
    }

    #[test]
    fn touching_ranges_merge() {
        assert_eq!(Ranges::parse("[1-2,3-4]").unwrap(), r(&[(1, 4)]));
        assert_eq!(
            Ranges::parse("[ 5-6 , 1-2 ]").unwrap().to_string(),
            "[1-2, 5-6]"
        );
    }

    #[test]
    fn refuses_malformed_ranges_naming_the_token() {
        for text in [
            "[5-1]",
            "[1-5,3-7]",
            "[1-2-3]",
            "[a-b]",
            "[-1-5]",
            "[1-5",
            "1-5",
            "[1,2]",
            "[1-99999999999999999999]",
        ] {
            let err = Ranges::parse(text).expect_err(text);
            assert!(
                matches!(&err, Error::BadRanges { token, .. } if token == text),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn extreme_bounds_do_not_overflow() {
        let all = r(&[(0, u64::MAX)]);
        assert_eq!(all.count(), u64::MAX);
        let hole = all.difference(&r(&[(0, 0), (u64::MAX, u64::MAX)]));
        assert_eq!(hole, r(&[(1, u64::MAX - 1)]));
        assert!(all.contains(&hole));
        assert_eq!(hole.union(&r(&[(0, 0), (u64::MAX, u64::MAX)])), all);
        let mut edited = all.clone();
        edited.sub_assign(&r(&[(0, 0), (u64::MAX, u64::MAX)]));
        assert_eq!(edited, hole);
        edited.add_assign(&r(&[(0, 0), (u64::MAX, u64::MAX)]));
        assert_eq!(edited, all);
    }

    fn arb_ranges() -> impl Strategy<Value = Ranges> {
        prop::collection::vec((0u64..200, 0u64..20), 0..12).prop_map(|v| {
            Ranges::coalesced(v.into_iter().map(|(b, len)| (b, b + len)))
                .expect("begin <= end by construction")
        })
    }

    fn members(r: &Ranges) -> std::collections::BTreeSet<u64> {
        r.as_slice().iter().flat_map(|x| x.begin..=x.end).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn operations_agree_with_set_semantics(a in arb_ranges(), b in arb_ranges()) {
            let (ma, mb) = (members(&a), members(&b));
            prop_assert_eq!(members(&a.union(&b)), ma.union(&mb).copied().collect());
            prop_assert_eq!(members(&a.difference(&b)), ma.difference(&mb).copied().collect());
            prop_assert_eq!(members(&a.intersection(&b)), ma.intersection(&mb).copied().collect());
            prop_assert_eq!(a.contains(&b), mb.is_subset(&ma));
            // The in-place forms agree with the merging ones.
            let mut added = a.clone();
            added.add_assign(&b);
            prop_assert_eq!(&added, &a.union(&b));
            let mut removed = a.clone();
            removed.sub_assign(&b);
            prop_assert_eq!(&removed, &a.difference(&b));
            // Canonical form: rebuilding from the members gives the same vector.
            let u = a.union(&b);
            prop_assert_eq!(Ranges::parse(&u.to_string()).unwrap(), u);
        }
    }
}
