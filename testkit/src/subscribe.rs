//! A v1 scheduler SUBSCRIBE over plain TCP, as a client given `--master a,b,c` does it, for
//! the failover benchmark and tests: `POST /api/v1/scheduler`,
//! follow a 307 to the leader its `Location` names, ask again after a 503 (no leader yet) or
//! a refused connection (that master is down), and stop at the first `SUBSCRIBED` event of
//! the RecordIO stream.
//!
//! Each answer is read with a socket timeout (a hang guard, not an assertion of speed); the
//! whole search is bounded by the caller's guard.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::http::wire::{self, split_head, Chunked, Records};

/// How long one answer may take before the attempt counts as failed (hang guard).
const ANSWER_GUARD: Duration = Duration::from_secs(10);
/// Pause before asking again after a 503 or a refused connection.
const RETRY_PAUSE: Duration = Duration::from_millis(5);

/// What one SUBSCRIBE to one master gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200 and a first event of type SUBSCRIBED with this framework id.
    Subscribed(String),
    /// 307 to this loopback port.
    Redirect(u16),
    /// 503 (no leader known yet) or another status, with the body.
    Refused(u16, String),
    /// No connection, or the connection broke before a full answer.
    Unreachable(String),
}

fn subscribe_body() -> String {
    serde_json::json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {
            "user": "bench", "name": "failover-subscriber", "failover_timeout": 0.0
        }}
    })
    .to_string()
}

/// The port of a `Location` such as `//127.0.0.1:5050/master/api/v1/scheduler`.
pub fn location_port(location: &str) -> Option<u16> {
    let rest = location.split("://").last()?.trim_start_matches('/');
    let authority = rest.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

/// One SUBSCRIBE to the master on loopback `port`.
pub fn subscribe_once(port: u16) -> Answer {
    let mut stream = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => return Answer::Unreachable(e.to_string()),
    };
    let _ = stream.set_read_timeout(Some(ANSWER_GUARD));
    let _ = stream.set_nodelay(true);
    let body = subscribe_body();
    let request = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Answer::Unreachable(e.to_string());
    }
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    // Once the head is in: the status, headers, and the body read so far.
    let mut head = None;
    let mut chunked = Chunked::default();
    let mut data = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Answer::Unreachable(format!("closed after {} bytes", raw.len())),
            Ok(n) => n,
            Err(e) => return Answer::Unreachable(e.to_string()),
        };
        raw.extend_from_slice(&buf[..n]);
        let mut fresh = &buf[..n];
        if head.is_none() {
            let Some((start, status, headers)) = split_head(&raw) else {
                if raw.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Answer::Unreachable("unparsable answer head".to_string());
                }
                continue;
            };
            fresh = &raw[start..];
            head = Some((status, headers));
        }
        let (status, headers) = head.as_ref().expect("the head was read above");
        let is_chunked = wire::is_chunked(headers);
        if is_chunked {
            data.extend(chunked.feed(fresh));
        } else {
            data.extend_from_slice(fresh);
        }
        let complete = if is_chunked {
            chunked.is_done()
        } else {
            wire::header(headers, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|w| data.len() >= w)
        };
        match status {
            200 => {
                let mut records = Records::default();
                records.feed(&data);
                if let Some(record) = records.next_record() {
                    let event: serde_json::Value = match serde_json::from_slice(&record) {
                        Ok(v) => v,
                        Err(e) => return Answer::Refused(200, format!("bad event: {e}")),
                    };
                    if event["type"] != "SUBSCRIBED" {
                        return Answer::Refused(200, format!("first event {event}"));
                    }
                    let id = event["subscribed"]["framework_id"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    return Answer::Subscribed(id);
                }
                if complete {
                    return Answer::Refused(200, "stream ended before an event".to_string());
                }
            }
            307 => {
                let location = wire::header(headers, "location");
                return match location.and_then(location_port) {
                    Some(port) => Answer::Redirect(port),
                    None => Answer::Refused(307, format!("location {location:?}")),
                };
            }
            other if complete => {
                return Answer::Refused(*other, String::from_utf8_lossy(&data).to_string());
            }
            _ => {}
        }
    }
}

/// SUBSCRIBEs through `ports` (the `--master` list) starting at `ports[start]` until a
/// master sends SUBSCRIBED: follows redirects, asks the next master after a refused
/// connection, asks again after a 503. Returns the framework id and the port that answered;
/// panics naming the last answer after `guard`.
pub fn subscribe_any(ports: &[u16], start: usize, guard: Duration) -> (String, u16) {
    let began = Instant::now();
    let mut position = start % ports.len();
    let mut target = ports[position];
    let mut last = Answer::Unreachable("not asked yet".to_string());
    while began.elapsed() < guard {
        last = subscribe_once(target);
        match &last {
            Answer::Subscribed(id) => return (id.clone(), target),
            Answer::Redirect(port) => {
                if *port == target {
                    // A leader still recovering names itself: ask it again shortly.
                    std::thread::sleep(RETRY_PAUSE);
                }
                target = *port;
            }
            Answer::Refused(..) => std::thread::sleep(RETRY_PAUSE),
            Answer::Unreachable(_) => {
                position = (position + 1) % ports.len();
                target = ports[position];
                std::thread::sleep(RETRY_PAUSE);
            }
        }
    }
    panic!("hang guard ({guard:?}): no master answered SUBSCRIBE; last answer {last:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_ports() {
        assert_eq!(
            location_port("//127.0.0.1:5050/master/api/v1/scheduler"),
            Some(5050)
        );
        assert_eq!(location_port("http://h:7/x"), Some(7));
        assert_eq!(location_port("/x"), None);
    }
}
