//! The outbound side: the one connection to each peer node, its bounded queue of encoded
//! frames, the writer task, and the batch flush of frames queued by process handlers (see
//! the parent module's doc for the whole picture).

use super::READ_CHUNK;
use crate::frame::{self, EncodeError, Header, PREAMBLE};
use crate::node::{Limits, Node, NodeInner};
use crate::seams::BoxConnection;
use crate::shutdown::until_shutdown;
use bytes::BytesMut;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

/// Why a frame was not queued to a peer.
#[derive(Debug)]
pub(crate) enum PushError {
    Full,
    Closed,
    Encode(EncodeError),
}

struct OutQueue {
    buf: BytesMut,
    /// Frames in `buf`.
    frames: u64,
    /// Frames in `buf` counted by a shared test clock.
    tracked: u64,
    closed: bool,
}

type WriteHalf = tokio::io::WriteHalf<BoxConnection>;

/// The outbound side of the one connection to a peer node.
pub(crate) struct Peer {
    pub addr: SocketAddr,
    queue: Mutex<OutQueue>,
    notify: Notify,
    /// Set while the writer holds bytes taken from the queue and not yet written.
    writing: AtomicBool,
    /// Set when a direct flush could not finish: the writer task flushes.
    needs_flush: AtomicBool,
    /// Bytes written to the socket (the node's `libprocess/bytes_written`).
    bytes_written: crate::metrics::Counter,
    /// The socket's writing half once connected. Locked only for one non-blocking write
    /// attempt at a time (never across an await), by the writer task or by a sending thread
    /// flushing its batch directly (see [`Peer::flush_direct`]).
    wr: Mutex<Option<WriteHalf>>,
}

