//! The interfaces the runtime sits on: network ([`Transport`]), task spawning ([`Spawner`]) and
//! randomness ([`Rng`]); time is in [`crate::clock`].
//!
//! The node reaches the outside world only through these (and the clock), so a seeded,
//! single-threaded simulation backend can replace them to run many nodes deterministically.
//! The defaults are real: TCP with `TCP_NODELAY`, tokio tasks, an OS-seeded PRNG.

use futures::future::BoxFuture;
use rand::{RngCore, SeedableRng};
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream between two nodes (or a node and an HTTP client).
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}

/// A boxed connection.
pub type BoxConnection = Box<dyn Connection>;

/// A bound listening socket.
pub trait Listener: Send + 'static {
    /// Waits for the next incoming connection and its peer address.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(BoxConnection, SocketAddr)>>;
    /// The address actually bound (resolves port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// How a node listens and connects.
pub trait Transport: Send + Sync + 'static {
    /// Binds a listener on `addr` (port 0 picks a free port).
    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;
    /// Opens a connection to `addr`.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxConnection>>;
}

/// Real TCP via tokio; every stream has `TCP_NODELAY` set (frames are batched by the writer,
/// so Nagle would only add latency).
#[derive(Debug, Default, Clone, Copy)]
pub struct TcpTransport;

struct TcpListenerBox(tokio::net::TcpListener);

impl Listener for TcpListenerBox {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(BoxConnection, SocketAddr)>> {
        Box::pin(async move {
            let (stream, peer) = self.0.accept().await?;
            stream.set_nodelay(true)?;
            Ok((Box::new(stream) as BoxConnection, peer))
        })
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Transport for TcpTransport {
    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            Ok(Box::new(TcpListenerBox(listener)) as Box<dyn Listener>)
        })
    }
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxConnection>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxConnection)
        })
    }
}

/// Starts the runtime's background tasks (process loops, connections, timers, continuations).
pub trait Spawner: Send + Sync + 'static {
    /// Runs `task` to completion in the background.
    fn spawn(&self, task: BoxFuture<'static, ()>);
}

/// Spawns on the tokio runtime that built the node.
#[derive(Debug, Clone)]
pub struct TokioSpawner(tokio::runtime::Handle);

impl TokioSpawner {
    /// Spawns on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime (an invariant of building a node: `NodeBuilder::build` is async).
    pub fn current() -> Self {
        TokioSpawner(tokio::runtime::Handle::current())
    }
}

impl Spawner for TokioSpawner {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.0.spawn(task);
    }
}

/// A source of random numbers (ask correlation ids, reconnect jitter).
pub trait Rng: Send + 'static {
    /// The next random 64-bit value.
    fn next_u64(&mut self) -> u64;
}

/// A fast PRNG, seeded from the OS unless a seed is given.
pub struct StdRng(rand::rngs::StdRng);

impl StdRng {
    /// Seeded from the operating system.
    pub fn from_entropy() -> Self {
        StdRng(rand::rngs::StdRng::from_entropy())
    }
    /// Seeded deterministically.
    pub fn seeded(seed: u64) -> Self {
        StdRng(rand::rngs::StdRng::seed_from_u64(seed))
    }
}

impl Rng for StdRng {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}
