//! Garbage collection of finished executors' sandboxes, as Mesos's agent does it: each path
//! is scheduled for removal `--gc-delay` after its executor ended; every
//! `--disk-watch-interval` the work dir's disk usage shortens the wait, and every path due
//! within `gc_delay * max(0, 1 - gc_disk_headroom - usage)` goes at once (Mesos's
//! `Slave::_checkDiskUsage` and `GarbageCollector::prune`).
//!
//! [`GcSchedule`] is the pure core: what to delete when, given times and disk usage (time
//! comes in as values; no I/O, no clock). The agent's shell (`agent/sandbox_gc.rs`) arms the
//! timers and hands due paths to the [`deleter`], a thread of its own that removes them
//! one at a time and paced, off the launch path: removing thousands of inodes at once is
//! what slows ext4's inode allocation for the sandboxes of the next launches.
//!
//! Invariants: a path is scheduled at most once (scheduling it again moves it); a path is
//! handed out for deletion at most once; nothing is handed out before its time unless the
//! disk usage asks for it.

pub mod deleter;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

/// Mesos's `--gc_delay` default (1 week).
pub const DEFAULT_GC_DELAY: Duration = Duration::from_secs(7 * 24 * 3600);
/// Mesos's `--gc_disk_headroom` default.
pub const DEFAULT_DISK_HEADROOM: f64 = 0.1;
/// Mesos's `--disk_watch_interval` default (1 min).
pub const DEFAULT_DISK_WATCH_INTERVAL: Duration = Duration::from_secs(60);

/// The garbage collection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GcConfig {
    /// How long a finished sandbox is kept at most.
    pub gc_delay: Duration,
    /// Free-space target (0.0 to 1.0).
    pub disk_headroom: f64,
    /// How often disk usage is checked.
    pub disk_watch_interval: Duration,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            gc_delay: DEFAULT_GC_DELAY,
            disk_headroom: DEFAULT_DISK_HEADROOM,
            disk_watch_interval: DEFAULT_DISK_WATCH_INTERVAL,
        }
    }
}

impl GcConfig {
    /// How far ahead of schedule paths go when the disk is `usage` full (0.0 to 1.0):
    /// `gc_delay * max(0, 1 - headroom - usage)` is the oldest age kept, so everything due
    /// within `gc_delay` minus that goes now.
    pub fn prune_ahead(&self, usage: f64) -> Duration {
        let usage = if usage.is_finite() {
            usage.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let keep = (1.0 - self.disk_headroom - usage).max(0.0);
        self.gc_delay.saturating_sub(self.gc_delay.mul_f64(keep))
    }
}

/// Paths and the times (on the caller's monotonic clock) they are due for removal.
#[derive(Debug, Default)]
pub struct GcSchedule {
    by_time: BTreeSet<(Duration, PathBuf)>,
    by_path: HashMap<PathBuf, Duration>,
}

impl GcSchedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `path` for removal at `due` (moving it if it was scheduled).
    pub fn schedule(&mut self, path: PathBuf, due: Duration) {
        if let Some(old) = self.by_path.insert(path.clone(), due) {
            self.by_time.remove(&(old, path.clone()));
        }
        self.by_time.insert((due, path));
    }

    /// Takes `path` off the schedule (it is in use again); whether it was on it.
    pub fn unschedule(&mut self, path: &PathBuf) -> bool {
        match self.by_path.remove(path) {
            Some(due) => self.by_time.remove(&(due, path.clone())),
            None => false,
        }
    }

    /// How many paths wait.
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// When the next path is due.
    pub fn next_due(&self) -> Option<Duration> {
        self.by_time.first().map(|(due, _)| *due)
    }

    /// Takes every path due at or before `now`, earliest first.
    pub fn due(&mut self, now: Duration) -> Vec<PathBuf> {
        let mut out = Vec::new();
        while let Some((due, _)) = self.by_time.first() {
            if *due > now {
                break;
            }
            let (_, path) = self.by_time.pop_first().expect("invariant: first exists");
            self.by_path.remove(&path);
            out.push(path);
        }
        out
    }

    /// Takes every path due within `ahead` of `now` (the disk is filling up).
    pub fn prune(&mut self, now: Duration, ahead: Duration) -> Vec<PathBuf> {
        self.due(now.saturating_add(ahead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn paths_go_when_due_earliest_first() {
        let mut s = GcSchedule::new();
        s.schedule(p("b"), Duration::from_secs(20));
        s.schedule(p("a"), Duration::from_secs(10));
        assert_eq!(s.next_due(), Some(Duration::from_secs(10)));
        assert!(s.due(Duration::from_secs(9)).is_empty());
        assert_eq!(s.due(Duration::from_secs(25)), vec![p("a"), p("b")]);
        assert!(s.is_empty());
    }

    #[test]
    fn rescheduling_moves_and_unscheduling_keeps() {
        let mut s = GcSchedule::new();
        s.schedule(p("a"), Duration::from_secs(10));
        s.schedule(p("a"), Duration::from_secs(30));
        assert_eq!(s.len(), 1);
        assert!(s.due(Duration::from_secs(20)).is_empty());
        assert!(s.unschedule(&p("a")));
        assert!(s.due(Duration::from_secs(100)).is_empty());
    }

    #[test]
    fn disk_usage_shortens_the_delay_as_mesos() {
        let c = GcConfig {
            gc_delay: Duration::from_secs(100),
            disk_headroom: 0.1,
            disk_watch_interval: Duration::from_secs(1),
        };
        // 50% used: keep sandboxes up to 100 * (1 - 0.1 - 0.5) = 40 s old.
        assert_eq!(c.prune_ahead(0.5).as_secs(), 60);
        assert_eq!(c.prune_ahead(0.95), Duration::from_secs(100));
        assert_eq!(c.prune_ahead(0.0).as_secs(), 10);
        assert_eq!(c.prune_ahead(f64::NAN).as_secs(), 10);
        let mut s = GcSchedule::new();
        // Finished at 0 and at 50 (due at 100 and 150); at 70 with the disk 50% full, the
        // one older than 40 s goes.
        s.schedule(p("old"), Duration::from_secs(100));
        s.schedule(p("new"), Duration::from_secs(150));
        assert_eq!(
            s.prune(Duration::from_secs(70), c.prune_ahead(0.5)),
            vec![p("old")]
        );
    }

    proptest! {
        /// Whatever the operations: each path comes out at most once, never before its time
        /// (plus the prune allowance), and what stays is exactly what was not taken.
        #[test]
        fn each_path_once_never_early(
            ops in proptest::collection::vec((0u8..3, 0u8..8, 0u64..100), 1..60)
        ) {
            let mut s = GcSchedule::new();
            let mut model: HashMap<PathBuf, u64> = HashMap::new();
            let mut now = 0u64;
            for (op, path, t) in ops {
                let path = p(&path.to_string());
                match op {
                    0 => {
                        s.schedule(path.clone(), Duration::from_secs(now + t));
                        model.insert(path, now + t);
                    }
                    1 => {
                        now += t;
                        for taken in s.due(Duration::from_secs(now)) {
                            let due = model.remove(&taken);
                            prop_assert!(due.is_some_and(|d| d <= now), "{taken:?} early or twice");
                        }
                    }
                    _ => {
                        let ahead = t / 2;
                        for taken in s.prune(Duration::from_secs(now), Duration::from_secs(ahead)) {
                            let due = model.remove(&taken);
                            prop_assert!(due.is_some_and(|d| d <= now + ahead));
                        }
                    }
                }
                prop_assert_eq!(s.len(), model.len());
            }
        }
    }
}
