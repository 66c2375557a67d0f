//! The simulated network: an in-memory libprocess [`Transport`] whose every byte the
//! simulator schedules. No sockets.
//!
//! A connection is two pipes (one per direction). What a node writes into a pipe is cut
//! into libprocess frames (after the frame preamble) or, for HTTP connections, taken as
//! raw chunks; each frame or chunk gets a seeded delivery time, never earlier than the
//! pipe's previous one, so FIFO per (sender, receiver) holds as libprocess promises. The
//! simulator moves what is due into the receiving end's buffer when its clock reaches that
//! time ([`SimNet::deliver_due`]).
//!
//! Faults, all drawn from the run's seed:
//! - a one-way message frame (`FrameKind::Message`) may be lost: every connection between
//!   its two machines breaks, losing it and whatever else is in flight, and every end sees
//!   the break (libprocess delivers at most once because TCP connections break; a message
//!   silently lost from a live connection is something TCP never does, and a checker
//!   would blame meso for it);
//! - delays are uniform in a range with occasional spikes;
//! - a partition between two machines (IP addresses) holds every frame and chunk crossing
//!   it (TCP retransmits) and delivers them in order when it heals; connecting across it
//!   times out after [`CONNECT_TIMEOUT`];
//! - a crashed node ([`SimNet::crash`]) has every connection reset at once: peers read an
//!   error and their writes fail, as the kernel does for a dead process's sockets.
//!
//! Every frame sent is recorded in the trace with its time, ends, name, a hash of its
//! payload and its fate: two runs of one seed give the same trace bytes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use libprocess::frame::{self, FrameKind, Split, PREAMBLE};
use libprocess::seams::{BoxConnection, Listener, Transport};
use libprocess::{Clock, TestClock};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::rng::SimRng;
use crate::trace::Trace;

/// How long a connection attempt across a partition waits before it fails.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest frame the sim accepts when cutting a pipe into frames (libprocess's default).
const MAX_FRAME: usize = libprocess::DEFAULT_MAX_FRAME_BYTES;

/// The network's fault settings for one run.
#[derive(Debug, Clone)]
pub struct NetFaults {
    /// Probability that a one-way message frame is dropped.
    pub drop_p: f64,
    /// Smallest one-way delay.
    pub delay_min: Duration,
    /// Largest ordinary one-way delay.
    pub delay_max: Duration,
    /// Probability of a delay spike.
    pub spike_p: f64,
    /// Largest spike.
    pub spike_max: Duration,
}

impl Default for NetFaults {
    fn default() -> Self {
        NetFaults {
            drop_p: 0.0,
            delay_min: Duration::from_micros(50),
            delay_max: Duration::from_micros(500),
            spike_p: 0.0,
            spike_max: Duration::from_millis(200),
        }
    }
}

/// Counts of what the network did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Frames written by nodes.
    pub frames: u64,
    /// Frames lost to a random connection break.
    pub dropped: u64,
    /// Frames or chunks held by a partition at least once.
    pub held: u64,
    /// Raw (HTTP) chunks written.
    pub chunks: u64,
    /// Connections opened.
    pub connections: u64,
    /// Connections reset by crashes or faults.
    pub resets: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unknown,
    Frames,
    Raw,
}

enum Chunk {
    Data(Bytes),
    Fin,
}

struct Pipe {
    src: SocketAddr,
    dst: SocketAddr,
    /// The node (transport) writing and the node reading.
    writer_tag: u64,
    reader_tag: u64,
    mode: Mode,
    /// Written bytes not yet cut into frames.
    pending: BytesMut,
    /// Delivered, not yet read.
    readable: BytesMut,
    eof: bool,
    reset: bool,
    reader_gone: bool,
    writer_done: bool,
    reader_waker: Option<Waker>,
    /// Delivery time of the last thing scheduled (FIFO).
    last_at: Duration,
    /// What a partition holds, in order.
    held: VecDeque<Chunk>,
    /// Scheduled, not yet delivered.
    in_flight: usize,
}

