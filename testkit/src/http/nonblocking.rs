//! A tiny HTTP/1.1 client over a raw TCP socket for tests: whole requests written as bytes
//! (so tests can send exactly the malformed input they mean), responses with
//! `Content-Length` or chunked bodies, and a SUBSCRIBE event stream read as chunked
//! RecordIO records of JSON. Waits have hang guards only.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use meso_api::http::recordio;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Hang guard for one read (never an assertion of speed).
pub const READ_GUARD: Duration = Duration::from_secs(60);

/// A whole response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `POST path` with the given headers (plus Host, Content-Length, Connection: close).
pub fn post(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut raw = format!("POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A JSON call with `Content-Type: application/json` and optional stream id.
pub fn json_call(path: &str, stream_id: Option<&str>, body: &Value) -> Vec<u8> {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(id) = stream_id {
        headers.push(("Mesos-Stream-Id", id));
    }
    post(path, &headers, body.to_string().as_bytes())
}

/// Bytes read from a socket, with the parsing helpers the responses need.
struct Reader {
    socket: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Reader {
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(READ_GUARD, self.socket.read(&mut chunk))
            .await
            .expect("hang guard: reading from the master")
            .unwrap_or(0);
        if n == 0 {
            self.eof = true;
            return false;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        true
    }

    async fn head(&mut self) -> Option<(u16, Vec<(String, String)>)> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 4);
                let mut lines = head.split("\r\n");
                let status = lines
                    .next()?
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())?;
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .collect();
                return Some((status, headers));
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// The next chunk of a chunked body; `None` at the last chunk or EOF.
    async fn chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let size_text = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
                if size == 0 {
                    return None;
                }
                if self.buf.len() >= end + 2 + size + 2 {
                    let data = self.buf[end + 2..end + 2 + size].to_vec();
                    self.buf.drain(..end + 2 + size + 2);
                    return Some(data);
                }
            }
            if !self.fill().await {
                return None;
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `raw` on a fresh connection and reads one whole response (`None` if the server
/// closed the connection without one).
pub async fn request(addr: SocketAddr, raw: &[u8]) -> Option<Response> {
    let mut socket = TcpStream::connect(addr).await.expect("connect to the node");
    socket.write_all(raw).await.expect("write the request");
    let mut reader = Reader {
        socket,
        buf: Vec::new(),
        eof: false,
    };
    let (status, headers) = reader.head().await?;
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if let Some(len) = response
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        while reader.buf.len() < len && reader.fill().await {}
        response.body = reader.buf[..len.min(reader.buf.len())].to_vec();
    } else if response
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        while let Some(chunk) = reader.chunk().await {
            response.body.extend_from_slice(&chunk);
        }
    } else {
        while reader.fill().await {}
        response.body = std::mem::take(&mut reader.buf);
    }
    Some(response)
}

/// `GET /master/health` answers 200: the master is still serving.
pub async fn master_serves(addr: SocketAddr) -> bool {
    let raw = b"GET /master/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    request(addr, raw).await.is_some_and(|r| r.status == 200)
}

/// An open SUBSCRIBE stream.
pub struct EventStream {
    reader: Reader,
    decoder: recordio::Decoder,
    pending: VecDeque<Value>,
    pub stream_id: String,
    pub headers: Vec<(String, String)>,
}

impl EventStream {
    /// Sends a SUBSCRIBE; the stream on 200, the whole response otherwise.
    pub async fn open(addr: SocketAddr, path: &str, body: &Value) -> Result<EventStream, Response> {
        let raw = json_call(path, None, body);
        let mut socket = TcpStream::connect(addr).await.expect("connect to the node");
        socket.write_all(&raw).await.expect("write SUBSCRIBE");
        let mut reader = Reader {
            socket,
            buf: Vec::new(),
            eof: false,
        };
        let (status, headers) = reader.head().await.expect("a response to SUBSCRIBE");
        if status != 200 {
            let mut body = Vec::new();
            if let Some(len) = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, l)| l.parse::<usize>().ok())
            {
                while reader.buf.len() < len && reader.fill().await {}
                body = reader.buf[..len.min(reader.buf.len())].to_vec();
            }
            return Err(Response {
                status,
                headers,
                body,
            });
        }
        let stream_id = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("mesos-stream-id"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Ok(EventStream {
            reader,
            decoder: recordio::Decoder::new(16 << 20),
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
            let chunk = self.reader.chunk().await?;
            let records = self.decoder.feed(&chunk).expect("valid RecordIO");
            for record in records {
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
