//! [`Encoded`]: a message serialized once and sent any number of times.
//!
//! A sender that repeats the same large message (an agent re-registering with all its tasks
//! after every master failover, retrying until answered) pays the encoding on every send
//! with [`Context::send`](crate::Context::send). An `Encoded` keeps the value and its payload
//! bytes: remote sends copy the bytes into the frame, local sends clone the value (messages
//! inside one node are moved, never encoded).
//!
//! Invariant: `payload` is exactly the postcard encoding of `message`, so a receiver cannot
//! tell an `Encoded` send from an ordinary one.

use bytes::Bytes;

use crate::message::RemoteMessage;

/// A message with its wire payload, encoded once (see the module docs).
#[derive(Debug, Clone)]
pub struct Encoded<M> {
    message: M,
    payload: Bytes,
}

impl<M: RemoteMessage + Clone> Encoded<M> {
    /// Encodes `message`; the error is the encoder's explanation.
    pub fn new(message: M) -> Result<Encoded<M>, postcard::Error> {
        let payload = Bytes::from(postcard::to_allocvec(&message)?);
        Ok(Encoded { message, payload })
    }

    /// The message value.
    pub fn message(&self) -> &M {
        &self.message
    }

    /// The encoded payload (what a frame carries after its header).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }
}
