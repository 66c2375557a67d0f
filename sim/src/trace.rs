//! The event trace of a run: one line per network event, fault, workload step and checker
//! verdict, each stamped with the simulated time in microseconds. A run keeps the running
//! digest (FNV-1a) and the line count always, and the text itself only when asked
//! (`--trace`), so the determinism check costs nothing in a campaign.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::rng::{fnv, FNV_START};

struct Inner {
    digest: u64,
    lines: u64,
    keep: bool,
    text: String,
}

/// A `fmt::Write` that only hashes what is written into it.
struct Hashing(u64);

impl std::fmt::Write for Hashing {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 = fnv(self.0, s.as_bytes());
        Ok(())
    }
}

/// A shared trace (clones append to the same one).
#[derive(Clone)]
pub struct Trace(Arc<Mutex<Inner>>);

impl Trace {
    /// A trace that keeps its text when `keep`.
    pub fn new(keep: bool) -> Trace {
        Trace(Arc::new(Mutex::new(Inner {
            digest: FNV_START,
            lines: 0,
            keep,
            text: String::new(),
        })))
    }

    /// Appends one line at simulated time `now`. Without `keep` the line is hashed as it
    /// is formatted, never stored (the same digest, no buffer).
    pub fn line(&self, now: Duration, args: std::fmt::Arguments<'_>) {
        let mut guard = self.0.lock();
        let t = &mut *guard;
        t.lines += 1;
        if t.keep {
            let from = t.text.len();
            let _ = writeln!(t.text, "{} {}", now.as_micros(), args);
            t.digest = fnv(t.digest, &t.text.as_bytes()[from..]);
        } else {
            let mut h = Hashing(t.digest);
            let _ = writeln!(h, "{} {}", now.as_micros(), args);
            t.digest = h.0;
        }
    }

    /// The digest of every line so far.
    pub fn digest(&self) -> u64 {
        self.0.lock().digest
    }

    /// Lines so far.
    pub fn lines(&self) -> u64 {
        self.0.lock().lines
    }

    /// The text (empty unless kept).
    pub fn text(&self) -> String {
        self.0.lock().text.clone()
    }
}
