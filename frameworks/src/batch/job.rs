//! A batch job as its JSON job file describes it, validated: every error names the field.
//!
//! ```json
//! {"name": "wc", "revocable": false, "stages": [
//!   {"name": "map", "tasks": 6, "command": "echo $MESO_BATCH_TASK_INDEX",
//!    "resources": "cpus:0.1;mem:32", "retries": 2,
//!    "prefer": [{"hostname": "node-1"}, {"attribute": "rack:r1", "tasks": [0, 1]}]},
//!   {"name": "reduce", "tasks": 2, "command": "...", "after": ["map"], "ratio": 3}]}
//! ```
//!
//! `prefer` is per stage: each entry names a host (`hostname`) or an agent attribute
//! (`attribute`, `name:value`), and applies to every task of the stage unless `tasks` lists
//! the task indices it applies to. `after` names earlier stages whose tasks must all finish
//! first; with `ratio` R (seed 001's mapToReduceRatio) the stage may start one task per R
//! finished tasks of those stages before they are all done.

use meso_api::Resources;
use serde_json::Value;

use crate::spec::Spec;

/// A job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its name (also the framework's: `meso-batch <name>`).
    pub name: String,
    /// Run on revocable cpus and mem.
    pub revocable: bool,
    /// Its stages, in file order.
    pub stages: Vec<Stage>,
}

pub use crate::locality::{Place, Preference};

/// A stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Its name.
    pub name: String,
    /// How many tasks.
    pub tasks: u32,
    /// Shell command; `$MESO_BATCH_TASK_INDEX` is the task's index.
    pub command: String,
    /// Each task's resources.
    pub resources: Resources,
    /// Preferred places.
    pub prefer: Vec<Preference>,
    /// Retries of a failed task.
    pub retries: u32,
    /// Stages (indices) that come first.
    pub after: Vec<usize>,
    /// Finished tasks of `after` needed per task started early (`None`: wait for all).
    pub ratio: Option<u32>,
}

impl Stage {
    /// The places task `index` prefers.
    pub fn places(&self, index: u32) -> impl Iterator<Item = &Place> {
        Preference::places(&self.prefer, index)
    }
}

/// Most tasks a stage may have.
pub const MAX_TASKS: u32 = 1_000_000;

fn stage(s: &Spec<'_>, earlier: &[Stage]) -> Result<Stage, String> {
    let name = s.text("name")?;
    if earlier.iter().any(|e| e.name == name) {
        return Err(s.error_at("name", &format!("{name:?} is used by an earlier stage")));
    }
    let tasks = s.required("tasks")?.as_count(1..=MAX_TASKS)?;
    let command = s.text("command")?;
    let resources = s.opt("resources", Spec::as_text)?;
    let resources = resources.as_deref().unwrap_or("cpus:0.1;mem:32");
    let resources = Resources::parse(resources, "*")
        .map_err(|e| s.error_at("resources", &format!("is invalid: {e}")))?;
    if resources.is_empty() {
        return Err(s.error_at("resources", "must not be empty"));
    }
    let prefer = s.list("prefer")?;
    let prefer: Result<_, _> = prefer
        .iter()
        .map(|p| Preference::from_spec(p, tasks))
        .collect();
    let mut after = Vec::new();
    for a in s.list("after")? {
        let n = a.value().as_str().unwrap_or_default();
        let earlier_stage = earlier.iter().position(|e| e.name == n);
        let not_earlier = format!("must name an earlier stage, not {}", a.value());
        after.push(earlier_stage.ok_or_else(|| a.error(&not_earlier))?);
    }
    let ratio = s.opt("ratio", |r| r.as_count(1..=MAX_TASKS))?;
    if ratio.is_some() && after.is_empty() {
        return Err(s.error_at("ratio", "needs after"));
    }
    Ok(Stage {
        name,
        tasks,
        command,
        resources,
        prefer: prefer?,
        retries: s.opt("retries", |r| r.as_count(0..=100))?.unwrap_or(0),
        after,
        ratio,
    })
}

impl Job {
    /// Parses and validates a job file's text.
    pub fn parse(text: &str) -> Result<Job, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        if !v.is_object() {
            return Err("the job must be a JSON object".into());
        }
        let job = Spec::new(&v, "job");
        let name = job.text("name")?;
        let list = job.required("stages")?.as_list()?;
        if list.is_empty() {
            return Err(job.error_at("stages", "must be a non-empty list"));
        }
        let mut stages = Vec::new();
        for s in &list {
            let st = stage(s, &stages)?;
            stages.push(st);
        }
        Ok(Job {
            name,
            revocable: job.opt("revocable", Spec::as_flag)?.unwrap_or(false),
            stages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_parses() {
        let job = Job::parse(
            r#"{"name": "wc", "stages": [{"name": "map", "tasks": 6, "command": "echo $MESO_BATCH_TASK_INDEX",
              "resources": "cpus:0.1;mem:32", "prefer": [{"hostname": "node-1"}, {"attribute": "rack:r1", "tasks": [5]}],
              "retries": 2}, {"name": "reduce", "tasks": 2, "command": "true", "after": ["map"], "ratio": 3}]}"#,
        )
        .unwrap();
        assert_eq!(job.stages[1].after, vec![0]);
        assert_eq!(job.stages[1].ratio, Some(3));
        assert_eq!(job.stages[0].places(5).count(), 2);
        assert_eq!(job.stages[0].places(4).count(), 1);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"stages": []}"#, "job.name"),
            (r#"{"name": "j", "stages": []}"#, "job.stages"),
            (
                r#"{"name": "j", "stages": [{"name": "a", "command": "x"}]}"#,
                "job.stages[0].tasks",
            ),
            (
                r#"{"name": "j", "stages": [{"name": "a", "tasks": 1, "command": "x", "resources": "cpus:x"}]}"#,
                "job.stages[0].resources",
            ),
            (
                r#"{"name": "j", "stages": [{"name": "a", "tasks": 1, "command": "x", "after": ["b"]}]}"#,
                "job.stages[0].after[0]",
            ),
            (
                r#"{"name": "j", "stages": [{"name": "a", "tasks": 1, "command": "x", "prefer": [{}]}]}"#,
                "job.stages[0].prefer[0]",
            ),
            (
                r#"{"name": "j", "stages": [{"name": "a", "tasks": 1, "command": "x", "prefer": [{"hostname": "h", "tasks": [1]}]}]}"#,
                "job.stages[0].prefer[0].tasks[0]",
            ),
            (
                r#"{"name": "j", "stages": [{"name": "a", "tasks": 1, "command": "x", "retries": -1}]}"#,
                "job.stages[0].retries",
            ),
            (
                r#"{"name": "j", "stages": [{"name": "a", "tasks": 1, "command": "x"}, {"name": "a", "tasks": 1, "command": "x"}]}"#,
                "job.stages[1].name",
            ),
            (
                r#"{"name": "j", "revocable": 1, "stages": [{"name": "a", "tasks": 1, "command": "x"}]}"#,
                "job.revocable",
            ),
            ("[", "not JSON"),
        ];
        for (text, field) in cases {
            let e = Job::parse(text).unwrap_err();
            assert!(e.contains(field), "{text}: {e}");
        }
    }
}
