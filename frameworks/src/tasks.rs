//! A framework's tasks, their attempts and their status updates, pure: the bookkeeping every
//! framework that runs many tasks writes by hand (the batch framework's stages use it).
//!
//! Tasks sit in named groups (a job's stages, say), `tasks` of them per group, known by their
//! index. Each task is *waiting* (for its first launch or a retry), *running* (exactly one
//! live attempt), *finished* or *failed* for good. An attempt's task id is
//! `<group>.<index>.<attempt>` and the task's name `<group>-<index>`, so ids stay unique
//! across retries and a status update for an old attempt is recognised as stale.
//!
//! Retries: an attempt ending in any terminal state but TASK_FINISHED is retried up to the
//! group's `retries` times, the n-th retry not before [`Backoff::before_retry`]`(n)` after
//! the failure. The caller says what time it is (a [`Duration`] since any fixed start), so
//! the book never reads a clock.
//!
//! Invariants: at most one live attempt per task; a task runs at most `1 + retries` times;
//! the per-group [`Counts`] always equal a recount of the tasks' states (kept as states
//! change, so progress and offer handling cost O(groups), not O(tasks)).

use std::collections::HashMap;
use std::time::Duration;

use meso_api::v1::TaskState;

/// How long a failed task waits before its retries: `first`, then doubling, at most `max`.
///
/// ```
/// use std::time::Duration;
/// use meso_frameworks::tasks::Backoff;
/// let b = Backoff::new(Duration::from_secs(1));
/// assert_eq!(b.before_retry(1), Duration::from_secs(1));
/// assert_eq!(b.before_retry(3), Duration::from_secs(4));
/// assert_eq!(b.before_retry(40), b.max, "capped");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// `first`, doubling up to a minute.
    pub fn new(first: Duration) -> Backoff {
        Backoff {
            first,
            max: Duration::from_secs(60),
        }
    }

    /// The wait before retry number `n` (1 for the first retry).
    pub fn before_retry(&self, n: u32) -> Duration {
        let doublings = n.saturating_sub(1).min(16);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

/// Where a task stands. `placed` is the launch's locality: `None` for a task without
/// preferences, else whether it ran on a preferred place.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Waiting {
        attempt: u32,
        not_before: Duration,
        since: Option<Duration>,
    },
    Running {
        attempt: u32,
        placed: Option<bool>,
    },
    Finished,
    Failed,
}

/// What a status update did (each names the task, `<group>-<index>`).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not a live attempt (stale, duplicate or unknown): nothing changed.
    Ignored,
    /// The attempt is running.
    Running(String),
    /// The task finished.
    Finished(String),
    /// The attempt failed; the task runs again not before this time.
    Retry(String, Duration),
    /// The task failed for good.
    Failed(String),
}

/// How many of a group's tasks are in each state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Waiting for a launch (first or retry).
    pub waiting: usize,
    /// With a live attempt.
    pub running: usize,
    /// Finished.
    pub finished: usize,
    /// Failed after their last retry.
    pub failed: usize,
    /// Finished tasks that had preferences.
    pub preferring: usize,
    /// Of those, run on a preferred place.
    pub on_preferred: usize,
}

/// Counts over every group, for progress and the final report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Tasks in all groups.
    pub total: usize,
    /// Finished.
    pub finished: usize,
    /// Launched and not ended.
    pub running: usize,
    /// Failed after their last retry.
    pub failed: usize,
    /// Waiting in groups that will never start (the caller says which).
    pub skipped: usize,
    /// Finished tasks that had preferences.
    pub preferring: usize,
    /// Of those, run on a preferred place.
    pub on_preferred: usize,
}

impl Summary {
    /// Tasks that ended one way or another (finished, failed or skipped).
    pub fn ended(&self) -> usize {
        self.finished + self.failed + self.skipped
    }
}

