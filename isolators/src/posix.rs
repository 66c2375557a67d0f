//! `posix/cpu` and `posix/mem`: no enforcement; usage of the container's process tree read
//! from procfs (the first process and every descendant still parented inside the tree).
//!
//! The parsing and the tree walk are pure functions over procfs text; the isolators only
//! read `/proc`. A process that daemonized away from the tree is not counted (that is what
//! cgroups are for).

use std::collections::HashMap;
use std::fs;
use std::sync::Mutex;

use nix::unistd::Pid;

use crate::container::{ContainerConfig, ContainerId, LaunchPrep, Limits};
use crate::error::{IsolatorError, Result};
use crate::isolator::Isolator;
use crate::statistics::ResourceStatistics;

/// The fields of `/proc/<pid>/stat` we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The process id.
    pub pid: i32,
    /// Its parent.
    pub ppid: i32,
    /// User time, clock ticks.
    pub utime_ticks: u64,
    /// System time, clock ticks.
    pub stime_ticks: u64,
    /// Resident set, pages.
    pub rss_pages: u64,
}

/// Parses one `/proc/<pid>/stat` line (pure). The command name may hold spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let pid = text[..open].trim().parse().ok()?;
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime 15, rss 24.
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(ProcStat {
        pid,
        ppid: rest.get(1)?.parse().ok()?,
        utime_ticks: field(14)?,
        stime_ticks: field(15)?,
        rss_pages: field(24)?,
    })
}

/// The processes of the tree rooted at `root` among `all` (pure).
pub fn process_tree(root: i32, all: &[ProcStat]) -> Vec<ProcStat> {
    let mut children: HashMap<i32, Vec<&ProcStat>> = HashMap::new();
    for p in all {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out: Vec<ProcStat> = all.iter().filter(|p| p.pid == root).copied().collect();
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i].pid) {
            for k in kids {
                // A pid appears once in a snapshot, so the walk cannot loop; guard anyway.
                if k.pid != root && !out.iter().any(|o| o.pid == k.pid) {
                    out.push(**k);
                }
            }
        }
        i += 1;
    }
    out
}

/// Every process on the host, from `/proc` (processes that vanish while reading are skipped).
pub fn read_all_proc_stats() -> Result<Vec<ProcStat>> {
    let dir = fs::read_dir("/proc").map_err(|e| IsolatorError::io("read", "/proc", e))?;
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(text) = fs::read_to_string(entry.path().join("stat")) {
            if let Some(stat) = parse_proc_stat(&text) {
                out.push(stat);
            }
        }
    }
    Ok(out)
}

/// CPU times, resident memory and process count of `tree` (every process of a container),
/// stamped `timestamp` (pure apart from the two `sysconf` constants).
pub fn tree_statistics(tree: &[ProcStat], timestamp: f64) -> ResourceStatistics {
    let hz = clock_ticks_per_sec();
    ResourceStatistics {
        timestamp,
        cpus_user_time_secs: Some(tree.iter().map(|p| p.utime_ticks).sum::<u64>() as f64 / hz),
        cpus_system_time_secs: Some(tree.iter().map(|p| p.stime_ticks).sum::<u64>() as f64 / hz),
        mem_rss_bytes: Some(tree.iter().map(|p| p.rss_pages).sum::<u64>() * page_size()),
        processes: Some(tree.len() as u64),
        ..Default::default()
    }
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// Which half of the posix usage an isolator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PosixPart {
    Cpu,
    Mem,
}

#[derive(Debug, Clone, Copy, Default)]
struct PosixState {
    pid: Option<Pid>,
    limits: Limits,
}

/// `posix/cpu` and `posix/mem`.
#[derive(Debug)]
pub struct PosixIsolator {
    part: PosixPart,
    containers: Mutex<HashMap<ContainerId, PosixState>>,
}

impl PosixIsolator {
    /// `posix/cpu`: user and system time of the process tree.
    pub fn cpu() -> Self {
        PosixIsolator {
            part: PosixPart::Cpu,
            containers: Mutex::new(HashMap::new()),
        }
    }

