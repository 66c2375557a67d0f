//! Connections: the accept loop, first-bytes sniffing (frames, HTTP, or garbage), the frame
//! reader of inbound connections, and the single outbound writer per peer node.
//!
//! Outbound ([`outbound`]): senders encode frames straight into the peer's queue buffer
//! under a short lock; the peer's writer task swaps that buffer out and writes it with one
//! `write_all`, so a burst of sends becomes one syscall (writes are flushed whenever the queue drains). The queue is
//! bounded in bytes; past the bound new frames are dropped and counted
//! (`libprocess/dropped/outbound_full`). The writer also reads its socket only to notice the
//! peer going away (peers never answer on a connection they did not open), which is how links
//! learn of a broken connection. A new send after a break opens a new connection.
//!
//! Inbound: past `max_connections` open ones a new connection is closed at once. Each
//! accepted connection is classified by its first bytes, which must come within
//! `first_bytes_timeout`: the frame preamble, an HTTP method, or (on a TLS node) a TLS
//! handshake record, after which the decrypted stream is classified the same way; a plain
//! connection to a TLS node is refused unless downgrade is on. Frame connections are
//! read into one buffer and split into frames; bad frames are dropped and counted, and a
//! frame over the size limit or a truncated frame ends the connection. Other connections on
//! the node are unaffected.

use super::http_server;
use super::prefixed::Prefixed;
use super::{Node, NodeInner, Sink};
use crate::frame::{self, FrameKind, Split, PREAMBLE};
use crate::seams::{BoxConnection, Listener};
use crate::shutdown::until_shutdown;
use crate::upid::Upid;
use crate::Verdict;
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Read buffer growth step.
const READ_CHUNK: usize = 64 * 1024;

mod outbound;

pub(crate) use outbound::{batched, queued, run_peer, Peer, PushError};

/// Accepts connections until the node shuts down. Past `limits.max_connections` open
/// inbound connections a new one is closed at once and counted.
pub(crate) async fn accept_loop(node: Node, mut listener: Box<dyn Listener>) {
    let mut shutdown = node.inner().shutdown.subscribe();
    loop {
        tokio::select! {
            // Deterministic: branches are polled in order (the simulator replays seeds).
            biased;
            accepted = listener.accept() => match accepted {
                Ok((conn, peer)) => {
                    let inner = node.inner();
                    let Some(slot) = ConnectionSlot::take(&node) else {
                        inner.counters.connection_limit.inc();
                        if inner.counters.connection_limit.get().is_power_of_two() {
                            slog::warn!(inner.logger, "dropped connection: too many open";
                                "peer" => %peer, "limit" => inner.limits.max_connections);
                        }
                        drop(conn);
                        continue;
                    };
                    let node2 = node.clone();
                    inner.spawner.spawn(Box::pin(async move {
                        serve_connection(node2, conn, peer).await;
                        drop(slot);
                    }));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off a little instead of spinning
                    // (on the node's clock, like every timer of the node).
                    slog::warn!(node.logger(), "accept failed"; "error" => %e);
                    let clock = node.inner().clock.clone();
                    clock.sleep_until(clock.now() + Duration::from_millis(10)).await;
                }
            },
            () = until_shutdown(&mut shutdown) => return,
        }
    }
}

/// One open inbound connection, counted while it lives.
struct ConnectionSlot(Node);

impl ConnectionSlot {
    fn take(node: &Node) -> Option<ConnectionSlot> {
        let inner = node.inner();
        let open = inner.open_connections.fetch_add(1, Ordering::AcqRel);
        if open >= inner.limits.max_connections {
            inner.open_connections.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        inner.counters.connections.add(1);
        Some(ConnectionSlot(node.clone()))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let inner = self.0.inner();
        inner.open_connections.fetch_sub(1, Ordering::AcqRel);
        inner.counters.connections.add(-1);
    }
}

/// Whether the first bytes look like the start of an HTTP request (a method token).
fn looks_like_http(first: &[u8]) -> bool {
    first.first().is_some_and(u8::is_ascii_uppercase)
}

/// What the first bytes of a connection say it is.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Frames,
    Http,
    Tls,
    Garbage,
}

fn classify(first: &[u8]) -> Kind {
    if first.starts_with(&PREAMBLE) {
        Kind::Frames
    } else if first.first() == Some(&crate::tls::HANDSHAKE_RECORD) {
        Kind::Tls
    } else if looks_like_http(first) {
        Kind::Http
    } else {
        Kind::Garbage
    }
}

