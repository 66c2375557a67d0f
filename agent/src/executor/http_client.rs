//! A minimal blocking HTTP/1.1 client over `std::net`, just enough for the executor API:
//! short `POST`s over one kept-alive connection ([`CallConnection`], reopened when it
//! breaks) and one long `POST` whose chunked response is a RecordIO event stream. No async
//! runtime, no pool: this keeps the built-in executor's memory small. Responses are bounded ([`MAX_BODY_BYTES`], header size) so a
//! misbehaving peer cannot make the executor buffer without limit. When the agent runs TLS
//! (`--ssl-*`, passed on as `MESO_SSL_*`), every connection is TLS through rustls's blocking
//! stream, verified against the agent's CA and presenting the agent's certificate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use crate::error::AgentError;
use meso_api::http::recordio::Decoder;

/// Largest response body or single event accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
const MAX_HEADER_LINE: usize = 8 * 1024;

fn protocol(peer: &str, reason: impl Into<String>) -> AgentError {
    AgentError::Protocol {
        peer: peer.to_string(),
        reason: reason.into(),
    }
}

fn io<'a>(peer: &'a str, what: &'static str) -> impl FnOnce(std::io::Error) -> AgentError + 'a {
    move |source| AgentError::Io {
        what,
        path: peer.to_string(),
        source,
    }
}

/// The status line and the headers that matter here.
#[derive(Debug)]
struct Head {
    status: u16,
    chunked: bool,
    content_length: Option<usize>,
    /// The server said `Connection: close`.
    close: bool,
}

/// The TLS client configuration of the executor's connections to the agent.
pub type TlsConfig = Arc<rustls::ClientConfig>;

/// A connection to the agent: plain TCP, or TLS over it.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS (rustls's blocking stream).
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn connect(peer: &str, tls: Option<&TlsConfig>) -> Result<BufReader<Stream>, AgentError> {
    let stream = TcpStream::connect(peer).map_err(io(peer, "connecting to the agent"))?;
    let _ = stream.set_nodelay(true);
    let stream = match tls {
        None => Stream::Plain(stream),
        Some(config) => {
            let host = peer.rsplit_once(':').map_or(peer, |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let name = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => rustls::pki_types::ServerName::IpAddress(ip.into()),
                Err(_) => rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| protocol(peer, format!("no TLS server name: {e}")))?,
            };
            let conn = rustls::ClientConnection::new(config.clone(), name)
                .map_err(|e| protocol(peer, format!("TLS: {e}")))?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(conn, stream)))
        }
    };
    Ok(BufReader::with_capacity(8 * 1024, stream))
}

