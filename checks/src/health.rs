//! The health check's decisions, as Mesos's health checker makes them.
//!
//! The first check runs `delay_seconds` after the checker starts, each next one
//! `interval_seconds` after the previous one ended. A failure while the task has never
//! passed and the checker is within `grace_period_seconds` of its start is ignored. Every
//! other failure counts; each counted failure is reported unhealthy, and from the
//! `consecutive_failures`-th in a row on it also asks for the task to be killed. A pass is
//! reported healthy the first time and after failures, and resets the count.
//!
//! Time is a `Duration` since an origin the caller picks (the runner uses the checker's
//! start); nothing here reads a clock.

use std::time::Duration;

use meso_api::v1::HealthCheck;

/// The timings and threshold of a health check, as durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Before the first check.
    pub delay: Duration,
    /// Between the end of a check and the start of the next.
    pub interval: Duration,
    /// How long one check may take before it counts as failed.
    pub timeout: Duration,
    /// After the checker's start, while the task has never passed: failures are ignored.
    pub grace: Duration,
    /// Counted failures in a row that get the task killed (at least 1).
    pub consecutive_failures: u32,
}

/// Seconds as a duration; negative, NaN or huge values (refused by the master's validation)
/// are clamped rather than trusted.
pub fn seconds(value: f64) -> Duration {
    if value.is_nan() || value <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(value).unwrap_or(Duration::from_secs(u32::MAX as u64))
    }
}

impl HealthPolicy {
    /// The policy of `check` (Mesos's defaults are already in the parsed check).
    pub fn of(check: &HealthCheck) -> Self {
        HealthPolicy {
            delay: seconds(check.delay_seconds),
            interval: seconds(check.interval_seconds),
            timeout: seconds(check.timeout_seconds),
            grace: seconds(check.grace_period_seconds),
            consecutive_failures: check.consecutive_failures.max(1),
        }
    }
}

/// What a check's result means for the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to report (a pass while healthy, or a failure within the grace period).
    Quiet,
    /// Report the task healthy.
    Healthy,
    /// Report the task unhealthy; `kill` once the failures reach the threshold.
    Unhealthy {
        /// Counted failures in a row so far.
        consecutive_failures: u32,
        /// The task is past its consecutive failures: kill it.
        kill: bool,
    },
}

/// One task's health check state.
#[derive(Debug, Clone)]
pub struct HealthCore {
    policy: HealthPolicy,
    started: Duration,
    /// The task has not passed a check yet.
    initializing: bool,
    failures: u32,
    next_at: Duration,
}

impl HealthCore {
    /// A checker started at `now`: its first check is due after the delay.
    pub fn new(policy: HealthPolicy, now: Duration) -> Self {
        HealthCore {
            policy,
            started: now,
            initializing: true,
            failures: 0,
            next_at: now.saturating_add(policy.delay),
        }
    }

    /// The policy.
    pub fn policy(&self) -> HealthPolicy {
        self.policy
    }

    /// When the next check is due.
    pub fn next_check_at(&self) -> Duration {
        self.next_at
    }

