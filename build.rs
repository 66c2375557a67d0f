//! Link settings of the `meso` binary on Linux: fixed-address (non-PIE), and the built-in
//! command executor's functions placed together.
//!
//! Every command task starts `meso executor`, so the binary's start-up cost and resident
//! memory are paid once per task (see BENCHMARKS.md, issue 5).
//!
//! - Non-PIE: as a PIE, the dynamic loader applied about 8,000 relative relocations at each
//!   start: it read the 200 kB `.rela.dyn` table and copied the relocated `.data.rel.ro`
//!   and GOT pages, costing time and about 300 kB of resident memory per executor. Without
//!   PIE the linker resolves those addresses once, at build time. The code itself stays
//!   position-independent, so only the final link changes.
//! - Symbol order: `link/executor-symbol-order.txt` (made by
//!   `scripts/executor-symbol-order.sh` from a profiled run) lists the functions the
//!   executor runs; lld's `--symbol-ordering-file` puts them first in `.text`, so the
//!   executor faults in a few contiguous pages rather than pages all over the binary. Only
//!   layout depends on the list: names it no longer matches are skipped without warnings.
//!   Applied when the target is x86_64 Linux with GNU libc, where rustc links with
//!   its bundled lld by default; `MESO_NO_SYMBOL_ORDER=1` turns it off (e.g. for a build
//!   that links with GNU ld, which lacks the option).
//!
//! Tests and examples keep the default link.
use std::path::Path;

/// The executor's function list, relative to this package.
const SYMBOL_ORDER_FILE: &str = "link/executor-symbol-order.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={SYMBOL_ORDER_FILE}");
    println!("cargo:rerun-if-env-changed=MESO_NO_SYMBOL_ORDER");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "linux" {
        return;
    }
    println!("cargo:rustc-link-arg-bin=meso=-no-pie");
    let target = std::env::var("TARGET").unwrap_or_default();
    let links_with_lld = target == "x86_64-unknown-linux-gnu";
    let opted_out = std::env::var_os("MESO_NO_SYMBOL_ORDER").is_some_and(|v| v != "0");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let order = Path::new(&manifest_dir).join(SYMBOL_ORDER_FILE);
    if links_with_lld && !opted_out && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=meso=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=meso=-Wl,--no-warn-symbol-ordering");
    }
}
