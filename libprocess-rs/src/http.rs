//! HTTP requests as processes see them, and the handles they answer with.
//!
//! A request for `/<id>/<route>` reaches process `<id>` through `Process::http` with an
//! [`HttpReply`]. The process may answer at once, keep the handle in its state and answer
//! later, or open a chunked [`HttpStream`] and keep writing to it (RecordIO event streams).
//! Dropping an unanswered `HttpReply` answers 503. Invariant: a reply is sent at most once
//! (the handle is consumed).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::net::SocketAddr;
use tokio::sync::{mpsc, oneshot};

/// Chunks an [`HttpStream`] may queue before `send` reports it full.
pub const STREAM_QUEUE_CHUNKS: usize = 1024;

/// An HTTP request delivered to a process.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full path, e.g. `/master/state`.
    pub path: String,
    /// The path after the process id, e.g. `/state`; for the delegate, the full path.
    pub route: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body (bounded by the node's HTTP body limit).
    pub body: Bytes,
    /// The client's address.
    pub peer: SocketAddr,
}

/// A whole (not streamed) HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A response with `status` and a plain-text body.
    pub fn text(status: StatusCode, body: impl Into<String>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        HttpResponse {
            status,
            headers,
            body: Bytes::from(body.into()),
        }
    }

    /// `200 OK` with a JSON body.
    pub fn json(value: &serde_json::Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        HttpResponse {
            status: StatusCode::OK,
            headers,
            body: Bytes::from(value.to_string()),
        }
    }

    /// `404 Not Found` with a body naming what was not found.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::text(StatusCode::NOT_FOUND, what)
    }
}

/// What travels back to the HTTP server task.
pub(crate) enum ReplyBody {
    Whole(HttpResponse),
    Stream {
        status: StatusCode,
        headers: HeaderMap,
        chunks: mpsc::Receiver<Bytes>,
    },
}

/// The handle to answer one HTTP request. Consumed by answering.
#[derive(Debug)]
pub struct HttpReply {
    tx: oneshot::Sender<ReplyBody>,
}

impl std::fmt::Debug for ReplyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyBody")
    }
}

impl HttpReply {
    pub(crate) fn new() -> (Self, oneshot::Receiver<ReplyBody>) {
        let (tx, rx) = oneshot::channel();
        (HttpReply { tx }, rx)
    }

    /// Answers with a whole response. A client that has gone away is not an error.
    pub fn respond(self, response: HttpResponse) {
        let _ = self.tx.send(ReplyBody::Whole(response));
    }

    /// Answers with a chunked response whose body is written later through the returned
    /// stream. The response ends when the stream is dropped.
    pub fn stream(self, status: StatusCode, headers: HeaderMap) -> HttpStream {
        let (tx, rx) = mpsc::channel(STREAM_QUEUE_CHUNKS);
        let _ = self.tx.send(ReplyBody::Stream {
            status,
            headers,
            chunks: rx,
        });
        HttpStream { tx }
    }

    /// Whether the client has gone away (answering would be wasted).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Why a chunk was not queued on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The client has gone away.
    #[error("the http client closed the stream")]
    Closed,
    /// The client reads slower than the process writes; the queue holds
    /// [`STREAM_QUEUE_CHUNKS`] chunks. The chunk was not queued.
    #[error("the http stream queue is full ({STREAM_QUEUE_CHUNKS} chunks)")]
    Full,
}

/// The writing end of a chunked HTTP response. Keep it in process state; drop it to end.
#[derive(Debug, Clone)]
pub struct HttpStream {
    tx: mpsc::Sender<Bytes>,
}

impl HttpStream {
    /// Queues one chunk without waiting.
    pub fn send(&self, chunk: impl Into<Bytes>) -> Result<(), StreamError> {
        self.tx.try_send(chunk.into()).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StreamError::Full,
            mpsc::error::TrySendError::Closed(_) => StreamError::Closed,
        })
    }

    /// Whether the client has gone away.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Queues one chunk, waiting while the queue is full (for a writer outside any process,
    /// such as a proxy relaying another node's body at the client's pace).
    pub async fn send_waiting(&self, chunk: impl Into<Bytes>) -> Result<(), StreamError> {
        self.tx
            .send(chunk.into())
            .await
            .map_err(|_| StreamError::Closed)
    }

    /// Resolves once the client has gone away (the server dropped the response body).
    /// The future holds this handle, so the response does not end while it is pending:
    /// race it against a cancellation when the process may want to end the stream itself.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}
