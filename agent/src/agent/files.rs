//! `/files/browse`, `/files/read`, `/files/download` and `/files/debug` on the agent (HTTP
//! reference §4.6): read-only access to executor sandboxes by *virtual* path, and to the
//! agent's own log as `/slave/log` when it writes one (`--log-dir`; 404 otherwise).
//!
//! A sandbox is reachable under three names, as Mesos attaches it:
//! `/frameworks/<fw>/executors/<ex>/runs/<run>`, the same below
//! `<work-dir>/slaves/<agent>/` (which is also the host path `/state` shows as `directory`),
//! where `<run>` is a container id or `latest`. Resolution is rule based, so the sandboxes of
//! executors that already ended stay readable while their directories exist.
//!
//! Confinement (the invariant): a path is served only if, after following every symlink, it
//! is the sandbox's run directory or inside it, and that run directory is itself directly in
//! its executor's `runs` directory under the work dir. A `..` component is refused before
//! anything is looked up; a symlink in the sandbox that points outside it is 404 as if it
//! did not exist. Errors: 400 for a missing or empty `path` or a bad `offset`/`length`, 404
//! for anything not in a sandbox, 405 for a method other than GET.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use http::{HeaderValue, StatusCode};
use libprocess::{HttpRequest, HttpResponse};
use meso_api::http::routing::{json_or_jsonp, parse_query, query_value};
use serde_json::{json, Value};
use thiserror::Error;

use super::http_routes::{body_response, error_response};
use super::Agent;

/// The virtual path of the agent's own log (with `--log-dir`), as Mesos attaches it.
pub const AGENT_LOG_PATH: &str = "/slave/log";

/// Most bytes one `/files/read` returns (Mesos: 16 pages).
pub const MAX_READ_LENGTH: u64 = 16 * 4096;

/// Why a files request is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FilesError {
    /// No `path` in the query, or an empty one.
    #[error("Expecting 'path=value' in query")]
    MissingPath,
    /// A `..` component.
    #[error("path '{0}' may not contain '..'")]
    DotDot(String),
    /// Not a file or directory of any sandbox (or escaping one).
    #[error("'{0}' is not in any sandbox")]
    NotFound(String),
    /// A bad `offset` or `length`.
    #[error("Failed to parse '{name}': '{value}' is not a number >= 0 (offset may also be -1)")]
    BadNumber {
        /// `offset` or `length`.
        name: &'static str,
        /// What was given.
        value: String,
    },
    /// `offset` past the end of the file.
    #[error("offset {offset} is beyond the size of the file ({size} bytes)")]
    OffsetTooLarge {
        /// Requested offset.
        offset: u64,
        /// File size.
        size: u64,
    },
    /// A directory where a file is needed.
    #[error("'{0}' is a directory")]
    IsDirectory(String),
    /// A query that cannot be decoded.
    #[error("{0}")]
    BadQuery(String),
}

