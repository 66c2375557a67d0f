//! The master relays a few read-only agent endpoints, so one origin serves everything a
//! browser or the CLI needs (sandbox files, containers and their statistics) even when the
//! agents cannot be reached from the client (Docker networks, private clouds, HTTPS).
//!
//! `GET /agents/<agent id>/<endpoint>?<query>` on the leading master (`/master/agents/...`
//! too) goes to the agent's own `/<agent process id>/<endpoint>?<query>` with the same
//! query and comes back with the agent's status, body and content type: the endpoints in
//! [`RELAYED`]. The master authenticates the caller first like every read-only endpoint
//! (`master-readonly` realm); the caller's own `Authorization` header is then forwarded
//! unchanged, so the agent decides with its own credentials file (the master has no
//! credentials of its own to present), and an agent's 401 reaches the caller as is.
//!
//! Errors: an agent the master does not know is 404 naming it; one marked unreachable is
//! 503 naming it; an agent that refuses the connection or breaks the exchange is 502 and
//! one that sends no answer within [`PROXY_TIMEOUT`] is 504, both naming its address.
//!
//! The exchange runs off the master's mailbox (`ctx.defer`): the master only looks up the
//! agent's address; the connection, the wait and the relaying of the body happen in a
//! task, which reports a [`ProxyOutcome`] back for the log. `/files/download` is streamed
//! through at the client's pace; the other endpoints' bodies are read whole, up to
//! [`PROXY_BODY_LIMIT`].

use std::net::SocketAddr;
use std::time::Duration;

use libprocess::http_client::{ClientError, ClientRequest, ClientResponse};
use libprocess::http_types::{header, HeaderMap, StatusCode};
use libprocess::slog::info;
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::HttpError;
use meso_api::v1::AgentId;

use super::legacy::error_response;
use super::{Master, MasterMessage};

/// The agent endpoints the master relays (paths after the agent id).
pub const RELAYED: &[&str] = &[
    "/files/browse",
    "/files/read",
    "/files/download",
    "/containers",
    "/monitor/statistics",
    "/state",
];

/// How long the master waits for an agent's response head.
pub const PROXY_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest body read whole (every relayed endpoint but `/files/download`).
pub const PROXY_BODY_LIMIT: usize = 64 << 20;

/// Request headers passed on to the agent.
const FORWARDED_REQUEST: &[header::HeaderName] = &[header::AUTHORIZATION, header::ACCEPT];

/// Response headers passed back to the caller.
const FORWARDED_RESPONSE: &[header::HeaderName] = &[
    header::CONTENT_TYPE,
    header::CONTENT_DISPOSITION,
    header::WWW_AUTHENTICATE,
];

/// A relayed request: which agent and which of its endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTarget {
    /// The agent.
    pub agent: AgentId,
    /// One of [`RELAYED`].
    pub endpoint: &'static str,
}

/// Reads a master route (trailing slash and `/master` removed): `None` when it is not
/// under `/agents/`, else the target or the error to answer (404 naming what is missing,
/// 405 for a method other than GET or HEAD).
pub fn parse_route(method: &str, route: &str) -> Option<Result<ProxyTarget, HttpError>> {
    let rest = route.strip_prefix("/agents/")?;
    Some(parse_rest(method, rest))
}

fn parse_rest(method: &str, rest: &str) -> Result<ProxyTarget, HttpError> {
    let (agent, endpoint) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if agent.is_empty() {
        return Err(HttpError::new(404, "No agent id in '/agents/'"));
    }
    let Some(endpoint) = RELAYED.iter().copied().find(|e| *e == endpoint) else {
        return Err(HttpError::new(
            404,
            format!(
                "The master relays no agent endpoint '{endpoint}'; it relays {}",
                RELAYED.join(", ")
            ),
        ));
    };
    if method != "GET" && method != "HEAD" {
        return Err(HttpError::new(
            405,
            format!("Expecting 'GET' for relayed agent endpoints, received '{method}'"),
        )
        .with_header("Allow", "GET, HEAD"));
    }
    Ok(ProxyTarget {
        agent: AgentId::new(agent),
        endpoint,
    })
}

/// The answer for a failed exchange with the agent `agent` at `addr`.
pub fn exchange_error(agent: &AgentId, addr: SocketAddr, e: &ClientError) -> HttpError {
    match e {
        ClientError::Timeout(after) => HttpError::new(
            504,
            format!("Agent '{agent}' at {addr} did not answer within {after:?}"),
        ),
        ClientError::TooLarge(limit) => HttpError::new(
            502,
            format!("Agent '{agent}' at {addr} answered with more than {limit} bytes"),
        ),
        other => HttpError::new(
            502,
            format!("Cannot reach agent '{agent}' at {addr}: {other}"),
        ),
    }
}

/// How one relayed request ended, reported back to the master for its log.
#[derive(Debug)]
pub struct ProxyOutcome {
    /// The agent asked.
    pub agent: AgentId,
    /// Its address.
    pub addr: SocketAddr,
    /// The endpoint.
    pub endpoint: &'static str,
    /// The agent's status, or why there was none.
    pub result: Result<u16, String>,
}

