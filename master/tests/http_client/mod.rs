//! A raw HTTP/1.1 client over `std::net::TcpStream` for the operator tests: one request per
//! connection (`Connection: close`), chunked bodies decoded, and an incremental reader of a
//! chunked RecordIO stream. No meso code.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Hang guard on socket reads (never an assertion of speed).
pub const READ_GUARD: Duration = Duration::from_secs(60);

/// A whole response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// Every value of a header that may repeat (e.g. `WWW-Authenticate`), in order.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(READ_GUARD)).expect("read timeout");
    s
}

/// Sends raw bytes and reads the whole response.
pub fn raw(addr: SocketAddr, request: &[u8]) -> Response {
    let mut s = connect(addr);
    s.write_all(request).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse(&out)
}

fn parse(out: &[u8]) -> Response {
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(out)));
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut body = out[end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut decoder = Chunked::default();
        body = decoder.feed(&body);
    }
    Response { status, head, body }
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// `POST path` with a JSON body and extra header lines.
pub fn post(addr: SocketAddr, path: &str, content_type: Option<&str>, body: &str) -> Response {
    let ct = content_type
        .map(|c| format!("Content-Type: {c}\r\n"))
        .unwrap_or_default();
    raw(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// `method path` with extra header lines (`Name: value`) and a body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    raw(
        addr,
        format!(
            "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// An operator call with a JSON body.
pub fn call(addr: SocketAddr, body: &str) -> Response {
    post(addr, "/api/v1", Some("application/json"), body)
}

/// Incremental chunked-encoding decoder.
#[derive(Default)]
pub struct Chunked {
    buf: Vec<u8>,
    /// Data bytes left in the current chunk; `None` while reading a size line.
    remaining: Option<usize>,
    done: bool,
}

impl Chunked {
    /// Feeds bytes, returns the body bytes they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while !self.done {
            match self.remaining {
                Some(0) => {
                    if self.buf.len() < 2 {
                        break;
                    }
                    self.buf.drain(..2);
                    self.remaining = None;
                }
                Some(n) => {
                    if self.buf.is_empty() {
                        break;
                    }
                    let take = n.min(self.buf.len());
                    out.extend(self.buf.drain(..take));
                    self.remaining = Some(n - take);
                }
                None => {
                    let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                        break;
                    };
                    let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                    let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
                    self.buf.drain(..end + 2);
                    if size == 0 {
                        self.done = true;
                    } else {
                        self.remaining = Some(size);
                    }
                }
            }
        }
        out
    }
}

/// A RecordIO event stream over a chunked response.
pub struct EventStream {
    sock: TcpStream,
    pub status: u16,
    pub head: String,
    chunked: Chunked,
    body: Vec<u8>,
}

impl EventStream {
    /// POSTs `body` to `path` and reads the response head.
    pub fn open(addr: SocketAddr, path: &str, body: &str) -> EventStream {
        let mut sock = connect(addr);
        write!(
            sock,
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            let n = sock.read(&mut byte).expect("read head");
            assert!(n > 0, "connection closed before the head");
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        EventStream {
            sock,
            status,
            head,
            chunked: Chunked::default(),
            body: Vec::new(),
        }
    }

    /// The next RecordIO record as JSON (blocks up to the read guard).
    pub fn next(&mut self) -> serde_json::Value {
        loop {
            if let Some(nl) = self.body.iter().position(|b| *b == b'\n') {
                let len: usize = std::str::from_utf8(&self.body[..nl])
                    .expect("length is ASCII")
                    .parse()
                    .expect("length is decimal");
                if self.body.len() >= nl + 1 + len {
                    let record: Vec<u8> = self.body.drain(..nl + 1 + len).skip(nl + 1).collect();
                    return serde_json::from_slice(&record).expect("record is JSON");
                }
            }
            let mut buf = [0u8; 65536];
            let n = self.sock.read(&mut buf).expect("read stream");
            assert!(n > 0, "stream closed");
            let more = self.chunked.feed(&buf[..n]);
            self.body.extend(more);
        }
    }

    /// Reads records until one of `kind`, returning it.
    pub fn until(&mut self, kind: &str) -> serde_json::Value {
        loop {
            let event = self.next();
            if event["type"] == kind {
                return event;
            }
        }
    }
}
