//! The client's side of one authentication exchange (an agent's or a scheduler driver's):
//! announce itself, choose CRAM-MD5, answer the challenge, learn the outcome.
//!
//! The shell creates an [`Authenticatee`] per attempt, sends the `Authenticate` it returns,
//! and passes each message from the master in; [`ClientNext`] says what to send or how the
//! attempt ended. Timeouts and retries are the shell's (it drops the value and starts a new
//! one). Invariants: the secret leaves only as the HMAC of the master's challenge; a message
//! out of order ends the attempt as [`ClientNext::Errored`].

use super::cram_md5;
use super::credential::Credential;
use super::CRAM_MD5;
use crate::wire::{
    Authenticate, AuthenticationError, AuthenticationMechanisms, AuthenticationStart,
    AuthenticationStep,
};

/// A message the client sends to the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// The chosen mechanism.
    Start(AuthenticationStart),
    /// The response to the challenge.
    Step(AuthenticationStep),
}

impl ClientMessage {
    /// The start message, if this is one.
    pub fn start(&self) -> Option<&AuthenticationStart> {
        match self {
            ClientMessage::Start(s) => Some(s),
            ClientMessage::Step(_) => None,
        }
    }

    /// The step message, if this is one.
    pub fn step(&self) -> Option<&AuthenticationStep> {
        match self {
            ClientMessage::Step(s) => Some(s),
            ClientMessage::Start(_) => None,
        }
    }
}

/// What the client does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientNext {
    /// Send this to the master.
    Send(ClientMessage),
    /// The master accepted the credential: register now.
    Authenticated,
    /// The master refused the credential.
    Refused,
    /// The exchange broke (the reason); try again later.
    Errored(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Announced,
    Started,
    Answered,
    Finished,
}

/// One authentication attempt of a client.
#[derive(Debug)]
pub struct Authenticatee {
    credential: Credential,
    state: State,
}

impl Authenticatee {
    /// An attempt with `credential` for the process `pid`, and the message that opens it.
    pub fn new(credential: Credential, pid: &str) -> (Authenticatee, Authenticate) {
        (
            Authenticatee {
                credential,
                state: State::Announced,
            },
            Authenticate {
                pid: pid.to_string(),
            },
        )
    }

    /// The principal this attempt authenticates.
    pub fn principal(&self) -> &str {
        self.credential.principal()
    }

    fn broken(&mut self, why: String) -> ClientNext {
        self.state = State::Finished;
        ClientNext::Errored(why)
    }

    /// The master's mechanisms.
    pub fn mechanisms(&mut self, offered: &AuthenticationMechanisms) -> ClientNext {
        if self.state != State::Announced {
            return self.broken("mechanisms out of order".to_string());
        }
        if !offered.mechanisms.iter().any(|m| m == CRAM_MD5) {
            return self.broken(format!(
                "the master offers {:?}, not {CRAM_MD5}",
                offered.mechanisms
            ));
        }
        self.state = State::Started;
        ClientNext::Send(ClientMessage::Start(AuthenticationStart {
            mechanism: CRAM_MD5.to_string(),
            data: None,
        }))
    }

    /// The master's challenge.
    pub fn step(&mut self, challenge: &AuthenticationStep) -> ClientNext {
        if self.state != State::Started {
            return self.broken("challenge out of order".to_string());
        }
        self.state = State::Answered;
        ClientNext::Send(ClientMessage::Step(AuthenticationStep {
            data: cram_md5::response(
                self.credential.principal(),
                self.credential.secret(),
                &challenge.data,
            ),
        }))
    }

    /// The master says: authenticated.
    pub fn completed(&mut self) -> ClientNext {
        if self.state != State::Answered {
            return self.broken("completion before the answer".to_string());
        }
        self.state = State::Finished;
        ClientNext::Authenticated
    }

    /// The master says: refused.
    pub fn failed(&mut self) -> ClientNext {
        if self.state == State::Finished {
            return ClientNext::Errored("refusal after the attempt ended".to_string());
        }
        self.state = State::Finished;
        ClientNext::Refused
    }

