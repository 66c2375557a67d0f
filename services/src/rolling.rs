//! The deployment planner's arithmetic: how many old instances a rolling replacement may
//! kill and how many new ones it may start at this moment (Marathon's
//! `TaskReplaceActor`), which instances a scale-down kills, and the launch backoff.
//!
//! The step is a pure function of the instances as they are now, so it is re-run after
//! every status update, offer round and API change and after a failover, and never needs
//! to remember what it did before: instances it chose to kill are no longer counted as
//! serving (they are already going).

use serde::{Deserialize, Serialize};

use crate::app::{KillSelection, UpgradeStrategy};

/// The bounds of a rollout to `n` instances: `(min_healthy, max_capacity)`.
pub fn bounds(n: usize, strategy: UpgradeStrategy, healthy_now: usize) -> (usize, usize) {
    let min_healthy = ((n as f64) * strategy.minimum_health_capacity - 1e-9)
        .ceil()
        .max(0.0) as usize;
    let mut max_capacity =
        ((n as f64) * (1.0 + strategy.maximum_over_capacity) + 1e-9).floor() as usize;
    if min_healthy == max_capacity && healthy_now >= min_healthy {
        // One instance of over-capacity, so the rollout can start at all.
        max_capacity += 1;
    }
    (min_healthy, max_capacity.max(min_healthy))
}

/// An instance as the rollout sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Serving (running, and healthy when the app has checks).
    pub healthy: bool,
    /// When it started (for the kill order), ms.
    pub started_ms: u64,
}

/// What to do now in a rollout: indices into the `old` list to kill, and how many new
/// instances to add.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// Old instances to kill (indices into `old`).
    pub kill_old: Vec<usize>,
    /// New instances to create.
    pub launch: usize,
}

/// One step of replacing `old` (instances of a previous version that are not being killed
/// yet) by `n` new ones, `new` being the new-version instances that exist (launched or
/// waiting) and `going` the instances already being killed (alive until terminal).
///
/// Kills `healthy now - min_healthy` old instances (unhealthy ones first), and old ones
/// beyond `n`; launches while `old alive + new < max_capacity` and `new < n`.
pub fn step(
    n: usize,
    strategy: UpgradeStrategy,
    old: &[Member],
    new: &[Member],
    going: usize,
) -> Step {
    let healthy_old = old.iter().filter(|m| m.healthy).count();
    let healthy_new = new.iter().filter(|m| m.healthy).count();
    let healthy_now = healthy_old + healthy_new;
    let (min_healthy, max_capacity) = bounds(n, strategy, healthy_now);
    // Unhealthy old instances first, then the longest running.
    let mut order: Vec<usize> = (0..old.len()).collect();
    order.sort_by_key(|&i| (old[i].healthy, old[i].started_ms));
    let budget = healthy_now.saturating_sub(min_healthy);
    let surplus = old.len().saturating_sub(n);
    let mut kill: Vec<usize> = order.iter().copied().take(budget.max(surplus)).collect();
    // Never below min_healthy through this step's own kills (a surplus of healthy old
    // instances above `n` leaves at least `n >= min_healthy` of them).
    let mut healthy = healthy_now;
    kill.retain(|&i| {
        if !old[i].healthy {
            return true;
        }
        if healthy > min_healthy {
            healthy -= 1;
            true
        } else {
            false
        }
    });
    // The instances killed now stay alive (holding capacity) until they are terminal.
    let alive = old.len() + new.len() + going;
    let launch = n
        .saturating_sub(new.len())
        .min(max_capacity.saturating_sub(alive));
    kill.sort_unstable();
    Step {
        kill_old: kill,
        launch,
    }
}

/// The `k` instances a scale-down kills first: not serving before serving, then by
/// `selection` on start time.
pub fn scale_down(members: &[Member], k: usize, selection: KillSelection) -> Vec<usize> {
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| {
        let m = members[i];
        let age_key = match selection {
            KillSelection::YoungestFirst => u64::MAX - m.started_ms,
            KillSelection::OldestFirst => m.started_ms,
        };
        (m.healthy, age_key)
    });
    order.truncate(k);
    order
}

/// An app's launch delay after failures (Marathon's `RateLimiter`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Backoff {
    /// The current delay (0: none), ms.
    pub delay_ms: u64,
    /// No launch before this time, ms since the epoch.
    pub until_ms: u64,
    /// The last failure, ms.
    pub last_failure_ms: u64,
}

impl Backoff {
    /// A task failed at `now_ms`: the next launch waits `backoff_seconds`, then each
    /// further failure multiplies the wait by `factor`, capped at `max_seconds`. A delay
    /// without a failure for `max_seconds` starts over.
    pub fn failed(&mut self, now_ms: u64, backoff_seconds: f64, factor: f64, max_seconds: f64) {
        let max_ms = (max_seconds * 1000.0) as u64;
        if self.delay_ms > 0 && now_ms.saturating_sub(self.last_failure_ms) > max_ms {
            self.delay_ms = 0;
        }
        self.delay_ms = if self.delay_ms == 0 {
            (backoff_seconds * 1000.0) as u64
        } else {
            ((self.delay_ms as f64) * factor) as u64
        }
        .min(max_ms);
        self.last_failure_ms = now_ms;
        self.until_ms = now_ms + self.delay_ms;
    }

    /// Forgets the delay (new config, or `DELETE /v2/queue/{id}/delay`).
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }

    /// Whether a launch may happen at `now_ms`.
    pub fn ready(&self, now_ms: u64) -> bool {
        now_ms >= self.until_ms
    }

    /// Seconds left before the next launch may happen.
    pub fn time_left_seconds(&self, now_ms: u64) -> f64 {
        self.until_ms.saturating_sub(now_ms) as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests;
