//! The allocator's boundary vocabulary: the resources callers hand in (agent totals, used and
//! recovered resources, filters) and get back in offers, plus named quantities for quota and
//! minimum allocatable resources.
//!
//! Inside, the allocator keeps none of these lists: it interns each (name, reservation,
//! revocable) triple once and works on dense per-agent arrays (see `agent.rs`). These types
//! are the translation layer; once `meso_api::Resources` exists they convert to and from it.
//!
//! Text form (for tests, examples and the benchmark), `;`-separated:
//! `cpus:24;mem:4096;ports:[31000-32000];cpus(eng):2;zones:{a,b}` where `(role)` marks a
//! reservation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::error::AllocatorError;
use super::quantity::{Fixed, RangeSet};

/// The value of one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A divisible amount (`cpus`, `mem`, `disk`, `gpus`).
    Scalar(Fixed),
    /// Specific integers (`ports`).
    Ranges(RangeSet),
    /// Specific named items.
    Set(BTreeSet<String>),
}

impl Value {
    /// The kind's name, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::Ranges(_) => "ranges",
            Value::Set(_) => "set",
        }
    }

    /// True if the value holds nothing.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Scalar(f) => f.0 == 0,
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }
}

/// One resource: a name, a value, and where it may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Resource name (`cpus`, `mem`, `ports`, ...).
    pub name: String,
    /// How much, or which.
    pub value: Value,
    /// The role it is reserved for; `None` means unreserved (usable by any role).
    pub reservation: Option<String>,
    /// Revocable (oversubscribed) resources go only to frameworks that accept them.
    pub revocable: bool,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(role) = &self.reservation {
            write!(f, "({role})")?;
        }
        if self.revocable {
            write!(f, "{{REV}}")?;
        }
        match &self.value {
            Value::Scalar(v) => write!(f, ":{v}"),
            Value::Ranges(r) => write!(f, ":{r}"),
            Value::Set(s) => {
                let items: Vec<&str> = s.iter().map(String::as_str).collect();
                write!(f, ":{{{}}}", items.join(","))
            }
        }
    }
}

/// A list of resources as handed across the allocator's boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceList(pub Vec<Resource>);

impl ResourceList {
    /// Parses the text form described in the module docs.
    pub fn parse(text: &str) -> Result<ResourceList, AllocatorError> {
        let fail = |reason: String| AllocatorError::ParseResources {
            input: text.to_string(),
            reason,
        };
        let mut out = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (head, value) = part
                .split_once(':')
                .ok_or_else(|| fail(format!("{part:?} has no ':'")))?;
            let (name, reservation) = match head.split_once('(') {
                Some((name, rest)) => {
                    let role = rest
                        .strip_suffix(')')
                        .ok_or_else(|| fail(format!("{head:?} lacks a closing ')'")))?;
                    (name.trim(), Some(role.trim().to_string()))
                }
                None => (head.trim(), None),
            };
            if name.is_empty() {
                return Err(fail(format!("{part:?} has an empty name")));
            }
            let value = value.trim();
            let value = if let Some(inner) = value.strip_prefix('[') {
                let inner = inner
                    .strip_suffix(']')
                    .ok_or_else(|| fail(format!("{value:?} lacks a closing ']'")))?;
                let mut ranges = Vec::new();
                for r in inner.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                    let (s, e) = r
                        .split_once('-')
                        .ok_or_else(|| fail(format!("range {r:?} has no '-'")))?;
                    let s: u64 = s
                        .trim()
                        .parse()
                        .map_err(|_| fail(format!("range start {s:?} is not an integer")))?;
                    let e: u64 = e
                        .trim()
                        .parse()
                        .map_err(|_| fail(format!("range end {e:?} is not an integer")))?;
                    ranges.push((s, e));
                }
                Value::Ranges(RangeSet::from_ranges(&ranges)?)
            } else if let Some(inner) = value.strip_prefix('{') {
                let inner = inner
                    .strip_suffix('}')
                    .ok_or_else(|| fail(format!("{value:?} lacks a closing '}}'")))?;
                Value::Set(
                    inner
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            } else {
                let v: f64 = value
                    .parse()
                    .map_err(|_| fail(format!("{value:?} is not a number")))?;
                Value::Scalar(Fixed::from_f64(v)?)
            };
            out.push(Resource {
                name: name.to_string(),
                value,
                reservation,
                revocable: false,
            });
        }
        Ok(ResourceList(out))
    }

    /// The same resources marked revocable.
    pub fn into_revocable(mut self) -> ResourceList {
        for r in &mut self.0 {
            r.revocable = true;
        }
        self
    }

    /// Sum of the scalar resources named `name`, whatever their reservation.
    pub fn scalar(&self, name: &str) -> Fixed {
        Fixed(
            self.0
                .iter()
                .filter(|r| r.name == name)
                .map(|r| match r.value {
                    Value::Scalar(f) => f.0,
                    _ => 0,
                })
                .sum(),
        )
    }

    /// True if the list holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|r| r.value.is_empty())
    }
}

impl fmt::Display for ResourceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ";")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Scalar amounts by resource name, as used by quota and minimum allocatable resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quantities(pub BTreeMap<String, Fixed>);

impl Quantities {
    /// Parses `cpus:0.01;mem:32`.
    pub fn parse(text: &str) -> Result<Quantities, AllocatorError> {
        let mut out = BTreeMap::new();
        for r in ResourceList::parse(text)?.0 {
            match r.value {
                Value::Scalar(v) if r.reservation.is_none() => {
                    let sum = out.entry(r.name).or_insert(Fixed::ZERO);
                    sum.0 = sum.0.saturating_add(v.0);
                }
                _ => {
                    return Err(AllocatorError::ParseResources {
                        input: text.to_string(),
                        reason: format!("{r} is not an unreserved scalar quantity"),
                    })
                }
            }
        }
        Ok(Quantities(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_benchmark_agent() {
        let list = ResourceList::parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]").unwrap();
        assert_eq!(list.0.len(), 4);
        assert_eq!(list.scalar("cpus"), Fixed::units(24));
        assert_eq!(
            list.0[3].value,
            Value::Ranges(RangeSet::from_ranges(&[(31000, 32000)]).unwrap())
        );
        assert_eq!(
            list.to_string(),
            "cpus:24;mem:4096;disk:4096;ports:[31000-32000]"
        );
    }

    #[test]
    fn parses_reservations_and_sets() {
        let list = ResourceList::parse("cpus(eng/web):2;zones:{a,b}").unwrap();
        assert_eq!(list.0[0].reservation.as_deref(), Some("eng/web"));
        assert_eq!(list.0[1].value.kind(), "set");
    }

    #[test]
    fn bad_text_names_the_problem() {
        for bad in [
            "cpus",
            "cpus:x",
            "cpus:-1",
            "ports:[5-4]",
            "cpus(eng:1",
            ":3",
        ] {
            assert!(ResourceList::parse(bad).is_err(), "{bad} should not parse");
        }
        let err = ResourceList::parse("mem:lots").unwrap_err().to_string();
        assert!(err.contains("lots"), "{err}");
    }

    #[test]
    fn quantities_sum_and_reject_ranges() {
        let q = Quantities::parse("cpus:1;cpus:0.5;mem:32").unwrap();
        assert_eq!(q.0["cpus"], Fixed(1500));
        assert!(Quantities::parse("ports:[1-2]").is_err());
    }
}