/// Reads the first bytes of `conn`: enough to tell frames (the whole preamble), HTTP or a
/// TLS handshake. `None` if the connection ended, the node shut down, or nothing decisive
/// came within `first_bytes_timeout` (counted as a slow connection).
async fn sniff(node: &Node, conn: &mut BoxConnection, peer: SocketAddr) -> Option<BytesMut> {
    let inner = node.inner();
    let mut shutdown = inner.shutdown.subscribe();
    let timeout = inner.limits.first_bytes_timeout;
    let mut deadline = inner.clock.sleep_until(inner.clock.now() + timeout);
    let mut first = BytesMut::with_capacity(READ_CHUNK);
    while first.len() < PREAMBLE.len() {
        let could_be_frames = PREAMBLE.starts_with(&first[..]);
        if !first.is_empty() && !could_be_frames {
            break;
        }
        let read = tokio::select! {
            // Deterministic: branches are polled in order (the simulator replays seeds).
            biased;
            r = conn.read_buf(&mut first) => r,
            () = until_shutdown(&mut shutdown) => return None,
            () = &mut deadline => {
                inner.counters.slow_connection.inc();
                if inner.counters.slow_connection.get().is_power_of_two() {
                    slog::warn!(inner.logger, "dropped connection: no request within the timeout";
                        "peer" => %peer, "timeout" => ?timeout, "bytes" => first.len());
                }
                return None;
            }
        };
        match read {
            Ok(0) | Err(_) => {
                if !first.is_empty() && classify(&first) == Kind::Garbage {
                    inner.counters.garbage_connection.inc();
                    slog::warn!(inner.logger, "dropped connection: garbage first bytes";
                        "peer" => %peer, "bytes" => first.len());
                }
                return None;
            }
            Ok(_) => {}
        }
    }
    Some(first)
}

/// The answer to a plain HTTP request on a port that wants TLS.
const TLS_REQUIRED: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\
Connection: close\r\nContent-Length: 46\r\n\r\nthis port requires TLS: connect with https://\n";

async fn serve_connection(node: Node, mut conn: BoxConnection, peer: SocketAddr) {
    let inner = node.inner();
    let Some(first) = sniff(&node, &mut conn, peer).await else {
        return;
    };
    let kind = classify(&first);
    let Some(tls) = &inner.tls else {
        return dispatch(&node, conn, first, kind, peer).await;
    };
    if kind != Kind::Tls {
        if tls.options().support_downgrade || kind == Kind::Garbage {
            return dispatch(&node, conn, first, kind, peer).await;
        }
        inner.counters.tls_plaintext_refused.inc();
        if inner.counters.tls_plaintext_refused.get().is_power_of_two() {
            slog::warn!(inner.logger, "dropped plain connection: this node requires TLS";
                "peer" => %peer, "kind" => ?kind);
        }
        if kind == Kind::Http {
            let _ = conn.write_all(TLS_REQUIRED).await;
            let _ = conn.shutdown().await;
        }
        return;
    }
    let prefixed: BoxConnection = Box::new(Prefixed::new(first.freeze(), conn));
    let timeout = inner.limits.first_bytes_timeout;
    let deadline = inner.clock.sleep_until(inner.clock.now() + timeout);
    let handshake = tls.accept(prefixed);
    futures::pin_mut!(handshake);
    let mut secure = match futures::future::select(handshake, deadline).await {
        futures::future::Either::Left((Ok(secure), _)) => secure,
        futures::future::Either::Left((Err(e), _)) => {
            inner.counters.tls_handshake_failed.inc();
            slog::warn!(inner.logger, "dropped connection: TLS handshake failed";
                "peer" => %peer, "error" => %e);
            return;
        }
        futures::future::Either::Right(((), _)) => {
            inner.counters.tls_handshake_failed.inc();
            slog::warn!(inner.logger, "dropped connection: TLS handshake not done in time";
                "peer" => %peer, "timeout" => ?timeout);
            return;
        }
    };
    inner.counters.tls_connections.inc();
    let Some(first) = sniff(&node, &mut secure, peer).await else {
        return;
    };
    match classify(&first) {
        Kind::Tls => {
            inner.counters.garbage_connection.inc();
            slog::warn!(inner.logger, "dropped connection: TLS inside TLS"; "peer" => %peer);
        }
        kind => dispatch(&node, secure, first, kind, peer).await,
    }
}

