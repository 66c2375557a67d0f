//! Authorization as Mesos's local authorizer decides it: the `--acls` file (Mesos's ACL
//! JSON, so existing files work unchanged) parsed into [`Acls`], and one pure question,
//! [`Acls::authorize`]`(subject, action, object) -> bool`.
//!
//! The rules of one action are tried in file order; the first rule whose subject and
//! object both *match* the request decides, by whether both *allow* it
//! ([`entity::Entity`] has the two matrices). When no rule matches, `permissive` decides
//! (true by default). A request without a principal is the subject `ANY`, and one without
//! an object (an action whose object Mesos leaves implicit, such as `mark_agents_gone`) is
//! the object `ANY`, so only rules with `"type": "ANY"` or `"NONE"` speak about them. A
//! role rule whose one value ends in `/%` covers every role below that prefix.
//!
//! | module | owns |
//! |---|---|
//! | [`entity`] | `Entity` (values, ANY, NONE), its parsing and the match/allow matrices |
//! | [`action`] | every Mesos action key with its object field; [`Action`], the ones meso decides |
//! | [`view`] | filtering a state document by `view_frameworks`, `view_tasks`, `view_executors` |
//!
//! Invariants: no I/O; a file is refused whole, with an error naming the action, the rule's
//! position and the field at fault, and never half-applied; an unknown action key is
//! refused (a typo must not silently leave an action to `permissive`).
//!
//! ```
//! use meso_api::acl::{Acls, Action};
//!
//! let acls = Acls::parse(r#"{
//!   "permissive": false,
//!   "run_tasks": [{"principals": {"values": ["ops"]}, "users": {"values": ["nobody"]}}]
//! }"#).map_err(|e| e.to_string())?;
//! assert!(acls.authorize(Some("ops"), Action::RunTasks, Some("nobody")));
//! assert!(!acls.authorize(Some("ops"), Action::RunTasks, Some("root")));
//! assert!(!acls.authorize(None, Action::RunTasks, Some("nobody")));
//! # Ok::<(), String>(())
//! ```

pub mod action;
pub mod entity;
pub mod view;

use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

pub use action::Action;
pub use entity::Entity;

/// Why an ACL file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AclError {
    /// Not a JSON object.
    #[error("not a JSON object of Mesos's ACLs: {0}")]
    Json(String),
    /// A top-level key that is no Mesos action.
    #[error("unknown ACL action \"{0}\"")]
    UnknownAction(String),
    /// `permissive` is not a boolean.
    #[error("\"permissive\" must be true or false, found {0}")]
    Permissive(String),
    /// An action's value is not a list of rules.
    #[error("\"{action}\" must be a list of rules, found {found}")]
    NotAList {
        /// The action key.
        action: String,
        /// What was there.
        found: String,
    },
    /// A rule is wrong.
    #[error("\"{action}\" rule {index}: {why}")]
    Rule {
        /// The action key.
        action: String,
        /// Position of the rule, from 0.
        index: usize,
        /// What is wrong with it.
        why: String,
    },
}

/// One rule: who (`principals`) may or may not act on what (the action's object field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's `principals`.
    pub subjects: Entity,
    /// The rule's object entity.
    pub objects: Entity,
}

/// A parsed ACL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acls {
    /// Whether a request no rule matches is allowed (Mesos's default: true).
    pub permissive: bool,
    rules: BTreeMap<&'static str, Vec<Rule>>,
}

impl Default for Acls {
    /// No rules, permissive: everything is allowed.
    fn default() -> Self {
        Acls {
            permissive: true,
            rules: BTreeMap::new(),
        }
    }
}

