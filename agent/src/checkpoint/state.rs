//! The checkpointed state as typed values, and the reader that rebuilds it from `meta/`.
//!
//! [`read`] walks the [`super::layout`] and returns a [`RecoveredState`]: the boot id, the
//! agent's info, and per framework its executors, their runs (forked pid, whether the
//! executor had subscribed over HTTP, whether the run completed) and the runs' tasks with
//! their status update records.
//!
//! What counts as damage, after Mesos's `src/slave/state.cpp`:
//! - a directory without its `.info` file is an entity the agent was still creating when it
//!   died: skipped (logged by the caller from [`RecoveredState::skipped`]), never an error;
//! - a torn tail of `task.updates` is an interrupted append: the valid prefix is the state
//!   and [`TaskCheckpoint::updates_valid_len`] says where to cut;
//! - anything else (an `.info` that is not JSON of its type or names another id, a pid that
//!   is not a number, a garbled update record, an unreadable file) is a
//!   [`CheckpointError`] naming the file: with `strict` the first one ends the read, without
//!   it the entity is skipped (or its updates cut to the valid prefix) and the error is
//!   listed in [`RecoveredState::problems`].
//!
//! Never panics on what it reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meso_api::v1::{
    AgentId, AgentInfo, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId,
    TaskInfo,
};
use serde::de::DeserializeOwned;

use super::layout;
use super::records::{self, Damage, UpdateRecord};
use super::CheckpointError;

/// Everything read back from `meta/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoveredState {
    /// The boot id written when the agent last started.
    pub boot_id: Option<String>,
    /// The agent, if it had registered and checkpointed its info.
    pub agent: Option<AgentCheckpoint>,
    /// Damage skipped in non-strict mode.
    pub problems: Vec<CheckpointError>,
    /// Entities skipped because they were incomplete (their `.info` missing).
    pub skipped: Vec<PathBuf>,
}

/// The agent as checkpointed.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCheckpoint {
    /// Its info, with its id, resources and attributes.
    pub info: AgentInfo,
    /// Its frameworks.
    pub frameworks: BTreeMap<FrameworkId, FrameworkCheckpoint>,
}

/// A framework with checkpointed executors.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkCheckpoint {
    /// Its info.
    pub info: FrameworkInfo,
    /// Its executors.
    pub executors: BTreeMap<ExecutorId, ExecutorCheckpoint>,
}

/// An executor and its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorCheckpoint {
    /// Its info.
    pub info: ExecutorInfo,
    /// The newest run (the `runs/latest` link).
    pub latest_run: Option<ContainerId>,
    /// Its runs by container id.
    pub runs: BTreeMap<String, RunCheckpoint>,
}

/// One run (container) of an executor.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCheckpoint {
    /// The container.
    pub container_id: ContainerId,
    /// The executor process the agent forked, if checkpointed.
    pub forked_pid: Option<i32>,
    /// The executor had subscribed over the v1 HTTP API.
    pub http_subscribed: bool,
    /// The run ended and was accounted for.
    pub completed: bool,
    /// Its tasks.
    pub tasks: BTreeMap<TaskId, TaskCheckpoint>,
}

/// A task and its status update stream.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCheckpoint {
    /// The task as launched.
    pub info: TaskInfo,
    /// Its status update records, in order.
    pub updates: Vec<UpdateRecord>,
    /// Bytes of `task.updates` that hold those records (cut the file here before
    /// appending).
    pub updates_valid_len: u64,
    /// The file's length when read.
    pub updates_file_len: u64,
}

struct Reader {
    strict: bool,
    problems: Vec<CheckpointError>,
    skipped: Vec<PathBuf>,
}

impl Reader {
    /// Strict: the error ends the read. Otherwise it is noted and reading goes on.
    fn problem(&mut self, err: CheckpointError) -> Result<(), CheckpointError> {
        if self.strict {
            return Err(err);
        }
        self.problems.push(err);
        Ok(())
    }

