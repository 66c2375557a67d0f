//! App ids as Marathon writes them: absolute paths of lowercase labels (`/prod/web`),
//! parsed with empty segments dropped (`//a/b` is `/a/b`), and the task ids that carry an
//! app id (`prod_web.instance-<uuid>._app.<n>`) so an app can be found from a task id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Last segments an app id may not have (they are sub-routes of `/v2/apps/{id}`).
const RESERVED: [&str; 3] = ["restart", "tasks", "versions"];

/// An absolute app or group path, always printed with its leading `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppId(String);

impl AppId {
    /// The path `text` names, relative ids taken from `/`; empty segments are dropped.
    /// Refused (with why) when a segment is not a valid label or the last one is reserved.
    pub fn parse(text: &str) -> Result<AppId, String> {
        let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
        if segments.is_empty() {
            return Err("path must not be empty".to_string());
        }
        for s in &segments {
            if !valid_segment(s) {
                return Err(format!(
                    "'{s}' must fully match the regular expression \
                     ^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$"
                ));
            }
        }
        let last = segments[segments.len() - 1];
        if RESERVED.contains(&last) {
            return Err(format!(
                "the last path segment may not be '{last}' (reserved: restart, tasks, versions)"
            ));
        }
        Ok(AppId(format!("/{}", segments.join("/"))))
    }

    /// The path as text, with its leading `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The enclosing group's path (`/` for a top-level app).
    pub fn parent(&self) -> String {
        match self.0.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => self.0[..i].to_string(),
        }
    }

    /// Whether this app lies under the group `group` (a path; `/` holds everything).
    pub fn is_under(&self, group: &str) -> bool {
        let group = group.trim_end_matches('/');
        group.is_empty() || self.0 == group || self.0.starts_with(&format!("{group}/"))
    }

    /// The task id prefix: the path without its leading `/`, `/` replaced by `_`.
    pub fn task_prefix(&self) -> String {
        self.0[1..].replace('/', "_")
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One label list: `[a-z0-9]` at both ends of each dot-separated label, hyphens inside.
fn valid_segment(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && edge(b[0])
            && edge(b[b.len() - 1])
            && b.iter().all(|&c| edge(c) || c == b'-')
    })
}

/// The task id of incarnation `n` of instance `instance` of `app`.
pub fn task_id(app: &AppId, instance: &str, n: u32) -> String {
    format!("{}.instance-{instance}._app.{n}", app.task_prefix())
}

/// The app a task id belongs to (from its prefix), or why the id is malformed.
pub fn app_of_task(task: &str) -> Result<AppId, String> {
    let prefix = task
        .split_once('.')
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| format!("Task id '{task}' is not a valid task id"))?;
    AppId::parse(&prefix.replace('_', "/"))
        .map_err(|_| format!("Task id '{task}' is not a valid task id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_absolute_without_empty_segments_and_reserved_names_are_refused() {
        assert_eq!(AppId::parse("//a/b/").unwrap().as_str(), "/a/b");
        assert_eq!(AppId::parse("web").unwrap().as_str(), "/web");
        assert_eq!(AppId::parse("/prod/web.v2-x").unwrap().parent(), "/prod");
        assert!(AppId::parse("/a/Upper").unwrap_err().contains("'Upper'"));
        assert!(AppId::parse("/a/-x").is_err());
        assert!(AppId::parse("/a/tasks").unwrap_err().contains("tasks"));
        assert!(AppId::parse("/").is_err());
        let app = AppId::parse("/prod/web").unwrap();
        assert!(app.is_under("/prod") && app.is_under("/") && !app.is_under("/pro"));
    }

    #[test]
    fn the_app_comes_back_from_a_task_id() {
        let app = AppId::parse("/prod/web").unwrap();
        let t = task_id(&app, "1c0a", 3);
        assert_eq!(t, "prod_web.instance-1c0a._app.3");
        assert_eq!(app_of_task(&t).unwrap(), app);
        assert!(app_of_task("no-dot").is_err());
        assert!(app_of_task("BAD.x").is_err());
    }
}
