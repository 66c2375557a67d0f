//! [`HttpError`]: an HTTP answer that refuses a request, with the common ones built here.
//!
//! Invariant: the body is never empty; it says what was wrong and, where Mesos has a fixed
//! text for the case, uses that text so that clients matching on it keep working.

use thiserror::Error;

/// A refusal: the status code, a body saying why, and extra headers (e.g. `Allow`,
/// `Location`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{status} {body}")]
pub struct HttpError {
    /// The status code.
    pub status: u16,
    /// Plain-text body saying why.
    pub body: String,
    /// Extra headers, `(name, value)`.
    pub headers: Vec<(String, String)>,
}

impl HttpError {
    /// An error with `status` and `body` and no extra headers.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        HttpError {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The value of an extra header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// 400 Bad Request.
    pub fn bad_request(body: impl Into<String>) -> Self {
        HttpError::new(400, body)
    }

    /// 403 Forbidden.
    pub fn forbidden(body: impl Into<String>) -> Self {
        HttpError::new(403, body)
    }

    /// 405 with `Allow: POST` and libprocess's standard body.
    pub fn post_only(method: &str) -> Self {
        HttpError::new(
            405,
            format!(
                "405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{method}'."
            ),
        )
        .with_header("Allow", "POST")
    }

    /// 401 with the `WWW-Authenticate` challenge of HTTP Basic authentication in `realm`
    /// (what Mesos answers when HTTP authentication is on and the credentials are missing
    /// or wrong).
    pub fn unauthorized(realm: &str, why: impl Into<String>) -> Self {
        HttpError::new(401, why).with_header("WWW-Authenticate", format!("Basic realm=\"{realm}\""))
    }

    /// 501 Not Implemented.
    pub fn not_implemented(body: impl Into<String>) -> Self {
        HttpError::new(501, body)
    }

    /// 503 Service Unavailable.
    pub fn unavailable(body: impl Into<String>) -> Self {
        HttpError::new(503, body)
    }

    /// What a master that is not the leader answers: 307 to the same path on the leader
    /// (a protocol-relative `Location: //host:port/master/<route>`, as Mesos writes it), or
    /// 503 "No leader elected" when no leader is known. `route` is the path after the
    /// process id, e.g. `/api/v1/scheduler`.
    pub fn not_leader(leader: Option<(&str, u16)>, route: &str) -> Self {
        match leader {
            Some((host, port)) => {
                let route = if route.starts_with('/') {
                    route.to_string()
                } else {
                    format!("/{route}")
                };
                HttpError::new(
                    307,
                    format!("This master is not the leader; see {host}:{port}"),
                )
                .with_header("Location", format!("//{host}:{port}/master{route}"))
            }
            None => HttpError::unavailable("No leader elected"),
        }
    }

    /// 503 while the master recovers its registry.
    pub fn master_recovering() -> Self {
        HttpError::unavailable("Master has not finished recovery")
    }

    /// 503 while the agent recovers.
    pub fn agent_recovering() -> Self {
        HttpError::unavailable("Agent has not finished recovery")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_leader_redirects_protocol_relative_with_master_prefix() {
        let e = HttpError::not_leader(Some(("m2.example", 5050)), "/api/v1/scheduler");
        assert_eq!(e.status, 307);
        assert_eq!(
            e.header("location"),
            Some("//m2.example:5050/master/api/v1/scheduler")
        );
        let e = HttpError::not_leader(None, "/api/v1/scheduler");
        assert_eq!((e.status, e.body.as_str()), (503, "No leader elected"));
        assert_eq!(HttpError::master_recovering().status, 503);
        assert_eq!(HttpError::agent_recovering().status, 503);
    }

    #[test]
    fn unauthorized_challenges_basic() {
        let e = HttpError::unauthorized("mesos", "Missing credentials");
        assert_eq!(e.status, 401);
        assert_eq!(e.header("www-authenticate"), Some("Basic realm=\"mesos\""));
    }

    #[test]
    fn post_only_names_the_method_and_allows_post() {
        let e = HttpError::post_only("GET");
        assert_eq!(e.status, 405);
        assert_eq!(e.header("Allow"), Some("POST"));
        assert!(e.body.contains("received 'GET'"), "{}", e.body);
    }
}
