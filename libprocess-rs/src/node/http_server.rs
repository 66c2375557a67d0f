//! The HTTP side of the node's port: hyper serves connections the sniffer classified as HTTP.
//!
//! Routing: the built-ins `/__processes__`, `/metrics/snapshot` and `/metrics` (unless a
//! process was named with `Node::set_metrics_snapshot_process`: then both to it) first; then
//! `/<id>/<route>` to live process `<id>`; else the delegate process with the full path as
//! route; else 404. Bodies are bounded (413 past the limit) and timed (408 past
//! `http_body_timeout`); heads are bounded in time (`http_header_timeout`, on the node's
//! clock through `http_timer.rs`), field count and bytes (431). A malformed request gets
//! hyper's 4xx, is counted, and ends only that connection.

use super::prefixed::Prefixed;
use super::{Node, NodeInner, Sink};
use crate::http::{HttpReply, HttpRequest, HttpResponse, ReplyBody};
use crate::seams::BoxConnection;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

type Body = Either<Full<Bytes>, ChannelBody>;

/// A streamed response body fed by an `HttpStream`.
pub(crate) struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

/// Serves one HTTP/1 connection.
pub(crate) async fn serve(node: Node, conn: BoxConnection, prefix: Bytes, peer: SocketAddr) {
    let io = TokioIo::new(Prefixed::new(prefix, conn));
    let service_node = node.clone();
    let service = hyper::service::service_fn(move |req| {
        let node = service_node.clone();
        async move {
            let mut response = route(node.clone(), req, peer).await;
            // The Date header from the node's clock, not hyper's (which reads the system's
            // time): a paused or simulated clock then fixes every byte of a response.
            if let Ok(date) =
                HeaderValue::from_str(&httpdate::fmt_http_date(node.inner().clock.wall_time()))
            {
                response
                    .headers_mut()
                    .entry(http::header::DATE)
                    .or_insert(date);
            }
            Ok::<_, Infallible>(response)
        }
    });
    let mut shutdown = node.inner().shutdown.subscribe();
    let limits = node.inner().limits;
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(super::http_timer::ClockTimer(node.inner().clock.clone()))
        .auto_date_header(false)
        .header_read_timeout(limits.http_header_timeout)
        .max_headers(limits.max_http_headers)
        .max_buf_size(limits.max_http_head_bytes.max(8192))
        .serve_connection(io, service);
    tokio::select! {
        // Deterministic: branches are polled in order (the simulator replays seeds).
        biased;
        result = connection => {
            if let Err(e) = result {
                if e.is_parse() || e.is_parse_too_large() || e.is_parse_status() {
                    node.inner().counters.http_malformed.inc();
                    slog::warn!(node.logger(), "malformed http request"; "peer" => %peer, "error" => %e);
                }
            }
        }
        () = crate::shutdown::until_shutdown(&mut shutdown) => {}
    }
}

fn whole(response: HttpResponse) -> Response<Body> {
    let mut out = Response::new(Either::Left(Full::new(response.body)));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    out
}

/// Decodes `%XX` escapes of a path segment; `None` if an escape is malformed or not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    if !segment.contains('%') {
        return Some(segment.to_string());
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The answer of a built-in path (`/__processes__`, `/metrics/snapshot`, `/metrics`), or
/// `None` for any other path.
fn builtin(node: &Node, path: &str) -> Option<HttpResponse> {
    let (text, content_type) = match path {
        "/__processes__" => {
            let list: Vec<serde_json::Value> = node
                .processes()
                .into_iter()
                .map(|(upid, depth)| {
                    serde_json::json!({"id": upid.id(), "upid": upid.to_string(), "mailbox_depth": depth})
                })
                .collect();
            return Some(HttpResponse::json(&serde_json::Value::Array(list)));
        }
        "/metrics/snapshot" => (node.metrics().snapshot_json(), "application/json"),
        "/metrics" => (node.metrics_text(), "text/plain; version=0.0.4"),
        _ => return None,
    };
    let mut r = HttpResponse::text(StatusCode::OK, text);
    r.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    Some(r)
}

/// Splits `/<id>/<rest>` into the process id (percent-decoded; empty if the escape is
/// malformed) and the route `/<rest>` that process sees.
fn process_and_route(path: &str) -> (String, String) {
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    (
        percent_decode(first).unwrap_or_default(),
        format!("/{rest}"),
    )
}

/// The process that serves `path` and the route it sees: the process the first segment
/// names, else the delegate with the whole path.
fn target_of(inner: &NodeInner, path: &str) -> Option<(Arc<dyn Sink>, String)> {
    let (first, route) = process_and_route(path);
    match inner.lookup(&first) {
        Some(sink) if !first.is_empty() => Some((sink, route)),
        _ => inner
            .delegate()
            .and_then(|d| inner.lookup(&d))
            .map(|sink| (sink, path.to_string())),
    }
}

/// 413 if the request's `Content-Length` is over `limit`: refused before reading a byte.
fn declared_too_large(headers: &http::HeaderMap, limit: usize) -> Option<HttpResponse> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())?;
    (declared > limit as u64).then(|| {
        HttpResponse::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body of {declared} bytes exceeds the limit of {limit} bytes"),
        )
    })
}

