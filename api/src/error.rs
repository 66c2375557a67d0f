//! The one error type of `meso-api`.
//!
//! Every variant names what was wrong and the offending value (the token, the role, the id,
//! the JSON path), so that a caller can show it to a user unchanged. Variants are only ever
//! added (the enum is `#[non_exhaustive]`), never renamed, because other crates match on them.

use thiserror::Error;

/// Everything that can go wrong when building, parsing or decoding the Mesos data model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A scalar value that is not a finite, non-negative number with at most the
    /// representable magnitude.
    #[error("bad scalar '{token}': {reason}")]
    BadScalar {
        /// The text (or number) that was rejected.
        token: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A ranges value (`[a-b,c-d]`) that does not parse or is not well formed.
    #[error("bad ranges '{token}': {reason}")]
    BadRanges {
        /// The text that was rejected.
        token: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A set value (`{a,b}`) that does not parse or has duplicate items.
    #[error("bad set '{token}': {reason}")]
    BadSet {
        /// The text that was rejected.
        token: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A resource (one `name(role):value` token or one JSON object) that is malformed.
    #[error("bad resource '{token}': {reason}")]
    BadResource {
        /// The token or resource name that was rejected.
        token: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An attribute (one `name:value` token) that is malformed.
    #[error("bad attribute '{token}': {reason}")]
    BadAttribute {
        /// The token that was rejected.
        token: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A role name that Mesos would refuse.
    #[error("invalid role '{role}': {reason}")]
    InvalidRole {
        /// The role that was rejected.
        role: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An id (task, executor, agent, framework, ...) that Mesos would refuse.
    #[error("invalid {kind} '{id}': {reason}")]
    InvalidId {
        /// Which kind of id (e.g. "task id").
        kind: &'static str,
        /// The id that was rejected.
        id: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A message (task, call, operation ...) that breaks a rule of its own.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid, with its id (e.g. "task 'web-1'").
        what: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A checked subtraction of resources that are not contained in the minuend.
    #[error("cannot subtract {subtrahend} from {minuend}: not contained")]
    NotContained {
        /// Display form of the left-hand side.
        minuend: String,
        /// Display form of the right-hand side.
        subtrahend: String,
    },
    /// JSON input nested deeper than the limit allows (CVE-2018-11793 class of input).
    #[error("JSON nested too deeply: depth {depth} exceeds the limit of {limit} at byte {offset}")]
    JsonTooDeep {
        /// The depth reached.
        depth: usize,
        /// The configured limit.
        limit: usize,
        /// Byte offset where the limit was crossed.
        offset: usize,
    },
    /// A JSON string longer than the limit allows.
    #[error("JSON string too long: {length} bytes exceeds the limit of {limit} at byte {offset}")]
    JsonStringTooLong {
        /// The length reached (bytes, as encoded).
        length: usize,
        /// The configured limit.
        limit: usize,
        /// Byte offset where the string starts.
        offset: usize,
    },
    /// A JSON array or object with more elements than the limit allows.
    #[error("JSON array or object too large: more than {limit} elements at byte {offset}")]
    JsonTooManyElements {
        /// The configured limit.
        limit: usize,
        /// Byte offset where the container starts.
        offset: usize,
    },
    /// A JSON document larger than the limit allows.
    #[error("JSON document too large: {length} bytes exceeds the limit of {limit}")]
    JsonTooLarge {
        /// The document length.
        length: usize,
        /// The configured limit.
        limit: usize,
    },
    /// JSON that is malformed or does not match the expected message (missing required
    /// field, wrong enum name, wrong type...). The message names the field or token.
    #[error("invalid JSON: {message}")]
    Json {
        /// serde_json's description, which names the field or token and the position.
        message: String,
    },
    /// A binary (postcard) wire frame that does not decode.
    #[error("invalid wire frame for {message_name}: {reason}")]
    Wire {
        /// The message name the frame claimed to be.
        message_name: String,
        /// Why decoding failed.
        reason: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