/// A task whose launch may happen now (see [`TaskBook::ready`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    /// Its index in the group.
    pub index: u32,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// How long it has been ready (for delay scheduling).
    pub waited: Duration,
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    retries: u32,
    slots: Vec<Slot>,
    counts: Counts,
    started: u32,
}

/// The tasks of every group and their states (see the module docs).
///
/// ```
/// use std::time::Duration;
/// use meso_api::v1::TaskState;
/// use meso_frameworks::tasks::{Backoff, Outcome, TaskBook};
///
/// let s = Duration::from_secs(1);
/// let mut book = TaskBook::new([("map".to_string(), 2, 1)], Backoff::new(s));
/// let ready = book.ready(0, Duration::ZERO, u32::MAX);
/// assert_eq!(ready.len(), 2);
/// let (id, name) = book.launch(0, ready[0].index, None);
/// assert_eq!((id.as_str(), name.as_str()), ("map.0.0", "map-0"));
/// assert_eq!(book.update(&id, TaskState::Failed, s), Outcome::Retry(name, 2 * s));
/// assert!(book.ready(0, s, u32::MAX).iter().all(|r| r.index == 1), "backing off");
/// assert_eq!(book.ready(0, 2 * s, u32::MAX).len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct TaskBook {
    groups: Vec<Group>,
    live: HashMap<String, (usize, u32)>,
    backoff: Backoff,
}

impl TaskBook {
    /// Every task waiting; `groups` are (name, tasks, retries).
    pub fn new(groups: impl IntoIterator<Item = (String, u32, u32)>, backoff: Backoff) -> Self {
        let waiting = Slot::Waiting {
            attempt: 0,
            not_before: Duration::ZERO,
            since: None,
        };
        let groups = groups
            .into_iter()
            .map(|(name, tasks, retries)| Group {
                name,
                retries,
                slots: vec![waiting.clone(); tasks as usize],
                counts: Counts {
                    waiting: tasks as usize,
                    ..Counts::default()
                },
                started: 0,
            })
            .collect();
        TaskBook {
            groups,
            live: HashMap::new(),
            backoff,
        }
    }

    /// How many groups.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Group `g`'s tasks.
    pub fn tasks(&self, g: usize) -> usize {
        self.groups[g].slots.len()
    }

    /// Group `g`'s counts.
    pub fn counts(&self, g: usize) -> &Counts {
        &self.groups[g].counts
    }

    /// How many of group `g`'s tasks had their first launch.
    pub fn started(&self, g: usize) -> u32 {
        self.groups[g].started
    }

    /// Group `g`'s waiting tasks that may launch at `now`: retries whose backoff passed,
    /// and first attempts while fewer than `first_launches` tasks of the group started.
    /// Each one's wait (for [`Ready::waited`]) starts the first time it is returned.
    pub fn ready(&mut self, g: usize, now: Duration, first_launches: u32) -> Vec<Ready> {
        let group = &mut self.groups[g];
        if group.counts.waiting == 0 {
            return Vec::new();
        }
        let firsts = group.started < first_launches;
        let mut out = Vec::new();
        for (i, slot) in group.slots.iter_mut().enumerate() {
            let Slot::Waiting {
                attempt,
                not_before,
                since,
            } = slot
            else {
                continue;
            };
            if now < *not_before || (*attempt == 0 && !firsts) {
                continue;
            }
            let since = *since.get_or_insert(now);
            out.push(Ready {
                index: i as u32,
                attempt: *attempt,
                waited: now.saturating_sub(since),
            });
        }
        out
    }

    /// Whether task `index` of group `g` is waiting and may launch while the group's first
    /// launches are bounded by `first_launches` (a retry always may).
    pub fn may_launch(&self, g: usize, index: u32, first_launches: u32) -> bool {
        let group = &self.groups[g];
        match group.slots[index as usize] {
            Slot::Waiting { attempt, .. } => attempt > 0 || group.started < first_launches,
            _ => false,
        }
    }

