//! [`Node`]: one runtime instance. Owns the listener, the process table, links, pending asks,
//! peers, clock, metrics, filters and the delegate; routes every send to a local mailbox or
//! to the peer connection of the receiver's node.
//!
//! Layout: `transport.rs` (connections and peers) and `http_server.rs` (the HTTP side of the
//! port) are its children, with `asks.rs`, `builder.rs` and `exits.rs`. The node knows
//! processes only as [`Sink`]s (defined here, implemented by a process's mailbox); spawning,
//! which needs the `Process` trait, lives in `process/spawn.rs`.
//!
//! There is no process-global state: several nodes can live in one OS process (and tests in
//! one binary run in parallel). Invariants: a process id is unique among live processes of a
//! node; a `Upid` whose address is the node's own address is delivered locally without
//! encoding; everything else goes through exactly one outbound connection per peer node.

use self::transport::Peer;
use crate::clock::{Clock, Quiescence, SystemClock, TestClock};
use crate::error::{NodeError, SendError, SpawnError};
use crate::filter::{Filters, Verdict};
use crate::fnv::FnvHashMap;
use crate::frame::{FrameKind, Header};
use crate::http::{HttpReply, HttpRequest};
use crate::links::Links;
use crate::message::{AnyMessage, RemoteMessage, ReplyPayload, ReplyToken};
use crate::metrics::{Counter, Gauge, Metrics, MetricsText};
use crate::seams::{Rng, Spawner, StdRng, TcpTransport, TokioSpawner, Transport};
use crate::upid::{valid_id_char, Upid};

mod asks;
mod builder;
mod exits;
mod http_server;
mod http_timer;
mod prefixed;
pub(crate) mod transport;
pub use builder::NodeBuilder;
use bytes::{Bytes, BytesMut};
use parking_lot::{Mutex, RwLock};
use slog::{o, Logger};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Default largest frame body accepted or sent: 64 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 << 20;
/// Default mailbox capacity (messages).
pub const DEFAULT_MAILBOX_CAPACITY: usize = 1 << 16;
/// Default bound of one peer's outbound queue: 128 MiB (room for one largest frame and more).
pub const DEFAULT_OUTBOUND_QUEUE_BYTES: usize = 128 << 20;
/// Default largest HTTP request body: 16 MiB.
pub const DEFAULT_MAX_HTTP_BODY_BYTES: usize = 16 << 20;
/// Default bound of open inbound connections (below the usual 20000+ descriptors).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default time a new connection has to send its first bytes and finish a TLS handshake.
pub const DEFAULT_FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a whole HTTP request head.
pub const DEFAULT_HTTP_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a whole HTTP request body.
pub const DEFAULT_HTTP_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most header fields in one HTTP request.
pub const DEFAULT_MAX_HTTP_HEADERS: usize = 100;
/// Default largest HTTP request head (request line and header fields): 64 KiB.
pub const DEFAULT_MAX_HTTP_HEAD_BYTES: usize = 64 << 10;

/// The id of the pseudo-process that asks from outside any process.
const ASK_ID: &str = "__ask__";

/// Limits of a node.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest frame body, sent or received.
    pub max_frame_bytes: usize,
    /// Default mailbox capacity.
    pub mailbox_capacity: usize,
    /// Bound of each peer's outbound queue in bytes.
    pub outbound_queue_bytes: usize,
    /// Largest HTTP request body.
    pub max_http_body_bytes: usize,
    /// Most inbound connections open at once; past it a new one is closed at once (counted
    /// under `libprocess/dropped/connection_limit`).
    pub max_connections: usize,
    /// Time a new connection has to send its first bytes (and to finish a TLS handshake);
    /// a silent or half-open connection is closed then (`libprocess/dropped/slow_connection`).
    pub first_bytes_timeout: Duration,
    /// Time a client has to send a whole HTTP request head (slowloris guard).
    pub http_header_timeout: Duration,
    /// Time a client has to send a whole HTTP request body (408 past it).
    pub http_body_timeout: Duration,
    /// Most header fields in one HTTP request (431 past it).
    pub max_http_headers: usize,
    /// Largest HTTP request head in bytes (431 past it; at least 8 KiB).
    pub max_http_head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            mailbox_capacity: DEFAULT_MAILBOX_CAPACITY,
            outbound_queue_bytes: DEFAULT_OUTBOUND_QUEUE_BYTES,
            max_http_body_bytes: DEFAULT_MAX_HTTP_BODY_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            first_bytes_timeout: DEFAULT_FIRST_BYTES_TIMEOUT,
            http_header_timeout: DEFAULT_HTTP_HEADER_TIMEOUT,
            http_body_timeout: DEFAULT_HTTP_BODY_TIMEOUT,
            max_http_headers: DEFAULT_MAX_HTTP_HEADERS,
            max_http_head_bytes: DEFAULT_MAX_HTTP_HEAD_BYTES,
        }
    }
}

