//! Task and executor lifecycle inside the agent: launching executors through the
//! containerizer, queuing tasks until their executor subscribes, kills, shutdowns, and what
//! happens when an executor exits.
//!
//! A command task (no `executor` in its TaskInfo) gets the built-in command executor, whose
//! ExecutorID equals the TaskID, run as `<--command-executor> executor`. A custom executor
//! runs `/bin/sh -c <ExecutorInfo.command.value>` (or its argv). Both get Mesos's executor
//! environment (`MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID`, `MESOS_AGENT_ENDPOINT`,
//! `MESOS_DIRECTORY`, `MESOS_SANDBOX`, ...).
//!
//! Invariants: an executor is in `containers` exactly while it is in its framework's
//! `executors`; a task is either queued (its executor has not subscribed) or launched;
//! when an executor exits every task of it that is not terminal gets a TASK_FAILED (or
//! TASK_KILLED when a kill was asked for) from the agent.

use std::collections::BTreeMap;

use libprocess::Context;
use meso_api::v1::executor::{Event, EventType, Kill, Message};
use meso_api::v1::{
    CommandInfo, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskInfo,
    TaskState, TaskStatusReason,
};
use meso_api::wire::{ExitedExecutor, FrameworkToExecutor, KillTask, RunTask, TaskRecord};
use slog::{info, warn};

use super::executor_env::ExecutorEnvironment;
use super::updates::OwnUpdate;
use super::{Agent, AgentMessage, Registration};
use crate::containerizer::{ExecutorCommand, LaunchSpec, Termination};
use crate::paths;
use meso_api::http::auth::executor_claims;

use super::books::{Executor, ExecutorState, Framework, KillDelivery, Task};

/// How the containerizer runs `info`'s command, or why it cannot.
fn executor_command(info: &ExecutorInfo) -> Result<ExecutorCommand, String> {
    match &info.command {
        Some(c) if c.shell => match &c.value {
            Some(v) => Ok(ExecutorCommand::Shell(v.clone())),
            None => Err("executor command has no value".into()),
        },
        Some(c) => {
            let mut argv = vec![c.value.clone().unwrap_or_default()];
            argv.extend(c.arguments.iter().skip(1).cloned());
            Ok(ExecutorCommand::Argv(argv))
        }
        None => Err("executor has no command".into()),
    }
}

/// The executor's shutdown grace period: its own, else the agent's default.
fn shutdown_grace(info: &ExecutorInfo, default: std::time::Duration) -> std::time::Duration {
    info.shutdown_grace_period
        .as_ref()
        .map(|d| std::time::Duration::from_nanos(d.nanoseconds.max(0) as u64))
        .unwrap_or(default)
}

/// The ExecutorInfo of the built-in command executor for a command task.
fn command_executor_info(
    task: &TaskInfo,
    framework_id: &FrameworkId,
    binary: &str,
) -> ExecutorInfo {
    ExecutorInfo {
        kind: None,
        executor_id: ExecutorId::new(task.task_id.as_str()),
        framework_id: Some(framework_id.clone()),
        command: Some(CommandInfo::exec(binary, &[binary, "executor"])),
        container: None,
        resources: Default::default(),
        name: Some(format!("Command Executor (Task: {})", task.task_id)),
        data: None,
        shutdown_grace_period: command_executor_grace(task),
        labels: None,
    }
}

/// As Mesos: a task with a kill policy gets a command executor whose shutdown grace period
/// covers that policy's grace and two seconds to reap the command and report TASK_KILLED,
/// so the agent never destroys the container inside the task's grace period.
fn command_executor_grace(task: &TaskInfo) -> Option<meso_api::v1::DurationInfo> {
    let grace = task.kill_policy.as_ref()?.grace_period?;
    Some(meso_api::v1::DurationInfo {
        nanoseconds: grace.nanoseconds.max(0).saturating_add(2_000_000_000),
    })
}