    /// Launches task `index` of group `g` (waiting, see [`Self::ready`]) with the locality
    /// `placed` (`None`: the task has no preferences); returns the attempt's task id and the
    /// task's name.
    pub fn launch(&mut self, g: usize, index: u32, placed: Option<bool>) -> (String, String) {
        let group = &mut self.groups[g];
        let slot = &mut group.slots[index as usize];
        let Slot::Waiting { attempt, .. } = *slot else {
            panic!("invariant: only a waiting task is launched");
        };
        if attempt == 0 {
            group.started += 1;
        }
        group.counts.waiting -= 1;
        group.counts.running += 1;
        *slot = Slot::Running { attempt, placed };
        let id = format!("{}.{index}.{attempt}", group.name);
        self.live.insert(id.clone(), (g, index));
        (id, format!("{}-{index}", group.name))
    }

    /// Applies a status update of task `id` at `now`.
    pub fn update(&mut self, id: &str, state: TaskState, now: Duration) -> Outcome {
        let Some(&(g, i)) = self.live.get(id) else {
            return Outcome::Ignored;
        };
        let group = &mut self.groups[g];
        let name = format!("{}-{i}", group.name);
        let slot = &mut group.slots[i as usize];
        let Slot::Running { attempt, placed } = *slot else {
            return Outcome::Ignored;
        };
        if !state.is_terminal() {
            return Outcome::Running(name);
        }
        self.live.remove(id);
        let counts = &mut group.counts;
        counts.running -= 1;
        if state == TaskState::Finished {
            *slot = Slot::Finished;
            counts.finished += 1;
            if let Some(on) = placed {
                counts.preferring += 1;
                counts.on_preferred += usize::from(on);
            }
            return Outcome::Finished(name);
        }
        if attempt >= group.retries {
            *slot = Slot::Failed;
            counts.failed += 1;
            return Outcome::Failed(name);
        }
        counts.waiting += 1;
        let not_before = now + self.backoff.before_retry(attempt + 1);
        *slot = Slot::Waiting {
            attempt: attempt + 1,
            not_before,
            since: None,
        };
        Outcome::Retry(name, not_before)
    }

    /// Live attempts (task ids), e.g. to kill them.
    pub fn live(&self) -> impl Iterator<Item = &String> {
        self.live.keys()
    }

    /// Counts over all groups; the waiting tasks of the groups for which `skipped` holds
    /// count as skipped.
    pub fn summary(&self, skipped: impl Fn(usize) -> bool) -> Summary {
        let mut sum = Summary::default();
        for (g, group) in self.groups.iter().enumerate() {
            let c = &group.counts;
            sum.total += group.slots.len();
            sum.finished += c.finished;
            sum.running += c.running;
            sum.failed += c.failed;
            sum.preferring += c.preferring;
            sum.on_preferred += c.on_preferred;
            if skipped(g) {
                sum.skipped += c.waiting;
            }
        }
        sum
    }

