//! The master's own log over `/files/browse`, `/files/read`, `/files/download` and
//! `/files/debug` (HTTP reference §4.6), under the virtual path `/master/log`, as Mesos
//! attaches its log file there when it runs with `--log_dir`.
//!
//! Only that one path exists: without `--log-dir` (no file) every path is 404, as on a
//! Mesos master without `--log_dir`. Query rules follow the agent's `/files`: 400 for a
//! missing `path` or a bad `offset`/`length`, a read of at most [`MAX_READ_LENGTH`] bytes,
//! `offset=-1` (or none) answers the file's size with no data; 405 for a method other than
//! GET. The file is read as it is now: the logger keeps appending to it.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use libprocess::http_types::{header, HeaderValue, Method, StatusCode};
use libprocess::{HttpRequest, HttpResponse};
use meso_api::http::routing::{json_or_jsonp, parse_query, query_value};
use meso_api::http::HttpError;
use serde_json::{json, Value};

use super::legacy::error_response;

/// The virtual path of the master's log.
pub const MASTER_LOG_PATH: &str = "/master/log";

/// Most bytes one `/files/read` returns (Mesos: 16 pages).
pub const MAX_READ_LENGTH: u64 = 16 * 4096;

fn text(status: StatusCode, body: impl Into<String>) -> HttpResponse {
    HttpResponse::text(status, body.into())
}

fn json_reply(query: Option<&str>, value: Value) -> HttpResponse {
    match json_or_jsonp(query, value.to_string()) {
        Ok((content_type, body)) => {
            let mut r = HttpResponse::text(StatusCode::OK, body);
            r.headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r
        }
        Err(e) => error_response(e),
    }
}

/// `-rw-r--r--` for a regular file's mode bits.
fn mode_text(mode: u32) -> String {
    let mut s = String::from("-");
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// `offset`/`length`: absent, -1 (offset only), or a number >= 0.
fn number(pairs: &[(String, String)], name: &str) -> Result<Option<i64>, HttpError> {
    let Some(value) = query_value(pairs, name) else {
        return Ok(None);
    };
    let bad = || {
        HttpError::new(
            400,
            format!(
                "Failed to parse '{name}': '{value}' is not a number >= 0 (offset may also be -1)"
            ),
        )
    };
    let n: i64 = value.trim().parse().map_err(|_| bad())?;
    if n < -1 || (n == -1 && name == "length") {
        return Err(bad());
    }
    Ok(Some(n))
}

/// `/files/<route>` for the master's log file `log_file` (`None`: no `--log-dir`).
pub fn serve(request: &HttpRequest, route: &str, log_file: Option<&Path>) -> HttpResponse {
    if request.method != Method::GET {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Expecting 'GET', received another method",
        );
        r.headers
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    let query = request.query.as_deref();
    let pairs = match parse_query(query.unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return error_response(e),
    };
    if route == "debug" {
        let mut map = serde_json::Map::new();
        if let Some(file) = log_file {
            map.insert(MASTER_LOG_PATH.into(), file.display().to_string().into());
        }
        return json_reply(query, Value::Object(map));
    }
    if !matches!(route, "browse" | "read" | "download") {
        return text(
            StatusCode::NOT_FOUND,
            format!("No handler for '/files/{route}'"),
        );
    }
    let Some(path) = query_value(&pairs, "path").filter(|p| !p.is_empty()) else {
        return text(StatusCode::BAD_REQUEST, "Expecting 'path=value' in query");
    };
    let not_found = || {
        text(
            StatusCode::NOT_FOUND,
            format!(
                "'{path}' is not a file the master serves (only {MASTER_LOG_PATH}, with --log-dir)"
            ),
        )
    };
    let (Some(file), true) = (log_file, path.trim_end_matches('/') == MASTER_LOG_PATH) else {
        return not_found();
    };
    let Ok(meta) = std::fs::metadata(file) else {
        return not_found();
    };
    match route {
        "browse" => json_reply(
            query,
            json!([{
                "path": MASTER_LOG_PATH,
                "nlink": meta.nlink(),
                "size": meta.size(),
                "mtime": meta.mtime(),
                "mode": mode_text(meta.mode()),
                "uid": meta.uid().to_string(),
                "gid": meta.gid().to_string(),
            }]),
        ),
        "download" => match std::fs::read(file) {
            Ok(data) => {
                let mut r = HttpResponse::text(StatusCode::OK, "");
                r.body = data.into();
                r.headers.insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=master.log"),
                );
                r
            }
            Err(_) => not_found(),
        },
        _ => read(query, &pairs, file, meta.len()).unwrap_or_else(error_response),
    }
}

fn read(
    query: Option<&str>,
    pairs: &[(String, String)],
    file: &Path,
    size: u64,
) -> Result<HttpResponse, HttpError> {
    let offset = number(pairs, "offset")?;
    let length = number(pairs, "length")?;
    let offset = match offset {
        None | Some(-1) => return Ok(json_reply(query, json!({"data": "", "offset": size}))),
        Some(n) => n as u64,
    };
    if offset > size {
        return Err(HttpError::new(
            400,
            format!("offset {offset} is beyond the size of the file ({size} bytes)"),
        ));
    }
    let length = length.map_or(MAX_READ_LENGTH, |l| (l as u64).min(MAX_READ_LENGTH));
    let unreadable =
        |e: std::io::Error| HttpError::new(500, format!("cannot read the master's log: {e}"));
    let mut f = std::fs::File::open(file).map_err(unreadable)?;
    f.seek(SeekFrom::Start(offset)).map_err(unreadable)?;
    let mut data = Vec::new();
    f.take(length).read_to_end(&mut data).map_err(unreadable)?;
    Ok(json_reply(
        query,
        json!({"data": String::from_utf8_lossy(&data), "offset": offset}),
    ))
}
