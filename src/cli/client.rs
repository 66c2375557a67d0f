//! The operator commands' HTTP client: one request at a time to the leading master, found
//! among the configured ones, with the configured `Authorization`.
//!
//! Leader finding: the masters are tried in order (the last leader first). A master that
//! does not lead answers 307 naming the leader, and the request is sent there; 503 ("no
//! leader elected") or a failed connection moves on to the next. When none answers, the
//! error lists every address with what failed there.
//!
//! Every failure is a [`CliError`] whose message names the address and what failed, and
//! whose kind fixes the exit code ([`CliError::exit_code`], documented in `meso --help`).

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use libprocess::http_client::{self, ClientRequest};
use libprocess::http_types::{HeaderValue, Method};
use serde_json::Value;

use super::connect::Connection;

/// Hang guard on one exchange with a master (connection and whole answer).
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest answer read (a 10,000-agent `/master/state` is ~30 MB).
pub const BODY_LIMIT: usize = 256 << 20;

/// Exit code: the master (or an agent through it) refused or failed the request.
pub const EXIT_REFUSED: i32 = 1;
/// Exit code: no master could be reached, or none leads.
pub const EXIT_NO_MASTER: i32 = 3;
/// Exit code: the credentials were missing or refused (401/403).
pub const EXIT_UNAUTHORIZED: i32 = 4;
/// Exit code: the master does not implement the call (501).
pub const EXIT_NOT_IMPLEMENTED: i32 = 5;
/// Exit code: what was asked for does not exist (an unknown task, agent or framework).
pub const EXIT_NOT_FOUND: i32 = 6;

/// A failed command: its message and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Printed after `meso: `.
    pub message: String,
    /// The process exit code.
    pub code: i32,
}

impl CliError {
    /// An error with `code`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code,
        }
    }

    /// The error for a non-2xx answer from `addr` to `what`.
    pub fn from_status(addr: &str, what: &str, status: u16, body: &[u8]) -> Self {
        let body = String::from_utf8_lossy(body);
        let body = body.trim();
        let code = match status {
            401 | 403 => EXIT_UNAUTHORIZED,
            404 => EXIT_NOT_FOUND,
            501 => EXIT_NOT_IMPLEMENTED,
            _ => EXIT_REFUSED,
        };
        let hint = match status {
            401 => " (pass --principal and --secret-file)",
            501 => " (this master does not implement it yet)",
            _ => "",
        };
        CliError::new(
            code,
            format!("{what} at {addr}: HTTP {status}{hint}: {body}"),
        )
    }

    /// The exit code.
    pub fn exit_code(&self) -> i32 {
        self.code
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One whole answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
    /// The master that answered.
    pub from: String,
}

/// The `host:port` of a 307's `Location` (`//host:port/...` or `http://host:port/...`).
pub fn location_host(location: &str) -> Option<String> {
    let rest = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
        .or_else(|| location.strip_prefix("//"))?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `/` stay).
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The client of one command run.
#[derive(Debug)]
pub struct MasterClient {
    connection: Connection,
    leader: Mutex<Option<String>>,
}

impl MasterClient {
    /// A client for `connection`.
    pub fn new(connection: Connection) -> Self {
        MasterClient {
            connection,
            leader: Mutex::new(None),
        }
    }

    /// The masters as given, for messages.
    pub fn masters(&self) -> String {
        self.connection.masters.join(",")
    }