    /// Names of the tasks that failed for good.
    pub fn failed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for group in &self.groups {
            for (i, slot) in group.slots.iter().enumerate() {
                if *slot == Slot::Failed {
                    out.push(format!("{}-{i}", group.name));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: Duration = Duration::from_secs(1);

    /// The counts recounted from the slots one by one (what the kept counts must equal);
    /// a finished task's locality is not kept per slot, so those two are copied.
    fn recount(book: &TaskBook, g: usize) -> Counts {
        let group = &book.groups[g];
        let mut c = Counts {
            preferring: group.counts.preferring,
            on_preferred: group.counts.on_preferred,
            ..Counts::default()
        };
        for slot in &group.slots {
            match slot {
                Slot::Waiting { .. } => c.waiting += 1,
                Slot::Running { .. } => c.running += 1,
                Slot::Finished => c.finished += 1,
                Slot::Failed => c.failed += 1,
            }
        }
        c
    }

    #[test]
    fn stale_and_unknown_updates_are_ignored_and_running_is_reported() {
        let mut book = TaskBook::new([("a".to_string(), 1, 1)], Backoff::new(S));
        let (id, _) = book.launch(0, 0, Some(true));
        assert_eq!(book.update("nope", TaskState::Failed, S), Outcome::Ignored);
        assert_eq!(
            book.update(&id, TaskState::Running, S),
            Outcome::Running("a-0".into())
        );
        assert_eq!(book.live().collect::<Vec<_>>(), vec![&id]);
        assert!(matches!(
            book.update(&id, TaskState::Lost, S),
            Outcome::Retry(..)
        ));
        assert_eq!(book.update(&id, TaskState::Finished, S), Outcome::Ignored);
        let (id2, _) = book.launch(0, 0, Some(false));
        assert_eq!(id2, "a.0.1");
        assert_eq!(
            book.update(&id2, TaskState::Finished, 3 * S),
            Outcome::Finished("a-0".into())
        );
        let sum = book.summary(|_| false);
        assert_eq!((sum.preferring, sum.on_preferred, sum.ended()), (1, 0, 1));
    }

    #[test]
    fn first_launches_are_bounded_and_retries_are_not() {
        let mut book = TaskBook::new([("a".to_string(), 3, 2)], Backoff::new(S));
        assert!(book.ready(0, Duration::ZERO, 0).is_empty());
        let ready = book.ready(0, Duration::ZERO, 1);
        assert_eq!(ready.len(), 3, "the caller stops at the bound");
        let (id, _) = book.launch(0, 0, None);
        assert!(book.ready(0, Duration::ZERO, 1).is_empty());
        book.update(&id, TaskState::Failed, Duration::ZERO);
        let ready = book.ready(0, S, 1);
        assert_eq!(ready.len(), 1);
        assert_eq!((ready[0].index, ready[0].attempt), (0, 1));
        assert_eq!(
            book.ready(0, 3 * S, 1)[0].waited,
            2 * S,
            "waited since first ready"
        );
    }

    proptest! {
        /// Random launches and updates: one live attempt per task, at most 1 + retries
        /// runs, every update of a live attempt counts and a second one is stale, and the
        /// kept counts equal a recount.
        #[test]
        fn attempts_are_single_bounded_and_counted(
            tasks in 1u32..6, retries in 0u32..3,
            steps in proptest::collection::vec((any::<bool>(), 0usize..64, 0u8..4), 1..150),
        ) {
            let mut book = TaskBook::new(
                [("a".to_string(), tasks, retries), ("b".to_string(), 2, 0)], Backoff::new(S));
            let mut live: Vec<(String, usize, u32)> = Vec::new();
            let mut runs: HashMap<(usize, u32), u32> = HashMap::new();
            for (t, (launch, pick, kind)) in steps.into_iter().enumerate() {
                let now = S * t as u32;
                if launch || live.is_empty() {
                    let g = pick % 2;
                    let Some(r) = book.ready(g, now, u32::MAX).first().copied() else { continue };
                    let (id, _) = book.launch(g, r.index, None);
                    prop_assert!(!live.iter().any(|(_, lg, li)| (*lg, *li) == (g, r.index)));
                    let n = runs.entry((g, r.index)).or_default();
                    *n += 1;
                    prop_assert!(*n <= [retries, 0][g] + 1);
                    live.push((id, g, r.index));
                } else {
                    let (id, _, _) = live.remove(pick % live.len());
                    let state = [TaskState::Finished, TaskState::Failed, TaskState::Lost,
                        TaskState::Killed][kind as usize];
                    prop_assert_ne!(book.update(&id, state, now), Outcome::Ignored);
                    prop_assert_eq!(book.update(&id, state, now), Outcome::Ignored);
                }
                for g in 0..book.groups() {
                    prop_assert_eq!(book.counts(g), &recount(&book, g));
                }
                prop_assert_eq!(book.summary(|_| false).running, live.len());
            }
        }
    }
}
