//! The `--ssl-*` flags: TLS for a node's port and its connections (rustls, configured in
//! `libprocess::tls`). Every node of the binary spells them the same way: the agent here,
//! and `meso master` and `meso execute` flatten this same struct.
//!
//! Rules, each refusal naming the flag: all three files or none; `--ssl-require-client-cert`
//! and `--ssl-support-downgrade` only with them; the files must hold a matching certificate
//! and key and a CA.

use std::path::PathBuf;

use clap::Args;
use libprocess::{Tls, TlsOptions};

/// TLS flags of a node.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsFlags {
    /// PEM certificate chain this node presents, on its port and on the connections it
    /// opens (with --ssl-key-file and --ssl-ca-file; TLS is off without them).
    #[arg(long, env = "MESO_SSL_CERT_FILE")]
    pub ssl_cert_file: Option<PathBuf>,
    /// PEM private key of --ssl-cert-file (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "MESO_SSL_KEY_FILE")]
    pub ssl_key_file: Option<PathBuf>,
    /// PEM CA certificate(s) that peers' certificates must chain to (servers always; clients
    /// when they present one).
    #[arg(long, env = "MESO_SSL_CA_FILE")]
    pub ssl_ca_file: Option<PathBuf>,
    /// Refuse TLS clients that present no certificate signed by --ssl-ca-file.
    #[arg(
        long,
        env = "MESO_SSL_REQUIRE_CLIENT_CERT",
        default_value_t = false,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub ssl_require_client_cert: bool,
    /// Also accept plain (non-TLS) connections on the port, to roll a cluster to TLS
    /// (Mesos's LIBPROCESS_SSL_SUPPORT_DOWNGRADE); outgoing connections stay TLS.
    #[arg(
        long,
        env = "MESO_SSL_SUPPORT_DOWNGRADE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub ssl_support_downgrade: bool,
}

impl TlsFlags {
    /// The node's TLS, or `None` when no `--ssl-*` file is given; the error names the flag
    /// or file that was wrong.
    pub fn tls(&self) -> Result<Option<Tls>, String> {
        let (cert, key, ca) = match (&self.ssl_cert_file, &self.ssl_key_file, &self.ssl_ca_file) {
            (None, None, None) => {
                if self.ssl_require_client_cert {
                    return Err("--ssl-require-client-cert needs --ssl-cert-file, --ssl-key-file and --ssl-ca-file".into());
                }
                if self.ssl_support_downgrade {
                    return Err("--ssl-support-downgrade needs --ssl-cert-file, --ssl-key-file and --ssl-ca-file".into());
                }
                return Ok(None);
            }
            (Some(c), Some(k), Some(a)) => (c, k, a),
            (c, k, a) => {
                let missing: Vec<&str> = [
                    (c.is_none(), "--ssl-cert-file"),
                    (k.is_none(), "--ssl-key-file"),
                    (a.is_none(), "--ssl-ca-file"),
                ]
                .into_iter()
                .filter_map(|(m, name)| m.then_some(name))
                .collect();
                return Err(format!(
                    "TLS needs --ssl-cert-file, --ssl-key-file and --ssl-ca-file together; missing {}",
                    missing.join(", ")
                ));
            }
        };
        let options = TlsOptions {
            require_client_cert: self.ssl_require_client_cert,
            support_downgrade: self.ssl_support_downgrade,
        };
        Tls::from_files(cert, key, ca, options)
            .map(Some)
            .map_err(|e| format!("TLS: {e}"))
    }
}

impl TlsFlags {
    /// What an executor of this agent needs to reach it over TLS: the three files as
    /// `MESO_SSL_*` (absolute, since executors run in their sandbox); empty without TLS.
    pub fn executor_env(&self) -> Vec<(String, String)> {
        let abs = |p: &std::path::Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        match (&self.ssl_cert_file, &self.ssl_key_file, &self.ssl_ca_file) {
            (Some(c), Some(k), Some(a)) => vec![
                ("MESO_SSL_CA_FILE".into(), abs(a)),
                ("MESO_SSL_CERT_FILE".into(), abs(c)),
                ("MESO_SSL_KEY_FILE".into(), abs(k)),
            ],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_files_is_plain_and_a_partial_set_names_what_is_missing() {
        assert!(TlsFlags::default().tls().unwrap().is_none());
        let partial = TlsFlags {
            ssl_cert_file: Some("/c".into()),
            ..Default::default()
        };
        let e = partial.tls().unwrap_err();
        assert!(e.contains("missing --ssl-key-file, --ssl-ca-file"), "{e}");
        let lonely = TlsFlags {
            ssl_support_downgrade: true,
            ..Default::default()
        };
        assert!(lonely
            .tls()
            .unwrap_err()
            .starts_with("--ssl-support-downgrade needs"));
        let unreadable = TlsFlags {
            ssl_cert_file: Some("/nonexistent/c.pem".into()),
            ssl_key_file: Some("/nonexistent/k.pem".into()),
            ssl_ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = unreadable.tls().unwrap_err();
        assert!(
            e.contains("certificate /nonexistent/c.pem: cannot read it"),
            "{e}"
        );
    }
}