fn write_request(
    reader: &mut BufReader<Stream>,
    peer: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(), AgentError> {
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {peer}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\n{authorization}Content-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    reader
        .get_mut()
        .write_all(&request)
        .map_err(io(peer, "writing a request to the agent"))
}

fn read_line(reader: &mut BufReader<Stream>, peer: &str) -> Result<String, AgentError> {
    let mut line = String::new();
    let n = reader
        .by_ref()
        .take(MAX_HEADER_LINE as u64)
        .read_line(&mut line)
        .map_err(io(peer, "reading from the agent"))?;
    if n == 0 {
        return Err(protocol(peer, "connection closed"));
    }
    if !line.ends_with('\n') {
        return Err(protocol(peer, "header line too long or cut off"));
    }
    Ok(line.trim_end().to_string())
}

fn read_head(reader: &mut BufReader<Stream>, peer: &str) -> Result<Head, AgentError> {
    let status_line = read_line(reader, peer)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| protocol(peer, format!("bad status line {status_line:?}")))?;
    let mut head = Head {
        status,
        chunked: false,
        content_length: None,
        close: false,
    };
    loop {
        let line = read_line(reader, peer)?;
        if line.is_empty() {
            return Ok(head);
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(protocol(peer, format!("bad header {line:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            head.content_length = Some(
                value
                    .parse()
                    .map_err(|_| protocol(peer, format!("bad content-length {value:?}")))?,
            );
        }
    }
}

/// Reads one chunk of a chunked body; `None` at the last chunk.
fn read_chunk(reader: &mut BufReader<Stream>, peer: &str) -> Result<Option<Vec<u8>>, AgentError> {
    let size_line = read_line(reader, peer)?;
    let size_text = size_line.split(';').next().unwrap_or("").trim();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| protocol(peer, format!("bad chunk size {size_line:?}")))?;
    if size > MAX_BODY_BYTES {
        return Err(protocol(
            peer,
            format!("chunk of {size} bytes is too large"),
        ));
    }
    if size == 0 {
        // Trailers, if any, end with an empty line.
        while !read_line(reader, peer)?.is_empty() {}
        return Ok(None);
    }
    let mut chunk = vec![0; size];
    reader
        .read_exact(&mut chunk)
        .map_err(io(peer, "reading a chunk from the agent"))?;
    let mut crlf = [0; 2];
    reader
        .read_exact(&mut crlf)
        .map_err(io(peer, "reading a chunk from the agent"))?;
    if &crlf != b"\r\n" {
        return Err(protocol(peer, "chunk not followed by CRLF"));
    }
    Ok(Some(chunk))
}

/// One kept-alive connection for short calls (the UPDATEs). Opening a TCP connection per
/// call cost the agent an accept and a connection task for each of a task's three updates;
/// one connection carries them all. A call on a reused connection that fails (the agent
/// closed it while idle) is sent once more on a fresh one: updates carry a uuid and the
/// agent ignores duplicates, so a repeat is harmless.
#[derive(Debug)]
pub struct CallConnection {
    peer: String,
    path: String,
    token: Option<String>,
    tls: Option<TlsConfig>,
    open: Option<BufReader<Stream>>,
}

impl CallConnection {
    /// A connection to `peer` for calls to `path`, each carrying `token` as a bearer
    /// credential when given, over TLS when `tls` is given; opened on the first call.
    pub fn new(peer: &str, path: &str, token: Option<&str>, tls: Option<TlsConfig>) -> Self {
        CallConnection {
            peer: peer.to_string(),
            path: path.to_string(),
            token: token.map(str::to_string),
            tls,
            open: None,
        }
    }

    /// Sends one call and returns the status code and body.
    pub fn post(&mut self, body: &[u8]) -> Result<(u16, Vec<u8>), AgentError> {
        if let Some(reader) = self.open.take() {
            if let Ok(answer) = self.exchange(reader, body) {
                return Ok(answer);
            }
        }
        let reader = connect(&self.peer, self.tls.as_ref())?;
        self.exchange(reader, body)
    }

    fn exchange(
        &mut self,
        mut reader: BufReader<Stream>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), AgentError> {
        let peer = self.peer.as_str();
        write_request(&mut reader, peer, &self.path, self.token.as_deref(), body)?;
        let head = read_head(&mut reader, peer)?;
        let mut out = Vec::new();
        let reusable = if head.chunked {
            while let Some(chunk) = read_chunk(&mut reader, peer)? {
                out.extend(chunk);
                if out.len() > MAX_BODY_BYTES {
                    return Err(protocol(peer, "response body too large"));
                }
            }
            true
        } else if let Some(len) = head.content_length {
            if len > MAX_BODY_BYTES {
                return Err(protocol(peer, format!("response body of {len} bytes")));
            }
            out.resize(len, 0);
            reader
                .read_exact(&mut out)
                .map_err(io(peer, "reading a response body"))?;
            true
        } else {
            // The body runs to the end of the connection.
            reader
                .by_ref()
                .take(MAX_BODY_BYTES as u64)
                .read_to_end(&mut out)
                .map_err(io(peer, "reading a response body"))?;
            false
        };
        if reusable && !head.close {
            self.open = Some(reader);
        }
        Ok((head.status, out))
    }
}

/// A streamed response: RecordIO records arriving in HTTP chunks.
pub struct RecordStream {
    peer: String,
    reader: BufReader<Stream>,
    decoder: Decoder,
    ready: std::collections::VecDeque<Vec<u8>>,
}

/// Opens the stream (with `token` as a bearer credential when given, over TLS when `tls`
/// is given). A non-200 answer is a protocol error carrying the status and body.
pub fn subscribe(
    peer: &str,
    path: &str,
    token: Option<&str>,
    tls: Option<&TlsConfig>,
    body: &[u8],
) -> Result<RecordStream, AgentError> {
    let mut reader = connect(peer, tls)?;
    write_request(&mut reader, peer, path, token, body)?;
    let head = read_head(&mut reader, peer)?;
    if head.status != 200 {
        let mut text = Vec::new();
        let limit = head.content_length.unwrap_or(4096).min(4096);
        let _ = reader.take(limit as u64).read_to_end(&mut text);
        return Err(protocol(
            peer,
            format!(
                "SUBSCRIBE answered {}: {}",
                head.status,
                String::from_utf8_lossy(&text)
            ),
        ));
    }
    if !head.chunked {
        return Err(protocol(peer, "SUBSCRIBE response is not chunked"));
    }
    Ok(RecordStream {
        peer: peer.to_string(),
        reader,
        decoder: Decoder::new(MAX_BODY_BYTES),
        ready: Default::default(),
    })
}

impl RecordStream {
    /// The next record, or `None` when the agent ended the stream.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, AgentError> {
        loop {
            if let Some(record) = self.ready.pop_front() {
                return Ok(Some(record));
            }
            match read_chunk(&mut self.reader, &self.peer)? {
                None => return Ok(None),
                Some(chunk) => {
                    let records = self
                        .decoder
                        .feed(&chunk)
                        .map_err(|e| protocol(&self.peer, e.to_string()))?;
                    self.ready.extend(records);
                }
            }
        }
    }
}
