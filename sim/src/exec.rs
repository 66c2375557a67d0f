//! The simulation's one thread: a tokio `current_thread` runtime with no I/O or timer
//! driver (every timer is on the shared paused `TestClock`, every byte on the simulated
//! network), whose park hook tells the run loop that no task can run: the whole cluster is
//! idle until the simulator delivers something or moves the clock.
//!
//! A task that reaches for tokio's own timers or sockets panics (no driver): such a call
//! would read real time or the real network, so it is found at once rather than making a
//! seed unrepeatable. The current-thread scheduler runs woken tasks in FIFO order, so the
//! order of everything follows from the order of deliveries and timer firings.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};

use parking_lot::Mutex;

/// Counts the runtime's parks (moments when no task is runnable) and wakes the run loop.
#[derive(Default)]
pub struct IdleSignal {
    parks: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

impl IdleSignal {
    fn parked(&self) {
        self.parks.fetch_add(1, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }

    /// Completes at the next moment the runtime has no runnable task.
    pub fn until_idle(self: &Arc<Self>) -> impl Future<Output = ()> + '_ {
        let mut start = None;
        futures::future::poll_fn(move |cx| {
            let parks = self.parks.load(Ordering::SeqCst);
            let first = *start.get_or_insert(parks);
            if parks > first {
                return Poll::Ready(());
            }
            *self.waker.lock() = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

/// The runtime of one simulation, reporting idleness to `idle`.
pub fn runtime(idle: Arc<IdleSignal>) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .on_thread_park(move || idle.parked())
        .build()
}
