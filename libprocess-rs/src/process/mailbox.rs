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

use super::context::Context;
use super::handlers::Handlers;
use crate::error::SendError;
use crate::http::{HttpReply, HttpRequest, HttpResponse};
use crate::message::{AnyMessage, ReplyToken};
use crate::node::{DropCounters, Sink};
use crate::process::{self, Envelope, Process};
use crate::upid::Upid;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// A process's state and context while its loop runs. Whoever holds the mailbox's `core`
/// lock may run one hook on it: the process's own task, or a connection reader delivering to
/// an idle process (see [`Sink::deliver_encoded`]).
pub(crate) struct Core<P: Process> {
    pub process: P,
    pub ctx: Context<P>,
}

pub(crate) struct Mailbox<P: Process> {
    pub upid: Upid,
    /// `Some` from just before `initialize` until the process ends (or a hook run by a reader
    /// panicked). Locked only around hooks, never across an await.
    pub core: Mutex<Option<Core<P>>>,
    tx: mpsc::UnboundedSender<Envelope<P>>,
    depth: AtomicUsize,
    /// Set when another process took this one's id (`Node::replace_named`): the loop then
    /// closes the queue and still handles what it holds instead of dropping it.
    replaced: AtomicBool,
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
                core: Mutex::new(None),
                tx,
                depth: AtomicUsize::new(0),
                replaced: AtomicBool::new(false),
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

    /// Whether another process took this one's id.
    pub fn is_replaced(&self) -> bool {
        self.replaced.load(Ordering::Acquire)
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

    /// Runs `envelope`'s hook right here if the process is idle (nothing queued, no hook
    /// running, not terminating): the caller's thread does the work and no task is woken.
    /// Hands the envelope back if it must be queued instead.
    ///
    /// Order is kept: `depth` counts every queued envelope, so an envelope is never run here
    /// ahead of one queued earlier. One hook at a time: hooks run only under `core`'s lock.
    /// Callers must not hold any process's `core` lock (only connection readers call this).
    fn try_inline(&self, envelope: Envelope<P>) -> Option<Envelope<P>> {
        if self.depth.load(Ordering::Acquire) != 0 {
            return Some(envelope);
        }
        let Some(mut slot) = self.core.try_lock() else {
            return Some(envelope);
        };
        let Some(core) = slot.as_mut() else {
            return Some(envelope);
        };
        // Claim the slot in `depth` (settle and `/__processes__` see the message in hand).
        if core.ctx.terminating
            || self
                .depth
                .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return Some(envelope);
        }
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            process::handle_one(&mut core.process, &mut core.ctx, envelope)
        }));
        let wake_to_end = match ran {
            Ok(()) => {
                let terminating = core.ctx.terminating;
                drop(slot);
                terminating
            }
            Err(_) => {
                // As when a hook panics on the process's task: the process ends without
                // `finalize`. Its task wakes on the terminate below, finds no core, and exits.
                let gone = slot.take();
                drop(slot);
                drop(gone);
                true
            }
        };
        self.handled(1);
        if wake_to_end {
            self.push_unbounded(Envelope::Terminate);
        }
        None
    }

    fn unknown(&self, name: &str) -> SendError {
        self.counters.unknown_message.inc();
        SendError::UnknownMessage {
            to: self.upid.clone(),
            name: name.to_string(),
        }
    }
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

    fn handler_index(&self, name: &str) -> Option<usize> {
        self.handlers.index_of(name)
    }

    fn deliver_encoded(
        &self,
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        name: &str,
        handler: Option<usize>,
        bytes: &[u8],
    ) -> Result<(), SendError> {
        match handler.and_then(|index| self.handlers.decode_at(index, bytes)) {
            Some(Ok(msg)) => match self.try_inline(Envelope::Message { from, reply, msg }) {
                None => Ok(()),
                Some(envelope) => self.push_bounded(envelope),
            },
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

    fn retire(&self) {
        self.replaced.store(true, Ordering::Release);
        self.push_unbounded(Envelope::Terminate);
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