thread_local! {
    /// Peers written to by the process handler running on this thread, flushed when the
    /// handler batch ends. Empty outside a batch.
    static DIRTY: std::cell::RefCell<Vec<Arc<Peer>>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether this thread is inside a process handler batch.
    static IN_BATCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as a batch of process hooks: frames they queue are written once, directly from
/// this thread, when `f` returns (or unwinds), instead of waking the peer's writer task per
/// frame. Never spans an await, so the thread-local state cannot leak to another task.
pub(crate) fn batched<R>(f: impl FnOnce() -> R) -> R {
    struct End(bool);
    impl Drop for End {
        fn drop(&mut self) {
            if !self.0 {
                IN_BATCH.with(|b| b.set(false));
                let dirty: Vec<Arc<Peer>> = DIRTY.with(|d| std::mem::take(&mut *d.borrow_mut()));
                for peer in dirty {
                    peer.flush_direct();
                }
            }
        }
    }
    let nested = IN_BATCH.with(|b| b.replace(true));
    let _end = End(nested);
    f()
}

/// After queueing a frame for `peer`: within a batch, remember to flush it at the end;
/// otherwise wake the writer if it may be idle.
pub(crate) fn queued(peer: &Arc<Peer>, was_empty: bool) {
    if IN_BATCH.with(|b| b.get()) {
        DIRTY.with(|d| {
            let mut d = d.borrow_mut();
            if !d.iter().any(|p| Arc::ptr_eq(p, peer)) {
                d.push(peer.clone());
            }
        });
    } else if was_empty {
        peer.notify.notify_one();
    }
}

impl Peer {
    pub fn new(addr: SocketAddr, bytes_written: crate::metrics::Counter) -> Self {
        Peer {
            addr,
            queue: Mutex::new(OutQueue {
                buf: BytesMut::with_capacity(READ_CHUNK),
                frames: 0,
                tracked: 0,
                closed: false,
            }),
            notify: Notify::new(),
            writing: AtomicBool::new(false),
            needs_flush: AtomicBool::new(false),
            wr: Mutex::new(None),
            bytes_written,
        }
    }

    /// Writes the queued bytes from the calling thread without blocking, if the writer task
    /// is idle and the socket takes them; whatever is left is handed to the writer task.
    pub fn flush_direct(&self) {
        let mut q = self.queue.lock();
        if q.closed || q.buf.is_empty() {
            return;
        }
        if !self.writing.load(Ordering::Acquire) {
            if let Some(mut wr) = self.wr.try_lock() {
                if let Some(w) = wr.as_mut() {
                    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                    loop {
                        match std::pin::Pin::new(&mut *w).poll_write(&mut cx, &q.buf) {
                            std::task::Poll::Ready(Ok(n)) if n > 0 => {
                                self.bytes_written.add(n as u64);
                                bytes::Buf::advance(&mut q.buf, n);
                                if q.buf.is_empty() {
                                    q.frames = 0;
                                    q.tracked = 0;
                                    let flushed = std::pin::Pin::new(&mut *w).poll_flush(&mut cx);
                                    if !matches!(flushed, std::task::Poll::Ready(Ok(()))) {
                                        // Bytes held by a layer over the socket (TLS):
                                        // the writer task flushes them with a real waker.
                                        self.needs_flush.store(true, Ordering::Release);
                                        drop(wr);
                                        drop(q);
                                        self.notify.notify_one();
                                    }
                                    return;
                                }
                            }
                            // Socket full, or an error the writer task will see and report.
                            _ => break,
                        }
                    }
                }
            }
        }
        drop(q);
        self.notify.notify_one();
    }

    /// Encodes one frame into the queue. `payload` is taken only if the queue is open.
    /// Returns whether the queue was empty before (the caller then makes sure it is written).
    pub fn push(
        &self,
        header: &Header<'_>,
        limits: Limits,
        payload: &mut Option<impl FnOnce(&mut BytesMut) -> Result<(), postcard::Error>>,
    ) -> Result<bool, PushError> {
        let mut q = self.queue.lock();
        if q.closed {
            return Err(PushError::Closed);
        }
        let Some(payload) = payload.take() else {
            return Err(PushError::Closed);
        };
        if q.buf.len() >= limits.outbound_queue_bytes {
            return Err(PushError::Full);
        }
        let was_empty = q.buf.is_empty();
        frame::encode(&mut q.buf, header, limits.max_frame_bytes, payload)
            .map_err(PushError::Encode)?;
        q.frames += 1;
        if header.tracked {
            q.tracked += 1;
        }
        Ok(was_empty)
    }

    /// No frame waits in the queue or in the writer's hands.
    pub fn is_idle(&self) -> bool {
        self.queue.lock().buf.is_empty() && !self.writing.load(Ordering::Acquire)
    }

    /// Marks the peer closed; returns the frames (all, tracked) dropped from its queue.
    pub fn close(&self) -> (u64, u64) {
        let mut q = self.queue.lock();
        q.closed = true;
        let lost = (q.frames, q.tracked);
        q.buf.clear();
        q.frames = 0;
        q.tracked = 0;
        drop(q);
        self.wr.lock().take();
        self.notify.notify_one();
        lost
    }

    /// Swaps the queued bytes into `out` (which must be empty).
    fn take(&self, out: &mut BytesMut) -> Option<bool> {
        let mut q = self.queue.lock();
        if q.closed {
            return None;
        }
        if q.buf.is_empty() {
            return Some(false);
        }
        std::mem::swap(&mut q.buf, out);
        q.frames = 0;
        q.tracked = 0;
        self.writing.store(true, Ordering::Release);
        Some(true)
    }
}

/// The writer of one peer connection: connect, then write batches until the queue closes or
/// the socket breaks.
pub(crate) async fn run_peer(node: Node, peer: Arc<Peer>) {
    let inner = node.inner();
    let reason = match inner.connect(peer.addr).await {
        Err(e) => format!("connect failed: {e}"),
        Ok(conn) => write_loop(inner, &peer, conn).await,
    };
    peer.writing.store(false, Ordering::Release);
    inner.peer_broken(&peer, &reason);
}

async fn write_loop(inner: &NodeInner, peer: &Peer, conn: BoxConnection) -> String {
    let (mut rd, mut wr) = tokio::io::split(conn);
    if let Err(e) = wr.write_all(&PREAMBLE).await {
        return format!("write failed: {e}");
    }
    *peer.wr.lock() = Some(wr);
    let mut shutdown = inner.shutdown.subscribe();
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    let mut scratch = [0u8; 256];
    loop {
        match peer.take(&mut out) {
            None => return "closed".to_string(),
            Some(true) => {
                let written = write_all_shared(peer, &out).await;
                peer.bytes_written.add(out.len() as u64);
                out.clear();
                peer.writing.store(false, Ordering::Release);
                if let Err(e) = written {
                    return format!("write failed: {e}");
                }
            }
            Some(false) if peer.needs_flush.swap(false, Ordering::AcqRel) => {
                if let Err(e) = write_all_shared(peer, &[]).await {
                    return format!("write failed: {e}");
                }
            }
            Some(false) => {
                tokio::select! {
                    // Deterministic: branches are polled in order (the simulator replays seeds).
                    biased;
                    () = peer.notify.notified() => {}
                    read = rd.read(&mut scratch) => match read {
                        Ok(0) => return "peer closed the connection".to_string(),
                        Err(e) => return format!("read failed: {e}"),
                        // Peers never write on a connection they did not open; ignore.
                        Ok(_) => {}
                    },
                    () = until_shutdown(&mut shutdown) => return "node shut down".to_string(),
                }
            }
        }
    }
}

/// Writes all of `buf` through the peer's shared write half, locking it only per poll.
async fn write_all_shared(peer: &Peer, mut buf: &[u8]) -> std::io::Result<()> {
    use std::task::Poll;
    while !buf.is_empty() {
        let n = std::future::poll_fn(|cx| {
            let mut guard = peer.wr.lock();
            match guard.as_mut() {
                Some(w) => std::pin::Pin::new(w).poll_write(cx, buf),
                None => Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
            }
        })
        .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
    }
    std::future::poll_fn(|cx| {
        let mut guard = peer.wr.lock();
        match guard.as_mut() {
            Some(w) => std::pin::Pin::new(w).poll_flush(cx),
            None => Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
        }
    })
    .await
}
