//! HS256 JSON Web Tokens (RFC 7519 in compact form): verifying a bearer token against the
//! node's key, and signing one (for clients, tests and, later, per-executor tokens).
//!
//! Verification order matters: the header must name `alg` `HS256` (anything else, `none`
//! included, is refused before the signature is looked at); the signature is checked in
//! constant time (`hmac`'s `verify_slice`, the remedy for Mesos's CVE-2018-8023) before the
//! payload is parsed; then the payload must be a non-empty JSON object, and an `exp` claim,
//! if present, must be a number of seconds after "now", which the caller passes in (from
//! the node's wall clock: this module reads no clock).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use std::collections::BTreeMap;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum JwtError {
    /// Not three base64url parts, or a part that does not decode to what it should.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header's `alg` is not `HS256`.
    #[error("unsupported algorithm {0:?}: only HS256 is accepted")]
    UnsupportedAlgorithm(String),
    /// The signature does not match the key.
    #[error("the signature does not match")]
    BadSignature,
    /// The payload has no claims.
    #[error("the token has no claims")]
    NoClaims,
    /// The `exp` claim is not a number.
    #[error("the 'exp' claim is not a number of seconds")]
    BadExpiry,
    /// The token expired.
    #[error("the token expired at {exp} (now {now})")]
    Expired {
        /// The `exp` claim, seconds since the epoch.
        exp: f64,
        /// The time of the check, seconds since the epoch.
        now: f64,
    },
}

/// The claims of a verified token, each value as text (strings without their quotes,
/// anything else as its JSON).
pub type Claims = BTreeMap<String, String>;

/// Verifies `token` with `key` at `now_unix_secs` and returns its claims.
pub fn verify(token: &str, key: &[u8], now_unix_secs: f64) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed(
            "expected three parts separated by '.'".into(),
        ));
    };
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header = decode_object(header, "header")?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "HS256" => {}
        Some(Value::String(alg)) => return Err(JwtError::UnsupportedAlgorithm(alg.clone())),
        Some(other) => return Err(JwtError::UnsupportedAlgorithm(other.to_string())),
        None => return Err(JwtError::Malformed("the header has no 'alg'".into())),
    }
    if let Some(typ) = header.get("typ") {
        if typ != "JWT" {
            return Err(JwtError::Malformed(format!(
                "the header's 'typ' is {typ}, not \"JWT\""
            )));
        }
    }
    let signature = decode(signature, "signature")?;
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| JwtError::BadSignature)?;
    let payload = decode_object(payload, "payload")?;
    if payload.is_empty() {
        return Err(JwtError::NoClaims);
    }
    if let Some(exp) = payload.get("exp") {
        let exp = exp.as_f64().ok_or(JwtError::BadExpiry)?;
        if now_unix_secs >= exp {
            return Err(JwtError::Expired {
                exp,
                now: now_unix_secs,
            });
        }
    }
    Ok(payload
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// Signs `claims` with `key` as an HS256 token.
pub fn sign(claims: &Map<String, Value>, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts a key of any length")
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, JwtError> {
    // Some encoders pad; the compact form does not, so padding is tolerated and dropped.
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| JwtError::Malformed(format!("the {what} is not base64url: {e}")))
}

fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = decode(part, what)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JwtError::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
        Err(e) => Err(JwtError::Malformed(format!("the {what} is not JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().expect("an object").clone()
    }

    #[test]
    fn a_signed_token_verifies_and_yields_its_claims() {
        let t = sign(&claims(json!({"sub":"ops","exp":2000,"n":1})), b"key");
        let c = verify(&t, b"key", 1999.5).unwrap();
        assert_eq!(c["sub"], "ops");
        assert_eq!(c["n"], "1");
        assert_eq!(c["exp"], "2000");
    }

    #[test]
    fn expiry_is_checked_against_the_given_now() {
        let t = sign(&claims(json!({"sub":"ops","exp":2000})), b"key");
        assert_eq!(
            verify(&t, b"key", 2000.0),
            Err(JwtError::Expired {
                exp: 2000.0,
                now: 2000.0
            })
        );
        let t = sign(&claims(json!({"sub":"ops","exp":"soon"})), b"key");
        assert_eq!(verify(&t, b"key", 0.0), Err(JwtError::BadExpiry));
    }

    #[test]
    fn forged_and_foreign_tokens_are_refused() {
        let t = sign(&claims(json!({"sub":"ops"})), b"key");
        assert_eq!(verify(&t, b"other", 0.0), Err(JwtError::BadSignature));
        // The payload swapped for another one keeps the old signature.
        let parts: Vec<&str> = t.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"root"}"#);
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(&forged, b"key", 0.0), Err(JwtError::BadSignature));
        // alg none, with or without a signature.
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none}.{}.", parts[1]);
        assert_eq!(
            verify(&unsigned, b"key", 0.0),
            Err(JwtError::UnsupportedAlgorithm("none".into()))
        );
        let rs = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        assert!(matches!(
            verify(&format!("{rs}.{}.{}", parts[1], parts[2]), b"key", 0.0),
            Err(JwtError::UnsupportedAlgorithm(a)) if a == "RS256"
        ));
        assert!(matches!(
            verify("a.b", b"key", 0.0),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            verify("a.b.c.d", b"key", 0.0),
            Err(JwtError::Malformed(_))
        ));
        let empty = sign(&Map::new(), b"key");
        assert_eq!(verify(&empty, b"key", 0.0), Err(JwtError::NoClaims));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_tokens_are_refused_not_panicked_on(token in "[A-Za-z0-9_.=-]{0,120}") {
            proptest::prop_assert!(verify(&token, b"key", 0.0).is_err());
        }

        #[test]
        fn a_changed_byte_never_yields_other_claims(sub in "[a-z]{1,12}", at in 0usize..200, to in proptest::char::range('!', '~')) {
            let t = sign(&claims(json!({"sub": sub})), b"key");
            let at = at % t.len();
            let mut bytes: Vec<char> = t.chars().collect();
            proptest::prop_assume!(bytes[at] != to);
            bytes[at] = to;
            let changed: String = bytes.into_iter().collect();
            // A changed byte may still decode to the same bits (base64's unused low bits
            // of the last character); then the claims are the originals, never others.
            if let Ok(c) = verify(&changed, b"key", 0.0) {
                proptest::prop_assert_eq!(c.get("sub"), Some(&sub));
            }
        }
    }
}
