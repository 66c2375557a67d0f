//! Mesos's `ACL.Entity`: a list of values, `ANY` or `NONE`, and the two relations the
//! local authorizer uses between a request's entity and a rule's: `matches` (does the rule
//! speak about this request at all?) and `allows` (does a matching rule grant it?).
//!
//! The matrices, request down and rule across (Mesos's `src/authorizer/local/authorizer.cpp`):
//!
//! | matches | SOME | NONE | ANY |      | allows | SOME | NONE | ANY |
//! |---|---|---|---|---|---|---|---|---|
//! | SOME | subset | yes | yes |  | SOME | subset | no | yes |
//! | NONE | no | yes | no |      | NONE | no | yes | no |
//! | ANY | no | yes | yes |      | ANY | no | no | yes |

use serde_json::Value;

/// One side of a rule or of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// These values (Mesos's type `SOME`, the default).
    Some(Vec<String>),
    /// Every value (a request without a principal or without an object is `ANY`).
    Any,
    /// No value at all.
    None,
}

impl Entity {
    /// A request's entity for one value, or `ANY` when there is none.
    pub fn request(value: Option<&str>) -> Entity {
        match value {
            Some(v) => Entity::Some(vec![v.to_string()]),
            None => Entity::Any,
        }
    }

    /// Parses `{"values": [..]}` or `{"type": "ANY" | "NONE" | "SOME"}` (also the enum's
    /// numbers 0, 1, 2 as protobuf's JSON allows); values are ignored for `ANY`/`NONE` as
    /// in Mesos. The error says what was wrong, without the field's name (the caller adds it).
    pub fn parse(value: &Value) -> Result<Entity, String> {
        let Value::Object(map) = value else {
            return Err(format!(
                "expected an object with \"values\" or \"type\", found {value}"
            ));
        };
        for key in map.keys() {
            if key != "values" && key != "type" {
                return Err(format!(
                    "unknown field \"{key}\" (an entity has \"values\" and \"type\")"
                ));
            }
        }
        let kind = match map.get("type") {
            None => "SOME",
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(0) => "SOME",
                Some(1) => "ANY",
                Some(2) => "NONE",
                _ => return Err(format!("unknown type {n} (expected SOME, ANY or NONE)")),
            },
            Some(other) => return Err(format!("\"type\" must be a string, found {other}")),
        };
        let values = match map.get("values") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!("\"values\" must hold strings, found {other}")),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("\"values\" must be a list, found {other}")),
        };
        match kind {
            "SOME" => Ok(Entity::Some(values)),
            "ANY" => Ok(Entity::Any),
            "NONE" => Ok(Entity::None),
            other => Err(format!(
                "unknown type \"{other}\" (expected SOME, ANY or NONE)"
            )),
        }
    }

    /// Whether a rule with entity `rule` is about `self`, a request's entity.
    pub fn matches(&self, rule: &Entity) -> bool {
        match (self, rule) {
            (Entity::None, rule) => *rule == Entity::None,
            (Entity::Any, rule) => matches!(rule, Entity::Any | Entity::None),
            (Entity::Some(_), Entity::Any | Entity::None) => true,
            (Entity::Some(asked), Entity::Some(listed)) => subset(asked, listed),
        }
    }

    /// Whether a matching rule with entity `rule` grants `self`, a request's entity.
    pub fn allowed_by(&self, rule: &Entity) -> bool {
        match (self, rule) {
            (Entity::None, rule) => *rule == Entity::None,
            (Entity::Any, rule) => *rule == Entity::Any,
            (Entity::Some(_), Entity::Any) => true,
            (Entity::Some(_), Entity::None) => false,
            (Entity::Some(asked), Entity::Some(listed)) => subset(asked, listed),
        }
    }
}

fn subset(asked: &[String], listed: &[String]) -> bool {
    asked.iter().all(|a| listed.contains(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn some(v: &str) -> Entity {
        Entity::Some(vec![v.into()])
    }

    #[test]
    fn the_match_and_allow_matrices_are_mesoss() {
        let a = some("a");
        let rules = [some("a"), some("b"), Entity::None, Entity::Any];
        // Request SOME(a): matches every rule but SOME(b); allowed by SOME(a) and ANY.
        let m: Vec<bool> = rules.iter().map(|r| a.matches(r)).collect();
        assert_eq!(m, [true, false, true, true]);
        let al: Vec<bool> = rules.iter().map(|r| a.allowed_by(r)).collect();
        assert_eq!(al, [true, false, false, true]);
        // Request ANY: matches NONE and ANY, allowed only by ANY.
        let m: Vec<bool> = rules.iter().map(|r| Entity::Any.matches(r)).collect();
        assert_eq!(m, [false, false, true, true]);
        let al: Vec<bool> = rules.iter().map(|r| Entity::Any.allowed_by(r)).collect();
        assert_eq!(al, [false, false, false, true]);
        // Request NONE: only NONE.
        let m: Vec<bool> = rules.iter().map(|r| Entity::None.matches(r)).collect();
        assert_eq!(m, [false, false, true, false]);
    }

    #[test]
    fn parses_values_and_types_and_names_what_is_wrong() {
        assert_eq!(Entity::parse(&json!({"values": ["x"]})), Ok(some("x")));
        assert_eq!(Entity::parse(&json!({"type": "ANY"})), Ok(Entity::Any));
        assert_eq!(
            Entity::parse(&json!({"type": 2, "values": ["x"]})),
            Ok(Entity::None)
        );
        assert_eq!(Entity::parse(&json!({})), Ok(Entity::Some(vec![])));
        let e = Entity::parse(&json!({"type": "ALL"})).unwrap_err();
        assert!(e.contains("ALL"), "{e}");
        let e = Entity::parse(&json!({"value": ["x"]})).unwrap_err();
        assert!(e.contains("\"value\""), "{e}");
        let e = Entity::parse(&json!({"values": [1]})).unwrap_err();
        assert!(e.contains("strings"), "{e}");
        assert!(Entity::parse(&json!(["x"])).is_err());
    }
}
