//! The batch scheduler's pure core: which of a job's tasks to launch on an offer, given the
//! current time, and what a status update changes. No I/O, no clock reads.
//!
//! Stage order: a task of a stage with `after` starts only once every task of those stages
//! finished, or, with `ratio` R, while the stage has started fewer than (finished tasks of
//! those stages) / R of its tasks. A stage after one whose task failed for good never starts
//! (its tasks are *skipped*).
//!
//! Delay scheduling ([`crate::locality`]), timed from when a task became ready; within an
//! offer, tasks are taken best level first.
//!
//! Retries: a failed attempt is retried `retries` times, the n-th retry not before
//! `backoff * 2^(n-1)` (at most [`MAX_BACKOFF`]). At most one attempt of a task is live.

use std::collections::HashMap;
use std::time::Duration;

use meso_api::v1::{Offer, TaskState};
use meso_api::Resources;

use super::job::Job;
use crate::locality::{level_of, max_level, Place};
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

/// How many of a stage's tasks are in each state, kept as slots change (so progress
/// and offers cost O(stages), not O(tasks)).
#[derive(Debug, Clone, Default)]
struct Counts {
    waiting: usize,
    running: usize,
    finished: usize,
    failed: usize,
    /// Finished tasks with preferences, and of those the ones on a preferred place.
    preferring: usize,
    on_preferred: usize,
}

