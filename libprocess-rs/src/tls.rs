//! TLS for a node's one port and for its outgoing connections, with rustls (on ring).
//!
//! A [`Tls`] is built from PEM (a certificate chain, its private key and the CA that every
//! peer's certificate must chain to) and handed to `NodeBuilder::tls`. Then:
//!
//! - Inbound: a connection whose first byte is a TLS handshake record (`0x16`) is
//!   handshaken, and what it carries is classified like a plain connection (actor frames or
//!   HTTP), so both run over TLS on the same port. A plain connection is refused (an HTTP
//!   request gets a 400 saying the port wants TLS) unless [`TlsOptions::support_downgrade`]
//!   is set, Mesos's `LIBPROCESS_SSL_SUPPORT_DOWNGRADE`, for rolling a cluster to TLS.
//! - Client certificates: always verified against the CA when presented; with
//!   [`TlsOptions::require_client_cert`] a client without one is refused.
//! - Outbound: every connection the node opens (frames to peers, `Node::http_send`) is TLS,
//!   presenting the node's certificate. The server's chain is verified against the CA; the
//!   name in it is not, since nodes address each other by IP while certificates usually
//!   name hosts (Mesos's default likewise skips hostname validation).
//!
//! A client-only [`Tls`] ([`Tls::client_from_pem`]: a CA and optionally a certificate) is
//! for programs outside any node, such as a CLI talking HTTPS to a master; a node refuses
//! one, since it could not serve TLS.
//!
//! Invariants: bad PEM or a key that does not match is an error naming the file or part,
//! never a panic; a handshake that fails or stalls ends only its own connection (bounded
//! by the node's `first_bytes_timeout`), counted under `libprocess/tls/...`.

use crate::seams::BoxConnection;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The first byte of a TLS record carrying a handshake (a ClientHello opens every session).
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// How a node treats its peers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Refuse clients that present no certificate (Mesos's `SSL_REQUIRE_CLIENT_CERT`).
    pub require_client_cert: bool,
    /// Accept plain connections too (Mesos's `SSL_SUPPORT_DOWNGRADE`).
    pub support_downgrade: bool,
}

/// Why a TLS configuration could not be built; each names the part that was wrong.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{what} {path}: cannot read it: {source}")]
    Read {
        /// Which file (`certificate`, `key`, `CA`).
        what: &'static str,
        /// Its path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The PEM holds no usable item of the kind wanted.
    #[error("{what}: {problem}")]
    Pem {
        /// Which part (`certificate`, `key`, `CA`).
        what: &'static str,
        /// What was wrong.
        problem: String,
    },
    /// rustls refused the combination (a key that does not match the certificate, a CA
    /// that is no CA).
    #[error("{what}: {source}")]
    Rustls {
        /// What was being set up.
        what: &'static str,
        /// rustls's reason.
        source: rustls::Error,
    },
}

/// A node's (or a client's) TLS: an acceptor when it has a certificate, and a connector.
#[derive(Clone)]
pub struct Tls {
    acceptor: Option<TlsAcceptor>,
    connector: TlsConnector,
    client: Arc<rustls::ClientConfig>,
    options: TlsOptions,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("serves", &self.acceptor.is_some())
            .field("options", &self.options)
            .finish()
    }
}

/// rustls's ring provider. rustls 0.23.48 deprecates it for lacking post-quantum key
/// exchange; its other provider, aws-lc-rs, needs a C toolchain with cmake that ring does not,
/// and ring is what the workspace already builds (ureq). Revisit with rustls 0.24.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(what: &'static str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let list = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            problem: format!("not PEM certificates: {e}"),
        })?;
    if list.is_empty() {
        return Err(TlsError::Pem {
            what,
            problem: "no CERTIFICATE block found".into(),
        });
    }
    Ok(list)
}

fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsError::Pem {
        what: "key",
        problem: format!("no PKCS#8, PKCS#1 or SEC1 private key found: {e}"),
    })
}

fn roots(ca_pem: &[u8]) -> Result<Arc<RootCertStore>, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in certs("CA", ca_pem)? {
        store
            .add(cert)
            .map_err(|source| TlsError::Rustls { what: "CA", source })?;
    }
    Ok(Arc::new(store))
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

