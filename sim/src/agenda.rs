//! The simulator's agenda: actions due at a simulated time that belong to the world, not to
//! any actor (a simulated task finishing, a framework's next workload step, a fault). The
//! run loop runs what is due, in time and then insertion order, whenever the runtime is
//! idle and the clock reaches it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

type Action = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Inner {
    due: BTreeMap<(Duration, u64), Action>,
    seq: u64,
}

/// A shared agenda.
#[derive(Clone, Default)]
pub struct Agenda(Arc<Mutex<Inner>>);

impl Agenda {
    /// Runs `action` at simulated time `at`.
    pub fn at(&self, at: Duration, action: impl FnOnce() + Send + 'static) {
        let mut s = self.0.lock();
        let seq = s.seq;
        s.seq += 1;
        s.due.insert((at, seq), Box::new(action));
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<Duration> {
        self.0.lock().due.keys().next().map(|(t, _)| *t)
    }

    /// Runs every action due at `now` (actions may add more; those due now run too).
    pub fn run_due(&self, now: Duration) -> usize {
        let mut ran = 0;
        loop {
            let action = {
                let mut s = self.0.lock();
                match s.due.first_entry() {
                    Some(e) if e.key().0 <= now => e.remove(),
                    _ => break,
                }
            };
            action();
            ran += 1;
        }
        ran
    }
}