/// A job's tasks and their states.
#[derive(Debug, Clone)]
pub struct Plan {
    job: Job,
    locality_wait: Duration,
    backoff: Duration,
    slots: Vec<Vec<Slot>>,
    counts: Vec<Counts>,
    started: Vec<u32>,
    live: HashMap<String, (usize, u32)>,
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
        let counts = job
            .stages
            .iter()
            .map(|s| Counts {
                waiting: s.tasks as usize,
                ..Counts::default()
            })
            .collect();
        Plan {
            job,
            locality_wait,
            backoff,
            slots,
            counts,
            started,
            live: HashMap::new(),
        }
    }

    /// The job.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// Whether stage `s` can never start (a stage it waits for failed or is blocked).
    fn blocked(&self, s: usize) -> bool {
        self.job.stages[s]
            .after
            .iter()
            .any(|&d| self.blocked(d) || self.counts[d].failed > 0)
    }

    /// How many of stage `s`'s tasks may have started by now.
    fn allowed(&self, s: usize) -> u32 {
        let stage = &self.job.stages[s];
        if self.blocked(s) {
            return 0;
        }
        let done: usize = stage.after.iter().map(|&d| self.counts[d].finished).sum();
        let total: usize = stage.after.iter().map(|&d| self.slots[d].len()).sum();
        match stage.ratio {
            _ if done == total => u32::MAX,
            Some(r) => (done / r as usize) as u32,
            None => 0,
        }
    }

    /// The tasks to launch on `offer` at `now` (each taken from the offer's resources).
    pub fn offer(&mut self, offer: &Offer, now: Duration) -> Vec<Launch> {
        // By level, each in (stage, index) order: the order a sort would give.
        let mut candidates: [Vec<(usize, u32, u32)>; 3] = Default::default();
        let allow: Vec<u32> = (0..self.slots.len()).map(|s| self.allowed(s)).collect();
        for (s, &allowed) in allow.iter().enumerate() {
            if self.counts[s].waiting == 0 {
                continue;
            }
            let prefers = !self.job.stages[s].prefer.is_empty();
            for i in 0..self.slots[s].len() {
                let Slot::Waiting {
                    attempt,
                    not_before,
                    since,
                } = self.slots[s][i]
                else {
                    continue;
                };
                if now < not_before || (attempt == 0 && self.started[s] >= allowed) {
                    continue;
                }
                let since = since.unwrap_or(now);
                self.slots[s][i] = Slot::Waiting {
                    attempt,
                    not_before,
                    since: Some(since),
                };
                if !prefers {
                    candidates[2].push((s, i as u32, attempt));
                    continue;
                }
                let places: Vec<&Place> = self.job.stages[s].places(i as u32).collect();
                let level = level_of(&places, offer);
                if level <= max_level(&places, now.saturating_sub(since), self.locality_wait) {
                    candidates[level as usize].push((s, i as u32, attempt));
                }
            }
        }
        let mut packer = OfferPacker::new(offer);
        let mut out = Vec::new();
        // A stage whose task did not fit: none of its tasks (same resources) will.
        let mut full = vec![false; self.slots.len()];
        let by_level = candidates.into_iter().enumerate();
        for (level, (s, i, attempt)) in
            by_level.flat_map(|(l, c)| c.into_iter().map(move |c| (l as u8, c)))
        {
            let stage = &self.job.stages[s];
            if full[s] || (attempt == 0 && self.started[s] >= allow[s]) {
                continue;
            }
            let Some(resources) = packer.take(&stage.resources) else {
                full[s] = true;
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
            self.counts[s].waiting -= 1;
            self.counts[s].running += 1;
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
        let counts = &mut self.counts[s];
        counts.running -= 1;
        if state == TaskState::Finished {
            *slot = Slot::Finished { level };
            counts.finished += 1;
            if stage.places(i).next().is_some() {
                counts.preferring += 1;
                counts.on_preferred += usize::from(level < 2);
            }
            return Outcome::Finished(name);
        }
        if attempt >= stage.retries {
            *slot = Slot::Failed;
            counts.failed += 1;
            return Outcome::Failed(name);
        }
        counts.waiting += 1;
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
        (0..self.slots.len()).any(|s| !self.blocked(s) && self.counts[s].waiting > 0)
    }

    /// Counts of the tasks' states.
    pub fn summary(&self) -> Summary {
        let mut sum = Summary::default();
        for (s, c) in self.counts.iter().enumerate() {
            sum.total += self.slots[s].len();
            sum.finished += c.finished;
            sum.running += c.running;
            sum.failed += c.failed;
            sum.preferring += c.preferring;
            sum.on_preferred += c.on_preferred;
            if self.blocked(s) {
                sum.skipped += c.waiting;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn offer(host: &str, rack: Option<&str>, cpus: u32) -> Offer {
        let mut json = serde_json::json!({
            "id": {"value": "o"}, "framework_id": {"value": "f"},
            "agent_id": {"value": host}, "hostname": host,
        });
        if let Some(r) = rack {
            json["attributes"] = serde_json::json!([
                {"name": "rack", "type": "TEXT", "text": {"value": r}}
            ]);
        }
        let mut o: Offer = serde_json::from_value(json).unwrap();
        o.resources = Resources::parse(&format!("cpus:{cpus};mem:4096"), "*")
            .unwrap()
            .allocate("*");
        o
    }

    fn job(text: serde_json::Value) -> Job {
        Job::parse(&text.to_string()).unwrap()
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn delay_scheduling_waits_for_the_host_then_the_rack_then_any() {
        let j = job(
            serde_json::json!({"name": "j", "stages": [{"name": "m", "tasks": 1,
            "command": "true", "resources": "cpus:1",
            "prefer": [{"hostname": "a"}, {"attribute": "rack:r1"}]}]}),
        );
        let mut p = Plan::new(j, 3 * S, S);
        assert!(p.offer(&offer("c", None, 4), Duration::ZERO).is_empty());
        assert!(p.offer(&offer("b", Some("r1"), 4), 2 * S).is_empty());
        let l = p.offer(&offer("b", Some("r1"), 4), 3 * S);
        assert_eq!((l.len(), l[0].level), (1, 1));
        let mut p2 = Plan::new(p.job().clone(), 3 * S, S);
        assert!(p2.offer(&offer("c", None, 4), Duration::ZERO).is_empty());
        assert!(p2.offer(&offer("c", None, 4), 5 * S).is_empty());
        assert_eq!(p2.offer(&offer("c", None, 4), 6 * S)[0].level, 2);
        let mut p3 = Plan::new(p.job().clone(), 3 * S, S);
        assert_eq!(p3.offer(&offer("a", None, 4), Duration::ZERO)[0].level, 0);
    }

    #[test]
    fn a_failed_stage_skips_the_stages_after_it() {
        let j = job(serde_json::json!({"name": "j", "stages": [
            {"name": "m", "tasks": 1, "command": "false", "retries": 1},
            {"name": "r", "tasks": 2, "command": "true", "after": ["m"]}]}));
        let mut p = Plan::new(j, Duration::ZERO, S);
        let l = p.offer(&offer("a", None, 8), Duration::ZERO);
        assert_eq!(l.len(), 1);
        assert_eq!(
            p.update(&l[0].id, TaskState::Failed, S),
            Outcome::Retry("m-0".into(), 2 * S)
        );
        assert!(p.offer(&offer("a", None, 8), S).is_empty(), "backoff");
        let l = p.offer(&offer("a", None, 8), 2 * S);
        assert_eq!(l[0].id, "m.0.1");
        assert_eq!(
            p.update(&l[0].id, TaskState::Failed, S),
            Outcome::Failed("m-0".into())
        );
        assert!(p.done());
        assert_eq!(p.summary().skipped, 2);
        assert_eq!(p.failed(), vec!["m-0".to_string()]);
    }

    /// The summary counted from the slots one by one (what the kept counts must equal).
    fn recount(p: &Plan) -> Summary {
        let mut sum = Summary::default();
        for (s, slots) in p.slots.iter().enumerate() {
            for (i, t) in slots.iter().enumerate() {
                sum.total += 1;
                match t {
                    Slot::Finished { level } => {
                        sum.finished += 1;
                        if p.job.stages[s].places(i as u32).next().is_some() {
                            sum.preferring += 1;
                            sum.on_preferred += usize::from(*level < 2);
                        }
                    }
                    Slot::Running { .. } => sum.running += 1,
                    Slot::Failed => sum.failed += 1,
                    Slot::Waiting { .. } if p.blocked(s) => sum.skipped += 1,
                    Slot::Waiting { .. } => {}
                }
            }
        }
        sum
    }

    proptest! {
        /// Random offers and updates: a stage never starts before its `after` stages allow
        /// (all finished, or one task per `ratio` finished), a task never has two live
        /// attempts, no task runs more than 1 + retries times, and the kept counts always
        /// equal a recount of the tasks' states.
        #[test]
        fn stage_order_single_attempts_and_bounded_retries(
            maps in 1u32..8, reduces in 1u32..5, ratio in proptest::option::of(1u32..4),
            retries in 0u32..3, wait in 0u64..3,
            steps in proptest::collection::vec((0u8..3, 0usize..64, 0u8..4, 1u32..6), 1..120),
        ) {
            let mut r = serde_json::json!({"name": "r", "tasks": reduces, "command": "x",
                "resources": "cpus:1", "after": ["m"], "retries": retries,
                "prefer": [{"hostname": "h1"}]});
            if let Some(x) = ratio {
                r["ratio"] = x.into();
            }
            let j = job(serde_json::json!({"name": "j", "stages": [
                {"name": "m", "tasks": maps, "command": "x", "resources": "cpus:1",
                 "retries": retries, "prefer": [{"attribute": "rack:r1", "tasks": [0]}]}, r]}));
            let mut p = Plan::new(j, Duration::from_secs(wait), S);
            let mut live: Vec<(String, usize, u32)> = Vec::new();
            let mut runs: HashMap<(usize, u32), u32> = HashMap::new();
            let mut finished_maps = 0u32;
            let mut started_reduces = std::collections::HashSet::new();
            for (t, (kind, pick, host, cpus)) in steps.into_iter().enumerate() {
                let now = Duration::from_millis(700 * t as u64);
                if kind == 0 || live.is_empty() {
                    let o = offer(&format!("h{host}"), (host % 2 == 1).then_some("r1"), cpus);
                    for l in p.offer(&o, now) {
                        prop_assert!(!live.iter().any(|(_, s, i)| (*s, *i) == (l.stage, l.index)),
                            "{} launched while running", l.name);
                        let n = runs.entry((l.stage, l.index)).or_default();
                        *n += 1;
                        prop_assert!(*n <= retries + 1, "{} ran {} times", l.name, n);
                        if l.stage == 1 {
                            started_reduces.insert(l.index);
                            let allowed = match ratio {
                                _ if finished_maps == maps => u32::MAX,
                                Some(x) => finished_maps / x,
                                None => 0,
                            };
                            prop_assert!(started_reduces.len() as u32 <= allowed,
                                "reduce {} early: {} maps finished", l.index, finished_maps);
                        }
                        live.push((l.id, l.stage, l.index));
                    }
                } else {
                    let (id, s, _) = live.remove(pick % live.len());
                    let state = [TaskState::Finished, TaskState::Failed, TaskState::Lost][kind as usize % 3];
                    let out = p.update(&id, state, now);
                    if matches!(out, Outcome::Finished(_)) && s == 0 {
                        finished_maps += 1;
                    }
                    prop_assert_eq!(p.update(&id, state, now), Outcome::Ignored, "a second update is stale");
                }
                let sum = p.summary();
                prop_assert_eq!(sum.running, live.len());
                prop_assert_eq!(&sum, &recount(&p), "kept counts drifted from the slots");
            }
        }
    }
}