struct ListenerState {
    queue: VecDeque<(SimStream, SocketAddr)>,
    waker: Option<Waker>,
    tag: u64,
    ip_tag_alive: bool,
}

struct NetState {
    clock: TestClock,
    rng: SimRng,
    faults: NetFaults,
    listeners: BTreeMap<SocketAddr, Arc<Mutex<ListenerState>>>,
    pipes: BTreeMap<u64, Pipe>,
    next_pipe: u64,
    schedule: BTreeMap<(Duration, u64), (u64, Chunk)>,
    next_seq: u64,
    /// Cut machine pairs, both directions stored.
    cuts: BTreeSet<(IpAddr, IpAddr)>,
    next_port: BTreeMap<IpAddr, u16>,
    dead_tags: BTreeSet<u64>,
    next_tag: u64,
    trace: Trace,
    stats: NetStats,
}

/// The simulated network (cheap to clone; all clones are the same network).
#[derive(Clone)]
pub struct SimNet(Arc<Mutex<NetState>>);

impl SimNet {
    /// A network on `clock`, drawing from `rng`, recording into `trace`.
    pub fn new(clock: TestClock, rng: SimRng, faults: NetFaults, trace: Trace) -> SimNet {
        SimNet(Arc::new(Mutex::new(NetState {
            clock,
            rng,
            faults,
            listeners: BTreeMap::new(),
            pipes: BTreeMap::new(),
            next_pipe: 1,
            schedule: BTreeMap::new(),
            next_seq: 0,
            cuts: BTreeSet::new(),
            next_port: BTreeMap::new(),
            dead_tags: BTreeSet::new(),
            next_tag: 1,
            trace,
            stats: NetStats::default(),
        })))
    }

    /// A transport for one node on machine `ip` (each node gets its own, so a crash can
    /// reset exactly that node's connections).
    pub fn transport(&self, ip: IpAddr) -> (Arc<SimTransport>, u64) {
        let mut s = self.0.lock();
        let tag = s.next_tag;
        s.next_tag += 1;
        (
            Arc::new(SimTransport {
                net: self.clone(),
                ip,
                tag,
            }),
            tag,
        )
    }

    /// Changes the fault settings (a later phase of the schedule, or healing).
    pub fn set_faults(&self, faults: NetFaults) {
        self.0.lock().faults = faults;
    }

    /// What the network did so far.
    pub fn stats(&self) -> NetStats {
        self.0.lock().stats
    }

    /// The earliest scheduled delivery.
    pub fn next_due(&self) -> Option<Duration> {
        self.0.lock().schedule.keys().next().map(|(t, _)| *t)
    }

    /// Whether anything is scheduled.
    pub fn is_idle(&self) -> bool {
        self.0.lock().schedule.is_empty()
    }

