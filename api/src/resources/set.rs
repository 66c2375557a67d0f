//! Sets of strings (`{a,b,c}`), e.g. named devices.
//!
//! Invariant of [`Set`]: items are sorted and unique, so equality is vector equality and
//! all operations are linear merges.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Whether `c` may appear in a set item: anything `{a,b}` inside `name:value;...` carries
/// back unchanged, so a set that arrived as JSON prints and parses back to itself.
fn is_item_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '{' | '}' | ',' | ':' | ';'))
}

/// A sorted set of distinct strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Set(Vec<Arc<str>>);

impl Set {
    /// The empty set.
    pub const fn new() -> Self {
        Set(Vec::new())
    }

    /// From items in any order; refuses duplicates, empty items and items the text form
    /// `{a,b}` could not carry back (see [`is_item_char`]), naming them.
    pub fn from_items<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Result<Self> {
        let mut v: Vec<Arc<str>> = Vec::new();
        for item in items {
            let item = item.as_ref();
            if item.is_empty() {
                return Err(Error::BadSet {
                    token: item.to_string(),
                    reason: "set items cannot be empty".into(),
                });
            }
            if let Some(c) = item.chars().find(|c| !is_item_char(*c)) {
                return Err(Error::BadSet {
                    token: item.escape_debug().to_string(),
                    reason: format!(
                        "set items cannot hold {c:?} (whitespace, control characters or any of {{ }} , : ;)"
                    ),
                });
            }
            v.push(Arc::from(item));
        }
        v.sort_unstable();
        if let Some(pair) = v.windows(2).find(|p| p[0] == p[1]) {
            return Err(Error::BadSet {
                token: pair[0].to_string(),
                reason: "duplicate item".into(),
            });
        }
        Ok(Set(v))
    }

    /// Parses `{a,b,c}` (spaces removed, as Mesos does). Refuses a missing brace, empty
    /// items and duplicates; the error names the whole token and the item.
    pub fn parse(text: &str) -> Result<Self> {
        let fail = |reason: String| Error::BadSet {
            token: text.to_string(),
            reason,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let inner = compact
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .ok_or_else(|| fail("expected '{item,...}'".into()))?;
        if inner.is_empty() {
            return Ok(Set::new());
        }
        if let Some(bad) = inner.chars().find(|c| matches!(c, '{' | '}')) {
            return Err(fail(format!("unexpected {bad:?} inside a set")));
        }
        Set::from_items(inner.split(',')).map_err(|e| match e {
            Error::BadSet { token, reason } => fail(format!("{reason} '{token}'")),
            other => other,
        })
    }

    /// The items, sorted.
    pub fn items(&self) -> &[Arc<str>] {
        &self.0
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when every item of `other` is in `self`.
    pub fn contains(&self, other: &Set) -> bool {
        let mut mine = self.0.iter();
        'outer: for item in &other.0 {
            for m in mine.by_ref() {
                match m.cmp(item) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => continue 'outer,
                    std::cmp::Ordering::Greater => return false,
                }
            }
            return false;
        }
        true
    }

    /// Items in either.
    pub fn union(&self, other: &Set) -> Set {
        let mut v: Vec<Arc<str>> = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => match x.cmp(y) {
                    std::cmp::Ordering::Less => v.extend(a.next().cloned()),
                    std::cmp::Ordering::Greater => v.extend(b.next().cloned()),
                    std::cmp::Ordering::Equal => {
                        v.extend(a.next().cloned());
                        b.next();
                    }
                },
                (Some(_), None) => v.extend(a.next().cloned()),
                (None, Some(_)) => v.extend(b.next().cloned()),
                (None, None) => break,
            }
        }
        Set(v)
    }

    /// Items of `self` not in `other`.
    pub fn difference(&self, other: &Set) -> Set {
        Set(self
            .0
            .iter()
            .filter(|item| other.0.binary_search(item).is_err())
            .cloned()
            .collect())
    }
}

impl fmt::Display for Set {
    /// `{a, b, c}`, as Mesos prints sets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(item)?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_sorted() {
        let s = Set::parse("{c, a,b}").unwrap();
        assert_eq!(s.to_string(), "{a, b, c}");
        assert_eq!(Set::parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn refuses_duplicates_and_malformed_sets_naming_the_token() {
        for text in ["{a,b,a}", "{a,,b}", "{a", "a}", "{a{b}"] {
            let err = Set::parse(text).expect_err(text);
            assert!(
                matches!(&err, Error::BadSet { token, .. } if token == text),
                "{text}: {err}"
            );
        }
        let err = Set::parse("{a,b,a}").unwrap_err().to_string();
        assert!(err.contains("duplicate item 'a'"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn operations_agree_with_btreeset(
            a in prop::collection::btree_set("[a-e]{1,2}", 0..6),
            b in prop::collection::btree_set("[a-e]{1,2}", 0..6),
        ) {
            let (sa, sb) = (Set::from_items(&a).unwrap(), Set::from_items(&b).unwrap());
            let names = |s: &Set| s.items().iter().map(|i| i.to_string()).collect::<Vec<_>>();
            prop_assert_eq!(names(&sa.union(&sb)), a.union(&b).cloned().collect::<Vec<_>>());
            prop_assert_eq!(names(&sa.difference(&sb)), a.difference(&b).cloned().collect::<Vec<_>>());
            prop_assert_eq!(sa.contains(&sb), b.is_subset(&a));
        }
    }
}
