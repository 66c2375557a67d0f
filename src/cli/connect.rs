//! Where the operator commands find their masters and credentials: `--master`, else
//! `MESO_MASTER`, else the config file (`--config`, `MESO_CONFIG`, or
//! `~/.config/meso/config.toml`); `--principal`/`--secret-file` (or `MESO_PRINCIPAL`,
//! `MESO_SECRET_FILE`, or the file) for HTTP Basic authentication.
//!
//! The file is TOML, shaped like Mesos's CLI config:
//!
//! ```toml
//! [master]
//! address = "m1:5050,m2:5050,m3:5050"   # or ["m1:5050", "m2:5050"]
//! principal = "ops"
//! secret_file = "/etc/meso/ops.secret"
//! ```
//!
//! Parsing is pure ([`parse_config`], [`parse_masters`]); [`Connection::resolve`] reads the
//! environment's files. Every error names the source and what was wrong.

use std::path::{Path, PathBuf};

use clap::Args;

/// Flags shared by every command that talks to the masters.
#[derive(Debug, Clone, Args)]
pub struct ConnectFlags {
    /// The masters, HOST:PORT[,HOST:PORT...]; the leader is found among them [default: from
    /// the config file].
    #[arg(long, env = "MESO_MASTER", global = true)]
    pub master: Option<String>,
    /// Principal for HTTP Basic authentication (needs --secret-file).
    #[arg(long, env = "MESO_PRINCIPAL", global = true)]
    pub principal: Option<String>,
    /// File whose content (one trailing newline dropped) is the principal's secret.
    #[arg(long, env = "MESO_SECRET_FILE", global = true)]
    pub secret_file: Option<PathBuf>,
    /// Config file [default: ~/.config/meso/config.toml, when it exists].
    #[arg(long, env = "MESO_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// PEM CA certificate(s) to verify the masters with: talk HTTPS to them.
    #[arg(long, env = "MESO_SSL_CA_FILE", global = true)]
    pub ssl_ca_file: Option<PathBuf>,
    /// PEM client certificate to present over HTTPS (masters with
    /// --ssl-require-client-cert); needs --ssl-key-file and --ssl-ca-file.
    #[arg(long, env = "MESO_SSL_CERT_FILE", global = true)]
    pub ssl_cert_file: Option<PathBuf>,
    /// PEM private key of --ssl-cert-file.
    #[arg(long, env = "MESO_SSL_KEY_FILE", global = true)]
    pub ssl_key_file: Option<PathBuf>,
}

/// What the config file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileConfig {
    /// `[master] address`.
    pub masters: Option<String>,
    /// `[master] principal`.
    pub principal: Option<String>,
    /// `[master] secret_file`.
    pub secret_file: Option<PathBuf>,
}

/// Reads the config file's text; the error names the key or the TOML problem.
pub fn parse_config(text: &str) -> Result<FileConfig, String> {
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("not TOML: {e}"))?;
    let Some(master) = doc.get("master") else {
        return Ok(FileConfig::default());
    };
    let Some(master) = master.as_table_like() else {
        return Err("'master' must be a table ([master])".into());
    };
    let string = |key: &str| -> Result<Option<String>, String> {
        match master.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| format!("'master.{key}' must be a string")),
        }
    };
    let masters = match master.get("address") {
        None => None,
        Some(v) if v.as_str().is_some() => v.as_str().map(str::to_string),
        Some(v) => match v.as_array() {
            Some(list) => Some(
                list.iter()
                    .map(|a| a.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("'master.address' must be a string or an array of strings")?
                    .join(","),
            ),
            None => return Err("'master.address' must be a string or an array of strings".into()),
        },
    };
    Ok(FileConfig {
        masters,
        principal: string("principal")?,
        secret_file: string("secret_file")?.map(PathBuf::from),
    })
}

/// Splits `a:5050,b:5050` into addresses (`http://` dropped, port 5050 when none).
pub fn parse_masters(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let part = part
            .strip_prefix("http://")
            .unwrap_or(part)
            .trim_end_matches('/');
        let part = part.strip_prefix("master@").unwrap_or(part);
        let with_port = match part.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && !host.ends_with(':') => {
                port.parse::<u16>()
                    .map_err(|_| format!("'{part}': the port '{port}' is not a number"))?;
                part.to_string()
            }
            _ if part.contains('/') || part.contains(' ') => {
                return Err(format!("'{part}' is not HOST:PORT"));
            }
            _ => format!("{part}:5050"),
        };
        out.push(with_port);
    }
    if out.is_empty() {
        return Err(format!("'{text}' names no master"));
    }
    Ok(out)
}

/// The secret in a secret file's text: the text without one trailing newline.
pub fn secret_from(text: &str) -> &str {
    text.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text)
}

