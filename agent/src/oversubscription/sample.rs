//! What the machine and its containers look like: the cumulative counters one reading gives
//! ([`RawSample`]) and the figures over the window between two readings ([`Sample`]),
//! derived by [`Sample::between`] without a clock: the window's length comes from the
//! kernel's own CPU time accounting (`/proc/stat` jiffies).

/// Cumulative host counters and instantaneous host figures from one reading.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawHost {
    /// Online cores.
    pub cores: u32,
    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
    pub ticks_per_sec: u64,
    /// Jiffies over all cores, busy or not, since boot.
    pub total_jiffies: u64,
    /// Jiffies over all cores spent idle or waiting for I/O, since boot.
    pub idle_jiffies: u64,
    /// Runnable tasks now (`procs_running`).
    pub runnable: u32,
    /// Load averages over 1, 5 and 15 minutes.
    pub load: [f64; 3],
    /// `MemTotal`, bytes.
    pub mem_total_bytes: u64,
    /// `MemAvailable`, bytes.
    pub mem_available_bytes: u64,
    /// `/proc/pressure/cpu` `some avg10` (percent), when the kernel has PSI.
    pub cpu_pressure: Option<f64>,
    /// `/proc/pressure/memory` `some avg10` (percent), when the kernel has PSI.
    pub mem_pressure: Option<f64>,
}

/// One container's counters from one reading, with what the agent knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawContainer {
    /// The container id.
    pub container_id: String,
    /// Any of its executor's or tasks' resources is revocable.
    pub revocable: bool,
    /// Launch order on this agent (higher is newer; recovered containers are 0).
    pub launch_seq: u64,
    /// Cpus allocated to it (executor and unfinished tasks).
    pub allocated_cpus: f64,
    /// Mem allocated to it, MB.
    pub allocated_mem_mb: f64,
    /// CPU time used since it started, seconds (user + system), if readable.
    pub cpu_secs: Option<f64>,
    /// Resident memory now, bytes, if readable.
    pub rss_bytes: Option<u64>,
    /// CFS periods it was throttled in since it started, if it has a CFS quota.
    pub throttled_periods: Option<u64>,
}

/// One reading of the machine and its containers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawSample {
    /// The host.
    pub host: RawHost,
    /// The agent's containers.
    pub containers: Vec<RawContainer>,
}

/// One container over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerWindow {
    /// The container id.
    pub container_id: String,
    /// Revocable (see [`RawContainer::revocable`]).
    pub revocable: bool,
    /// Launch order (higher is newer).
    pub launch_seq: u64,
    /// Cpus allocated.
    pub allocated_cpus: f64,
    /// Mem allocated, MB.
    pub allocated_mem_mb: f64,
    /// Cores it used on average over the window (0 when unknown or new).
    pub cpus_used: f64,
    /// Resident memory, MB (0 when unknown).
    pub mem_used_mb: f64,
    /// Share of the window's CFS periods it was throttled in (0..=1; 0 when unknown).
    pub throttled_fraction: f64,
}

/// The machine over the window between two readings.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Length of the window, seconds.
    pub window_secs: f64,
    /// Cores of the machine.
    pub cores: f64,
    /// Cores busy on average over the window (every process, the agent's tasks included).
    pub cpus_busy: f64,
    /// Runnable tasks at the end of the window.
    pub runnable: u32,
    /// Load averages (1, 5, 15 minutes).
    pub load: [f64; 3],
    /// Memory of the machine, MB.
    pub mem_total_mb: f64,
    /// Memory available, MB.
    pub mem_available_mb: f64,
    /// CPU pressure (`some avg10`, percent), if the kernel reports it.
    pub cpu_pressure: Option<f64>,
    /// Memory pressure (`some avg10`, percent), if the kernel reports it.
    pub mem_pressure: Option<f64>,
    /// The agent's containers.
    pub containers: Vec<ContainerWindow>,
}

/// The kernel's CFS period (100 ms): periods per second.
const CFS_PERIODS_PER_SEC: f64 = 10.0;

const MB: f64 = 1024.0 * 1024.0;

impl Sample {
    /// The window from `before` to `after`, or `None` when no CPU time passed between them
    /// (or the counters went backwards: a reading from another boot).
    pub fn between(before: &RawSample, after: &RawSample) -> Option<Sample> {
        let (b, a) = (&before.host, &after.host);
        let total = a.total_jiffies.checked_sub(b.total_jiffies)?;
        let idle = a.idle_jiffies.checked_sub(b.idle_jiffies)?;
        if total == 0 || a.cores == 0 || a.ticks_per_sec == 0 {
            return None;
        }
        let cores = f64::from(a.cores);
        let busy_fraction = (total.saturating_sub(idle)) as f64 / total as f64;
        // Each core adds `ticks_per_sec` jiffies a second.
        let window_secs = total as f64 / cores / a.ticks_per_sec as f64;
        let containers = after
            .containers
            .iter()
            .map(|c| {
                let prior = before
                    .containers
                    .iter()
                    .find(|p| p.container_id == c.container_id);
                let cpus_used = match (prior.and_then(|p| p.cpu_secs), c.cpu_secs) {
                    (Some(p), Some(n)) if n >= p => ((n - p) / window_secs).clamp(0.0, cores),
                    _ => 0.0,
                };
                let throttled_fraction =
                    match (prior.and_then(|p| p.throttled_periods), c.throttled_periods) {
                        (Some(p), Some(n)) if n >= p => {
                            ((n - p) as f64 / (window_secs * CFS_PERIODS_PER_SEC)).clamp(0.0, 1.0)
                        }
                        _ => 0.0,
                    };
                ContainerWindow {
                    container_id: c.container_id.clone(),
                    revocable: c.revocable,
                    launch_seq: c.launch_seq,
                    allocated_cpus: c.allocated_cpus,
                    allocated_mem_mb: c.allocated_mem_mb,
                    cpus_used,
                    mem_used_mb: c.rss_bytes.map_or(0.0, |r| r as f64 / MB),
                    throttled_fraction,
                }
            })
            .collect();
        Some(Sample {
            window_secs,
            cores,
            cpus_busy: (busy_fraction * cores).clamp(0.0, cores),
            runnable: a.runnable,
            load: a.load,
            mem_total_mb: a.mem_total_bytes as f64 / MB,
            mem_available_mb: (a.mem_available_bytes.min(a.mem_total_bytes)) as f64 / MB,
            cpu_pressure: a.cpu_pressure,
            mem_pressure: a.mem_pressure,
            containers,
        })
    }