impl Agent {
    pub(super) fn run_task(&mut self, ctx: &mut Context<Self>, run: RunTask) {
        let RunTask {
            mut framework,
            task,
            ..
        } = run;
        let Some(framework_id) = framework.id.clone() else {
            warn!(self.log, "RunTask without a framework id dropped"; "task_id" => %task.task_id);
            return;
        };
        framework.id = Some(framework_id.clone());
        if self.registration != Registration::Registered {
            warn!(self.log, "RunTask while not registered dropped"; "task_id" => %task.task_id);
            return;
        }
        if let Err(e) = task.validate() {
            self.agent_update(
                ctx,
                OwnUpdate {
                    framework_id: &framework_id,
                    executor_id: None,
                    task_id: &task.task_id,
                    state: TaskState::Error,
                    message: format!("invalid task: {e}"),
                    reason: TaskStatusReason::TaskInvalid,
                },
            );
            return;
        }
        if self.refuse_while_draining(ctx, &framework, &task.task_id) {
            return;
        }
        let binary = self.config.command_executor.display().to_string();
        let executor_info = match &task.executor {
            Some(info) => info.clone(),
            None => command_executor_info(&task, &framework_id, &binary),
        };
        let executor_id = executor_info.executor_id.clone();
        let fw = self
            .frameworks
            .entry(framework_id.clone())
            .or_insert_with(|| Framework {
                info: framework.clone(),
                executors: BTreeMap::new(),
            });
        fw.info = framework;
        if fw
            .executors
            .get(&executor_id)
            .is_some_and(|ex| ex.state != ExecutorState::Terminating)
        {
            self.checkpoint_tasks(&framework_id, &executor_id, std::slice::from_ref(&task));
        }
        let fw = self
            .frameworks
            .get_mut(&framework_id)
            .expect("invariant: inserted just above");
        let joining = fw
            .executors
            .get(&executor_id)
            .filter(|ex| ex.state != ExecutorState::Terminating)
            .map(|ex| (ex.directory.clone(), ex.info.clone()));
        if let Some((directory, info)) = joining {
            if let Err(message) = self.join_volumes(&info, &task, &directory) {
                let task_id = task.task_id.clone();
                return self.agent_update(
                    ctx,
                    OwnUpdate {
                        framework_id: &framework_id,
                        executor_id: Some(&executor_id),
                        task_id: &task_id,
                        state: TaskState::Failed,
                        message,
                        reason: TaskStatusReason::ContainerLaunchFailed,
                    },
                );
            }
        }
        let fw = self
            .frameworks
            .get_mut(&framework_id)
            .expect("invariant: inserted just above");
        if let Some(executor) = fw.executors.get_mut(&executor_id) {
            let joined = executor.state != ExecutorState::Terminating;
            match executor.state {
                ExecutorState::Registering => executor.queued.push(task),
                ExecutorState::Running => {
                    let mut event = Event::new(EventType::Launch);
                    event.launch = Some(meso_api::v1::executor::Launch { task: task.clone() });
                    executor.tasks.insert(
                        task.task_id.clone(),
                        Task {
                            info: task,
                            state: TaskState::Staging,
                            kill_requested: false,
                        },
                    );
                    executor.send_event(&event);
                }
                ExecutorState::Terminating => {
                    let task_id = task.task_id.clone();
                    self.agent_update(
                        ctx,
                        OwnUpdate {
                            framework_id: &framework_id,
                            executor_id: Some(&executor_id),
                            task_id: &task_id,
                            state: TaskState::Lost,
                            message: "the executor is terminating".into(),
                            reason: TaskStatusReason::ExecutorTerminated,
                        },
                    );
                }
            }
            if joined {
                self.update_container_limits(&framework_id, &executor_id);
            }
            return;
        }
        self.launch_executor(ctx, framework_id, executor_info, task);
    }

    /// The container's limits follow its executor's and unfinished tasks' resources (a task
    /// joined a running executor).
    pub(super) fn update_container_limits(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) {
        let Some(executor) = self
            .frameworks
            .get(framework_id)
            .and_then(|fw| fw.executors.get(executor_id))
        else {
            return;
        };
        let mut resources = executor.info.resources.clone();
        for task in &executor.queued {
            resources += &task.resources;
        }
        for task in executor.tasks.values() {
            if !task.state.is_terminal() {
                resources += &task.info.resources;
            }
        }
        let limits = meso_isolators::Limits::from_resources(&resources);
        let container_id = executor.container_id.clone();
        if self.fetching.is_fetching(&container_id) {
            return; // Applied when the container is launched.
        }
        if let Err(e) = self.containerizer.update(&container_id, limits) {
            warn!(self.log, "container limits not updated"; "container_id" => &container_id.value,
                "error" => %e);
        }
    }

