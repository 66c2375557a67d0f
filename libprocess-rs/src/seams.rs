//! The interfaces the runtime sits on: network ([`Transport`]), task spawning ([`Spawner`]) and
//! randomness ([`Rng`]); time (monotonic and wall) is in [`crate::clock`].
//!
//! The node reaches the outside world only through these (and the clock), so a seeded,
//! single-threaded simulation backend can replace them to run many nodes deterministically.
//! The defaults are real: TCP with `TCP_NODELAY`, tokio tasks, an OS-seeded PRNG.
//!
//! Actors draw every random value (ids, uuids, jitter) from their node's [`Rng`] through
//! `Context::random_u64`, `Context::random_in` and `Context::uuid_v4`; [`uuid_v4`] and
//! [`random_in`] turn the rng's bits into those. Invariant: the same seed gives the same
//! sequence of values, whatever they are used for.

use futures::future::BoxFuture;
use rand::{RngCore, SeedableRng};
use std::io;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
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

/// Pending connections the kernel queues before `accept` (capped by `net.core.somaxconn`).
/// std's and tokio's default of 128 is too few for a burst of reconnections: the 200
/// executors of a restarted agent re-subscribe at once, the kernel drops the SYNs past the
/// backlog, and each dropped one waits out TCP's 1 s retransmission timeout.
pub const LISTEN_BACKLOG: u32 = 4096;

impl Transport for TcpTransport {
    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            let listener = socket.listen(LISTEN_BACKLOG)?;
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

/// The rng's bits as `rand`'s generator, so `rand`'s unbiased sampling can use them.
struct AsRngCore<'a>(&'a mut dyn Rng);

impl RngCore for AsRngCore<'_> {
    fn next_u32(&mut self) -> u32 {
        // The low half of a 64-bit draw: uniform, as the whole is.
        self.0.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.0.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// A value drawn uniformly from `range` (both ends included).
pub fn random_in(rng: &mut dyn Rng, range: RangeInclusive<u64>) -> u64 {
    rand::Rng::gen_range(&mut AsRngCore(rng), range)
}

/// A random (version 4) uuid made of the rng's next 128 bits.
pub fn uuid_v4(rng: &mut dyn Rng) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    AsRngCore(rng).fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_uuids_and_draws() {
        let draw = |seed| {
            let mut rng = StdRng::seeded(seed);
            let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid_v4(&mut rng)).collect();
            (ids, random_in(&mut rng, 10..=20))
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7).0, draw(8).0);
        let (ids, n) = draw(7);
        assert!(ids.iter().all(|u| u.get_version_num() == 4));
        assert!((10..=20).contains(&n));
    }
}
