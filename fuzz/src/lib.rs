//! What the fuzz targets share: one in-memory libprocess node per fuzzing process, reached
//! through the node's `Transport` seam, so the real accept path (first-bytes sniffing, the
//! frame reader and message decoding, hyper and the router) reads each input as one
//! connection.
//!
//! Run with `scripts/fuzz.sh` (builds with libFuzzer instrumentation and runs each target
//! over its corpus under `fuzz/corpus/<target>/`). An input that once crashed a target
//! becomes a regression unit test in the crate that was fixed.

use futures::future::BoxFuture;
use libprocess::seams::{BoxConnection, Listener, Transport};
use libprocess::{Context, Handlers, Node, Process, RemoteMessage};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The address the in-memory node claims.
pub const ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 1);

struct MemListener(mpsc::UnboundedReceiver<BoxConnection>);

impl Listener for MemListener {
    fn accept(&mut self) -> BoxFuture<'_, std::io::Result<(BoxConnection, SocketAddr)>> {
        Box::pin(async move {
            match self.0.recv().await {
                Some(conn) => Ok((conn, SocketAddr::from(([127, 0, 0, 2], 2)))),
                None => futures::future::pending().await,
            }
        })
    }
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(SocketAddr::from(ADDR))
    }
}

struct MemTransport(Mutex<Option<MemListener>>);

impl Transport for MemTransport {
    fn bind(&self, _addr: SocketAddr) -> BoxFuture<'static, std::io::Result<Box<dyn Listener>>> {
        let listener = self.0.lock().expect("not poisoned").take();
        Box::pin(async move {
            listener
                .map(|l| Box::new(l) as Box<dyn Listener>)
                .ok_or_else(|| std::io::Error::other("the fuzz transport binds once"))
        })
    }
    fn connect(&self, _addr: SocketAddr) -> BoxFuture<'static, std::io::Result<BoxConnection>> {
        Box::pin(async { Err(std::io::Error::other("the fuzz node connects nowhere")) })
    }
}

/// A message with the shapes real messages have (text, lists, options).
#[derive(Serialize, Deserialize, Debug)]
pub struct Note {
    /// Text.
    pub text: String,
    /// Numbers.
    pub items: Vec<u64>,
    /// Nested text.
    pub tags: Option<Vec<String>>,
}

impl RemoteMessage for Note {
    const NAME: &'static str = "fuzz.Note";
}

/// The process frames are addressed to (`sink@127.0.0.1:1`).
pub struct SinkProcess;

impl Process for SinkProcess {
    type Message = Note;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Note>();
    }
    fn handle(&mut self, _ctx: &mut Context<Self>, note: Note) {
        std::hint::black_box(note);
    }
}

/// The node and the runtime it runs on.
pub struct FuzzNode {
    rt: tokio::runtime::Runtime,
    tx: mpsc::UnboundedSender<BoxConnection>,
    _node: Node,
}

/// The process-wide fuzz node, built on first use.
pub fn fuzz_node() -> &'static FuzzNode {
    static NODE: OnceLock<FuzzNode> = OnceLock::new();
    NODE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (tx, rx) = mpsc::unbounded_channel();
        let transport = MemTransport(Mutex::new(Some(MemListener(rx))));
        let node = rt.block_on(async {
            let node = Node::builder()
                .transport(std::sync::Arc::new(transport))
                .delegate("sink")
                .build()
                .await
                .expect("the in-memory node builds");
            node.spawn_named("sink", SinkProcess)
                .expect("the sink spawns");
            node
        });
        FuzzNode {
            rt,
            tx,
            _node: node,
        }
    })
}

impl FuzzNode {
    /// Writes `input` on a fresh connection, closes the writing side and reads the answer
    /// to its end (bounded: a second at most, and 1 MiB).
    pub fn exchange(&self, input: &[u8]) -> Vec<u8> {
        self.rt.block_on(async {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            if self.tx.send(Box::new(server)).is_err() {
                return Vec::new();
            }
            let mut out = Vec::new();
            let work = async {
                let (mut rd, mut wr) = tokio::io::split(&mut client);
                let write = async {
                    let _ = wr.write_all(input).await;
                    let _ = wr.shutdown().await;
                };
                let read = async {
                    let _ = (&mut rd).take(1 << 20).read_to_end(&mut out).await;
                };
                tokio::join!(write, read);
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), work).await;
            out
        })
    }
}