    fn launch_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: FrameworkId,
        info: ExecutorInfo,
        task: TaskInfo,
    ) {
        let agent_id = self
            .id
            .clone()
            .expect("invariant: tasks are launched only while registered");
        let container_id = self.new_container_id(ctx);
        let directory = paths::sandbox(
            &self.config.work_dir,
            &agent_id,
            &framework_id,
            &info.executor_id,
            &container_id,
        );
        let task_id = task.task_id.clone();
        let fail = |agent: &mut Agent, ctx: &mut Context<Self>, message: String| {
            warn!(agent.log, "executor launch failed"; "task_id" => %task_id, "error" => &message);
            agent.agent_update(
                ctx,
                OwnUpdate {
                    framework_id: &framework_id,
                    executor_id: Some(&info.executor_id),
                    task_id: &task_id,
                    state: TaskState::Failed,
                    message,
                    reason: TaskStatusReason::ContainerLaunchFailed,
                },
            );
        };
        let executors = paths::executors(&self.config.work_dir, &agent_id, &framework_id);
        let created = crate::topdir::ensure_top_dir(&executors)
            .and_then(|()| std::fs::create_dir_all(&directory));
        if let Err(e) = created {
            let message = format!("cannot create sandbox {}: {e}", directory.display());
            return fail(self, ctx, message);
        }
        paths::link_latest(&directory);
        let mut spec = match self.launch_spec(ctx, &framework_id, &info, &task, &container_id) {
            Ok(spec) => spec,
            Err(message) => return fail(self, ctx, message),
        };
        let resources = info.resources.clone() + &task.resources;
        spec.volumes = match self.place_volumes(&directory, &resources, spec.rootfs.is_some()) {
            Ok(mounts) => mounts,
            Err(message) => return fail(self, ctx, message),
        };
        let uris = super::fetching::uris_to_fetch(&info, &task);
        if !uris.is_empty() {
            return self.fetch_then_launch(ctx, framework_id, info, task, spec, directory, uris);
        }
        // Checkpointed before it exists, so a crash right after the launch still finds it.
        self.checkpoint_executor_run(&framework_id, &info, &container_id);
        let launched = self.containerizer.launch(spec).and_then(|pid| {
            let wait = self.containerizer.wait(&container_id)?;
            Ok((pid, wait))
        });
        let (pid, wait) = match launched {
            Ok(launched) => launched,
            Err(e) => return fail(self, ctx, e.to_string()),
        };
        self.record_container(&container_id, pid);
        self.oversub
            .note_launch(&container_id, libprocess::unix_secs(ctx.wall_time()));
        info!(self.log, "launched executor"; "framework_id" => %framework_id,
            "executor_id" => %info.executor_id, "container_id" => &container_id.value,
            "pid" => pid, "directory" => %directory.display());
        let cid = container_id.clone();
        ctx.defer(wait, move |termination| AgentMessage::ExecutorExited {
            container_id: cid,
            termination,
        });
        ctx.delay(
            self.config.executor_registration_timeout,
            AgentMessage::ExecutorRegistrationTimeout {
                container_id: container_id.clone(),
            },
        );
        self.containers.insert(
            container_id.value.clone(),
            (framework_id.clone(), info.executor_id.clone()),
        );
        let executor_id = info.executor_id.clone();
        self.checkpoint_forked_pid(&framework_id, &executor_id, &container_id, pid);
        let executor = Executor {
            info,
            container_id,
            directory,
            state: ExecutorState::Registering,
            queued: vec![task.clone()],
            queued_groups: Vec::new(),
            tasks: BTreeMap::new(),
            stream: None,
            ended_by_agent: None,
            recovered: false,
            pending_kills: Vec::new(),
        };
        self.frameworks
            .get_mut(&framework_id)
            .expect("invariant: the framework was inserted by run_task")
            .executors
            .insert(executor_id.clone(), executor);
        self.checkpoint_tasks(&framework_id, &executor_id, std::slice::from_ref(&task));
    }

    /// What the containerizer needs to start `info` for its first task `task`, or why it
    /// cannot be started.
    fn launch_spec(
        &self,
        ctx: &Context<Self>,
        framework_id: &FrameworkId,
        info: &ExecutorInfo,
        task: &TaskInfo,
        container_id: &ContainerId,
    ) -> Result<LaunchSpec, String> {
        let agent_id = self
            .id
            .as_ref()
            .expect("invariant: tasks are launched only while registered");
        let directory = paths::sandbox(
            &self.config.work_dir,
            agent_id,
            framework_id,
            &info.executor_id,
            container_id,
        );
        let command = executor_command(info)?;
        let agent_pid = ctx.self_upid().to_string();
        let agent_endpoint = ctx.self_upid().addr().to_string();
        let libprocess_ip = std::env::var("LIBPROCESS_IP").ok();
        let token = self.config.http_auth.sign(&executor_claims(
            framework_id.as_str(),
            info.executor_id.as_str(),
            &container_id.value,
        ));
        let env = ExecutorEnvironment {
            framework_id,
            info,
            agent_id,
            agent_pid: &agent_pid,
            agent_endpoint: &agent_endpoint,
            directory: &directory,
            checkpoint: self.checkpoints(framework_id),
            recovery_timeout: self.config.recovery.recovery_timeout,
            shutdown_grace_period: shutdown_grace(info, self.config.executor_shutdown_grace_period),
            libprocess_ip: libprocess_ip.as_deref(),
            authentication_token: token.as_deref(),
        }
        .variables();
        // The agent's TLS files first, so the framework's environment still wins.
        let env: Vec<(String, String)> = self.executor_tls.iter().cloned().chain(env).collect();
        let rootfs = super::task_rootfs::container_rootfs(info, task)?;
        let framework = &self
            .frameworks
            .get(framework_id)
            .expect("invariant: the framework was inserted by run_task")
            .info;
        let user = super::task_users::resolve(
            self.config.switch_user,
            super::task_users::named_user(framework, info, task),
            nix::unistd::geteuid().as_raw(),
            rootfs.is_some(),
        )?;
        Ok(LaunchSpec {
            container_id: container_id.clone(),
            directory,
            command,
            env,
            // The built-in executor starts its own session (see `LaunchSpec`).
            executor_starts_session: task.executor.is_none(),
            limits: meso_isolators::Limits::from_resources(
                &(info.resources.clone() + &task.resources),
            ),
            rootfs,
            volumes: Vec::new(),
            user,
        })
    }

    pub(super) fn kill_task(&mut self, ctx: &mut Context<Self>, kill: KillTask) {
        let Some(fw) = self.frameworks.get_mut(&kill.framework_id) else {
            warn!(self.log, "kill for a task of an unknown framework ignored";
                "framework_id" => %kill.framework_id, "task_id" => %kill.task_id);
            return;
        };
        let found = fw.executors.iter_mut().find(|(_, ex)| {
            ex.tasks.contains_key(&kill.task_id)
                || ex.queued.iter().any(|t| t.task_id == kill.task_id)
        });
        let Some((executor_id, executor)) = found else {
            warn!(self.log, "kill for an unknown task ignored"; "task_id" => %kill.task_id);
            return;
        };
        let executor_id = executor_id.clone();
        if let Some(pos) = executor
            .queued
            .iter()
            .position(|t| t.task_id == kill.task_id)
        {
            executor.queued.remove(pos);
            let nothing_left = executor.queued.is_empty() && executor.tasks.is_empty();
            let container_id = executor.container_id.clone();
            self.agent_update(
                ctx,
                OwnUpdate {
                    framework_id: &kill.framework_id,
                    executor_id: Some(&executor_id),
                    task_id: &kill.task_id,
                    state: TaskState::Killed,
                    message: "killed before the executor started it".into(),
                    reason: TaskStatusReason::TaskKilledDuringLaunch,
                },
            );
            if nothing_left {
                self.destroy_container(&container_id);
            }
            return;
        }
        if let Some(task) = executor.tasks.get_mut(&kill.task_id) {
            task.kill_requested = true;
        }
        let mut event = Event::new(EventType::Kill);
        event.kill = Some(Kill {
            task_id: kill.task_id.clone(),
            kill_policy: kill.kill_policy,
        });
        match executor.deliver_kill(event) {
            KillDelivery::Sent => {}
            KillDelivery::Queued => {
                info!(self.log, "kill queued until the executor subscribes";
                    "task_id" => %kill.task_id, "executor_id" => %executor_id);
            }
            KillDelivery::Dropped => {
                warn!(self.log, "kill not delivered: executor has no stream";
                    "task_id" => %kill.task_id);
            }
        }
    }

    pub(super) fn shutdown_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) {
        let grace_default = self.config.executor_shutdown_grace_period;
        let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|fw| fw.executors.get_mut(executor_id))
        else {
            return;
        };
        if executor.state == ExecutorState::Terminating {
            return;
        }
        executor.state = ExecutorState::Terminating;
        executor.send_event(&Event::new(EventType::Shutdown));
        let grace = shutdown_grace(&executor.info, grace_default);
        ctx.delay(
            grace,
            AgentMessage::ShutdownGraceOver {
                container_id: executor.container_id.clone(),
            },
        );
    }

    pub(super) fn shutdown_framework(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &FrameworkId,
    ) {
        let executors: Vec<ExecutorId> = self
            .frameworks
            .get(framework_id)
            .map(|fw| fw.executors.keys().cloned().collect())
            .unwrap_or_default();
        for executor_id in executors {
            self.shutdown_executor(ctx, framework_id, &executor_id);
        }
    }

    pub(super) fn framework_message(&mut self, _ctx: &mut Context<Self>, m: FrameworkToExecutor) {
        let Some(executor) = self
            .frameworks
            .get(&m.framework_id)
            .and_then(|fw| fw.executors.get(&m.executor_id))
        else {
            warn!(self.log, "framework message for an unknown executor dropped";
                "executor_id" => %m.executor_id);
            self.observe.count_framework_message(false);
            return;
        };
        let mut event = Event::new(EventType::Message);
        event.message = Some(Message { data: m.data });
        let delivered = executor.send_event(&event);
        self.observe.count_framework_message(delivered);
    }

    pub(super) fn executor_registration_timeout(
        &mut self,
        _ctx: &mut Context<Self>,
        container_id: &ContainerId,
    ) {
        let Some(executor) = self.executor_by_container_mut(container_id) else {
            return;
        };
        if executor.state != ExecutorState::Registering {
            return;
        }
        executor.state = ExecutorState::Terminating;
        // Its tasks end terminal with the executor; the kills kept for it are moot.
        executor.pending_kills.clear();
        executor.ended_by_agent = Some(if executor.recovered {
            (
                TaskStatusReason::ExecutorReregistrationTimeout,
                "the executor did not re-subscribe after the agent restarted".into(),
            )
        } else {
            (
                TaskStatusReason::ExecutorRegistrationTimeout,
                "the executor did not subscribe in time".into(),
            )
        });
        warn!(self.log, "executor did not (re-)subscribe in time; destroying";
            "container_id" => &container_id.value);
        self.destroy_container(container_id);
    }

    pub(super) fn shutdown_grace_over(&mut self, container_id: &ContainerId) {
        if self.executor_by_container_mut(container_id).is_some() {
            self.destroy_container(container_id);
        }
    }

    pub(super) fn executor_by_container_mut(
        &mut self,
        container_id: &ContainerId,
    ) -> Option<&mut Executor> {
        let (fw, ex) = self.containers.get(&container_id.value)?;
        self.frameworks.get_mut(fw)?.executors.get_mut(ex)
    }

    /// The executor process ended: tasks it left unfinished fail, the master is told.
    pub(super) fn executor_exited(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: &ContainerId,
        termination: Termination,
    ) {
        let Some((framework_id, executor_id)) = self.containers.remove(&container_id.value) else {
            return;
        };
        // Whatever the executor left running in its container goes with it.
        let _ = self.containerizer.destroy(container_id);
        self.containerizer.forget(container_id);
        self.unrecord_container(container_id);
        self.oversubscription_container_gone(ctx, container_id);
        let Some(fw) = self.frameworks.get_mut(&framework_id) else {
            return;
        };
        let checkpointed = fw.info.checkpoint;
        let Some(executor) = fw.executors.remove(&executor_id) else {
            return;
        };
        if fw.executors.is_empty() {
            self.frameworks.remove(&framework_id);
            self.drain_done_if_empty();
        }
        info!(self.log, "executor exited"; "executor_id" => %executor_id,
            "container_id" => &container_id.value, "how" => %termination);
        // A limitation the containerizer killed it for says why better than anything else.
        let limited = termination
            .limitation
            .as_ref()
            .map(|l| (l.kind.status_reason(), l.message.clone()));
        let (reason, why) = limited
            .or_else(|| executor.ended_by_agent.clone())
            .unwrap_or((
                TaskStatusReason::ExecutorTerminated,
                format!("Executor {termination}"),
            ));
        let unfinished = executor
            .queued
            .iter()
            .map(|t| (t.task_id.clone(), false))
            .chain(executor.tasks.values().filter_map(|t| {
                let latest = self
                    .updates
                    .latest_state(&framework_id, &t.info.task_id)
                    .unwrap_or(t.state);
                (!latest.is_terminal()).then(|| (t.info.task_id.clone(), t.kill_requested))
            }))
            .collect::<Vec<_>>();
        // An eviction kills queued tasks too.
        let evicted = reason == TaskStatusReason::ContainerPreempted;
        for (task_id, killed) in unfinished {
            let state = if killed || evicted {
                TaskState::Killed
            } else {
                TaskState::Failed
            };
            self.agent_update(
                ctx,
                OwnUpdate {
                    framework_id: &framework_id,
                    executor_id: Some(&executor_id),
                    task_id: &task_id,
                    state,
                    message: why.clone(),
                    reason,
                },
            );
        }
        // Tasks whose updates are still pending stay known until they are acknowledged.
        let ended = executor
            .queued
            .iter()
            .chain(executor.tasks.values().map(|t| &t.info));
        for info in ended {
            if self.updates.has_pending(&framework_id, &info.task_id) {
                self.terminated_tasks.insert(
                    (framework_id.clone(), info.task_id.clone()),
                    (info.clone(), executor_id.clone()),
                );
            }
        }
        // Streams whose terminal update is already acknowledged are done with.
        for task_id in executor.tasks.keys() {
            if self.updates.is_terminated(&framework_id, task_id)
                && !self.updates.has_pending(&framework_id, task_id)
            {
                self.forget_stream(&framework_id, task_id);
            }
        }
        if checkpointed {
            self.complete_run_if_done(&framework_id, &executor_id, container_id);
        }
        self.collect_sandbox_later(ctx, executor.directory.clone());
        if let Some(agent_id) = self.id.clone() {
            let status = termination
                .exit_code
                .map(|c| (c & 0xff) << 8)
                .or(termination.signal)
                .unwrap_or(-1);
            // Informational for the master (Mesos sends it unreliably): the task updates carry the outcome.
            let _ = ctx.send(
                &self.config.master,
                ExitedExecutor {
                    agent_id,
                    framework_id,
                    executor_id,
                    status,
                },
            );
        }
    }

    /// An executor reports a task failed: if its container ran into a limit (the OOM killer
    /// took the task before the isolators' watch noticed), the update carries the
    /// limitation's reason and message instead, as the agent's own would.
    pub(super) fn blame_container_limitation(
        &self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        status: &mut meso_api::v1::TaskStatus,
    ) {
        if status.state != TaskState::Failed {
            return;
        }
        let Some(executor) = self
            .frameworks
            .get(framework_id)
            .and_then(|fw| fw.executors.get(executor_id))
        else {
            return;
        };
        if let Some(limitation) = self.containerizer.limitation_now(&executor.container_id) {
            let was = status.message.take().unwrap_or_default();
            status.reason = Some(limitation.kind.status_reason());
            status.message = Some(format!("{} (executor said: {was})", limitation.message));
            status.source = Some(meso_api::v1::TaskStatusSource::Agent);
        }
    }

    pub(super) fn executor_infos(&self) -> Vec<ExecutorInfo> {
        self.frameworks
            .values()
            .flat_map(|fw| fw.executors.values().map(|e| e.info.clone()))
            .collect()
    }

    pub(super) fn framework_infos(&self) -> Vec<FrameworkInfo> {
        self.frameworks.values().map(|fw| fw.info.clone()).collect()
    }

    /// Every task the agent holds, for re-registration.
    pub(super) fn task_records(&self) -> Vec<TaskRecord> {
        let mut out = Vec::new();
        for (fid, fw) in &self.frameworks {
            for (eid, ex) in &fw.executors {
                let queued = ex.queued.iter().map(|t| (t, TaskState::Staging));
                let launched = ex.tasks.values().map(|t| {
                    let state = self
                        .updates
                        .latest_state(fid, &t.info.task_id)
                        .unwrap_or(t.state);
                    (&t.info, state)
                });
                for (info, state) in queued.chain(launched) {
                    let pending = self.updates.pending(fid, &info.task_id);
                    out.push(TaskRecord {
                        task: info.clone(),
                        framework_id: fid.clone(),
                        executor_id: Some(eid.clone()),
                        state,
                        unacknowledged_update_uuid: pending.first().and_then(|u| u.uuid.clone()),
                    });
                }
            }
        }
        for ((fid, tid), (info, eid)) in &self.terminated_tasks {
            let pending = self.updates.pending(fid, tid);
            let Some(state) = self.updates.latest_state(fid, tid) else {
                continue;
            };
            out.push(TaskRecord {
                task: info.clone(),
                framework_id: fid.clone(),
                executor_id: Some(eid.clone()),
                state,
                unacknowledged_update_uuid: pending.first().and_then(|u| u.uuid.clone()),
            });
        }
        out
    }
}
