//! Labels: free-form key/value metadata attached to frameworks, tasks, reservations ...
//!
//! JSON as Mesos: `{"labels":[{"key":"k","value":"v"}]}`; a label's `value` is optional.
//! Order is kept as given (Mesos compares labels as lists). The serde impls here are the
//! JSON form; the binary form of resources converts labels to plain `(key, value)` pairs
//! (`Labels::to_pairs`), and wire messages embed JSON (see `crate::wire`).

use serde::{Deserialize, Serialize};

/// One key with an optional value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    /// The key (required).
    pub key: String,
    /// The value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A list of labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Labels {
    /// The labels, in order.
    #[serde(default, deserialize_with = "crate::json::null_as_default")]
    pub labels: Vec<Label>,
}

impl Labels {
    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// From `(key, value)` pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, Option<V>)>,
    ) -> Self {
        Labels {
            labels: pairs
                .into_iter()
                .map(|(k, v)| Label {
                    key: k.into(),
                    value: v.map(Into::into),
                })
                .collect(),
        }
    }

    /// As `(key, value)` pairs (the binary wire form).
    pub fn to_pairs(&self) -> Vec<(String, Option<String>)> {
        self.labels
            .iter()
            .map(|l| (l.key.clone(), l.value.clone()))
            .collect()
    }
}

impl std::fmt::Display for Labels {
    /// `{k1: v1, k2}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.labels.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match &l.value {
                Some(v) => write!(f, "{}: {}", l.key, v)?,
                None => f.write_str(&l.key)?,
            }
        }
        f.write_str("}")
    }
}