/// Serves a classified connection (TLS already unwrapped, if any).
async fn dispatch(
    node: &Node,
    conn: BoxConnection,
    mut first: BytesMut,
    kind: Kind,
    peer: SocketAddr,
) {
    let inner = node.inner();
    match kind {
        Kind::Frames => {
            let _ = first.split_to(PREAMBLE.len());
            read_frames(node, conn, first, peer).await;
        }
        Kind::Http => http_server::serve(node.clone(), conn, first.freeze(), peer).await,
        Kind::Tls | Kind::Garbage => {
            inner.counters.garbage_connection.inc();
            slog::warn!(inner.logger, "dropped connection: garbage first bytes"; "peer" => %peer);
        }
    }
}

/// Per-connection memo of the last sender and receiver, so a stream of frames between the
/// same pair parses and looks up each once.
#[derive(Default)]
struct ConnCache {
    /// Messages dropped on this connection; a log line is written for the 1st, 2nd, 4th,
    /// 8th... so a flood of bad frames cannot flood the log (the counters count them all).
    drops: u64,
    from_text: Vec<u8>,
    from: Option<Upid>,
    to_text: Vec<u8>,
    to: Option<(Upid, Arc<dyn Sink>)>,
    /// The previous frame's message name, already checked to be UTF-8.
    name: String,
    /// `to`'s handler index for `name`, once looked up; cleared when either changes.
    handler: Option<Option<usize>>,
}