impl FilesError {
    fn status(&self) -> StatusCode {
        match self {
            FilesError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A virtual path split into its sandbox and the rest (pure: no file system access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualPath {
    /// `<work-dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs`.
    pub runs_dir: PathBuf,
    /// The run (a container id or `latest`).
    pub run: String,
    /// Components below the run directory.
    pub rest: Vec<String>,
}

/// Splits `path` into sandbox and rest by the naming rules of the module docs.
pub fn parse_virtual_path(
    path: &str,
    work_dir: &Path,
    agent_id: &str,
) -> Result<VirtualPath, FilesError> {
    if path.is_empty() {
        return Err(FilesError::MissingPath);
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(FilesError::DotDot(path.into()));
    }
    let not_found = || FilesError::NotFound(path.into());
    // The host-path form: strip `<work-dir>/slaves/<agent>` first.
    let prefix: Vec<String> = work_dir
        .join("slaves")
        .join(agent_id)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let rel: &[&str] =
        if parts.len() >= prefix.len() && parts.iter().zip(&prefix).all(|(a, b)| a == b) {
            &parts[prefix.len()..]
        } else {
            &parts[..]
        };
    match rel {
        ["frameworks", fw, "executors", ex, "runs", run, rest @ ..] => Ok(VirtualPath {
            runs_dir: work_dir
                .join("slaves")
                .join(agent_id)
                .join("frameworks")
                .join(fw)
                .join("executors")
                .join(ex)
                .join("runs"),
            run: (*run).to_string(),
            rest: rest.iter().map(|s| s.to_string()).collect(),
        }),
        _ => Err(not_found()),
    }
}

/// Resolves a virtual path to a real one inside its sandbox, following symlinks; 404 if it
/// does not exist or leaves the sandbox.
pub fn resolve(path: &str, work_dir: &Path, agent_id: &str) -> Result<PathBuf, FilesError> {
    let v = parse_virtual_path(path, work_dir, agent_id)?;
    let not_found = || FilesError::NotFound(path.into());
    let runs = std::fs::canonicalize(&v.runs_dir).map_err(|_| not_found())?;
    let root = std::fs::canonicalize(v.runs_dir.join(&v.run)).map_err(|_| not_found())?;
    if root.parent() != Some(runs.as_path()) || !root.is_dir() {
        return Err(not_found());
    }
    let mut target = root.clone();
    for part in &v.rest {
        target.push(part);
    }
    let real = std::fs::canonicalize(&target).map_err(|_| not_found())?;
    if !real.starts_with(&root) {
        return Err(not_found());
    }
    Ok(real)
}

/// `rwxr-xr-x` style mode text with the type letter first.
fn mode_text(meta: &std::fs::Metadata) -> String {
    let kind = if meta.is_dir() {
        'd'
    } else if meta.file_type().is_symlink() {
        'l'
    } else {
        '-'
    };
    let mode = meta.mode();
    let mut s = String::with_capacity(10);
    s.push(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

fn group_name(gid: u32) -> String {
    nix::unistd::Group::from_gid(gid.into())
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_else(|| gid.to_string())
}

fn entry(virtual_path: &str, meta: &std::fs::Metadata) -> Value {
    json!({
        "path": virtual_path,
        "nlink": meta.nlink(),
        "size": meta.size(),
        "mtime": meta.mtime(),
        "mode": mode_text(meta),
        "uid": user_name(meta.uid()),
        "gid": group_name(meta.gid()),
    })
}

/// `offset`/`length` of `/files/read`: absent, -1 (offset only), or a number >= 0.
fn number(pairs: &[(String, String)], name: &'static str) -> Result<Option<i64>, FilesError> {
    let Some(text) = query_value(pairs, name) else {
        return Ok(None);
    };
    let bad = || FilesError::BadNumber {
        name,
        value: text.to_string(),
    };
    let n: i64 = text.trim().parse().map_err(|_| bad())?;
    if n < -1 || (n == -1 && name == "length") {
        return Err(bad());
    }
    Ok(Some(n))
}

/// The content type `/files/download` answers with, by extension.
fn content_type_of(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("txt") | Some("log") => "text/plain",
        Some("json") => "application/json",
        Some("html") | Some("htm") => "text/html",
        Some("js") => "application/javascript",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("gz") => "application/gzip",
        Some("tar") => "application/x-tar",
        _ => "application/octet-stream",
    }
}

impl Agent {
    /// Serves `/files/<route>`.
    pub(super) fn files(&self, request: &HttpRequest, route: &str) -> HttpResponse {
        if let Some(refusal) = super::http_routes::get_only(request) {
            return refusal;
        }
        let answer = match route {
            "browse" => self.files_browse(request),
            "read" => self.files_read(request),
            "download" => self.files_download(request),
            "debug" => Ok(self.files_debug(request)),
            other => return HttpResponse::not_found(format!("No handler for '/files/{other}'")),
        };
        answer.unwrap_or_else(|e| HttpResponse::text(e.status(), e.to_string()))
    }

    fn files_path(
        &self,
        request: &HttpRequest,
    ) -> Result<(Vec<(String, String)>, String), FilesError> {
        let pairs = parse_query(request.query.as_deref().unwrap_or(""))
            .map_err(|e| FilesError::BadQuery(e.body))?;
        let path = query_value(&pairs, "path")
            .filter(|p| !p.is_empty())
            .ok_or(FilesError::MissingPath)?
            .to_string();
        Ok((pairs, path))
    }

    fn files_resolve(&self, path: &str) -> Result<PathBuf, FilesError> {
        if path.trim_end_matches('/') == AGENT_LOG_PATH {
            return self
                .observe
                .log_file
                .clone()
                .ok_or_else(|| FilesError::NotFound(path.into()));
        }
        let agent_id = self
            .id
            .as_ref()
            .ok_or_else(|| FilesError::NotFound(path.into()))?;
        resolve(path, &self.config.work_dir, agent_id.as_str())
    }

    fn json_reply(request: &HttpRequest, value: Value) -> HttpResponse {
        match json_or_jsonp(request.query.as_deref(), value.to_string()) {
            Ok((ct, body)) => body_response(ct, body),
            Err(e) => error_response(e),
        }
    }

    fn files_browse(&self, request: &HttpRequest) -> Result<HttpResponse, FilesError> {
        let (_, path) = self.files_path(request)?;
        let real = self.files_resolve(&path)?;
        let not_found = || FilesError::NotFound(path.clone());
        let meta = std::fs::metadata(&real).map_err(|_| not_found())?;
        let base = path.trim_end_matches('/');
        let mut list = Vec::new();
        if meta.is_dir() {
            let dir = std::fs::read_dir(&real).map_err(|_| not_found())?;
            let mut names: Vec<(String, std::fs::Metadata)> = dir
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let meta = e.metadata().ok()?;
                    Some((e.file_name().to_string_lossy().into_owned(), meta))
                })
                .collect();
            names.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, meta) in names {
                list.push(entry(&format!("{base}/{name}"), &meta));
            }
        } else {
            list.push(entry(base, &meta));
        }
        Ok(Self::json_reply(request, Value::Array(list)))
    }

    fn files_read(&self, request: &HttpRequest) -> Result<HttpResponse, FilesError> {
        let (pairs, path) = self.files_path(request)?;
        let offset = number(&pairs, "offset")?;
        let length = number(&pairs, "length")?;
        let real = self.files_resolve(&path)?;
        let not_found = || FilesError::NotFound(path.clone());
        let meta = std::fs::metadata(&real).map_err(|_| not_found())?;
        if meta.is_dir() {
            return Err(FilesError::IsDirectory(path));
        }
        let size = meta.len();
        let offset = match offset {
            None | Some(-1) => {
                return Ok(Self::json_reply(
                    request,
                    json!({"data": "", "offset": size}),
                ))
            }
            Some(n) => n as u64,
        };
        if offset > size {
            return Err(FilesError::OffsetTooLarge { offset, size });
        }
        let length = length.map_or(MAX_READ_LENGTH, |l| (l as u64).min(MAX_READ_LENGTH));
        let mut file = std::fs::File::open(&real).map_err(|_| not_found())?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|_| not_found())?;
        let mut data = Vec::new();
        file.take(length)
            .read_to_end(&mut data)
            .map_err(|_| not_found())?;
        Ok(Self::json_reply(
            request,
            json!({"data": String::from_utf8_lossy(&data), "offset": offset}),
        ))
    }

    fn files_download(&self, request: &HttpRequest) -> Result<HttpResponse, FilesError> {
        let (_, path) = self.files_path(request)?;
        let real = self.files_resolve(&path)?;
        if real.is_dir() {
            return Err(FilesError::IsDirectory(path));
        }
        let data = std::fs::read(&real).map_err(|_| FilesError::NotFound(path.clone()))?;
        let mut response = body_response(content_type_of(&real), data);
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().replace('"', ""))
            .unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename={name}")) {
            response
                .headers
                .insert(http::header::CONTENT_DISPOSITION, v);
        }
        Ok(response)
    }

    /// `/files/debug`: the virtual names of every live executor's sandbox and where they lead.
    fn files_debug(&self, request: &HttpRequest) -> HttpResponse {
        let mut map = serde_json::Map::new();
        if let Some(file) = &self.observe.log_file {
            map.insert(
                AGENT_LOG_PATH.into(),
                Value::String(file.display().to_string()),
            );
        }
        if let Some(agent_id) = &self.id {
            for (fid, fw) in &self.frameworks {
                for (eid, ex) in &fw.executors {
                    let real = Value::String(ex.directory.display().to_string());
                    let short = format!("/frameworks/{fid}/executors/{eid}/runs/latest");
                    let long = self
                        .config
                        .work_dir
                        .join("slaves")
                        .join(agent_id.as_str())
                        .join(short.trim_start_matches('/'));
                    map.insert(short, real.clone());
                    map.insert(long.display().to_string(), real.clone());
                    map.insert(ex.directory.display().to_string(), real);
                }
            }
        }
        Self::json_reply(request, Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_paths_of_both_forms_name_the_same_sandbox() {
        let w = Path::new("/w");
        let short =
            parse_virtual_path("/frameworks/F/executors/E/runs/latest/stdout", w, "A").unwrap();
        let long = parse_virtual_path(
            "/w/slaves/A/frameworks/F/executors/E/runs/latest/stdout",
            w,
            "A",
        )
        .unwrap();
        assert_eq!(short, long);
        assert_eq!(
            short.runs_dir,
            Path::new("/w/slaves/A/frameworks/F/executors/E/runs")
        );
        assert_eq!(short.run, "latest");
        assert_eq!(short.rest, vec!["stdout".to_string()]);
    }

    #[test]
    fn dot_dot_empty_and_foreign_paths_are_refused() {
        let w = Path::new("/w");
        assert_eq!(
            parse_virtual_path("/frameworks/F/executors/E/runs/latest/../../x", w, "A"),
            Err(FilesError::DotDot(
                "/frameworks/F/executors/E/runs/latest/../../x".into()
            ))
        );
        assert_eq!(parse_virtual_path("", w, "A"), Err(FilesError::MissingPath));
        assert!(matches!(
            parse_virtual_path("/etc/passwd", w, "A"),
            Err(FilesError::NotFound(_))
        ));
        assert!(matches!(
            parse_virtual_path("/frameworks/F/executors/E", w, "A"),
            Err(FilesError::NotFound(_))
        ));
    }

    #[test]
    fn symlinks_out_of_the_sandbox_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        let runs = w.join("slaves/A/frameworks/F/executors/E/runs");
        std::fs::create_dir_all(runs.join("c1")).unwrap();
        crate::paths::link_latest(&runs.join("c1"));
        std::fs::write(runs.join("c1/stdout"), "hi").unwrap();
        std::fs::write(w.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(w.join("secret"), runs.join("c1/escape")).unwrap();
        let ok = resolve("/frameworks/F/executors/E/runs/latest/stdout", w, "A").unwrap();
        assert_eq!(std::fs::read_to_string(ok).unwrap(), "hi");
        assert!(matches!(
            resolve("/frameworks/F/executors/E/runs/latest/escape", w, "A"),
            Err(FilesError::NotFound(_))
        ));
        // A `latest` pointing out of `runs` is refused too.
        std::fs::remove_file(runs.join("latest")).unwrap();
        std::os::unix::fs::symlink(w, runs.join("latest")).unwrap();
        assert!(matches!(
            resolve("/frameworks/F/executors/E/runs/latest/secret", w, "A"),
            Err(FilesError::NotFound(_))
        ));
    }

    #[test]
    fn read_numbers_follow_mesos_rules() {
        let q = |s: &str| parse_query(s).unwrap();
        assert_eq!(number(&q("offset=-1"), "offset"), Ok(Some(-1)));
        assert_eq!(number(&q("offset=7"), "offset"), Ok(Some(7)));
        assert_eq!(number(&q(""), "offset"), Ok(None));
        assert!(number(&q("offset=-2"), "offset").is_err());
        assert!(number(&q("length=-1"), "length").is_err());
        assert!(number(&q("length=abc"), "length").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Whatever the path, parsing never panics, and an accepted path names a run inside
        /// the agent's part of the work dir with no `..` anywhere.
        #[test]
        fn accepted_paths_stay_under_the_agent(parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("..".to_string()),
                proptest::strategy::Just(".".to_string()),
                proptest::strategy::Just("frameworks".to_string()),
                proptest::strategy::Just("executors".to_string()),
                proptest::strategy::Just("runs".to_string()),
                "[a-z/]{0,6}",
            ],
            0..10,
        )) {
            // Half the cases in the sandbox shape, so that many are accepted.
            let path = if parts.len() % 2 == 0 && parts.len() >= 3 {
                format!(
                    "/frameworks/{}/executors/{}/runs/{}",
                    parts[0],
                    parts[1],
                    parts[2..].join("/")
                )
            } else {
                format!("/{}", parts.join("/"))
            };
            let w = Path::new("/w");
            if let Ok(v) = parse_virtual_path(&path, w, "A") {
                proptest::prop_assert!(v.runs_dir.starts_with("/w/slaves/A/frameworks"));
                proptest::prop_assert!(v.runs_dir.components().all(|c| c.as_os_str() != ".."));
                proptest::prop_assert!(v.run != ".." && !v.run.is_empty());
                proptest::prop_assert!(v.rest.iter().all(|r| r != ".." && !r.contains('/')));
            }
        }
    }
}
