//! When an eviction's clock starts and stops: the figure an operator reads as
//! `slave/qos_eviction_latency_ms` (issue 23: "from the controller's signal crossing its
//! threshold to the task gone").
//!
//! - **Start.** The controller decides on windows: a signal's value is its average over the
//!   window between two readings, so the moment it crossed lies somewhere in the window in
//!   which it started firing. The clock starts at that window's start, the earliest the
//!   crossing can have been (so the figure is an upper bound). A container launched while
//!   the controller already fires starts its clock at its launch instead: from then on the
//!   machine's own work needs the capacity and the container is in the way. A container the
//!   agent did not launch (recovered) starts at the window.
//! - **Decision.** When the controller names the container (`slave/qos_eviction_kill_ms`
//!   runs from here).
//! - **Stop.** When the agent reaps the evicted container's executor: its processes are
//!   killed and the tasks' terminal updates go out.
//!
//! Pure: the agent passes wall-clock seconds in; nothing here reads a clock. Invariants
//! (tested): a clock never starts before the firing began nor before the container's launch,
//! never after the decision, and no figure is negative (a wall clock stepping back gives 0).

use std::collections::HashMap;

/// The start and the decision of one eviction, wall-clock seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eviction {
    /// When the clock started (see the module docs).
    pub signal_at: f64,
    /// When the controller named the container.
    pub decided_at: f64,
}

/// One finished eviction, wall-clock seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvictionTiming {
    /// When the clock started.
    pub signal_at: f64,
    /// When the controller named the container.
    pub decided_at: f64,
    /// When the agent reaped its executor.
    pub gone_at: f64,
}

impl EvictionTiming {
    /// From the signal to the container gone, milliseconds (the figure).
    pub fn latency_ms(&self) -> f64 {
        ((self.gone_at - self.signal_at) * 1000.0).max(0.0)
    }

    /// From the decision to the container gone, milliseconds (the kill's own share).
    pub fn kill_ms(&self) -> f64 {
        ((self.gone_at - self.decided_at) * 1000.0).max(0.0)
    }
}

/// The clocks of the agent's evictions.
#[derive(Debug, Clone, Default)]
pub struct EvictionClock {
    /// Start of the window in which the controller started firing, while it fires.
    firing_since: Option<f64>,
    /// When the agent launched each of its containers.
    launched: HashMap<String, f64>,
    /// Evictions whose container is not gone yet.
    evicting: HashMap<String, Eviction>,
}

impl EvictionClock {
    /// An empty clock: nothing firing, nothing launched.
    pub fn new() -> EvictionClock {
        EvictionClock::default()
    }

    /// The agent launched `container_id` at `at`.
    pub fn launched(&mut self, container_id: &str, at: f64) {
        self.launched.insert(container_id.to_string(), at);
    }

    /// The controller saw the window starting at `window_start`; `firing` is whether any of
    /// its signals fires after it.
    pub fn observed(&mut self, window_start: f64, firing: bool) {
        if !firing {
            self.firing_since = None;
        } else if self.firing_since.is_none() {
            self.firing_since = Some(window_start);
        }
    }

    /// When the current firing started (the start of its first window), if it fires.
    pub fn firing_since(&self) -> Option<f64> {
        self.firing_since
    }

    /// The controller named `container_id` at `decided_at`: its clock starts at the later of
    /// the firing's start and its launch (never after the decision). The first eviction of a
    /// container counts; naming it again changes nothing.
    pub fn evicted(&mut self, container_id: &str, decided_at: f64) -> Eviction {
        if let Some(e) = self.evicting.get(container_id) {
            return *e;
        }
        let since = self.firing_since.unwrap_or(decided_at);
        let start = match self.launched.get(container_id) {
            Some(&launched) => since.max(launched),
            None => since,
        };
        let e = Eviction {
            signal_at: start.min(decided_at),
            decided_at,
        };
        self.evicting.insert(container_id.to_string(), e);
        e
    }