    /// Cores the revocable containers used.
    pub fn revocable_cpus_used(&self) -> f64 {
        self.containers
            .iter()
            .filter(|c| c.revocable)
            .map(|c| c.cpus_used)
            .sum()
    }

    /// Memory the revocable containers hold, MB.
    pub fn revocable_mem_used_mb(&self) -> f64 {
        self.containers
            .iter()
            .filter(|c| c.revocable)
            .map(|c| c.mem_used_mb)
            .sum()
    }

    /// Cores the machine's own work used: everything but the revocable containers (the
    /// host's processes and the non-revocable tasks), within `0..=cores`.
    pub fn business_cpus(&self) -> f64 {
        (self.cpus_busy - self.revocable_cpus_used()).clamp(0.0, self.cores)
    }

    /// Memory the machine's own work holds, MB, within `0..=mem_total_mb`.
    pub fn business_mem_mb(&self) -> f64 {
        (self.mem_total_mb - self.mem_available_mb - self.revocable_mem_used_mb())
            .clamp(0.0, self.mem_total_mb)
    }

    /// Cpus and mem (MB) allocated to revocable containers.
    pub fn revocable_allocated(&self) -> (f64, f64) {
        self.revocable_allocated_except(&[])
    }

    /// Cpus and mem (MB) allocated to revocable containers other than those in `leaving`.
    pub fn revocable_allocated_except(&self, leaving: &[String]) -> (f64, f64) {
        self.containers
            .iter()
            .filter(|c| c.revocable && !leaving.contains(&c.container_id))
            .fold((0.0, 0.0), |(c, m), w| {
                (c + w.allocated_cpus, m + w.allocated_mem_mb)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(total: u64, idle: u64) -> RawHost {
        RawHost {
            cores: 2,
            ticks_per_sec: 100,
            total_jiffies: total,
            idle_jiffies: idle,
            mem_total_bytes: 4096 * 1024 * 1024,
            mem_available_bytes: 3072 * 1024 * 1024,
            ..RawHost::default()
        }
    }

    fn container(id: &str, revocable: bool, cpu_secs: f64) -> RawContainer {
        RawContainer {
            container_id: id.into(),
            revocable,
            launch_seq: 1,
            allocated_cpus: 1.0,
            allocated_mem_mb: 128.0,
            cpu_secs: Some(cpu_secs),
            rss_bytes: Some(64 * 1024 * 1024),
            throttled_periods: Some(0),
        }
    }

    #[test]
    fn a_window_measures_busy_cores_and_each_containers_share() {
        // One second on two cores: 200 jiffies, 50 idle: 1.5 cores busy.
        let before = RawSample {
            host: host(1000, 500),
            containers: vec![container("r", true, 10.0), container("n", false, 3.0)],
        };
        let after = RawSample {
            host: host(1200, 550),
            containers: vec![container("r", true, 10.5), container("n", false, 3.25)],
        };
        let s = Sample::between(&before, &after).unwrap();
        assert!((s.window_secs - 1.0).abs() < 1e-9);
        assert!((s.cpus_busy - 1.5).abs() < 1e-9);
        assert!((s.revocable_cpus_used() - 0.5).abs() < 1e-9);
        assert!((s.business_cpus() - 1.0).abs() < 1e-9);
        assert!((s.business_mem_mb() - (1024.0 - 64.0)).abs() < 1e-9);
        assert_eq!(s.revocable_allocated(), (1.0, 128.0));
    }

    #[test]
    fn no_window_without_cpu_time_or_across_boots() {
        let a = RawSample {
            host: host(1000, 500),
            containers: vec![],
        };
        assert!(Sample::between(&a, &a).is_none());
        let earlier = RawSample {
            host: host(900, 400),
            containers: vec![],
        };
        assert!(Sample::between(&a, &earlier).is_none());
    }

    #[test]
    fn a_new_container_counts_nothing_until_its_second_reading() {
        let before = RawSample {
            host: host(1000, 500),
            containers: vec![],
        };
        let after = RawSample {
            host: host(1200, 500),
            containers: vec![container("r", true, 100.0)],
        };
        let s = Sample::between(&before, &after).unwrap();
        assert_eq!(s.containers[0].cpus_used, 0.0);
        assert_eq!(s.business_cpus(), 2.0);
    }
}
