//! Decoding a call body: JSON under [`Limits`], with Mesos's two error texts.
//!
//! Mesos answers "Failed to parse body into JSON: ..." when the bytes are not JSON and
//! "Failed to convert JSON into Call protobuf: ..." when they are JSON of the wrong shape
//! (a missing required field, an unknown name in a required enum); both are 400. A body
//! past the document size limit is 413; one nested too deeply, with a string too long or
//! too many elements is 400 naming the limit.

use serde::de::DeserializeOwned;

use super::error::HttpError;
use crate::json::{check_limits, Limits};
use crate::Error;

/// Decodes `body` as a `T` under `limits`, or the 400/413 answer saying why.
pub fn decode_call<T: DeserializeOwned>(body: &[u8], limits: &Limits) -> Result<T, HttpError> {
    if let Err(e) = check_limits(body, limits) {
        return Err(match e {
            Error::JsonTooLarge { length, limit } => HttpError::new(
                413,
                format!("Request body of {length} bytes exceeds the limit of {limit} bytes"),
            ),
            other => HttpError::bad_request(format!("Failed to parse body into JSON: {other}")),
        });
    }
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                HttpError::bad_request(format!("Failed to convert JSON into Call protobuf: {e}"))
            }
            Category::Io | Category::Syntax | Category::Eof => {
                HttpError::bad_request(format!("Failed to parse body into JSON: {e}"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::scheduler::Call;

    #[test]
    fn errors_distinguish_bad_json_from_bad_shape() {
        let limits = Limits::default();
        let e = decode_call::<Call>(b"{not json", &limits).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.body.starts_with("Failed to parse body into JSON"),
            "{}",
            e.body
        );
        let e = decode_call::<Call>(b"", &limits).unwrap_err();
        assert!(
            e.body.starts_with("Failed to parse body into JSON"),
            "{}",
            e.body
        );
        let e = decode_call::<Call>(br#"{"type":"NOPE"}"#, &limits).unwrap_err();
        assert!(
            e.body
                .starts_with("Failed to convert JSON into Call protobuf"),
            "{}",
            e.body
        );
        assert!(e.body.contains("NOPE"), "{}", e.body);
    }

    #[test]
    fn limits_give_413_for_size_and_400_for_depth() {
        let limits = Limits {
            max_depth: 4,
            max_document_bytes: 64,
            ..Limits::default()
        };
        let big = format!(r#"{{"type":"TEARDOWN","x":"{}"}}"#, "a".repeat(100));
        assert_eq!(
            decode_call::<Call>(big.as_bytes(), &limits)
                .unwrap_err()
                .status,
            413
        );
        let deep = b"{\"a\":[[[[[1]]]]]}";
        let e = decode_call::<Call>(deep, &limits).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.body.contains("deep") || e.body.contains("depth"),
            "{}",
            e.body
        );
    }
}