    /// Counted failures in a row.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    /// Records a check that ended at `now` (`passed` false for a failure or a timeout),
    /// schedules the next one and says what to report.
    pub fn record(&mut self, now: Duration, passed: bool) -> Verdict {
        self.next_at = now.saturating_add(self.policy.interval);
        if passed {
            let report = self.initializing || self.failures > 0;
            self.initializing = false;
            self.failures = 0;
            return if report {
                Verdict::Healthy
            } else {
                Verdict::Quiet
            };
        }
        let in_grace = self.initializing
            && !self.policy.grace.is_zero()
            && now.saturating_sub(self.started) <= self.policy.grace;
        if in_grace {
            return Verdict::Quiet;
        }
        self.failures = self.failures.saturating_add(1);
        Verdict::Unhealthy {
            consecutive_failures: self.failures,
            kill: self.failures >= self.policy.consecutive_failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(grace: u64, consecutive: u32) -> HealthPolicy {
        HealthPolicy {
            delay: Duration::from_secs(1),
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            grace: Duration::from_secs(grace),
            consecutive_failures: consecutive,
        }
    }

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn first_check_after_the_delay_then_each_interval_after_the_last() {
        let mut core = HealthCore::new(policy(0, 3), s(10));
        assert_eq!(core.next_check_at(), s(11));
        core.record(s(12), true);
        assert_eq!(core.next_check_at(), s(14));
    }

    #[test]
    fn healthy_is_reported_first_and_after_failures_only() {
        let mut core = HealthCore::new(policy(0, 3), s(0));
        assert_eq!(core.record(s(1), true), Verdict::Healthy);
        assert_eq!(core.record(s(3), true), Verdict::Quiet);
        assert_eq!(
            core.record(s(5), false),
            Verdict::Unhealthy {
                consecutive_failures: 1,
                kill: false
            }
        );
        assert_eq!(core.record(s(7), true), Verdict::Healthy);
        assert_eq!(core.consecutive_failures(), 0);
    }

    #[test]
    fn failures_in_the_grace_period_do_not_count_until_the_first_pass() {
        let mut core = HealthCore::new(policy(10, 1), s(0));
        assert_eq!(core.record(s(1), false), Verdict::Quiet);
        assert_eq!(core.record(s(10), false), Verdict::Quiet);
        assert_eq!(
            core.record(s(11), false),
            Verdict::Unhealthy {
                consecutive_failures: 1,
                kill: true
            }
        );
        // After a pass the grace period is over even if time is still within it.
        let mut core = HealthCore::new(policy(10, 2), s(0));
        assert_eq!(core.record(s(1), true), Verdict::Healthy);
        assert_eq!(
            core.record(s(2), false),
            Verdict::Unhealthy {
                consecutive_failures: 1,
                kill: false
            }
        );
    }

    #[test]
    fn the_task_is_killed_at_the_consecutive_failures() {
        let mut core = HealthCore::new(policy(0, 3), s(0));
        let verdicts: Vec<_> = (1..=4).map(|t| core.record(s(t), false)).collect();
        assert_eq!(
            verdicts,
            (1..=4)
                .map(|n| Verdict::Unhealthy {
                    consecutive_failures: n,
                    kill: n >= 3
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn policy_is_read_from_a_check_and_clamped() {
        let mut check = HealthCheck::command(meso_api::v1::CommandInfo::shell("true"));
        check.delay_seconds = -1.0;
        check.interval_seconds = 0.5;
        check.consecutive_failures = 0;
        let p = HealthPolicy::of(&check);
        assert_eq!(p.delay, Duration::ZERO);
        assert_eq!(p.interval, Duration::from_millis(500));
        assert_eq!(p.grace, s(10));
        assert_eq!(p.consecutive_failures, 1);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(1e300), Duration::from_secs(u32::MAX as u64));
    }

    proptest! {
        /// Against a model: a kill is asked exactly when the failures since the last pass,
        /// not counting the ignored ones, reach the threshold; checks are never scheduled
        /// before the last result.
        #[test]
        fn verdicts_follow_the_model(
            grace in 0u64..20,
            consecutive in 1u32..5,
            results in proptest::collection::vec((1u64..5, any::<bool>()), 0..40),
        ) {
            let mut core = HealthCore::new(policy(grace, consecutive), s(0));
            let (mut now, mut passed_once, mut counted) = (0u64, false, 0u32);
            for (step, passed) in results {
                now += step;
                let verdict = core.record(s(now), passed);
                prop_assert!(core.next_check_at() >= s(now));
                if passed {
                    let expect = if !passed_once || counted > 0 { Verdict::Healthy } else { Verdict::Quiet };
                    prop_assert_eq!(verdict, expect);
                    passed_once = true;
                    counted = 0;
                } else if !passed_once && grace > 0 && now <= grace {
                    prop_assert_eq!(verdict, Verdict::Quiet);
                } else {
                    counted += 1;
                    prop_assert_eq!(verdict, Verdict::Unhealthy { consecutive_failures: counted, kill: counted >= consecutive });
                }
            }
        }
    }
}
