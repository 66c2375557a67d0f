//! Request/response between processes (`ask`), on top of named messages: the asker's
//! pending table is keyed by a random correlation id carried in `Request` and `Reply`
//! frames (or in the local reply token). Invariant: each pending ask is removed exactly once:
//! by its reply, its timeout, or the node's shutdown.

use super::{encode_payload, Node, NodeInner};
use crate::error::{AskError, SendError};
use crate::frame::{FrameKind, Header};
use crate::message::{RemoteMessage, ReplyPayload, ReplyToken};
use crate::upid::Upid;
use bytes::Bytes;
use std::future::Future;
use std::time::Duration;
use tokio::sync::oneshot;

impl Node {
    /// Answers an `ask` whose token was kept with [`Context::take_reply_token`].
    ///
    /// [`Context::take_reply_token`]: crate::Context::take_reply_token
    pub fn reply<R: RemoteMessage>(&self, token: ReplyToken, msg: R) -> Result<(), SendError> {
        let inner = &self.0;
        if token.asker.addr() == inner.addr {
            if let Some(tx) = inner.asks.lock().remove(&token.correlation) {
                let _ = tx.send(ReplyPayload::Local {
                    name: R::NAME,
                    value: Box::new(msg),
                });
            }
            return Ok(());
        }
        inner.send_frame(
            &token.asker,
            Header {
                kind: FrameKind::Reply,
                correlation: token.correlation,
                from: "",
                to: token.asker.as_str(),
                name: R::NAME,
                tracked: false,
            },
            |buf| encode_payload(&msg, buf),
        )
    }

    /// Sends `request` to `to` and waits for its reply, at most `timeout` on the node's clock.
    /// The request is sent at once, before the future is polled.
    pub fn ask<Req: RemoteMessage, Resp: RemoteMessage>(
        &self,
        to: &Upid,
        request: Req,
        timeout: Duration,
    ) -> impl Future<Output = Result<Resp, AskError>> + Send + 'static {
        self.ask_from(None, to, request, timeout)
    }

    pub(crate) fn ask_from<Req: RemoteMessage, Resp: RemoteMessage>(
        &self,
        from: Option<&Upid>,
        to: &Upid,
        request: Req,
        timeout: Duration,
    ) -> impl Future<Output = Result<Resp, AskError>> + Send + 'static {
        let inner = self.0.clone();
        let correlation = inner.rng.lock().next_u64() | 1;
        let (tx, rx) = oneshot::channel();
        inner.asks.lock().insert(correlation, tx);
        let asker = from.cloned().unwrap_or_else(|| inner.ask_upid.clone());
        let token = ReplyToken {
            asker: asker.clone(),
            correlation,
        };
        let sent = self.route(Some(&asker), to, request, Some(token));
        let mut sleep = inner.clock.sleep_until(inner.clock.now() + timeout);
        let to = to.clone();
        async move {
            if let Err(e) = sent {
                inner.asks.lock().remove(&correlation);
                return Err(AskError::Send(e));
            }
            let outcome = tokio::select! {
                // Deterministic: branches are polled in order (the simulator replays seeds).
                biased;
                reply = rx => Some(reply),
                () = &mut sleep => None,
            };
            drop(sleep);
            match outcome {
                None => {
                    inner.asks.lock().remove(&correlation);
                    Err(AskError::Timeout { to, timeout })
                }
                Some(Err(_)) => Err(AskError::NodeShutDown { to }),
                Some(Ok(ReplyPayload::Local { name, value })) => value
                    .downcast::<Resp>()
                    .map(|b| *b)
                    .map_err(|_| AskError::WrongReply {
                        to,
                        expected: Resp::NAME,
                        got: name.to_string(),
                    }),
                Some(Ok(ReplyPayload::Encoded { name, bytes })) => {
                    if name != Resp::NAME {
                        return Err(AskError::WrongReply {
                            to,
                            expected: Resp::NAME,
                            got: name,
                        });
                    }
                    postcard::from_bytes(&bytes).map_err(|e| AskError::Decode {
                        to,
                        name,
                        reason: e.to_string(),
                    })
                }
            }
        }
    }
}

impl NodeInner {
    /// A reply frame arrived.
    pub(crate) fn reply_arrived(&self, correlation: u64, name: &str, payload: &[u8]) {
        if let Some(tx) = self.asks.lock().remove(&correlation) {
            let _ = tx.send(ReplyPayload::Encoded {
                name: name.to_string(),
                bytes: Bytes::copy_from_slice(payload),
            });
        }
    }
}
