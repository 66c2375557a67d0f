//! HTTP Basic credentials (RFC 7617): decoding the `user:password` pair of an
//! `Authorization: Basic ...` header. Checking it is [`super::Credentials::verify`]'s job.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Decodes the part after `Basic ` into `(principal, secret)`, or says what is wrong with
/// it (never echoing the secret).
pub fn decode(encoded: &str) -> Result<(String, String), String> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("the Basic credentials are not base64: {e}"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| "the Basic credentials are not UTF-8".to_string())?;
    match text.split_once(':') {
        Some((principal, secret)) => Ok((principal.to_string(), secret.to_string())),
        None => Err("the Basic credentials have no ':' between principal and secret".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_and_the_secret_may_hold_colons() {
        let e = STANDARD.encode("ops:a:b");
        assert_eq!(decode(&e).unwrap(), ("ops".into(), "a:b".into()));
        assert!(decode("!!!").unwrap_err().contains("not base64"));
        assert!(decode(&STANDARD.encode("nocolon"))
            .unwrap_err()
            .contains("no ':'"));
        assert!(decode(&STANDARD.encode([0xff, b':']))
            .unwrap_err()
            .contains("UTF-8"));
    }
}