/// Reads the whole body, up to `limit` bytes and within `http_body_timeout`: past the size
/// 413, past the time 408, a broken body 400 (each counted).
async fn read_body(inner: &NodeInner, body: Incoming, limit: usize) -> Result<Bytes, HttpResponse> {
    let timeout = inner.limits.http_body_timeout;
    let deadline = inner.clock.sleep_until(inner.clock.now() + timeout);
    let collect = Limited::new(body, limit).collect();
    futures::pin_mut!(collect);
    let collected = match futures::future::select(collect, deadline).await {
        futures::future::Either::Left((collected, _)) => collected,
        futures::future::Either::Right(((), _)) => {
            inner.counters.http_body_timeout.inc();
            return Err(HttpResponse::text(
                StatusCode::REQUEST_TIMEOUT,
                format!("the request body did not arrive within {timeout:?}"),
            ));
        }
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                inner.counters.http_body_too_large.inc();
                return Err(HttpResponse::text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("body exceeds the limit of {limit} bytes"),
                ));
            }
            inner.counters.http_malformed.inc();
            Err(HttpResponse::text(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {e}"),
            ))
        }
    }
}

/// The process's answer as a hyper response: whole or streamed; 503 if it ended without
/// answering.
fn response_of<E>(answer: Result<ReplyBody, E>) -> Response<Body> {
    match answer {
        Ok(ReplyBody::Whole(response)) => whole(response),
        Ok(ReplyBody::Stream {
            status,
            headers,
            chunks,
        }) => {
            let mut out = Response::new(Either::Right(ChannelBody(chunks)));
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            out
        }
        Err(_) => whole(HttpResponse::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the process ended without answering",
        )),
    }
}

async fn route(node: Node, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let inner = node.inner();
    let path = req.uri().path().to_string();
    let snapshot_process = (path == "/metrics/snapshot" || path == "/metrics")
        .then(|| inner.metrics_snapshot_process())
        .flatten()
        .and_then(|id| inner.lookup(&id));
    let target = match snapshot_process {
        Some(sink) => Some((sink, path.clone())),
        None => {
            if let Some(response) = builtin(&node, &path) {
                return whole(response);
            }
            target_of(inner, &path)
        }
    };
    let Some((sink, route)) = target else {
        inner.counters.http_no_process.inc();
        return whole(HttpResponse::not_found(format!(
            "no process for path {path:?} and no delegate"
        )));
    };
    let limit = inner.limits.max_http_body_bytes;
    if let Some(refused) = declared_too_large(req.headers(), limit) {
        inner.counters.http_body_too_large.inc();
        return whole(refused);
    }
    let (parts, body) = req.into_parts();
    let body = match read_body(inner, body, limit).await {
        Ok(body) => body,
        Err(refused) => return whole(refused),
    };
    let request = HttpRequest {
        method: parts.method,
        path: path.clone(),
        route,
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        peer,
    };
    let (reply, answer) = HttpReply::new();
    sink.deliver_http(request, reply);
    response_of(answer.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_of_ids() {
        assert_eq!(percent_decode("slave%281%29").as_deref(), Some("slave(1)"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn the_first_segment_names_the_process_and_the_rest_is_its_route() {
        assert_eq!(
            process_and_route("/master/api/v1"),
            ("master".to_string(), "/api/v1".to_string())
        );
        assert_eq!(
            process_and_route("/slave%281%29/state"),
            ("slave(1)".to_string(), "/state".to_string())
        );
        assert_eq!(
            process_and_route("/master"),
            ("master".to_string(), "/".to_string())
        );
        assert_eq!(process_and_route("/"), (String::new(), "/".to_string()));
        assert_eq!(
            process_and_route("/bad%2/x"),
            (String::new(), "/x".to_string()),
            "a malformed escape names no process"
        );
    }

    #[test]
    fn a_declared_body_over_the_limit_is_refused_before_reading() {
        let mut headers = http::HeaderMap::new();
        assert!(
            declared_too_large(&headers, 10).is_none(),
            "no length declared"
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(declared_too_large(&headers, 10).is_none(), "at the limit");
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("11"));
        let refused = declared_too_large(&headers, 10).expect("over the limit");
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            &refused.body[..],
            b"body of 11 bytes exceeds the limit of 10 bytes"
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("x"));
        assert!(
            declared_too_large(&headers, 10).is_none(),
            "an unreadable length is left to the body limit"
        );
    }

    #[test]
    fn a_process_that_ends_without_answering_is_a_503() {
        let gone: Result<ReplyBody, ()> = Err(());
        assert_eq!(response_of(gone).status(), StatusCode::SERVICE_UNAVAILABLE);
        let answered: Result<ReplyBody, ()> = Ok(ReplyBody::Whole(HttpResponse::text(
            StatusCode::ACCEPTED,
            "ok",
        )));
        assert_eq!(response_of(answered).status(), StatusCode::ACCEPTED);
    }
}
