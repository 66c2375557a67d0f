//! An HTTP/1.1 client for processes that must ask another node over HTTP (a master proxying
//! an agent's `/files` to a browser), and for programs outside any node.
//!
//! [`Node::http_send`](crate::Node::http_send) connects through the node's `Transport`,
//! drives the connection on its `Spawner` and bounds the wait for the response head by the
//! node's `Clock`, so a simulation backend controls it like every other effect. [`send`]
//! does the exchange on a connection the caller opened (a CLI over a plain TCP stream).
//!
//! Invariants: one request per connection (the connection ends with the response body);
//! a body is read whole only up to the caller's limit ([`ClientResponse::bytes`]), else
//! chunk by chunk ([`ClientResponse::chunk`]); every failure is a [`ClientError`] that says
//! what failed, never a panic.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::seams::BoxConnection;

/// One request: method, path with query, headers and body.
#[derive(Debug, Clone)]
pub struct ClientRequest {
    /// The method.
    pub method: Method,
    /// The path and query, e.g. `/slave(1)/files/read?path=/x&offset=0`.
    pub path_and_query: String,
    /// Extra headers (`Host` and `Connection: close` are added).
    pub headers: HeaderMap,
    /// The body (empty for a GET).
    pub body: Bytes,
}

impl ClientRequest {
    /// `GET path_and_query` with no extra header.
    pub fn get(path_and_query: impl Into<String>) -> Self {
        ClientRequest {
            method: Method::GET,
            path_and_query: path_and_query.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// `POST path` with `body` of `content_type`.
    pub fn post(path: impl Into<String>, content_type: &'static str, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        ClientRequest {
            method: Method::POST,
            path_and_query: path.into(),
            headers,
            body,
        }
    }
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No connection could be opened.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The peer did not send a response head in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The request could not be built (a malformed path or header).
    #[error("bad request: {0}")]
    Request(String),
    /// The exchange broke (connection closed, malformed response).
    #[error("{0}")]
    Http(String),
    /// The body is larger than the caller accepts.
    #[error("response body larger than {0} bytes")]
    TooLarge(usize),
}

/// A response head and its body, still to be read.
#[derive(Debug)]
pub struct ClientResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    body: Incoming,
}

impl ClientResponse {
    /// The next chunk of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Some(Ok(data)),
                    // Trailers: nothing a caller reads.
                    Err(_) => continue,
                },
                Err(e) => return Some(Err(ClientError::Http(format!("reading the body: {e}")))),
            }
        }
    }

    /// The whole body, refused past `limit` bytes.
    pub async fn bytes(mut self, limit: usize) -> Result<Bytes, ClientError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > limit {
                return Err(ClientError::TooLarge(limit));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(out))
    }
}

/// Sends `request` on `conn` to `host` (the `Host` header, e.g. `10.0.0.2:5051`) and
/// returns the response head; `drive` runs the connection's background future (it must
/// keep running until the body has been read).
pub async fn send(
    conn: BoxConnection,
    host: &str,
    request: ClientRequest,
    drive: impl FnOnce(BoxFuture<'static, ()>),
) -> Result<ClientResponse, ClientError> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(conn))
        .await
        .map_err(|e| ClientError::Http(format!("HTTP handshake: {e}")))?;
    drive(Box::pin(async move {
        let _ = connection.await;
    }));
    let mut builder = Request::builder()
        .method(request.method)
        .uri(&request.path_and_query)
        .header(http::header::HOST, host)
        .header(http::header::CONNECTION, "close");
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(request.body))
        .map_err(|e| ClientError::Request(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| ClientError::Http(format!("the exchange broke: {e}")))?;
    let (head, body) = response.into_parts();
    Ok(ClientResponse {
        status: head.status,
        headers: head.headers,
        body,
    })
}

impl crate::Node {
    /// Sends `request` to the node at `addr` over this node's transport and returns the
    /// response head; [`ClientError::Timeout`] when none came within `timeout` (by the
    /// node's clock). The body is read afterwards, at the caller's pace.
    pub fn http_send(
        &self,
        addr: SocketAddr,
        request: ClientRequest,
        timeout: Duration,
    ) -> impl Future<Output = Result<ClientResponse, ClientError>> + Send + 'static {
        let inner = self.inner();
        let connect = inner.connect(addr);
        let spawner = inner.spawner.clone();
        let clock = inner.clock.clone();
        let deadline = clock.sleep_until(clock.now() + timeout);
        let exchange = async move {
            let conn = connect.await.map_err(ClientError::Connect)?;
            send(conn, &addr.to_string(), request, |f| spawner.spawn(f)).await
        };
        async move {
            futures::pin_mut!(exchange);
            match futures::future::select(exchange, deadline).await {
                futures::future::Either::Left((result, _)) => result,
                futures::future::Either::Right(((), _)) => Err(ClientError::Timeout(timeout)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn one_answer(
        answer: &'static [u8],
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            s.write_all(answer).await.unwrap();
            buf.truncate(n);
            buf
        });
        (addr, task)
    }

    async fn exchange(
        addr: std::net::SocketAddr,
        limit: usize,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let response = send(
            Box::new(conn),
            &addr.to_string(),
            ClientRequest::get("/x?y=1"),
            |f| {
                tokio::spawn(f);
            },
        )
        .await?;
        let status = response.status;
        Ok((status, response.bytes(limit).await?))
    }

    #[tokio::test]
    async fn chunked_bodies_are_decoded_and_the_request_names_host_and_path() {
        let (addr, server) = one_answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .await;
        let (status, body) = exchange(addr, 100).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"abcde");
        let request = String::from_utf8(server.await.unwrap()).unwrap();
        assert!(request.starts_with("GET /x?y=1 HTTP/1.1\r\n"), "{request}");
        assert!(
            request
                .to_ascii_lowercase()
                .contains(&format!("host: {addr}")),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused() {
        let (addr, _server) =
            one_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789").await;
        let err = exchange(addr, 4).await.unwrap_err();
        assert!(matches!(err, ClientError::TooLarge(4)), "{err}");
    }

    #[tokio::test]
    async fn garbage_instead_of_a_response_is_an_error() {
        let (addr, _server) = one_answer(b"SSH-2.0-OpenSSH\r\n").await;
        let err = exchange(addr, 100).await.unwrap_err();
        assert!(matches!(err, ClientError::Http(_)), "{err}");
    }
}
