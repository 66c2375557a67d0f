//! A resource's value: a scalar, ranges or a set, and the shared text parser for values.
//!
//! Arithmetic on [`Value`] only combines values of the same type; callers (`Resources`)
//! check the type first. Subtraction here saturates: a scalar never goes below zero and
//! ranges/set items not present are ignored.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Ranges, Scalar, Set};
use crate::error::{Error, Result};

/// The type of a value, with Mesos's JSON names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ValueType {
    /// A number.
    #[serde(rename = "SCALAR")]
    Scalar,
    /// Integer intervals.
    #[serde(rename = "RANGES")]
    Ranges,
    /// Strings.
    #[serde(rename = "SET")]
    Set,
    /// Free text (attributes only; refused for resources).
    #[serde(rename = "TEXT")]
    Text,
}

impl ValueType {
    /// The Mesos name (`SCALAR`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Scalar => "SCALAR",
            ValueType::Ranges => "RANGES",
            ValueType::Set => "SET",
            ValueType::Text => "TEXT",
        }
    }
}

/// The value of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A fixed-point number.
    Scalar(Scalar),
    /// Integer intervals.
    Ranges(Ranges),
    /// A set of strings.
    Set(Set),
}

impl Value {
    /// The type of this value.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Scalar(_) => ValueType::Scalar,
            Value::Ranges(_) => ValueType::Ranges,
            Value::Set(_) => ValueType::Set,
        }
    }

    /// True when the value holds nothing: a scalar at or below zero, no ranges, no items.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Scalar(s) => !s.is_positive(),
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }

    /// True when `self` holds at least `other` (same type required; otherwise false).
    pub fn contains(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => a >= b,
            (Value::Ranges(a), Value::Ranges(b)) => a.contains(b),
            (Value::Set(a), Value::Set(b)) => a.contains(b),
            _ => false,
        }
    }

    /// Adds `other` when the types match; returns false (and changes nothing) otherwise.
    pub fn add_assign(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a += *b,
            (Value::Ranges(a), Value::Ranges(b)) => a.add_assign(b),
            (Value::Set(a), Value::Set(b)) => *a = a.union(b),
            _ => return false,
        }
        true
    }

    /// Removes `other` when the types match, saturating at empty; returns false (and changes
    /// nothing) when the types differ.
    pub fn saturating_sub_assign(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a = a.saturating_sub_to_zero(*b),
            (Value::Ranges(a), Value::Ranges(b)) => a.sub_assign(b),
            (Value::Set(a), Value::Set(b)) => *a = a.difference(b),
            _ => return false,
        }
        true
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(s) => s.fmt(f),
            Value::Ranges(r) => r.fmt(f),
            Value::Set(s) => s.fmt(f),
        }
    }
}

/// What the shared value grammar makes of a piece of text (Mesos's `values::parse`):
/// a leading `[` means ranges, a leading `{` a set, a number a scalar, anything else text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedValue {
    /// A resource-compatible value.
    Value(Value),
    /// Text that is none of the above (valid for attributes only).
    Text(String),
}

/// Parses a value with the shared grammar. All whitespace is removed first, as Mesos does.
/// Scalars must be finite and non-negative; ranges and sets must be well formed.
pub fn parse_value(text: &str) -> Result<ParsedValue> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.starts_with('[') {
        return Ranges::parse(&compact)
            .map(|r| ParsedValue::Value(Value::Ranges(r)))
            .map_err(|e| retoken(e, text));
    }
    if compact.starts_with('{') {
        return Set::parse(&compact)
            .map(|s| ParsedValue::Value(Value::Set(s)))
            .map_err(|e| retoken(e, text));
    }
    if looks_numeric(&compact) {
        return Scalar::parse(&compact)
            .map(|s| ParsedValue::Value(Value::Scalar(s)))
            .map_err(|e| retoken(e, text));
    }
    Ok(ParsedValue::Text(compact))
}

/// True for text a number parser would take as a number (including the special names a
/// float parser knows), so that `-1`, `nan` or `inf` are refused as scalars rather than
/// silently becoming text.
fn looks_numeric(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    matches!(body, "nan" | "inf" | "infinity") || text.parse::<f64>().is_ok()
}

/// Puts the user's original text into the error's token.
fn retoken(err: Error, text: &str) -> Error {
    match err {
        Error::BadScalar { reason, .. } => Error::BadScalar {
            token: text.to_string(),
            reason,
        },
        Error::BadRanges { reason, .. } => Error::BadRanges {
            token: text.to_string(),
            reason,
        },
        Error::BadSet { reason, .. } => Error::BadSet {
            token: text.to_string(),
            reason,
        },
        other => other,
    }
}