/// The masters to ask and the `Authorization` header to send.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Addresses, HOST:PORT.
    pub masters: Vec<String>,
    /// `Basic ...`, when a principal was given.
    pub authorization: Option<String>,
    /// HTTPS to the masters, when `--ssl-ca-file` was given.
    pub tls: Option<libprocess::Tls>,
}

fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("meso").join("config.toml"))
}

impl Connection {
    /// Resolves `flags` against the config file; the error says what is missing or wrong.
    pub fn resolve(flags: &ConnectFlags) -> Result<Connection, String> {
        let file = match &flags.config {
            Some(path) => Some((path.clone(), read(path, "--config")?)),
            None => default_config_path()
                .filter(|p| p.exists())
                .map(|p| read(&p, "the config file").map(|t| (p, t)))
                .transpose()?,
        };
        let file = match file {
            Some((path, text)) => {
                parse_config(&text).map_err(|e| format!("config file {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let masters = flags.master.clone().or(file.masters).ok_or(
            "no master given: pass --master HOST:PORT, set MESO_MASTER, or write [master] \
             address in ~/.config/meso/config.toml",
        )?;
        let masters = parse_masters(&masters).map_err(|e| format!("--master {e}"))?;
        let principal = flags.principal.clone().or(file.principal);
        let secret_file = flags.secret_file.clone().or(file.secret_file);
        let authorization = match (principal, secret_file) {
            (None, None) => None,
            (Some(_), None) => return Err("--principal needs --secret-file".into()),
            (None, Some(_)) => return Err("--secret-file needs --principal".into()),
            (Some(principal), Some(path)) => {
                let text = read(&path, "--secret-file")?;
                let pair = format!("{principal}:{}", secret_from(&text));
                Some(format!("Basic {}", base64(pair.as_bytes())))
            }
        };
        let tls = client_tls(flags)?;
        Ok(Connection {
            masters,
            authorization,
            tls,
        })
    }
}

/// The client TLS of `--ssl-ca-file` (and the optional client certificate).
fn client_tls(flags: &ConnectFlags) -> Result<Option<libprocess::Tls>, String> {
    let identity = match (&flags.ssl_cert_file, &flags.ssl_key_file) {
        (None, None) => None,
        (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
        (Some(_), None) => return Err("--ssl-cert-file needs --ssl-key-file".into()),
        (None, Some(_)) => return Err("--ssl-key-file needs --ssl-cert-file".into()),
    };
    match &flags.ssl_ca_file {
        None if identity.is_some() => Err("--ssl-cert-file needs --ssl-ca-file".into()),
        None => Ok(None),
        Some(ca) => libprocess::Tls::client_from_files(ca, identity)
            .map(Some)
            .map_err(|e| format!("TLS: {e}")),
    }
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("{what} {}: cannot read it: {e}", path.display()))
}

/// Standard base64 with padding (RFC 4648), for the Basic header.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_lists_take_ports_prefixes_and_refuse_garbage() {
        assert_eq!(
            parse_masters("a:5050, http://b:6060/ ,master@c:1").unwrap(),
            ["a:5050", "b:6060", "c:1"]
        );
        assert_eq!(parse_masters("host").unwrap(), ["host:5050"]);
        assert!(parse_masters("a:port").unwrap_err().contains("'port'"));
        assert!(parse_masters(" , ")
            .unwrap_err()
            .contains("names no master"));
    }

    #[test]
    fn the_config_file_reads_mesos_cli_shaped_tables() {
        let c = parse_config(
            "[master]\naddress = [\"a:1\", \"b:2\"]\nprincipal = \"ops\"\nsecret_file = \"/s\"\n",
        )
        .unwrap();
        assert_eq!(c.masters.as_deref(), Some("a:1,b:2"));
        assert_eq!(c.principal.as_deref(), Some("ops"));
        assert_eq!(c.secret_file, Some(PathBuf::from("/s")));
        assert_eq!(parse_config("").unwrap(), FileConfig::default());
        assert!(parse_config("[master]\naddress = 5")
            .unwrap_err()
            .contains("master.address"));
        assert!(parse_config("master = 1").unwrap_err().contains("table"));
        assert!(parse_config("[master").unwrap_err().contains("not TOML"));
    }

    #[test]
    fn secrets_lose_one_trailing_newline_and_basic_is_rfc_4648() {
        assert_eq!(secret_from("s3cret\n"), "s3cret");
        assert_eq!(secret_from("s3cret\r\n"), "s3cret");
        assert_eq!(secret_from("a\n\n"), "a\n");
        assert_eq!(base64(b"ops:s3cret"), "b3BzOnMzY3JldA==");
        assert_eq!(base64(b"ops:wrong"), "b3BzOndyb25n");
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
