//! The batch scheduler's pure core: which of a job's tasks to launch on an offer, given the
//! current time, and what a status update changes. No I/O, no clock reads.
//!
//! The job's stages are the groups of a [`TaskBook`] (attempts, retries with backoff,
//! counts) in a [`StageOrder`] (`after`, `ratio`; a stage after a failed one is skipped).
//! Delay scheduling ([`crate::locality`]) is timed from when a task became ready; within an
//! offer, tasks are taken best level first, each level in (stage, index) order.

use std::time::Duration;

use meso_api::v1::{Offer, TaskState};
use meso_api::Resources;

use super::job::Job;
use crate::locality::{level_of, max_level, Place, ANY};
use crate::packing::OfferPacker;
use crate::stages::StageOrder;
use crate::tasks::{Backoff, Outcome, Summary, TaskBook};

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

/// A job's tasks and their states.
#[derive(Debug, Clone)]
pub struct Plan {
    job: Job,
    locality_wait: Duration,
    book: TaskBook,
    order: StageOrder,
}

impl Plan {
    /// A plan with every task waiting; `revocable` resources when the job asks.
    pub fn new(mut job: Job, locality_wait: Duration, backoff: Duration) -> Plan {
        for s in &mut job.stages {
            s.resources = crate::execute::task_resources(&s.resources, job.revocable);
        }
        let groups = job
            .stages
            .iter()
            .map(|s| (s.name.clone(), s.tasks, s.retries));
        let book = TaskBook::new(groups, Backoff::new(backoff));
        let order = StageOrder::new(
            job.stages
                .iter()
                .map(|s| (s.after.clone(), s.ratio))
                .collect(),
        );
        Plan {
            job,
            locality_wait,
            book,
            order,
        }
    }

    /// The tasks to launch on `offer` at `now` (each taken from the offer's resources).
    pub fn offer(&mut self, offer: &Offer, now: Duration) -> Vec<Launch> {
        let stages = 0..self.job.stages.len();
        let allow: Vec<u32> = stages
            .map(|s| self.order.first_launches(s, &self.book))
            .collect();
        let mut candidates: [Vec<(usize, u32)>; 3] = Default::default();
        for (s, stage) in self.job.stages.iter().enumerate() {
            for ready in self.book.ready(s, now, allow[s]) {
                let places: Vec<&Place> = stage.places(ready.index).collect();
                let level = level_of(&places, offer);
                // (No preference: any level, without max_level's work per task.)
                if places.is_empty()
                    || level <= max_level(&places, ready.waited, self.locality_wait)
                {
                    candidates[level as usize].push((s, ready.index));
                }
            }
        }
        let mut packer = OfferPacker::new(offer);
        let mut out = Vec::new();
        // A stage whose task did not fit: none of its tasks (same resources) will.
        let mut full = vec![false; self.job.stages.len()];
        for (level, list) in candidates.into_iter().enumerate() {
            for (s, i) in list {
                let stage = &self.job.stages[s];
                if full[s] || !self.book.may_launch(s, i, allow[s]) {
                    continue;
                }
                let Some(resources) = packer.take(&stage.resources) else {
                    full[s] = true;
                    continue;
                };
                let placed = stage.places(i).next().map(|_| level < ANY as usize);
                let (id, name) = self.book.launch(s, i, placed);
                out.push(Launch {
                    id,
                    name,
                    stage: s,
                    index: i,
                    command: stage.command.clone(),
                    resources,
                    level: level as u8,
                });
            }
        }
        out
    }

    /// Applies a status update of task `id` at `now`.
    pub fn update(&mut self, id: &str, state: TaskState, now: Duration) -> Outcome {
        self.book.update(id, state, now)
    }

    /// Whether any task still waits for a launch (offers are still wanted).
    pub fn wants_offers(&self) -> bool {
        let mut stages = 0..self.job.stages.len();
        stages.any(|s| self.book.counts(s).waiting > 0 && !self.order.blocked(s, &self.book))
    }

    /// Counts of the tasks' states.
    pub fn summary(&self) -> Summary {
        self.book.summary(|s| self.order.blocked(s, &self.book))
    }

    /// Names of the tasks that failed for good.
    pub fn failed(&self) -> Vec<String> {
        self.book.failed()
    }

    /// Every task finished, failed or skipped.
    pub fn done(&self) -> bool {
        let s = self.summary();
        s.ended() == s.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

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
        let mut p = Plan::new(j.clone(), 3 * S, S);
        assert!(p.offer(&offer("c", None, 4), Duration::ZERO).is_empty());
        assert!(p.offer(&offer("b", Some("r1"), 4), 2 * S).is_empty());
        let l = p.offer(&offer("b", Some("r1"), 4), 3 * S);
        assert_eq!((l.len(), l[0].level), (1, 1));
        let mut p2 = Plan::new(j.clone(), 3 * S, S);
        assert!(p2.offer(&offer("c", None, 4), Duration::ZERO).is_empty());
        assert!(p2.offer(&offer("c", None, 4), 5 * S).is_empty());
        assert_eq!(p2.offer(&offer("c", None, 4), 6 * S)[0].level, 2);
        let mut p3 = Plan::new(j.clone(), 3 * S, S);
        assert_eq!(p3.offer(&offer("a", None, 4), Duration::ZERO)[0].level, 0);
    }

    #[test]
    fn a_revocable_job_launches_on_revocable_cpus_and_mem() {
        let j = job(
            serde_json::json!({"name": "j", "revocable": true, "stages": [
            {"name": "m", "tasks": 1, "command": "true", "resources": "cpus:1;mem:32;disk:8"}]}),
        );
        let mut o = offer("a", None, 4);
        o.resources = Resources::parse("cpus:4;mem:4096;disk:100", "*")
            .unwrap()
            .into_iter()
            .map(|r| {
                if &*r.name == "disk" {
                    r
                } else {
                    r.into_revocable()
                }
            })
            .collect::<Resources>()
            .allocate("*");
        let l = Plan::new(j, Duration::ZERO, S).offer(&o, Duration::ZERO);
        assert_eq!(l.len(), 1);
        for r in l[0].resources.iter() {
            assert_eq!(r.revocable, &*r.name != "disk", "{r:?}");
        }
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

    proptest! {
        /// Random offers and updates: a stage never starts before its `after` stages allow
        /// (all finished, or one task per `ratio` finished), a task never has two live
        /// attempts, no task runs more than 1 + retries times, and the running count is the
        /// live attempts' (the counts themselves are checked in `crate::tasks`).
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
            }
        }
    }
}
