//! libprocess: an actor runtime in the spirit of Mesos's libprocess.
//!
//! A [`Node`] listens on one TCP port that serves both actor frames and HTTP. Processes
//! ([`Process`]) run on it one message at a time; they are addressed by [`Upid`]
//! (`id@ip:port`) or, locally and typed, by [`Pid`]. Named messages ([`RemoteMessage`]) cross
//! nodes as postcard-encoded frames; local sends move values. Links, `ask`, timers on a
//! replaceable [`Clock`], test filters and metrics complete the toolbox. The crate knows
//! nothing of Mesos; see ARCHITECTURE.md for the map.
//!
//! Delivery:
//! - A local send (`Pid::send`, or a send to a `Upid` on this node) moves the value into the
//!   receiver's mailbox; nothing is encoded. A remote send encodes one frame straight into
//!   the peer's outbound buffer (`node/transport.rs`). A process handles up to 64 queued
//!   envelopes per wake; frames its hooks queued leave at the end of that batch, written from the
//!   process's thread when the peer's writer task is idle, else by the writer task.
//! - The reader task of an inbound connection parses frames in place and, when the receiver
//!   is idle (nothing queued, core lock free), runs its hook itself on the reader's thread;
//!   otherwise it queues the message. FIFO per (sender, receiver) holds: one connection per
//!   node pair and direction, and a message runs in place only when nothing is queued.
//! - Frame kinds (`frame.rs`): message, request (an `ask`, with a correlation id), reply,
//!   link, unlink, exited. A node never writes on a connection it accepted.
//! - Links: a link to a remote process is registered locally and announced with a link
//!   frame; the remote node answers `exited` when the process is gone or ends, and a broken
//!   connection is an `exited` for every remote process watched on it.
//! - HTTP shares the port: the first bytes of a connection decide (the frame preamble, an
//!   HTTP method, or garbage that is counted and dropped). `/<id>/<route>` reaches process
//!   `<id>`'s `http` hook, anything else the node's delegate, else 404.
//! - TLS ([`tls`], rustls): `NodeBuilder::tls` with a [`Tls`] from PEM (certificate, key,
//!   CA) makes a TLS ClientHello (first byte `0x16`) a third branch of that switch; frames
//!   and HTTP then run inside TLS on the same port, plain connections are refused unless
//!   [`TlsOptions::support_downgrade`], client certificates are checked against the CA (and
//!   required with [`TlsOptions::require_client_cert`]), and every connection the node
//!   opens is TLS. It needs nothing else of the crate, so an embedder configures it alone:
//!   `Node::builder().tls(Tls::from_files(cert, key, ca, TlsOptions::default())?)`.
//! - Hostile clients ([`Limits`]): at most `max_connections` open inbound connections;
//!   `first_bytes_timeout` to send anything (and finish a handshake); `http_header_timeout`,
//!   `max_http_headers` and `max_http_head_bytes` for a request head (hyper answers 431);
//!   `http_body_timeout` for a body (408). Each refusal is counted.
//!
//! Invariants:
//! - A process's state is touched only inside its hooks, one envelope at a time, under its
//!   mailbox's core lock (taken with `try_lock` by readers, never held across an await).
//!   `initialize` runs first and `finalize` last, also when a hook panics; then linkers are
//!   told and waiters wake.
//! - Delivery is at most once and every queue is bounded (mailboxes, per-peer outbound
//!   bytes, HTTP stream chunks, bodies, frames): overflow drops the newest and counts it under
//!   `libprocess/dropped/...`. Bad input never panics: only the offending message or
//!   connection is dropped, counted and logged.
//! - Timers (`delay`, `ask` timeouts) run on the node's `Clock`, never on tokio's global time,
//!   so a `TestClock` pauses and advances them (`settle` also waits for frames in flight
//!   between nodes sharing it).
//! - The runtime reaches the world only through the seams in `seams.rs` (`Transport`,
//!   `Spawner`, `Rng`) and the `Clock`; there is no process-global state, so several nodes
//!   live in one OS process (that is how the multi-node tests run). Processes take wall
//!   time, uuids and random draws from their `Context`, which reads the same clock and
//!   seeded rng.
//!
//! ```
//! use libprocess::{Context, Handlers, Node, Process, RemoteMessage};
//! use std::time::Duration;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Add(u64);
//! impl RemoteMessage for Add { const NAME: &'static str = "doc.Add"; }
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Sum(u64);
//! impl RemoteMessage for Sum { const NAME: &'static str = "doc.Sum"; }
//!
//! struct Adder { total: u64 }
//! impl Process for Adder {
//!     type Message = Add;
//!     fn install(h: &mut Handlers<Self>) { h.on::<Add>(); }
//!     fn handle(&mut self, ctx: &mut Context<Self>, Add(n): Add) {
//!         self.total += n;
//!         let _ = ctx.reply(Sum(self.total));
//!     }
//! }
//!
//! # #[tokio::main] async fn main() {
//! let node = Node::builder().build().await.unwrap();
//! let adder = node.spawn(Adder { total: 0 }).unwrap();
//! node.send(adder.upid(), Add(2)).unwrap();
//! let sum: Sum = node.ask(adder.upid(), Add(3), Duration::from_secs(30)).await.unwrap();
//! assert_eq!(sum, Sum(5));
//! node.shutdown().await;
//! # }
//! ```

#![warn(missing_docs)]

pub mod clock;
mod encoded;
mod error;
mod filter;
mod fnv;
pub mod frame;
mod http;
pub mod http_client;
mod links;
mod message;
mod metrics;
mod node;
mod process;
pub mod seams;
mod shutdown;
mod system;
pub mod tls;
mod upid;

pub use clock::{unix_ms, unix_secs, Clock, SystemClock, TestClock};
pub use encoded::Encoded;
pub use error::{AskError, NodeError, SendError, SpawnError};
pub(crate) use filter::Verdict;
pub use filter::{DropRule, FilterGone, Filters, Intercepted, MessageMatch};
pub use http::{
    HttpReply, HttpRequest, HttpResponse, HttpStream, StreamError, STREAM_QUEUE_CHUNKS,
};
pub use message::{RemoteMessage, ReplyToken};
pub use metrics::{Counter, FloatGauge, Gauge, Metrics, MetricsText, Timer};
pub use node::{
    Limits, Node, NodeBuilder, DEFAULT_MAILBOX_CAPACITY, DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_HTTP_BODY_BYTES, DEFAULT_OUTBOUND_QUEUE_BYTES,
};
pub use process::context::{Context, DelayHandle};
pub use process::handlers::{Handlers, Unread};
pub use process::{Pid, Process};
pub use tls::{Tls, TlsError, TlsOptions};
pub use upid::{ParseUpidError, Upid};

/// Re-exported so users name the same versions.
pub use ::http as http_types;
pub use slog;
