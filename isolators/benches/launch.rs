//! Launch cost with and without cgroups: `/bin/true` launched, waited for and cleaned up,
//! N times each way, interleaved so both see the same machine load. Prints
//! `name: value unit` lines (p50 and p99 in microseconds, and the p50 difference).
//!
//! Run: `cargo bench -p meso-isolators --bench launch` (as root; `LAUNCH_BENCH_N` sets N,
//! `LAUNCH_BENCH_ISOLATION` the isolators compared with the default posix ones).

use std::time::Instant;

use meso_isolators::{
    ContainerConfig, ContainerId, Isolation, IsolationConfig, LaunchSpec, Limits,
};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn one(iso: &Isolation, n: usize, tag: &str, sandbox: &std::path::Path) -> f64 {
    let id = ContainerId::new(format!("bench-{tag}-{}-{n}", std::process::id())).expect("valid id");
    let config = ContainerConfig {
        id,
        sandbox: sandbox.to_path_buf(),
        limits: Limits {
            cpus: Some(0.5),
            mem_bytes: Some(64 << 20),
            disk_bytes: None,
            revocable: false,
        },
        rootfs: None,
    };
    let spec = LaunchSpec {
        program: "/bin/true".into(),
        ..Default::default()
    };
    let start = Instant::now();
    let mut c = iso.launch(&config, &spec).expect("launch /bin/true");
    c.process.wait().expect("wait for /bin/true");
    iso.destroy(&mut c).expect("destroy");
    start.elapsed().as_secs_f64() * 1e6
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: cgroups need root");
        return;
    }
    let n: usize = std::env::var("LAUNCH_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let plain = Isolation::new(&IsolationConfig::default()).expect("posix isolators");
    let names = std::env::var("LAUNCH_BENCH_ISOLATION")
        .unwrap_or_else(|_| "cgroups/cpu,cgroups/mem".into());
    let cgroups = match Isolation::new(&IsolationConfig {
        isolation: names.clone(),
        cgroups_enable_cfs: std::env::var_os("LAUNCH_BENCH_NO_CFS").is_none(),
        ..Default::default()
    }) {
        Ok(i) => i,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let sandbox = tempfile::tempdir().expect("a temporary sandbox");
    let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        a.push(one(&plain, i, "posix", sandbox.path()));
        b.push(one(&cgroups, i, "cgroups", sandbox.path()));
    }
    let per_s = |v: &[f64]| v.len() as f64 / (v.iter().sum::<f64>() / 1e6);
    let (posix_per_s, isolated_per_s) = (per_s(&a), per_s(&b));
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    println!("launches: {n} count");
    println!("isolation: {names}");
    println!("launch_posix_p50: {:.0} us", percentile(&a, 0.5));
    println!("launch_posix_p99: {:.0} us", percentile(&a, 0.99));
    println!("launch_isolated_p50: {:.0} us", percentile(&b, 0.5));
    println!("launch_isolated_p99: {:.0} us", percentile(&b, 0.99));
    println!("launches_per_s_posix: {posix_per_s:.0} 1/s");
    println!("launches_per_s_isolated: {isolated_per_s:.0} 1/s");
    println!(
        "isolate_overhead_ms_p50: {:.3} ms",
        (percentile(&b, 0.5) - percentile(&a, 0.5)) / 1e3
    );
}
