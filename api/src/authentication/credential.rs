//! [`Credential`]: the one principal and secret an agent (`--credential`) or a scheduler
//! driver authenticates with. The file is Mesos's: JSON `{"principal":"..","secret":".."}`
//! or text `principal secret` on one line.
//!
//! Invariants: the principal is non-empty and has no whitespace (the text form and the
//! CRAM-MD5 response could not carry it); the secret is non-empty; `Debug` never shows the
//! secret.

use serde::Deserialize;
use thiserror::Error;

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialError {
    /// JSON that is not `{"principal":..,"secret":..}`.
    #[error("not a JSON object of the form {{\"principal\":\"..\",\"secret\":\"..\"}}: {0}")]
    Json(String),
    /// Text that is not one `principal secret` line.
    #[error("expected one line 'principal secret' (two words), found {0} words")]
    Text(usize),
    /// The principal is empty or holds whitespace.
    #[error("the principal {0:?} is empty or contains whitespace")]
    Principal(String),
    /// The secret is empty.
    #[error("the secret is empty")]
    EmptySecret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Json {
    principal: String,
    secret: String,
}

/// One principal and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    principal: String,
    secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Credential {
    /// A credential from its parts (unchecked: for tests and callers that validated them).
    pub fn new(principal: &str, secret: &str) -> Credential {
        Credential {
            principal: principal.to_string(),
            secret: secret.to_string(),
        }
    }

    /// The `Authorization` header value of HTTP Basic authentication as this principal
    /// (what a master with `--authenticate-http-frameworks` asks of HTTP schedulers).
    ///
    /// ```
    /// use meso_api::authentication::Credential;
    /// assert_eq!(Credential::new("ops", "pw").basic_authorization(), "Basic b3BzOnB3");
    /// ```
    pub fn basic_authorization(&self) -> String {
        use base64::Engine;
        let pair = format!("{}:{}", self.principal, self.secret);
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        format!("Basic {encoded}")
    }

    /// Parses a credential file's text (JSON or `principal secret`).
    pub fn parse(text: &str) -> Result<Credential, CredentialError> {
        let (principal, secret) = if text.trim_start().starts_with('{') {
            let j: Json =
                serde_json::from_str(text).map_err(|e| CredentialError::Json(e.to_string()))?;
            (j.principal, j.secret)
        } else {
            let words: Vec<&str> = text.split_whitespace().collect();
            match words.as_slice() {
                [p, s] => (p.to_string(), s.to_string()),
                _ => return Err(CredentialError::Text(words.len())),
            }
        };
        Credential::checked(principal, secret)
    }

    /// A credential from a principal and the text of a secret file (one trailing newline
    /// dropped, as the CLI reads `--secret-file`).
    pub fn from_secret_text(
        principal: &str,
        secret_text: &str,
    ) -> Result<Credential, CredentialError> {
        let secret = secret_text
            .strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .unwrap_or(secret_text);
        Credential::checked(principal.to_string(), secret.to_string())
    }

    fn checked(principal: String, secret: String) -> Result<Credential, CredentialError> {
        if principal.is_empty() || principal.chars().any(char::is_whitespace) {
            return Err(CredentialError::Principal(principal));
        }
        if secret.is_empty() {
            return Err(CredentialError::EmptySecret);
        }
        Ok(Credential { principal, secret })
    }

    /// The principal.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    pub(crate) fn secret(&self) -> &[u8] {
        self.secret.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_forms_are_read() {
        let c = Credential::parse(r#"{"principal":"agent","secret":"s3cret"}"#).unwrap();
        assert_eq!(c.principal(), "agent");
        assert_eq!(c.secret(), b"s3cret");
        let c = Credential::parse("agent   s3cret\n").unwrap();
        assert_eq!(c, Credential::new("agent", "s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = Credential::from_secret_text("fw", "pw\n").unwrap();
        assert_eq!(c.secret(), b"pw");
    }

    #[test]
    fn bad_credentials_are_refused_by_name() {
        assert_eq!(
            Credential::parse("agent").unwrap_err(),
            CredentialError::Text(1)
        );
        assert_eq!(
            Credential::parse("a b c").unwrap_err(),
            CredentialError::Text(3)
        );
        assert!(matches!(
            Credential::parse(r#"{"principal":"a"}"#).unwrap_err(),
            CredentialError::Json(_)
        ));
        assert_eq!(
            Credential::parse(r#"{"principal":"a b","secret":"x"}"#).unwrap_err(),
            CredentialError::Principal("a b".to_string())
        );
        assert_eq!(
            Credential::parse(r#"{"principal":"a","secret":""}"#).unwrap_err(),
            CredentialError::EmptySecret
        );
        assert_eq!(
            Credential::from_secret_text("a", "\n").unwrap_err(),
            CredentialError::EmptySecret
        );
    }
}
