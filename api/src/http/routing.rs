//! Paths and query strings, with libprocess's routing rules (HTTP reference §0.1).
//!
//! * [`strip_trailing_slash`]: `/master/frameworks/` is `/master/frameworks`.
//! * [`delegate`]: `/<process>/<route>` goes to a known process; any other path goes to
//!   the delegate (`master` or `slave(1)`) with the whole path as its route, so `/state` is
//!   `/master/state`.
//! * [`longest_prefix`]: a route with no handler falls back to its longest registered
//!   prefix, component by component (`/api/v1/operator` reaches `/api/v1`).
//! * [`parse_query`]: `a=b&c=d` with percent-decoding and `+` as space; a bad escape or
//!   text that is not UTF-8 is a 400 naming it.
//! * [`jsonp`]: `?jsonp=<callback>` wraps a JSON body as `callback(<json>);` served as
//!   `text/javascript`; the callback must be a dotted JavaScript identifier (Mesos took it
//!   verbatim, which let a page inject script); [`json_or_jsonp`] picks by the query.
//! * [`master_redirect`]: `/master/redirect` (307 to `//leader:port`, 503, 404 below it).

use super::error::HttpError;

/// Removes trailing `/`s, keeping a bare `/`. An empty path is `/`.
pub fn strip_trailing_slash(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/"
    } else {
        trimmed
    }
}

/// Splits `path` into the process that serves it and the route inside that process.
/// `processes` are the live process ids (`master`, `metrics`, `files`, ...). The first
/// component is percent-decoded before the lookup (`slave%281%29` is `slave(1)`).
pub fn delegate(path: &str, processes: &[&str], delegate: &str) -> (String, String) {
    let path = strip_trailing_slash(path);
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let first = percent_decode(first).unwrap_or_default();
    if !first.is_empty() && processes.contains(&first.as_str()) {
        (first, format!("/{rest}"))
    } else {
        (delegate.to_string(), path.to_string())
    }
}

/// The longest registered route that is `route` or a prefix of it made of whole path
/// components; `None` if even the first component has no handler.
pub fn longest_prefix<'r>(route: &str, routes: &[&'r str]) -> Option<&'r str> {
    let mut candidate = strip_trailing_slash(route);
    loop {
        if let Some(found) = routes.iter().find(|r| strip_trailing_slash(r) == candidate) {
            return Some(found);
        }
        match candidate.rfind('/') {
            Some(0) | None => return None,
            Some(cut) => candidate = &candidate[..cut],
        }
    }
}

/// Decodes `%XX` escapes and `+`; `None` on a bad escape or bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a query string (without `?`) into decoded `(key, value)` pairs in order; a key
/// without `=` has an empty value; empty segments (`a=1&&b=2`) are skipped.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, HttpError> {
    let mut pairs = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        let decode = |t: &str| {
            percent_decode(t).ok_or_else(|| {
                HttpError::bad_request(format!(
                    "Unable to decode query string: bad escape or non-UTF-8 text in '{segment}'"
                ))
            })
        };
        pairs.push((decode(key)?, decode(value)?));
    }
    Ok(pairs)
}

/// The first value of `key` in parsed query pairs.
pub fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Most characters a JSONP callback may have.
pub const MAX_JSONP_CALLBACK_CHARS: usize = 128;

/// Checks a JSONP callback: dotted JavaScript identifiers (`[A-Za-z_$][A-Za-z0-9_$]*`
/// separated by `.`), at most [`MAX_JSONP_CALLBACK_CHARS`]; otherwise 400 naming it.
pub fn validate_jsonp_callback(callback: &str) -> Result<(), HttpError> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    if callback.len() <= MAX_JSONP_CALLBACK_CHARS && callback.split('.').all(identifier) {
        Ok(())
    } else {
        Err(HttpError::bad_request(format!(
            "Invalid 'jsonp' callback '{callback}': expecting a JavaScript identifier \
             (letters, digits, '_', '$', dots; at most {MAX_JSONP_CALLBACK_CHARS} characters)"
        )))
    }
}

/// A JSON body wrapped for JSONP: `(content type, body)`.
pub fn jsonp(callback: &str, json: &str) -> Result<(&'static str, String), HttpError> {
    validate_jsonp_callback(callback)?;
    Ok(("text/javascript", format!("{callback}({json});")))
}

/// The body of a read-only JSON endpoint as `(content type, body)`: JSON as is, or wrapped
/// for JSONP when the query has `jsonp=<callback>` (400 for a bad callback or query).
pub fn json_or_jsonp(
    query: Option<&str>,
    json: String,
) -> Result<(&'static str, String), HttpError> {
    let pairs = parse_query(query.unwrap_or(""))?;
    match query_value(&pairs, "jsonp") {
        Some(callback) => jsonp(callback, &json),
        None => Ok(("application/json", json)),
    }
}

