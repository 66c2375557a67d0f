//! Role names: validation and the hierarchy (`a/b` is a child of `a`).
//!
//! Rules as Mesos's `roles::validate`: `*` (the default role) is valid; any other role must
//! be non-empty, must not start or end with `/` nor contain `//`, and none of its
//! `/`-separated components may be `.`, `..` or `*`, start with `-`, or contain whitespace,
//! control characters, DEL or `\\`. Beyond Mesos, a role also refuses the characters the
//! `--resources` text form uses as syntax, `( ) [ ] { } : ; ,`, so that every resource a
//! role can be put on prints as text that parses back (Mesos accepts `a;b` as a role, then
//! cannot read its own `cpus(a;b):1` back). Pure functions, no allocation on the success
//! path.

use crate::error::{Error, Result};

/// The role every unreserved resource belongs to, and the default `--default_role`.
pub const DEFAULT_ROLE: &str = "*";

fn invalid(role: &str, reason: impl Into<String>) -> Error {
    Error::InvalidRole {
        role: role.to_string(),
        reason: reason.into(),
    }
}

/// Checks a role name; the error names the role and the rule it breaks.
pub fn validate_role(role: &str) -> Result<()> {
    if role == DEFAULT_ROLE {
        return Ok(());
    }
    if role.is_empty() {
        return Err(invalid(role, "a role name cannot be empty"));
    }
    if role.starts_with('/') {
        return Err(invalid(role, "a role cannot start with '/'"));
    }
    if role.ends_with('/') {
        return Err(invalid(role, "a role cannot end with '/'"));
    }
    if role.contains("//") {
        return Err(invalid(role, "a role cannot contain '//'"));
    }
    for component in role.split('/') {
        match component {
            "." | ".." | "*" => {
                return Err(invalid(
                    role,
                    format!("'{component}' cannot be a role name component"),
                ))
            }
            _ => {}
        }
        if component.starts_with('-') {
            return Err(invalid(
                role,
                format!("role component '{component}' starts with '-'"),
            ));
        }
        if let Some(bad) = component.chars().find(|c| !is_role_char(*c)) {
            return Err(invalid(
                role,
                format!("role component '{component}' contains invalid character {bad:?}"),
            ));
        }
    }
    Ok(())
}

/// Characters a role component may hold: not whitespace, control characters (DEL among
/// them), `\\`, nor the resources text form's syntax `( ) [ ] { } : ; ,`.
fn is_role_char(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\\' | '(' | ')' | '[' | ']' | '{' | '}' | ':' | ';' | ','
        ))
}

/// True when `child` is a strict descendant of `parent` in the role tree (`a/b/c` of `a`
/// and of `a/b`, but not of itself nor of `a/bc`'s sibling `a/b`). `*` has no children.
pub fn is_strict_subrole(child: &str, parent: &str) -> bool {
    parent != DEFAULT_ROLE
        && child.len() > parent.len() + 1
        && child.starts_with(parent)
        && child.as_bytes()[parent.len()] == b'/'
}

/// The ancestors of a role, nearest first: `a/b/c` gives `a/b`, then `a`.
pub fn ancestors(role: &str) -> impl Iterator<Item = &str> {
    let mut rest = role;
    std::iter::from_fn(move || {
        let cut = rest.rfind('/')?;
        rest = &rest[..cut];
        Some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_star_plain_and_hierarchical_roles() {
        for role in ["*", "ops", "a/b", "a/b/c", "dev-team", "a.b", "x_y"] {
            assert_eq!(validate_role(role), Ok(()), "{role}");
        }
    }

    #[test]
    fn refuses_each_broken_rule_naming_the_role() {
        for role in [
            "", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "a/*", "-a", "a/-b", "a b",
            "a\tb", "a\u{7f}", "a\\b", "};weig*", "a(b", "a)b", "a[b", "a]b", "a{b", "a}b", "a:b",
            "a;b", "a,b",
        ] {
            let err = validate_role(role).expect_err(role);
            assert!(
                matches!(&err, Error::InvalidRole { role: r, .. } if r == role),
                "{err}"
            );
        }
    }

    #[test]
    fn subroles_and_ancestors() {
        assert!(is_strict_subrole("a/b", "a"));
        assert!(is_strict_subrole("a/b/c", "a"));
        assert!(!is_strict_subrole("a", "a"));
        assert!(!is_strict_subrole("ab", "a"));
        assert!(!is_strict_subrole("a", "*"));
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), vec!["a/b", "a"]);
        assert_eq!(ancestors("a").count(), 0);
    }
}
