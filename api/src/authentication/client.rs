//! [`ClientAuthentication`]: what an agent or a scheduler driver keeps about authenticating
//! with its master across attempts, generic over how the master is named (a `Upid` in the
//! shells, a string in tests).
//!
//! Rules: with no credential nothing is needed; a client is authenticated with one master
//! at a time, until [`ClientAuthentication::reset`] (a broken link, a lost master) or a
//! move to another master; one attempt runs at a time, numbered so that a stale timeout
//! does nothing; messages from anyone but the attempt's master are ignored.

use super::authenticatee::{Authenticatee, ClientNext};
use super::credential::Credential;
use crate::wire::{
    Authenticate, AuthenticationCompleted, AuthenticationError, AuthenticationFailed,
    AuthenticationMechanisms, AuthenticationStep,
};

/// What a client process (agent, scheduler driver) receives about its authentication: the
/// master's messages and its own timer. Each shell wraps it in its message enum and hands it
/// to [`ClientAuthentication::on_message`].
#[derive(Debug)]
pub enum AuthenticateeMessage {
    /// The master's mechanisms.
    Mechanisms(AuthenticationMechanisms),
    /// The master's challenge.
    Step(AuthenticationStep),
    /// Accepted.
    Completed(AuthenticationCompleted),
    /// Refused.
    Failed(AuthenticationFailed),
    /// Broken off.
    Error(AuthenticationError),
    /// Timer: attempt `generation` had its time.
    Timeout(u64),
}

/// What [`ClientAuthentication::begin`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// No credential, or already authenticated with this master: register now.
    Register,
    /// An attempt with this master is under way: wait for it.
    Waiting,
    /// A new attempt: send this to the master and arm a timeout for `generation`.
    Send {
        /// The opening message.
        message: Authenticate,
        /// The attempt's number, for its timeout.
        generation: u64,
    },
}

/// In a client process's module: `From` each master message of an authentication into the
/// process's message (`$variant` wraps an [`AuthenticateeMessage`]), and
/// `install(handlers)`, which registers the five messages with the process's handlers. The
/// agent and the scheduler driver use it, so the list of messages lives here once.
#[macro_export]
macro_rules! authenticatee_messages {
    ($process:ty, $message:ty, $variant:path) => {
        $crate::authenticatee_messages!(@each $process, $message, $variant;
            AuthenticationMechanisms => Mechanisms,
            AuthenticationStep => Step,
            AuthenticationCompleted => Completed,
            AuthenticationFailed => Failed,
            AuthenticationError => Error,
        );
    };
    (@each $process:ty, $message:ty, $variant:path; $($ty:ident => $v:ident,)*) => {
        $(impl From<$crate::wire::$ty> for $message {
            fn from(m: $crate::wire::$ty) -> Self {
                $variant($crate::authentication::AuthenticateeMessage::$v(m))
            }
        })*
        /// Registers the authentication messages with the process's handlers.
        pub(super) fn install(h: &mut libprocess::Handlers<$process>) {
            $(h.on::<$crate::wire::$ty>();)*
        }
    };
}

/// A client's authentication with its master.
#[derive(Debug)]
pub struct ClientAuthentication<M> {
    credential: Option<Credential>,
    authenticated_with: Option<M>,
    attempt: Option<(M, u64, Authenticatee)>,
    generation: u64,
}

impl<M: PartialEq + Clone> ClientAuthentication<M> {
    /// A client that authenticates with `credential` (`None`: never).
    pub fn new(credential: Option<Credential>) -> Self {
        ClientAuthentication {
            credential,
            authenticated_with: None,
            attempt: None,
            generation: 0,
        }
    }

    /// The principal the client authenticates as, if it has a credential.
    pub fn principal(&self) -> Option<&str> {
        self.credential.as_ref().map(Credential::principal)
    }

    /// Before (re)registering with `master` as the process `pid`.
    pub fn begin(&mut self, master: &M, pid: &str) -> Begin {
        let Some(credential) = &self.credential else {
            return Begin::Register;
        };
        if self.authenticated_with.as_ref() == Some(master) {
            return Begin::Register;
        }
        if matches!(&self.attempt, Some((m, _, _)) if m == master) {
            return Begin::Waiting;
        }
        self.authenticated_with = None;
        self.generation += 1;
        let (exchange, message) = Authenticatee::new(credential.clone(), pid);
        self.attempt = Some((master.clone(), self.generation, exchange));
        Begin::Send {
            message,
            generation: self.generation,
        }
    }

    /// Forgets the master's acceptance and any attempt (the link broke or the master
    /// changed): the next [`Self::begin`] starts over.
    pub fn reset(&mut self) {
        self.authenticated_with = None;
        self.attempt = None;
    }

    /// The attempt `generation` timed out: whether it was the one under way (now dropped).
    pub fn timed_out(&mut self, generation: u64) -> bool {
        if matches!(&self.attempt, Some((_, g, _)) if *g == generation) {
            self.attempt = None;
            return true;
        }
        false
    }