/// `/master/redirect`: always 307 to `//<leader host>:<port>` (even on the leader itself),
/// 503 "No leader elected" without a leader; `/master/redirect/<anything>` is 404. `route`
/// is the master route with its trailing slash stripped (`/redirect`, `/redirect/x`).
pub fn master_redirect(leader: Option<(&str, u16)>, route: &str) -> HttpError {
    if strip_trailing_slash(route) != "/redirect" {
        return HttpError::new(404, format!("No handler for '{route}'"));
    }
    match leader {
        Some((host, port)) => HttpError::new(307, format!("The leading master is {host}:{port}"))
            .with_header("Location", format!("//{host}:{port}")),
        None => HttpError::unavailable("No leader elected"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes() {
        assert_eq!(
            strip_trailing_slash("/master/frameworks/"),
            "/master/frameworks"
        );
        assert_eq!(strip_trailing_slash("/state//"), "/state");
        assert_eq!(strip_trailing_slash("/"), "/");
        assert_eq!(strip_trailing_slash(""), "/");
    }

    #[test]
    fn delegation() {
        let procs = ["master", "metrics", "files", "version", "slave(1)"];
        let d = |p| delegate(p, &procs, "master");
        assert_eq!(d("/master/state"), ("master".into(), "/state".into()));
        assert_eq!(d("/state"), ("master".into(), "/state".into()));
        assert_eq!(
            d("/api/v1/scheduler"),
            ("master".into(), "/api/v1/scheduler".into())
        );
        assert_eq!(
            d("/master/api/v1/scheduler/"),
            ("master".into(), "/api/v1/scheduler".into())
        );
        assert_eq!(d("/files/browse"), ("files".into(), "/browse".into()));
        assert_eq!(d("/"), ("master".into(), "/".into()));
        assert_eq!(d(""), ("master".into(), "/".into()));
        assert_eq!(
            d("/slave%281%29/state"),
            ("slave(1)".into(), "/state".into())
        );
        assert_eq!(d("/%zz/state"), ("master".into(), "/%zz/state".into()));
    }

    #[test]
    fn longest_prefix_matching() {
        let routes = ["/api/v1", "/api/v1/scheduler", "/state", "/tasks"];
        assert_eq!(longest_prefix("/api/v1/operator", &routes), Some("/api/v1"));
        assert_eq!(
            longest_prefix("/api/v1/scheduler", &routes),
            Some("/api/v1/scheduler")
        );
        assert_eq!(
            longest_prefix("/api/v1/scheduler/x/y", &routes),
            Some("/api/v1/scheduler")
        );
        assert_eq!(longest_prefix("/api/v1/", &routes), Some("/api/v1"));
        assert_eq!(longest_prefix("/state/", &routes), Some("/state"));
        assert_eq!(longest_prefix("/api", &routes), None);
        assert_eq!(longest_prefix("/nothing/here", &routes), None);
        assert_eq!(longest_prefix("/", &routes), None);
    }

    #[test]
    fn queries() {
        let q = parse_query("limit=10&order=asc&task_id=a%2Fb+c&&flag").unwrap();
        assert_eq!(query_value(&q, "limit"), Some("10"));
        assert_eq!(query_value(&q, "task_id"), Some("a/b c"));
        assert_eq!(query_value(&q, "flag"), Some(""));
        assert_eq!(query_value(&q, "nope"), None);
        for bad in ["a=%", "a=%4", "a=%zz", "a=%ff"] {
            let e = parse_query(bad).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
            assert!(e.body.contains(bad), "{}", e.body);
        }
    }

    #[test]
    fn json_or_jsonp_by_query() {
        let body = r#"{"a":1}"#.to_string();
        assert_eq!(
            json_or_jsonp(None, body.clone()).unwrap(),
            ("application/json", body.clone())
        );
        assert_eq!(
            json_or_jsonp(Some("jsonp=cb&x=1"), body.clone()).unwrap(),
            ("text/javascript", r#"cb({"a":1});"#.to_string())
        );
        assert_eq!(
            json_or_jsonp(Some("jsonp=alert(1)"), body.clone())
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(json_or_jsonp(Some("x=%z"), body).unwrap_err().status, 400);
    }

    #[test]
    fn redirect_endpoint() {
        let e = master_redirect(Some(("m1", 5050)), "/redirect/");
        assert_eq!((e.status, e.header("Location")), (307, Some("//m1:5050")));
        assert_eq!(master_redirect(None, "/redirect").status, 503);
        assert_eq!(
            master_redirect(Some(("m1", 5050)), "/redirect/x").status,
            404
        );
    }

    #[test]
    fn jsonp_wrapping() {
        assert_eq!(
            jsonp("cb", r#"{"a":1}"#).unwrap(),
            ("text/javascript", r#"cb({"a":1});"#.to_string())
        );
        assert!(jsonp("angular.callbacks._0", "{}").is_ok());
        assert!(jsonp("$x", "{}").is_ok());
        for bad in [
            "",
            "1abc",
            "a-b",
            "alert(1)",
            "a..b",
            "a.",
            "<script>",
            &"a".repeat(200),
        ] {
            assert_eq!(jsonp(bad, "{}").unwrap_err().status, 400, "{bad}");
        }
    }
}
