//! The agent's side of sandbox garbage collection ([`crate::gc`]): when an executor ends,
//! its run directory is scheduled for `--gc-delay` later, and a completed run's checkpoint
//! directory under `meta/` when the run is marked completed (taken into the schedule at the
//! next disk watch, since that point has no context to read the clock from); a timer
//! fires when the earliest is due; every `--disk-watch-interval` the work dir's disk usage
//! (`statvfs`) brings due times forward. Due paths go to the deleter thread, never removed
//! on the agent's own thread.
//!
//! Invariant: the GC timer carries its generation; a stale one does nothing.

use std::path::PathBuf;
use std::time::Duration;

use libprocess::Context;
use slog::{info, warn};

use super::{Agent, AgentMessage};
use crate::gc::deleter::Deleter;
use crate::gc::{GcConfig, GcSchedule};

/// The schedule, the deleter and the timer's bookkeeping.
pub(crate) struct SandboxGc {
    schedule: GcSchedule,
    /// Paths to schedule at the next disk watch (marked while no clock was at hand).
    unscheduled: Vec<PathBuf>,
    deleter: Option<Deleter>,
    generation: u64,
    armed_for: Option<Duration>,
}

impl SandboxGc {
    /// Nothing scheduled; the deleter starts with the agent.
    pub(crate) fn new() -> Self {
        SandboxGc {
            schedule: GcSchedule::new(),
            unscheduled: Vec::new(),
            deleter: None,
            generation: 0,
            armed_for: None,
        }
    }

    /// Queues `path` for the schedule (see the module doc).
    pub(crate) fn collect_later(&mut self, path: PathBuf) {
        self.unscheduled.push(path);
    }
}

/// The fraction (0.0 to 1.0) of the disk holding `path` that is used.
fn disk_usage(path: &std::path::Path) -> Result<f64, String> {
    let stat = nix::sys::statvfs::statvfs(path).map_err(|e| e.to_string())?;
    let total = stat.blocks() as f64;
    if total <= 0.0 {
        return Ok(0.0);
    }
    Ok((total - stat.blocks_free() as f64) / total)
}

impl Agent {
    fn gc_config(&self) -> &GcConfig {
        &self.config.gc
    }

    /// Starts the deleter thread and the disk watch.
    pub(super) fn start_sandbox_gc(&mut self, ctx: &mut Context<Self>) {
        match Deleter::start(self.log.clone()) {
            Ok(deleter) => self.gc.deleter = Some(deleter),
            Err(e) => warn!(self.log, "sandbox garbage collection cannot start"; "error" => %e),
        }
        ctx.delay(
            self.gc_config().disk_watch_interval,
            AgentMessage::DiskWatch,
        );
    }

    /// Schedules the run directory `path` of an ended executor for removal.
    pub(super) fn collect_sandbox_later(&mut self, ctx: &mut Context<Self>, path: PathBuf) {
        let now = ctx.node().clock().now();
        let due = now.saturating_add(self.gc_config().gc_delay);
        self.gc.schedule.schedule(path, due);
        self.arm_gc_timer(ctx);
    }

    fn arm_gc_timer(&mut self, ctx: &mut Context<Self>) {
        let Some(next) = self.gc.schedule.next_due() else {
            return;
        };
        if self.gc.armed_for.is_some_and(|armed| armed <= next) {
            return;
        }
        self.gc.generation += 1;
        self.gc.armed_for = Some(next);
        let now = ctx.node().clock().now();
        ctx.delay(
            next.saturating_sub(now),
            AgentMessage::GcDue {
                generation: self.gc.generation,
            },
        );
    }

    /// Timer: hand what is due to the deleter.
    pub(super) fn gc_due(&mut self, ctx: &mut Context<Self>, generation: u64) {
        if generation != self.gc.generation {
            return;
        }
        self.gc.armed_for = None;
        let now = ctx.node().clock().now();
        let due = self.gc.schedule.due(now);
        self.delete(due);
        self.arm_gc_timer(ctx);
    }

    /// Timer: take in the queued paths, and bring due times forward by disk usage.
    pub(super) fn disk_watch(&mut self, ctx: &mut Context<Self>) {
        let now = ctx.node().clock().now();
        let delay = self.gc_config().gc_delay;
        for path in std::mem::take(&mut self.gc.unscheduled) {
            self.gc.schedule.schedule(path, now.saturating_add(delay));
        }
        match disk_usage(&self.config.work_dir) {
            Ok(usage) => {
                let ahead = self.gc_config().prune_ahead(usage);
                let pruned = self.gc.schedule.prune(now, ahead);
                if !pruned.is_empty() {
                    info!(self.log, "disk usage high: collecting sandboxes early";
                        "usage" => usage, "paths" => pruned.len());
                }
                self.delete(pruned);
            }
            Err(e) => {
                warn!(self.log, "disk usage unknown"; "path" => %self.config.work_dir.display(),
                "error" => e)
            }
        }
        self.arm_gc_timer(ctx);
        ctx.delay(
            self.gc_config().disk_watch_interval,
            AgentMessage::DiskWatch,
        );
    }

    fn delete(&mut self, paths: Vec<PathBuf>) {
        let Some(deleter) = &self.gc.deleter else {
            return;
        };
        for path in paths {
            deleter.delete(path);
        }
    }
}
