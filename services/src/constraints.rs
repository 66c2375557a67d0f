//! Placement constraints with Marathon's semantics: `[field, OPERATOR(, value)]` parsed and
//! checked, and whether an offer may take one more instance given the values that the
//! app's placed instances (of every version) already have for the field.
//!
//! Values compare as text in Mesos notation (`attribute_text`): scalars with at most three
//! decimals and no trailing zeros, ranges as `[b-e,...]`, text as is. An offer without the
//! field fails every operator except `UNLIKE`.

use std::collections::BTreeMap;

use meso_api::attributes::{AttributeValue, Attributes};
use regex::Regex;

/// The seven operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// No two instances share a value.
    Unique,
    /// All instances share one value (given, or the first one's).
    Cluster,
    /// Instances spread evenly over the values.
    GroupBy,
    /// The value fully matches a regex.
    Like,
    /// The value does not fully match a regex.
    Unlike,
    /// At most N instances per value.
    MaxPer,
    /// The value equals the given one.
    Is,
}

/// One parsed constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// `hostname` or an attribute name (`@hostname` is `hostname`).
    pub field: String,
    /// The operator.
    pub operator: Operator,
    /// The value as given.
    pub value: Option<String>,
    regex: Option<Regex>,
    number: Option<u64>,
}

const OPERATORS: &str = "UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS";

impl Constraint {
    /// Parses one `[field, OPERATOR(, value)]`, or says what is wrong (Marathon's texts).
    pub fn parse(parts: &[String]) -> Result<Constraint, String> {
        if !(2..=3).contains(&parts.len()) {
            return Err("Each constraint must have either 2 or 3 fields".to_string());
        }
        let field = parts[0].trim_start_matches('@').to_string();
        if field.is_empty() {
            return Err("missing field for constraint declaration".to_string());
        }
        let operator = match parts[1].as_str() {
            "UNIQUE" => Operator::Unique,
            "CLUSTER" => Operator::Cluster,
            "GROUP_BY" => Operator::GroupBy,
            "LIKE" => Operator::Like,
            "UNLIKE" => Operator::Unlike,
            "MAX_PER" => Operator::MaxPer,
            "IS" => Operator::Is,
            _ => return Err(format!("operator must be one of the following {OPERATORS}")),
        };
        let value = parts.get(2).cloned();
        let mut c = Constraint {
            field,
            operator,
            value: value.clone(),
            regex: None,
            number: None,
        };
        match (operator, value.as_deref()) {
            (Operator::Unique, Some(_)) => return Err("UNIQUE does not accept a value".into()),
            (Operator::GroupBy, Some(v)) => {
                c.number = Some(
                    v.parse()
                        .map_err(|_| "Value was not an integer for GROUP_BY".to_string())?,
                )
            }
            (Operator::MaxPer, v) => {
                c.number = Some(
                    v.and_then(|v| v.parse().ok())
                        .ok_or_else(|| "MAX_PER requires an integer value".to_string())?,
                )
            }
            (Operator::Like | Operator::Unlike, None) => {
                return Err(format!("{} requires a regular expression value", parts[1]))
            }
            (Operator::Like | Operator::Unlike, Some(v)) => {
                c.regex = Some(
                    Regex::new(&format!("^(?:{v})$"))
                        .map_err(|_| format!("'{v}' is not a valid regular expression"))?,
                )
            }
            (Operator::Is, None) => return Err("IS requires a value".into()),
            (Operator::Is, Some(v)) => {
                let ok = v
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "_/.-".contains(ch));
                if !ok {
                    return Err(format!("'{v}' must match ^[a-zA-Z0-9_/.-]*$"));
                }
            }
            _ => {}
        }
        Ok(c)
    }

    /// Whether an offer whose field value is `offered` may take one more instance, given
    /// the field values of the app's placed instances (`None`: an instance whose agent
    /// lacks the field).
    pub fn accepts(&self, offered: Option<&str>, placed: &[Option<String>]) -> bool {
        let Some(offered) = offered else {
            return self.operator == Operator::Unlike;
        };
        let same = placed
            .iter()
            .filter(|p| p.as_deref() == Some(offered))
            .count();
        match self.operator {
            Operator::Unique => same == 0,
            Operator::Cluster => match &self.value {
                Some(v) => offered == v,
                None => placed.iter().all(|p| p.as_deref() == Some(offered)),
            },
            Operator::MaxPer => (same as u64) < self.number.unwrap_or(0),
            Operator::Like => self.regex.as_ref().is_some_and(|r| r.is_match(offered)),
            Operator::Unlike => !self.regex.as_ref().is_some_and(|r| r.is_match(offered)),
            Operator::Is => match self.value.as_deref() {
                Some(v) => offered == v || normalized_number(v).is_some_and(|n| n == offered),
                None => false,
            },
            Operator::GroupBy => {
                if same == 0 {
                    return true;
                }
                let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
                for p in placed.iter().flatten() {
                    *groups.entry(p.as_str()).or_default() += 1;
                }
                let wanted = self.number.unwrap_or(0) as usize;
                let smallest = groups.values().copied().min().unwrap_or(0);
                groups.len() >= wanted && same <= smallest
            }
        }
    }
}

