//! Time behind an interface: the real clock, and a test clock that can pause, advance and settle.
//!
//! Every timer in the runtime (`delay`, `ask` timeouts) sleeps on the node's [`Clock`], never on
//! tokio's global time, so a test can freeze time and move it by hand across several nodes
//! that share one [`TestClock`]. Wall-clock time (seconds since the Unix epoch, for timestamps
//! that leave the process) comes from the same clock ([`Clock::wall_time`]), so a paused test
//! clock freezes it too. Invariants of the test clock: time never goes backwards; its wall time
//! is its fixed wall epoch plus its own time, so both move together; a timer stays registered
//! until its sleep future is dropped, so a timer that fired but whose message is not yet
//! delivered still counts as "due" for [`TestClock::settle`].
//!
//! This module and `seams.rs` are the only places in the actor crates that read the system's
//! clocks or entropy directly (the tidy test `tests/seams_tidy.rs` holds the others to that).

use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

/// A source of time and timers for a node. `now` is the time since the clock's own epoch.
pub trait Clock: Send + Sync + 'static {
    /// Time elapsed since this clock's epoch.
    fn now(&self) -> Duration;
    /// A future that completes once `now() >= deadline`.
    fn sleep_until(&self, deadline: Duration) -> BoxFuture<'static, ()>;
    /// Wall-clock time: what timestamps shown to users and written to disk are made of.
    fn wall_time(&self) -> SystemTime;
    /// The test clock behind this clock, if it is one (used by nodes to register for settle).
    fn as_test_clock(&self) -> Option<TestClock> {
        None
    }
}

/// Seconds since the Unix epoch (0 for a time before it), the form timestamps take on the wire.
pub fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Milliseconds since the Unix epoch (0 for a time before it; saturates far in the future).
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Real time, from tokio's timer.
#[derive(Debug, Clone)]
pub struct SystemClock {
    epoch: tokio::time::Instant,
}

