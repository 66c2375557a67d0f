//! Pure planning for the agent emulator: which process id, hostname and tasks emulated agent
//! number `i` has, and how long it waits before its next (re)registration attempt.
//!
//! Everything here is a function of its inputs (the agent's index, the attempt number and a
//! seeded generator), so a run is reproducible and the rules are tested without a network.
//!
//! Invariants: process ids `slave(i)` are distinct for distinct `i`; task ids are distinct
//! across all agents of one emulator (`emu-<agent>-<task>`); a backoff delay always lies in
//! `[step / 2, step]` for the attempt's step, and steps never exceed the configured cap.

use std::time::Duration;

use meso_api::v1::{AgentId, FrameworkId, FrameworkInfo, TaskId, TaskInfo, TaskState};
use meso_api::wire::TaskRecord;
use meso_api::Resources;

/// The libprocess process id of emulated agent `index` (`slave(<index + 1>)`, numbered from 1
/// as Mesos numbers its `slave(N)` processes).
pub fn process_id(index: usize) -> String {
    format!("slave({})", index + 1)
}

/// The hostname emulated agent `index` reports (`<prefix>-<index>`), so the master's books
/// and `/master/state` tell the agents apart.
pub fn hostname(prefix: &str, index: usize) -> String {
    format!("{prefix}-{index}")
}

/// The id of task `task` of emulated agent `agent`.
pub fn task_id(agent: usize, task: usize) -> TaskId {
    TaskId::new(format!("emu-{agent}-{task}"))
}

/// The framework the emulated tasks belong to, as an agent reports it on re-registration.
pub fn framework_info(framework_id: &FrameworkId) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("", "agent-emulator");
    info.id = Some(framework_id.clone());
    // A week: the adopted framework must not be torn down while the benchmark runs.
    info.failover_timeout = 7.0 * 24.0 * 3600.0;
    info
}

/// The `tasks` running tasks emulated agent `agent` reports under `agent_id`, each using
/// `per_task` resources, all of framework `framework_id`.
pub fn task_records(
    agent: usize,
    tasks: usize,
    agent_id: &AgentId,
    framework_id: &FrameworkId,
    per_task: &Resources,
) -> Vec<TaskRecord> {
    (0..tasks)
        .map(|task| {
            let id = task_id(agent, task);
            TaskRecord {
                task: TaskInfo::command(id.as_str(), agent_id.clone(), "sleep 1000000")
                    .with_resources(per_task.clone()),
                framework_id: framework_id.clone(),
                executor_id: None,
                state: TaskState::Running,
                unacknowledged_update_uuid: None,
            }
        })
        .collect()
}

/// Jittered exponential backoff: attempt `n` (from 0) waits a uniformly drawn time in
/// `[step / 2, step]` where `step = min(initial * 2^n, cap)`. Spreads thousands of agents
/// that lost their master at the same instant over the step instead of sending in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    cap: Duration,
}

impl Backoff {
    /// A backoff starting at `initial` (at least 1 ms) and never above `cap` (at least
    /// `initial`).
    pub fn new(initial: Duration, cap: Duration) -> Backoff {
        let initial = initial.max(Duration::from_millis(1));
        Backoff {
            initial,
            cap: cap.max(initial),
        }
    }

    /// The step of attempt `attempt` (before jitter).
    pub fn step(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial
            .checked_mul(factor)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The wait before attempt `attempt`, with `unit` in `[0, 1)` choosing the point in
    /// `[step / 2, step]`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let step = self.step(attempt);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        step / 2 + (step / 2).mul_f64(unit)
    }
}

/// How long an agent waits for an answer to its `unanswered`-th (re)registration in a row
/// (from 0) before sending it again: `step = min(timeout * 2^unanswered, cap)`, plus
/// `unit * step / 2` of jitter (`unit` in `[0, 1)`), so in `[step, 1.5 * step]`. Doubling as
/// Mesos's agents do (`--registration_backoff_factor`, doubled up to a minute): a leader that
/// needs longer than `timeout` to work through a wave of re-registrations gets each agent's a
/// few times (log2 of its delay over `timeout`), not once every `timeout`.
pub fn answer_wait(timeout: Duration, cap: Duration, unanswered: u32, unit: f64) -> Duration {
    let step = Backoff::new(timeout, cap).step(unanswered);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    step + (step / 2).mul_f64(unit)
}

