//! Test certificates made in the test (rcgen): a CA, and leaf certificates it signs for
//! `localhost` and `127.0.0.1` usable as server and client certificates, written as the
//! PEM files the `--ssl-*` flags take; and an HTTPS GET for checking a TLS node.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate authority.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate, PEM.
    pub pem: String,
}

/// A leaf certificate's files.
#[derive(Debug, Clone)]
pub struct LeafFiles {
    /// The certificate, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// The CA file of the CA that signed it.
    pub ca: PathBuf,
}

impl LeafFiles {
    /// The `--ssl-cert-file X --ssl-key-file Y --ssl-ca-file Z` flags.
    pub fn flags(&self) -> Vec<String> {
        let s = |p: &Path| p.to_str().expect("utf-8 temp path").to_string();
        vec![
            "--ssl-cert-file".into(),
            s(&self.cert),
            "--ssl-key-file".into(),
            s(&self.key),
            "--ssl-ca-file".into(),
            s(&self.ca),
        ]
    }

    /// A client TLS configuration presenting this certificate.
    pub fn client(&self) -> libprocess::Tls {
        libprocess::Tls::client_from_files(&self.ca, Some((&self.cert, &self.key)))
            .expect("test certificate files are valid")
    }
}

impl Ca {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("a key pair");
        let cert = params.self_signed(&key).expect("a self-signed CA");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate named `name`, written as `dir/<name>.pem`, `dir/<name>.key` and
    /// (the CA) `dir/<name>-ca.pem`.
    pub fn leaf_files(&self, dir: &Path, name: &str) -> LeafFiles {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("valid names");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().expect("a key pair");
        let cert = params.signed_by(&key, &self.issuer).expect("a signed leaf");
        let files = LeafFiles {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
            ca: dir.join(format!("{name}-ca.pem")),
        };
        std::fs::write(&files.cert, cert.pem()).expect("write cert");
        std::fs::write(&files.key, key.serialize_pem()).expect("write key");
        std::fs::write(&files.ca, &self.pem).expect("write CA");
        files
    }
}

/// `GET path` over HTTPS (with `tls`) or plain HTTP (`None`) to `127.0.0.1:port`: the
/// status and body, or what failed (connect, handshake, exchange).
pub fn get(port: u16, path: &str, tls: Option<&libprocess::Tls>) -> Result<(u16, String), String> {
    use libprocess::http_client::{self, ClientRequest};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let work = async {
            let addr = format!("127.0.0.1:{port}");
            let tcp = tokio::net::TcpStream::connect(&addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let conn: libprocess::seams::BoxConnection = match tls {
                None => Box::new(tcp),
                Some(t) => t
                    .connect(Box::new(tcp), "127.0.0.1")
                    .await
                    .map_err(|e| format!("handshake: {e}"))?,
            };
            let response = http_client::send(conn, &addr, ClientRequest::get(path), |f| {
                tokio::spawn(f);
            })
            .await
            .map_err(|e| format!("exchange: {e}"))?;
            let status = response.status.as_u16();
            let body = response
                .bytes(16 << 20)
                .await
                .map_err(|e| format!("body: {e}"))?;
            Ok((status, String::from_utf8_lossy(&body).into_owned()))
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), work)
            .await
            .map_err(|_| "hang guard: no answer".to_string())?
    })
}