    /// The master says: the exchange broke.
    pub fn error(&mut self, error: &AuthenticationError) -> ClientNext {
        self.broken(
            error
                .error
                .clone()
                .unwrap_or_else(|| "the master gave no reason".to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authentication::{Authenticator, ServerReply};
    use crate::http::auth::Credentials;
    use proptest::prelude::*;

    fn offered() -> AuthenticationMechanisms {
        AuthenticationMechanisms {
            mechanisms: vec!["PLAIN".to_string(), CRAM_MD5.to_string()],
        }
    }

    fn exchange(client_secret: &str, master_file: &str) -> (ClientNext, ServerReply) {
        let credentials = Credentials::parse(master_file).unwrap();
        let (mut c, hello) = Authenticatee::new(Credential::new("fw", client_secret), "s@h:1");
        assert_eq!(hello.pid, "s@h:1");
        let (mut s, mechanisms) = Authenticator::new("<x.1@m>".to_string());
        let ClientNext::Send(start) = c.mechanisms(&mechanisms) else {
            panic!()
        };
        let ServerReply::Step(challenge) = s.start(start.start().unwrap()) else {
            panic!()
        };
        let ClientNext::Send(answer) = c.step(&challenge) else {
            panic!()
        };
        // What the client sends is its principal and a digest: no room for the secret.
        let sent = &answer.step().unwrap().data;
        let (principal, digest) = cram_md5::parse_response(sent).unwrap();
        assert_eq!((principal, digest.len()), ("fw", 32));
        assert_eq!(sent.len(), "fw ".len() + 32);
        let reply = s.step(answer.step().unwrap(), Some(&credentials));
        let next = match &reply {
            ServerReply::Completed { .. } => c.completed(),
            ServerReply::Failed { .. } => c.failed(),
            ServerReply::Error(e) => c.error(&AuthenticationError {
                error: Some(e.clone()),
            }),
            ServerReply::Step(_) => panic!("a second challenge"),
        };
        (next, reply)
    }

    #[test]
    fn a_full_exchange_with_the_master_side() {
        let file = "fw secret-one\nother x\n";
        assert_eq!(exchange("secret-one", file).0, ClientNext::Authenticated);
        assert_eq!(exchange("secret-two", file).0, ClientNext::Refused);
    }

    #[test]
    fn the_client_refuses_a_master_without_cram_md5_and_messages_out_of_order() {
        let (mut c, _) = Authenticatee::new(Credential::new("fw", "pw"), "p");
        let only_plain = AuthenticationMechanisms {
            mechanisms: vec!["PLAIN".to_string()],
        };
        assert!(matches!(c.mechanisms(&only_plain), ClientNext::Errored(e) if e.contains("PLAIN")));
        let (mut c, _) = Authenticatee::new(Credential::new("fw", "pw"), "p");
        assert!(matches!(c.completed(), ClientNext::Errored(_)));
        let (mut c, _) = Authenticatee::new(Credential::new("fw", "pw"), "p");
        assert!(matches!(
            c.step(&AuthenticationStep { data: vec![1] }),
            ClientNext::Errored(_)
        ));
        let (mut c, _) = Authenticatee::new(Credential::new("fw", "pw"), "p");
        assert!(matches!(c.mechanisms(&offered()), ClientNext::Send(_)));
        assert_eq!(
            c.error(&AuthenticationError { error: None }),
            ClientNext::Errored("the master gave no reason".to_string())
        );
        assert!(matches!(c.failed(), ClientNext::Errored(_)));
    }

    proptest! {
        /// Only the exact secret authenticates.
        #[test]
        fn only_the_exact_secret_authenticates(secret in "[a-zA-Z0-9]{1,20}", guess in "[a-zA-Z0-9]{1,20}") {
            let file = format!("fw {secret}\n");
            let (next, _) = exchange(&guess, &file);
            prop_assert_eq!(next == ClientNext::Authenticated, guess == secret);
        }
    }
}
