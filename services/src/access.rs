//! Who may call `/v2`: the master's HTTP authentication (`--authenticate-http-readonly`,
//! `--authenticate-http-readwrite`, with `--credentials` or `--jwt-secret-file`) applied to
//! the services routes as to the operator API. Reads (`GET`, `HEAD`, the event stream
//! included) are in the read-only realm, every other method changes the cluster and is in
//! the read-write realm; `/ping` is always open, as the master's `/health`.
//!
//! Pure: the decision is `meso_api::http::auth`'s, this module only names the realm and
//! shapes the refusal as Marathon's JSON error body (`{"message": ...}`) with the challenge
//! headers.

use meso_api::http::auth::{HttpAuthenticator, Realm};
use meso_api::http::RequestHeaders;
use serde_json::{json, Value};

/// The realm of a `/v2` request with `method`.
pub fn realm(method: &str) -> Realm {
    match method {
        "GET" | "HEAD" => Realm::Readonly,
        _ => Realm::Readwrite,
    }
}

/// A refused request: 401, the reason as Marathon's error body, the challenge headers, and
/// whether credentials were presented (a failed attempt, counted) or absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The JSON body.
    pub body: Value,
    /// `WWW-Authenticate` challenges.
    pub headers: Vec<(String, String)>,
    /// Credentials were given and are wrong (not merely absent).
    pub attempted: bool,
}

/// `None` when a `/v2` request with `method` and `headers` may go on; why not otherwise.
pub fn check(
    auth: &HttpAuthenticator,
    method: &str,
    headers: &RequestHeaders,
    now_unix_secs: f64,
) -> Option<Refused> {
    let refusal = auth
        .authenticate(Some(realm(method)), headers, now_unix_secs)
        .err()?;
    Some(Refused {
        body: json!({"message": refusal.error.body}),
        headers: refusal.error.headers,
        attempted: refusal.attempted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::http::auth::{Credentials, NodeKind};

    fn guarded(realms: &[Realm]) -> HttpAuthenticator {
        let credentials =
            Credentials::parse(r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#)
                .expect("credentials");
        HttpAuthenticator::new(NodeKind::Master, realms, Some(credentials), None)
            .expect("an authenticator")
    }

    fn with(authorization: Option<&str>) -> RequestHeaders {
        let mut h = RequestHeaders::new();
        if let Some(v) = authorization {
            h.insert("Authorization", v);
        }
        h
    }

    #[test]
    fn reads_are_read_only_and_writes_read_write() {
        assert_eq!(realm("GET"), Realm::Readonly);
        assert_eq!(realm("HEAD"), Realm::Readonly);
        for m in ["POST", "PUT", "PATCH", "DELETE"] {
            assert_eq!(realm(m), Realm::Readwrite, "{m}");
        }
    }

    #[test]
    fn an_open_master_lets_everything_through() {
        let open = HttpAuthenticator::open();
        assert_eq!(check(&open, "DELETE", &with(None), 0.0), None);
    }

    #[test]
    fn a_guarded_realm_wants_credentials_and_names_why() {
        let auth = guarded(&[Realm::Readwrite]);
        assert_eq!(
            check(&auth, "GET", &with(None), 0.0),
            None,
            "reads stay open"
        );
        let refused = check(&auth, "POST", &with(None), 0.0).expect("refused");
        assert!(!refused.attempted);
        assert!(refused.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Authorization")));
        assert!(refused
            .headers
            .iter()
            .any(|(k, v)| k == "WWW-Authenticate" && v.starts_with("Basic realm=")));
        // "ops:wrong" and "ops:s3cret" in base64.
        let wrong = check(&auth, "POST", &with(Some("Basic b3BzOndyb25n")), 0.0).expect("refused");
        assert!(wrong.attempted);
        assert_eq!(
            check(&auth, "POST", &with(Some("Basic b3BzOnMzY3JldA==")), 0.0),
            None
        );
    }
}
