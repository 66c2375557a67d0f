//! Tidy checks on the repository itself (rust-analyzer's "tidy" idea): cheap rules that keep
//! the map and the module docs true, run with the other tests.
//!
//! - Every crate root (`src/lib.rs`, `src/main.rs`, `src/bin/*.rs`) and every top-level
//!   module file (`src/*.rs`, `src/*/mod.rs`) of every workspace member opens with a `//!`
//!   doc. Members are read from the root `Cargo.toml`, so a crate added later is checked
//!   without touching this file.
//! - Every repository path ARCHITECTURE.md names (in backticks) exists.
//! - ARCHITECTURE.md stays a map: at most [`MAX_MAP_LINES`] lines.
//!
//! Plain std, no build of anything: it reads files only.

use std::fs;
use std::path::{Path, PathBuf};

/// The map's length limit (issue 14: "a true map of <= ~350 lines").
const MAX_MAP_LINES: usize = 350;

/// Extensions that mark a backticked word in the map as a file path.
const PATH_EXTENSIONS: &[&str] = &[
    ".rs", ".md", ".sh", ".toml", ".py", ".json", ".txt", ".lock",
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The `members` of the root manifest's `[workspace]` table (a `dir/*` entry expands to
/// every directory under `dir` that holds a `Cargo.toml`).
fn workspace_members(manifest: &str) -> Result<Vec<String>, String> {
    let workspace = manifest
        .split("\n[")
        .find(|table| table.trim_start_matches('[').starts_with("workspace]"))
        .ok_or("the root Cargo.toml has no [workspace] table")?;
    let start = workspace
        .find("members")
        .ok_or("[workspace] has no `members`")?;
    let rest = &workspace[start..];
    let open = rest.find('[').ok_or("`members` is not an array")?;
    let close = rest[open..]
        .find(']')
        .ok_or("`members` array is not closed")?;
    let members: Vec<String> = rest[open + 1..open + close]
        .split(',')
        .map(|entry| entry.trim().trim_matches('"').to_string())
        .filter(|entry| !entry.is_empty())
        .collect();
    if members.is_empty() {
        return Err("`members` is empty".into());
    }
    Ok(members)
}

fn member_dirs(root: &Path) -> Vec<PathBuf> {
    let members = workspace_members(&read(&root.join("Cargo.toml")))
        .unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    let mut dirs = Vec::new();
    for member in members {
        if let Some(parent) = member.strip_suffix("/*") {
            let mut found: Vec<PathBuf> = fs::read_dir(root.join(parent))
                .unwrap_or_else(|e| panic!("workspace member glob {member}: {e}"))
                .flatten()
                .map(|entry| entry.path())
                .filter(|p| p.join("Cargo.toml").is_file())
                .collect();
            found.sort();
            dirs.extend(found);
        } else {
            dirs.push(root.join(member));
        }
    }
    dirs
}

/// The files of one crate that must open with a `//!` doc.
fn documented_files(crate_dir: &Path) -> Vec<PathBuf> {
    let src = crate_dir.join("src");
    let mut files = Vec::new();
    let mut push_rs_files = |dir: &Path| {
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
    };
    push_rs_files(&src);
    push_rs_files(&src.join("bin"));
    if let Ok(entries) = fs::read_dir(&src) {
        for entry in entries.flatten() {
            let module = entry.path().join("mod.rs");
            if module.is_file() {
                files.push(module);
            }
        }
    }
    files.sort();
    files
}

/// True when the first line that is not blank is a `//!` doc line.
fn opens_with_module_doc(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.starts_with("//!"))
}

