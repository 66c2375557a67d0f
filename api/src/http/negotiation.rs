//! Content negotiation of the v1 endpoints (HTTP reference §0.3).
//!
//! * Only `POST` (405 with `Allow: POST` otherwise).
//! * `Content-Type` must be present (400 "Expecting 'Content-Type' to be present") and be
//!   exactly `application/json` or `application/x-protobuf` (415 otherwise). meso serves
//!   JSON only, so a protobuf body is refused with 415 and a body saying so.
//! * `Accept` picks the response encoding: absent means anything (JSON); `*/*` and
//!   `application/*` ranges and `q` values are honoured (the most specific matching range
//!   decides, `q=0` refuses). If JSON is not acceptable the answer is 406 (also when only
//!   protobuf is acceptable, since meso does not write protobuf).

use super::error::HttpError;
use super::headers::RequestHeaders;

/// A media type a v1 endpoint reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `application/json`: the only encoding meso reads and writes.
    Json,
    /// `application/x-protobuf`: recognised, never served.
    Protobuf,
    /// `application/recordio`: the agent's streaming calls; recognised, never served.
    RecordIo,
}

impl MediaType {
    /// The header text.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Json => "application/json",
            MediaType::Protobuf => "application/x-protobuf",
            MediaType::RecordIo => "application/recordio",
        }
    }
}

impl std::fmt::Display for MediaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 405 unless `method` is `POST` (methods are case-sensitive, as in HTTP).
pub fn require_post(method: &str) -> Result<(), HttpError> {
    if method == "POST" {
        Ok(())
    } else {
        Err(HttpError::post_only(method))
    }
}

/// Checks the request's `Content-Type`: present (400), exactly one of the types Mesos
/// reads (415 otherwise), and JSON (415 for protobuf or RecordIO, which meso does not
/// serve). `recordio_known` says whether `application/recordio` is a type the endpoint
/// knows (the agent's operator API does), which only changes the message.
pub fn require_json_body(headers: &RequestHeaders, recordio_known: bool) -> Result<(), HttpError> {
    let Some(value) = headers.get("Content-Type") else {
        return Err(HttpError::bad_request(
            "Expecting 'Content-Type' to be present",
        ));
    };
    let text = String::from_utf8_lossy(value);
    match text.as_ref() {
        "application/json" => Ok(()),
        "application/x-protobuf" => Err(HttpError::new(
            415,
            "Expecting 'Content-Type' of application/json: this server does not serve \
             application/x-protobuf",
        )),
        "application/recordio" if recordio_known => Err(HttpError::new(
            415,
            "Expecting 'Content-Type' of application/json: streaming calls \
             (application/recordio) are not served",
        )),
        other => Err(HttpError::new(
            415,
            format!(
                "Expecting 'Content-Type' of application/json or application/x-protobuf, \
                 got '{other}'"
            ),
        )),
    }
}

/// The response encoding: JSON if `Accept` allows it, else 406 (naming what was sent).
pub fn negotiate_response(headers: &RequestHeaders) -> Result<MediaType, HttpError> {
    if accepts(headers, MediaType::Json) {
        return Ok(MediaType::Json);
    }
    let sent = headers
        .get_all("Accept")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let why = if accepts(headers, MediaType::Protobuf) {
        "this server writes application/json only"
    } else {
        "neither is acceptable"
    };
    Err(HttpError::new(
        406,
        format!(
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json' \
             ({why}); got '{sent}'"
        ),
    ))
}

/// True if the `Accept` header(s) allow `media`. No `Accept` header allows everything.
/// Among the ranges that match `media` the most specific one (`type/sub` over `type/*`
/// over `*/*`) decides, and it allows `media` when its `q` is above 0; a range whose `q`
/// does not parse counts as `q=1` (lenient, as browsers' headers sometimes are).
pub fn accepts(headers: &RequestHeaders, media: MediaType) -> bool {
    let values: Vec<&[u8]> = headers.get_all("Accept").collect();
    if values.is_empty() {
        return true;
    }
    let (want_type, want_sub) = media
        .as_str()
        .split_once('/')
        .expect("every MediaType constant has a '/'");
    // (specificity, q) of the best match so far.
    let mut best: Option<(u8, f64)> = None;
    for value in values {
        let text = String::from_utf8_lossy(value);
        for range in text.split(',') {
            let mut parts = range.split(';');
            let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let Some((kind, sub)) = mime.split_once('/') else {
                continue;
            };
            let specificity = match (kind, sub) {
                (k, s) if k == want_type && s == want_sub => 2,
                (k, "*") if k == want_type => 1,
                ("*", "*") => 0,
                _ => continue,
            };
            let q = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map(|(_, v)| v.trim().parse::<f64>().unwrap_or(1.0))
                .unwrap_or(1.0);
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
    }
    best.is_some_and(|(_, q)| q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> RequestHeaders {
        RequestHeaders::new().with("Accept", value)
    }

    #[test]
    fn accept_rules() {
        let json = MediaType::Json;
        assert!(accepts(&RequestHeaders::new(), json));
        assert!(accepts(&accept("application/json"), json));
        assert!(accepts(&accept("*/*"), json));
        assert!(accepts(&accept("application/*"), json));
        assert!(accepts(&accept("text/html, application/json;q=0.5"), json));
        assert!(accepts(&accept("APPLICATION/JSON"), json));
        assert!(!accepts(&accept("application/x-protobuf"), json));
        assert!(!accepts(&accept("text/*"), json));
        assert!(!accepts(&accept("application/json;q=0"), json));
        assert!(!accepts(&accept("*/*, application/json;q=0"), json));
        assert!(accepts(
            &accept("application/*;q=0, application/json"),
            json
        ));
        assert!(!accepts(&accept(""), json));
        assert!(!accepts(&accept("garbage"), json));
    }

    #[test]
    fn content_type_rules() {
        let with = |v: &str| RequestHeaders::new().with("Content-Type", v);
        let missing = require_json_body(&RequestHeaders::new(), false).unwrap_err();
        assert_eq!(
            (missing.status, missing.body.as_str()),
            (400, "Expecting 'Content-Type' to be present")
        );
        assert!(require_json_body(&with("application/json"), false).is_ok());
        for bad in [
            "application/x-protobuf",
            "text/plain",
            "application/json; charset=utf-8",
            "",
        ] {
            let e = require_json_body(&with(bad), false).unwrap_err();
            assert_eq!(e.status, 415, "{bad}");
            assert!(!e.body.is_empty());
        }
        let e = require_json_body(&with("application/recordio"), true).unwrap_err();
        assert!(e.body.contains("streaming"), "{}", e.body);
    }

    #[test]
    fn not_acceptable_names_the_header() {
        let e = negotiate_response(&accept("application/x-protobuf")).unwrap_err();
        assert_eq!(e.status, 406);
        assert!(e.body.contains("application/json only"), "{}", e.body);
        let e = negotiate_response(&accept("text/html")).unwrap_err();
        assert!(e.body.contains("'text/html'"), "{}", e.body);
        assert_eq!(negotiate_response(&accept("*/*")), Ok(MediaType::Json));
    }
}