    /// An `.info` file: `Ok(None)` when missing (skipped) or damaged (non-strict).
    fn info<T: DeserializeOwned>(
        &mut self,
        path: &Path,
        what: &str,
    ) -> Result<Option<T>, CheckpointError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.skipped.push(path.to_path_buf());
                return Ok(None);
            }
            Err(e) => {
                self.problem(CheckpointError::new(path, format!("cannot read: {e}")))?;
                return Ok(None);
            }
        };
        let parsed = records::single_frame(&bytes).and_then(|payload| {
            serde_json::from_slice(payload).map_err(|e| format!("not a valid {what}: {e}"))
        });
        match parsed {
            Ok(value) => Ok(Some(value)),
            Err(problem) => {
                self.problem(CheckpointError::new(path, problem))?;
                Ok(None)
            }
        }
    }

    /// A one-frame text file (`Ok(None)` when missing or, non-strict, damaged).
    fn text(&mut self, path: &Path) -> Result<Option<String>, CheckpointError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                self.problem(CheckpointError::new(path, format!("cannot read: {e}")))?;
                return Ok(None);
            }
        };
        let parsed = records::single_frame(&bytes).and_then(|payload| {
            String::from_utf8(payload.to_vec()).map_err(|_| "is not UTF-8 text".to_string())
        });
        match parsed {
            Ok(text) => Ok(Some(text)),
            Err(problem) => {
                self.problem(CheckpointError::new(path, problem))?;
                Ok(None)
            }
        }
    }

    /// Sub-directories of `dir` (missing dir: none), by name, without `latest` and
    /// hidden temp names.
    fn children(&mut self, dir: &Path) -> Result<Vec<String>, CheckpointError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                self.problem(CheckpointError::new(dir, format!("cannot list: {e}")))?;
                return Ok(Vec::new());
            }
        };
        let mut names = Vec::new();
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                self.problem(CheckpointError::new(
                    &entry.path(),
                    "name is not UTF-8, so it is no id",
                ))?;
                continue;
            };
            if name == "latest" || name.starts_with('.') {
                continue;
            }
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The id named by a directory; a name that is no valid id is a problem.
    fn id_of<T>(
        &mut self,
        dir: &Path,
        name: &str,
        make: impl Fn(&str) -> T,
        validate: impl Fn(&T) -> meso_api::Result<()>,
    ) -> Result<Option<T>, CheckpointError> {
        let id = make(name);
        match validate(&id) {
            Ok(()) => Ok(Some(id)),
            Err(e) => {
                self.problem(CheckpointError::new(dir, format!("not an id: {e}")))?;
                Ok(None)
            }
        }
    }

    fn mismatch(
        &mut self,
        path: &Path,
        what: &str,
        inside: &str,
        dir: &str,
    ) -> Result<(), CheckpointError> {
        self.problem(CheckpointError::new(
            path,
            format!("names {what} '{inside}' but lives in the directory of '{dir}'"),
        ))
    }
}

/// Reads the checkpoint under `meta` (a missing `meta` is an empty state).
pub fn read(meta: &Path, strict: bool) -> Result<RecoveredState, CheckpointError> {
    let mut r = Reader {
        strict,
        problems: Vec::new(),
        skipped: Vec::new(),
    };
    let boot_id = read_boot_id(&mut r, meta)?;
    let agent = read_agent(&mut r, meta)?;
    Ok(RecoveredState {
        boot_id,
        agent,
        problems: r.problems,
        skipped: r.skipped,
    })
}

fn read_boot_id(r: &mut Reader, meta: &Path) -> Result<Option<String>, CheckpointError> {
    let path = layout::boot_id(meta);
    match r.text(&path)? {
        Some(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
        Some(_) => {
            r.problem(CheckpointError::new(&path, "holds an empty boot id"))?;
            Ok(None)
        }
        None => Ok(None),
    }
}

fn read_agent(r: &mut Reader, meta: &Path) -> Result<Option<AgentCheckpoint>, CheckpointError> {
    let link = layout::latest_agent(meta);
    let target = match std::fs::read_link(&link) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            r.problem(CheckpointError::new(
                &link,
                format!("not a readable link: {e}"),
            ))?;
            return Ok(None);
        }
    };
    let Some(name) = target.to_str().map(str::to_string) else {
        r.problem(CheckpointError::new(
            &link,
            "points at a name that is not UTF-8",
        ))?;
        return Ok(None);
    };
    let Some(agent_id) = r.id_of(&link, &name, |s: &str| AgentId::new(s), AgentId::validate)?
    else {
        return Ok(None);
    };
    let dir = layout::agent_dir(meta, &agent_id);
    let info_path = layout::agent_info(&dir);
    let Some(info) = r.info::<AgentInfo>(&info_path, "AgentInfo")? else {
        return Ok(None);
    };
    if info.id.as_ref() != Some(&agent_id) {
        let inside = info.id.as_ref().map(|i| i.as_str()).unwrap_or("(none)");
        r.mismatch(&info_path, "agent", inside, agent_id.as_str())?;
        return Ok(None);
    }
    let mut frameworks = BTreeMap::new();
    let frameworks_dir = dir.join("frameworks");
    for name in r.children(&frameworks_dir)? {
        let fw_path = frameworks_dir.join(&name);
        let Some(id) = r.id_of(
            &fw_path,
            &name,
            |s: &str| FrameworkId::new(s),
            FrameworkId::validate,
        )?
        else {
            continue;
        };
        if let Some(fw) = read_framework(r, &fw_path, &id)? {
            frameworks.insert(id, fw);
        }
    }
    Ok(Some(AgentCheckpoint { info, frameworks }))
}

