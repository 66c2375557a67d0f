//! Mailboxes: the bounded queue in front of each process, and the untyped [`Sink`] view the
//! node uses to deliver by `Upid`.
//!
//! Overflow policy: a mailbox holds at most `capacity` envelopes (queued plus the one being
//! handled). A message that would exceed it is dropped, counted in
//! `libprocess/dropped/mailbox_full`, and the sender gets `SendError::MailboxFull`. Dropping
//! the newest is sound because delivery is at-most-once anyway. Exit notifications,
//! continuation results and terminate requests bypass the bound: the process asked for them
//! and losing them would wedge it. `depth` counts queued plus in-handler envelopes, which is
//! what `/__processes__` shows and what `TestClock::settle` waits on.

use crate::context::Context;
use crate::error::SendError;
use crate::http::{HttpReply, HttpRequest, HttpResponse};
use crate::message::{AnyMessage, Handlers, ReplyToken};
use crate::metrics::Counter;
use crate::process::Process;
use crate::upid::Upid;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// A closure run on the process (`Pid::dispatch`).
pub(crate) type DispatchFn<P> = Box<dyn FnOnce(&mut P, &mut Context<P>) + Send>;

/// What a mailbox carries. Kept small (the request is boxed) since every message moves one.
pub(crate) enum Envelope<P: Process> {
    Message {
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        msg: P::Message,
    },
    Exited(Upid),
    Http(Box<HttpRequest>, HttpReply),
    Dispatch(DispatchFn<P>),
    Terminate,
}

/// Counters a mailbox bumps when it drops something.
#[derive(Clone, Default)]
pub(crate) struct DropCounters {
    pub mailbox_full: Counter,
    pub unknown_message: Counter,
    pub decode_failed: Counter,
}

pub(crate) struct Mailbox<P: Process> {
    pub upid: Upid,
    tx: mpsc::UnboundedSender<Envelope<P>>,
    depth: AtomicUsize,
    capacity: usize,
    handlers: Handlers<P>,
    counters: DropCounters,
}

impl<P: Process> Mailbox<P> {
    pub fn new(
        upid: Upid,
        capacity: usize,
        handlers: Handlers<P>,
        counters: DropCounters,
    ) -> (Self, mpsc::UnboundedReceiver<Envelope<P>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Mailbox {
                upid,
                tx,
                depth: AtomicUsize::new(0),
                capacity,
                handlers,
                counters,
            },
            rx,
        )
    }

    /// The error hands the envelope back (boxed: errors are the rare path).
    #[allow(clippy::type_complexity)]
    fn push(
        &self,
        envelope: Envelope<P>,
        bounded: bool,
    ) -> Result<(), Box<(SendError, Envelope<P>)>> {
        let previous = self.depth.fetch_add(1, Ordering::AcqRel);
        if bounded && previous >= self.capacity {
            self.depth.fetch_sub(1, Ordering::AcqRel);
            self.counters.mailbox_full.inc();
            return Err(Box::new((
                SendError::MailboxFull {
                    to: self.upid.clone(),
                    capacity: self.capacity,
                },
                envelope,
            )));
        }
        self.tx.send(envelope).map_err(|back| {
            self.depth.fetch_sub(1, Ordering::AcqRel);
            Box::new((
                SendError::UnknownProcess {
                    to: self.upid.clone(),
                },
                back.0,
            ))
        })
    }

    /// Queues within the capacity bound.
    pub fn push_bounded(&self, envelope: Envelope<P>) -> Result<(), SendError> {
        self.push(envelope, true).map_err(|b| b.0)
    }

    /// Queues regardless of the bound (exits, continuations, terminate). Returns false if the
    /// process has terminated.
    pub fn push_unbounded(&self, envelope: Envelope<P>) -> bool {
        self.push(envelope, false).is_ok()
    }

    /// Marks `n` envelopes as handled (or discarded).
    pub fn handled(&self, n: usize) {
        if n > 0 {
            self.depth.fetch_sub(n, Ordering::AcqRel);
        }
    }

    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Acquire)
    }

    fn unknown(&self, name: &str) -> SendError {
        self.counters.unknown_message.inc();
        SendError::UnknownMessage {
            to: self.upid.clone(),
            name: name.to_string(),
        }
    }
}

/// The untyped view of a mailbox, for delivery by `Upid`.
pub(crate) trait Sink: Send + Sync {
    fn upid(&self) -> &Upid;
    /// False once the process has terminated.
    fn is_open(&self) -> bool;
    fn deliver_any(
        &self,
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        name: &str,
        msg: AnyMessage,
    ) -> Result<(), SendError>;
    fn deliver_encoded(
        &self,
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), SendError>;
    fn deliver_exited(&self, who: Upid);
    fn deliver_http(&self, request: HttpRequest, reply: HttpReply);
    fn terminate(&self);
    fn depth(&self) -> usize;
}

impl<P: Process> Sink for Mailbox<P> {
    fn upid(&self) -> &Upid {
        &self.upid
    }

    fn is_open(&self) -> bool {
        !self.tx.is_closed()
    }

    fn deliver_any(
        &self,
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        name: &str,
        msg: AnyMessage,
    ) -> Result<(), SendError> {
        match self.handlers.convert_any(name, msg) {
            Some(Some(msg)) => self.push_bounded(Envelope::Message { from, reply, msg }),
            // A name registered for another type: the sender's and receiver's types disagree.
            Some(None) | None => Err(self.unknown(name)),
        }
    }

    fn deliver_encoded(
        &self,
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), SendError> {
        match self.handlers.decode(name, bytes) {
            Some(Ok(msg)) => self.push_bounded(Envelope::Message { from, reply, msg }),
            Some(Err(reason)) => {
                self.counters.decode_failed.inc();
                Err(SendError::Encode {
                    to: self.upid.clone(),
                    name: name.to_string(),
                    reason: format!("undecodable payload: {reason}"),
                })
            }
            None => Err(self.unknown(name)),
        }
    }

    fn deliver_exited(&self, who: Upid) {
        self.push_unbounded(Envelope::Exited(who));
    }

    fn deliver_http(&self, request: HttpRequest, reply: HttpReply) {
        if let Err(back) = self.push(Envelope::Http(Box::new(request), reply), true) {
            let (error, envelope) = *back;
            let Envelope::Http(_, reply) = envelope else {
                unreachable!("push hands back the envelope it was given");
            };
            reply.respond(HttpResponse::text(
                http::StatusCode::SERVICE_UNAVAILABLE,
                error.to_string(),
            ));
        }
    }

    fn terminate(&self) {
        self.push_unbounded(Envelope::Terminate);
    }

    fn depth(&self) -> usize {
        Mailbox::depth(self)
    }
}
