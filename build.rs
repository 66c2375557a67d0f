//! Links the `meso` binary as a fixed-address (non-PIE) executable on Linux.
//!
//! Every command task starts `meso executor`, so the binary's start-up cost is paid once
//! per task. As a PIE, the dynamic loader applied about 8,000 relative relocations at each
//! start: it read the 200 kB `.rela.dyn` table and copied the relocated `.data.rel.ro` and
//! GOT pages, costing time and about 300 kB of resident memory per executor (see
//! BENCHMARKS.md). Without PIE the linker resolves those addresses once, at build time. The
//! code itself stays position-independent, so only the final link changes. Tests and
//! examples keep the default.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-link-arg-bin=meso=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