async fn read_frames(node: &Node, mut conn: BoxConnection, mut buf: BytesMut, peer: SocketAddr) {
    let inner = node.inner();
    let max = inner.limits.max_frame_bytes;
    let mut shutdown = inner.shutdown.subscribe();
    let mut cache = ConnCache::default();
    loop {
        let mut frames = 0;
        let mut at = 0;
        // Hooks of idle receivers run right here (see `Sink::deliver_encoded`); frames they
        // send are written once, from this thread, when the read batch is done.
        let too_large = batched(|| loop {
            match frame::split(&buf[at..], max) {
                Split::Frame { body, consumed } => {
                    frames += 1;
                    at += consumed;
                    handle_frame(inner, body, &mut cache, peer);
                }
                Split::Incomplete => break None,
                Split::TooLarge(len) => break Some(len),
            }
        });
        if let Some(len) = too_large {
            inner.counters.oversize_frame.inc();
            slog::warn!(inner.logger, "dropped connection: frame over the size limit";
                "peer" => %peer, "length" => len, "limit" => max);
            return;
        }
        bytes::Buf::advance(&mut buf, at);
        if frames > 0 {
            inner.counters.frames_received.add(frames);
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        let read = tokio::select! {
            // Deterministic: branches are polled in order (the simulator replays seeds).
            biased;
            r = conn.read_buf(&mut buf) => r,
            () = until_shutdown(&mut shutdown) => return,
        };
        match read {
            Ok(0) | Err(_) => {
                if !buf.is_empty() {
                    inner.counters.truncated_frame.inc();
                    slog::warn!(inner.logger, "dropped truncated frame at end of connection";
                        "peer" => %peer, "bytes" => buf.len());
                }
                return;
            }
            Ok(_) => {}
        }
    }
}

impl ConnCache {
    /// Counts one drop on this connection; true if it deserves a log line.
    fn dropped(&mut self) -> bool {
        self.drops += 1;
        self.drops.is_power_of_two()
    }
}

fn handle_frame(inner: &NodeInner, body: &[u8], cache: &mut ConnCache, peer: SocketAddr) {
    let frame = match frame::decode_fields(body) {
        Ok(f) => f,
        Err(e) => return malformed(inner, cache, peer, &e),
    };
    // Names repeat frame after frame: validate only a new one.
    if cache.name.as_bytes() == frame.name {
        let name = std::mem::take(&mut cache.name);
        deliver_frame(inner, &frame, &name, cache, peer);
        cache.name = name;
    } else {
        let Ok(name) = std::str::from_utf8(frame.name) else {
            return malformed(inner, cache, peer, &frame::FrameError::BadUtf8("name"));
        };
        cache.handler = None;
        deliver_frame(inner, &frame, name, cache, peer);
        cache.name.clear();
        cache.name.push_str(name);
    }
    if frame.tracked {
        if let Some(c) = inner.test_clock() {
            c.remote_handled(inner.addr);
        }
    }
}

fn malformed(inner: &NodeInner, cache: &mut ConnCache, peer: SocketAddr, e: &frame::FrameError) {
    inner.counters.malformed_frame.inc();
    if cache.dropped() {
        slog::warn!(inner.logger, "dropped malformed frame";
            "peer" => %peer, "error" => %e, "drops_on_connection" => cache.drops);
    }
}

fn parse_upid(
    inner: &NodeInner,
    raw: &[u8],
    field: &str,
    peer: SocketAddr,
    cache: &mut ConnCache,
) -> Option<Upid> {
    let parsed = std::str::from_utf8(raw)
        .map_err(|_| format!("{field} is not utf-8"))
        .and_then(|text| text.parse::<Upid>().map_err(|e| e.to_string()));
    match parsed {
        Ok(u) => Some(u),
        Err(e) => {
            inner.counters.malformed_frame.inc();
            if cache.dropped() {
                slog::warn!(inner.logger, "dropped frame with a bad upid";
                    "peer" => %peer, "field" => field, "error" => e,
                    "drops_on_connection" => cache.drops);
            }
            None
        }
    }
}

/// Delivers a refused frame again to the process that now holds `to`'s id, if that is not
/// the cached (ended) one; `None` when there is no such process. Updates the cache.
fn redeliver(
    inner: &NodeInner,
    cache: &mut ConnCache,
    to: &Upid,
    from: Option<Upid>,
    reply: Option<crate::ReplyToken>,
    name: &str,
    payload: &[u8],
) -> Option<Outcome> {
    let sink = inner.lookup(to.id())?;
    if let Some((_, old)) = &cache.to {
        if Arc::ptr_eq(old, &sink) {
            return None;
        }
    }
    let handler = sink.handler_index(name);
    cache.to = Some((to.clone(), sink.clone()));
    cache.handler = Some(handler);
    Some(
        match sink.deliver_encoded(from, reply, name, handler, payload) {
            Ok(()) => Outcome::Delivered,
            Err(e) => Outcome::Refused(e),
        },
    )
}

/// What became of a message frame.
enum Outcome {
    Delivered,
    Filtered,
    Refused(crate::SendError),
}

/// A frame that is dropped here (counted, and logged when due, where it was found).
struct Dropped;

/// A REQUEST frame without a sender: there is no one to reply to.
#[derive(Debug, PartialEq, Eq)]
struct MissingSender;

/// Where the reply to a frame of `kind` from `from` goes: a token for a REQUEST, nothing
/// for a MESSAGE.
fn reply_token(
    kind: FrameKind,
    from: Option<&Upid>,
    correlation: u64,
) -> Result<Option<crate::ReplyToken>, MissingSender> {
    if kind != FrameKind::Request {
        return Ok(None);
    }
    match from {
        Some(asker) => Ok(Some(crate::ReplyToken {
            asker: asker.clone(),
            correlation,
        })),
        None => Err(MissingSender),
    }
}

/// The frame's sender (`None` when it names none). Sender and receiver usually repeat frame
/// after frame: the bytes are compared with the previous frame's, and only news parsed.
fn frame_sender(
    inner: &NodeInner,
    h: &frame::RawFields<'_>,
    peer: SocketAddr,
    cache: &mut ConnCache,
) -> Result<Option<Upid>, Dropped> {
    if h.from.is_empty() {
        return Ok(None);
    }
    if cache.from.is_some() && cache.from_text == h.from {
        return Ok(cache.from.clone());
    }
    let u = parse_upid(inner, h.from, "from", peer, cache).ok_or(Dropped)?;
    cache.from_text.clear();
    cache.from_text.extend_from_slice(h.from);
    cache.from = Some(u.clone());
    Ok(Some(u))
}

/// Makes `cache.to` the frame's receiver, looking it up only when it is not the previous
/// frame's (or that one has ended).
fn cache_receiver(
    inner: &NodeInner,
    h: &frame::RawFields<'_>,
    name: &str,
    peer: SocketAddr,
    cache: &mut ConnCache,
) -> Result<(), Dropped> {
    let hit = matches!(&cache.to, Some((_, sink)) if cache.to_text == h.to && sink.is_open());
    if hit {
        return Ok(());
    }
    let to = parse_upid(inner, h.to, "to", peer, cache).ok_or(Dropped)?;
    let Some(sink) = inner.lookup(to.id()) else {
        inner.counters.unknown_process.inc();
        if cache.dropped() {
            slog::warn!(inner.logger, "dropped message to unknown process";
                "peer" => %peer, "to" => %to, "name" => name,
                "drops_on_connection" => cache.drops);
        }
        return Err(Dropped);
    };
    cache.to_text.clear();
    cache.to_text.extend_from_slice(h.to);
    cache.to = Some((to, sink));
    cache.handler = None;
    Ok(())
}

/// Hands the frame to the cached receiver, unless a message filter drops it.
fn deliver_to_cached(
    inner: &NodeInner,
    h: &frame::RawFields<'_>,
    name: &str,
    from: Option<Upid>,
    reply: Option<crate::ReplyToken>,
    cache: &mut ConnCache,
) -> Outcome {
    let (to, sink) = cache
        .to
        .as_ref()
        .expect("cache_receiver cached the receiver");
    if inner.filters.is_active()
        && inner.filters.check(name, from.as_ref(), to, || {
            Bytes::copy_from_slice(h.payload)
        }) == Verdict::Drop
    {
        return Outcome::Filtered;
    }
    let handler = *cache
        .handler
        .get_or_insert_with(|| sink.handler_index(name));
    match sink.deliver_encoded(from, reply, name, handler, h.payload) {
        Ok(()) => Outcome::Delivered,
        Err(e) => Outcome::Refused(e),
    }
}

/// Delivers one frame whose name (`name`, validated) may be borrowed from the cache: the
/// caller has taken it out, so `cache.name` is not to be read here.
fn deliver_frame(
    inner: &NodeInner,
    h: &frame::RawFields<'_>,
    name: &str,
    cache: &mut ConnCache,
    peer: SocketAddr,
) {
    let Ok(from) = frame_sender(inner, h, peer, cache) else {
        return;
    };
    match h.kind {
        FrameKind::Message | FrameKind::Request => {
            deliver_message(inner, h, name, from, cache, peer)
        }
        FrameKind::Reply => inner.reply_arrived(h.correlation, name, h.payload),
        FrameKind::Link | FrameKind::Unlink | FrameKind::Exited => {
            let (Some(from), Some(to)) = (from, parse_upid(inner, h.to, "to", peer, cache)) else {
                return;
            };
            match h.kind {
                FrameKind::Link => inner.remote_link(&from, &to),
                FrameKind::Unlink => inner.remote_unlink(&from, &to),
                _ => inner.remote_exited(&from),
            }
        }
    }
}

/// Delivers a MESSAGE or REQUEST frame from `from` (see [`deliver_frame`]).
fn deliver_message(
    inner: &NodeInner,
    h: &frame::RawFields<'_>,
    name: &str,
    from: Option<Upid>,
    cache: &mut ConnCache,
    peer: SocketAddr,
) {
    let Ok(reply) = reply_token(h.kind, from.as_ref(), h.correlation) else {
        inner.counters.malformed_frame.inc();
        if cache.dropped() {
            slog::warn!(inner.logger, "dropped request without a sender";
                "peer" => %peer, "drops_on_connection" => cache.drops);
        }
        return;
    };
    if cache_receiver(inner, h, name, peer, cache).is_err() {
        return;
    }
    let outcome = match deliver_to_cached(inner, h, name, from, reply, cache) {
        // The cached receiver ended since it was looked up. If its id now names another
        // process (`Node::replace_named`), the message is for that one.
        Outcome::Refused(crate::SendError::UnknownProcess { to }) => {
            // `from` and `reply` went with the refused attempt; the cache holds the same
            // sender (set for this frame by `frame_sender`).
            let from = if h.from.is_empty() {
                None
            } else {
                cache.from.clone()
            };
            let reply = reply_token(h.kind, from.as_ref(), h.correlation).unwrap_or(None);
            match redeliver(inner, cache, &to, from, reply, name, h.payload) {
                Some(result) => result,
                None => Outcome::Refused(crate::SendError::UnknownProcess { to }),
            }
        }
        other => other,
    };
    match outcome {
        Outcome::Delivered => {}
        Outcome::Filtered => inner.counters.filtered.inc(),
        Outcome::Refused(e) => {
            if cache.dropped() {
                slog::warn!(inner.logger, "dropped message";
                    "peer" => %peer, "error" => %e, "drops_on_connection" => cache.drops);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_replies_to_its_sender_and_a_message_to_no_one() {
        let asker = Upid::new("asker", ([127, 0, 0, 1], 5050).into());
        assert_eq!(
            reply_token(FrameKind::Request, Some(&asker), 7),
            Ok(Some(crate::ReplyToken {
                asker: asker.clone(),
                correlation: 7,
            }))
        );
        assert_eq!(reply_token(FrameKind::Message, Some(&asker), 7), Ok(None));
        assert_eq!(reply_token(FrameKind::Message, None, 0), Ok(None));
        assert_eq!(reply_token(FrameKind::Request, None, 7), Err(MissingSender));
    }
}
