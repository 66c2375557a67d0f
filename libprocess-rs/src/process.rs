//! Processes (actors): the [`Process`] trait, the typed handle [`Pid`], and the loop that runs
//! one process.
//!
//! Each process is one task that takes envelopes from its mailbox one at a time and calls the
//! matching hook. Its state sits behind the mailbox's core lock, held around every hook: by
//! the task, or by a connection reader that runs a remote message's hook directly when the
//! process is idle (nothing queued, nothing running), so one hook runs at a time either way. Invariants: `initialize` runs before any
//! other hook and `finalize` after the last; after `finalize` the process is out of the node's
//! table, its linkers are told, and waiters wake (also if a hook panics: the exit guard runs
//! on unwinding).
//!
//! Layout: the recursive core is one module with child files: `context.rs` ([`Context`]),
//! `mailbox.rs` (the queue and core lock), `handlers.rs` (the name-to-`Message` table) and
//! `spawn.rs` (`Node::spawn` and its variants). This module uses the node (to send, and to
//! leave its table); the node does not use it: it delivers through the untyped
//! [`Sink`](crate::node::Sink) that a mailbox implements.

pub(crate) mod context;
pub(crate) mod handlers;
pub(crate) mod mailbox;
mod spawn;

use self::context::Context;
use self::handlers::Handlers;
use self::mailbox::{Core, Mailbox};
use crate::error::SendError;
use crate::http::{HttpReply, HttpRequest, HttpResponse};
use crate::message::ReplyToken;
use crate::node::transport;
use crate::node::Node;
use crate::upid::Upid;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// An actor. Implement [`handle`](Process::handle) and whichever hooks you need.
///
/// ```
/// use libprocess::{Context, Process};
///
/// struct Counter { total: u64 }
///
/// impl Process for Counter {
///     type Message = u64;
///     fn handle(&mut self, _ctx: &mut Context<Self>, n: u64) {
///         self.total += n;
///     }
/// }
/// ```
pub trait Process: Send + Sized + 'static {
    /// The process's message enum: everything its `handle` can receive.
    type Message: Send + 'static;

    /// Base of generated ids: `spawn` names a process `<base>(<n>)`.
    fn base_name(&self) -> &str {
        "process"
    }

    /// Mailbox capacity; `None` takes the node's default. Past it, new messages are dropped
    /// and counted (`libprocess/dropped/mailbox_full`).
    fn mailbox_capacity(&self) -> Option<usize> {
        None
    }

    /// Registers the named messages this process accepts by `Upid` (local or remote).
    fn install(handlers: &mut Handlers<Self>) {
        let _ = handlers;
    }

    /// Runs first, before any message.
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }

    /// Handles one message. The sender, if any, is `ctx.from()`; a pending `ask`, if any,
    /// is answered with `ctx.reply(..)`.
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Self::Message);

    /// A linked process terminated, or the connection to its node broke.
    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        let _ = (ctx, pid);
    }

    /// An HTTP request for `/<this id>/<route>` (or any unclaimed path, for the delegate).
    /// Answer through `reply`, now or later. The default answers 404.
    fn http(&mut self, ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        let _ = ctx;
        reply.respond(HttpResponse::not_found(format!(
            "no route {} on this process",
            request.route
        )));
    }

    /// Runs last, after the process was asked to terminate.
    fn finalize(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }
}

/// A closure run on the process (`Pid::dispatch`).
pub(crate) type DispatchFn<P> = Box<dyn FnOnce(&mut P, &mut Context<P>) + Send>;

/// What a process is handed, one at a time, through its mailbox (the input of
/// [`handle_one`]). Kept small (the request is boxed) since every message moves one.
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

/// A typed handle to a local process: sends move `P::Message` into its mailbox with no
/// encoding. Cheap to clone.
pub struct Pid<P: Process> {
    pub(crate) mailbox: Arc<Mailbox<P>>,
}

impl<P: Process> Clone for Pid<P> {
    fn clone(&self) -> Self {
        Pid {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<P: Process> std::fmt::Debug for Pid<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pid({})", self.mailbox.upid)
    }
}

impl<P: Process> Pid<P> {
    /// The process's address.
    pub fn upid(&self) -> &Upid {
        &self.mailbox.upid
    }

    /// Queues `msg` with no sender. At most once: dropped (with an error) if the mailbox is
    /// full or the process has terminated.
    pub fn send(&self, msg: P::Message) -> Result<(), SendError> {
        self.mailbox.push_bounded(Envelope::Message {
            from: None,
            reply: None,
            msg,
        })
    }

    /// Queues `msg` with `from` as its sender.
    pub fn send_from(&self, from: &Upid, msg: P::Message) -> Result<(), SendError> {
        self.mailbox.push_bounded(Envelope::Message {
            from: Some(from.clone()),
            reply: None,
            msg,
        })
    }

    /// Runs `f` on the process, in turn with its messages (libprocess's `dispatch`).
    pub fn dispatch(
        &self,
        f: impl FnOnce(&mut P, &mut Context<P>) + Send + 'static,
    ) -> Result<(), SendError> {
        self.mailbox.push_bounded(Envelope::Dispatch(Box::new(f)))
    }

