//! `eventually`: poll a check until it holds or a hang guard passes, then panic naming what
//! was awaited. The one polling helper of the kit, for threads and for async tests.
//!
//! A check returns anything [`Outcome`]: `bool`, `Option<T>` or `Result<T, E>` (whose
//! last error goes into the panic message). The guard only stops a stuck test: it is
//! never an assertion of speed, so tests use the generous [`HANG_GUARD`] unless a scenario
//! needs a longer one.
//!
//! ```
//! use meso_testkit::eventually::eventually;
//! let start = std::time::Instant::now();
//! let waited = eventually("a few milliseconds to pass", || {
//!     (start.elapsed().as_millis() >= 5).then_some(start.elapsed())
//! });
//! assert!(waited.as_millis() >= 5);
//! ```

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a wait may last before the test is declared hung.
pub const HANG_GUARD: Duration = Duration::from_secs(120);

/// Pause between two looks.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// What a check returned: done with a value, or not yet (with a note for the panic).
pub trait Outcome {
    /// The value a successful check yields.
    type Value;
    /// `Ok(value)` when the check holds, `Err(note)` otherwise.
    fn into_outcome(self) -> Result<Self::Value, Option<String>>;
}

impl Outcome for bool {
    type Value = ();
    fn into_outcome(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn into_outcome(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Value = T;
    fn into_outcome(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(format!("{e:?}")))
    }
}

fn hung(what: &str, guard: Duration, last: Option<String>) -> ! {
    match last {
        Some(note) => panic!("hang guard ({guard:?}): waited for {what}; last: {note}"),
        None => panic!("hang guard ({guard:?}): waited for {what}"),
    }
}

/// Polls `check` until it holds, within [`HANG_GUARD`]; returns its value.
pub fn eventually<O: Outcome>(what: &str, check: impl FnMut() -> O) -> O::Value {
    eventually_within(what, HANG_GUARD, check)
}

/// Polls `check` until it holds; panics naming `what` once `guard` has passed.
pub fn eventually_within<O: Outcome>(
    what: &str,
    guard: Duration,
    check: impl FnMut() -> O,
) -> O::Value {
    poll_within(guard, check).unwrap_or_else(|last| hung(what, guard, last))
}

/// Polls `check` until it holds (its value) or `guard` passes (the last note, if any):
/// for a caller that must clean up before it fails.
pub fn poll_within<O: Outcome>(
    guard: Duration,
    mut check: impl FnMut() -> O,
) -> Result<O::Value, Option<String>> {
    let start = Instant::now();
    loop {
        let last = match check().into_outcome() {
            Ok(value) => return Ok(value),
            Err(note) => note,
        };
        if start.elapsed() >= guard {
            return Err(last);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// [`eventually`] for async checks, sleeping on the tokio timer between looks.
pub async fn eventually_async<O, F>(what: &str, check: impl FnMut() -> F) -> O::Value
where
    O: Outcome,
    F: Future<Output = O>,
{
    eventually_async_within(what, HANG_GUARD, check).await
}

/// [`eventually_within`] for async checks.
pub async fn eventually_async_within<O, F>(
    what: &str,
    guard: Duration,
    mut check: impl FnMut() -> F,
) -> O::Value
where
    O: Outcome,
    F: Future<Output = O>,
{
    let start = Instant::now();
    loop {
        let last = match check().await.into_outcome() {
            Ok(value) => return value,
            Err(note) => note,
        };
        if start.elapsed() >= guard {
            hung(what, guard, last);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The next value from `rx`, within [`HANG_GUARD`]; panics naming `what` when none comes or
/// the channel closes.
pub async fn next<T>(rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(HANG_GUARD, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("hang guard: no {what}"))
        .unwrap_or_else(|| panic!("channel closed waiting for {what}"))
}

/// The first value from `rx` that `pick` maps to `Some` (skipping others), within the hang
/// guard for the whole wait.
pub async fn next_matching<T, R>(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>,
    what: &str,
    mut pick: impl FnMut(&T) -> Option<R>,
) -> R {
    receive_until(rx, what, |value| pick(&value)).await
}

/// The first value from `rx` that `want` accepts (skipping others), within the hang guard
/// for the whole wait.
pub async fn next_where<T>(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>,
    what: &str,
    mut want: impl FnMut(&T) -> bool,
) -> T {
    receive_until(rx, what, |value| want(&value).then_some(value)).await
}

async fn receive_until<T, R>(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>,
    what: &str,
    mut step: impl FnMut(T) -> Option<R>,
) -> R {
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            let value = rx
                .recv()
                .await
                .unwrap_or_else(|| panic!("channel closed waiting for {what}"));
            if let Some(r) = step(value) {
                return r;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("hang guard: no {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_names_what_was_awaited() {
        let panic = std::panic::catch_unwind(|| {
            eventually_within("the answer", Duration::from_millis(30), || {
                Err::<(), _>("still 41")
            })
        })
        .expect_err("a check that never holds panics");
        let message = panic
            .downcast_ref::<String>()
            .expect("a formatted message")
            .clone();
        assert!(message.contains("the answer"), "{message}");
        assert!(message.contains("still 41"), "{message}");
    }

    #[test]
    fn a_check_that_holds_yields_its_value() {
        let mut looks = 0;
        let value = eventually("the third look", || {
            looks += 1;
            (looks == 3).then_some(looks)
        });
        assert_eq!(value, 3);
    }
}
