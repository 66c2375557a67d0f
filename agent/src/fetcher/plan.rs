//! What the fetcher does with one `CommandInfo.URI`, decided from the URI alone: where it
//! comes from (HTTP(S) or a local file), the name it gets in the sandbox (`output_file`,
//! else the URI's last path segment, as Mesos's `Fetcher::basename`), and whether and how
//! it is unpacked (by that name's extension, Mesos's list). Pure: no I/O.
//!
//! Invariants: a planned sandbox name is relative, non-empty and has no `..`, `.` or
//! root component, so joined to the sandbox it stays inside it; a local source is an
//! absolute path (Mesos resolves relative ones against `--frameworks_home`, which meso
//! does not have).

use std::path::{Component, Path, PathBuf};

use meso_api::v1::CommandUri;

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `http://` or `https://`.
    Http(String),
    /// `file:///abs/path` or a plain absolute path.
    File(PathBuf),
}

/// How a fetched file is unpacked (by its name's extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// `.tar`
    Tar,
    /// `.tar.gz`, `.tgz`
    TarGz,
    /// `.tar.bz2`, `.tbz2`
    TarBz2,
    /// `.tar.xz`, `.txz`
    TarXz,
    /// `.zip`
    Zip,
    /// `.gz` (not a tar): gunzipped beside itself, without the extension.
    Gz,
}

/// What to do with one URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The URI as given (for messages and the cache key).
    pub uri: String,
    /// Where the bytes come from.
    pub source: Source,
    /// The file's path in the sandbox, relative and checked.
    pub output: PathBuf,
    /// Unpack into the sandbox after fetching (never with `executable`).
    pub extract: Option<Archive>,
    /// `chmod 755` the fetched file.
    pub executable: bool,
    /// Go through the agent's fetcher cache.
    pub cache: bool,
}

/// The archive kind `name` announces by its extension, Mesos's list.
pub fn archive_kind(name: &str) -> Option<Archive> {
    let suffixes: [(&str, Archive); 9] = [
        (".tar.gz", Archive::TarGz),
        (".tgz", Archive::TarGz),
        (".tar.bz2", Archive::TarBz2),
        (".tbz2", Archive::TarBz2),
        (".tar.xz", Archive::TarXz),
        (".txz", Archive::TarXz),
        (".tar", Archive::Tar),
        (".zip", Archive::Zip),
        (".gz", Archive::Gz),
    ];
    suffixes
        .iter()
        .find(|(suffix, _)| name.ends_with(suffix))
        .map(|(_, kind)| *kind)
}

/// Checks that `name` is a safe path inside the sandbox: relative, non-empty, only normal
/// components. The error says what is wrong with it.
pub fn sandbox_relative(name: &str) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.contains('\0') {
        return Err("the name contains a NUL byte".into());
    }
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("'{name}' contains '..'")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("'{name}' is an absolute path"))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(format!("'{name}' names no file"));
    }
    Ok(out)
}