/// The counters of every reason something is dropped.
#[derive(Clone)]
pub(crate) struct Counters {
    pub oversize_frame: Counter,
    pub truncated_frame: Counter,
    pub garbage_connection: Counter,
    pub malformed_frame: Counter,
    pub unknown_process: Counter,
    pub outbound_full: Counter,
    pub filtered: Counter,
    pub connection_lost: Counter,
    pub http_malformed: Counter,
    pub http_no_process: Counter,
    pub http_body_too_large: Counter,
    pub http_body_timeout: Counter,
    pub connection_limit: Counter,
    pub slow_connection: Counter,
    pub tls_handshake_failed: Counter,
    pub tls_plaintext_refused: Counter,
    pub tls_connections: Counter,
    pub connections: Gauge,
    pub frames_received: Counter,
    pub bytes_written: Counter,
    pub mailbox: DropCounters,
    pub processes: Gauge,
    pub peers: Gauge,
}

impl Counters {
    fn new(m: &Metrics) -> Self {
        let d = |n: &str| m.counter(&format!("libprocess/dropped/{n}"));
        Counters {
            oversize_frame: d("oversize_frame"),
            truncated_frame: d("truncated_frame"),
            garbage_connection: d("garbage_connection"),
            malformed_frame: d("malformed_frame"),
            unknown_process: d("unknown_process"),
            outbound_full: d("outbound_full"),
            filtered: d("filtered"),
            connection_lost: d("connection_lost"),
            http_malformed: m.counter("libprocess/http/malformed_requests"),
            http_no_process: m.counter("libprocess/http/no_process"),
            http_body_too_large: m.counter("libprocess/http/body_too_large"),
            http_body_timeout: m.counter("libprocess/http/body_timeouts"),
            connection_limit: d("connection_limit"),
            slow_connection: d("slow_connection"),
            tls_handshake_failed: m.counter("libprocess/tls/handshake_failures"),
            tls_plaintext_refused: m.counter("libprocess/tls/plaintext_refused"),
            tls_connections: m.counter("libprocess/tls/connections_accepted"),
            connections: m.gauge("libprocess/connections"),
            frames_received: m.counter("libprocess/frames_received"),
            bytes_written: m.counter("libprocess/bytes_written"),
            mailbox: DropCounters {
                mailbox_full: d("mailbox_full"),
                unknown_message: d("unknown_message"),
                decode_failed: d("decode_failed"),
            },
            processes: m.gauge("libprocess/processes"),
            peers: m.gauge("libprocess/peers"),
        }
    }
}

/// Counters a mailbox bumps when it drops something.
#[derive(Clone, Default)]
pub(crate) struct DropCounters {
    pub mailbox_full: Counter,
    pub unknown_message: Counter,
    pub decode_failed: Counter,
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
    /// The index of `name`'s handler in this process's table, to pass to
    /// [`Sink::deliver_encoded`]; `None` if the process does not accept `name`.
    fn handler_index(&self, name: &str) -> Option<usize>;
    /// Decodes and delivers a message from a connection reader; `handler` is
    /// `handler_index(name)`. If the process is idle its hook runs at once on the caller's
    /// thread (no task wake); otherwise it is queued. Only for callers that hold no process's
    /// core lock.
    fn deliver_encoded(
        &self,
        from: Option<Upid>,
        reply: Option<ReplyToken>,
        name: &str,
        handler: Option<usize>,
        bytes: &[u8],
    ) -> Result<(), SendError>;
    fn deliver_exited(&self, who: Upid);
    fn deliver_http(&self, request: HttpRequest, reply: HttpReply);
    fn terminate(&self);
    /// Another process took this one's id: terminate after the queued envelopes, and handle
    /// (not drop) whatever arrives until the queue is closed.
    fn retire(&self);
    fn depth(&self) -> usize;
}

