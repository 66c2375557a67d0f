//! The agent's URI fetcher (Mesos's fetcher and fetcher cache, `docs/fetcher.md`): before
//! an executor starts, each `CommandInfo.URI` of its command (and of a command task's own
//! command) is brought into the sandbox, one after the other: downloaded over HTTP(S) or
//! copied from a local path ([`download`]), unpacked when its name says it is an archive
//! ([`extract`]), made executable, placed under `output_file`; with `cache` the bytes go
//! through the agent's cache directory first, keyed by (user, URI), least recently used
//! files evicted to stay under `--fetcher-cache-size`, one download for concurrent fetches
//! of a URI ([`cache`]). What to do with one URI is decided purely by [`plan`].
//!
//! A fetch blocks, so the agent runs it on a thread of its own ([`Fetcher::spawn`]) and
//! gets the outcome back as a message; a cancel flag stops it between chunks and entries.
//! A failure is a [`FetchError`] naming the URI and what went wrong; the agent turns it
//! into TASK_FAILED with REASON_FETCHER_FAILED.
//!
//! Invariants: nothing is written outside the sandbox (names checked by [`plan`], archive
//! entries by [`extract`], parents resolved before writing) or the cache directory; an entry
//! someone is using is never evicted; the cache directory holds only this agent run's files
//! (cleared at start, as Mesos does).

pub mod cache;
pub mod download;
pub mod extract;
pub mod plan;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use meso_api::v1::CommandUri;
use slog::{info, warn, Logger};

use cache::{CacheBook, CacheKey, Claim};
use plan::{Plan, Source};

/// Mesos's `--fetcher_cache_size` default (2 GB).
pub const DEFAULT_CACHE_SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// Mesos's `--fetcher_stall_timeout` default (1 min).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a fetch waiting for another's download looks at its cancel flag.
const WAIT_SLICE: Duration = Duration::from_millis(200);

/// The fetcher's settings (`--fetcher-cache-dir`, `--fetcher-cache-size`,
/// `--fetcher-stall-timeout`, `--fetcher-ca-file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetcherConfig {
    /// Where cache files live (cleared when the agent starts).
    pub cache_dir: PathBuf,
    /// Most bytes the cache holds; 0 turns the cache off (every fetch goes direct).
    pub cache_size: u64,
    /// A download that receives no byte for this long fails.
    pub stall_timeout: Duration,
    /// PEM certificates of CAs an https server may also be signed by (besides the public
    /// roots): `--fetcher-ca-file`.
    pub ca_file: Option<PathBuf>,
}

impl Default for FetcherConfig {
    /// Mesos's defaults, with an empty `cache_dir`: the agent puts the cache in
    /// `<work-dir>/fetch`.
    fn default() -> Self {
        FetcherConfig::under(Path::new(""))
    }
}

impl FetcherConfig {
    /// Mesos's defaults, with the cache in `<work_dir>/fetch`.
    pub fn under(work_dir: &Path) -> Self {
        FetcherConfig {
            cache_dir: work_dir.join("fetch"),
            cache_size: DEFAULT_CACHE_SIZE,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            ca_file: None,
        }
    }
}

/// Why a fetch failed: the URI and the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Failed to fetch '{uri}': {reason}")]
pub struct FetchError {
    /// The URI as the framework gave it.
    pub uri: String,
    /// What went wrong.
    pub reason: String,
}

/// One fetch: the URIs of an executor's launch, into its sandbox.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// In order.
    pub uris: Vec<CommandUri>,
    /// The user the fetch is for (part of the cache key).
    pub user: Option<String>,
    /// The sandbox (existing).
    pub sandbox: PathBuf,
}

struct Inner {
    config: FetcherConfig,
    /// How https servers are verified (the public roots and `ca_file`).
    tls: Arc<rustls::ClientConfig>,
    book: Mutex<CacheBook>,
    /// Signalled whenever a download into the cache ends, however it ends.
    settled: Condvar,
    /// Fetches waiting for another's download of the same key (observable for tests and
    /// operators: concurrent fetches of a URI share one download).
    waiting: AtomicUsize,
    log: Logger,
}

