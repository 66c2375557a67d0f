//! libprocess: an actor runtime in the spirit of Mesos's libprocess.
//!
//! A [`Node`] listens on one TCP port that serves both actor frames and HTTP. Processes
//! ([`Process`]) run on it one message at a time; they are addressed by [`Upid`]
//! (`id@ip:port`) or, locally and typed, by [`Pid`]. Named messages ([`RemoteMessage`]) cross
//! nodes as postcard-encoded frames; local sends move values. Links, `ask`, timers on a
//! replaceable [`Clock`], test filters and metrics complete the toolbox. The crate knows
//! nothing of Mesos; see ARCHITECTURE.md for the map.
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
mod context;
mod encoded;
mod error;
mod filter;
mod fnv;
pub mod frame;
mod http;
mod http_server;
mod links;
mod mailbox;
mod message;
mod metrics;
mod node;
mod process;
pub mod seams;
mod transport;
mod upid;

pub use clock::{unix_ms, unix_secs, Clock, SystemClock, TestClock};
pub use context::{Context, DelayHandle};
pub use encoded::Encoded;
pub use error::{AskError, NodeError, SendError, SpawnError};
pub(crate) use filter::Verdict;
pub use filter::{DropRule, FilterGone, Filters, Intercepted, MessageMatch};
pub use http::{
    HttpReply, HttpRequest, HttpResponse, HttpStream, StreamError, STREAM_QUEUE_CHUNKS,
};
pub use message::{Handlers, RemoteMessage, ReplyToken, Unread};
pub use metrics::{Counter, FloatGauge, Gauge, Metrics, Timer};
pub use node::{
    Limits, Node, NodeBuilder, DEFAULT_MAILBOX_CAPACITY, DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_HTTP_BODY_BYTES, DEFAULT_OUTBOUND_QUEUE_BYTES,
};
pub use process::{Pid, Process};
pub use upid::{ParseUpidError, Upid};

/// Re-exported so users name the same versions.
pub use ::http as http_types;
pub use slog;