pub(crate) struct Entry {
    pub sink: Arc<dyn Sink>,
    pub done: watch::Receiver<bool>,
}

pub(crate) struct NodeInner {
    pub addr: SocketAddr,
    pub limits: Limits,
    pub logger: Logger,
    pub clock: Arc<dyn Clock>,
    test_clock: Option<TestClock>,
    pub spawner: Arc<dyn Spawner>,
    pub transport: Arc<dyn Transport>,
    /// TLS for the port and for outgoing connections, when configured.
    pub tls: Option<crate::tls::Tls>,
    /// Inbound connections open now (bounded by `limits.max_connections`).
    pub open_connections: std::sync::atomic::AtomicUsize,
    rng: Mutex<Box<dyn Rng>>,
    pub metrics: Metrics,
    pub counters: Counters,
    pub filters: Filters,
    pub table: RwLock<FnvHashMap<Box<str>, Entry>>,
    pub next_id: AtomicU64,
    delegate: RwLock<Option<String>>,
    metrics_snapshot: RwLock<Option<String>>,
    metrics_text: RwLock<Option<MetricsText>>,
    links: Mutex<Links>,
    pub peers: Mutex<FnvHashMap<SocketAddr, Arc<Peer>>>,
    asks: Mutex<HashMap<u64, oneshot::Sender<ReplyPayload>>>,
    ask_upid: Upid,
    pub shut_down: AtomicBool,
    pub shutdown: watch::Sender<bool>,
    /// The node itself, to start peer writers from `&self`.
    me: Weak<NodeInner>,
}

/// A runtime instance: one listening port, its processes, and its connections. Cheap to
/// clone (all clones are the same node).
#[derive(Clone)]
pub struct Node(Arc<NodeInner>);

impl Node {
    pub(crate) fn inner(&self) -> &NodeInner {
        &self.0
    }

    /// The address this node listens on, as written in its `Upid`s.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }

