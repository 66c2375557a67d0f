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

// ---------------------------------------------------------------------------------------
// No two sibling modules import each other.
//
// STYLE.md: "Two modules that import each other want a third that both import." Each crate
// root's module tree is walked from its `mod` declarations; every `crate::` and `super::`
// path in code (not comments, strings or `#[cfg(test)]` items; `tests/` dirs are no crate
// root) is resolved to the longest module prefix it names, and a reference from `a::x` to
// `b::y` counts as sibling `a` referring to sibling `b`. A pair that refers both ways fails,
// naming every reference with its file and line.

/// Pairs of sibling modules allowed to import each other for now, as (crate root, one
/// sibling, the other): each a known debt, listed so that the rule still catches any new
/// cycle. The test fails when a listed pair no longer imports each other, so the list only
/// shrinks. It is empty: libprocess's recursive core (`Process`, `Context`, `Pid`, mailbox,
/// handlers) is one module, `process`, with child files, and sits on top of `node` (routing,
/// connections), which does not refer back to it.
const SIBLING_CYCLE_EXCEPTIONS: &[(&str, &str, &str)] = &[];

/// A module path from the crate root (`[]` is the root itself).
type ModPath = Vec<String>;

/// `text` with comments, string literals and char literals blanked (newlines kept), so
/// that only code is searched and line numbers stay true.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < len {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        let mut end = i; // the literal or comment to blank is i..end
        if c == '/' && next == Some('/') {
            end = i;
            while end < len && chars[end] != '\n' {
                end += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            end = i;
            while end < len {
                if chars[end] == '/' && chars.get(end + 1) == Some(&'*') {
                    depth += 1;
                    end += 2;
                } else if chars[end] == '*' && chars.get(end + 1) == Some(&'/') {
                    depth -= 1;
                    end += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    end += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && (prev.is_none_or(|p| !is_ident(p))
                || (prev == Some('b') && (i < 2 || !is_ident(chars[i - 2]))))
        {
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                j += 1;
                while j < len
                    && !(chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')))
                {
                    j += 1;
                }
                end = (j + 1 + hashes).min(len);
            }
        } else if c == '"' {
            let mut j = i + 1;
            while j < len && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            end = (j + 1).min(len);
        } else if c == '\'' {
            if next == Some('\\') {
                let mut j = i + 3;
                while j < len && chars[j] != '\'' {
                    j += 1;
                }
                end = (j + 1).min(len);
            } else if chars.get(i + 2) == Some(&'\'') {
                end = i + 3;
            }
        }
        if end > i {
            out.extend(chars[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Blanks every item under `#[cfg(test)]` (up to its `;`, its closing `}`, or the `,` that
/// ends a field), so that test code is not searched. `code` has no comments or strings.
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut bytes = code.as_bytes().to_vec();
    let mut from = 0;
    while let Some(found) = code[from..].find(MARK) {
        let start = from + found;
        let mut depth = 0i32;
        let mut end = start + MARK.len();
        while end < bytes.len() {
            match bytes[end] {
                b'{' | b'(' | b'[' => depth += 1,
                b'}' | b')' | b']' => {
                    depth -= 1;
                    if depth < 0 {
                        break;
                    }
                    if depth == 0 && bytes[end] == b'}' {
                        end += 1;
                        break;
                    }
                }
                b';' | b',' if depth == 0 => {
                    end += 1;
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        for b in &mut bytes[start..end.min(code.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        from = end.min(code.len());
    }
    String::from_utf8(bytes).expect("only ASCII bytes were replaced")
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Positions where the word `word` starts (not inside a longer identifier).
fn word_starts(code: &str, word: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || !is_ident_byte(bytes[at - 1]))
        .filter(|&at| {
            bytes
                .get(at + word.len())
                .is_none_or(|&b| !is_ident_byte(b))
        })
        .collect()
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

fn ident_at(bytes: &[u8], at: usize) -> (String, usize) {
    let mut end = at;
    while end < bytes.len() && is_ident_byte(bytes[end]) {
        end += 1;
    }
    (String::from_utf8_lossy(&bytes[at..end]).into_owned(), end)
}

/// The `mod NAME;` (file) and `mod NAME {` (inline: name, body start, body end)
/// declarations of a file's code.
fn module_declarations(code: &str) -> (Vec<String>, Vec<(String, usize, usize)>) {
    let bytes = code.as_bytes();
    let mut files = Vec::new();
    let mut inline = Vec::new();
    for at in word_starts(code, "mod") {
        let name_at = skip_spaces(bytes, at + 3);
        let (name, after) = ident_at(bytes, name_at);
        if name.is_empty() || name_at == at + 3 {
            continue;
        }
        let next = skip_spaces(bytes, after);
        match bytes.get(next) {
            Some(b';') => files.push(name),
            Some(b'{') => {
                let mut depth = 0;
                let mut end = next;
                while end < bytes.len() {
                    match bytes[end] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    end += 1;
                }
                inline.push((name, next, end));
            }
            _ => {}
        }
    }
    (files, inline)
}

/// The full paths a use tree or path starting at `at` names, each after `prefix`
/// (`a::{b, c::d}` gives `a::b` and `a::c::d`; `self` segments are dropped).
fn paths_at(bytes: &[u8], at: &mut usize, prefix: Vec<String>, out: &mut Vec<ModPath>) {
    *at = skip_spaces(bytes, *at);
    if bytes.get(*at) == Some(&b'{') {
        *at += 1;
        loop {
            *at = skip_spaces(bytes, *at);
            match bytes.get(*at) {
                None => return,
                Some(b'}') => {
                    *at += 1;
                    return;
                }
                Some(b',') => *at += 1,
                Some(_) => {
                    let before = *at;
                    paths_at(bytes, at, prefix.clone(), out);
                    // Skip what a tree entry may carry after its path (`as name`, `*`).
                    while *at < bytes.len() && !matches!(bytes[*at], b',' | b'}') {
                        *at += 1;
                    }
                    if *at == before {
                        *at += 1;
                    }
                }
            }
        }
    }
    let (ident, end) = ident_at(bytes, *at);
    if ident.is_empty() {
        out.push(prefix);
        return;
    }
    *at = end;
    let mut path = prefix;
    if ident != "self" {
        path.push(ident);
    }
    if bytes[*at..].starts_with(b"::") {
        *at += 2;
        paths_at(bytes, at, path, out);
    } else {
        out.push(path);
    }
}

/// One module file: where it is and the code it owns.
struct ModuleFile {
    file: PathBuf,
    /// The text without comments, strings or test items.
    code: String,
    /// Inline child modules as (name, body start, body end).
    inline: Vec<(String, usize, usize)>,
}

/// One crate's module tree: each module's file and the code it owns.
struct ModuleTree {
    modules: std::collections::BTreeMap<ModPath, ModuleFile>,
}

impl ModuleTree {
    fn load(root_file: &Path) -> ModuleTree {
        let mut tree = ModuleTree {
            modules: std::collections::BTreeMap::new(),
        };
        let dir = root_file.parent().expect("a crate root has a directory");
        tree.add(root_file, Vec::new(), dir);
        tree
    }

    fn add(&mut self, file: &Path, module: ModPath, children_dir: &Path) {
        let text = read(file);
        if text.contains("#![cfg(test)]") {
            return;
        }
        let code = without_test_items(&code_only(&text));
        let (files, inline) = module_declarations(&code);
        for name in files {
            let flat = children_dir.join(format!("{name}.rs"));
            let nested = children_dir.join(&name).join("mod.rs");
            let child_file = if flat.is_file() { flat } else { nested };
            assert!(
                child_file.is_file(),
                "{}: `mod {name};` has no file",
                file.display()
            );
            let mut child = module.clone();
            child.push(name.clone());
            self.add(&child_file, child, &children_dir.join(&name));
        }
        let file = file.to_path_buf();
        self.modules
            .insert(module, ModuleFile { file, code, inline });
    }

    /// Whether `path` is a module (a file or an inline `mod` block) of this crate.
    fn is_module(&self, path: &[String]) -> bool {
        if path.is_empty() || self.modules.contains_key(path) {
            return true;
        }
        let (parent, name) = path.split_at(path.len() - 1);
        self.modules
            .get(parent)
            .is_some_and(|m| m.inline.iter().any(|(n, _, _)| n == &name[0]))
    }

    /// Every `crate::`/`super::` reference: (from module, to module, file, line, code).
    fn references(&self) -> Vec<(ModPath, ModPath, String)> {
        let root = repo_root();
        let mut refs = Vec::new();
        for (module, ModuleFile { file, code, inline }) in &self.modules {
            let bytes = code.as_bytes();
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string();
            let mut starts: Vec<(usize, &str)> = word_starts(code, "crate")
                .into_iter()
                .map(|at| (at, "crate"))
                .chain(
                    word_starts(code, "super")
                        .into_iter()
                        .map(|at| (at, "super")),
                )
                .filter(|&(at, word)| bytes[at + word.len()..].starts_with(b"::"))
                // `super::super::x` is read once, from its first `super`.
                .filter(|&(at, _)| at < 2 || &bytes[at - 2..at] != b"::")
                .collect();
            starts.sort();
            for (at, word) in starts {
                // The module the reference sits in: the file's, or an inline one inside it.
                let mut from = module.clone();
                for (name, body_start, body_end) in inline {
                    if *body_start < at && at < *body_end {
                        from.push(name.clone());
                    }
                }
                let mut cursor = at + word.len() + 2;
                let base = if word == "crate" {
                    Vec::new()
                } else {
                    let mut levels = 1;
                    while bytes[cursor..].starts_with(b"super::") {
                        levels += 1;
                        cursor += "super::".len();
                    }
                    match from.len().checked_sub(levels) {
                        Some(keep) => from[..keep].to_vec(),
                        None => continue,
                    }
                };
                let mut paths = Vec::new();
                paths_at(bytes, &mut cursor, base, &mut paths);
                let line = code[..at].matches('\n').count() + 1;
                let text = code[at..cursor.min(code.len())]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                for path in paths {
                    let mut to = path;
                    while !self.is_module(&to) {
                        to.pop();
                    }
                    refs.push((from.clone(), to, format!("{shown}:{line}: `{text}`")));
                }
            }
        }
        refs
    }
}

/// The sibling pairs of one crate whose modules refer to each other, each with the
/// references both ways.
fn sibling_cycles(tree: &ModuleTree) -> Vec<(String, String, Vec<String>)> {
    use std::collections::BTreeMap;
    let mut edges: BTreeMap<(ModPath, ModPath), Vec<String>> = BTreeMap::new();
    for (from, to, place) in tree.references() {
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        if common == from.len() || common == to.len() {
            continue; // the same module, an ancestor or a descendant
        }
        let sides = (from[..=common].to_vec(), to[..=common].to_vec());
        let places = edges.entry(sides).or_default();
        if !places.contains(&place) {
            places.push(place);
        }
    }
    let mut cycles = Vec::new();
    for ((a, b), forth) in &edges {
        if a < b {
            if let Some(back) = edges.get(&(b.clone(), a.clone())) {
                let (a, b) = (a.join("::"), b.join("::"));
                let mut places: Vec<String> =
                    forth.iter().map(|p| format!("{a} -> {b}: {p}")).collect();
                places.extend(back.iter().map(|p| format!("{b} -> {a}: {p}")));
                cycles.push((a, b, places));
            }
        }
    }
    cycles
}

/// The crate roots of a workspace member: `src/lib.rs`, `src/main.rs`, `src/bin/*.rs`.
fn crate_roots(crate_dir: &Path) -> Vec<PathBuf> {
    let src = crate_dir.join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|name| src.join(name))
        .filter(|p| p.is_file())
        .collect();
    if let Ok(entries) = fs::read_dir(src.join("bin")) {
        let mut bins: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        bins.sort();
        roots.extend(bins);
    }
    roots
}

#[test]
fn no_two_sibling_modules_import_each_other() {
    let root = repo_root();
    let mut found = Vec::new();
    let mut excused = Vec::new();
    let mut modules = 0;
    for crate_dir in member_dirs(&root) {
        for crate_root in crate_roots(&crate_dir) {
            let tree = ModuleTree::load(&crate_root);
            modules += tree.modules.len();
            let name = crate_root
                .strip_prefix(&root)
                .unwrap_or(&crate_root)
                .display()
                .to_string();
            for (a, b, places) in sibling_cycles(&tree) {
                let pair = (name.as_str(), a.as_str(), b.as_str());
                if SIBLING_CYCLE_EXCEPTIONS.contains(&pair) {
                    excused.push(pair_key(pair));
                } else {
                    found.push(format!(
                        "{name}: `{a}` and `{b}` import each other:\n    {}",
                        places.join("\n    ")
                    ));
                }
            }
        }
    }
    assert!(modules > 50, "walked only {modules} modules");
    assert!(
        found.is_empty(),
        "sibling modules that import each other (give them a third module with what both \
         need, or move the one item one side borrows to where it belongs):\n  {}",
        found.join("\n  ")
    );
    let stale: Vec<String> = SIBLING_CYCLE_EXCEPTIONS
        .iter()
        .map(|&pair| pair_key(pair))
        .filter(|key| !excused.contains(key))
        .collect();
    assert!(
        stale.is_empty(),
        "these pairs in SIBLING_CYCLE_EXCEPTIONS no longer import each other; remove them:\n  {}",
        stale.join("\n  ")
    );
}

fn pair_key((krate, a, b): (&str, &str, &str)) -> String {
    format!("{krate}: {a} <-> {b}")
}

#[test]
fn the_cycle_rule_reads_code_not_comments() {
    let code = code_only("a // crate::x\nb /* crate::y */ \"crate::z\" r#\"crate::w\"# 'c' 'a x");
    assert!(!code.contains("crate") && !code.contains("'c'"), "{code:?}");
    assert!(code.starts_with("a ") && code.contains("\nb ") && code.ends_with("'a x"));
    let code = without_test_items("use a;\n#[cfg(test)]\nmod tests {\n use b;\n}\nfn f() {}");
    assert!(!code.contains("use b") && code.contains("use a;") && code.ends_with("fn f() {}"));
    assert_eq!(code.lines().count(), 6);
    let mut at = 0;
    let mut paths = Vec::new();
    let text = b"a::{self, b::{c, d as e}, f::*}; g";
    paths_at(text, &mut at, vec!["r".into()], &mut paths);
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(shown, ["r::a", "r::a::b::c", "r::a::b::d", "r::a::f"]);
    let (files, inline) = module_declarations("pub mod a;\nmod b { fn f() {} }\nmodule x;");
    assert_eq!(files, ["a"]);
    assert_eq!(inline.len(), 1);
}
