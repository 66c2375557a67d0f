//! CRAM-MD5 (RFC 2195): the response to a challenge is the principal, a space, and the
//! lowercase hex HMAC-MD5 of the challenge keyed with the secret. HMAC-MD5 is kept (not a
//! SHA-2 HMAC) because it is what Mesos's SASL clients speak; HMAC's security does not rest
//! on MD5's collision resistance, and a fresh challenge per exchange stops replays.
//!
//! Invariants: the digest is compared in constant time; a response is at most
//! [`MAX_RESPONSE`] bytes and must be UTF-8 with a non-empty principal.

use hmac::{Hmac, Mac};
use md5::Md5;
use subtle::ConstantTimeEq;

/// The longest response accepted (principal, space, 32 hex digits).
pub const MAX_RESPONSE: usize = 1024;

/// Length of the hex digest.
const DIGEST_HEX: usize = 32;

/// The lowercase hex HMAC-MD5 of `challenge` keyed with `secret`.
pub fn digest(secret: &[u8], challenge: &[u8]) -> String {
    let mut mac =
        <Hmac<Md5> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(challenge);
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(DIGEST_HEX);
    for b in bytes {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// The client's response: `principal SP digest`.
pub fn response(principal: &str, secret: &[u8], challenge: &[u8]) -> Vec<u8> {
    format!("{principal} {}", digest(secret, challenge)).into_bytes()
}

/// A response split into its principal and digest, or what is wrong with it.
pub fn parse_response(bytes: &[u8]) -> Result<(&str, &str), String> {
    if bytes.len() > MAX_RESPONSE {
        return Err(format!(
            "the response is {} bytes, more than the {MAX_RESPONSE} allowed",
            bytes.len()
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "the response is not UTF-8".to_string())?;
    let (principal, digest) = text
        .rsplit_once(' ')
        .ok_or_else(|| "the response is not of the form 'principal digest'".to_string())?;
    if principal.is_empty() {
        return Err("the response names no principal".to_string());
    }
    if digest.len() != DIGEST_HEX || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the response's digest is not 32 hex digits".to_string());
    }
    Ok((principal, digest))
}

/// Whether `digest` (hex, any case) is the HMAC-MD5 of `challenge` under `secret`,
/// compared in constant time.
pub fn verify(secret: &[u8], challenge: &[u8], digest_hex: &str) -> bool {
    let expected = digest(secret, challenge);
    expected
        .as_bytes()
        .ct_eq(digest_hex.to_ascii_lowercase().as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2195_example() {
        // The example exchange of RFC 2195 section 2.
        let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
        assert_eq!(
            digest(b"tanstaaftanstaaf", challenge),
            "b913a602c7eda7a495b4e6e7334d3890"
        );
        assert_eq!(
            response("tim", b"tanstaaftanstaaf", challenge),
            b"tim b913a602c7eda7a495b4e6e7334d3890".to_vec()
        );
    }

    #[test]
    fn responses_are_parsed_and_bad_ones_named() {
        assert_eq!(
            parse_response(b"my agent 0123456789abcdef0123456789ABCDEF").unwrap(),
            ("my agent", "0123456789abcdef0123456789ABCDEF")
        );
        for (bad, why) in [
            (&b"nodigest"[..], "form"),
            (b" 0123456789abcdef0123456789abcdef", "no principal"),
            (b"p 0123", "32 hex"),
            (b"p 0123456789abcdef0123456789abcdeg", "32 hex"),
            (b"p \xff", "UTF-8"),
        ] {
            let e = parse_response(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        let huge = vec![b'a'; MAX_RESPONSE + 1];
        assert!(parse_response(&huge).unwrap_err().contains("more than"));
    }

    #[test]
    fn verify_accepts_only_the_right_secret_and_challenge() {
        let d = digest(b"pw", b"<a@m>");
        assert!(verify(b"pw", b"<a@m>", &d));
        assert!(verify(b"pw", b"<a@m>", &d.to_uppercase()));
        assert!(!verify(b"pX", b"<a@m>", &d));
        assert!(!verify(b"pw", b"<b@m>", &d));
        assert!(!verify(b"pw", b"<a@m>", "00"));
    }
}
