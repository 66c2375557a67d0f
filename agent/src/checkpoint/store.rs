//! The writing side of checkpoints: [`CheckpointStore`] puts each fact in its
//! [`super::layout`] place with the durable operations of [`super::files`].
//!
//! The agent calls it before acting on the fact (a task is checkpointed before it is handed
//! to its executor, an update before it is forwarded, an acknowledgement before the next
//! update is released), so after a crash the disk says at least as much as anyone was told.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use meso_api::v1::{
    AgentInfo, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId, TaskInfo,
};

use super::records::{self, UpdateRecord};
use super::{files, layout, CheckpointError};

/// Where the machine's boot id is (it changes on every reboot).
pub const BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";

/// The machine's current boot id.
pub fn current_boot_id() -> Result<String, CheckpointError> {
    std::fs::read_to_string(BOOT_ID_PATH)
        .map(|s| s.trim().to_string())
        .map_err(|e| CheckpointError::new(Path::new(BOOT_ID_PATH), format!("cannot read: {e}")))
}

/// Writes checkpoints under one `meta/` directory, for the agent id it was given.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    meta: PathBuf,
    agent_dir: Option<PathBuf>,
    /// What each `framework.info` holds as this store wrote it: an unchanged info is not
    /// rewritten at every launch (a rewrite replaces the file's inode, and each inode
    /// deleted slows the next allocations: see `crate::topdir`).
    frameworks_written: HashMap<FrameworkId, Vec<u8>>,
}

/// The run a task or a pid belongs to.
#[derive(Debug, Clone, Copy)]
pub struct RunRef<'a> {
    /// The framework.
    pub framework: &'a FrameworkId,
    /// The executor.
    pub executor: &'a ExecutorId,
    /// The container of the run.
    pub container: &'a ContainerId,
}

/// One frame holding the value's JSON.
fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    records::frame(
        &serde_json::to_vec(value).expect("invariant: a v1 info type always serializes to JSON"),
    )
}

impl CheckpointStore {
    /// A store for `<work_dir>/meta`, with no agent id yet.
    pub fn new(work_dir: &Path) -> Self {
        CheckpointStore {
            meta: layout::meta_dir(work_dir),
            agent_dir: None,
            frameworks_written: HashMap::new(),
        }
    }

    /// The `meta/` directory.
    pub fn meta(&self) -> &Path {
        &self.meta
    }

    /// Records the boot id the agent runs under.
    pub fn write_boot_id(&self, boot_id: &str) -> Result<(), CheckpointError> {
        files::write_atomically(
            &layout::boot_id(&self.meta),
            &records::frame(boot_id.as_bytes()),
        )
    }

    /// Checkpoints the agent's info (with its id) and makes it the `latest` agent.
    pub fn write_agent(&mut self, info: &AgentInfo) -> Result<(), CheckpointError> {
        let id = info.id.as_ref().ok_or_else(|| {
            CheckpointError::new(&layout::agents_dir(&self.meta), "agent info has no id")
        })?;
        let dir = layout::agent_dir(&self.meta, id);
        files::write_atomically(&layout::agent_info(&dir), &to_json(info))?;
        files::point_symlink(&layout::latest_agent(&self.meta), id.as_str())?;
        self.agent_dir = Some(dir);
        self.frameworks_written.clear();
        Ok(())
    }

    /// Records the flags' resources and attributes beside the agent's info
    /// ([`super::flags_record`]).
    pub fn write_flags_record(
        &self,
        record: &super::flags_record::FlagsRecord,
    ) -> Result<(), CheckpointError> {
        super::flags_record::write(self.agent_dir()?, record)
    }

    /// Writes under agent id `id` from now on, without rewriting its info (recovery).
    pub fn use_agent(&mut self, id: &meso_api::v1::AgentId) {
        self.agent_dir = Some(layout::agent_dir(&self.meta, id));
        self.frameworks_written.clear();
    }

    fn agent_dir(&self) -> Result<&Path, CheckpointError> {
        self.agent_dir.as_deref().ok_or_else(|| {
            CheckpointError::new(
                &self.meta,
                "nothing is checkpointed before the agent has an id",
            )
        })
    }

    fn framework_dir(&self, id: &FrameworkId) -> Result<PathBuf, CheckpointError> {
        Ok(layout::framework_dir(self.agent_dir()?, id))
    }

    /// The checkpoint directory of one run.
    pub(crate) fn run_dir(&self, run: RunRef<'_>) -> Result<PathBuf, CheckpointError> {
        let fw = self.framework_dir(run.framework)?;
        Ok(layout::run_dir(
            &layout::executor_dir(&fw, run.executor),
            run.container,
        ))
    }