impl SystemClock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        SystemClock {
            epoch: tokio::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
    fn sleep_until(&self, deadline: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(self.epoch + deadline))
    }
    /// The system's wall clock (it may jump when the host's time is set).
    fn wall_time(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Something a test clock can ask whether it is quiet (a node: no message queued or running).
pub(crate) trait Quiescence: Send + Sync {
    /// True when no message is queued, being handled, or in flight from this node.
    fn is_quiet(&self) -> bool;
}

/// A clock for tests: runs in real time until [`pause`](TestClock::pause)d, then moves only
/// by [`advance`](TestClock::advance). Cloning shares the clock; give one to several nodes to
/// make them share time and settle together.
#[derive(Clone)]
pub struct TestClock(Arc<TestClockInner>);

struct TestClockInner {
    /// Wall-clock time at clock time zero.
    wall_epoch: SystemTime,
    state: Mutex<TestState>,
    nodes: Mutex<Vec<(SocketAddr, Weak<dyn Quiescence>)>>,
    /// Frames sent between nodes of this clock and not yet handled by the receiver, by the
    /// receiving node's address. Only counts for live nodes matter to `settle`: a frame to a
    /// node that has shut down can never be handled, and a node that starts again on the same
    /// address starts from zero.
    remote_in_flight: Mutex<HashMap<SocketAddr, i64>>,
}

struct TestState {
    paused: bool,
    /// Clock time at the moment of the last pause/resume/advance.
    base: Duration,
    /// Real instant matching `base` while running.
    base_real: Instant,
    next_seq: u64,
    timers: BTreeMap<(Duration, u64), Option<Waker>>,
}

impl TestState {
    fn now(&self) -> Duration {
        if self.paused {
            self.base
        } else {
            self.base + self.base_real.elapsed()
        }
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

impl TestClock {
    /// A running test clock at time zero, whose wall time starts at the system's wall time.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A running test clock at time zero whose wall time starts at `wall_epoch` (a test or
    /// simulation that must not depend on the host's date).
    pub fn starting_at(wall_epoch: SystemTime) -> Self {
        TestClock(Arc::new(TestClockInner {
            wall_epoch,
            state: Mutex::new(TestState {
                paused: false,
                base: Duration::ZERO,
                base_real: Instant::now(),
                next_seq: 0,
                timers: BTreeMap::new(),
            }),
            nodes: Mutex::new(Vec::new()),
            remote_in_flight: Mutex::new(HashMap::new()),
        }))
    }

    /// A test clock that starts paused at time zero.
    pub fn paused() -> Self {
        Self::paused_at(SystemTime::now())
    }

    /// A test clock that starts paused at time zero, its wall time at `wall_epoch`.
    pub fn paused_at(wall_epoch: SystemTime) -> Self {
        let clock = Self::starting_at(wall_epoch);
        clock.0.state.lock().paused = true;
        clock
    }

    /// Freezes time: from now on it moves only by [`advance`](Self::advance).
    pub fn pause(&self) {
        let mut s = self.0.state.lock();
        if !s.paused {
            s.base = s.now();
            s.paused = true;
        }
    }

    /// Lets time run in real time again from its current value.
    pub fn resume(&self) {
        let wakers: Vec<Waker> = {
            let mut s = self.0.state.lock();
            if !s.paused {
                return;
            }
            s.paused = false;
            s.base_real = Instant::now();
            s.timers.values_mut().filter_map(Option::take).collect()
        };
        // Sleepers re-poll and arm real timers for their remaining time.
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether time is frozen.
    pub fn is_paused(&self) -> bool {
        self.0.state.lock().paused
    }

    /// Moves time forward by `d` and fires every timer that is now due.
    pub fn advance(&self, d: Duration) {
        let wakers: Vec<Waker> = {
            let mut s = self.0.state.lock();
            let now = s.now() + d;
            s.base = now;
            s.base_real = Instant::now();
            s.timers
                .range_mut(..=(now, u64::MAX))
                .filter_map(|(_, w)| w.take())
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The earliest timer deadline later than `after`, if any: a simulator that owns the
    /// clock advances straight to it instead of stepping through idle time.
    pub fn next_deadline_after(&self, after: Duration) -> Option<Duration> {
        let s = self.0.state.lock();
        s.timers
            .range((after + Duration::from_nanos(1), 0)..)
            .next()
            .map(|((deadline, _), _)| *deadline)
    }

    /// Returns once every node sharing this clock is quiet (no message queued, being
    /// handled, or in flight between them) and no timer is due. Continuations started with
    /// `defer` are not waited for (they may wait on the outside world).
    pub async fn settle(&self) {
        // Processes run on other worker threads, so demand several consecutive quiet looks.
        let mut quiet_looks = 0;
        while quiet_looks < 3 {
            tokio::task::yield_now().await;
            if self.is_quiet() {
                quiet_looks += 1;
            } else {
                quiet_looks = 0;
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
    }

    fn is_quiet(&self) -> bool {
        let due = {
            let s = self.0.state.lock();
            let now = s.now();
            s.timers.range(..=(now, u64::MAX)).next().is_some()
        };
        if due {
            return false;
        }
        let nodes: Vec<(SocketAddr, Arc<dyn Quiescence>)> = {
            let mut nodes = self.0.nodes.lock();
            nodes.retain(|(_, w)| w.strong_count() > 0);
            nodes
                .iter()
                .filter_map(|(a, w)| w.upgrade().map(|n| (*a, n)))
                .collect()
        };
        {
            let in_flight = self.0.remote_in_flight.lock();
            if nodes
                .iter()
                .any(|(addr, _)| in_flight.get(addr).is_some_and(|n| *n > 0))
            {
                return false;
            }
        }
        nodes.iter().all(|(_, n)| n.is_quiet())
    }

    pub(crate) fn register_node(&self, addr: SocketAddr, node: Weak<dyn Quiescence>) {
        // Frames counted for an earlier node on this address died with it.
        self.0.remote_in_flight.lock().remove(&addr);
        self.0.nodes.lock().push((addr, node));
    }

    /// The node listening on `addr` is shutting down: it no longer counts for `settle`, and
    /// neither do frames still on their way to it (they can never be handled).
    pub(crate) fn unregister_node(&self, addr: SocketAddr) {
        self.0.nodes.lock().retain(|(a, _)| *a != addr);
        self.0.remote_in_flight.lock().remove(&addr);
    }

    /// Whether a live node listening on `addr` shares this clock.
    pub(crate) fn has_node(&self, addr: SocketAddr) -> bool {
        self.0
            .nodes
            .lock()
            .iter()
            .any(|(a, w)| *a == addr && w.strong_count() > 0)
    }

    /// A tracked frame to the node listening on `to` was queued.
    pub(crate) fn remote_sent(&self, to: SocketAddr) {
        *self.0.remote_in_flight.lock().entry(to).or_insert(0) += 1;
    }

    /// A tracked frame for the node listening on `at` was handled there, or dropped. The
    /// receiver can handle a frame before its sender has counted it (the writer may flush it
    /// first), so a count may dip below zero for a moment.
    pub(crate) fn remote_handled(&self, at: SocketAddr) {
        *self.0.remote_in_flight.lock().entry(at).or_insert(0) -= 1;
    }
}

impl Clock for TestClock {
    fn now(&self) -> Duration {
        self.0.state.lock().now()
    }

    fn sleep_until(&self, deadline: Duration) -> BoxFuture<'static, ()> {
        // Registered at once, so that settle sees a timer even before its task first runs.
        let key = {
            let mut s = self.0.state.lock();
            let seq = s.next_seq;
            s.next_seq += 1;
            s.timers.insert((deadline, seq), None);
            (deadline, seq)
        };
        Box::pin(TestSleep {
            clock: self.clone(),
            deadline,
            key: Some(key),
            real: None,
        })
    }

    fn as_test_clock(&self) -> Option<TestClock> {
        Some(self.clone())
    }

    fn wall_time(&self) -> SystemTime {
        self.0.wall_epoch + self.now()
    }
}

/// A sleep on a [`TestClock`]. Registered in the clock's timer map from its first poll until
/// it is dropped.
struct TestSleep {
    clock: TestClock,
    deadline: Duration,
    key: Option<(Duration, u64)>,
    real: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for TestSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let remaining = {
                let mut s = self.clock.0.state.lock();
                let now = s.now();
                if now >= self.deadline {
                    if self.key.is_none() {
                        // Register anyway so that settle sees it until delivery completes.
                        let seq = s.next_seq;
                        s.next_seq += 1;
                        s.timers.insert((self.deadline, seq), None);
                        drop(s);
                        self.key = Some((self.deadline, seq));
                    }
                    return Poll::Ready(());
                }
                let key = match self.key {
                    Some(k) => k,
                    None => {
                        let seq = s.next_seq;
                        s.next_seq += 1;
                        (self.deadline, seq)
                    }
                };
                s.timers.insert(key, Some(cx.waker().clone()));
                let paused = s.paused;
                drop(s);
                self.key = Some(key);
                if paused {
                    self.real = None;
                    return Poll::Pending;
                }
                self.deadline - now
            };
            let real = self
                .real
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(remaining)));
            match real.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // The real timer ran out: loop to re-check the clock (and re-arm if needed).
                Poll::Ready(()) => self.real = None,
            }
        }
    }
}

impl Drop for TestSleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.clock.0.state.lock().timers.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paused_clock_fires_only_on_advance() {
        let clock = TestClock::paused();
        let mut sleep = clock.sleep_until(Duration::from_secs(10));
        assert!(futures::poll!(&mut sleep).is_pending());
        clock.advance(Duration::from_secs(9));
        assert!(futures::poll!(&mut sleep).is_pending());
        assert_eq!(clock.now(), Duration::from_secs(9));
        clock.advance(Duration::from_secs(1));
        assert!(futures::poll!(&mut sleep).is_ready());
    }

    #[tokio::test]
    async fn a_fired_timer_counts_as_due_until_dropped() {
        let clock = TestClock::paused();
        let mut sleep = clock.sleep_until(Duration::from_secs(1));
        assert!(futures::poll!(&mut sleep).is_pending());
        assert!(
            clock.is_quiet(),
            "a timer not yet due does not block settle"
        );
        clock.advance(Duration::from_secs(1));
        assert!(!clock.is_quiet());
        drop(sleep);
        assert!(clock.is_quiet());
        clock.settle().await;
    }

    #[tokio::test]
    async fn the_next_deadline_is_the_earliest_timer_after_now() {
        let clock = TestClock::paused();
        assert_eq!(clock.next_deadline_after(Duration::ZERO), None);
        let mut late = clock.sleep_until(Duration::from_secs(7));
        let mut soon = clock.sleep_until(Duration::from_secs(3));
        assert!(futures::poll!(&mut late).is_pending());
        assert!(futures::poll!(&mut soon).is_pending());
        assert_eq!(
            clock.next_deadline_after(Duration::ZERO),
            Some(Duration::from_secs(3))
        );
        clock.advance(Duration::from_secs(3));
        assert_eq!(
            clock.next_deadline_after(clock.now()),
            Some(Duration::from_secs(7))
        );
        drop(late);
        assert_eq!(clock.next_deadline_after(clock.now()), None);
    }

    #[test]
    fn wall_time_moves_with_the_test_clock_only() {
        let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = TestClock::paused_at(epoch);
        assert_eq!(clock.wall_time(), epoch);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.wall_time(), epoch + Duration::from_millis(1500));
    }

    #[tokio::test]
    async fn resumed_clock_fires_in_real_time() {
        let clock = TestClock::paused();
        let deadline = clock.now() + Duration::from_millis(5);
        let sleep = clock.sleep_until(deadline);
        clock.resume();
        tokio::time::timeout(Duration::from_secs(30), sleep)
            .await
            .expect("hang guard: a running test clock fires timers");
        assert!(clock.now() >= deadline);
    }
}