impl Acls {
    /// Parses the text of an ACL file.
    pub fn parse(text: &str) -> Result<Acls, AclError> {
        let limits = crate::json::Limits::default();
        let value: Value =
            crate::json::from_str(text, &limits).map_err(|e| AclError::Json(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(AclError::Json(format!("expected an object, found {value}")));
        };
        let mut acls = Acls::default();
        for (key, value) in map {
            if key == "permissive" {
                acls.permissive = value
                    .as_bool()
                    .ok_or_else(|| AclError::Permissive(value.to_string()))?;
                continue;
            }
            let Some(&(name, object_field, _)) =
                action::MESOS_ACTIONS.iter().find(|(n, _, _)| *n == key)
            else {
                return Err(AclError::UnknownAction(key));
            };
            let Value::Array(items) = value else {
                return Err(AclError::NotAList {
                    action: key,
                    found: value.to_string(),
                });
            };
            let is_role = action::MESOS_ACTIONS
                .iter()
                .any(|(n, _, role)| *n == name && *role);
            let mut rules = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let rule = parse_rule(item, object_field).map_err(|why| AclError::Rule {
                    action: key.clone(),
                    index,
                    why,
                })?;
                if is_role {
                    split_recursive(rule, &mut rules);
                } else {
                    rules.push(rule);
                }
            }
            acls.rules.insert(name, rules);
        }
        Ok(acls)
    }

    /// The rules of `action`, in file order.
    pub fn rules(&self, action: Action) -> &[Rule] {
        self.rules.get(action.name()).map_or(&[], Vec::as_slice)
    }

    /// Whether `subject` (a principal; `None`: unauthenticated, Mesos's `ANY`) may do
    /// `action` on `object` (`None`: an implicit object, `ANY`).
    pub fn authorize(&self, subject: Option<&str>, action: Action, object: Option<&str>) -> bool {
        let subject = Entity::request(subject);
        let request = Entity::request(object);
        let any = Entity::Any;
        for rule in self.rules(action) {
            let recursive = match &rule.objects {
                Entity::Some(values) if action.object_is_role() && values.len() == 1 => {
                    values[0].strip_suffix('%').filter(|p| p.ends_with('/'))
                }
                _ => None,
            };
            let (decides, allowed) = match recursive {
                // "a/%" is about roles strictly below `a`; a match is judged as by ANY.
                Some(prefix) => match object {
                    Some(role) if role.starts_with(prefix) => (
                        subject.matches(&rule.subjects) && request.matches(&any),
                        subject.allowed_by(&rule.subjects) && request.allowed_by(&any),
                    ),
                    _ => (false, false),
                },
                None => (
                    subject.matches(&rule.subjects) && request.matches(&rule.objects),
                    subject.allowed_by(&rule.subjects) && request.allowed_by(&rule.objects),
                ),
            };
            if decides {
                return allowed;
            }
        }
        self.permissive
    }
}

/// Splits a role rule's `"a/%"` values into rules of their own, each first, then one rule
/// with the plain roles (as Mesos's `createHierarchicalRoleACLs`: the split rules are
/// consecutive, so any order among them decides alike).
fn split_recursive(rule: Rule, into: &mut Vec<Rule>) {
    let Entity::Some(values) = &rule.objects else {
        into.push(rule);
        return;
    };
    let (recursive, plain): (Vec<&String>, Vec<&String>) =
        values.iter().partition(|v| v.ends_with("/%"));
    if recursive.is_empty() {
        into.push(rule);
        return;
    }
    for value in recursive {
        into.push(Rule {
            subjects: rule.subjects.clone(),
            objects: Entity::Some(vec![value.clone()]),
        });
    }
    if !plain.is_empty() {
        into.push(Rule {
            subjects: rule.subjects.clone(),
            objects: Entity::Some(plain.into_iter().cloned().collect()),
        });
    }
}

fn parse_rule(item: &Value, object_field: &str) -> Result<Rule, String> {
    let Value::Object(map) = item else {
        return Err(format!(
            "expected an object with \"principals\" and \"{object_field}\", found {item}"
        ));
    };
    for key in map.keys() {
        if key != "principals" && key != object_field {
            return Err(format!(
                "unknown field \"{key}\" (this action's rules have \"principals\" and \"{object_field}\")"
            ));
        }
    }
    let field = |name: &str| -> Result<Entity, String> {
        let value = map.get(name).ok_or_else(|| format!("missing \"{name}\""))?;
        Entity::parse(value).map_err(|why| format!("\"{name}\": {why}"))
    };
    Ok(Rule {
        subjects: field("principals")?,
        objects: field(object_field)?,
    })
}

#[cfg(test)]
mod tests;
