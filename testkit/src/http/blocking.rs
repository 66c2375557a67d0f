//! A raw HTTP/1.1 client over blocking sockets for the agent's endpoints (no HTTP crate, so
//! the tests see the bytes a third-party client sees): one-shot exchanges, and a SUBSCRIBE
//! stream reader that undoes the chunked encoding and the RecordIO framing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use super::HANG_GUARD;

/// A whole response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
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

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Header lines as `(name, value)`.
pub type Headers = Vec<(String, String)>;

/// `(body start, status, headers)` once the head is complete.
fn split_head(raw: &[u8]) -> Option<(usize, u16, Headers)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Some((end + 4, status, headers))
}

/// Decodes a complete chunked body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&raw[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 || raw.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[(eol + 4 + size).min(raw.len())..];
    }
}

/// Sends `request` as is (it must say `Connection: close`) and reads the whole answer.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the agent");
    stream
        .set_read_timeout(Some(HANG_GUARD))
        .expect("set a hang guard");
    stream.write_all(request).expect("send the request");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let (start, status, headers) =
        split_head(&raw).unwrap_or_else(|| panic!("no HTTP head in {raw:?}"));
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(&raw[start..])
    } else {
        raw[start..].to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n").as_bytes(),
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
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    exchange(addr, &bytes)
}

/// `POST path` with a JSON body.
pub fn post_json(addr: SocketAddr, path: &str, body: &str) -> Response {
    request(
        addr,
        "POST",
        path,
        &["Content-Type: application/json"],
        body.as_bytes(),
    )
}

/// An open SUBSCRIBE stream: events one at a time.
pub struct Subscription {
    stream: TcpStream,
    /// Bytes read but not yet de-chunked.
    raw: Vec<u8>,
    /// De-chunked bytes not yet parsed as records.
    body: Vec<u8>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Subscription {
    /// POSTs `call` to `/api/v1/executor` and reads the response head.
    pub fn open(addr: SocketAddr, call: &str) -> Subscription {
        let mut stream = TcpStream::connect(addr).expect("connect to the agent");
        stream
            .set_read_timeout(Some(HANG_GUARD))
            .expect("set a hang guard");
        let request = format!(
            "POST /api/v1/executor HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{call}",
            call.len()
        );
        stream
            .write_all(request.as_bytes())
            .expect("send SUBSCRIBE");
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
        raw.drain(..start);
        Subscription {
            stream,
            raw,
            body: Vec::new(),
            status,
            headers,
        }
    }

    /// Moves complete chunks from `raw` to `body`; false once the last chunk came.
    fn dechunk_available(&mut self) -> bool {
        loop {
            let Some(eol) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                return true;
            };
            let size_text = String::from_utf8_lossy(&self.raw[..eol]).into_owned();
            let size = usize::from_str_radix(size_text.trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
            if size == 0 {
                return false;
            }
            if self.raw.len() < eol + 2 + size + 2 {
                return true;
            }
            self.body
                .extend_from_slice(&self.raw[eol + 2..eol + 2 + size]);
            self.raw.drain(..eol + 4 + size);
        }
    }

    /// The next event, or `None` when the agent ended the stream.
    pub fn next_event(&mut self) -> Option<serde_json::Value> {
        loop {
            // A complete record: `<len>\n<len bytes>`, nothing in between.
            if let Some(nl) = self.body.iter().position(|b| *b == b'\n') {
                let len: usize = std::str::from_utf8(&self.body[..nl])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_else(|| panic!("bad RecordIO length in {:?}", self.body));
                if self.body.len() >= nl + 1 + len {
                    let record: Vec<u8> = self.body.drain(..nl + 1 + len).skip(nl + 1).collect();
                    return Some(
                        serde_json::from_slice(&record).expect("each record is one JSON event"),
                    );
                }
            }
            let before = self.body.len();
            let more = self.dechunk_available();
            if self.body.len() > before {
                continue;
            }
            if !more {
                return None;
            }
            let mut buf = [0u8; 8192];
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// The next event, which must be of `kind`.
    pub fn expect(&mut self, kind: &str) -> serde_json::Value {
        let event = self
            .next_event()
            .unwrap_or_else(|| panic!("stream ended while waiting for {kind}"));
        assert_eq!(event["type"], kind, "unexpected event {event}");
        event
    }
}