    /// `container_id` is gone (its executor reaped) at `at`: the eviction's timing, if it was
    /// evicted. Forgets the container either way.
    pub fn gone(&mut self, container_id: &str, at: f64) -> Option<EvictionTiming> {
        self.launched.remove(container_id);
        let e = self.evicting.remove(container_id)?;
        Some(EvictionTiming {
            signal_at: e.signal_at,
            decided_at: e.decided_at,
            gone_at: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_container_running_at_the_crossing_starts_at_the_crossing_window() {
        let mut c = EvictionClock::new();
        c.launched("a", 100.0);
        c.observed(109.5, false);
        c.observed(110.0, true);
        // Still firing: the start stays at the first window.
        c.observed(110.5, true);
        assert_eq!(c.firing_since(), Some(110.0));
        let e = c.evicted("a", 111.0);
        assert_eq!((e.signal_at, e.decided_at), (110.0, 111.0));
        let t = c.gone("a", 111.25).expect("evicted");
        assert_eq!(t.latency_ms(), 1250.0);
        assert_eq!(t.kill_ms(), 250.0);
    }

    #[test]
    fn a_container_launched_while_firing_starts_at_its_launch() {
        let mut c = EvictionClock::new();
        c.observed(10.0, true);
        c.launched("late", 30.0);
        assert_eq!(c.evicted("late", 30.7).signal_at, 30.0);
        // A recovered container (no launch known) starts with the firing.
        assert_eq!(c.evicted("recovered", 30.7).signal_at, 10.0);
    }

    #[test]
    fn the_firing_start_resets_once_every_signal_is_quiet() {
        let mut c = EvictionClock::new();
        c.observed(10.0, true);
        c.observed(10.5, false);
        assert_eq!(c.firing_since(), None);
        c.observed(20.0, true);
        assert_eq!(c.evicted("x", 20.5).signal_at, 20.0);
    }

    #[test]
    fn only_evicted_containers_have_a_timing_and_each_once() {
        let mut c = EvictionClock::new();
        c.launched("kept", 1.0);
        c.observed(2.0, true);
        assert_eq!(c.gone("kept", 3.0), None);
        let first = c.evicted("x", 4.0);
        assert_eq!(
            c.evicted("x", 5.0),
            first,
            "naming it again changes nothing"
        );
        assert!(c.gone("x", 6.0).is_some());
        assert_eq!(c.gone("x", 7.0), None);
    }

    #[test]
    fn a_clock_stepping_back_gives_zero_not_a_negative_figure() {
        let mut c = EvictionClock::new();
        c.observed(50.0, true);
        c.evicted("x", 50.2);
        let t = c.gone("x", 49.0).expect("evicted");
        assert_eq!((t.latency_ms(), t.kill_ms()), (0.0, 0.0));
    }

    #[derive(Debug, Clone)]
    enum Step {
        Launch(u8, f64),
        Observe(f64, bool),
        Evict(u8, f64),
        Gone(u8, f64),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        let t = 0.0..1000.0f64;
        proptest::collection::vec(
            prop_oneof![
                (0u8..6, t.clone()).prop_map(|(c, t)| Step::Launch(c, t)),
                (t.clone(), any::<bool>()).prop_map(|(t, f)| Step::Observe(t, f)),
                (0u8..6, t.clone()).prop_map(|(c, t)| Step::Evict(c, t)),
                (0u8..6, t).prop_map(|(c, t)| Step::Gone(c, t)),
            ],
            0..60,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the order and the clock's jumps: a clock starts no earlier than the
        /// firing and the launch, no later than the decision; no figure is negative.
        #[test]
        fn a_clock_starts_between_the_firing_or_launch_and_the_decision(steps in steps()) {
            let mut c = EvictionClock::new();
            let mut launched: HashMap<String, f64> = HashMap::new();
            for step in steps {
                match step {
                    Step::Launch(id, t) => {
                        c.launched(&id.to_string(), t);
                        launched.insert(id.to_string(), t);
                    }
                    Step::Observe(t, f) => c.observed(t, f),
                    Step::Evict(id, t) => {
                        let since = c.firing_since();
                        let e = c.evicted(&id.to_string(), t);
                        prop_assert!(e.signal_at <= e.decided_at);
                        if e.decided_at == t {
                            if let Some(since) = since {
                                prop_assert!(e.signal_at >= since.min(t));
                            }
                            if let Some(&l) = launched.get(&id.to_string()) {
                                prop_assert!(e.signal_at >= l.min(t));
                            }
                        }
                    }
                    Step::Gone(id, t) => {
                        launched.remove(&id.to_string());
                        if let Some(timing) = c.gone(&id.to_string(), t) {
                            prop_assert!(timing.latency_ms() >= 0.0);
                            prop_assert!(timing.kill_ms() >= 0.0);
                            prop_assert!(timing.latency_ms() >= timing.kill_ms());
                        }
                    }
                }
            }
        }
    }
}
