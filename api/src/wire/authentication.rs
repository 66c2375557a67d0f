//! Authentication of agents and scheduler drivers to the master, with Mesos's message names
//! and flow (the SASL exchange of `authenticator.proto`/`messages.proto`): the client sends
//! [`Authenticate`]; the master offers [`AuthenticationMechanisms`]; the client picks one
//! with [`AuthenticationStart`]; challenge and response travel as [`AuthenticationStep`]s;
//! the master ends with [`AuthenticationCompleted`], [`AuthenticationFailed`] (wrong
//! credentials) or [`AuthenticationError`] (the exchange itself went wrong). The pure
//! sides of the exchange are `crate::authentication`.

use serde::{Deserialize, Serialize};

/// Client to master: "I want to authenticate the process `pid`" (its own process).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticate {
    /// The process that will register once authenticated (`slave(1)@ip:port`, ...).
    pub pid: String,
}

/// Master to client: the mechanisms it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationMechanisms {
    /// Mechanism names (`CRAM-MD5`).
    pub mechanisms: Vec<String>,
}

/// Client to master: the mechanism chosen, with its first data if it has any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationStart {
    /// One of the offered mechanisms.
    pub mechanism: String,
    /// The client's initial data (none for CRAM-MD5).
    pub data: Option<Vec<u8>>,
}

/// Either way: one step of the exchange (the master's challenge, the client's response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationStep {
    /// The step's bytes.
    pub data: Vec<u8>,
}

/// Master to client: authenticated; the client's registrations are now accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationCompleted {}

/// Master to client: the credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationFailed {}

/// Master to client: the exchange broke off (unknown mechanism, a step out of order, a
/// timeout); trying again may work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationError {
    /// What went wrong.
    pub error: Option<String>,
}
