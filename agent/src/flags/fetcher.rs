//! The fetcher flags of `meso agent` (Mesos's `--fetcher_cache_dir`,
//! `--fetcher_cache_size`, `--fetcher_stall_timeout`, same defaults but the cache
//! directory, which sits in the work dir so that agents sharing a machine do not clear each
//! other's; and meso's `--fetcher-ca-file`), mapped onto [`FetcherConfig`]. Each is also read from `MESO_<FLAG>`.

use std::path::{Path, PathBuf};

use clap::Args;
use meso_api::duration::parse_duration;

use crate::error::AgentError;
pub use crate::fetcher::FetcherConfig;

/// The fetcher flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct FetcherFlags {
    /// Directory of the fetcher cache (URIs fetched with `cache: true`); cleared when the
    /// agent starts [default: <work-dir>/fetch].
    #[arg(long, env = "MESO_FETCHER_CACHE_DIR")]
    pub fetcher_cache_dir: Option<PathBuf>,
    /// Most bytes the fetcher cache holds, e.g. `2GB`, `512MB`, `0B` (no cache); least
    /// recently used files are evicted to make room.
    #[arg(long, env = "MESO_FETCHER_CACHE_SIZE", default_value = "2GB")]
    pub fetcher_cache_size: String,
    /// A download that receives no byte for this long fails its task.
    #[arg(long, env = "MESO_FETCHER_STALL_TIMEOUT", default_value = "1mins")]
    pub fetcher_stall_timeout: String,
    /// PEM file of CA certificates that https URIs' servers may also be signed by (a
    /// cluster's own CA); the public roots are trusted either way.
    #[arg(long, env = "MESO_FETCHER_CA_FILE")]
    pub fetcher_ca_file: Option<PathBuf>,
}

impl Default for FetcherFlags {
    /// The defaults `--help` shows.
    fn default() -> Self {
        FetcherFlags {
            fetcher_cache_dir: None,
            fetcher_cache_size: "2GB".into(),
            fetcher_stall_timeout: "1mins".into(),
            fetcher_ca_file: None,
        }
    }
}

/// A byte count as Mesos writes it: digits and a unit `B`, `KB`, `MB`, `GB` or `TB`
/// (powers of 1024); plain digits are bytes.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: u64 = digits
        .parse()
        .map_err(|_| "expected a whole number with a unit (B, KB, MB, GB, TB)".to_string())?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        other => return Err(format!("unknown unit '{other}' (B, KB, MB, GB, TB)")),
    };
    value
        .checked_mul(1u64 << shift)
        .ok_or_else(|| "too large".to_string())
}

impl FetcherFlags {
    /// Checks the flags; errors name the flag and the value.
    pub fn config(&self, work_dir: &Path) -> Result<FetcherConfig, AgentError> {
        let flag = |flag: &'static str, value: &str, reason: String| AgentError::Flag {
            flag,
            value: value.to_string(),
            reason,
        };
        let mut config = FetcherConfig::under(work_dir);
        if let Some(dir) = &self.fetcher_cache_dir {
            // The agent empties the cache directory at start: it must not hold the work
            // dir (or be it), or the start would delete the sandboxes and checkpoints.
            let shown = dir.display().to_string();
            let absolute = std::path::absolute(dir).map_err(|e| {
                flag(
                    "--fetcher-cache-dir",
                    &shown,
                    format!("cannot resolve it: {e}"),
                )
            })?;
            if work_dir.starts_with(&absolute) {
                return Err(flag(
                    "--fetcher-cache-dir",
                    &shown,
                    format!(
                        "it is emptied at start, so it cannot hold the work dir {}",
                        work_dir.display()
                    ),
                ));
            }
            config.cache_dir = absolute;
        }
        config.cache_size = parse_bytes(&self.fetcher_cache_size)
            .map_err(|e| flag("--fetcher-cache-size", &self.fetcher_cache_size, e))?;
        config.stall_timeout = parse_duration(&self.fetcher_stall_timeout)
            .map_err(|e| flag("--fetcher-stall-timeout", &self.fetcher_stall_timeout, e))?;
        if config.stall_timeout.is_zero() {
            return Err(flag(
                "--fetcher-stall-timeout",
                &self.fetcher_stall_timeout,
                "must be more than zero".into(),
            ));
        }
        if let Some(file) = &self.fetcher_ca_file {
            let shown = file.display().to_string();
            crate::fetcher::download::tls_config(Some(file))
                .map_err(|e| flag("--fetcher-ca-file", &shown, e))?;
            config.ca_file = Some(file.clone());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_as_mesos_writes_them() {
        assert_eq!(parse_bytes("2GB"), Ok(2 << 30));
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("10KB"), Ok(10 << 10));
        assert_eq!(parse_bytes("0B"), Ok(0));
        assert_eq!(parse_bytes("1234"), Ok(1234));
        assert!(parse_bytes("2XB").unwrap_err().contains("unknown unit"));
        assert!(parse_bytes("GB").is_err());
        assert!(parse_bytes("99999999999TB")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn defaults_and_bad_values_name_the_flag() {
        let work = Path::new("/w");
        let config = FetcherFlags::default().config(work).unwrap();
        assert_eq!(config, FetcherConfig::under(work));
        assert_eq!(config.cache_dir, Path::new("/w/fetch"));
        let bad = FetcherFlags {
            fetcher_stall_timeout: "0secs".into(),
            ..FetcherFlags::default()
        };
        assert!(bad
            .config(work)
            .unwrap_err()
            .to_string()
            .contains("--fetcher-stall-timeout"));
        let bad = FetcherFlags {
            fetcher_cache_dir: Some("/".into()),
            ..FetcherFlags::default()
        };
        let e = bad.config(work).unwrap_err().to_string();
        assert!(e.contains("--fetcher-cache-dir") && e.contains("/w"), "{e}");
        let ok = FetcherFlags {
            fetcher_cache_dir: Some("/var/cache/meso".into()),
            ..FetcherFlags::default()
        };
        assert_eq!(
            ok.config(work).unwrap().cache_dir,
            Path::new("/var/cache/meso")
        );
        let bad = FetcherFlags {
            fetcher_cache_size: "lots".into(),
            ..FetcherFlags::default()
        };
        assert!(bad
            .config(work)
            .unwrap_err()
            .to_string()
            .contains("--fetcher-cache-size"));
    }

    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let (missing, garbage) = (dir.path().join("missing.pem"), dir.path().join("x.pem"));
        std::fs::write(&garbage, "not a certificate").unwrap();
        for (file, why) in [(missing, "cannot read it"), (garbage, "no PEM certificate")] {
            let bad = FetcherFlags {
                fetcher_ca_file: Some(file),
                ..FetcherFlags::default()
            };
            let e = bad.config(Path::new("/w")).unwrap_err().to_string();
            assert!(e.contains("--fetcher-ca-file") && e.contains(why), "{e}");
        }
    }
}
