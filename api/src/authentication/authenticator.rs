//! The master's side of one authentication exchange: offer CRAM-MD5, send the challenge,
//! check the response against the credentials.
//!
//! The shell creates an [`Authenticator`] per `Authenticate` with a fresh challenge
//! ([`challenge_text`] from a random nonce and the time), sends the mechanisms it returns,
//! and passes each later message in; each answer says what to send and whether the client
//! is now authenticated. Invariants: at most one [`ServerReply::Completed`] per exchange,
//! and only for a response to this exchange's challenge; every other outcome names why.

use super::cram_md5;
use super::CRAM_MD5;
use crate::http::auth::Credentials;
use crate::wire::{AuthenticationMechanisms, AuthenticationStart, AuthenticationStep};

/// RFC 2195's challenge form, `<nonce.time@host>`.
pub fn challenge_text(nonce: &str, unix_secs: u64, host: &str) -> String {
    format!("<{nonce}.{unix_secs}@{host}>")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Offered,
    Challenged,
    Finished,
}

/// What the master sends next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerReply {
    /// Send this challenge (`AuthenticationStep`).
    Step(AuthenticationStep),
    /// Authenticated as `principal` (`AuthenticationCompleted`).
    Completed {
        /// The principal the client proved.
        principal: String,
    },
    /// Refused (`AuthenticationFailed`): unknown principal or wrong secret.
    Failed {
        /// The principal the client claimed, if its response was readable.
        principal: Option<String>,
        /// Why, for the master's log (never sent to the client).
        reason: String,
    },
    /// The exchange is broken (`AuthenticationError` with this text).
    Error(String),
}

/// One exchange on the master.
#[derive(Debug)]
pub struct Authenticator {
    challenge: String,
    state: State,
}

impl Authenticator {
    /// An exchange whose challenge is `challenge`, and the mechanisms to offer.
    pub fn new(challenge: String) -> (Authenticator, AuthenticationMechanisms) {
        (
            Authenticator {
                challenge,
                state: State::Offered,
            },
            AuthenticationMechanisms {
                mechanisms: vec![CRAM_MD5.to_string()],
            },
        )
    }

    /// The client chose a mechanism.
    pub fn start(&mut self, start: &AuthenticationStart) -> ServerReply {
        if self.state != State::Offered {
            self.state = State::Finished;
            return ServerReply::Error("AuthenticationStart out of order".to_string());
        }
        if start.mechanism != CRAM_MD5 {
            self.state = State::Finished;
            return ServerReply::Error(format!(
                "mechanism {:?} is not offered; use {CRAM_MD5}",
                start.mechanism
            ));
        }
        self.state = State::Challenged;
        ServerReply::Step(AuthenticationStep {
            data: self.challenge.as_bytes().to_vec(),
        })
    }

    /// The client's response to the challenge, checked against `credentials` (`None`: the
    /// master has none, so nobody can authenticate).
    pub fn step(
        &mut self,
        step: &AuthenticationStep,
        credentials: Option<&Credentials>,
    ) -> ServerReply {
        if self.state != State::Challenged {
            self.state = State::Finished;
            return ServerReply::Error("AuthenticationStep before the challenge".to_string());
        }
        self.state = State::Finished;
        let (principal, digest) = match cram_md5::parse_response(&step.data) {
            Ok(parts) => parts,
            Err(reason) => {
                return ServerReply::Failed {
                    principal: None,
                    reason,
                }
            }
        };
        let failed = |reason: &str| ServerReply::Failed {
            principal: Some(principal.to_string()),
            reason: reason.to_string(),
        };
        let Some(credentials) = credentials else {
            return failed("the master has no --credentials");
        };
        match credentials.secret_of(principal) {
            None => failed("unknown principal"),
            Some(secret) if cram_md5::verify(secret, self.challenge.as_bytes(), digest) => {
                ServerReply::Completed {
                    principal: principal.to_string(),
                }
            }
            Some(_) => failed("wrong secret"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::parse(r#"{"credentials":[{"principal":"agent","secret":"pw"}]}"#).unwrap()
    }

    fn start() -> AuthenticationStart {
        AuthenticationStart {
            mechanism: CRAM_MD5.to_string(),
            data: None,
        }
    }

    fn challenged(challenge: &str) -> Authenticator {
        let (mut a, offered) = Authenticator::new(challenge.to_string());
        assert_eq!(offered.mechanisms, [CRAM_MD5]);
        let ServerReply::Step(step) = a.start(&start()) else {
            panic!("no challenge")
        };
        assert_eq!(step.data, challenge.as_bytes());
        a
    }

    fn answer(principal: &str, secret: &str, challenge: &str) -> AuthenticationStep {
        AuthenticationStep {
            data: cram_md5::response(principal, secret.as_bytes(), challenge.as_bytes()),
        }
    }

    #[test]
    fn the_right_secret_authenticates_once() {
        let c = challenge_text("n1", 17, "m");
        assert_eq!(c, "<n1.17@m>");
        let mut a = challenged(&c);
        assert_eq!(
            a.step(&answer("agent", "pw", &c), Some(&creds())),
            ServerReply::Completed {
                principal: "agent".to_string()
            }
        );
        // One-shot: the same answer again is an error, not a second success.
        assert!(matches!(
            a.step(&answer("agent", "pw", &c), Some(&creds())),
            ServerReply::Error(_)
        ));
    }

    #[test]
    fn wrong_secret_unknown_principal_and_no_credentials_fail() {
        let c = "<n@m>";
        let reason = |r: ServerReply| match r {
            ServerReply::Failed { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason(challenged(c).step(&answer("agent", "nope", c), Some(&creds()))),
            "wrong secret"
        );
        assert_eq!(
            reason(challenged(c).step(&answer("eve", "pw", c), Some(&creds()))),
            "unknown principal"
        );
        assert!(
            reason(challenged(c).step(&answer("agent", "pw", c), None)).contains("--credentials")
        );
        let garbled = AuthenticationStep {
            data: b"agent".to_vec(),
        };
        assert!(reason(challenged(c).step(&garbled, Some(&creds()))).contains("form"));
    }

    #[test]
    fn a_replayed_answer_fails_against_a_new_challenge() {
        let old = answer("agent", "pw", "<n1.1@m>");
        let mut fresh = challenged("<n2.2@m>");
        assert!(matches!(
            fresh.step(&old, Some(&creds())),
            ServerReply::Failed { .. }
        ));
    }

    #[test]
    fn out_of_order_and_unknown_mechanisms_are_errors() {
        let (mut a, _) = Authenticator::new("<n@m>".to_string());
        assert!(matches!(
            a.step(&answer("agent", "pw", "<n@m>"), Some(&creds())),
            ServerReply::Error(_)
        ));
        let (mut a, _) = Authenticator::new("<n@m>".to_string());
        let plain = AuthenticationStart {
            mechanism: "PLAIN".to_string(),
            data: Some(b"agent\0pw".to_vec()),
        };
        match a.start(&plain) {
            ServerReply::Error(e) => assert!(e.contains("PLAIN"), "{e}"),
            other => panic!("{other:?}"),
        }
        let mut a = challenged("<n@m>");
        assert!(matches!(a.start(&start()), ServerReply::Error(_)));
    }
}
