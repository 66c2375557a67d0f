//! `--log-level`: which records are written, as RUST_LOG-style directives.
//!
//! `LEVEL` sets the default; `MODULE=LEVEL` sets it for a module path and everything under
//! it (matched on `::` boundaries, the longest match wins), e.g.
//! `warn,meso_master::raftlog=debug,raft=info`. Levels: `trace`, `debug`, `info`, `warn`,
//! `error`, `crit` (`critical`, `warning` also), and `off`. The module of a record is where it
//! was logged (`meso_master::master::agent_messages`, `raft::raft` for raft-rs).

use libprocess::slog::{Drain, Level, OwnedKVList, Record};

/// A parsed `--log-level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    /// The level for modules no directive names (`None`: off).
    default: Option<Level>,
    /// (module prefix, level), longest prefix first.
    modules: Vec<(String, Option<Level>)>,
}

fn parse_level(text: &str) -> Result<Option<Level>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "off" => Ok(None),
        "trace" => Ok(Some(Level::Trace)),
        "debug" => Ok(Some(Level::Debug)),
        "info" => Ok(Some(Level::Info)),
        "warn" | "warning" => Ok(Some(Level::Warning)),
        "error" => Ok(Some(Level::Error)),
        "crit" | "critical" => Ok(Some(Level::Critical)),
        other => Err(format!(
            "{other:?} is not a level (trace, debug, info, warn, error, crit or off)"
        )),
    }
}

impl LogFilter {
    /// Parses directives; the error names the bad one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut filter = LogFilter {
            default: Some(Level::Info),
            modules: Vec::new(),
        };
        for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match directive.split_once('=') {
                None => {
                    filter.default = parse_level(directive)
                        .map_err(|e| format!("--log-level {directive:?}: {e}"))?
                }
                Some((module, level)) => {
                    let module = module.trim();
                    if module.is_empty()
                        || !module
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    {
                        return Err(format!(
                            "--log-level {directive:?}: {module:?} is not a module path"
                        ));
                    }
                    let level = parse_level(level)
                        .map_err(|e| format!("--log-level {directive:?}: {e}"))?;
                    filter.modules.retain(|(m, _)| m != module);
                    filter.modules.push((module.to_string(), level));
                }
            }
        }
        filter
            .modules
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(filter)
    }

    /// Whether a record of `level` logged in `module` is written.
    pub fn enabled(&self, module: &str, level: Level) -> bool {
        let limit = self
            .modules
            .iter()
            .find(|(m, _)| {
                module == m
                    || module
                        .strip_prefix(m.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            })
            .map_or(self.default, |(_, l)| *l);
        limit.is_some_and(|limit| level.is_at_least(limit))
    }

    /// The most verbose level any directive lets through (for `is_enabled`).
    fn most_verbose(&self) -> Option<Level> {
        self.modules
            .iter()
            .map(|(_, l)| *l)
            .chain([self.default])
            .flatten()
            .max_by_key(|l| l.as_usize())
    }
}

/// A drain that passes on only the records its [`LogFilter`] lets through.
pub struct Filtered<D> {
    filter: LogFilter,
    most_verbose: Option<Level>,
    inner: D,
}

impl<D> Filtered<D> {
    /// Wraps `inner`.
    pub fn new(filter: LogFilter, inner: D) -> Self {
        Filtered {
            most_verbose: filter.most_verbose(),
            filter,
            inner,
        }
    }
}

impl<D: Drain> Drain for Filtered<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<Self::Ok, Self::Err> {
        if self.filter.enabled(record.module(), record.level()) {
            self.inner.log(record, values).map(Some)
        } else {
            Ok(None)
        }
    }

    fn is_enabled(&self, level: Level) -> bool {
        self.most_verbose.is_some_and(|m| level.is_at_least(m)) && self.inner.is_enabled(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_module_levels_with_the_longest_prefix_winning() {
        let f =
            LogFilter::parse("warn,meso_master=info,meso_master::raftlog=debug,raft=off").unwrap();
        assert!(!f.enabled("meso_agent::agent", Level::Info));
        assert!(f.enabled("meso_agent::agent", Level::Warning));
        assert!(f.enabled("meso_master::master", Level::Info));
        assert!(!f.enabled("meso_master::master", Level::Debug));
        assert!(f.enabled("meso_master::raftlog::driver", Level::Debug));
        assert!(f.enabled("meso_master::raftlog", Level::Debug));
        // A prefix matches whole path segments only.
        assert!(!f.enabled("meso_master_x::y", Level::Info));
        assert!(!f.enabled("raft::raft", Level::Critical));
        assert_eq!(f.most_verbose(), Some(Level::Debug));
    }

    #[test]
    fn the_default_is_info_and_bad_directives_are_named() {
        let f = LogFilter::parse("").unwrap();
        assert!(f.enabled("x", Level::Info) && !f.enabled("x", Level::Debug));
        let e = LogFilter::parse("info,raft=loud").unwrap_err();
        assert!(e.contains("raft=loud") && e.contains("\"loud\""), "{e}");
        let e = LogFilter::parse("verbose").unwrap_err();
        assert!(e.contains("\"verbose\" is not a level"), "{e}");
        let e = LogFilter::parse("a b=info").unwrap_err();
        assert!(e.contains("not a module path"), "{e}");
    }
}