    fn with_attempt(
        &mut self,
        from: &M,
        f: impl FnOnce(&mut Authenticatee) -> ClientNext,
    ) -> Option<ClientNext> {
        let (master, _, exchange) = self.attempt.as_mut().filter(|(m, _, _)| m == from)?;
        let master = master.clone();
        let next = f(exchange);
        match &next {
            ClientNext::Send(_) => {}
            ClientNext::Authenticated => {
                self.authenticated_with = Some(master);
                self.attempt = None;
            }
            ClientNext::Refused | ClientNext::Errored(_) => self.attempt = None,
        }
        Some(next)
    }

    /// The master's mechanisms (`None`: not from the attempt's master, ignore it).
    pub fn mechanisms(&mut self, from: &M, m: &AuthenticationMechanisms) -> Option<ClientNext> {
        self.with_attempt(from, |e| e.mechanisms(m))
    }

    /// The master's challenge.
    pub fn step(&mut self, from: &M, m: &AuthenticationStep) -> Option<ClientNext> {
        self.with_attempt(from, |e| e.step(m))
    }

    /// The master accepted.
    pub fn completed(&mut self, from: &M) -> Option<ClientNext> {
        self.with_attempt(from, Authenticatee::completed)
    }

    /// The master refused.
    pub fn failed(&mut self, from: &M) -> Option<ClientNext> {
        self.with_attempt(from, Authenticatee::failed)
    }

    /// The master broke the exchange off.
    pub fn error(&mut self, from: &M, m: &AuthenticationError) -> Option<ClientNext> {
        self.with_attempt(from, |e| e.error(m))
    }

    /// One message from `from`: what to do next, as the methods above answer. A timeout
    /// answers `None`; whether it ended the attempt is [`ClientAuthentication::timed_out`]'s
    /// to say, so the shell can log it.
    pub fn on_message(&mut self, from: &M, msg: &AuthenticateeMessage) -> Option<ClientNext> {
        match msg {
            AuthenticateeMessage::Mechanisms(m) => self.mechanisms(from, m),
            AuthenticateeMessage::Step(m) => self.step(from, m),
            AuthenticateeMessage::Completed(_) => self.completed(from),
            AuthenticateeMessage::Failed(_) => self.failed(from),
            AuthenticateeMessage::Error(m) => self.error(from, m),
            AuthenticateeMessage::Timeout(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ClientAuthentication<&'static str> {
        ClientAuthentication::new(Some(Credential::new("agent", "pw")))
    }

    fn walk_to_completion(c: &mut ClientAuthentication<&'static str>, master: &'static str) {
        let offered = AuthenticationMechanisms {
            mechanisms: vec![super::super::CRAM_MD5.to_string()],
        };
        assert!(matches!(
            c.mechanisms(&master, &offered),
            Some(ClientNext::Send(_))
        ));
        let challenge = AuthenticationStep {
            data: b"<c@m>".to_vec(),
        };
        assert!(matches!(
            c.step(&master, &challenge),
            Some(ClientNext::Send(_))
        ));
        assert_eq!(c.completed(&master), Some(ClientNext::Authenticated));
    }

    #[test]
    fn without_a_credential_registration_goes_ahead() {
        let mut c = ClientAuthentication::<&str>::new(None);
        assert_eq!(c.begin(&"m1", "p"), Begin::Register);
        assert_eq!(c.principal(), None);
    }

    #[test]
    fn one_attempt_per_master_until_reset() {
        let mut c = client();
        let Begin::Send {
            message,
            generation,
        } = c.begin(&"m1", "slave(1)@a:1")
        else {
            panic!()
        };
        assert_eq!(message.pid, "slave(1)@a:1");
        assert_eq!(c.begin(&"m1", "p"), Begin::Waiting);
        // Messages from another master do not touch the attempt.
        assert_eq!(c.completed(&"m2"), None);
        walk_to_completion(&mut c, "m1");
        assert_eq!(c.begin(&"m1", "p"), Begin::Register);
        assert!(
            !c.timed_out(generation),
            "a finished attempt does not time out"
        );
        // Another master: authenticate again.
        assert!(matches!(
            c.begin(&"m2", "p"),
            Begin::Send { generation: 2, .. }
        ));
        c.reset();
        assert!(matches!(
            c.begin(&"m1", "p"),
            Begin::Send { generation: 3, .. }
        ));
    }

    #[test]
    fn refusals_errors_and_timeouts_end_the_attempt() {
        let mut c = client();
        let Begin::Send { generation, .. } = c.begin(&"m", "p") else {
            panic!()
        };
        assert!(c.timed_out(generation));
        assert!(!c.timed_out(generation));
        assert!(matches!(c.begin(&"m", "p"), Begin::Send { .. }));
        assert!(matches!(
            c.error(
                &"m",
                &AuthenticationError {
                    error: Some("x".into())
                }
            ),
            Some(ClientNext::Errored(_))
        ));
        assert!(matches!(c.begin(&"m", "p"), Begin::Send { .. }));
        assert_eq!(c.failed(&"m"), Some(ClientNext::Refused));
        assert!(matches!(c.begin(&"m", "p"), Begin::Send { .. }));
    }
}
