//! The tokio shell of the kit's HTTP client, for tests that run inside a runtime with a
//! paused libprocess clock: one response per request (ended by `Content-Length`, the last
//! chunk, or the close), and SUBSCRIBE streams read as chunked RecordIO records of JSON.
//!
//! The same wire core as the blocking shell ([`super::wire`]); reads have the
//! [`READ_GUARD`] hang guard (never an assertion of speed).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, split_head, Chunked, Headers, Records, Response};

/// Hang guard for one read (never an assertion of speed).
pub const READ_GUARD: Duration = Duration::from_secs(60);

/// Bytes read from a socket, not yet consumed.
struct Reader {
    socket: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Reader {
    async fn connect(addr: SocketAddr, raw: &[u8]) -> Reader {
        let mut socket = TcpStream::connect(addr).await.expect("connect to the node");
        socket.write_all(raw).await.expect("write the request");
        Reader {
            socket,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Reads more bytes; false at the close.
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(READ_GUARD, self.socket.read(&mut chunk))
            .await
            .expect("hang guard: reading from the node")
            .unwrap_or(0);
        if n == 0 {
            self.eof = true;
            return false;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        true
    }

    async fn head(&mut self) -> Option<(u16, Headers)> {
        loop {
            if let Some((start, status, headers)) = split_head(&self.buf) {
                self.buf.drain(..start);
                return Some((status, headers));
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// A body of `len` bytes (fewer if the connection closes first).
    async fn sized_body(&mut self, len: usize) -> Vec<u8> {
        while self.buf.len() < len && self.fill().await {}
        self.buf[..len.min(self.buf.len())].to_vec()
    }

    /// More de-chunked body bytes: empty at the last chunk or the close.
    async fn chunk(&mut self, chunked: &mut Chunked) -> Vec<u8> {
        loop {
            let bytes = chunked.feed(&std::mem::take(&mut self.buf));
            if !bytes.is_empty() || chunked.is_done() || !self.fill().await {
                return bytes;
            }
        }
    }
}

/// Sends `raw` on a fresh connection and reads one whole response (`None` if the server
/// closed the connection without one).
pub async fn request(addr: SocketAddr, raw: &[u8]) -> Option<Response> {
    let mut reader = Reader::connect(addr, raw).await;
    let (status, headers) = reader.head().await?;
    let body = if let Some(len) =
        wire::header(&headers, "content-length").and_then(|l| l.parse::<usize>().ok())
    {
        reader.sized_body(len).await
    } else if wire::is_chunked(&headers) {
        let mut chunked = Chunked::default();
        let mut body = Vec::new();
        loop {
            let more = reader.chunk(&mut chunked).await;
            if more.is_empty() {
                break body;
            }
            body.extend(more);
        }
    } else {
        while reader.fill().await {}
        std::mem::take(&mut reader.buf)
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

/// `GET /master/health` answers 200: the master is still serving.
pub async fn master_serves(addr: SocketAddr) -> bool {
    let raw = b"GET /master/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    request(addr, raw).await.is_some_and(|r| r.status == 200)
}

/// An open SUBSCRIBE stream.
pub struct EventStream {
    reader: Reader,
    chunked: Chunked,
    records: Records,
    pending: VecDeque<Value>,
    /// The `Mesos-Stream-Id` the server assigned (empty if none).
    pub stream_id: String,
    /// The response's header lines.
    pub headers: Headers,
}

impl EventStream {
    /// Sends a SUBSCRIBE; the stream on 200, the whole response otherwise.
    pub async fn open(addr: SocketAddr, path: &str, body: &Value) -> Result<EventStream, Response> {
        let raw = wire::json_call(path, None, body);
        let mut reader = Reader::connect(addr, &raw).await;
        let (status, headers) = reader.head().await.expect("a response to SUBSCRIBE");
        if status != 200 {
            let mut body = Vec::new();
            if let Some(len) =
                wire::header(&headers, "content-length").and_then(|l| l.parse::<usize>().ok())
            {
                body = reader.sized_body(len).await;
            }
            return Err(Response {
                status,
                headers,
                body,
            });
        }
        let stream_id = wire::header(&headers, "mesos-stream-id")
            .unwrap_or_default()
            .to_string();
        Ok(EventStream {
            reader,
            chunked: Chunked::default(),
            records: Records::default(),
            pending: VecDeque::new(),
            stream_id,
            headers,
        })
    }

    /// The next event, or `None` once the stream ended.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let bytes = self.reader.chunk(&mut self.chunked).await;
            if bytes.is_empty() {
                return None;
            }
            self.records.feed(&bytes);
            while let Some(record) = self.records.next_record() {
                let text = std::str::from_utf8(&record).expect("records are UTF-8 JSON");
                assert!(
                    !text.contains('\n'),
                    "records are compact JSON, got {text:?}"
                );
                self.pending
                    .push_back(serde_json::from_str(text).expect("records are JSON"));
            }
        }
    }

    /// The next event whose type is `kind`, skipping others (HEARTBEATs, offers...).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self
                .next()
                .await
                .unwrap_or_else(|| panic!("stream ended waiting for {kind}"));
            if event["type"] == kind {
                return event;
            }
        }
    }
}