    /// The node's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.0.clock.clone()
    }

    /// The node's transport (to probe an address the way the node connects to it).
    pub fn transport(&self) -> Arc<dyn crate::seams::Transport> {
        self.0.transport.clone()
    }

    /// Wall-clock time by the node's clock (a paused test clock freezes it).
    pub fn wall_time(&self) -> std::time::SystemTime {
        self.0.clock.wall_time()
    }

    /// The next value of the node's random source (seeded by [`NodeBuilder::rng`]).
    pub fn random_u64(&self) -> u64 {
        self.0.rng.lock().next_u64()
    }

    /// A value drawn uniformly from `range` with the node's random source.
    pub fn random_in(&self, range: std::ops::RangeInclusive<u64>) -> u64 {
        crate::seams::random_in(self.0.rng.lock().as_mut(), range)
    }

    /// A random (version 4) uuid from the node's random source.
    pub fn uuid_v4(&self) -> uuid::Uuid {
        crate::seams::uuid_v4(self.0.rng.lock().as_mut())
    }

    /// The node's metrics registry (add your own metrics here; all are served over HTTP).
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The node's message filters (tests).
    pub fn filters(&self) -> &Filters {
        &self.0.filters
    }

    /// The node's logger.
    pub fn logger(&self) -> &Logger {
        &self.0.logger
    }

    /// Sets (or clears) the HTTP delegate process id.
    pub fn set_delegate(&self, id: Option<&str>) {
        *self.0.delegate.write() = id.map(str::to_string);
    }

    /// Sets (or clears) the process that answers `/metrics/snapshot` instead of the
    /// built-in: while it is live, the request goes to its `http` hook with the route
    /// `/metrics/snapshot`, and it merges [`Node::metrics`] into its answer itself (the
    /// master does, to add its Mesos-named metrics).
    pub fn set_metrics_snapshot_process(&self, id: Option<&str>) {
        *self.0.metrics_snapshot.write() = id.map(str::to_string);
    }

    /// Sets (or clears) how the built-in `/metrics` writes [`Node::metrics`] as Prometheus
    /// text (the default maps each name's non-alphanumerics to `_`, with no types). The
    /// process named by [`Node::set_metrics_snapshot_process`], while live, answers
    /// `/metrics` itself.
    pub fn set_metrics_text(&self, render: Option<MetricsText>) {
        *self.0.metrics_text.write() = render;
    }

    /// The built-in `/metrics` body: the node's metrics through [`Node::set_metrics_text`]'s
    /// renderer, or the default one.
    pub fn metrics_text(&self) -> String {
        let render = *self.0.metrics_text.read();
        match render {
            Some(render) => render(&self.0.metrics.snapshot()),
            None => self.0.metrics.prometheus_text(),
        }
    }

    /// Sends a named message to `to` (local or remote) with no sender.
    pub fn send<M: RemoteMessage>(&self, to: &Upid, msg: M) -> Result<(), SendError> {
        self.send_from(None, to, msg)
    }

    /// Sends a named message to `to` with `from` as sender. At most once; FIFO per
    /// (sender, receiver) pair. `Ok` means queued, not delivered.
    pub fn send_from<M: RemoteMessage>(
        &self,
        from: Option<&Upid>,
        to: &Upid,
        msg: M,
    ) -> Result<(), SendError> {
        self.route(from, to, msg, None)
    }

    /// Sends a message encoded once (see [`Encoded`](crate::Encoded)) to `to` with `from`
    /// as sender: remote receivers get the stored bytes, local ones a clone of the value.
    /// Same delivery guarantees as [`send_from`](Self::send_from).
    pub fn send_encoded_from<M: RemoteMessage + Clone>(
        &self,
        from: Option<&Upid>,
        to: &Upid,
        msg: &crate::Encoded<M>,
    ) -> Result<(), SendError> {
        let inner = &self.0;
        if to.addr() == inner.addr {
            return self.route(from, to, msg.message().clone(), None);
        }
        inner.send_frame(
            to,
            Header {
                kind: FrameKind::Message,
                correlation: 0,
                from: from.map_or("", Upid::as_str),
                to: to.as_str(),
                name: M::NAME,
                tracked: false,
            },
            |buf| {
                buf.extend_from_slice(msg.payload());
                Ok(())
            },
        )
    }

    fn route<M: RemoteMessage>(
        &self,
        from: Option<&Upid>,
        to: &Upid,
        msg: M,
        reply: Option<ReplyToken>,
    ) -> Result<(), SendError> {
        let inner = &self.0;
        if to.addr() == inner.addr {
            if inner.filters.is_active()
                && inner.filters.check(M::NAME, from, to, || {
                    Bytes::from(postcard::to_allocvec(&msg).unwrap_or_default())
                }) == Verdict::Drop
            {
                inner.counters.filtered.inc();
                return Err(SendError::Filtered {
                    to: to.clone(),
                    name: M::NAME.to_string(),
                });
            }
            let Some(sink) = inner.lookup(to.id()) else {
                inner.counters.unknown_process.inc();
                return Err(SendError::UnknownProcess { to: to.clone() });
            };
            return sink.deliver_any(from.cloned(), reply, M::NAME, Box::new(msg));
        }
        let (kind, correlation, from_text) = match &reply {
            Some(token) => (FrameKind::Request, token.correlation, token.asker.as_str()),
            None => (FrameKind::Message, 0, from.map_or("", Upid::as_str)),
        };
        inner.send_frame(
            to,
            Header {
                kind,
                correlation,
                from: from_text,
                to: to.as_str(),
                name: M::NAME,
                tracked: false,
            },
            |buf| encode_payload(&msg, buf),
        )
    }

    /// Asks a local process to terminate (after its queued messages). Returns false if no such
    /// process lives here.
    pub fn terminate(&self, upid: &Upid) -> bool {
        if upid.addr() != self.0.addr {
            return false;
        }
        match self.0.lookup(upid.id()) {
            Some(sink) => {
                sink.terminate();
                true
            }
            None => false,
        }
    }

    /// Completes when the local process `upid` has finished (at once if it does not exist).
    pub fn wait(&self, upid: &Upid) -> impl Future<Output = ()> + Send + 'static {
        let done = if upid.addr() == self.0.addr {
            self.0.table.read().get(upid.id()).map(|e| e.done.clone())
        } else {
            None
        };
        async move {
            if let Some(mut done) = done {
                let _ = done.wait_for(|d| *d).await;
            }
        }
    }

    /// Ids and mailbox depths of the live processes, sorted by id.
    pub fn processes(&self) -> Vec<(Upid, usize)> {
        let mut list: Vec<(Upid, usize)> = self
            .0
            .table
            .read()
            .values()
            .map(|e| (e.sink.upid().clone(), e.sink.depth()))
            .collect();
        list.sort();
        list
    }

    /// Stops listening, terminates every process and waits for them, and closes connections.
    pub async fn shutdown(&self) {
        if self.0.shut_down.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(tc) = &self.0.test_clock {
            tc.unregister_node(self.0.addr);
        }
        let _ = self.0.shutdown.send(true);
        let entries: Vec<(Arc<dyn Sink>, watch::Receiver<bool>)> = self
            .0
            .table
            .read()
            .values()
            .map(|e| (e.sink.clone(), e.done.clone()))
            .collect();
        for (sink, _) in &entries {
            sink.terminate();
        }
        for (_, mut done) in entries {
            let _ = done.wait_for(|d| *d).await;
        }
        let peers: Vec<Arc<Peer>> = self.0.peers.lock().drain().map(|(_, p)| p).collect();
        for peer in peers {
            peer.close();
        }
        self.0.asks.lock().clear();
        slog::info!(self.0.logger, "node shut down");
    }
}