    /// Delivers everything due at `now` (in time, then send order) and wakes the readers.
    pub fn deliver_due(&self, now: Duration) {
        let mut wakers = Vec::new();
        {
            let mut guard = self.0.lock();
            let s = &mut *guard;
            while let Some(entry) = s.schedule.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let (pipe_id, chunk) = entry.remove();
                let Some(pipe) = s.pipes.get_mut(&pipe_id) else {
                    continue;
                };
                pipe.in_flight -= 1;
                if pipe.reset || pipe.reader_gone {
                    continue;
                }
                if !pipe.held.is_empty() || cut(&s.cuts, pipe.src.ip(), pipe.dst.ip()) {
                    s.stats.held += 1;
                    pipe.held.push_back(chunk);
                    continue;
                }
                match chunk {
                    Chunk::Data(bytes) => pipe.readable.extend_from_slice(&bytes),
                    Chunk::Fin => pipe.eof = true,
                }
                if let Some(w) = pipe.reader_waker.take() {
                    wakers.push(w);
                }
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Cuts machines `a` and `b` apart (both directions) until [`SimNet::heal`].
    pub fn partition(&self, a: IpAddr, b: IpAddr) {
        let mut s = self.0.lock();
        s.cuts.insert((a, b));
        s.cuts.insert((b, a));
    }

    /// Removes every cut; what the cuts held is sent on, in order, from now.
    pub fn heal(&self) {
        let mut guard = self.0.lock();
        let s = &mut *guard;
        s.cuts.clear();
        let now = s.clock.now();
        let ids: Vec<u64> = s
            .pipes
            .iter()
            .filter(|(_, p)| !p.held.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let held: Vec<Chunk> = s
                .pipes
                .get_mut(&id)
                .map(|p| p.held.drain(..).collect())
                .unwrap_or_default();
            for chunk in held {
                let delay = draw_delay(&mut s.rng, &s.faults);
                schedule(s, id, chunk, now + delay);
            }
        }
    }

    /// Whether `a` and `b` are cut apart now.
    pub fn is_cut(&self, a: IpAddr, b: IpAddr) -> bool {
        cut(&self.0.lock().cuts, a, b)
    }

    /// The node with transport `tag` died: its connections reset, its listener goes, and
    /// nothing it writes leaves any more.
    pub fn crash(&self, tag: u64) {
        let mut wakers = Vec::new();
        {
            let mut guard = self.0.lock();
            let s = &mut *guard;
            s.dead_tags.insert(tag);
            let now = s.clock.now();
            let mut resets = 0;
            for (id, pipe) in s.pipes.iter_mut() {
                if pipe.writer_tag == tag || pipe.reader_tag == tag {
                    if !pipe.reset {
                        resets += 1;
                        s.trace.line(
                            now,
                            format_args!("reset pipe={id} {}->{}", pipe.src, pipe.dst),
                        );
                    }
                    pipe.reset = true;
                    pipe.held.clear();
                    if let Some(w) = pipe.reader_waker.take() {
                        wakers.push(w);
                    }
                }
            }
            s.stats.resets += resets / 2;
            s.listeners.retain(|_, l| {
                let mut l = l.lock();
                if l.tag == tag {
                    l.ip_tag_alive = false;
                    if let Some(w) = l.waker.take() {
                        wakers.push(w);
                    }
                    false
                } else {
                    true
                }
            });
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Drops pipes that both ends have finished with (keeps the table small in long runs).
    pub fn collect_garbage(&self) {
        self.0.lock().pipes.retain(|_, p| {
            let done = (p.reset || (p.eof && p.readable.is_empty()) || p.reader_gone)
                && p.in_flight == 0
                && p.writer_done;
            !done
        });
    }

    fn bind(&self, ip: IpAddr, tag: u64, addr: SocketAddr) -> io::Result<SimListener> {
        let mut s = self.0.lock();
        let ip = if addr.ip().is_unspecified() {
            ip
        } else {
            addr.ip()
        };
        let port = if addr.port() == 0 {
            let next = s.next_port.entry(ip).or_insert(40_000);
            *next += 1;
            *next
        } else {
            addr.port()
        };
        let addr = SocketAddr::new(ip, port);
        if s.listeners.contains_key(&addr) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{addr} is bound in the simulation"),
            ));
        }
        let state = Arc::new(Mutex::new(ListenerState {
            queue: VecDeque::new(),
            waker: None,
            tag,
            ip_tag_alive: true,
        }));
        s.listeners.insert(addr, state.clone());
        Ok(SimListener {
            net: self.clone(),
            addr,
            state,
        })
    }

    /// Opens a connection from node `tag` on machine `ip` to `addr`: `Ok(None)` when a
    /// partition swallows the attempt.
    fn connect(&self, ip: IpAddr, tag: u64, addr: SocketAddr) -> io::Result<Option<SimStream>> {
        let mut guard = self.0.lock();
        let s = &mut *guard;
        if s.dead_tags.contains(&tag) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the node crashed",
            ));
        }
        if cut(&s.cuts, ip, addr.ip()) {
            return Ok(None);
        }
        let Some(listener) = s.listeners.get(&addr).cloned() else {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("nothing listens on {addr} in the simulation"),
            ));
        };
        let port = {
            let next = s.next_port.entry(ip).or_insert(40_000);
            *next += 1;
            *next
        };
        let local = SocketAddr::new(ip, port);
        let server_tag = listener.lock().tag;
        let up = s.next_pipe;
        let down = up + 1;
        s.next_pipe += 2;
        s.pipes.insert(up, Pipe::new(local, addr, tag, server_tag));
        s.pipes
            .insert(down, Pipe::new(addr, local, server_tag, tag));
        s.stats.connections += 1;
        let now = s.clock.now();
        s.trace
            .line(now, format_args!("connect pipe={up} {local}->{addr}"));
        let server = SimStream {
            net: self.clone(),
            write: down,
            read: up,
        };
        let client = SimStream {
            net: self.clone(),
            write: up,
            read: down,
        };
        let waker = {
            let mut l = listener.lock();
            l.queue.push_back((server, local));
            l.waker.take()
        };
        drop(guard);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(Some(client))
    }

    fn write(&self, pipe_id: u64, buf: &[u8]) -> io::Result<()> {
        let mut guard = self.0.lock();
        let s = &mut *guard;
        let now = s.clock.now();
        let Some(pipe) = s.pipes.get_mut(&pipe_id) else {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "pipe gone"));
        };
        if pipe.reset || s.dead_tags.contains(&pipe.writer_tag) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            ));
        }
        if pipe.reader_gone {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the peer closed"));
        }
        pipe.pending.extend_from_slice(buf);
        if pipe.mode == Mode::Unknown {
            if pipe.pending.len() < PREAMBLE.len() && PREAMBLE.starts_with(&pipe.pending) {
                return Ok(());
            }
            if pipe.pending.starts_with(&PREAMBLE) {
                pipe.mode = Mode::Frames;
                let preamble = pipe.pending.split_to(PREAMBLE.len()).freeze();
                let delay = draw_delay(&mut s.rng, &s.faults);
                schedule(s, pipe_id, Chunk::Data(preamble), now + delay);
            } else {
                pipe.mode = Mode::Raw;
            }
        }
        let pipe = s
            .pipes
            .get_mut(&pipe_id)
            .expect("invariant: the pipe was found above");
        match pipe.mode {
            Mode::Raw => {
                let bytes = pipe.pending.split().freeze();
                let (src, dst) = (pipe.src, pipe.dst);
                s.stats.chunks += 1;
                s.trace.line(
                    now,
                    format_args!(
                        "raw pipe={pipe_id} {src}->{dst} len={} h={:016x}",
                        bytes.len(),
                        crate::rng::fnv(crate::rng::FNV_START, &bytes)
                    ),
                );
                let delay = draw_delay(&mut s.rng, &s.faults);
                schedule(s, pipe_id, Chunk::Data(bytes), now + delay);
            }
            Mode::Frames => loop {
                let pipe = s
                    .pipes
                    .get_mut(&pipe_id)
                    .expect("invariant: the pipe exists");
                let consumed = match frame::split(&pipe.pending, MAX_FRAME) {
                    Split::Frame { consumed, .. } => consumed,
                    Split::Incomplete => break,
                    Split::TooLarge(n) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("a frame of {n} bytes exceeds the simulation's limit"),
                        ))
                    }
                };
                let bytes = pipe.pending.split_to(consumed).freeze();
                send_frame(s, pipe_id, bytes, now);
            },
            Mode::Unknown => {}
        }
        Ok(())
    }

    fn shutdown_write(&self, pipe_id: u64) {
        let mut guard = self.0.lock();
        let s = &mut *guard;
        let now = s.clock.now();
        let Some(pipe) = s.pipes.get_mut(&pipe_id) else {
            return;
        };
        if pipe.writer_done {
            return;
        }
        pipe.writer_done = true;
        if pipe.reset {
            return;
        }
        let delay = draw_delay(&mut s.rng, &s.faults);
        schedule(s, pipe_id, Chunk::Fin, now + delay);
    }

    fn reader_gone(&self, pipe_id: u64) {
        if let Some(pipe) = self.0.lock().pipes.get_mut(&pipe_id) {
            pipe.reader_gone = true;
            pipe.readable.clear();
        }
    }

    fn poll_read(
        &self,
        pipe_id: u64,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut s = self.0.lock();
        let Some(pipe) = s.pipes.get_mut(&pipe_id) else {
            return Poll::Ready(Ok(()));
        };
        if pipe.reset {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            )));
        }
        if !pipe.readable.is_empty() {
            let n = out.remaining().min(pipe.readable.len());
            let bytes = pipe.readable.split_to(n);
            out.put_slice(&bytes);
            return Poll::Ready(Ok(()));
        }
        if pipe.eof {
            return Poll::Ready(Ok(()));
        }
        pipe.reader_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Sends one whole frame (prefix included) down a frames pipe: traced, then dropped, or