/// Verifies the server's chain against the CA and accepts any name in it (see the module
/// doc: peers are addressed by IP).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name: a name error means the chain is good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn client_config(
    roots: Arc<RootCertStore>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let rustls = |what| move |source| TlsError::Rustls { what, source };
    let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider())
        .build()
        .map_err(|e| TlsError::Pem {
            what: "CA",
            problem: e.to_string(),
        })?;
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(rustls("protocol versions"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)));
    let config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(rustls("certificate and key"))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

impl Tls {
    /// A node's TLS from PEM text: its certificate chain, its private key, and the CA its
    /// peers' certificates must chain to.
    pub fn from_pem(
        cert_pem: &[u8],
        key_pem: &[u8],
        ca_pem: &[u8],
        options: TlsOptions,
    ) -> Result<Tls, TlsError> {
        let chain = certs("certificate", cert_pem)?;
        let key = key(key_pem)?;
        let roots = roots(ca_pem)?;
        let rustls = |what| move |source| TlsError::Rustls { what, source };
        let clients = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider());
        let clients = if options.require_client_cert {
            clients
        } else {
            clients.allow_unauthenticated()
        };
        let clients = clients.build().map_err(|e| TlsError::Pem {
            what: "CA",
            problem: e.to_string(),
        })?;
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls("protocol versions"))?
            .with_client_cert_verifier(clients)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(rustls("certificate and key"))?;
        let client = client_config(roots, Some((chain, key)))?;
        Ok(Tls {
            acceptor: Some(TlsAcceptor::from(Arc::new(server))),
            connector: TlsConnector::from(client.clone()),
            client,
            options,
        })
    }

    /// [`Tls::from_pem`] reading the three files.
    pub fn from_files(
        cert: &Path,
        key: &Path,
        ca: &Path,
        options: TlsOptions,
    ) -> Result<Tls, TlsError> {
        Tls::from_pem(
            &read("certificate", cert)?,
            &read("key", key)?,
            &read("CA", ca)?,
            options,
        )
    }

    /// Outgoing connections only: verify servers against `ca_pem`, presenting
    /// `identity` (certificate chain and key PEM) when given.
    pub fn client_from_pem(
        ca_pem: &[u8],
        identity: Option<(&[u8], &[u8])>,
    ) -> Result<Tls, TlsError> {
        let identity = match identity {
            Some((cert, k)) => Some((certs("certificate", cert)?, key(k)?)),
            None => None,
        };
        let client = client_config(roots(ca_pem)?, identity)?;
        Ok(Tls {
            acceptor: None,
            connector: TlsConnector::from(client.clone()),
            client,
            options: TlsOptions::default(),
        })
    }

    /// [`Tls::client_from_pem`] reading the files.
    pub fn client_from_files(ca: &Path, identity: Option<(&Path, &Path)>) -> Result<Tls, TlsError> {
        let identity = match identity {
            Some((c, k)) => Some((read("certificate", c)?, read("key", k)?)),
            None => None,
        };
        let ca = read("CA", ca)?;
        Tls::client_from_pem(
            &ca,
            identity.as_ref().map(|(c, k)| (c.as_slice(), k.as_slice())),
        )
    }

    /// The options this configuration was built with.
    pub fn options(&self) -> TlsOptions {
        self.options
    }

    /// The rustls client configuration, for blocking clients (`rustls::StreamOwned`).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.client.clone()
    }

    /// Whether this configuration can serve (it has a certificate).
    pub fn serves(&self) -> bool {
        self.acceptor.is_some()
    }

    /// Runs the client side of a handshake on `conn` with the server `host` (an IP or a
    /// DNS name; only the chain is verified, see the module doc).
    pub async fn connect(&self, conn: BoxConnection, host: &str) -> std::io::Result<BoxConnection> {
        let name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.to_string()).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{host:?} is no server name: {e}"),
                )
            })?,
        };
        let stream = self.connector.connect(name, conn).await?;
        Ok(Box::new(stream))
    }

    /// Runs the server side of a handshake on `conn`.
    pub(crate) async fn accept(&self, conn: BoxConnection) -> std::io::Result<BoxConnection> {
        let Some(acceptor) = &self.acceptor else {
            return Err(std::io::Error::other(
                "this TLS configuration has no certificate",
            ));
        };
        let stream = acceptor.accept(conn).await?;
        Ok(Box::new(stream))
    }
}