/// A small seeded generator (SplitMix64) per emulated agent: reproducible jitter without
/// sharing a generator (and its lock) between thousands of processes.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A generator for agent `index` of a run seeded with `seed`.
    pub fn new(seed: u64, index: usize) -> Jitter {
        Jitter {
            state: seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        }
    }

    /// The next number in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits as a fraction.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A duration drawn uniformly in `[0, max]`.
    pub fn up_to(&mut self, max: Duration) -> Duration {
        max.mul_f64(self.next_unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn process_ids_and_task_ids_are_distinct() {
        let ids: HashSet<String> = (0..1000).map(process_id).collect();
        assert_eq!(ids.len(), 1000);
        assert_eq!(process_id(0), "slave(1)");
        let tasks: HashSet<TaskId> = (0..50)
            .flat_map(|a| (0..20).map(move |t| task_id(a, t)))
            .collect();
        assert_eq!(tasks.len(), 1000);
    }

    #[test]
    fn task_records_are_running_tasks_of_the_framework_on_the_agent() {
        let per_task = Resources::parse("cpus:0.1;mem:32", "*").expect("valid resources");
        let agent = AgentId::new("a-1");
        let framework = FrameworkId::new("f-1");
        let records = task_records(3, 4, &agent, &framework, &per_task);
        assert_eq!(records.len(), 4);
        for (k, r) in records.iter().enumerate() {
            assert_eq!(r.task.task_id, task_id(3, k));
            assert_eq!(r.task.agent_id, agent);
            assert_eq!(r.framework_id, framework);
            assert_eq!(r.state, TaskState::Running);
            assert_eq!(r.task.resources, per_task);
            assert!(r.task.validate().is_ok());
        }
        assert_eq!(framework_info(&framework).id, Some(framework));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
        assert_eq!(b.step(0), Duration::from_millis(10));
        assert_eq!(b.step(1), Duration::from_millis(20));
        assert_eq!(b.step(3), Duration::from_millis(80));
        assert_eq!(b.step(4), Duration::from_millis(100));
        assert_eq!(b.step(200), Duration::from_millis(100));
    }

    #[test]
    fn answer_waits_double_from_the_timeout_up_to_the_cap() {
        let (t, cap) = (Duration::from_secs(2), Duration::from_secs(60));
        let steps: Vec<u64> = (0..7)
            .map(|n| answer_wait(t, cap, n, 0.0).as_secs())
            .collect();
        assert_eq!(steps, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(answer_wait(t, cap, 1, 0.5), Duration::from_secs(5));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn answer_wait_lies_between_its_step_and_one_and_a_half_steps(
            timeout_ms in 0u64..10_000,
            cap_ms in 0u64..120_000,
            unanswered in 0u32..100,
            unit in proptest::num::f64::ANY,
        ) {
            let (t, cap) = (Duration::from_millis(timeout_ms), Duration::from_millis(cap_ms));
            let step = Backoff::new(t, cap).step(unanswered);
            let w = answer_wait(t, cap, unanswered, unit);
            prop_assert!(w >= step && w <= step + step / 2, "{w:?} outside [{step:?}, 1.5 x]");
            // Never shorter than the previous attempt's step: the waits do not shrink.
            if unanswered > 0 {
                prop_assert!(step >= Backoff::new(t, cap).step(unanswered - 1));
            }
        }

        #[test]
        fn backoff_delay_lies_in_the_upper_half_of_its_step(
            initial_ms in 0u64..5_000,
            cap_ms in 0u64..120_000,
            attempt in 0u32..100,
            unit in proptest::num::f64::ANY,
        ) {
            let b = Backoff::new(Duration::from_millis(initial_ms), Duration::from_millis(cap_ms));
            let step = b.step(attempt);
            let d = b.delay(attempt, unit);
            prop_assert!(step <= Duration::from_millis(cap_ms.max(initial_ms).max(1)));
            prop_assert!(d >= step / 2 && d <= step, "{d:?} outside [{:?}, {step:?}]", step / 2);
        }

        #[test]
        fn jitter_is_reproducible_and_in_range(seed in any::<u64>(), index in 0usize..100_000) {
            let mut a = Jitter::new(seed, index);
            let mut b = Jitter::new(seed, index);
            for _ in 0..16 {
                let x = a.next_unit();
                prop_assert_eq!(x, b.next_unit());
                prop_assert!((0.0..1.0).contains(&x));
            }
        }
    }

    #[test]
    fn jitter_spreads_agents_over_the_step() {
        // 10,000 agents drawing their first delay: no bucket of a tenth of the step holds
        // more than twice its share (lockstep would put them all in one).
        let mut buckets = [0usize; 10];
        for i in 0..10_000 {
            let x = Jitter::new(7, i).next_unit();
            buckets[(x * 10.0) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| n < 2_000), "{buckets:?}");
    }
}