/// scheduled after the pipe's last delivery.
fn send_frame(s: &mut NetState, pipe_id: u64, bytes: Bytes, now: Duration) {
    s.stats.frames += 1;
    let pipe = &s.pipes[&pipe_id];
    let whole = bytes.clone();
    let body = &whole[frame::LEN_PREFIX..];
    let decoded = frame::decode(body).ok();
    let (kind, hash) = match &decoded {
        Some(f) => (
            f.header.kind,
            crate::rng::fnv(crate::rng::FNV_START, f.payload),
        ),
        None => (FrameKind::Message, 0),
    };
    // The header's fields are written straight into the trace line (no strings built).
    let empty = "";
    let (from, to, name): (
        &dyn std::fmt::Display,
        &dyn std::fmt::Display,
        &dyn std::fmt::Display,
    ) = match &decoded {
        Some(f) => (&f.header.from, &f.header.to, &f.header.name),
        None => (&empty, &empty, &"?"),
    };
    let droppable = kind == FrameKind::Message;
    let dropped = droppable && s.rng.chance(s.faults.drop_p);
    let (src, dst) = (pipe.src, pipe.dst);
    if dropped {
        s.stats.dropped += 1;
        s.trace.line(
            now,
            format_args!("break {kind:?} {from} -> {to} {name} h={hash:016x} ({src}->{dst})"),
        );
        break_connection(s, pipe_id);
        return;
    }
    let delay = draw_delay(&mut s.rng, &s.faults);
    let at = schedule(s, pipe_id, Chunk::Data(bytes), now + delay);
    s.trace.line(
        now,
        format_args!(
            "send {kind:?} {from} -> {to} {name} h={hash:016x} at={}",
            at.as_micros()
        ),
    );
}

