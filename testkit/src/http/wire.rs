//! The pure core of the kit's HTTP client: response heads, chunked transfer decoding and
//! RecordIO record splitting over bytes the caller read, with no socket of its own.
//!
//! The blocking and the tokio shells ([`super::blocking`], [`super::nonblocking`]) feed
//! these from their sockets. Everything here is written from RFC 9112 and Mesos's RecordIO
//! framing (`<decimal length>\n<record>`), not from meso's own codecs, so a test sees the
//! bytes a third-party client sees.
//!
//! Invariants: a decoder never returns a byte twice and never drops a complete unit it was
//! fed; a malformed chunk size or record length panics naming the bytes (a server bug the
//! test must report, not skip).

/// Header lines as `(name, value)`, in the order received.
pub type Headers = Vec<(String, String)>;

/// A whole response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code of the status line.
    pub status: u16,
    /// The header lines.
    pub headers: Headers,
    /// The body, with any chunked encoding undone.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every header named `name` (any case), in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Asserts an authentication refusal: 401, a Basic then a Bearer challenge for
    /// `realm`, and a body that says `why`.
    pub fn assert_unauthenticated(&self, realm: &str, why: &str) {
        assert_eq!(self.status, 401, "{}", self.text());
        assert_eq!(
            self.headers_named("WWW-Authenticate"),
            [
                format!("Basic realm=\"{realm}\""),
                format!("Bearer realm=\"{realm}\"")
            ]
        );
        assert!(self.text().contains(why), "{:?} lacks {why:?}", self.text());
    }
}

/// The first header named `name` (any case) in `headers`.
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether `headers` say `Transfer-Encoding: chunked`.
pub fn is_chunked(headers: &Headers) -> bool {
    header(headers, "transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
}

/// `(body start, status, headers)` once `raw` holds a whole response head.
pub fn split_head(raw: &[u8]) -> Option<(usize, u16, Headers)> {
    let end = find(raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Some((end + 4, status, headers))
}

/// The first response in `raw`, all of a connection's bytes up to its close: the body is
/// everything after the head, de-chunked when the head says so. `None` without a head.
pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let (start, status, headers) = split_head(raw)?;
    let body = if is_chunked(&headers) {
        Chunked::default().feed(&raw[start..])
    } else {
        raw[start..].to_vec()
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

/// The first position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Incremental chunked transfer decoder: feed it bytes as they come.
#[derive(Debug, Default)]
pub struct Chunked {
    buf: Vec<u8>,
    /// Data bytes (then 2 for the CRLF) left in the current chunk; `None` at a size line.
    remaining: Option<usize>,
    done: bool,
}

impl Chunked {
    /// Feeds `bytes`; returns the body bytes they complete.
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
                    let Some(end) = find(&self.buf, b"\r\n") else {
                        break;
                    };
                    let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                    let size_text = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size_text, 16)
                        .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
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

    /// Whether the last (empty) chunk came.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// Splits a RecordIO byte stream (`<decimal length>\n<record>`...) into records.
#[derive(Debug, Default)]
pub struct Records {
    buf: Vec<u8>,
}

impl Records {
    /// Appends stream bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete record, if one is buffered.
    pub fn next_record(&mut self) -> Option<Vec<u8>> {
        let nl = self.buf.iter().position(|b| *b == b'\n')?;
        let len: usize = std::str::from_utf8(&self.buf[..nl])
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("bad RecordIO length in {:?}", self.buf));
        if self.buf.len() < nl + 1 + len {
            return None;
        }
        Some(self.buf.drain(..nl + 1 + len).skip(nl + 1).collect())
    }
}

/// The bytes of `method path` with `headers` (each `Name: value`), `Host` and
/// `Connection: close`, a `Content-Length` and `body`.
pub fn request_bytes(method: &str, path: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The bytes of `POST path` with `headers` as `(name, value)` pairs (see [`request_bytes`]).
pub fn post_bytes(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let lines: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    request_bytes("POST", path, &lines, body)
}

/// A JSON call to `path` (`Content-Type: application/json`, and `Mesos-Stream-Id` when
/// given) as request bytes.
pub fn json_call(path: &str, stream_id: Option<&str>, body: &serde_json::Value) -> Vec<u8> {
    let stream_header = stream_id.map(|id| format!("Mesos-Stream-Id: {id}"));
    let mut headers = vec!["Content-Type: application/json"];
    if let Some(h) = &stream_header {
        headers.push(h);
    }
    request_bytes("POST", path, &headers, body.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_across_any_split() {
        let wire = b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        for cut in 0..wire.len() {
            let mut d = Chunked::default();
            let mut out = d.feed(&wire[..cut]);
            out.extend(d.feed(&wire[cut..]));
            assert_eq!(out, b"abcde", "split at {cut}");
            assert!(d.is_done());
        }
    }

    #[test]
    fn records_come_out_whole_and_in_order() {
        let mut r = Records::default();
        r.feed(b"2\n{}5\n[1,2");
        assert_eq!(r.next_record().as_deref(), Some(&b"{}"[..]));
        assert_eq!(r.next_record(), None);
        r.feed(b"]");
        assert_eq!(r.next_record().as_deref(), Some(&b"[1,2]"[..]));
    }

    #[test]
    fn a_response_head_and_chunked_body_parse() {
        let raw =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        let r = parse_response(raw).expect("a response");
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
        assert_eq!(r.header("x-a"), Some("b"));
    }
}
