//! Tidy test: the actor crates take randomness, uuids and time only from the runtime's seams.
//!
//! A test (and the coming deterministic simulator) controls a node's clock and random source
//! (`NodeBuilder::test_clock`, `NodeBuilder::seed`); that control is whole only if no actor,
//! and no code an actor calls, reads the system's entropy or clocks behind its back. This test
//! scans the non-test sources of libprocess-rs, master (with the allocator and registry cores
//! it drives), agent, isolators and frameworks and fails, naming file:line, on a direct read.
//! Test code (`#[cfg(test)]` items, `tests/`, `examples/`, `benches/`) is not scanned.
//!
//! The exceptions are listed in [`ALLOWED`], each with why: the seams' own implementation,
//! and code that runs outside any node (a separate executor process, a program's runner).
//!
//! The same scan keeps the master's sends whole: in `master/src/master/` only the send
//! helpers (`send_to_agent`, `send_to_driver`, `send_to_framework`) call `ctx.send`, so no
//! failed send goes unlogged.

use std::fs;
use std::path::{Path, PathBuf};

/// Direct reads of entropy or the system's clocks.
const FORBIDDEN: &[&str] = &[
    "thread_rng",
    "Uuid::new_v4",
    "SystemTime::now",
    "Instant::now",
    "rand::random",
    "getrandom",
    "from_entropy",
];

/// Crate source roots that hold actors or code actors call.
const ROOTS: &[&str] = &[
    "libprocess-rs/src",
    "master/src",
    "allocator/src",
    "registry/src",
    "agent/src",
    "isolators/src",
    "frameworks/src",
    "services/src",
];

/// (file, forbidden pattern, why it may read it directly).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "libprocess-rs/src/clock.rs",
        "*",
        "the clock seam itself: SystemClock and TestClock read the real clocks",
    ),
    (
        "libprocess-rs/src/seams.rs",
        "*",
        "the rng seam itself: the default rng is seeded from the OS",
    ),
    (
        "libprocess-rs/src/node/builder.rs",
        "from_entropy",
        "the builder picks the default rng seam when none is given",
    ),
    (
        "libprocess-rs/src/node/http_timer.rs",
        "Instant::now",
        "hyper hands its header-read deadline as an Instant: the adapter turns it into a \
         duration from now and sleeps that on the node's clock",
    ),
    (
        "agent/src/executor.rs",
        "*",
        "the command executor is its own OS process with no libprocess node (threads and \
         blocking sockets); a simulator cannot drive it, so its uuids and timestamps are real",
    ),
    (
        "agent/src/emulator/run.rs",
        "Instant::now",
        "the emulator program's runner, outside every node: elapsed time for its report",
    ),
];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of `line` without a trailing `//` comment (doc comments may name what they forbid).
fn code_of(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// Lines (1-based) of `source` outside `#[cfg(test)]` items, with their code.
fn non_test_lines(source: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    // Some(depth) while inside a `#[cfg(test)]` item: braces opened so far.
    let mut skipping: Option<(i64, bool)> = None;
    for (i, line) in source.lines().enumerate() {
        let code = code_of(line);
        if let Some((depth, opened)) = skipping.as_mut() {
            for c in code.chars() {
                match c {
                    '{' => {
                        *depth += 1;
                        *opened = true;
                    }
                    '}' => *depth -= 1,
                    _ => {}
                }
            }
            // The item ends when its braces close, or at `;` for a braceless item
            // (`mod tests;`, whose file is test code named below).
            if (*opened && *depth <= 0) || (!*opened && code.trim_end().ends_with(';')) {
                skipping = None;
            }
            continue;
        }
        if code.trim_start().starts_with("#[cfg(test)]") {
            skipping = Some((0, false));
            continue;
        }
        out.push((i + 1, code));
    }
    out
}

/// Files that are test modules declared with `#[cfg(test)] mod name;`.
fn is_test_module_file(path: &Path) -> bool {
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    name == "tests" || name.ends_with("_tests")
}

fn allowed(file: &str, pattern: &str) -> bool {
    ALLOWED
        .iter()
        .any(|(f, p, _)| *f == file && (*p == "*" || *p == pattern))
}

#[test]
fn actor_crates_read_randomness_and_time_only_through_the_seams() {
    let root = workspace();
    let mut violations = Vec::new();
    let mut scanned = 0;
    for dir in ROOTS {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        files.sort();
        for path in files {
            if is_test_module_file(&path) {
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .expect("scanned files are under the workspace")
                .to_string_lossy()
                .replace('\\', "/");
            let source = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
            scanned += 1;
            for (line_no, code) in non_test_lines(&source) {
                for pattern in FORBIDDEN {
                    if code.contains(pattern) && !allowed(&rel, pattern) {
                        violations.push(format!("{rel}:{line_no}: {pattern}: {}", code.trim()));
                    }
                }
            }
        }
    }
    assert!(
        scanned > 50,
        "only {scanned} source files found under {ROOTS:?}: is the workspace layout different?"
    );
    assert!(
        violations.is_empty(),
        "direct reads of randomness or time in actor crates; take them from the Context \
         (ctx.wall_time(), ctx.uuid_v4(), ctx.random_in(..)) or the node, or pass them in as \
         arguments:\n{}",
        violations.join("\n")
    );
}

/// The files of `master/src/master/` that hold the master's send helpers.
const MASTER_SEND_HELPERS: &[&str] = &[
    "master/src/master/sends.rs",
    "master/src/master/framework_link.rs",
];

#[test]
fn the_master_sends_only_through_its_logging_helpers() {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join("master/src/master"), &mut files);
    files.sort();
    assert!(
        files.len() > 10,
        "master/src/master has {} files",
        files.len()
    );
    let mut direct = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .expect("scanned files are under the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        if MASTER_SEND_HELPERS.contains(&rel.as_str()) || is_test_module_file(&path) {
            continue;
        }
        let source = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
        for (line_no, code) in non_test_lines(&source) {
            if code.contains("ctx.send(") || code.contains("ctx.send_encoded(") {
                direct.push(format!("{rel}:{line_no}: {}", code.trim()));
            }
        }
    }
    assert!(
        direct.is_empty(),
        "master sends that bypass send_to_agent / send_to_driver / send_to_framework:\n{}",
        direct.join("\n")
    );
}

#[test]
fn every_exception_names_a_file_that_exists_and_still_needs_it() {
    let root = workspace();
    for (file, pattern, why) in ALLOWED {
        assert!(!why.is_empty());
        let source = fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("the exception for {file} names no file: {e}"));
        let needed = non_test_lines(&source).iter().any(|(_, code)| {
            FORBIDDEN
                .iter()
                .any(|p| (*pattern == "*" || p == pattern) && code.contains(p))
        });
        assert!(
            needed,
            "{file} no longer reads {pattern}: drop its exception"
        );
    }
}

#[test]
fn the_scanner_sees_code_and_skips_tests_and_comments() {
    let source = "fn a() { let t = SystemTime::now(); }\n\
                  // SystemTime::now in a comment\n\
                  #[cfg(test)]\n\
                  mod tests {\n\
                  \x20   fn b() { SystemTime::now(); }\n\
                  }\n\
                  fn c() { thread_rng(); }\n";
    let lines: Vec<(usize, &str)> = non_test_lines(source)
        .into_iter()
        .filter(|(_, code)| FORBIDDEN.iter().any(|p| code.contains(p)))
        .collect();
    assert_eq!(lines.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 7]);
}
