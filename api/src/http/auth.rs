//! HTTP authentication as a pure decision: given which realms are guarded, the accepted
//! credentials and the JWT key, an endpoint's realm, the request's headers and "now", either
//! the authenticated [`Principal`] or a 401 [`HttpError`] whose body says what was wrong
//! and whose `WWW-Authenticate` headers name the schemes that would be accepted.
//!
//! Two authenticators, tried by the scheme the client chose (Mesos chains its
//! `--http_authenticators` the same way): HTTP Basic against [`Credentials`] (Mesos's
//! `basic`), and a bearer HS256 [`jwt`] signed with the node's key (Mesos's `jwt`, whose
//! principal is the token's claims; a `sub` claim also becomes the principal's name).
//! Realm names are Mesos's (`mesos-master-readonly`, `mesos-agent-executor`, ...).
//!
//! | module | owns |
//! |---|---|
//! | [`credentials`] | the credentials file and constant-time secret checks |
//! | [`basic`] | decoding `Authorization: Basic ...` |
//! | [`jwt`] | HS256 tokens: verify (alg, signature, `exp`) and sign |
//! | [`endpoints`] | which realm guards which master and agent route |
//! | [`executor_claims`] | an executor's token claims, and the rule that it speaks only for itself |
//!
//! Invariants: no I/O and no clock (the shell passes the node's wall time); a realm is
//! guarded only with at least one authenticator configured ([`HttpAuthenticator::new`]
//! refuses otherwise); secrets never appear in an answer or a `Debug` output.
//!
//! ```
//! use meso_api::http::auth::{Credentials, HttpAuthenticator, NodeKind, Realm};
//! use meso_api::http::RequestHeaders;
//!
//! let credentials = Credentials::parse(r#"{"credentials":[{"principal":"ops","secret":"pw"}]}"#)
//!     .map_err(|e| e.to_string())?;
//! let auth = HttpAuthenticator::new(NodeKind::Master, &[Realm::Readonly], Some(credentials), None)
//!     .map_err(|e| e.to_string())?;
//! // "ops:pw" in base64.
//! let ok = RequestHeaders::from_pairs([("Authorization", "Basic b3BzOnB3")]);
//! let principal = auth.authenticate(Some(Realm::Readonly), &ok, 0.0).unwrap().unwrap();
//! assert_eq!(principal.value.as_deref(), Some("ops"));
//! let refusal = auth.authenticate(Some(Realm::Readonly), &RequestHeaders::new(), 0.0).unwrap_err();
//! assert_eq!(refusal.error.status, 401);
//! assert_eq!(refusal.error.header("WWW-Authenticate"), Some("Basic realm=\"mesos-master-readonly\""));
//! // The read-write realm is not guarded here.
//! assert_eq!(auth.authenticate(Some(Realm::Readwrite), &RequestHeaders::new(), 0.0).unwrap(), None);
//! # Ok::<(), String>(())
//! ```

pub mod basic;
pub mod credentials;
pub mod endpoints;
pub mod executor_claims;
pub mod jwt;

use std::collections::BTreeMap;

use thiserror::Error;

pub use credentials::{Credentials, CredentialsError};
pub use endpoints::{agent_realm, master_realm};
pub use executor_claims::{executor_claims, verify_executor_claims};

use super::{HttpError, RequestHeaders};

/// Which node answers: realm names differ between the master and the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// `meso master`.
    Master,
    /// `meso agent`.
    Agent,
}

/// A class of endpoints guarded together, each switched on by its own flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    /// Endpoints that only read (`--authenticate-http-readonly`).
    Readonly,
    /// Endpoints that change state (`--authenticate-http-readwrite`).
    Readwrite,
    /// The scheduler API (`--authenticate-http-frameworks`).
    Framework,
    /// The agent's executor API (`--authenticate-http-executors`).
    Executor,
}

impl Realm {
    /// Mesos's name of this realm on `node` (sent in `WWW-Authenticate`).
    pub fn name(self, node: NodeKind) -> &'static str {
        match (node, self) {
            (NodeKind::Master, Realm::Readonly) => "mesos-master-readonly",
            (NodeKind::Master, Realm::Readwrite) => "mesos-master-readwrite",
            (NodeKind::Master, Realm::Framework) => "mesos-master-scheduler",
            (NodeKind::Master, Realm::Executor) => "mesos-master-executor",
            (NodeKind::Agent, Realm::Readonly) => "mesos-agent-readonly",
            (NodeKind::Agent, Realm::Readwrite) => "mesos-agent-readwrite",
            (NodeKind::Agent, Realm::Framework) => "mesos-agent-scheduler",
            (NodeKind::Agent, Realm::Executor) => "mesos-agent-executor",
        }
    }

    /// The flag that guards this realm.
    pub fn flag(self) -> &'static str {
        match self {
            Realm::Readonly => "--authenticate-http-readonly",
            Realm::Readwrite => "--authenticate-http-readwrite",
            Realm::Framework => "--authenticate-http-frameworks",
            Realm::Executor => "--authenticate-http-executors",
        }
    }
}

/// Who made a request: a Basic principal's name, or a token's claims (and its `sub` as the
/// name when it has one), as Mesos's `Principal` (value and claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal's name.
    pub value: Option<String>,
    /// A token's claims (empty for Basic).
    pub claims: BTreeMap<String, String>,
}

/// A guarded realm with nothing to check its credentials against.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{flag} needs {needs}")]
pub struct NoAuthenticator {
    /// The flag that turned the realm on.
    pub flag: &'static str,
    /// What else it needs, and why.
    pub needs: &'static str,
}