/// The agent's one fetcher; clones share the cache.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Fetcher {
    /// A fetcher with an empty cache: the cache directory is created, and emptied of what
    /// an earlier agent left.
    pub fn new(config: FetcherConfig, log: Logger) -> Result<Self, crate::AgentError> {
        let io = |what, source| crate::AgentError::Io {
            what,
            path: config.cache_dir.display().to_string(),
            source,
        };
        if config.cache_dir.exists() {
            std::fs::remove_dir_all(&config.cache_dir)
                .map_err(|e| io("clearing the fetcher cache directory", e))?;
        }
        std::fs::create_dir_all(&config.cache_dir)
            .map_err(|e| io("creating the fetcher cache directory", e))?;
        let tls = download::tls_config(config.ca_file.as_deref()).map_err(|reason| {
            crate::AgentError::Flag {
                flag: "--fetcher-ca-file",
                value: format!("{:?}", config.ca_file),
                reason,
            }
        })?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                tls,
                book: Mutex::new(CacheBook::new(config.cache_size)),
                config,
                settled: Condvar::new(),
                waiting: AtomicUsize::new(0),
                log,
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &FetcherConfig {
        &self.inner.config
    }

    /// How many fetches wait for another fetch's download of the same URI now.
    pub fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::Relaxed)
    }

    /// Runs `request` on a new thread; the future resolves with its outcome.
    pub fn spawn(
        &self,
        request: FetchRequest,
        cancel: Arc<AtomicBool>,
    ) -> impl std::future::Future<Output = Result<(), FetchError>> + Send + 'static {
        let (tx, rx) = futures::channel::oneshot::channel();
        let fetcher = self.clone();
        let started = std::thread::Builder::new()
            .name("fetcher".into())
            .spawn(move || {
                let _ = tx.send(fetcher.fetch(&request, &cancel));
            });
        let start_error = started.err().map(|e| FetchError {
            uri: String::new(),
            reason: format!("cannot start a fetcher thread: {e}"),
        });
        async move {
            if let Some(e) = start_error {
                return Err(e);
            }
            rx.await.unwrap_or_else(|_| {
                Err(FetchError {
                    uri: String::new(),
                    reason: "the fetcher thread ended without an outcome".into(),
                })
            })
        }
    }

    /// Fetches every URI of `request` into its sandbox, in order; stops at the first
    /// failure. Blocks.
    pub fn fetch(&self, request: &FetchRequest, cancel: &AtomicBool) -> Result<(), FetchError> {
        let root = request.sandbox.canonicalize().map_err(|e| FetchError {
            uri: request
                .uris
                .first()
                .map(|u| u.value.clone())
                .unwrap_or_default(),
            reason: format!("sandbox {}: {e}", request.sandbox.display()),
        })?;
        for uri in &request.uris {
            let fail = |reason: String| FetchError {
                uri: uri.value.clone(),
                reason,
            };
            let plan = plan::plan(uri).map_err(fail)?;
            self.fetch_one(&plan, request.user.as_deref(), &root, cancel)
                .map_err(fail)?;
            info!(self.inner.log, "fetched"; "uri" => &plan.uri,
                "into" => %root.join(&plan.output).display(), "cache" => plan.cache);
        }
        Ok(())
    }

    fn fetch_one(
        &self,
        plan: &Plan,
        user: Option<&str>,
        root: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), String> {
        let dest = root.join(&plan.output);
        // The output's directories are made, and must really be inside the sandbox.
        let parent = dest.parent().unwrap_or(root);
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let real = parent
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", parent.display()))?;
        if !real.starts_with(root) {
            return Err(format!(
                "output_file '{}' resolves outside the sandbox",
                plan.output.display()
            ));
        }
        if plan.cache && self.inner.config.cache_size > 0 {
            let key = CacheKey {
                user: user.map(str::to_string),
                uri: plan.uri.clone(),
            };
            self.through_cache(plan, &key, &dest, root, cancel)
        } else {
            let opened = self.open(&plan.source)?;
            self.direct(plan, opened, &dest, root, cancel)
        }
    }

    fn open(&self, source: &Source) -> Result<download::Opened, String> {
        match source {
            Source::Http(url) => {
                download::open_http(url, self.inner.config.stall_timeout, &self.inner.tls)
            }
            Source::File(path) => download::open_file(path),
        }
    }

    /// Straight into the sandbox: the file lands at `dest`, then is unpacked or made
    /// executable there.
    fn direct(
        &self,
        plan: &Plan,
        mut opened: download::Opened,
        dest: &Path,
        root: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), String> {
        download::save(
            &mut opened.reader,
            dest,
            cancel,
            self.inner.config.stall_timeout,
        )?;
        self.finish(plan, dest, dest, root, cancel)
    }

    /// Makes `dest` executable, or unpacks `file` (at `dest` or in the cache), or copies a
    /// cache file to `dest`.
    fn finish(
        &self,
        plan: &Plan,
        file: &Path,
        dest: &Path,
        root: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), String> {
        if let Some(kind) = plan.extract {
            return extract::extract(file, kind, &plan.output, root, cancel);
        }
        if file != dest {
            std::fs::copy(file, dest).map_err(|e| {
                let _ = std::fs::remove_file(dest);
                format!("cannot copy the cached file to {}: {e}", dest.display())
            })?;
        }
        if plan.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("cannot make {} executable: {e}", dest.display()))?;
        }
        Ok(())
    }

    fn book(&self) -> std::sync::MutexGuard<'_, CacheBook> {
        self.inner
            .book
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn through_cache(
        &self,
        plan: &Plan,
        key: &CacheKey,
        dest: &Path,
        root: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), String> {
        let stem = plan
            .output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        loop {
            let claim = self.book().claim(key, &stem);
            match claim {
                Claim::Ready(file) => {
                    let path = self.inner.config.cache_dir.join(&file);
                    let result = self.finish(plan, &path, dest, root, cancel);
                    self.book().release(key, &file);
                    return result;
                }
                Claim::Wait => {
                    if !self.wait_for_download(key, cancel)? {
                        // Its download failed or was not cached: fetch directly (Mesos's
                        // fallback).
                        let opened = self.open(&plan.source)?;
                        return self.direct(plan, opened, dest, root, cancel);
                    }
                }
                Claim::Download(file) => {
                    let result = self.download_to_cache(plan, key, &file, dest, root, cancel);
                    self.book().release(key, &file);
                    self.inner.settled.notify_all();
                    return result;
                }
            }
        }
    }

    /// Waits until no download of `key` is under way; whether the file is resident then.
    fn wait_for_download(&self, key: &CacheKey, cancel: &AtomicBool) -> Result<bool, String> {
        self.inner.waiting.fetch_add(1, Ordering::Relaxed);
        let outcome = self.wait_while_downloading(key, cancel);
        self.inner.waiting.fetch_sub(1, Ordering::Relaxed);
        outcome
    }

    fn wait_while_downloading(&self, key: &CacheKey, cancel: &AtomicBool) -> Result<bool, String> {
        let mut book = self.book();
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err("the fetch was cancelled while waiting for the cache".into());
            }
            if book.is_ready(key) {
                return Ok(true);
            }
            if !book.is_downloading(key) {
                return Ok(false);
            }
            book = self
                .inner
                .settled
                .wait_timeout(book, WAIT_SLICE)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    fn download_to_cache(
        &self,
        plan: &Plan,
        key: &CacheKey,
        file: &str,
        dest: &Path,
        root: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), String> {
        let opened = match self.open(&plan.source) {
            Ok(opened) => opened,
            Err(e) => {
                self.book().fail(key, file);
                return Err(e);
            }
        };
        let reserved = match opened.size.filter(|s| *s > 0) {
            Some(size) => self.book().reserve(key, file, size),
            None => {
                self.book().fail(key, file);
                None
            }
        };
        let Some(evicted) = reserved else {
            warn!(self.inner.log, "fetching directly: size unknown or no room in the cache";
                "uri" => &plan.uri, "size" => opened.size);
            self.inner.settled.notify_all();
            return self.direct(plan, opened, dest, root, cancel);
        };
        for gone in evicted {
            let _ = std::fs::remove_file(self.inner.config.cache_dir.join(gone));
        }
        let path = self.inner.config.cache_dir.join(file);
        let mut reader = opened.reader;
        let saved = download::save(&mut reader, &path, cancel, self.inner.config.stall_timeout);
        let size = match saved {
            Ok(size) => size,
            Err(e) => {
                self.book().fail(key, file);
                return Err(e);
            }
        };
        let kept = self.book().complete(key, file, size);
        self.inner.settled.notify_all();
        let result = self.finish(plan, &path, dest, root, cancel);
        if !kept {
            let _ = std::fs::remove_file(&path);
        }
        result
    }
}
