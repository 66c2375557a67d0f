//! Benchmark: v1 scheduler calls answered per second by a real master over HTTP.
//!
//! Starts a node with the master (real clock, in-memory registrar), SUBSCRIBEs one HTTP
//! framework, then `connections` keep-alive client connections each send ACKNOWLEDGE calls
//! back to back (one outstanding per connection) for `seconds`. Every call goes through the
//! whole path: hyper, the front door (content type, JSON limits, validation), the master's
//! stream-id check and the acknowledgement handler, and a 202 back.
//!
//! Usage: `cargo run --release -p meso-master --example scheduler_calls_bench -- [connections] [seconds] [tls]`
//! (defaults 4 and 3). Prints `scheduler_calls_per_s: <n> calls/s`. With `tls` it then
//! measures the same over HTTPS (a second node with TLS, certificates made in the run, the
//! clients presenting one) and prints `https_scheduler_calls_per_s` and the ratio.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libprocess::seams::BoxConnection;
use libprocess::Node;
use meso_master::{InMemoryRegistrar, Master, MasterConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATH: &str = "/master/api/v1/scheduler";

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one response with a `Content-Length` body from `socket`; its status.
async fn read_response(socket: &mut BoxConnection, buf: &mut Vec<u8>) -> Option<u16> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut chunk = [0u8; 4096];
                let n = socket.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..end + 4 + len);
            return Some(status);
        }
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// SUBSCRIBEs; the open stream socket (kept open and drained), framework id, stream id.
async fn subscribe(addr: SocketAddr, tls: Option<&libprocess::Tls>) -> (String, String) {
    let body = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"bench","name":"bench","failover_timeout":3600}}}"#;
    let raw = format!(
        "POST {PATH} HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut socket = connect(addr, tls).await;
    socket.write_all(raw.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let (stream_id, framework_id) = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the master closed the SUBSCRIBE stream");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let stream_id = text
            .lines()
            .find_map(|l| l.strip_prefix("Mesos-Stream-Id: "))
            .or_else(|| {
                text.lines()
                    .find_map(|l| l.strip_prefix("mesos-stream-id: "))
            })
            .map(|s| s.trim().to_string());
        let framework_id = text
            .split(r#""framework_id":{"value":""#)
            .nth(1)
            .and_then(|r| r.split('"').next().map(str::to_string));
        if let (Some(s), Some(f)) = (stream_id, framework_id) {
            break (s, f);
        }
    };
    // Drain heartbeats so the stream never fills.
    tokio::spawn(async move {
        let mut chunk = [0u8; 4096];
        while socket.read(&mut chunk).await.is_ok_and(|n| n > 0) {}
    });
    (framework_id, stream_id)
}

/// A connection to `addr`: plain TCP, or TLS over it.
async fn connect(addr: SocketAddr, tls: Option<&libprocess::Tls>) -> BoxConnection {
    let socket = TcpStream::connect(addr).await.expect("connect");
    socket.set_nodelay(true).expect("nodelay");
    match tls {
        None => Box::new(socket),
        Some(t) => t
            .connect(Box::new(socket), "127.0.0.1")
            .await
            .expect("TLS handshake"),
    }
}

async fn client(
    addr: SocketAddr,
    tls: Option<libprocess::Tls>,
    request: Vec<u8>,
    until: Instant,
) -> u64 {
    let mut socket = connect(addr, tls.as_ref()).await;
    let mut buf = Vec::new();
    let mut answered = 0;
    while Instant::now() < until {
        socket.write_all(&request).await.expect("write");
        match read_response(&mut socket, &mut buf).await {
            Some(202) => answered += 1,
            other => panic!("ACKNOWLEDGE answered {other:?}"),
        }
    }
    answered
}

/// Certificates for one run: the node's TLS and a client's, from one CA.
fn tls_pair() -> (libprocess::Tls, libprocess::Tls) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("key");
    let ca_pem = ca.self_signed(&ca_key).expect("CA").pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = || {
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("leaf");
        (cert.pem(), key.serialize_pem())
    };
    let (cert, key) = leaf();
    let server = libprocess::Tls::from_pem(
        cert.as_bytes(),
        key.as_bytes(),
        ca_pem.as_bytes(),
        libprocess::TlsOptions::default(),
    )
    .expect("server TLS");
    let (cert, key) = leaf();
    let client = libprocess::Tls::client_from_pem(
        ca_pem.as_bytes(),
        Some((cert.as_bytes(), key.as_bytes())),
    )
    .expect("client TLS");
    (server, client)
}

/// Runs the measurement on a fresh master node (TLS when `tls` is given); calls per second.
async fn measure(
    connections: usize,
    seconds: f64,
    tls: Option<(libprocess::Tls, libprocess::Tls)>,
) -> f64 {
    let mut builder = Node::builder();
    let client_tls = match tls {
        Some((server, client)) => {
            builder = builder.tls(server);
            Some(client)
        }
        None => None,
    };
    let node = builder.build().await.expect("node starts");
    node.spawn_named(
        "master",
        Master::new(
            MasterConfig::new("bench", "localhost"),
            Box::new(InMemoryRegistrar::new()),
        ),
    )
    .expect("master spawns");
    let addr = node.addr();
    let (framework_id, stream_id) = subscribe(addr, client_tls.as_ref()).await;

    let body = format!(
        r#"{{"type":"ACKNOWLEDGE","framework_id":{{"value":"{framework_id}"}},"acknowledge":{{"agent_id":{{"value":"bench-S0"}},"task_id":{{"value":"t"}},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}}}"#
    );
    let request = format!(
        "POST {PATH} HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\nMesos-Stream-Id: {stream_id}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();

    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(client(addr, client_tls.clone(), request.clone(), until)))
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client task");
    }
    let elapsed = start.elapsed().as_secs_f64();
    node.shutdown().await;
    total as f64 / elapsed
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let connections: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let seconds: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let tls = args.next().as_deref() == Some("tls");

    let plain = measure(connections, seconds, None).await;
    println!("scheduler_calls_connections: {connections} connections");
    println!("scheduler_calls_per_s: {plain:.0} calls/s");
    if tls {
        let https = measure(connections, seconds, Some(tls_pair())).await;
        println!("https_scheduler_calls_per_s: {https:.0} calls/s");
        println!("https_vs_http_calls_ratio: {:.2}", https / plain);
    }
}
