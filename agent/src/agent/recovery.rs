//! Agent recovery: what a restarted agent takes back from its checkpoints
//! (`crate::checkpoint`), after Mesos's docs/agent-recovery.md.
//!
//! The sequence:
//! 1. [`load`] (before the node listens): read `meta/` (a damaged checkpoint under
//!    `--strict` stops the agent here with the file named), check the restart against
//!    `--reconfiguration-policy` ([`reconfiguration`]), cut torn tails of `task.updates`,
//!    replay every task's status update stream into a paused manager, and note the boot
//!    id. Recovery reconnects unless `--recover=cleanup` or the boot id changed (a reboot).
//! 2. [`Agent::adopt`] (in `initialize`): keep the agent id; per checkpointed executor
//!    whose latest run did not complete: if reconnecting and its checkpointed pid is
//!    still that executor, the containerizer takes its container back and the executor
//!    has `--executor-reregistration-timeout` to re-subscribe (else it is destroyed and
//!    its tasks fail with REASON_EXECUTOR_REREGISTRATION_TIMEOUT); otherwise it is killed
//!    (cleanup, reboot) or found gone, and its unfinished tasks get terminal updates.
//! 3. Registration: with an agent id the agent re-registers (`ReregisterAgent` with the
//!    recovered tasks), and once the master answers the manager resumes, resending every
//!    unacknowledged update.
//!
//! Frameworks without `checkpoint` are never on disk: their executors end when their
//! connection to the agent breaks, and the master reconciles their tasks away. One that
//! does not end is an orphan: after [`Agent::adopt`] the agent destroys every container
//! of its runtime records that it did not take back ([`super::orphans`]).

mod config;
pub mod reconfiguration;

pub use config::{ReconfigurationPolicy, RecoverMode, RecoveryConfig};

use std::collections::BTreeMap;

use libprocess::Context;
use meso_api::v1::{ContainerId, ExecutorId, FrameworkId, TaskId, TaskState, TaskStatusReason};
use slog::{info, warn, Logger};

use super::books::{Executor, ExecutorState, Framework, Task};
use super::{Agent, AgentConfig, AgentMessage};
use crate::checkpoint::state::{AgentCheckpoint, RunCheckpoint};
use crate::checkpoint::{self, layout, store, CheckpointStore, RunRef};
use crate::containerizer::{kill_tree, RecoverSpec, Termination};
use crate::error::AgentError;
use crate::paths;
use crate::status_updates::StatusUpdateManager;

/// What [`load`] found to take back.
pub struct Recovery {
    /// The agent as checkpointed.
    pub agent: AgentCheckpoint,
    /// The resources and attributes of an online change (UPDATE_AGENT, SIGHUP) the agent
    /// keeps running with, because its flags did not move since (`None`: the flags').
    pub running_with: Option<(meso_api::Resources, meso_api::attributes::Attributes)>,
    /// Re-attach to live executors (else kill them and report their tasks).
    pub reconnect: bool,
    /// Why not, when not.
    pub cleanup_reason: String,
    /// The status update streams, replayed and paused.
    pub updates: StatusUpdateManager,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("agent_id", &self.agent.info.id)
            .field("reconnect", &self.reconnect)
            .finish()
    }
}

/// The latest run of an executor, unless it completed.
fn live_run(ex: &checkpoint::state::ExecutorCheckpoint) -> Option<&RunCheckpoint> {
    let latest = ex.latest_run.as_ref()?;
    ex.runs.get(&latest.value).filter(|run| !run.completed)
}

/// The resources and attributes an online change left in `slave.info`, when the flags
/// are still those recorded beside it (`checkpoint::flags_record`): the change survives the
/// restart. `None` when there was no such change or the flags moved (then the flags win and
/// the reconfiguration policy judges them). A damaged record stops the agent under
/// `--strict`; otherwise it is ignored with a warning.
fn online_change_kept(
    config: &AgentConfig,
    agent: &AgentCheckpoint,
    meta: &std::path::Path,
    strict: bool,
    log: &Logger,
) -> Result<Option<(meso_api::Resources, meso_api::attributes::Attributes)>, AgentError> {
    let id = agent
        .info
        .id
        .as_ref()
        .expect("invariant: the reader returns agents with their id");
    let record = match checkpoint::flags_record::read(meta, id) {
        Ok(r) => r,
        Err(e) if strict => return Err(e.into()),
        Err(e) => {
            warn!(log, "damaged flags record ignored (--strict=false)"; "error" => %e);
            None
        }
    };
    let Some(record) = record else {
        return Ok(None);
    };
    let info = &agent.info;
    let changed_online = info.resources != config.resources || info.attributes != config.attributes;
    if record.resources == config.resources
        && record.attributes == config.attributes
        && changed_online
    {
        info!(log, "keeping the resources and attributes of an online change (the flags did not change since)";
            "resources" => %info.resources, "attributes" => %info.attributes);
        return Ok(Some((info.resources.clone(), info.attributes.clone())));
    }
    Ok(None)
}