#[test]
fn every_crate_and_top_level_module_has_a_module_doc() {
    let root = repo_root();
    let members = member_dirs(&root);
    assert!(
        members.len() >= 2,
        "found only {members:?} as workspace members"
    );
    let mut checked = 0;
    let mut missing = Vec::new();
    for crate_dir in &members {
        let files = documented_files(crate_dir);
        assert!(
            !files.is_empty(),
            "workspace member {} has no src/*.rs",
            crate_dir.display()
        );
        for file in files {
            checked += 1;
            if !opens_with_module_doc(&read(&file)) {
                missing.push(
                    file.strip_prefix(&root)
                        .unwrap_or(&file)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` doc (what the module is for, what it owns, \
         its invariants):\n  {}",
        missing.join("\n  ")
    );
    assert!(checked > members.len(), "checked only {checked} files");
}

/// The backticked spans of `text` (inline code; fenced blocks are skipped).
fn inline_code(text: &str) -> Vec<(usize, String)> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            spans.push((number + 1, code.to_string()));
        }
    }
    spans
}

/// Whether a backticked word names a file or directory of this repository (as opposed to
/// an HTTP route, an isolator name, a MIME type or a flag). `top_level` holds the names of
/// the repository root's entries.
fn looks_like_repo_path(code: &str, top_level: &[String]) -> bool {
    let odd = |c: char| c.is_whitespace() || "<>{}*|,:=()$\"'".contains(c);
    if code.is_empty() || code.starts_with('/') || code.starts_with('-') || code.contains(odd) {
        return false;
    }
    if PATH_EXTENSIONS.iter().any(|ext| code.ends_with(ext)) {
        return true;
    }
    let first = code.split('/').next().unwrap_or_default();
    code.contains('/') && top_level.iter().any(|entry| entry == first)
}

/// Every file name under `dir` (not `target/` or `.git/`), for bare names such as
/// `launcher.rs` that the map uses inside a crate's paragraph.
fn all_file_names(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                all_file_names(&path, out);
            }
        } else {
            out.push(name);
        }
    }
}

#[test]
fn the_map_names_only_paths_that_exist_and_stays_short() {
    let root = repo_root();
    let map = read(&root.join("ARCHITECTURE.md"));
    let lines = map.lines().count();
    assert!(
        lines <= MAX_MAP_LINES,
        "ARCHITECTURE.md has {lines} lines; a map stays within {MAX_MAP_LINES} (file-level \
         detail belongs in the modules' `//!` docs)"
    );
    let top_level: Vec<String> = fs::read_dir(&root)
        .expect("the repository root is readable")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = Vec::new();
    all_file_names(&root, &mut names);
    let mut checked = 0;
    let mut dangling = Vec::new();
    for (line, code) in inline_code(&map) {
        if !looks_like_repo_path(&code, &top_level) {
            continue;
        }
        checked += 1;
        let exists = if code.contains('/') {
            root.join(&code).exists()
        } else {
            names.contains(&code)
        };
        if !exists {
            dangling.push(format!("ARCHITECTURE.md:{line}: `{code}`"));
        }
    }
    assert!(
        dangling.is_empty(),
        "ARCHITECTURE.md names paths that do not exist (paths with a `/` are relative to the \
         repository root):\n  {}",
        dangling.join("\n  ")
    );
    assert!(checked > 0, "ARCHITECTURE.md names no path at all");
}

#[test]
fn the_rules_recognise_what_they_should() {
    let top = vec!["master".to_string(), "tests".to_string()];
    assert!(looks_like_repo_path("master/src/lib.rs", &top));
    assert!(looks_like_repo_path("master/src/", &top));
    assert!(looks_like_repo_path("launcher.rs", &top));
    assert!(looks_like_repo_path("scripts/bench/failover.sh", &top));
    assert!(!looks_like_repo_path("/master/state", &top));
    assert!(!looks_like_repo_path("cgroups/cpu", &top));
    assert!(!looks_like_repo_path("application/json", &top));
    assert!(!looks_like_repo_path("<work-dir>/meta", &top));
    assert!(!looks_like_repo_path("--isolation", &top));
    assert_eq!(
        workspace_members(
            "[package]\nname = \"x\"\n[workspace]\nmembers = [\n  \".\",\n  \"a\", \"b/*\"\n]\n"
        ),
        Ok(vec![".".to_string(), "a".to_string(), "b/*".to_string()])
    );
    assert!(workspace_members("[package]\nname = \"x\"\n").is_err());
    assert!(opens_with_module_doc("\n//! doc\nfn f() {}"));
    assert!(!opens_with_module_doc("use std::fs;\n//! late"));
    assert_eq!(
        inline_code("a `x/y.rs` b `c`\n```\n`skipped.rs`\n```\n"),
        vec![(1, "x/y.rs".to_string()), (1, "c".to_string())]
    );
}