    /// `posix/mem`: resident memory of the process tree.
    pub fn mem() -> Self {
        PosixIsolator {
            part: PosixPart::Mem,
            containers: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContainerId, PosixState>> {
        self.containers
            .lock()
            .expect("posix isolator mutex poisoned: a holder panicked")
    }

    /// Runs `f` on container `id`'s state, or fails if the container is unknown.
    fn with_state<R>(&self, id: &ContainerId, f: impl FnOnce(&mut PosixState) -> R) -> Result<R> {
        self.lock()
            .get_mut(id)
            .map(f)
            .ok_or_else(|| IsolatorError::UnknownContainer {
                id: id.to_string(),
                isolator: self.name(),
            })
    }

    fn state(&self, id: &ContainerId) -> Result<PosixState> {
        self.with_state(id, |state| *state)
    }
}

impl Isolator for PosixIsolator {
    fn name(&self) -> &'static str {
        match self.part {
            PosixPart::Cpu => "posix/cpu",
            PosixPart::Mem => "posix/mem",
        }
    }

    fn prepare(&self, config: &ContainerConfig) -> Result<LaunchPrep> {
        let mut map = self.lock();
        if map.contains_key(&config.id) {
            return Err(IsolatorError::AlreadyPrepared {
                id: config.id.to_string(),
                isolator: self.name(),
            });
        }
        map.insert(
            config.id.clone(),
            PosixState {
                pid: None,
                limits: config.limits,
            },
        );
        Ok(LaunchPrep::default())
    }

    fn isolate(&self, id: &ContainerId, pid: Pid) -> Result<()> {
        self.with_state(id, |state| state.pid = Some(pid))
    }

    fn recover(&self, config: &ContainerConfig, pid: Pid) -> Result<()> {
        self.prepare(config)?;
        self.isolate(&config.id, pid)
    }

    fn update(&self, id: &ContainerId, limits: &Limits) -> Result<()> {
        self.with_state(id, |state| state.limits = *limits)
    }

    fn usage(&self, id: &ContainerId, timestamp: f64) -> Result<ResourceStatistics> {
        let state = self.state(id)?;
        let mut stats = ResourceStatistics::at(timestamp);
        let Some(pid) = state.pid else {
            return Ok(stats);
        };
        let tree = process_tree(pid.as_raw(), &read_all_proc_stats()?);
        stats.processes = Some(tree.len() as u64);
        match self.part {
            PosixPart::Cpu => {
                let hz = clock_ticks_per_sec();
                stats.cpus_user_time_secs =
                    Some(tree.iter().map(|p| p.utime_ticks).sum::<u64>() as f64 / hz);
                stats.cpus_system_time_secs =
                    Some(tree.iter().map(|p| p.stime_ticks).sum::<u64>() as f64 / hz);
                stats.cpus_limit = state.limits.cpus;
            }
            PosixPart::Mem => {
                stats.mem_rss_bytes =
                    Some(tree.iter().map(|p| p.rss_pages).sum::<u64>() * page_size());
                stats.mem_limit_bytes = state.limits.mem_bytes;
            }
        }
        Ok(stats)
    }

    fn cleanup(&self, id: &ContainerId) -> Result<()> {
        self.lock().remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STAT: &str = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1 0 0 0 17 5 0 0 20 0 1 0 123 1000000 321 18446744073709551615";

    #[test]
    fn parses_stat_with_odd_names() {
        let s = parse_proc_stat(STAT).unwrap();
        assert_eq!(
            s,
            ProcStat {
                pid: 4242,
                ppid: 1,
                utime_ticks: 17,
                stime_ticks: 5,
                rss_pages: 321
            }
        );
        assert_eq!(parse_proc_stat("garbage"), None);
    }

    #[test]
    fn tree_collects_descendants_only() {
        let p = |pid, ppid| ProcStat {
            pid,
            ppid,
            utime_ticks: 0,
            stime_ticks: 0,
            rss_pages: 1,
        };
        let all = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 1), p(13, 10)];
        let mut pids: Vec<i32> = process_tree(10, &all).iter().map(|s| s.pid).collect();
        pids.sort();
        assert_eq!(pids, vec![10, 11, 12, 13]);
        assert!(process_tree(99, &all).is_empty());
    }

    #[test]
    fn usage_of_this_process_counts_it() {
        let iso = PosixIsolator::mem();
        let id = ContainerId::new("posix-self").unwrap();
        let config = ContainerConfig {
            id: id.clone(),
            sandbox: "/tmp".into(),
            limits: Limits {
                mem_bytes: Some(1 << 30),
                ..Default::default()
            },
            rootfs: None,
        };
        iso.prepare(&config).unwrap();
        iso.isolate(&id, nix::unistd::getpid()).unwrap();
        let u = iso.usage(&id, 1.0).unwrap();
        assert!(u.mem_rss_bytes.unwrap() > 0);
        assert_eq!(u.mem_limit_bytes, Some(1 << 30));
        assert!(u.processes.unwrap() >= 1);
        iso.cleanup(&id).unwrap();
        assert!(iso
            .usage(&id, 1.0)
            .unwrap_err()
            .to_string()
            .contains("not known"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn stat_parser_never_panics(s in "\\PC{0,120}") {
            let _ = parse_proc_stat(&s);
        }

        #[test]
        fn tree_is_closed_under_children(edges in proptest::collection::vec((2i32..40, 1i32..40), 0..40)) {
            let mut seen = std::collections::HashSet::new();
            let all: Vec<ProcStat> = edges.into_iter().filter(|(pid, _)| seen.insert(*pid))
                .map(|(pid, ppid)| ProcStat { pid, ppid, utime_ticks: 0, stime_ticks: 0, rss_pages: 0 }).collect();
            for root in 1..40 {
                let tree = process_tree(root, &all);
                for p in &all {
                    let parent_in = tree.iter().any(|t| t.pid == p.ppid);
                    prop_assert!(!parent_in || tree.iter().any(|t| t.pid == p.pid) || p.pid == root);
                }
            }
        }
    }
}