/// Resets every connection between the two machines `pipe_id` joins (both directions):
/// what is in flight on them is lost, and every end sees its connection fail, as when a
/// network blip makes TCP give up on a peer. (libprocess opens one connection per
/// direction; a blip that killed one and spared the other would leave one side believing
/// a link is up that the other saw break, which no real failure does for long.)
fn break_connection(s: &mut NetState, pipe_id: u64) {
    let (a, b) = {
        let p = &s.pipes[&pipe_id];
        (p.src.ip(), p.dst.ip())
    };
    s.stats.resets += 1;
    for p in s.pipes.values_mut() {
        let (x, y) = (p.src.ip(), p.dst.ip());
        if (x == a && y == b) || (x == b && y == a) {
            p.reset = true;
            p.held.clear();
            if let Some(w) = p.reader_waker.take() {
                w.wake();
            }
        }
    }
}

/// Schedules `chunk` on the pipe no earlier than `at` nor than its last delivery; returns
/// the time chosen.
fn schedule(s: &mut NetState, pipe_id: u64, chunk: Chunk, at: Duration) -> Duration {
    let pipe = s
        .pipes
        .get_mut(&pipe_id)
        .expect("invariant: scheduling on a known pipe");
    let at = at.max(pipe.last_at);
    pipe.last_at = at;
    pipe.in_flight += 1;
    let seq = s.next_seq;
    s.next_seq += 1;
    s.schedule.insert((at, seq), (pipe_id, chunk));
    at
}