/// Bytes of the per-thread staging area for payload encoding; larger payloads take the
/// growable path.
const STAGING_BYTES: usize = 16 * 1024;

thread_local! {
    /// Fixed staging area for payload encoding: postcard pushes byte by byte, and a push into
    /// a fixed slice is a compare and a store, far cheaper than growing a `Vec` or `BytesMut`.
    static STAGING: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; STAGING_BYTES].into_boxed_slice());
    /// Growable staging buffer for payloads over `STAGING_BYTES`.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Serializes `msg` with postcard and appends it to the frame buffer.
fn encode_payload<M: serde::Serialize>(msg: &M, buf: &mut BytesMut) -> Result<(), postcard::Error> {
    let staged = STAGING.with(|staging| match staging.try_borrow_mut() {
        Ok(mut staging) => match postcard::to_slice(msg, &mut staging[..]) {
            Ok(bytes) => {
                buf.extend_from_slice(bytes);
                Some(Ok(()))
            }
            Err(postcard::Error::SerializeBufferFull) => None,
            Err(e) => Some(Err(e)),
        },
        // A `Serialize` impl that sends a message while being encoded: use the slow path.
        Err(_) => None,
    });
    if let Some(done) = staged {
        return done;
    }
    SCRATCH.with(|scratch| {
        let mut taken = scratch
            .try_borrow_mut()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        taken.clear();
        let mut staged = postcard::to_extend(msg, taken);
        if let Ok(bytes) = &mut staged {
            buf.extend_from_slice(bytes);
            if let Ok(mut s) = scratch.try_borrow_mut() {
                *s = std::mem::take(bytes);
            }
        }
        staged.map(|_| ())
    })
}

