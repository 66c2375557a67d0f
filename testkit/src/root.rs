//! Tests that need root (cgroups, namespaces, mounts) say so instead of passing silently.
//!
//! [`skip_unless_root!`](crate::skip_unless_root) returns from the test when it does not
//! run as root, after writing `SKIPPED <test>: <reason>` straight to the process's stderr
//! (not through the test harness's capture, so `cargo test` shows it; `cargo nextest`
//! shows it with `--success-output final`). When `CI=true` it fails the test instead: CI
//! runs as root, so a skip there means a broken machine, not a pass.
//!
//! ```
//! fn needs_cgroups() {
//!     meso_testkit::skip_unless_root!("creates cgroups");
//!     // ... the part that needs root ...
//! }
//! # if std::env::var("CI").as_deref() != Ok("true") { needs_cgroups(); }
//! ```

use std::io::Write;

/// Whether the process runs as root; when not, reports the test named `test` as skipped
/// for `reason` (or panics under `CI=true`).
pub fn is_root_or_skip(test: &str, reason: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test} cannot run: {reason}, and CI=true runs tests as root, so this machine is broken");
    }
    let line = format!("SKIPPED {test}: {reason} (not running as root)\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    false
}

/// The running test's name: libtest and nextest run each test on a thread named after it.
pub fn current_test(fallback: &str) -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => fallback.to_string(),
    }
}

/// Returns from the enclosing test unless it runs as root, reporting it SKIPPED with the
/// given reason (a failure instead under `CI=true`).
#[macro_export]
macro_rules! skip_unless_root {
    ($reason:expr) => {
        if !$crate::root::is_root_or_skip(&$crate::root::current_test(module_path!()), $reason) {
            return;
        }
    };
}