/// Reads and checks the checkpoint of the previous run (step 1 above). `Ok(None)`: nothing
/// to recover (a new agent).
pub fn load(config: &AgentConfig, log: &Logger) -> Result<Option<Recovery>, AgentError> {
    let settings = &config.recovery;
    let meta = layout::meta_dir(&config.work_dir);
    let state = checkpoint::read(&meta, settings.strict)?;
    for problem in &state.problems {
        warn!(log, "damaged checkpoint skipped (--strict=false)"; "error" => %problem);
    }
    let current_boot = store::current_boot_id()?;
    let mut store = CheckpointStore::new(&config.work_dir);
    store.write_boot_id(&current_boot)?;
    let Some(agent) = state.agent else {
        return Ok(None);
    };
    let agent_id = agent
        .info
        .id
        .clone()
        .expect("invariant: the reader returns agents with their id");
    let running_with = online_change_kept(config, &agent, &meta, settings.strict, log)?;
    let (resources, attributes) = running_with
        .clone()
        .unwrap_or_else(|| (config.resources.clone(), config.attributes.clone()));
    reconfiguration::check(
        settings.reconfiguration_policy,
        &agent.info.resources,
        &resources,
        &agent.info.attributes,
        &attributes,
    )
    .map_err(AgentError::Recovery)?;
    store.use_agent(&agent_id);
    let mut updates = StatusUpdateManager::new();
    updates.pause();
    for (fid, fw) in &agent.frameworks {
        for (eid, ex) in &fw.executors {
            let Some(run) = live_run(ex) else { continue };
            for (tid, task) in &run.tasks {
                let at = RunRef {
                    framework: fid,
                    executor: eid,
                    container: &run.container_id,
                };
                if task.updates_valid_len < task.updates_file_len {
                    warn!(log, "torn status update record cut off"; "task_id" => %tid,
                        "bytes" => task.updates_file_len - task.updates_valid_len);
                    store.cut_torn_updates(at, tid, task.updates_valid_len)?;
                }
                if let Err(e) = updates.replay(fid, tid, &task.updates) {
                    if settings.strict {
                        return Err(e);
                    }
                    warn!(log, "status update stream recovered in part (--strict=false)";
                        "error" => %e);
                }
            }
        }
    }
    let (reconnect, cleanup_reason) = match (settings.recover, state.boot_id.as_deref()) {
        (RecoverMode::Cleanup, _) => (false, "the agent restarted with --recover=cleanup".into()),
        (_, Some(boot)) if boot != current_boot => (
            false,
            "the machine rebooted since the agent last ran".into(),
        ),
        _ => (true, String::new()),
    };
    info!(log, "recovering the agent's previous run"; "agent_id" => %agent_id,
        "frameworks" => agent.frameworks.len(), "reconnect" => reconnect);
    Ok(Some(Recovery {
        agent,
        running_with,
        reconnect,
        cleanup_reason,
        updates,
    }))
}

/// Whether `pid` is still the executor `executor_id` (not a reused pid): alive, and not
/// started with another `MESOS_EXECUTOR_ID`. (An executor forked by the zygote has its
/// variables set after the fork, so its `/proc/<pid>/environ` may name none.)
fn is_executor(pid: i32, executor_id: &ExecutorId) -> bool {
    if !crate::containerizer::pid_alive(pid as u32) {
        return false;
    }
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return true;
    };
    let prefix = b"MESOS_EXECUTOR_ID=";
    let named = environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(prefix.as_slice()));
    named.is_none_or(|id| id == executor_id.as_str().as_bytes())
}