impl Master {
    /// Serves `/agents/<id>/<endpoint>` (see the module doc); `target` comes from
    /// [`parse_route`].
    pub(super) fn serve_agent_proxy(
        &mut self,
        ctx: &mut Context<Self>,
        target: ProxyTarget,
        request: HttpRequest,
        reply: HttpReply,
    ) {
        let Some(agent) = self.agents.get(&target.agent) else {
            let e = if self.agents.is_unreachable(&target.agent) {
                HttpError::new(
                    503,
                    format!(
                        "Agent '{}' is unreachable: the master lost contact with it",
                        target.agent
                    ),
                )
            } else {
                HttpError::new(
                    404,
                    format!("No agent '{}' is registered with this master", target.agent),
                )
            };
            return reply.respond(error_response(e));
        };
        let addr = agent.pid.addr();
        let mut path = format!("/{}{}", agent.pid.id(), target.endpoint);
        if let Some(query) = &request.query {
            path.push('?');
            path.push_str(query);
        }
        let mut outgoing = ClientRequest::get(path);
        outgoing.method = request.method.clone();
        for name in FORWARDED_REQUEST {
            for value in request.headers.get_all(name) {
                outgoing.headers.append(name, value.clone());
            }
        }
        let exchange = ctx.node().http_send(addr, outgoing, PROXY_TIMEOUT);
        let stream = target.endpoint == "/files/download";
        let ProxyTarget { agent, endpoint } = target;
        ctx.defer(
            async move {
                let result = match exchange.await {
                    Ok(response) => relay(response, reply, stream).await,
                    Err(e) => {
                        let error = exchange_error(&agent, addr, &e);
                        reply.respond(error_response(error));
                        Err(e.to_string())
                    }
                };
                ProxyOutcome {
                    agent,
                    addr,
                    endpoint,
                    result,
                }
            },
            MasterMessage::AgentProxyDone,
        );
    }

    /// Logs a relayed request that got no answer from its agent.
    pub(super) fn agent_proxy_done(&mut self, ctx: &mut Context<Self>, outcome: ProxyOutcome) {
        if let Err(e) = &outcome.result {
            info!(ctx.node().logger(), "relaying an agent endpoint failed";
                "agent_id" => %outcome.agent, "address" => %outcome.addr,
                "endpoint" => outcome.endpoint, "error" => e);
        }
    }
}

/// Passes the agent's response on to the caller: whole, or streamed for downloads.
async fn relay(response: ClientResponse, reply: HttpReply, stream: bool) -> Result<u16, String> {
    let status = response.status;
    let mut headers = HeaderMap::new();
    for name in FORWARDED_RESPONSE {
        for value in response.headers.get_all(name) {
            headers.append(name, value.clone());
        }
    }
    if stream {
        let mut response = response;
        let out = reply.stream(status, headers);
        while let Some(chunk) = response.chunk().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            if out.send_waiting(chunk).await.is_err() {
                break;
            }
        }
        return Ok(status.as_u16());
    }
    match response.bytes(PROXY_BODY_LIMIT).await {
        Ok(body) => {
            reply.respond(HttpResponse {
                status,
                headers,
                body,
            });
            Ok(status.as_u16())
        }
        Err(e) => {
            reply.respond(HttpResponse::text(
                StatusCode::BAD_GATEWAY,
                format!("Reading the agent's answer failed: {e}"),
            ));
            Err(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_under_agents_name_an_agent_and_a_relayed_endpoint() {
        assert_eq!(parse_route("GET", "/state"), None);
        assert_eq!(parse_route("GET", "/agentsx/a/state"), None);
        let t = parse_route("GET", "/agents/S1/files/read")
            .unwrap()
            .unwrap();
        assert_eq!(t.agent, AgentId::new("S1"));
        assert_eq!(t.endpoint, "/files/read");
        for endpoint in RELAYED {
            let route = format!("/agents/x-S0{endpoint}");
            assert_eq!(
                parse_route("GET", &route).unwrap().unwrap().endpoint,
                *endpoint
            );
        }
    }

    #[test]
    fn other_endpoints_methods_and_missing_ids_are_refused_naming_why() {
        let e = parse_route("GET", "/agents/S1/api/v1")
            .unwrap()
            .unwrap_err();
        assert_eq!(e.status, 404);
        assert!(
            e.body.contains("'/api/v1'") && e.body.contains("/files/read"),
            "{}",
            e.body
        );
        let e = parse_route("GET", "/agents/S1").unwrap().unwrap_err();
        assert_eq!(e.status, 404);
        let e = parse_route("GET", "/agents/").unwrap().unwrap_err();
        assert!(e.body.contains("No agent id"), "{}", e.body);
        let e = parse_route("POST", "/agents/S1/state")
            .unwrap()
            .unwrap_err();
        assert_eq!(e.status, 405);
        assert_eq!(e.header("Allow"), Some("GET, HEAD"));
    }

    #[test]
    fn exchange_errors_name_the_agent_and_its_address() {
        let addr: SocketAddr = "10.0.0.7:5051".parse().unwrap();
        let agent = AgentId::new("S3");
        let e = exchange_error(&agent, addr, &ClientError::Timeout(PROXY_TIMEOUT));
        assert_eq!(e.status, 504);
        assert!(
            e.body.contains("10.0.0.7:5051") && e.body.contains("'S3'"),
            "{}",
            e.body
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = exchange_error(&agent, addr, &ClientError::Connect(refused));
        assert_eq!(e.status, 502);
        assert!(e.body.contains("10.0.0.7:5051"), "{}", e.body);
    }
}
