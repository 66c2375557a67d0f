//! [`RequestHeaders`]: the request headers the front doors look at, as plain data.
//!
//! meso-api depends on no HTTP crate, so the shells copy headers in with
//! [`RequestHeaders::from_pairs`] (e.g. from an `http::HeaderMap`). Names compare
//! case-insensitively; values are raw bytes (a header value need not be UTF-8); a name
//! given several times keeps every value in order.

/// Request headers: case-insensitive names, raw byte values, repeated names kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    /// `(lower-case name, value)` in arrival order.
    entries: Vec<(String, Vec<u8>)>,
}

impl RequestHeaders {
    /// No headers.
    pub fn new() -> Self {
        RequestHeaders::default()
    }

    /// Headers from `(name, value)` pairs.
    pub fn from_pairs<I, N, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let mut headers = RequestHeaders::new();
        for (name, value) in pairs {
            headers.insert(name.as_ref(), value.as_ref());
        }
        headers
    }

    /// Adds one value (after any earlier values of the same name).
    pub fn insert(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.entries
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
    }

    /// Builder form of [`RequestHeaders::insert`].
    pub fn with(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.insert(name, value);
        self
    }

    /// The first value of `name`, as bytes.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// True if `name` is present (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The first value of `name` as text; bytes that are not UTF-8 are replaced so that an
    /// error message can still show the value.
    pub fn get_text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_repeats_are_kept() {
        let h = RequestHeaders::from_pairs([("Accept", "a/b"), ("ACCEPT", "c/d"), ("X", "")]);
        assert_eq!(h.get("accept"), Some(&b"a/b"[..]));
        assert_eq!(h.get_all("Accept").count(), 2);
        assert!(h.contains("x"));
        assert!(!h.contains("y"));
    }
}