/// `text` as a Mesos scalar would print (three decimals, half-even, no trailing zeros), if
/// it is a number.
fn normalized_number(text: &str) -> Option<String> {
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    meso_api::resources::Scalar::from_f64(f)
        .ok()
        .map(|s| s.to_string())
}

/// An attribute value in Mesos notation.
pub fn attribute_text(value: &AttributeValue) -> String {
    value.to_string()
}

/// The value of `field` for an agent with `hostname` and `attributes`.
pub fn field_value(field: &str, hostname: &str, attributes: &Attributes) -> Option<String> {
    if field == "hostname" {
        return Some(hostname.to_string());
    }
    attributes.get(field).map(attribute_text)
}

/// Parses every constraint of an app (already validated, so none fails).
pub fn parse_all(lists: &[Vec<String>]) -> Vec<Constraint> {
    lists
        .iter()
        .filter_map(|c| Constraint::parse(c).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(parts: &[&str]) -> Constraint {
        Constraint::parse(&parts.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }
    fn placed(vals: &[&str]) -> Vec<Option<String>> {
        vals.iter().map(|v| Some(v.to_string())).collect()
    }

    #[test]
    fn each_operator_judges_as_marathon() {
        assert!(c(&["hostname", "UNIQUE"]).accepts(Some("a"), &placed(&["b"])));
        assert!(!c(&["hostname", "UNIQUE"]).accepts(Some("a"), &placed(&["a"])));
        assert!(c(&["rack", "CLUSTER"]).accepts(Some("r1"), &[]));
        assert!(!c(&["rack", "CLUSTER"]).accepts(Some("r2"), &placed(&["r1"])));
        assert!(!c(&["rack", "CLUSTER", "r1"]).accepts(Some("r2"), &[]));
        assert!(c(&["zone", "LIKE", "west"]).accepts(Some("west"), &[]));
        assert!(!c(&["zone", "LIKE", "west"]).accepts(Some("westish"), &[]));
        assert!(c(&["zone", "UNLIKE", "west"]).accepts(None, &[]));
        assert!(!c(&["zone", "LIKE", "w.*"]).accepts(None, &[]));
        assert!(c(&["rack", "MAX_PER", "2"]).accepts(Some("r1"), &placed(&["r1"])));
        assert!(!c(&["rack", "MAX_PER", "2"]).accepts(Some("r1"), &placed(&["r1", "r1"])));
        assert!(c(&["level", "IS", "0.80"]).accepts(Some("0.8"), &[]));
        assert!(!c(&["level", "IS", "1"]).accepts(Some("0.8"), &[]));
        let g = c(&["rack", "GROUP_BY"]);
        assert!(g.accepts(Some("r3"), &placed(&["r1", "r2"])));
        assert!(!g.accepts(Some("r1"), &placed(&["r1", "r2", "r2", "r1", "r3"])));
        assert!(g.accepts(Some("r3"), &placed(&["r1", "r2", "r2", "r1", "r3"])));
        let g3 = c(&["rack", "GROUP_BY", "3"]);
        assert!(!g3.accepts(Some("r1"), &placed(&["r1", "r2"])));
    }

    #[test]
    fn bad_constraints_are_refused_with_marathons_words() {
        let e = |parts: &[&str]| {
            Constraint::parse(&parts.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_err()
        };
        assert!(e(&["a"]).contains("2 or 3 fields"));
        assert!(e(&["a", "unique"]).contains("operator must be one of"));
        assert!(e(&["a", "UNIQUE", "x"]).contains("does not accept a value"));
        assert!(e(&["a", "MAX_PER"]).contains("requires an integer"));
        assert!(e(&["a", "LIKE", "("]).contains("regular expression"));
        assert!(e(&["a", "IS", "a b"]).contains("must match"));
        assert!(e(&["", "UNIQUE"]).contains("missing field"));
    }
}
