//! The agent's writes of checkpoints (`crate::checkpoint::store`), each made before the
//! agent acts on the fact, and only for frameworks with `checkpoint: true` (as Mesos), so
//! the others pay no fsync.
//!
//! `checkpointed_runs` maps each checkpointed task to its executor run: an update or an
//! acknowledgement of a task found there is written to its `task.updates` before the
//! status update manager applies it. A run is marked `completed` once its executor is
//! gone and the last of its streams ended (terminal update acknowledged), so a later
//! recovery skips it.
//!
//! A failed write is logged with the file; an update whose record cannot be written is
//! refused (the executor resends it), so memory never runs ahead of the disk.

use meso_api::v1::{ContainerId, ExecutorId, ExecutorInfo, FrameworkId, TaskId, TaskInfo};
use meso_api::wire::StatusUpdate;
use slog::error;

use super::Agent;
use crate::checkpoint::{CheckpointError, RunRef, UpdateRecord};
use crate::error::AgentError;

impl Agent {
    fn log_checkpoint_failure(&self, result: Result<(), CheckpointError>) -> bool {
        match result {
            Ok(()) => true,
            Err(e) => {
                error!(self.log, "checkpoint not written"; "error" => %e);
                false
            }
        }
    }

    /// Checkpoints the agent's info (after (re)registration).
    pub(super) fn checkpoint_agent(&mut self) {
        let record = crate::checkpoint::flags_record::FlagsRecord {
            resources: self.config.resources.clone(),
            attributes: self.config.attributes.clone(),
        };
        let result = self
            .store
            .write_agent(&self.info)
            .and_then(|()| self.store.write_flags_record(&record));
        self.log_checkpoint_failure(result);
    }

    /// Checkpoints a new executor run of a checkpointing framework, with the framework's
    /// info, before the executor is launched.
    pub(super) fn checkpoint_executor_run(
        &mut self,
        framework_id: &FrameworkId,
        info: &ExecutorInfo,
        container_id: &ContainerId,
    ) {
        if !self.checkpoints(framework_id) {
            return;
        }
        let framework = self.frameworks[framework_id].info.clone();
        let result = self.store.write_framework(&framework).and_then(|()| {
            self.store
                .write_executor_run(framework_id, info, container_id)
        });
        self.log_checkpoint_failure(result);
    }

    /// Checkpoints the pid of a launched executor.
    pub(super) fn checkpoint_forked_pid(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        container_id: &ContainerId,
        pid: u32,
    ) {
        if !self.checkpoints(framework_id) {
            return;
        }
        let run = RunRef {
            framework: framework_id,
            executor: executor_id,
            container: container_id,
        };
        let result = self.store.write_forked_pid(run, pid as i32);
        self.log_checkpoint_failure(result);
    }

    /// Checkpoints tasks given to an executor (before they are sent to it).
    pub(super) fn checkpoint_tasks(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        tasks: &[TaskInfo],
    ) {
        if !self.checkpoints(framework_id) {
            return;
        }
        let Some(container_id) = self
            .frameworks
            .get(framework_id)
            .and_then(|fw| fw.executors.get(executor_id))
            .map(|ex| ex.container_id.clone())
        else {
            return;
        };
        let run = RunRef {
            framework: framework_id,
            executor: executor_id,
            container: &container_id,
        };
        for task in tasks {
            let written = self.store.write_task(run, task);
            if self.log_checkpoint_failure(written) {
                self.checkpointed_runs.insert(
                    (framework_id.clone(), task.task_id.clone()),
                    (executor_id.clone(), container_id.clone()),
                );
            }
        }
    }

    /// Marks an executor as subscribed over HTTP.
    pub(super) fn checkpoint_http_subscribed(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        container_id: &ContainerId,
    ) {
        if !self.checkpoints(framework_id) {
            return;
        }
        let run = RunRef {
            framework: framework_id,
            executor: executor_id,
            container: container_id,
        };
        let result = self.store.mark_http_subscribed(run);
        self.log_checkpoint_failure(result);
    }

    fn append_record(
        &self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        record: &UpdateRecord,
    ) -> Result<(), CheckpointError> {
        let Some((executor_id, container_id)) = self
            .checkpointed_runs
            .get(&(framework_id.clone(), task_id.clone()))
        else {
            return Ok(());
        };
        let run = RunRef {
            framework: framework_id,
            executor: executor_id,
            container: container_id,
        };
        self.store.append_update(run, task_id, record)
    }

    /// Writes a new update of a checkpointed task; `Ok(false)` when the manager would
    /// drop it as a duplicate (nothing written).
    pub(super) fn checkpoint_update(&self, update: &StatusUpdate) -> Result<bool, AgentError> {
        if !self.updates.check_update(update)? {
            return Ok(false);
        }
        self.append_record(
            &update.framework_id,
            &update.status.task_id,
            &UpdateRecord::Update(update.clone()),
        )?;
        Ok(true)
    }

    /// Writes an acknowledgement that matches the task's head; false when it does not
    /// (or could not be written: the framework will acknowledge the resent update).
    pub(super) fn checkpoint_ack(
        &self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: &[u8],
    ) -> bool {
        if !self.updates.check_ack(framework_id, task_id, uuid) {
            return false;
        }
        let record = UpdateRecord::Ack {
            uuid: uuid.to_vec(),
        };
        self.log_checkpoint_failure(self.append_record(framework_id, task_id, &record))
    }

    /// Forgets a task's ended stream; marks its run completed if it was the run's last and
    /// the executor is gone.
    pub(super) fn forget_stream(&mut self, framework_id: &FrameworkId, task_id: &TaskId) {
        self.updates.remove(framework_id, task_id);
        self.terminated_tasks
            .remove(&(framework_id.clone(), task_id.clone()));
        let Some((executor_id, container_id)) = self
            .checkpointed_runs
            .remove(&(framework_id.clone(), task_id.clone()))
        else {
            return;
        };
        self.complete_run_if_done(framework_id, &executor_id, &container_id);
    }

    /// Marks a run completed when its executor is gone and none of its tasks' streams
    /// remain.
    pub(super) fn complete_run_if_done(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        container_id: &ContainerId,
    ) {
        let live = self.containers.contains_key(&container_id.value);
        let streams_left = self
            .checkpointed_runs
            .values()
            .any(|(_, c)| c.value == container_id.value);
        if live || streams_left {
            return;
        }
        let run = RunRef {
            framework: framework_id,
            executor: executor_id,
            container: container_id,
        };
        let result = self.store.mark_run_completed(run);
        if result.is_ok() {
            if let Ok(dir) = self.store.run_dir(run) {
                self.gc.collect_later(dir);
            }
        }
        self.log_checkpoint_failure(result);
    }
}
