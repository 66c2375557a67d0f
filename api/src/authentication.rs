//! Authentication of agents and scheduler drivers to the master over the actor protocol,
//! as Mesos's default v0 authenticator: a CRAM-MD5 challenge-response (RFC 2195) carried in
//! Mesos's SASL-shaped messages (`crate::wire::Authenticate`, ...), so the secret never
//! travels and a recorded answer is worthless against the next (fresh) challenge.
//!
//! | module | owns |
//! |---|---|
//! | [`cram_md5`] | the digest and the response's text form |
//! | [`credential`] | one principal and secret (`--credential`, a driver's credential) |
//! | [`authenticator`] | the master's side of one exchange |
//! | [`authenticatee`] | the client's side of one exchange |
//! | [`client`] | a client's attempts across masters, timeouts and broken links |
//!
//! Invariants: no I/O, no clock, no randomness (the master's shell draws the challenge's
//! nonce); each side is one-shot (a finished exchange answers every further message with
//! an error, never a second success); a message out of order ends the exchange with an
//! error; secrets appear in no `Debug` output and no error text.
//!
//! ```
//! use meso_api::authentication::{Authenticatee, Authenticator, ClientNext, Credential, ServerReply};
//! use meso_api::http::auth::Credentials;
//!
//! let credentials = Credentials::parse("agent s3cret\n").map_err(|e| e.to_string())?;
//! let (mut client, _hello) = Authenticatee::new(Credential::new("agent", "s3cret"), "slave(1)@10.0.0.2:5051");
//! let (mut server, offered) = Authenticator::new("<7f3a.1700000000@master>".to_string());
//! let ClientNext::Send(start) = client.mechanisms(&offered) else { panic!("no start") };
//! let ServerReply::Step(challenge) = server.start(start.start().unwrap()) else { panic!("no challenge") };
//! let ClientNext::Send(answer) = client.step(&challenge) else { panic!("no answer") };
//! let reply = server.step(answer.step().unwrap(), Some(&credentials));
//! assert_eq!(reply, ServerReply::Completed { principal: "agent".to_string() });
//! assert_eq!(client.completed(), ClientNext::Authenticated);
//! # Ok::<(), String>(())
//! ```

pub mod authenticatee;
pub mod authenticator;
pub mod client;
pub mod cram_md5;
pub mod credential;

pub use authenticatee::{Authenticatee, ClientMessage, ClientNext};
pub use authenticator::{challenge_text, Authenticator, ServerReply};
pub use client::{AuthenticateeMessage, Begin, ClientAuthentication};
pub use credential::{Credential, CredentialError};

/// The one mechanism meso offers and uses (Mesos's default, `crammd5`).
pub const CRAM_MD5: &str = "CRAM-MD5";