    /// Asks the process to terminate after the messages already queued.
    pub fn terminate(&self) {
        self.mailbox.push_unbounded(Envelope::Terminate);
    }

    /// Messages queued or being handled.
    pub fn depth(&self) -> usize {
        self.mailbox.depth()
    }
}

/// Runs on drop (also when a hook panics): takes the process out of the node and tells
/// linkers and waiters.
struct ExitGuard {
    node: Node,
    upid: Upid,
    /// The address of the process's mailbox (tells it from a replacement under its id).
    mailbox: usize,
    done: watch::Sender<bool>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.node.inner().process_exited(&self.upid, self.mailbox);
        let _ = self.done.send(true);
    }
}

/// Runs on drop (also when the task is dropped with its runtime): drops the process's state
/// held by its mailbox, which also breaks the mailbox -> context -> mailbox cycle.
struct CoreRelease<P: Process>(Arc<Mailbox<P>>);

impl<P: Process> Drop for CoreRelease<P> {
    fn drop(&mut self) {
        let gone = self.0.core.lock().take();
        drop(gone);
    }
}

/// Envelopes handled in one batch before the loop yields to the runtime.
const BATCH_BUDGET: usize = 64;

/// Runs the hook for one envelope. The caller holds the process's core lock.
pub(crate) fn handle_one<P: Process>(process: &mut P, ctx: &mut Context<P>, envelope: Envelope<P>) {
    match envelope {
        Envelope::Message { from, reply, msg } => {
            ctx.from = from;
            ctx.reply = reply;
            process.handle(ctx, msg);
            ctx.from = None;
            ctx.reply = None;
        }
        Envelope::Exited(upid) => process.exited(ctx, upid),
        Envelope::Http(request, reply) => process.http(ctx, *request, reply),
        Envelope::Dispatch(f) => f(process, ctx),
        Envelope::Terminate => ctx.terminating = true,
    }
}

/// The loop of one process. The process's state lives in its mailbox's core slot so that a
/// connection reader may run a hook on an idle process without waking this task; this task
/// takes the core lock around each batch of hooks.
pub(crate) async fn run<P: Process>(
    process: P,
    mut rx: mpsc::UnboundedReceiver<Envelope<P>>,
    pid: Pid<P>,
    node: Node,
    done: watch::Sender<bool>,
) {
    let _exit = ExitGuard {
        node: node.clone(),
        upid: pid.upid().clone(),
        mailbox: Arc::as_ptr(&pid.mailbox) as *const () as usize,
        done,
    };
    let mailbox = pid.mailbox.clone();
    let _release = CoreRelease(mailbox.clone());
    let mut terminating = {
        let mut slot = mailbox.core.lock();
        let core = slot.insert(Core {
            process,
            ctx: Context::new(node, pid),
        });
        transport::batched(|| core.process.initialize(&mut core.ctx));
        core.ctx.terminating
    };
    while !terminating {
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut slot = mailbox.core.lock();
        let Some(core) = slot.as_mut() else {
            // A hook run by a connection reader panicked: the process is gone.
            drop(slot);
            mailbox.handled(1);
            break;
        };
        // Handle what is already queued without awaiting (up to a budget), so frames sent
        // by these handlers go out in one write at the end of the batch.
        // The depth counter is settled once per batch: one atomic write instead of one per
        // message on a line the senders also write.
        let handled = transport::batched(|| {
            let mut envelope = Some(first);
            let mut handled = 0;
            while let Some(current) = envelope.take() {
                handle_one(&mut core.process, &mut core.ctx, current);
                handled += 1;
                if core.ctx.terminating || handled == BATCH_BUDGET {
                    break;
                }
                envelope = rx.try_recv().ok();
            }
            handled
        });
        terminating = core.ctx.terminating;
        drop(slot);
        mailbox.handled(handled);
    }
    if mailbox.is_replaced() {
        // Another process has this id now. Senders that looked this mailbox up before the
        // swap may still be pushing: close the queue (their next push fails and a connection
        // reader looks the id up again, finding the replacement), then answer what got in,
        // so no message sent to the id is lost between the two processes.
        rx.close();
        let mut slot = mailbox.core.lock();
        if let Some(core) = slot.as_mut() {
            let handled = transport::batched(|| {
                let mut handled = 0;
                while let Ok(envelope) = rx.try_recv() {
                    handle_one(&mut core.process, &mut core.ctx, envelope);
                    handled += 1;
                }
                handled
            });
            drop(slot);
            mailbox.handled(handled);
        }
    }
    {
        let mut slot = mailbox.core.lock();
        if let Some(core) = slot.as_mut() {
            transport::batched(|| core.process.finalize(&mut core.ctx));
        }
        let gone = slot.take();
        drop(slot);
        drop(gone);
    }
    // Whatever is still queued is dropped (unanswered HTTP requests get 503).
    rx.close();
    let mut dropped = 0;
    while rx.try_recv().is_ok() {
        dropped += 1;
    }
    mailbox.handled(dropped);
}
