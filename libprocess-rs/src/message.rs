//! Named messages that can cross nodes, and the token an `ask`'s reply goes back with.
//!
//! A message type implements [`RemoteMessage`] (serde + a stable `NAME`). Locally the value is
//! moved (boxed as `Any` only to cross the untyped `Upid` path); remotely it is postcard bytes,
//! decoded by the receiver's table (`process/handlers.rs`). Both the node and processes use
//! this module; it uses neither.

use crate::upid::Upid;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;

/// A message that can be sent by `Upid`, to this node or another.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Ping(u64);
/// impl libprocess::RemoteMessage for Ping {
///     const NAME: &'static str = "example.Ping";
/// }
/// ```
pub trait RemoteMessage: Serialize + DeserializeOwned + Send + 'static {
    /// The name carried in frames and matched by filters; unique within an application.
    const NAME: &'static str;
}

/// A message value travelling inside one node: moved, not encoded.
pub(crate) type AnyMessage = Box<dyn Any + Send>;

/// Where to send the reply to an `ask`: keep it to answer later with
/// [`Node::reply`](crate::Node::reply) or answer at once with
/// [`Context::reply`](crate::Context::reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyToken {
    pub(crate) asker: Upid,
    pub(crate) correlation: u64,
}

impl ReplyToken {
    /// The asker (a process, or the node's ask endpoint when asked from outside a process).
    pub fn asker(&self) -> &Upid {
        &self.asker
    }
}

/// A reply on its way back to the asker.
pub(crate) enum ReplyPayload {
    Local {
        name: &'static str,
        value: AnyMessage,
    },
    Encoded {
        name: String,
        bytes: bytes::Bytes,
    },
}