/// A refused request: the 401 to answer with, and whether the client had presented
/// credentials (a failed attempt, counted in metrics) or sent none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The answer: 401, a body saying why, `WWW-Authenticate` challenges.
    pub error: HttpError,
    /// Credentials were sent and did not pass.
    pub attempted: bool,
}

/// The node's HTTP authentication setup.
#[derive(Debug, Clone, Default)]
pub struct HttpAuthenticator {
    node: Option<NodeKind>,
    guarded: Vec<Realm>,
    credentials: Option<Credentials>,
    jwt_key: Option<JwtKey>,
}

/// An HS256 key; its bytes never appear in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtKey(pub Vec<u8>);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtKey({} bytes)", self.0.len())
    }
}

impl HttpAuthenticator {
    /// No realm guarded: every request passes unauthenticated (the default, as Mesos).
    pub fn open() -> Self {
        HttpAuthenticator::default()
    }

    /// Guards `realms` on `node` with Basic (when `credentials` are given) and bearer JWT
    /// (when `jwt_key` is given); refuses a guarded realm with neither, and the executor
    /// realm without a key (executors authenticate with the tokens it signs).
    pub fn new(
        node: NodeKind,
        realms: &[Realm],
        credentials: Option<Credentials>,
        jwt_key: Option<JwtKey>,
    ) -> Result<Self, NoAuthenticator> {
        if jwt_key.is_none() && realms.contains(&Realm::Executor) {
            return Err(NoAuthenticator {
                flag: Realm::Executor.flag(),
                needs: "--jwt-secret-file: the agent signs each executor's token with that key",
            });
        }
        if credentials.is_none() && jwt_key.is_none() {
            if let Some(realm) = realms.first() {
                let needs = match node {
                    NodeKind::Master => "--credentials or --jwt-secret-file: without either nobody could authenticate",
                    NodeKind::Agent => "--http-credentials or --jwt-secret-file: without either nobody could authenticate",
                };
                return Err(NoAuthenticator {
                    flag: realm.flag(),
                    needs,
                });
            }
        }
        Ok(HttpAuthenticator {
            node: Some(node),
            guarded: realms.to_vec(),
            credentials,
            jwt_key,
        })
    }

    /// An HS256 token of `claims` signed with the node's key, `None` without a key (as
    /// Mesos's agent, which gives each executor such a token when it has a key).
    pub fn sign(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        self.jwt_key.as_ref().map(|key| jwt::sign(claims, &key.0))
    }

    /// Whether `realm` is guarded.
    pub fn guards(&self, realm: Realm) -> bool {
        self.guarded.contains(&realm)
    }

    /// Decides one request to an endpoint of `realm` (`None`: an always-open endpoint).
    /// `Ok(None)` when the realm is not guarded, `Ok(Some(principal))` when the credentials
    /// passed, a [`Refusal`] otherwise. `now_unix_secs` is the node's wall time, for `exp`.
    pub fn authenticate(
        &self,
        realm: Option<Realm>,
        headers: &RequestHeaders,
        now_unix_secs: f64,
    ) -> Result<Option<Principal>, Refusal> {
        let (Some(realm), Some(node)) = (realm, self.node) else {
            return Ok(None);
        };
        if !self.guards(realm) {
            return Ok(None);
        }
        let refuse = |why: String, attempted: bool| Refusal {
            error: self.challenge(realm.name(node), why),
            attempted,
        };
        let Some(value) = headers.get("Authorization") else {
            return Err(refuse(
                "Authentication required: no 'Authorization' header".into(),
                false,
            ));
        };
        let Ok(value) = std::str::from_utf8(value) else {
            return Err(refuse(
                "The 'Authorization' header is not text".into(),
                true,
            ));
        };
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("Basic") {
            if let Some(credentials) = &self.credentials {
                let (principal, secret) = basic::decode(rest).map_err(|why| {
                    refuse(format!("Malformed 'Authorization' header: {why}"), true)
                })?;
                if credentials.verify(&principal, &secret) {
                    return Ok(Some(Principal {
                        value: Some(principal),
                        claims: BTreeMap::new(),
                    }));
                }
                return Err(refuse(
                    format!("Wrong secret for principal '{principal}', or no such principal"),
                    true,
                ));
            }
        }
        if scheme.eq_ignore_ascii_case("Bearer") {
            if let Some(key) = &self.jwt_key {
                let claims = jwt::verify(rest, &key.0, now_unix_secs)
                    .map_err(|e| refuse(format!("Invalid JWT: {e}"), true))?;
                return Ok(Some(Principal {
                    value: claims.get("sub").cloned(),
                    claims,
                }));
            }
        }
        Err(refuse(
            format!(
                "Unsupported authentication scheme '{scheme}' (accepted: {})",
                self.schemes()
            ),
            true,
        ))
    }

    fn schemes(&self) -> String {
        let mut schemes = Vec::new();
        if self.credentials.is_some() {
            schemes.push("Basic");
        }
        if self.jwt_key.is_some() {
            schemes.push("Bearer");
        }
        schemes.join(", ")
    }

    /// A 401 with one `WWW-Authenticate` challenge per configured scheme.
    fn challenge(&self, realm: &str, why: String) -> HttpError {
        let mut error = HttpError::new(401, why);
        if self.credentials.is_some() {
            error = error.with_header("WWW-Authenticate", format!("Basic realm=\"{realm}\""));
        }
        if self.jwt_key.is_some() {
            error = error.with_header("WWW-Authenticate", format!("Bearer realm=\"{realm}\""));
        }
        error
    }
}

#[cfg(test)]
mod tests;