fn read_framework(
    r: &mut Reader,
    dir: &Path,
    id: &FrameworkId,
) -> Result<Option<FrameworkCheckpoint>, CheckpointError> {
    let info_path = layout::framework_info(dir);
    let Some(info) = r.info::<FrameworkInfo>(&info_path, "FrameworkInfo")? else {
        return Ok(None);
    };
    if info.id.as_ref() != Some(id) {
        let inside = info.id.as_ref().map(|i| i.as_str()).unwrap_or("(none)");
        r.mismatch(&info_path, "framework", inside, id.as_str())?;
        return Ok(None);
    }
    let mut executors = BTreeMap::new();
    let executors_dir = dir.join("executors");
    for name in r.children(&executors_dir)? {
        let path = executors_dir.join(&name);
        let Some(eid) = r.id_of(
            &path,
            &name,
            |s: &str| ExecutorId::new(s),
            ExecutorId::validate,
        )?
        else {
            continue;
        };
        if let Some(ex) = read_executor(r, &path, &eid)? {
            executors.insert(eid, ex);
        }
    }
    Ok(Some(FrameworkCheckpoint { info, executors }))
}

fn read_executor(
    r: &mut Reader,
    dir: &Path,
    id: &ExecutorId,
) -> Result<Option<ExecutorCheckpoint>, CheckpointError> {
    let info_path = layout::executor_info(dir);
    let Some(info) = r.info::<ExecutorInfo>(&info_path, "ExecutorInfo")? else {
        return Ok(None);
    };
    if &info.executor_id != id {
        r.mismatch(
            &info_path,
            "executor",
            info.executor_id.as_str(),
            id.as_str(),
        )?;
        return Ok(None);
    }
    let runs_dir = dir.join("runs");
    let latest_run = std::fs::read_link(runs_dir.join("latest"))
        .ok()
        .and_then(|t| t.to_str().map(ContainerId::new));
    let mut runs = BTreeMap::new();
    for name in r.children(&runs_dir)? {
        if let Some(run) = read_run(r, &runs_dir.join(&name), &name)? {
            runs.insert(name, run);
        }
    }
    Ok(Some(ExecutorCheckpoint {
        info,
        latest_run,
        runs,
    }))
}

fn read_run(
    r: &mut Reader,
    dir: &Path,
    name: &str,
) -> Result<Option<RunCheckpoint>, CheckpointError> {
    let pid_path = layout::forked_pid(dir);
    let forked_pid = match r.text(&pid_path)? {
        Some(text) => match text.trim().parse::<i32>() {
            Ok(pid) if pid > 0 => Some(pid),
            _ => {
                r.problem(CheckpointError::new(
                    &pid_path,
                    format!("holds {:?}, not a process id", truncated(&text)),
                ))?;
                return Ok(None);
            }
        },
        // Missing, or damaged and reported: the run has no known pid.
        None if pid_path.exists() => return Ok(None),
        None => None,
    };
    let mut tasks = BTreeMap::new();
    let tasks_dir = dir.join("tasks");
    for tname in r.children(&tasks_dir)? {
        let path = tasks_dir.join(&tname);
        let Some(tid) = r.id_of(&path, &tname, |s: &str| TaskId::new(s), TaskId::validate)? else {
            continue;
        };
        if let Some(task) = read_task(r, &path, &tid)? {
            tasks.insert(tid, task);
        }
    }
    Ok(Some(RunCheckpoint {
        container_id: ContainerId::new(name),
        forked_pid,
        http_subscribed: layout::http_marker(dir).exists(),
        completed: layout::run_completed(dir).exists(),
        tasks,
    }))
}

fn read_task(
    r: &mut Reader,
    dir: &Path,
    id: &TaskId,
) -> Result<Option<TaskCheckpoint>, CheckpointError> {
    let info_path = layout::task_info(dir);
    let Some(info) = r.info::<TaskInfo>(&info_path, "TaskInfo")? else {
        return Ok(None);
    };
    if &info.task_id != id {
        r.mismatch(&info_path, "task", info.task_id.as_str(), id.as_str())?;
        return Ok(None);
    }
    let updates_path = layout::task_updates(dir);
    let bytes = match std::fs::read(&updates_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            r.problem(CheckpointError::new(
                &updates_path,
                format!("cannot read: {e}"),
            ))?;
            Vec::new()
        }
    };
    let decoded = records::decode(&bytes);
    if let Some(Damage::Garbled { offset, problem }) = &decoded.damage {
        r.problem(CheckpointError::new(
            &updates_path,
            format!(
                "record at byte {offset} is damaged ({problem}); {} records before it kept",
                decoded.records.len()
            ),
        ))?;
    }
    Ok(Some(TaskCheckpoint {
        info,
        updates: decoded.records,
        updates_valid_len: decoded.valid_len,
        updates_file_len: bytes.len() as u64,
    }))
}

fn truncated(text: &str) -> String {
    text.chars().take(40).collect()
}
