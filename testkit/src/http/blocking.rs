//! The blocking shell of the kit's HTTP client, over `std::net::TcpStream`: one-shot
//! exchanges (one request per connection, the whole answer read to the close) and a
//! streaming reader of chunked RecordIO event streams (SUBSCRIBE).
//!
//! Requests are bytes, so a test can send exactly the malformed input it means. Every read
//! has the [`READ_GUARD`] socket timeout: a hang guard, never an assertion of speed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

use super::wire::{self, split_head, Chunked, Headers, Records, Response};

/// Hang guard on one socket read (never an assertion of speed).
pub const READ_GUARD: Duration = Duration::from_secs(90);

fn connect(addr: SocketAddr, read_timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(read_timeout))?;
    Ok(stream)
}

/// Sends `request` as is (it should say `Connection: close`) and reads the whole answer;
/// panics when the connection fails or no response head comes.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = connect(addr, READ_GUARD).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.write_all(request).expect("send the request");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    wire::parse_response(&raw).unwrap_or_else(|| {
        panic!(
            "no HTTP response head from {addr} in {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// Like [`exchange`], but `None` when anything fails (nothing listening, a read timeout of
/// `read_timeout`, no head): for polling a process that may not serve yet.
pub fn try_exchange(addr: SocketAddr, request: &[u8], read_timeout: Duration) -> Option<Response> {
    let mut stream = connect(addr, read_timeout).ok()?;
    stream.write_all(request).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    wire::parse_response(&raw)
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[], b"")
}

/// `GET path` on loopback `port`, or `None` when nothing answers within 10 s.
pub fn try_get(port: u16, path: &str) -> Option<Response> {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    try_exchange(
        SocketAddr::from(([127, 0, 0, 1], port)),
        raw.as_bytes(),
        Duration::from_secs(10),
    )
}

/// `method path` with `headers` (each `Name: value`) and `body`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &[u8],
) -> Response {
    exchange(addr, &wire::request_bytes(method, path, headers, body))
}

/// `POST path` with `body` and, when given, a `Content-Type`.
pub fn post(addr: SocketAddr, path: &str, content_type: Option<&str>, body: &str) -> Response {
    let ct = content_type.map(|c| format!("Content-Type: {c}"));
    let headers: Vec<&str> = ct.iter().map(String::as_str).collect();
    request(addr, "POST", path, &headers, body.as_bytes())
}

/// `POST path` with a JSON body.
pub fn post_json(addr: SocketAddr, path: &str, body: &str) -> Response {
    post(addr, path, Some("application/json"), body)
}

/// An operator call (`POST /api/v1`) with a JSON body.
pub fn call(addr: SocketAddr, body: &str) -> Response {
    post_json(addr, "/api/v1", body)
}

/// An open event stream (a SUBSCRIBE answer): the head, then events one at a time.
pub struct EventStream {
    stream: TcpStream,
    chunked: Chunked,
    records: Records,
    /// The response's status code.
    pub status: u16,
    /// The response's header lines.
    pub headers: Headers,
}

impl EventStream {
    /// POSTs the JSON `body` to `path` with `Content-Type: application/json` and the extra
    /// `headers` (each `Name: value`), on a connection kept open, and reads the head.
    pub fn open(addr: SocketAddr, path: &str, headers: &[&str], body: &str) -> EventStream {
        let mut stream =
            connect(addr, READ_GUARD).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for h in headers {
            request.push_str(h);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream
            .write_all(request.as_bytes())
            .expect("send the subscription");
        let mut raw = Vec::new();
        let (start, status, headers) = loop {
            if let Some(head) = split_head(&raw) {
                break head;
            }
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).expect("read the response head");
            assert!(n > 0, "connection closed before the response head");
            raw.extend_from_slice(&buf[..n]);
        };
        let mut events = EventStream {
            stream,
            chunked: Chunked::default(),
            records: Records::default(),
            status,
            headers,
        };
        let rest = events.chunked.feed(&raw[start..]);
        events.records.feed(&rest);
        events
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::header(&self.headers, name)
    }

    /// The next event, or `None` when the server ended the stream (or the read guard
    /// passed).
    pub fn next_event(&mut self) -> Option<Value> {
        loop {
            if let Some(record) = self.records.next_record() {
                return Some(
                    serde_json::from_slice(&record).expect("each record is one JSON event"),
                );
            }
            if self.chunked.is_done() {
                return None;
            }
            let mut buf = [0u8; 65536];
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => {
                    let body = self.chunked.feed(&buf[..n]);
                    self.records.feed(&body);
                }
            }
        }
    }

    /// The next event, which must be of type `kind`.
    pub fn expect(&mut self, kind: &str) -> Value {
        let event = self
            .next_event()
            .unwrap_or_else(|| panic!("stream ended while waiting for {kind}"));
        assert_eq!(event["type"], kind, "unexpected event {event}");
        event
    }

    /// Reads events until one of type `kind`, skipping others, and returns it.
    pub fn until(&mut self, kind: &str) -> Value {
        // Heartbeats keep every read short, so the wait as a whole needs its own bound.
        let deadline = std::time::Instant::now() + READ_GUARD;
        let mut passed: Vec<String> = Vec::new();
        loop {
            let event = self.next_event().unwrap_or_else(|| {
                panic!("stream ended while waiting for {kind} (passed over {passed:?})")
            });
            if event["type"] == kind {
                return event;
            }
            passed.push(event["type"].as_str().unwrap_or("?").to_string());
            if std::time::Instant::now() > deadline {
                panic!("hang guard: no {kind} event (passed over {passed:?})");
            }
        }
    }
}
