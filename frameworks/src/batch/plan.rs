//! The batch scheduler's pure core: which of a job's tasks to launch on an offer, given the
//! current time, and what a status update changes. No I/O, no clock reads.
//!
//! Stage order: a task of a stage with `after` starts only once every task of those stages
//! finished, or, with `ratio` R, while the stage has started fewer than (finished tasks of
//! those stages) / R of its tasks. A stage after one whose task failed for good never starts
//! (its tasks are *skipped*).
//!
//! Delay scheduling (Zaharia et al.): a task that prefers places waits for an offer from a
//! preferred host; after `locality_wait` since it became ready it also takes an agent with a
//! preferred attribute (rack level), after one more wait any agent. Levels it has no
//! preference for are skipped. Within an offer, tasks are taken best level first.
//!
//! Retries: a failed attempt is retried `retries` times, the n-th retry not before
//! `backoff * 2^(n-1)` (at most [`MAX_BACKOFF`]). At most one attempt of a task is live.

use std::collections::HashMap;
use std::time::Duration;

use meso_api::v1::{Offer, TaskState};
use meso_api::Resources;

use super::job::{Job, Place};
use crate::packing::OfferPacker;

/// Longest wait before a retry.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Where a task stands.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Waiting {
        attempt: u32,
        not_before: Duration,
        since: Option<Duration>,
    },
    Running {
        attempt: u32,
        id: String,
        level: u8,
        running: bool,
    },
    Finished {
        level: u8,
    },
    Failed,
}

/// One task to launch.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// Task id (`<stage>.<index>.<attempt>`).
    pub id: String,
    /// Task name (`<stage>-<index>`).
    pub name: String,
    /// Stage index in the job.
    pub stage: usize,
    /// Task index in the stage.
    pub index: u32,
    /// Shell command.
    pub command: String,
    /// Resources, allocated to the offer's role.
    pub resources: Resources,
    /// Locality: 0 preferred host, 1 preferred attribute, 2 neither.
    pub level: u8,
}

/// Counts for progress and the final report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Tasks in the job.
    pub total: usize,
    /// Finished.
    pub finished: usize,
    /// Launched and not ended.
    pub running: usize,
    /// Failed after their last retry.
    pub failed: usize,
    /// Never to start (an earlier stage failed).
    pub skipped: usize,
    /// Finished tasks that had preferences.
    pub preferring: usize,
    /// Of those, run on a preferred place.
    pub on_preferred: usize,
}

/// What a status update did.
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

/// A job's tasks and their states.
#[derive(Debug, Clone)]
pub struct Plan {
    job: Job,
    locality_wait: Duration,
    backoff: Duration,
    slots: Vec<Vec<Slot>>,
    started: Vec<u32>,
    live: HashMap<String, (usize, u32)>,
}

fn level_of(places: &[&Place], offer: &Offer) -> u8 {
    let host = places
        .iter()
        .any(|p| matches!(p, Place::Host(h) if *h == offer.hostname));
    let attr = places.iter().any(|p| match p {
        Place::Attribute(k, v) => offer
            .attributes
            .0
            .iter()
            .any(|a| a.name == *k && a.value.to_string() == *v),
        Place::Host(_) => false,
    });
    if host {
        0
    } else if attr {
        1
    } else {
        2
    }
}

impl Plan {
    /// A plan with every task waiting; `revocable` resources when the job asks.
    pub fn new(mut job: Job, locality_wait: Duration, backoff: Duration) -> Plan {
        for s in &mut job.stages {
            s.resources = crate::execute::task_resources(&s.resources, job.revocable);
        }
        let slots = job
            .stages
            .iter()
            .map(|s| {
                let w = Slot::Waiting {
                    attempt: 0,
                    not_before: Duration::ZERO,
                    since: None,
                };
                vec![w; s.tasks as usize]
            })
            .collect();
        let started = vec![0; job.stages.len()];
        Plan {
            job,
            locality_wait,
            backoff,
            slots,
            started,
            live: HashMap::new(),
        }
    }

    /// The job.
    pub fn job(&self) -> &Job {
        &self.job
    }

    fn finished(&self, s: usize) -> usize {
        self.slots[s]
            .iter()
            .filter(|t| matches!(t, Slot::Finished { .. }))
            .count()
    }

    /// Whether stage `s` can never start (a stage it waits for failed or is blocked).
    fn blocked(&self, s: usize) -> bool {
        self.job.stages[s]
            .after
            .iter()
            .any(|&d| self.blocked(d) || self.slots[d].iter().any(|t| matches!(t, Slot::Failed)))
    }

    /// How many of stage `s`'s tasks may have started by now.
    fn allowed(&self, s: usize) -> u32 {
        let stage = &self.job.stages[s];
        if self.blocked(s) {
            return 0;
        }
        let done: usize = stage.after.iter().map(|&d| self.finished(d)).sum();
        let total: usize = stage.after.iter().map(|&d| self.slots[d].len()).sum();
        match stage.ratio {
            _ if done == total => u32::MAX,
            Some(r) => (done / r as usize) as u32,
            None => 0,
        }
    }

