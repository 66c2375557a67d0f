//! The host half of a reading: `/proc/stat` (CPU time, runnable tasks), `/proc/loadavg`,
//! `/proc/meminfo` and, where the kernel has PSI, `/proc/pressure/{cpu,memory}`. The parsers
//! are pure and tested on text; [`read_host`] does the reads (small files, microseconds),
//! called off the agent's process.

use std::path::Path;

use super::sample::RawHost;

/// Reads the host's counters under `proc_root` (normally `/proc`). A file that cannot be
/// read or parsed leaves its fields at their defaults (0 or `None`), so a missing PSI file
/// only turns off the pressure signals, and a missing `/proc/stat` yields no window.
pub fn read_host(proc_root: &Path) -> RawHost {
    let read = |name: &str| std::fs::read_to_string(proc_root.join(name)).ok();
    let mut host = RawHost {
        // SAFETY: sysconf has no preconditions.
        ticks_per_sec: unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64,
        ..RawHost::default()
    };
    if let Some(text) = read("stat") {
        parse_stat(&text, &mut host);
    }
    if let Some(text) = read("loadavg") {
        if let Some(load) = parse_loadavg(&text) {
            host.load = load;
        }
    }
    if let Some(text) = read("meminfo") {
        let (total, available) = parse_meminfo(&text);
        host.mem_total_bytes = total;
        host.mem_available_bytes = available;
    }
    host.cpu_pressure = read("pressure/cpu").and_then(|t| parse_pressure_some_avg10(&t));
    host.mem_pressure = read("pressure/memory").and_then(|t| parse_pressure_some_avg10(&t));
    host
}

/// `/proc/stat`: the aggregate `cpu` line (user nice system idle iowait irq softirq steal;
/// guest time is already inside user), the number of `cpuN` lines, and `procs_running`.
pub fn parse_stat(text: &str, host: &mut RawHost) {
    let mut cores = 0u32;
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        match fields.next() {
            Some("cpu") => {
                let v: Vec<u64> = fields.take(8).filter_map(|f| f.parse().ok()).collect();
                if v.len() >= 4 {
                    host.total_jiffies = v.iter().sum();
                    host.idle_jiffies = v[3] + v.get(4).copied().unwrap_or(0);
                }
            }
            Some(name) if name.starts_with("cpu") => cores += 1,
            Some("procs_running") => {
                host.runnable = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
            }
            _ => {}
        }
    }
    host.cores = cores;
}

/// `/proc/loadavg`: the three averages.
pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_ascii_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// `/proc/meminfo`: `MemTotal` and `MemAvailable`, bytes (0 when absent).
pub fn parse_meminfo(text: &str) -> (u64, u64) {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.trim_start_matches(':').split_ascii_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("MemTotal"), field("MemAvailable"))
}

/// A PSI file's `some avg10` (percent).
pub fn parse_pressure_some_avg10(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    line.split_ascii_whitespace()
        .find_map(|f| f.strip_prefix("avg10="))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernels_formats() {
        let mut host = RawHost::default();
        parse_stat(
            "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n\
             cpu1 50 3 25 400 10 1 1 2 0 0\nintr 1 2\nprocs_running 3\nprocs_blocked 0\n",
            &mut host,
        );
        assert_eq!(host.cores, 2);
        assert_eq!(host.total_jiffies, 981);
        assert_eq!(host.idle_jiffies, 820);
        assert_eq!(host.runnable, 3);
        assert_eq!(
            parse_loadavg("0.87 1.49 1.72 3/148 29940\n"),
            Some([0.87, 1.49, 1.72])
        );
        assert_eq!(parse_loadavg("x"), None);
        assert_eq!(
            parse_meminfo("MemTotal:        4000 kB\nMemFree: 1 kB\nMemAvailable:    3000 kB\n"),
            (4000 * 1024, 3000 * 1024)
        );
        assert_eq!(
            parse_pressure_some_avg10(
                "some avg10=3.85 avg60=6.94 avg300=12.70 total=5383198372\n\
                 full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
            ),
            Some(3.85)
        );
        assert_eq!(parse_pressure_some_avg10(""), None);
    }

    #[test]
    fn this_machine_reads() {
        let host = read_host(Path::new("/proc"));
        assert!(host.cores >= 1);
        assert!(host.total_jiffies >= host.idle_jiffies);
        assert!(host.mem_total_bytes >= host.mem_available_bytes);
    }
}
