//! TLS on the node's port: frames and HTTP over TLS on the same port, plain connections
//! refused unless downgrade is on, client certificates required and checked against the CA.

#[path = "common/certs.rs"]
mod certs;
mod common;

use certs::{Ca, Leaf};
use common::*;
use libprocess::http_client::{self, ClientRequest};
use libprocess::{Node, Tls, TlsOptions};

fn tls(ca: &Ca, leaf: &Leaf, options: TlsOptions) -> Tls {
    Tls::from_pem(
        leaf.cert.as_bytes(),
        leaf.key.as_bytes(),
        ca.pem.as_bytes(),
        options,
    )
    .expect("a valid TLS configuration")
}

async fn tls_node(ca: &Ca, name: &str, options: TlsOptions) -> Node {
    Node::builder()
        .tls(tls(ca, &ca.leaf(name), options))
        .build()
        .await
        .expect("node binds on loopback")
}

/// GET `path` over HTTPS with `client`; the status, or the error text.
async fn https_get(client: &Tls, addr: std::net::SocketAddr, path: &str) -> Result<u16, String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let conn = client
        .connect(Box::new(tcp), "127.0.0.1")
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let response = http_client::send(conn, &addr.to_string(), ClientRequest::get(path), |f| {
        tokio::spawn(f);
    })
    .await
    .map_err(|e| e.to_string())?;
    Ok(response.status.as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_cross_between_tls_nodes_both_ways() {
    let ca = Ca::new("test CA");
    let options = TlsOptions {
        require_client_cert: true,
        support_downgrade: false,
    };
    let (a, b) = (
        tls_node(&ca, "a", options).await,
        tls_node(&ca, "b", options).await,
    );
    let (pa, mut rxa) = recorder(&a).await;
    let (pb, mut rxb) = recorder(&b).await;
    forward_notes(&pa, pb.upid(), 200);
    forward_notes(&pb, pa.upid(), 200);
    for n in 0..200 {
        let from = Some(pa.upid().clone());
        assert_eq!(next(&mut rxb).await, Event::Note { from, n });
        let from = Some(pb.upid().clone());
        assert_eq!(next(&mut rxa).await, Event::Note { from, n });
    }
    for node in [&a, &b] {
        let m = node.metrics().snapshot();
        assert_eq!(m["libprocess/tls/connections_accepted"], 1.0, "{m:?}");
        assert_eq!(m["libprocess/tls/handshake_failures"], 0.0);
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_runs_over_tls_on_the_same_port_and_plain_http_is_told_to_use_tls() {
    let ca = Ca::new("test CA");
    let node = tls_node(&ca, "server", TlsOptions::default()).await;
    // No client certificate needed unless required.
    let client = Tls::client_from_pem(ca.pem.as_bytes(), None).unwrap();
    assert_eq!(
        https_get(&client, node.addr(), "/__processes__").await,
        Ok(200)
    );
    let plain = get(node.addr(), "/__processes__").await;
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
    assert!(plain.contains("requires TLS"), "{plain}");
    assert_eq!(
        node.metrics().snapshot()["libprocess/tls/plaintext_refused"],
        1.0
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_node_cannot_send_to_a_tls_node_unless_downgrade_is_on() {
    let ca = Ca::new("test CA");
    for downgrade in [false, true] {
        let options = TlsOptions {
            require_client_cert: false,
            support_downgrade: downgrade,
        };
        let secure = tls_node(&ca, "secure", options).await;
        let plain = node().await;
        let (ps, mut rxs) = recorder(&secure).await;
        let (pp, _rxp) = recorder(&plain).await;
        if downgrade {
            forward_notes(&pp, ps.upid(), 3);
            for n in 0..3 {
                let from = Some(pp.upid().clone());
                assert_eq!(next(&mut rxs).await, Event::Note { from, n });
            }
            assert!(get(secure.addr(), "/__processes__")
                .await
                .starts_with("HTTP/1.1 200"));
        } else {
            forward_notes(&pp, ps.upid(), 3);
            let refused = || secure.metrics().snapshot()["libprocess/tls/plaintext_refused"];
            eventually(async || refused() >= 1.0).await;
            // Refused, not delivered: a TLS node's own message arrives and nothing before it.
            let client = tls_node(&ca, "client", options).await;
            let (pc, _rxc) = recorder(&client).await;
            forward_notes(&pc, ps.upid(), 1);
            let from = Some(pc.upid().clone());
            assert_eq!(next(&mut rxs).await, Event::Note { from, n: 0 });
            client.shutdown().await;
        }
        secure.shutdown().await;
        plain.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_and_must_come_from_the_ca() {
    let ca = Ca::new("test CA");
    let other = Ca::new("another CA");
    let options = TlsOptions {
        require_client_cert: true,
        support_downgrade: false,
    };
    let node = tls_node(&ca, "server", options).await;
    let ours = ca.leaf("client");
    let theirs = other.leaf("intruder");
    let with_ours = Tls::client_from_pem(
        ca.pem.as_bytes(),
        Some((ours.cert.as_bytes(), ours.key.as_bytes())),
    )
    .unwrap();
    let without = Tls::client_from_pem(ca.pem.as_bytes(), None).unwrap();
    let with_theirs = Tls::client_from_pem(
        ca.pem.as_bytes(),
        Some((theirs.cert.as_bytes(), theirs.key.as_bytes())),
    )
    .unwrap();
    assert_eq!(
        https_get(&with_ours, node.addr(), "/__processes__").await,
        Ok(200)
    );
    // TLS 1.3 clients learn of the refusal on their first read, so the exchange fails
    // whichever step reports it.
    assert!(https_get(&without, node.addr(), "/__processes__")
        .await
        .is_err());
    assert!(https_get(&with_theirs, node.addr(), "/__processes__")
        .await
        .is_err());
    let addr = node.addr();
    // The client may see the refusal before the server's side has counted it (TLS 1.3,
    // a loaded machine): wait for the count (a hang guard, not a timing assertion).
    let mut m = node.metrics().snapshot();
    for _ in 0..600 {
        if m["libprocess/tls/handshake_failures"] >= 2.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        m = node.metrics().snapshot();
    }
    assert_eq!(m["libprocess/tls/handshake_failures"], 2.0, "{m:?}");
    // And a client that trusts another CA refuses this server.
    let distrusting = Tls::client_from_pem(other.pem.as_bytes(), None).unwrap();
    let refused = https_get(&distrusting, addr, "/__processes__").await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("handshake")),
        "{refused:?}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pem_is_an_error_naming_the_part() {
    let ca = Ca::new("test CA");
    let leaf = ca.leaf("x");
    let err = |cert: &str, key: &str, ca_pem: &str| {
        Tls::from_pem(
            cert.as_bytes(),
            key.as_bytes(),
            ca_pem.as_bytes(),
            TlsOptions::default(),
        )
        .unwrap_err()
        .to_string()
    };
    assert!(err("", &leaf.key, &ca.pem).starts_with("certificate:"));
    assert!(err(&leaf.cert, "junk", &ca.pem).starts_with("key:"));
    assert!(err(&leaf.cert, &leaf.key, "").starts_with("CA:"));
    let other = ca.leaf("y");
    assert!(err(&leaf.cert, &other.key, &ca.pem).starts_with("certificate and key:"));
    let client_only = Tls::client_from_pem(ca.pem.as_bytes(), None).unwrap();
    let refused = Node::builder().tls(client_only).build().await;
    assert!(matches!(
        refused,
        Err(libprocess::NodeError::TlsWithoutCertificate)
    ));
}
