//! Id validation (task, executor, agent, framework, offer ... ids).
//!
//! Rules as Mesos's `common::validation::validateID`: ids become directory names on agents,
//! so an id must be non-empty, at most [`MAX_ID_LENGTH`] bytes, not `.` or `..`, and contain
//! no `/`, no `\` and no control characters.

use crate::error::{Error, Result};

/// The longest id accepted, in bytes (`NAME_MAX` on Linux).
pub const MAX_ID_LENGTH: usize = 255;

/// Checks one id; `kind` (e.g. `"task id"`) goes into the error with the id and the rule.
pub fn validate_id(kind: &'static str, id: &str) -> Result<()> {
    let fail = |reason: String| Error::InvalidId {
        kind,
        id: id.to_string(),
        reason,
    };
    if id.is_empty() {
        return Err(fail("an id cannot be empty".into()));
    }
    if id.len() > MAX_ID_LENGTH {
        return Err(fail(format!(
            "an id is at most {MAX_ID_LENGTH} bytes, this one has {}",
            id.len()
        )));
    }
    if id == "." || id == ".." {
        return Err(fail("an id cannot be '.' or '..'".into()));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| *c == '/' || *c == '\\' || c.is_control())
    {
        return Err(fail(format!("an id cannot contain {bad:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mesos_generated_ids() {
        for id in [
            "b5eac2c5-609b-4ca1-a352-61941702fc9e-0000",
            "b5eac2c5-609b-4ca1-a352-61941702fc9e-S0",
            "task.1",
            "x",
            &"a".repeat(MAX_ID_LENGTH),
        ] {
            assert_eq!(validate_id("task id", id), Ok(()), "{id}");
        }
    }

    #[test]
    fn refuses_bad_ids_naming_them() {
        let long = "a".repeat(MAX_ID_LENGTH + 1);
        for id in ["", ".", "..", "a/b", "a\\b", "a\nb", "a\u{0}b", &long] {
            let err = validate_id("task id", id).expect_err(id);
            assert!(
                matches!(&err, Error::InvalidId { id: got, kind: "task id", .. } if got == id),
                "{err}"
            );
        }
    }
}
