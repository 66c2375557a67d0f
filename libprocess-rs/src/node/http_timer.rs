//! hyper's timer on the node's [`Clock`]: the HTTP server's header-read timeout (the guard
//! against clients that send a request head slowly) runs on the node's clock like every
//! other timer of the node.
//!
//! hyper hands some deadlines as `std::time::Instant`s; they are turned into durations from
//! now and slept on the node's clock.

use crate::clock::Clock;
use futures::future::BoxFuture;
use hyper::rt::{Sleep, Timer};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A `hyper::rt::Timer` over a node's clock.
#[derive(Clone)]
pub(crate) struct ClockTimer(pub Arc<dyn Clock>);

/// One sleep. The mutex only makes the future `Sync`, as hyper asks; it is reached through
/// `&mut` alone, so it is never locked.
struct ClockSleep(Mutex<BoxFuture<'static, ()>>);

impl Future for ClockSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let fut = match self.get_mut().0.get_mut() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        fut.as_mut().poll(cx)
    }
}

impl Sleep for ClockSleep {}

impl Timer for ClockTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        let deadline = self.0.now() + duration;
        Box::pin(ClockSleep(Mutex::new(self.0.sleep_until(deadline))))
    }
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        self.sleep(deadline.saturating_duration_since(Instant::now()))
    }
}
