//! The shell around the cores: each check runs on its own small thread, sleeping until the
//! core says the next check is due, probing, and handing what the core decided to the
//! executor's callback, which returns `false` to stop the checking (the task ended, or the
//! executor is going away). This runs in an executor process, outside any libprocess node,
//! so it reads the monotonic clock itself; the decisions stay in the pure cores.

use std::time::{Duration, Instant};

use meso_api::v1::{CheckInfo, CheckStatusInfo, HealthCheck};

use crate::general::CheckCore;
use crate::health::{HealthCore, HealthPolicy, Verdict};
use crate::probe::{self, Context, Outcome, Target};

/// Stack of a checking thread: a probe needs little.
const STACK: usize = 128 * 1024;

fn sleep_until(origin: Instant, due: Duration) {
    if let Some(wait) = due.checked_sub(origin.elapsed()) {
        std::thread::sleep(wait);
    }
}

/// Starts checking `check` now: `report` gets the verdict and the probe's outcome of every
/// check, [`Verdict::Quiet`] included. Errors when the check has no runnable target or no
/// thread can be started.
pub fn spawn_health(
    check: &HealthCheck,
    context: Context,
    mut report: impl FnMut(Verdict, &Outcome) -> bool + Send + 'static,
) -> Result<(), String> {
    let target = Target::of_health_check(check)
        .ok_or_else(|| "the health check has no runnable command, http or tcp part".to_string())?;
    let policy = HealthPolicy::of(check);
    std::thread::Builder::new()
        .name("health".into())
        .stack_size(STACK)
        .spawn(move || {
            let origin = Instant::now();
            let mut core = HealthCore::new(policy, Duration::ZERO);
            loop {
                sleep_until(origin, core.next_check_at());
                let outcome = probe::run(&target, &context, policy.timeout);
                let verdict = core.record(origin.elapsed(), outcome.passed());
                if !report(verdict, &outcome) {
                    return;
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the health check thread: {e}"))
}

/// Starts the general check `check` now: `report` gets each result that differs from the
/// last one reported.
pub fn spawn_check(
    check: &CheckInfo,
    context: Context,
    mut report: impl FnMut(CheckStatusInfo) -> bool + Send + 'static,
) -> Result<(), String> {
    let target = Target::of_check(check)
        .ok_or_else(|| "the check has no runnable command, http or tcp part".to_string())?;
    let mut core = CheckCore::new(check, Duration::ZERO)
        .ok_or_else(|| "the check has no known type".to_string())?;
    std::thread::Builder::new()
        .name("check".into())
        .stack_size(STACK)
        .spawn(move || {
            let origin = Instant::now();
            loop {
                sleep_until(origin, core.next_check_at());
                let outcome = probe::run(&target, &context, core.timeout());
                if let Some(changed) =
                    core.record(origin.elapsed(), outcome.check_status(core.kind()))
                {
                    if !report(changed) {
                        return;
                    }
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the check thread: {e}"))
}