    async fn exchange(&self, addr: &str, request: &ClientRequest) -> Result<Reply, String> {
        let mut request = request.clone();
        if let Some(auth) = &self.connection.authorization {
            let value = HeaderValue::from_str(auth).map_err(|e| format!("bad credentials: {e}"))?;
            request
                .headers
                .insert(libprocess::http_types::header::AUTHORIZATION, value);
        }
        let work = async {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("cannot connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let conn: libprocess::seams::BoxConnection = match &self.connection.tls {
                None => Box::new(stream),
                Some(tls) => {
                    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
                    let host = host.trim_start_matches('[').trim_end_matches(']');
                    tls.connect(Box::new(stream), host)
                        .await
                        .map_err(|e| format!("cannot connect: TLS handshake: {e}"))?
                }
            };
            let response = http_client::send(conn, addr, request, |f| {
                tokio::spawn(f);
            })
            .await
            .map_err(|e| e.to_string())?;
            let status = response.status.as_u16();
            let location = response
                .headers
                .get(libprocess::http_types::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response
                .bytes(BODY_LIMIT)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((status, location, body))
        };
        let (status, location, body) = tokio::time::timeout(EXCHANGE_TIMEOUT, work)
            .await
            .map_err(|_| format!("no answer within {EXCHANGE_TIMEOUT:?}"))??;
        if status == 307 {
            return Err(match location.as_deref().and_then(location_host) {
                Some(leader) => format!("redirect:{leader}"),
                None => "answered 307 without a leader's address".into(),
            });
        }
        Ok(Reply {
            status,
            body,
            from: addr.to_string(),
        })
    }

    /// Sends `method path` (with `body` as JSON when given) to the leading master.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, CliError> {
        let request = match body {
            Some(v) => {
                let mut r =
                    ClientRequest::post(path, "application/json", Bytes::from(v.to_string()));
                r.method = method;
                r.headers.insert(
                    libprocess::http_types::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
            None => {
                let mut r = ClientRequest::get(path);
                r.method = method;
                r
            }
        };
        let mut order: Vec<String> = Vec::new();
        if let Some(leader) = self.leader.lock().expect("leader lock").clone() {
            order.push(leader);
        }
        order.extend(self.connection.masters.iter().cloned());
        let mut failures = Vec::new();
        let mut tried = std::collections::HashSet::new();
        let mut i = 0;
        while i < order.len() {
            let addr = order[i].clone();
            i += 1;
            if !tried.insert(addr.clone()) {
                continue;
            }
            match self.exchange(&addr, &request).await {
                Ok(reply)
                    if reply.status == 503
                        && String::from_utf8_lossy(&reply.body).contains("No leader") =>
                {
                    failures.push(format!("{addr}: no leader elected yet"));
                }
                Ok(reply) => {
                    *self.leader.lock().expect("leader lock") = Some(addr);
                    return Ok(reply);
                }
                Err(e) => match e.strip_prefix("redirect:") {
                    // The leader goes next, before the rest of the list.
                    Some(leader) => order.insert(i, leader.to_string()),
                    None => failures.push(format!("{addr}: {e}")),
                },
            }
        }
        Err(CliError::new(
            EXIT_NO_MASTER,
            format!(
                "no leading master answered {path} ({})",
                failures.join("; ")
            ),
        ))
    }

    /// `GET path` answered 200 with JSON; anything else is an error naming the master.
    pub async fn get_json(&self, path: &str) -> Result<Value, CliError> {
        let reply = self.send(Method::GET, path, None).await?;
        json_of(&reply, &format!("GET {path}"))
    }

    /// A v1 operator call (`POST /api/v1`); the answer's JSON, `None` for an empty 200.
    pub async fn call(&self, call: &Value) -> Result<Option<Value>, CliError> {
        let kind = call["type"].as_str().unwrap_or("call").to_string();
        let reply = self.send(Method::POST, "/api/v1", Some(call)).await?;
        if reply.status == 200 && reply.body.is_empty() {
            return Ok(None);
        }
        json_of(&reply, &kind).map(Some)
    }

    /// `POST path` with a JSON body; the error names the master.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Reply, CliError> {
        let reply = self.send(Method::POST, path, Some(body)).await?;
        if !(200..300).contains(&reply.status) {
            return Err(CliError::from_status(
                &reply.from,
                &format!("POST {path}"),
                reply.status,
                &reply.body,
            ));
        }
        Ok(reply)
    }
}

fn json_of(reply: &Reply, what: &str) -> Result<Value, CliError> {
    if reply.status != 200 {
        return Err(CliError::from_status(
            &reply.from,
            what,
            reply.status,
            &reply.body,
        ));
    }
    serde_json::from_slice(&reply.body).map_err(|e| {
        CliError::new(
            EXIT_REFUSED,
            format!("{what} at {}: the answer is not JSON: {e}", reply.from),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_name_the_leader_in_any_location_form() {
        assert_eq!(
            location_host("//10.0.0.1:5050/master/state").as_deref(),
            Some("10.0.0.1:5050")
        );
        assert_eq!(location_host("http://m2:5050").as_deref(), Some("m2:5050"));
        assert_eq!(location_host("/master/state"), None);
        assert_eq!(location_host("//"), None);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query("/a b/c&d=e"), "/a%20b/c%26d%3De");
        assert_eq!(encode_query("x-1_2.3~"), "x-1_2.3~");
    }

    #[test]
    fn statuses_map_to_exit_codes_and_messages_name_the_address() {
        let e = CliError::from_status("m:5050", "GET /x", 401, b"no");
        assert_eq!(e.exit_code(), EXIT_UNAUTHORIZED);
        assert!(
            e.message.contains("m:5050") && e.message.contains("--principal"),
            "{e}"
        );
        assert_eq!(
            CliError::from_status("m", "x", 501, b"").exit_code(),
            EXIT_NOT_IMPLEMENTED
        );
        assert_eq!(
            CliError::from_status("m", "x", 404, b"").exit_code(),
            EXIT_NOT_FOUND
        );
        assert_eq!(
            CliError::from_status("m", "x", 400, b"").exit_code(),
            EXIT_REFUSED
        );
    }
}