impl Agent {
    /// Takes back the previous run (step 2 above); called once, before registering.
    pub(super) fn adopt(&mut self, ctx: &mut Context<Self>, recovery: Recovery) {
        let Recovery {
            agent,
            running_with,
            reconnect,
            cleanup_reason,
            updates,
        } = recovery;
        let agent_id = agent
            .info
            .id
            .clone()
            .expect("invariant: the reader returns agents with their id");
        self.id = Some(agent_id.clone());
        self.info.id = Some(agent_id.clone());
        if let Some((resources, attributes)) = running_with {
            self.info.resources = resources;
            self.info.attributes = attributes;
        }
        self.store.use_agent(&agent_id);
        self.updates = updates;
        for (fid, fw) in agent.frameworks {
            for (eid, ex) in fw.executors {
                let Some(run) = live_run(&ex).cloned() else {
                    continue;
                };
                let framework = self.frameworks.entry(fid.clone()).or_insert(Framework {
                    info: fw.info.clone(),
                    executors: BTreeMap::new(),
                });
                let tasks: BTreeMap<TaskId, Task> = run
                    .tasks
                    .iter()
                    .map(|(tid, t)| {
                        let state = self
                            .updates
                            .latest_state(&fid, tid)
                            .unwrap_or(TaskState::Staging);
                        let task = Task {
                            info: t.info.clone(),
                            state,
                            kill_requested: false,
                        };
                        (tid.clone(), task)
                    })
                    .collect();
                for tid in tasks.keys() {
                    self.checkpointed_runs.insert(
                        (fid.clone(), tid.clone()),
                        (eid.clone(), run.container_id.clone()),
                    );
                }
                let directory = paths::sandbox(
                    &self.config.work_dir,
                    &agent_id,
                    &fid,
                    &eid,
                    &run.container_id,
                );
                let limits = tasks
                    .values()
                    .filter(|t| !t.state.is_terminal())
                    .fold(ex.info.resources.clone(), |acc, t| acc + &t.info.resources);
                framework.executors.insert(
                    eid.clone(),
                    Executor {
                        info: ex.info.clone(),
                        container_id: run.container_id.clone(),
                        directory: directory.clone(),
                        state: ExecutorState::Registering,
                        queued: Vec::new(),
                        queued_groups: Vec::new(),
                        tasks,
                        stream: None,
                        ended_by_agent: None,
                        recovered: true,
                        pending_kills: Vec::new(),
                    },
                );
                self.containers
                    .insert(run.container_id.value.clone(), (fid.clone(), eid.clone()));
                let alive = run.forked_pid.filter(|pid| is_executor(*pid, &eid));
                let gone = match (reconnect, alive) {
                    (true, Some(pid)) => {
                        let spec = RecoverSpec {
                            container_id: run.container_id.clone(),
                            pid: pid as u32,
                            directory,
                            limits: meso_isolators::Limits::from_resources(&limits),
                        };
                        match self.reattach(ctx, spec) {
                            Ok(()) => None,
                            Err(e) => Some(format!("its container could not be taken back: {e}")),
                        }
                    }
                    (false, Some(pid)) => {
                        kill_tree(pid as u32);
                        Some(format!("killed: {cleanup_reason}"))
                    }
                    (_, None) => Some(match run.forked_pid {
                        Some(pid) => {
                            format!("the executor (pid {pid}) ended while the agent was down")
                        }
                        None => "the executor's pid was never checkpointed".into(),
                    }),
                };
                if let Some(why) = gone {
                    warn!(self.log, "recovered executor is gone"; "executor_id" => %eid,
                        "framework_id" => %fid, "why" => &why);
                    self.recovered_executor_gone(ctx, &run.container_id, why);
                }
            }
        }
    }

    /// The containerizer takes the container back; the executor gets its re-registration
    /// timeout.
    fn reattach(&mut self, ctx: &mut Context<Self>, spec: RecoverSpec) -> Result<(), AgentError> {
        let container_id = spec.container_id.clone();
        let pid = spec.pid;
        self.containerizer.recover(spec)?;
        let wait = self.containerizer.wait(&container_id)?;
        let cid = container_id.clone();
        ctx.defer(wait, move |termination| AgentMessage::ExecutorExited {
            container_id: cid,
            termination,
        });
        ctx.delay(
            self.config.recovery.executor_reregistration_timeout,
            AgentMessage::ExecutorRegistrationTimeout {
                container_id: container_id.clone(),
            },
        );
        info!(self.log, "re-attached to a running executor"; "container_id" => &container_id.value,
            "pid" => pid);
        Ok(())
    }

    /// A checkpointed executor that is not coming back: its unfinished tasks get terminal
    /// updates, as for any executor that ended.
    fn recovered_executor_gone(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: &ContainerId,
        why: String,
    ) {
        if let Some(executor) = self.executor_by_container_mut(container_id) {
            executor.state = ExecutorState::Terminating;
            executor.ended_by_agent = Some((TaskStatusReason::ExecutorTerminated, why));
        }
        self.executor_exited(
            ctx,
            container_id,
            Termination {
                exit_code: None,
                signal: None,
                limitation: None,
            },
        );
    }

    /// Frameworks whose tasks this agent checkpoints.
    pub(super) fn checkpoints(&self, framework_id: &FrameworkId) -> bool {
        self.frameworks
            .get(framework_id)
            .is_some_and(|fw| fw.info.checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_process_without_an_executor_id_counts_as_the_executor() {
        let me = std::process::id() as i32;
        assert!(crate::containerizer::pid_alive(me as u32), "alive");
        assert!(is_executor(me, &ExecutorId::new("ex")));
        assert!(!is_executor(i32::MAX - 1, &ExecutorId::new("ex")));
    }
}
