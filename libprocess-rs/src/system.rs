//! The machine's figures every node reports with its metrics, read when a snapshot is taken
//! (Mesos's libprocess `system/*`): `system/cpus_total`, `system/mem_total_bytes`,
//! `system/mem_free_bytes`, `system/load_1min`, `system/load_5min`, `system/load_15min`.
//! Linux's `/proc/meminfo` and `/proc/loadavg`; a figure that cannot be read is left out.

use std::collections::BTreeMap;

/// `MemTotal` and `MemAvailable` of `/proc/meminfo`, in bytes.
fn parse_meminfo(text: &str) -> (Option<f64>, Option<f64>) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb * 1024.0)
    };
    (field("MemTotal"), field("MemAvailable"))
}

/// The three load averages of `/proc/loadavg`.
fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The `system/*` figures as snapshot keys.
pub(crate) fn system_metrics() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    if let Ok(n) = std::thread::available_parallelism() {
        out.insert("system/cpus_total".into(), n.get() as f64);
    }
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
        let (total, free) = parse_meminfo(&text);
        if let Some(v) = total {
            out.insert("system/mem_total_bytes".into(), v);
        }
        if let Some(v) = free {
            out.insert("system/mem_free_bytes".into(), v);
        }
    }
    if let Some([l1, l5, l15]) = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| parse_loadavg(&t))
    {
        out.insert("system/load_1min".into(), l1);
        out.insert("system/load_5min".into(), l5);
        out.insert("system/load_15min".into(), l15);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_parse() {
        let meminfo =
            "MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(
            parse_meminfo(meminfo),
            (Some(16_000_000.0 * 1024.0), Some(8_000_000.0 * 1024.0))
        );
        assert_eq!(parse_meminfo("garbage"), (None, None));
        assert_eq!(
            parse_loadavg("0.52 0.58 0.59 1/467 12345\n"),
            Some([0.52, 0.58, 0.59])
        );
        assert_eq!(parse_loadavg("0.5 x"), None);
    }
}
