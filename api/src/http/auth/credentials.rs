//! [`Credentials`]: the principals and secrets HTTP Basic authentication and the master's
//! CRAM-MD5 authenticator (`crate::authentication`) accept, read from the text of Mesos's
//! credentials file: JSON `{"credentials":[{"principal":..,"secret":..}]}`, or Mesos's text
//! form, one `principal secret` per line.
//!
//! Parsing is pure (the shell reads the file and names it in the error). Invariants: every
//! principal is non-empty, contains no `:` (HTTP Basic could not carry it) and appears
//! once; the list is not empty (a file that lets nobody in is a mistake, not a policy).
//! Checking a secret compares against every credential in constant time, so neither the
//! secret nor which principals exist leaks through timing beyond their lengths.

use serde::Deserialize;
use subtle::ConstantTimeEq;
use thiserror::Error;

/// Why a credentials file was refused; each variant names the entry at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialsError {
    /// Not JSON of the expected shape.
    #[error("not a JSON object of the form {{\"credentials\":[{{\"principal\":\"..\",\"secret\":\"..\"}}]}}: {0}")]
    Json(String),
    /// A line of the text form is not `principal secret`.
    #[error("line {line}: expected 'principal secret' (two words), found {words} words")]
    Text {
        /// Line number, from 1.
        line: usize,
        /// Words found on it.
        words: usize,
    },
    /// The list is empty.
    #[error("the \"credentials\" list is empty, so nobody could authenticate")]
    Empty,
    /// An entry has an empty principal.
    #[error("credential {index}: the principal is empty")]
    EmptyPrincipal {
        /// Position in the list, from 0.
        index: usize,
    },
    /// A principal contains `:`, which HTTP Basic uses as the separator.
    #[error("credential {index}: the principal {principal:?} contains ':', which HTTP Basic cannot carry")]
    ColonInPrincipal {
        /// Position in the list, from 0.
        index: usize,
        /// The principal.
        principal: String,
    },
    /// Two entries share a principal.
    #[error("credential {index}: the principal {principal:?} is listed twice")]
    Duplicate {
        /// Position of the second occurrence, from 0.
        index: usize,
        /// The principal.
        principal: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    credentials: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    principal: String,
    secret: String,
}

/// The accepted `(principal, secret)` pairs.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    entries: Vec<(String, String)>,
}

impl std::fmt::Debug for Credentials {
    // Secrets never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let principals: Vec<&str> = self.entries.iter().map(|(p, _)| p.as_str()).collect();
        f.debug_struct("Credentials")
            .field("principals", &principals)
            .finish()
    }
}

impl Credentials {
    /// Parses the text of a credentials file (JSON when it starts with `{`, else lines of
    /// `principal secret`; blank lines are skipped).
    pub fn parse(text: &str) -> Result<Credentials, CredentialsError> {
        if !text.trim_start().starts_with('{') {
            let mut pairs = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [] => {}
                    [p, s] => pairs.push((p.to_string(), s.to_string())),
                    _ => {
                        return Err(CredentialsError::Text {
                            line: n + 1,
                            words: words.len(),
                        })
                    }
                }
            }
            return Credentials::from_pairs(pairs);
        }
        let file: File =
            serde_json::from_str(text).map_err(|e| CredentialsError::Json(e.to_string()))?;
        Credentials::from_pairs(
            file.credentials
                .into_iter()
                .map(|e| (e.principal, e.secret)),
        )
    }

    /// Credentials from `(principal, secret)` pairs, validated as a file's would be.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Credentials, CredentialsError> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for (index, (principal, secret)) in pairs.into_iter().enumerate() {
            if principal.is_empty() {
                return Err(CredentialsError::EmptyPrincipal { index });
            }
            if principal.contains(':') {
                return Err(CredentialsError::ColonInPrincipal { index, principal });
            }
            if entries.iter().any(|(p, _)| *p == principal) {
                return Err(CredentialsError::Duplicate { index, principal });
            }
            entries.push((principal, secret));
        }
        if entries.is_empty() {
            return Err(CredentialsError::Empty);
        }
        Ok(Credentials { entries })
    }

    /// The principals, in file order.
    pub fn principals(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(p, _)| p.as_str())
    }

    /// The secret of `principal` (for the CRAM-MD5 authenticator, which needs it as the
    /// HMAC key).
    pub(crate) fn secret_of(&self, principal: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(p, _)| p == principal)
            .map(|(_, s)| s.as_bytes())
    }

    /// Whether `principal` with `secret` is one of the credentials. Every entry is
    /// compared, each in constant time, whatever matched earlier.
    pub fn verify(&self, principal: &str, secret: &str) -> bool {
        let mut found = subtle::Choice::from(0);
        for (p, s) in &self.entries {
            found |=
                p.as_bytes().ct_eq(principal.as_bytes()) & s.as_bytes().ct_eq(secret.as_bytes());
        }
        found.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_credentials_file_is_read() {
        let c = Credentials::parse(
            r#"{"credentials":[{"principal":"ops","secret":"s3cret"},{"principal":"fw","secret":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(c.principals().collect::<Vec<_>>(), ["ops", "fw"]);
        assert!(c.verify("ops", "s3cret"));
        assert!(c.verify("fw", "x"));
        assert!(!c.verify("ops", "x"));
        assert!(!c.verify("fw", "s3cret"));
        assert!(!c.verify("nobody", "s3cret"));
        assert!(!c.verify("ops", "s3cre"));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn mesos_text_form_is_read() {
        let c = Credentials::parse("ops s3cret\n\nfw  x\n").unwrap();
        assert_eq!(c.principals().collect::<Vec<_>>(), ["ops", "fw"]);
        assert!(c.verify("fw", "x"));
        assert_eq!(c.secret_of("ops"), Some(&b"s3cret"[..]));
        assert_eq!(c.secret_of("nobody"), None);
        assert_eq!(
            Credentials::parse("ops s3cret extra")
                .unwrap_err()
                .to_string(),
            "line 1: expected 'principal secret' (two words), found 3 words"
        );
        assert_eq!(
            Credentials::parse("\n").unwrap_err(),
            CredentialsError::Empty
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_entry_named() {
        let e = Credentials::parse("{principal secret}").unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
        let e = Credentials::parse(r#"{"credentials":[{"principal":"a"}]}"#).unwrap_err();
        assert!(e.to_string().contains("secret"), "{e}");
        assert_eq!(
            Credentials::parse(r#"{"credentials":[]}"#).unwrap_err(),
            CredentialsError::Empty
        );
        let e = Credentials::parse(
            r#"{"credentials":[{"principal":"a","secret":"1"},{"principal":"a","secret":"2"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "credential 1: the principal \"a\" is listed twice"
        );
        let e = Credentials::parse(r#"{"credentials":[{"principal":"a:b","secret":"1"}]}"#)
            .unwrap_err();
        assert!(e.to_string().contains("contains ':'"), "{e}");
        let e =
            Credentials::parse(r#"{"credentials":[{"principal":"","secret":"1"}]}"#).unwrap_err();
        assert_eq!(e, CredentialsError::EmptyPrincipal { index: 0 });
    }
}
