//! The agent's `--resources` text grammar, as Mesos's `Resources::fromSimpleString`:
//!
//! ```text
//! resources := resource (";" resource)*
//! resource  := name [ "(" role ")" ] ":" value
//! value     := scalar | "[" b "-" e ("," b "-" e)* "]" | "{" item ("," item)* "}"
//! ```
//!
//! Empty tokens between `;` are skipped; each token must have exactly one `:`; names and
//! roles are trimmed; a role other than `*` becomes a STATIC reservation; all whitespace in
//! a value is ignored; text values (neither number, ranges nor set) are refused. Every
//! error names the offending token.

use super::{parse_value, ParsedValue, Resource, Resources};
use crate::error::{Error, Result};
use crate::roles::validate_role;

/// Parses the flag: a JSON array of Resource objects if the text starts with `[` (no
/// resource name of the text form can), otherwise the text grammar. Mesos tries JSON first
/// and falls back to text; deciding on the first character instead lets a truncated JSON
/// array be reported as the JSON error it is.
pub(super) fn parse_flag(text: &str, default_role: &str) -> Result<Resources> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return super::json::resources_from_json_array(trimmed, default_role);
    }
    Ok(parse_resource_list(text, default_role)?
        .into_iter()
        .collect())
}

/// Parses the text grammar into the list of resources as written (zero values kept, entries
/// not merged), which the agent needs to tell "`cpus:0` given" from "`cpus` not given".
pub fn parse_resource_list(text: &str, default_role: &str) -> Result<Vec<Resource>> {
    validate_role(default_role)?;
    let mut out = Vec::new();
    for token in text.split(';') {
        if token.trim().is_empty() {
            continue;
        }
        out.push(parse_one(token, default_role)?);
    }
    Ok(out)
}

fn parse_one(token: &str, default_role: &str) -> Result<Resource> {
    let fail = |reason: String| Error::BadResource {
        token: token.trim().to_string(),
        reason,
    };
    let mut parts = token.split(':');
    let (head, value) = match (parts.next(), parts.next(), parts.next()) {
        (Some(head), Some(value), None) => (head, value),
        _ => {
            return Err(fail(
                "expected exactly one ':' as in 'name(role):value'".into(),
            ))
        }
    };
    let (name, role) = match head.find('(') {
        None => {
            if head.contains(')') {
                return Err(fail("mismatched parentheses".into()));
            }
            (head.trim(), default_role)
        }
        Some(open) => {
            let close = head
                .find(')')
                .filter(|close| *close > open)
                .ok_or_else(|| fail("mismatched parentheses".into()))?;
            if !head[close + 1..].trim().is_empty() || head[open + 1..close].contains('(') {
                return Err(fail("unexpected text around '(role)'".into()));
            }
            (head[..open].trim(), head[open + 1..close].trim())
        }
    };
    if name.is_empty() {
        return Err(fail("missing resource name".into()));
    }
    validate_role(role)?;
    let value = match parse_value(value)? {
        ParsedValue::Value(v) => v,
        ParsedValue::Text(t) => {
            return Err(fail(format!(
                "value '{t}' is neither a number, '[ranges]' nor '{{set}}' (TEXT is not a resource type)"
            )))
        }
    };
    let resource = Resource::new(name, value).with_static_role(role);
    resource.validate()?;
    Ok(resource)
}
