//! Reading a framework's JSON file (a job, an app) with errors that name the field by its
//! path from the root, `job.stages[0].tasks must be an integer from 1 to 1000000`, so a
//! user finds the mistake without reading the framework's code. A [`Spec`] is one value
//! and its path; each accessor checks one type and range and says what was expected.

use std::ops::RangeInclusive;

use serde_json::Value;

/// A value of a JSON file and its path (see the module docs).
///
/// ```
/// use meso_frameworks::spec::Spec;
///
/// let v = serde_json::json!({"name": "wc", "stages": [{"tasks": 0}]});
/// let job = Spec::new(&v, "job");
/// assert_eq!(job.text("name").unwrap(), "wc");
/// let stages = job.list("stages").unwrap();
/// let e = stages[0].opt("tasks", |t| t.as_count(1..=10)).unwrap_err();
/// assert_eq!(e, "job.stages[0].tasks must be an integer from 1 to 10");
/// assert_eq!(stages[0].text("command").unwrap_err(), "job.stages[0].command is missing");
/// ```
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> Spec<'a> {
    /// The value `value`, named `path` in errors.
    pub fn new(value: &'a Value, path: &str) -> Spec<'a> {
        let path = path.to_string();
        Spec { value, path }
    }

    /// The JSON value.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// `<path> <what>`: an error about this value.
    pub fn error(&self, what: &str) -> String {
        format!("{} {what}", self.path)
    }

    /// `<path>.<name> <what>`: an error about the field `name`.
    pub fn error_at(&self, name: &str, what: &str) -> String {
        format!("{}.{name} {what}", self.path)
    }

    /// The field `name`, if present.
    pub fn field(&self, name: &str) -> Option<Spec<'a>> {
        let value = self.value.get(name)?;
        let path = format!("{}.{name}", self.path);
        Some(Spec { value, path })
    }

    /// The field `name`, which must be present.
    pub fn required(&self, name: &str) -> Result<Spec<'a>, String> {
        let missing = || self.error_at(name, "is missing");
        self.field(name).ok_or_else(missing)
    }

    /// The field `name` read by `read`, or `None` when absent.
    pub fn opt<T>(
        &self,
        name: &str,
        read: impl FnOnce(&Spec<'a>) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        self.field(name).as_ref().map(read).transpose()
    }

    /// The field `name`, a non-empty string that must be present.
    pub fn text(&self, name: &str) -> Result<String, String> {
        self.required(name)?.as_text()
    }

    /// The field `name`'s elements (none when absent).
    pub fn list(&self, name: &str) -> Result<Vec<Spec<'a>>, String> {
        Ok(self.opt(name, Spec::as_list)?.unwrap_or_default())
    }

    /// This value as a non-empty string.
    pub fn as_text(&self) -> Result<String, String> {
        match self.value.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => Err(self.error("must be a non-empty string")),
        }
    }

    /// This value as an integer in `range`.
    pub fn as_count(&self, range: RangeInclusive<u32>) -> Result<u32, String> {
        match self.value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(self.error(&format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            ))),
        }
    }

    /// This value as true or false.
    pub fn as_flag(&self) -> Result<bool, String> {
        let not_a_flag = || self.error("must be true or false");
        self.value.as_bool().ok_or_else(not_a_flag)
    }

    /// This value's elements, each named `<path>[i]`.
    pub fn as_list(&self) -> Result<Vec<Spec<'a>>, String> {
        let list = self.value.as_array();
        let list = list.ok_or_else(|| self.error("must be a list"))?;
        let element = |(i, value)| Spec {
            value,
            path: format!("{}[{i}]", self.path),
        };
        Ok(list.iter().enumerate().map(element).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_error_names_the_path_and_what_was_expected() {
        let v = json!({"a": {"b": [true, "x", 7, ""]}, "n": -1, "s": 3});
        let root = Spec::new(&v, "r");
        let b = root.required("a").unwrap().list("b").unwrap();
        assert!(b[0].as_flag().unwrap());
        assert_eq!(
            b[1].as_flag().unwrap_err(),
            "r.a.b[1] must be true or false"
        );
        assert_eq!(b[2].as_count(0..=7), Ok(7));
        assert_eq!(
            b[3].as_text().unwrap_err(),
            "r.a.b[3] must be a non-empty string"
        );
        let e = root.opt("n", |n| n.as_count(0..=9)).unwrap_err();
        assert_eq!(e, "r.n must be an integer from 0 to 9");
        assert_eq!(
            root.text("s").unwrap_err(),
            "r.s must be a non-empty string"
        );
        assert_eq!(root.list("s").unwrap_err(), "r.s must be a list");
        assert!(root.list("none").unwrap().is_empty());
        assert_eq!(root.opt("none", Spec::as_flag), Ok(None));
        assert_eq!(root.error_at("x", "is odd"), "r.x is odd");
    }
}
