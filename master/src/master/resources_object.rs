//! The legacy endpoints' flattened JSON for resources and attributes (HTTP reference §4):
//! a "resources object" `{"cpus": 4.0, "gpus": 0.0, "mem": 1024.0, "disk": 2048.0,
//! "ports": "[31000-32000]"}` instead of a Resource array, and attributes as
//! `{name: value}`. Serde writers over borrowed values, no allocation for the common case.
//!
//! Invariants: `cpus`, `gpus`, `mem`, `disk` are always present; entries of one name are
//! summed (scalars) or merged (ranges, sets); revocable ones go under `<name>_revocable`.

use meso_api::attributes::{AttributeValue, Attributes};
use meso_api::resources::Value;
use meso_api::Resources;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Mesos's flattened "resources object": `cpus`, `gpus`, `mem`, `disk` always (0 when
/// absent), other scalars by name, ranges as `"[b-e, b-e]"`, sets as `"{a, b}"`; revocable
/// resources under `<name>_revocable`. Entries of one name (reserved and unreserved, say)
/// are summed.
pub struct ResourcesObject<'a>(pub &'a Resources);

impl Serialize for ResourcesObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut fixed = [0.0f64; 4];
        let mut others: Vec<(String, Value)> = Vec::new();
        for r in self.0.iter() {
            let slot = match (&*r.name, r.revocable) {
                ("cpus", false) => Some(0),
                ("gpus", false) => Some(1),
                ("mem", false) => Some(2),
                ("disk", false) => Some(3),
                _ => None,
            };
            match (slot, &r.value) {
                (Some(i), Value::Scalar(x)) => fixed[i] += x.as_f64(),
                _ => {
                    let name = if r.revocable {
                        format!("{}_revocable", r.name)
                    } else {
                        r.name.to_string()
                    };
                    match others.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, v)) => {
                            v.add_assign(&r.value);
                        }
                        None => others.push((name, r.value.clone())),
                    }
                }
            }
        }
        let mut m = s.serialize_map(Some(4 + others.len()))?;
        for (name, value) in ["cpus", "gpus", "mem", "disk"].iter().zip(fixed) {
            m.serialize_entry(name, &value)?;
        }
        for (name, value) in &others {
            match value {
                Value::Scalar(x) => m.serialize_entry(name, &x.as_f64())?,
                Value::Ranges(r) => m.serialize_entry(name, &r.to_string())?,
                Value::Set(set) => m.serialize_entry(name, &set.to_string())?,
            }
        }
        m.end()
    }
}

/// Attributes as `{name: value}` (scalars as numbers, ranges and text as strings).
pub struct AttributesObject<'a>(pub &'a Attributes);

impl Serialize for AttributesObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0 .0.len()))?;
        for a in &self.0 .0 {
            match &a.value {
                AttributeValue::Scalar(x) => m.serialize_entry(&a.name, &x.as_f64())?,
                AttributeValue::Ranges(r) => m.serialize_entry(&a.name, &r.to_string())?,
                AttributeValue::Text(t) => m.serialize_entry(&a.name, t)?,
            }
        }
        m.end()
    }
}

/// `{role: resources-object}` of the reserved part of `resources`.
pub struct ReservedObject(pub Vec<(String, Resources)>);

impl Serialize for ReservedObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (role, r) in &self.0 {
            m.serialize_entry(role, &ResourcesObject(r))?;
        }
        m.end()
    }
}
