//! [`Context`]: what a process's hooks may do besides changing their own state: send, reply,
//! link, start continuations (`defer`), set timers (`delay`), spawn, terminate.
//!
//! Nothing here blocks: long work runs outside the process and comes back as a message.

use super::{Envelope, Pid, Process};
use crate::error::{AskError, SendError, SpawnError};
use crate::message::{RemoteMessage, ReplyToken};
use crate::node::Node;
use crate::upid::Upid;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The handle a process's hooks get to the runtime.
pub struct Context<P: Process> {
    node: Node,
    pid: Pid<P>,
    pub(crate) from: Option<Upid>,
    pub(crate) reply: Option<ReplyToken>,
    pub(crate) terminating: bool,
}

/// Cancels a timer set with [`Context::delay`]; dropping it does not cancel.
#[derive(Debug, Clone)]
pub struct DelayHandle {
    cancelled: Arc<AtomicBool>,
}

impl DelayHandle {
    /// The timer's message will not be delivered (if it has not been already).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }
}

impl<P: Process> Context<P> {
    pub(crate) fn new(node: Node, pid: Pid<P>) -> Self {
        Context {
            node,
            pid,
            from: None,
            reply: None,
            terminating: false,
        }
    }

    /// This process's address.
    pub fn self_upid(&self) -> &Upid {
        self.pid.upid()
    }

    /// A typed handle to this process.
    pub fn pid(&self) -> &Pid<P> {
        &self.pid
    }

    /// The node this process runs on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The sender of the message being handled, if it was sent by a process.
    pub fn from(&self) -> Option<&Upid> {
        self.from.as_ref()
    }

    /// Sends a named message to any process, local or remote, with this process as sender.
    pub fn send<M: RemoteMessage>(&self, to: &Upid, msg: M) -> Result<(), SendError> {
        self.node.send_from(Some(self.pid.upid()), to, msg)
    }

    /// Sends a message encoded once (see [`Encoded`](crate::Encoded)) with this process as
    /// sender: the stored bytes go to a remote receiver, no per-send encoding.
    pub fn send_encoded<M: RemoteMessage + Clone>(
        &self,
        to: &Upid,
        msg: &crate::Encoded<M>,
    ) -> Result<(), SendError> {
        self.node.send_encoded_from(Some(self.pid.upid()), to, msg)
    }

    /// Answers the `ask` being handled. Returns `false` if the message was not an ask (or it
    /// was answered already).
    pub fn reply<R: RemoteMessage>(&mut self, msg: R) -> Result<bool, SendError> {
        match self.reply.take() {
            Some(token) => self.node.reply(token, msg).map(|()| true),
            None => Ok(false),
        }
    }

    /// Takes the pending `ask`'s reply token to answer later with [`Node::reply`].
    pub fn take_reply_token(&mut self) -> Option<ReplyToken> {
        self.reply.take()
    }

    /// Asks `to` with this process as sender; run the returned future with
    /// [`defer`](Self::defer) to get the answer back as a message.
    pub fn ask<Req: RemoteMessage, Resp: RemoteMessage>(
        &self,
        to: &Upid,
        request: Req,
        timeout: Duration,
    ) -> impl Future<Output = Result<Resp, AskError>> + Send + 'static {
        self.node
            .ask_from(Some(self.pid.upid()), to, request, timeout)
    }

    /// Watches `target`: `exited` is called when it terminates, does not exist, or the
    /// connection to its node breaks.
    pub fn link(&self, target: &Upid) {
        self.node.inner().link(self.pid.upid(), target);
    }

    /// Stops watching `target`.
    pub fn unlink(&self, target: &Upid) {
        self.node.inner().unlink(self.pid.upid(), target);
    }

    /// Runs `future` outside this process and delivers `map(output)` to it as a message
    /// (libprocess's `defer`). The result bypasses the mailbox bound.
    pub fn defer<T, F, M>(&self, future: F, map: M)
    where
        F: Future<Output = T> + Send + 'static,
        M: FnOnce(T) -> P::Message + Send + 'static,
        T: Send + 'static,
    {
        let pid = self.pid.clone();
        self.node.inner().spawner.spawn(Box::pin(async move {
            let output = future.await;
            pid.mailbox.push_unbounded(Envelope::Message {
                from: None,
                reply: None,
                msg: map(output),
            });
        }));
    }

    /// Wall-clock time by the node's clock: the one source of timestamps for actors (a
    /// paused test clock freezes it).
    pub fn wall_time(&self) -> std::time::SystemTime {
        self.node.wall_time()
    }

    /// The next value of the node's random source.
    pub fn random_u64(&self) -> u64 {
        self.node.random_u64()
    }

    /// A value drawn uniformly from `range` (both ends included) with the node's random source.
    pub fn random_in(&self, range: std::ops::RangeInclusive<u64>) -> u64 {
        self.node.random_in(range)
    }

    /// A random (version 4) uuid from the node's random source: ids and status update uuids.
    pub fn uuid_v4(&self) -> uuid::Uuid {
        self.node.uuid_v4()
    }

    /// Delivers `msg` to this process after `after` on the node's clock.
    pub fn delay(&self, after: Duration, msg: P::Message) -> DelayHandle {
        let cancelled = Arc::new(AtomicBool::new(false));
        let handle = DelayHandle {
            cancelled: cancelled.clone(),
        };
        let clock = self.node.clock();
        let mut sleep = clock.sleep_until(clock.now() + after);
        let pid = self.pid.clone();
        self.node.inner().spawner.spawn(Box::pin(async move {
            (&mut sleep).await;
            if !cancelled.load(Ordering::Acquire) {
                pid.mailbox.push_unbounded(Envelope::Message {
                    from: None,
                    reply: None,
                    msg,
                });
            }
            // The timer stays registered (and settle waits) until the message is queued.
            drop(sleep);
        }));
        handle
    }

    /// Spawns another process on this node.
    pub fn spawn<Q: Process>(&self, process: Q) -> Result<Pid<Q>, SpawnError> {
        self.node.spawn(process)
    }

    /// Terminates this process once the current hook returns (queued messages are dropped).
    pub fn terminate(&mut self) {
        self.terminating = true;
    }
}
