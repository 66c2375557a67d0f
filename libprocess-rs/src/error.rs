//! The crate's error types: each variant names what went wrong and the value involved.

use crate::upid::Upid;
use std::net::SocketAddr;
use std::time::Duration;

/// Why a message was not accepted for delivery. Delivery is at most once: `Ok` means the
/// message was queued, not that it arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The target's mailbox holds its capacity already; the new message was dropped.
    #[error("mailbox of {to} is full ({capacity} messages); message dropped")]
    MailboxFull {
        /// The receiver.
        to: Upid,
        /// Its mailbox capacity.
        capacity: usize,
    },
    /// No process with that id lives on this node (or it has terminated).
    #[error("no process {to} on this node")]
    UnknownProcess {
        /// The receiver.
        to: Upid,
    },
    /// The target does not accept messages of this name.
    #[error("process {to} does not accept message {name:?}")]
    UnknownMessage {
        /// The receiver.
        to: Upid,
        /// The message name.
        name: String,
    },
    /// The message could not be encoded for the wire.
    #[error("message {name:?} to {to} could not be encoded: {reason}")]
    Encode {
        /// The receiver.
        to: Upid,
        /// The message name.
        name: String,
        /// The encoder's or size check's explanation.
        reason: String,
    },
    /// The outbound queue to the receiver's node is full; the message was dropped.
    #[error("outbound queue to {addr} is full ({capacity_bytes} bytes); message dropped")]
    OutboundFull {
        /// The peer node.
        addr: SocketAddr,
        /// The queue bound.
        capacity_bytes: usize,
    },
    /// A test filter dropped the message.
    #[error("message {name:?} to {to} dropped by a test filter")]
    Filtered {
        /// The receiver.
        to: Upid,
        /// The message name.
        name: String,
    },
    /// The node is shutting down.
    #[error("node is shut down")]
    NodeShutDown,
}

/// Why a process could not be spawned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    /// A live process already has this id.
    #[error("a process with id {0:?} already exists on this node")]
    DuplicateId(String),
    /// The id is empty or has a character not allowed in ids (`@ / ? # %`, space, control).
    #[error("process id {0:?} is empty or has a character not allowed in an id")]
    InvalidId(String),
    /// The node is shutting down.
    #[error("node is shut down")]
    NodeShutDown,
}

/// Why an `ask` did not produce a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// The request could not be sent.
    #[error("request not sent: {0}")]
    Send(#[from] SendError),
    /// No reply came within the timeout (on the node's clock).
    #[error("no reply from {to} within {timeout:?}")]
    Timeout {
        /// The receiver.
        to: Upid,
        /// The timeout.
        timeout: Duration,
    },
    /// The reply had another message name than the one expected.
    #[error("reply from {to} is {got:?}, expected {expected:?}")]
    WrongReply {
        /// The receiver.
        to: Upid,
        /// Expected name.
        expected: &'static str,
        /// Received name.
        got: String,
    },
    /// The reply could not be decoded.
    #[error("reply {name:?} from {to} could not be decoded: {reason}")]
    Decode {
        /// The receiver.
        to: Upid,
        /// Reply name.
        name: String,
        /// Decoder's explanation.
        reason: String,
    },
    /// The node shut down while waiting.
    #[error("node shut down while waiting for a reply from {to}")]
    NodeShutDown {
        /// The receiver.
        to: Upid,
    },
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The delegate id is not a valid process id.
    #[error("delegate {0:?} is not a valid process id")]
    InvalidDelegate(String),
    /// A configured limit is zero.
    #[error("configuration {name} must be positive, got {value}")]
    BadLimit {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: usize,
    },
    /// `NodeBuilder::tls` was given a client-only configuration.
    #[error("a node's TLS needs a certificate and key to serve its port")]
    TlsWithoutCertificate,
}