/// The URI's last path segment (Mesos keeps a query string in it; `output_file` is the way
/// around that).
fn basename(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

/// Plans one URI, or says why it cannot be fetched.
pub fn plan(uri: &CommandUri) -> Result<Plan, String> {
    let value = uri.value.trim_start();
    let source = if value.starts_with("http://") || value.starts_with("https://") {
        Source::Http(value.to_string())
    } else if let Some(path) = value.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err("a file:// URI needs an absolute path (file:///path)".into());
        }
        Source::File(PathBuf::from(path))
    } else if value.contains("://") {
        let scheme = value.split("://").next().unwrap_or_default();
        return Err(format!(
            "scheme '{scheme}' is not supported (http, https, file and absolute paths are)"
        ));
    } else if value.starts_with('/') {
        Source::File(PathBuf::from(value))
    } else {
        return Err("a relative path cannot be fetched; give an absolute path or a URI".into());
    };
    let name = match &uri.output_file {
        Some(output) => output.as_str(),
        None => basename(value),
    };
    let output = sandbox_relative(name).map_err(|e| match &uri.output_file {
        Some(_) => format!("output_file refused: {e}"),
        None => format!("cannot name the file from the URI ({e}); set output_file"),
    })?;
    let executable = uri.executable.unwrap_or(false);
    let extract = if uri.extract && !executable {
        archive_kind(&output.to_string_lossy())
    } else {
        None
    };
    Ok(Plan {
        uri: uri.value.clone(),
        source,
        output,
        extract,
        executable,
        cache: uri.cache.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn uri(value: &str) -> CommandUri {
        CommandUri {
            value: value.into(),
            executable: None,
            extract: true,
            cache: None,
            output_file: None,
        }
    }

    #[test]
    fn sources_and_names() {
        let p = plan(&uri("http://h:1/a/b/tool.tar.gz")).unwrap();
        assert_eq!(p.source, Source::Http("http://h:1/a/b/tool.tar.gz".into()));
        assert_eq!(p.output, Path::new("tool.tar.gz"));
        assert_eq!(p.extract, Some(Archive::TarGz));
        let p = plan(&uri("file:///opt/x.zip")).unwrap();
        assert_eq!(p.source, Source::File("/opt/x.zip".into()));
        assert_eq!(p.extract, Some(Archive::Zip));
        let p = plan(&uri("/opt/run.sh")).unwrap();
        assert_eq!(p.source, Source::File("/opt/run.sh".into()));
        assert_eq!(p.extract, None);
    }

    #[test]
    fn extensions_are_mesos_s_list() {
        for (name, kind) in [
            ("a.tar", Archive::Tar),
            ("a.tar.gz", Archive::TarGz),
            ("a.tgz", Archive::TarGz),
            ("a.tar.bz2", Archive::TarBz2),
            ("a.tbz2", Archive::TarBz2),
            ("a.tar.xz", Archive::TarXz),
            ("a.txz", Archive::TarXz),
            ("a.zip", Archive::Zip),
            ("a.gz", Archive::Gz),
        ] {
            assert_eq!(archive_kind(name), Some(kind), "{name}");
        }
        assert_eq!(archive_kind("a.tar.gz?x=1"), None);
        assert_eq!(archive_kind("a.bz2"), None);
    }

    #[test]
    fn executable_wins_over_extract_and_extract_false_keeps_the_archive() {
        let mut u = uri("http://h/x.tgz");
        u.executable = Some(true);
        assert_eq!(plan(&u).unwrap().extract, None);
        let mut u = uri("http://h/x.tgz");
        u.extract = false;
        assert_eq!(plan(&u).unwrap().extract, None);
    }

    #[test]
    fn output_file_decides_the_name_and_the_archive_kind() {
        let mut u = uri("http://h/download?id=3");
        u.output_file = Some("lib/pkg.tar.xz".into());
        let p = plan(&u).unwrap();
        assert_eq!(p.output, Path::new("lib/pkg.tar.xz"));
        assert_eq!(p.extract, Some(Archive::TarXz));
    }

    #[test]
    fn refusals_say_why() {
        let refused = |u: CommandUri| plan(&u).unwrap_err();
        assert!(refused(uri("ftp://h/x")).contains("scheme 'ftp'"));
        assert!(refused(uri("rel/path")).contains("relative path"));
        assert!(refused(uri("file://h/x")).contains("absolute"));
        assert!(refused(uri("http://h/")).contains("set output_file"));
        for bad in ["../x", "/etc/passwd", "a/../../x", "", "."] {
            let mut u = uri("http://h/x");
            u.output_file = Some(bad.into());
            assert!(refused(u).contains("output_file refused"), "{bad}");
        }
    }

    proptest! {
        /// Whatever the name, a planned output joined to a sandbox stays inside it.
        #[test]
        fn planned_outputs_stay_inside(name in "[a-z./]{0,12}") {
            if let Ok(rel) = sandbox_relative(&name) {
                prop_assert!(rel.is_relative());
                prop_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
                let joined = Path::new("/sandbox").join(&rel);
                prop_assert!(joined.starts_with("/sandbox") && joined != Path::new("/sandbox"));
            }
        }
    }
}
