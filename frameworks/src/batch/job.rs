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

pub use crate::locality::Place;

/// One `prefer` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    /// The place.
    pub place: Place,
    /// Task indices it applies to (`None`: all).
    pub tasks: Option<Vec<u32>>,
}

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
        self.prefer
            .iter()
            .filter(move |p| p.tasks.as_ref().is_none_or(|t| t.contains(&index)))
            .map(|p| &p.place)
    }
}

/// Most tasks a stage may have.
pub const MAX_TASKS: u64 = 1_000_000;

fn field<'a>(v: &'a Value, name: &str, at: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("{at}.{name} is missing"))
}

fn text(v: &Value, name: &str, at: &str) -> Result<String, String> {
    match field(v, name, at)?.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(format!("{at}.{name} must be a non-empty string")),
    }
}

fn count(v: &Value, name: &str, at: &str, max: u64) -> Result<Option<u32>, String> {
    match v.get(name) {
        None => Ok(None),
        Some(x) => match x.as_u64() {
            Some(n) if n <= max => Ok(Some(n as u32)),
            _ => Err(format!("{at}.{name} must be an integer from 0 to {max}")),
        },
    }
}

fn preference(p: &Value, at: &str, tasks: u32) -> Result<Preference, String> {
    let place = match (p.get("hostname"), p.get("attribute")) {
        (Some(_), None) => Place::Host(text(p, "hostname", at)?),
        (None, Some(_)) => {
            let a = text(p, "attribute", at)?;
            let (k, v) = a
                .split_once(':')
                .ok_or_else(|| format!("{at}.attribute must be name:value, not {a:?}"))?;
            Place::Attribute(k.to_string(), v.to_string())
        }
        _ => return Err(format!("{at} must have exactly one of hostname, attribute")),
    };
    let indices = match p.get("tasks") {
        None => None,
        Some(t) => {
            let list = t.as_array().ok_or(format!("{at}.tasks must be a list"))?;
            let mut out = Vec::new();
            for (i, x) in list.iter().enumerate() {
                match x.as_u64() {
                    Some(n) if n < tasks as u64 => out.push(n as u32),
                    _ => {
                        return Err(format!(
                            "{at}.tasks[{i}] must be a task index below {tasks}"
                        ))
                    }
                }
            }
            Some(out)
        }
    };
    Ok(Preference {
        place,
        tasks: indices,
    })
}

fn stage(s: &Value, at: &str, earlier: &[Stage]) -> Result<Stage, String> {
    let name = text(s, "name", at)?;
    if earlier.iter().any(|e| e.name == name) {
        return Err(format!("{at}.name {name:?} is used by an earlier stage"));
    }
    let tasks = count(s, "tasks", at, MAX_TASKS)?.ok_or(format!("{at}.tasks is missing"))?;
    if tasks == 0 {
        return Err(format!("{at}.tasks must be at least 1"));
    }
    let command = text(s, "command", at)?;
    let resources = match s.get("resources") {
        None => "cpus:0.1;mem:32".to_string(),
        Some(_) => text(s, "resources", at)?,
    };
    let resources =
        Resources::parse(&resources, "*").map_err(|e| format!("{at}.resources: {e}"))?;
    if resources.is_empty() {
        return Err(format!("{at}.resources must not be empty"));
    }
    let mut prefer = Vec::new();
    if let Some(p) = s.get("prefer") {
        let list = p.as_array().ok_or(format!("{at}.prefer must be a list"))?;
        for (i, p) in list.iter().enumerate() {
            prefer.push(preference(p, &format!("{at}.prefer[{i}]"), tasks)?);
        }
    }
    let mut after = Vec::new();
    if let Some(a) = s.get("after") {
        let list = a.as_array().ok_or(format!("{at}.after must be a list"))?;
        for (i, x) in list.iter().enumerate() {
            let n = x.as_str().unwrap_or_default();
            let idx = earlier
                .iter()
                .position(|e| e.name == n)
                .ok_or_else(|| format!("{at}.after[{i}] must name an earlier stage, not {x}"))?;
            after.push(idx);
        }
    }
    let ratio = count(s, "ratio", at, MAX_TASKS)?;
    if ratio == Some(0) || (ratio.is_some() && after.is_empty()) {
        return Err(format!("{at}.ratio must be at least 1 and needs after"));
    }
    Ok(Stage {
        name,
        tasks,
        command,
        resources,
        prefer,
        retries: count(s, "retries", at, 100)?.unwrap_or(0),
        after,
        ratio,
    })
}

impl Job {
    /// Parses and validates a job file's text.
    pub fn parse(text_: &str) -> Result<Job, String> {
        let v: Value = serde_json::from_str(text_).map_err(|e| format!("not JSON: {e}"))?;
        if !v.is_object() {
            return Err("the job must be a JSON object".into());
        }
        let name = text(&v, "name", "job")?;
        let revocable = match v.get("revocable") {
            None => false,
            Some(b) => b.as_bool().ok_or("job.revocable must be true or false")?,
        };
        let list = field(&v, "stages", "job")?
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or("job.stages must be a non-empty list")?;
        let mut stages = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let st = stage(s, &format!("job.stages[{i}]"), &stages)?;
            stages.push(st);
        }
        Ok(Job {
            name,
            revocable,
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