impl NodeInner {
    /// Opens a connection to `addr` through the transport, over TLS when the node has it
    /// (the handshake bounded by `first_bytes_timeout` on the node's clock).
    pub(crate) fn connect(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = std::io::Result<crate::seams::BoxConnection>> + Send + 'static {
        let connect = self.transport.connect(addr);
        let tls = self.tls.clone();
        let clock = self.clock.clone();
        let timeout = self.limits.first_bytes_timeout;
        async move {
            let conn = connect.await?;
            let Some(tls) = tls else {
                return Ok(conn);
            };
            let deadline = clock.sleep_until(clock.now() + timeout);
            let host = addr.ip().to_string();
            let handshake = tls.connect(conn, &host);
            futures::pin_mut!(handshake);
            match futures::future::select(handshake, deadline).await {
                futures::future::Either::Left((result, _)) => result,
                futures::future::Either::Right(((), _)) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("TLS handshake with {addr} not done within {timeout:?}"),
                )),
            }
        }
    }

    pub(crate) fn lookup(&self, id: &str) -> Option<Arc<dyn Sink>> {
        self.table.read().get(id).map(|e| e.sink.clone())
    }

    pub(crate) fn delegate(&self) -> Option<String> {
        self.delegate.read().clone()
    }

    pub(crate) fn metrics_snapshot_process(&self) -> Option<String> {
        self.metrics_snapshot.read().clone()
    }

    /// Whether frames to `addr` are counted by a test clock this node shares with it.
    fn tracks(&self, addr: SocketAddr) -> bool {
        self.test_clock.as_ref().is_some_and(|c| c.has_node(addr))
    }

    pub(crate) fn test_clock(&self) -> Option<&TestClock> {
        self.test_clock.as_ref()
    }

    /// Queues one frame to the node of `to`, opening the connection if needed.
    pub(crate) fn send_frame(
        self: &NodeInner,
        to: &Upid,
        header: Header<'_>,
        payload: impl FnOnce(&mut BytesMut) -> Result<(), postcard::Error>,
    ) -> Result<(), SendError> {
        let addr = to.addr();
        let tracked = self.tracks(addr);
        let header = Header { tracked, ..header };
        let mut peer = self.peer(addr);
        let mut payload = Some(payload);
        let mut result = peer.push(&header, self.limits, &mut payload);
        if matches!(result, Err(transport::PushError::Closed)) {
            // The connection broke since the lookup: forget it and open a new one.
            self.forget_peer(&peer);
            peer = self.peer(addr);
            result = peer.push(&header, self.limits, &mut payload);
        }
        match &result {
            Ok(was_empty) => {
                transport::queued(&peer, *was_empty);
                if tracked {
                    if let Some(c) = &self.test_clock {
                        c.remote_sent(addr);
                    }
                }
            }
            Err(transport::PushError::Full) => {
                self.counters.outbound_full.inc();
                return Err(SendError::OutboundFull {
                    addr,
                    capacity_bytes: self.limits.outbound_queue_bytes,
                });
            }
            Err(transport::PushError::Closed) => {
                self.counters.connection_lost.inc();
            }
            Err(transport::PushError::Encode(e)) => {
                if matches!(e, crate::frame::EncodeError::TooLarge { .. }) {
                    self.counters.oversize_frame.inc();
                }
                return Err(SendError::Encode {
                    to: to.clone(),
                    name: header.name.to_string(),
                    reason: e.to_string(),
                });
            }
        }
        Ok(())
    }

    fn peer(&self, addr: SocketAddr) -> Arc<Peer> {
        let mut peers = self.peers.lock();
        if let Some(p) = peers.get(&addr) {
            return p.clone();
        }
        let peer = Arc::new(Peer::new(addr, self.counters.bytes_written.clone()));
        peers.insert(addr, peer.clone());
        self.counters.peers.set(peers.len() as i64);
        drop(peers);
        match self.me.upgrade() {
            Some(me) => self
                .spawner
                .spawn(Box::pin(transport::run_peer(Node(me), peer.clone()))),
            // The node is being dropped: nothing will ever write; the frames are lost.
            None => {
                peer.close();
            }
        }
        peer
    }

    /// The connection to `peer` failed or broke: forget it, and tell local linkers of every
    /// process there.
    fn forget_peer(&self, peer: &Arc<Peer>) {
        let mut peers = self.peers.lock();
        if peers.get(&peer.addr).is_some_and(|p| Arc::ptr_eq(p, peer)) {
            peers.remove(&peer.addr);
        }
        self.counters.peers.set(peers.len() as i64);
    }

    pub(crate) fn peer_broken(&self, peer: &Arc<Peer>, reason: &str) {
        self.forget_peer(peer);
        let (lost_frames, lost_tracked) = peer.close();
        self.counters.connection_lost.add(lost_frames);
        if let Some(c) = &self.test_clock {
            for _ in 0..lost_tracked {
                c.remote_handled(peer.addr);
            }
        }
        let pairs = self.links.lock().peer_broken(peer.addr);
        slog::info!(self.logger, "connection to peer ended";
            "peer" => %peer.addr, "reason" => reason, "lost_frames" => lost_frames,
            "links_notified" => pairs.len());
        for (linkee, linker) in pairs {
            if let Some(sink) = self.lookup(linker.id()) {
                sink.deliver_exited(linkee);
            }
        }
    }
}

impl Quiescence for NodeInner {
    fn is_quiet(&self) -> bool {
        let mailboxes_idle = self.table.read().values().all(|e| e.sink.depth() == 0);
        mailboxes_idle && self.peers.lock().values().all(|p| p.is_idle())
    }
}

/// `id` if it names a process well (non-empty, only valid characters).
pub(crate) fn checked_id(id: String) -> Result<String, SpawnError> {
    if id.is_empty() || !id.chars().all(valid_id_char) {
        return Err(SpawnError::InvalidId(id));
    }
    Ok(id)
}
