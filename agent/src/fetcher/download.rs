//! Bringing a URI's bytes to a local file: HTTP(S) with ureq (rustls, redirects followed;
//! an https server must present a certificate from the public roots or, with
//! `--fetcher-ca-file`, from a CA of that file) or a copy of a local file. The HTTP side aborts when no byte arrives for the stall
//! timeout (Mesos's `--fetcher_stall_timeout`: curl's "below one byte per second for that
//! long"); both sides stop between chunks when the fetch is cancelled.
//!
//! Invariant: on error the destination file is removed, so nothing half-written stays.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// How many redirects an HTTP download follows.
const MAX_REDIRECTS: u32 = 10;
/// Bytes copied between two looks at the cancel flag.
const CHUNK_BYTES: usize = 64 * 1024;

/// An opened source: its length if known, and a reader of its bytes.
pub struct Opened {
    /// Content-Length, or the file's size.
    pub size: Option<u64>,
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
}

/// How https servers are verified: against the public roots (webpki-roots, ureq's
/// default) and the CA certificates of `ca_file` (PEM), if given. Errors name what is wrong
/// with the file.
pub fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("not PEM certificates: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("not a CA certificate: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("it holds no PEM certificate".into());
        }
    }
    // ring, as libprocess's TLS and ureq itself use (rustls deprecates it for lacking
    // post-quantum key exchange; see libprocess-rs/src/tls.rs).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("no TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens `url` with a GET (https servers verified by `tls`); any status but 200 is an error
/// naming it.
pub fn open_http(
    url: &str,
    stall_timeout: Duration,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Opened, String> {
    let agent = ureq::AgentBuilder::new()
        .tls_config(tls.clone())
        .timeout_connect(stall_timeout)
        .timeout_read(stall_timeout)
        .timeout_write(stall_timeout)
        .redirects(MAX_REDIRECTS)
        .build();
    let response = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            return Err(format!(
                "the server answered HTTP {code} {}",
                r.status_text()
            ))
        }
        Err(ureq::Error::Transport(t)) => return Err(transport_error(&t, stall_timeout)),
    };
    if response.status() != 200 {
        return Err(format!(
            "the server answered HTTP {} {} (200 expected)",
            response.status(),
            response.status_text()
        ));
    }
    let size = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    Ok(Opened {
        size,
        reader: Box::new(response.into_reader()),
    })
}

fn transport_error(t: &ureq::Transport, stall_timeout: Duration) -> String {
    let text = t.to_string();
    if text.contains("timed out") || text.contains("WouldBlock") {
        format!("no data for the stall timeout ({stall_timeout:?}): {text}")
    } else {
        text
    }
}

/// Opens the local file `path` (symlinks followed, as Mesos's `copyfile`).
pub fn open_file(path: &Path) -> Result<Opened, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    Ok(Opened {
        size: Some(meta.len()),
        reader: Box::new(file),
    })
}

/// Copies `reader` into a new file `dest` (created, or truncated), checking `cancel` between
/// chunks; returns the bytes written. A stalled HTTP read surfaces here as a timeout error.
pub fn save(
    reader: &mut dyn Read,
    dest: &Path,
    cancel: &AtomicBool,
    stall_timeout: Duration,
) -> Result<u64, String> {
    let result = copy_into(reader, dest, cancel, stall_timeout);
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}

fn copy_into(
    reader: &mut dyn Read,
    dest: &Path,
    cancel: &AtomicBool,
    stall_timeout: Duration,
) -> Result<u64, String> {
    let mut out =
        File::create(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut total = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err("the fetch was cancelled (the task was killed or the agent stops)".into());
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                return Err(format!(
                    "the download stalled: no data for {stall_timeout:?} after {total} bytes"
                ))
            }
            Err(e) => return Err(format!("reading failed after {total} bytes: {e}")),
        };
        out.write_all(&buf[..n])
            .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        total += n as u64;
    }
    // Not fsynced: a sandbox or cache file does not outlive an agent crash in any use.
    Ok(total)
}