fn draw_delay(rng: &mut SimRng, f: &NetFaults) -> Duration {
    let base = rng.range(
        f.delay_min.as_micros() as u64,
        f.delay_max.as_micros() as u64,
    );
    let spike = if rng.chance(f.spike_p) {
        rng.range(0, f.spike_max.as_micros() as u64)
    } else {
        0
    };
    Duration::from_micros(base + spike)
}

fn cut(cuts: &BTreeSet<(IpAddr, IpAddr)>, a: IpAddr, b: IpAddr) -> bool {
    a != b && cuts.contains(&(a, b))
}

impl Pipe {
    fn new(src: SocketAddr, dst: SocketAddr, writer_tag: u64, reader_tag: u64) -> Pipe {
        Pipe {
            src,
            dst,
            writer_tag,
            reader_tag,
            mode: Mode::Unknown,
            pending: BytesMut::new(),
            readable: BytesMut::new(),
            eof: false,
            reset: false,
            reader_gone: false,
            writer_done: false,
            reader_waker: None,
            last_at: Duration::ZERO,
            held: VecDeque::new(),
            in_flight: 0,
        }
    }
}

/// One node's view of the network.
pub struct SimTransport {
    net: SimNet,
    ip: IpAddr,
    tag: u64,
}

impl Transport for SimTransport {
    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        let bound = self.net.bind(self.ip, self.tag, addr);
        Box::pin(async move { bound.map(|l| Box::new(l) as Box<dyn Listener>) })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxConnection>> {
        let attempt = self.net.connect(self.ip, self.tag, addr);
        let clock = self.net.0.lock().clock.clone();
        Box::pin(async move {
            match attempt? {
                Some(stream) => Ok(Box::new(stream) as BoxConnection),
                None => {
                    clock.sleep_until(clock.now() + CONNECT_TIMEOUT).await;
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connecting to {addr}: partitioned"),
                    ))
                }
            }
        })
    }
}

/// A bound simulated listener; dropping it frees the address.
pub struct SimListener {
    net: SimNet,
    addr: SocketAddr,
    state: Arc<Mutex<ListenerState>>,
}

impl Listener for SimListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(BoxConnection, SocketAddr)>> {
        let state = self.state.clone();
        Box::pin(futures::future::poll_fn(move |cx| {
            let mut l = state.lock();
            if let Some((stream, peer)) = l.queue.pop_front() {
                return Poll::Ready(Ok((Box::new(stream) as BoxConnection, peer)));
            }
            if !l.ip_tag_alive {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the node crashed",
                )));
            }
            l.waker = Some(cx.waker().clone());
            Poll::Pending
        }))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        let mut s = self.net.0.lock();
        if s.listeners
            .get(&self.addr)
            .is_some_and(|l| Arc::ptr_eq(l, &self.state))
        {
            s.listeners.remove(&self.addr);
        }
    }
}

/// One end of a simulated connection.
pub struct SimStream {
    net: SimNet,
    write: u64,
    read: u64,
}

impl AsyncRead for SimStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.net.poll_read(self.read, cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.net.write(self.write, buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.net.shutdown_write(self.write);
        Poll::Ready(Ok(()))
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        self.net.shutdown_write(self.write);
        self.net.reader_gone(self.read);
    }
}