    /// The highest locality level task (`s`, `i`) accepts at `now`.
    fn max_level(&self, places: &[&Place], since: Duration, now: Duration) -> u8 {
        let mut levels = Vec::new();
        if places.iter().any(|p| matches!(p, Place::Host(_))) {
            levels.push(0);
        }
        if places.iter().any(|p| matches!(p, Place::Attribute(..))) {
            levels.push(1);
        }
        levels.push(2);
        let waited = now.saturating_sub(since);
        let steps = if self.locality_wait.is_zero() {
            levels.len()
        } else {
            (waited.as_nanos() / self.locality_wait.as_nanos()) as usize
        };
        levels[steps.min(levels.len() - 1)]
    }

    /// The tasks to launch on `offer` at `now` (each taken from the offer's resources).
    pub fn offer(&mut self, offer: &Offer, now: Duration) -> Vec<Launch> {
        let mut candidates = Vec::new();
        let allow: Vec<u32> = (0..self.slots.len()).map(|s| self.allowed(s)).collect();
        for s in 0..self.slots.len() {
            for i in 0..self.slots[s].len() {
                let Slot::Waiting {
                    attempt,
                    not_before,
                    since,
                } = self.slots[s][i]
                else {
                    continue;
                };
                if now < not_before || (attempt == 0 && self.started[s] >= allow[s]) {
                    continue;
                }
                let since = since.unwrap_or(now);
                self.slots[s][i] = Slot::Waiting {
                    attempt,
                    not_before,
                    since: Some(since),
                };
                let places: Vec<&Place> = self.job.stages[s].places(i as u32).collect();
                let level = level_of(&places, offer);
                if level <= self.max_level(&places, since, now) {
                    candidates.push((level, s, i as u32, attempt));
                }
            }
        }
        candidates.sort();
        let mut packer = OfferPacker::new(offer);
        let mut out = Vec::new();
        for (level, s, i, attempt) in candidates {
            let stage = &self.job.stages[s];
            if attempt == 0 && self.started[s] >= allow[s] {
                continue;
            }
            let Some(resources) = packer.take(&stage.resources) else {
                continue;
            };
            let id = format!("{}.{i}.{attempt}", stage.name);
            out.push(Launch {
                id: id.clone(),
                name: format!("{}-{i}", stage.name),
                stage: s,
                index: i,
                command: stage.command.clone(),
                resources,
                level,
            });
            if attempt == 0 {
                self.started[s] += 1;
            }
            self.live.insert(id.clone(), (s, i));
            self.slots[s][i as usize] = Slot::Running {
                attempt,
                id,
                level,
                running: false,
            };
        }
        out
    }

    /// Applies a status update of task `id` at `now`.
    pub fn update(&mut self, id: &str, state: TaskState, now: Duration) -> Outcome {
        let Some(&(s, i)) = self.live.get(id) else {
            return Outcome::Ignored;
        };
        let stage = &self.job.stages[s];
        let name = format!("{}-{i}", stage.name);
        let slot = &mut self.slots[s][i as usize];
        let Slot::Running {
            attempt,
            level,
            running,
            ..
        } = slot
        else {
            return Outcome::Ignored;
        };
        if !state.is_terminal() {
            *running = true;
            return Outcome::Running(name);
        }
        let (attempt, level) = (*attempt, *level);
        self.live.remove(id);
        if state == TaskState::Finished {
            *slot = Slot::Finished { level };
            return Outcome::Finished(name);
        }
        if attempt >= stage.retries {
            *slot = Slot::Failed;
            return Outcome::Failed(name);
        }
        let wait = self
            .backoff
            .saturating_mul(1 << attempt.min(16))
            .min(MAX_BACKOFF);
        let not_before = now + wait;
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

    /// Whether any task still waits for a launch (offers are still wanted).
    pub fn wants_offers(&self) -> bool {
        (0..self.slots.len()).any(|s| {
            !self.blocked(s)
                && self.slots[s]
                    .iter()
                    .any(|t| matches!(t, Slot::Waiting { .. }))
        })
    }

    /// Counts of the tasks' states.
    pub fn summary(&self) -> Summary {
        let mut sum = Summary::default();
        for (s, slots) in self.slots.iter().enumerate() {
            let blocked = self.blocked(s);
            for (i, t) in slots.iter().enumerate() {
                sum.total += 1;
                match t {
                    Slot::Finished { level } => {
                        sum.finished += 1;
                        if self.job.stages[s].places(i as u32).next().is_some() {
                            sum.preferring += 1;
                            sum.on_preferred += usize::from(*level < 2);
                        }
                    }
                    Slot::Running { .. } => sum.running += 1,
                    Slot::Failed => sum.failed += 1,
                    Slot::Waiting { .. } if blocked => sum.skipped += 1,
                    Slot::Waiting { .. } => {}
                }
            }
        }
        sum
    }

    /// Names of the tasks that failed for good.
    pub fn failed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (s, slots) in self.slots.iter().enumerate() {
            for (i, t) in slots.iter().enumerate() {
                if matches!(t, Slot::Failed) {
                    out.push(format!("{}-{i}", self.job.stages[s].name));
                }
            }
        }
        out
    }

    /// Every task finished, failed or skipped.
    pub fn done(&self) -> bool {
        let s = self.summary();
        s.finished + s.failed + s.skipped == s.total
    }
}
