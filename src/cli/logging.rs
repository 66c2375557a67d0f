//! The process-wide logger of `meso master`, `meso agent` and `meso local`: the `--log-*`
//! flags, and a logger that writes every record as one line ([`super::log_line`]) to
//! stderr and, with `--log-dir`, to `<log-dir>/meso-<role>.log`, which the master serves as
//! `/master/log` and the agent as `/slave/log` through `/files/*` (as Mesos does only with
//! its `--log_dir`).
//!
//! Records are filtered first ([`super::log_filter`]), so a disabled `debug!` costs a level
//! compare; then formatted and written on slog-async's thread, off the actors' threads.
//! The file is bounded: past [`LOG_FILE_MAX_BYTES`] it is renamed to `<name>.1` (replacing
//! the previous one) and a new file is started.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clap::Args;
use libprocess::slog::{o, Drain, Logger};

use super::log_filter::{Filtered, LogFilter};
use super::log_line::{LineDrain, LogFormat, Sink};

/// The size past which the log file is rotated (one previous file is kept).
pub const LOG_FILE_MAX_BYTES: u64 = 64 << 20;

/// The `--log-*` flags of every subcommand that logs.
#[derive(Debug, Clone, Args)]
pub struct LogFlags {
    /// How each record is written, one line per record: `text` (`<time> <LEVEL> <message>
    /// key=value ...`) or `json` (one JSON object per line).
    #[arg(long, env = "MESO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Which records are written: a level (`trace`, `debug`, `info`, `warn`, `error`,
    /// `crit`, `off`), optionally with per-module levels as RUST_LOG writes them, e.g.
    /// `info,raft=warn,meso_master::raftlog=debug`.
    #[arg(long, env = "MESO_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Also write the log to `<dir>/meso-<role>.log` (rotated at 64 MiB, one old file kept
    /// as `.1`) and serve it over `/files/read?path=/master/log` (a master) or `/slave/log`
    /// (an agent). Without it the log goes to stderr only and those paths are 404.
    #[arg(long, env = "MESO_LOG_DIR")]
    pub log_dir: Option<PathBuf>,
}

impl Default for LogFlags {
    fn default() -> Self {
        LogFlags {
            log_format: LogFormat::Text,
            log_level: "info".to_string(),
            log_dir: None,
        }
    }
}

/// A log file that rotates itself past [`LOG_FILE_MAX_BYTES`].
struct LogFile {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
}

impl LogFile {
    fn open(path: &Path, max_bytes: u64) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes,
        })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, old)?;
        *self = LogFile::open(&self.path, self.max_bytes)?;
        Ok(())
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The logger and the file it also writes (with `--log-dir`).
pub struct Logging {
    /// The root logger (a node adds its `node` key-value).
    pub logger: Logger,
    /// `<log-dir>/meso-<role>.log`, when there is one.
    pub file: Option<PathBuf>,
}

impl LogFlags {
    /// The logger of `role` (`master`, `agent`, `local`); errors name the flag and value.
    pub fn logging(&self, role: &str) -> anyhow::Result<Logging> {
        let filter = LogFilter::parse(&self.log_level).map_err(|e| anyhow::anyhow!(e))?;
        let stderr: Sink = Arc::new(Mutex::new(std::io::stderr()));
        let mut sinks = vec![stderr];
        let file = match &self.log_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("--log-dir {}: cannot create it: {e}", dir.display())
                })?;
                let path = dir.join(format!("meso-{role}.log"));
                let file = LogFile::open(&path, LOG_FILE_MAX_BYTES).map_err(|e| {
                    anyhow::anyhow!("--log-dir: cannot open {}: {e}", path.display())
                })?;
                sinks.push(Arc::new(Mutex::new(file)));
                Some(std::fs::canonicalize(&path).unwrap_or(path))
            }
            None => None,
        };
        let drain = slog_async::Async::new(LineDrain::new(self.log_format, sinks))
            .chan_size(4096)
            .build()
            .fuse();
        let logger = Logger::root(Filtered::new(filter, drain).fuse(), o!());
        Ok(Logging { logger, file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_rotates_past_its_limit_keeping_one_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meso-master.log");
        let mut f = LogFile::open(&path, 10).unwrap();
        f.write_all(b"first 8\n").unwrap();
        f.write_all(b"second\n").unwrap();
        f.write_all(b"third\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "third\n");
        let old = dir.path().join("meso-master.log.1");
        assert_eq!(std::fs::read_to_string(old).unwrap(), "second\n");
    }

    #[test]
    fn a_bad_level_or_log_dir_is_refused_by_name() {
        let flags = LogFlags {
            log_level: "info,raft=chatty".into(),
            ..LogFlags::default()
        };
        let e = flags.logging("master").err().unwrap().to_string();
        assert!(e.contains("--log-level") && e.contains("chatty"), "{e}");
        let file = tempfile::NamedTempFile::new().unwrap();
        let flags = LogFlags {
            log_dir: Some(file.path().join("sub")),
            ..LogFlags::default()
        };
        let e = flags.logging("master").err().unwrap().to_string();
        assert!(e.contains("--log-dir"), "{e}");
    }
}