    /// Checkpoints a framework's info (`info.id` must be set); nothing to do when this
    /// store already wrote the same info.
    pub fn write_framework(&mut self, info: &FrameworkInfo) -> Result<(), CheckpointError> {
        let id = info
            .id
            .as_ref()
            .ok_or_else(|| CheckpointError::new(&self.meta, "framework info has no id"))?;
        let bytes = to_json(info);
        if self.frameworks_written.get(id) == Some(&bytes) {
            return Ok(());
        }
        files::write_atomically(&layout::framework_info(&self.framework_dir(id)?), &bytes)?;
        self.frameworks_written.insert(id.clone(), bytes);
        Ok(())
    }

    /// Checkpoints an executor's info and its new run (`runs/latest` points at it).
    pub fn write_executor_run(
        &self,
        framework: &FrameworkId,
        info: &ExecutorInfo,
        container: &ContainerId,
    ) -> Result<(), CheckpointError> {
        let dir = layout::executor_dir(&self.framework_dir(framework)?, &info.executor_id);
        if let Some(executors) = dir.parent().filter(|d| !d.is_dir()) {
            // New executors' checkpoints spread like their sandboxes (see `crate::topdir`).
            files::ensure_dir(executors)?;
            crate::topdir::mark_top(executors);
        }
        files::write_atomically(&layout::executor_info(&dir), &to_json(info))?;
        files::ensure_dir(&layout::run_dir(&dir, container))?;
        files::point_symlink(&dir.join("runs").join("latest"), &container.value)
    }

    /// Checkpoints the pid of the executor process forked for a run.
    pub fn write_forked_pid(&self, run: RunRef<'_>, pid: i32) -> Result<(), CheckpointError> {
        let path = layout::forked_pid(&self.run_dir(run)?);
        files::write_atomically(&path, &records::frame(pid.to_string().as_bytes()))
    }

    /// Marks a run's executor as subscribed over HTTP.
    pub fn mark_http_subscribed(&self, run: RunRef<'_>) -> Result<(), CheckpointError> {
        let path = layout::http_marker(&self.run_dir(run)?);
        if path.exists() {
            return Ok(());
        }
        files::write_atomically(&path, b"")
    }

    /// Checkpoints the drain the master asked for.
    pub fn write_drain_config(
        &self,
        drain: &meso_api::wire::DrainAgent,
    ) -> Result<(), CheckpointError> {
        files::write_atomically(&layout::drain_config(self.agent_dir()?), &to_json(drain))
    }

    /// Forgets the checkpointed drain (the agent runs nothing any more).
    pub fn remove_drain_config(&self) -> Result<(), CheckpointError> {
        let path = layout::drain_config(self.agent_dir()?);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CheckpointError::new(&path, e.to_string())),
        }
    }

    /// The checkpointed drain, if the agent was draining (a damaged record is an error).
    pub fn read_drain_config(&self) -> Result<Option<meso_api::wire::DrainAgent>, CheckpointError> {
        let path = layout::drain_config(self.agent_dir()?);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CheckpointError::new(&path, e.to_string())),
        };
        let payload = records::single_frame(&bytes).map_err(|e| CheckpointError::new(&path, &e))?;
        serde_json::from_slice(payload)
            .map(Some)
            .map_err(|e| CheckpointError::new(&path, e.to_string()))
    }

    /// Marks a run as ended and accounted for.
    pub fn mark_run_completed(&self, run: RunRef<'_>) -> Result<(), CheckpointError> {
        files::write_atomically(&layout::run_completed(&self.run_dir(run)?), b"")
    }

    fn task_dir(&self, run: RunRef<'_>, task: &TaskId) -> Result<PathBuf, CheckpointError> {
        Ok(layout::task_dir(&self.run_dir(run)?, task))
    }

    /// Checkpoints a task of a run.
    pub fn write_task(&self, run: RunRef<'_>, task: &TaskInfo) -> Result<(), CheckpointError> {
        let dir = self.task_dir(run, &task.task_id)?;
        files::write_atomically(&layout::task_info(&dir), &to_json(task))
    }

    /// Appends a record to a task's status update stream.
    pub fn append_update(
        &self,
        run: RunRef<'_>,
        task: &TaskId,
        record: &UpdateRecord,
    ) -> Result<(), CheckpointError> {
        let dir = self.task_dir(run, task)?;
        files::append_durably(&layout::task_updates(&dir), &records::encode(record))
    }

    /// Cuts a task's status update file to the valid prefix found on recovery.
    pub fn cut_torn_updates(
        &self,
        run: RunRef<'_>,
        task: &TaskId,
        valid_len: u64,
    ) -> Result<(), CheckpointError> {
        let dir = self.task_dir(run, task)?;
        files::truncate_to(&layout::task_updates(&dir), valid_len)
    }
}
