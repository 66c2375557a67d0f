//! The fetch step of an executor's launch. When the executor's command (or a command task's
//! own command) has URIs, the agent books the executor as `Registering` with its task
//! queued, starts the fetch on the fetcher's own thread ([`crate::fetcher`]) and returns to
//! its messages; the outcome comes back as `AgentMessage::Fetched`, and only then is the
//! container launched. As in Mesos the task stays STAGING meanwhile (the executor reports
//! STARTING/RUNNING), the executor registration timeout runs from the launch (so it also
//! bounds the fetch, beside `--fetcher-stall-timeout`), and a failed fetch ends the task
//! TASK_FAILED, here with REASON_FETCHER_FAILED and the URI and error in the message.
//!
//! A kill of the only queued task, a registration timeout or a shutdown during the fetch
//! cancels it (`destroy_container`); the executor then ends without being started.
//!
//! Invariant: a container id is in `in_flight` exactly while its fetch runs; its executor
//! is in `containers` and its framework's executors meanwhile, but not in the
//! containerizer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libprocess::Context;
use meso_api::v1::{
    CommandUri, ContainerId, ExecutorInfo, FrameworkId, TaskInfo, TaskStatusReason,
};
use slog::{info, warn, Logger};

use super::books::{Executor, ExecutorState};
use super::{Agent, AgentConfig, AgentMessage};
use crate::containerizer::{LaunchSpec, Termination};
use crate::fetcher::{FetchError, FetchRequest, Fetcher};

/// The agent's fetcher and the fetches under way.
pub(crate) struct Fetching {
    /// The fetcher, or why it could not start (then every fetch fails with that).
    fetcher: Result<Fetcher, String>,
    /// Per container: the cancel flag and the launch waiting for the fetch.
    in_flight: HashMap<String, (Arc<AtomicBool>, LaunchSpec)>,
}

impl Fetching {
    /// Not started yet (see [`Agent::start_fetcher`]).
    pub(crate) fn new() -> Self {
        Fetching {
            fetcher: Err("the fetcher has not started".into()),
            in_flight: HashMap::new(),
        }
    }

    /// Whether `container_id`'s fetch is under way.
    pub(crate) fn is_fetching(&self, container_id: &ContainerId) -> bool {
        self.in_flight.contains_key(&container_id.value)
    }
}

/// The URIs an executor's launch fetches: its command's, then a command task's own (the
/// built-in executor runs the task's command, so its URIs are the executor's, as Mesos
/// copies them into the command executor's `CommandInfo`).
pub(crate) fn uris_to_fetch(info: &ExecutorInfo, task: &TaskInfo) -> Vec<CommandUri> {
    let mut uris: Vec<CommandUri> = info
        .command
        .as_ref()
        .map(|c| c.uris.clone())
        .unwrap_or_default();
    if task.executor.is_none() {
        if let Some(command) = &task.command {
            uris.extend(command.uris.iter().cloned());
        }
    }
    uris
}

impl Agent {
    /// Starts the fetcher (clearing its cache directory), logging why if it cannot.
    pub(super) fn start_fetcher(config: &AgentConfig, log: &Logger) -> Result<Fetcher, String> {
        let mut fetcher_config = config.fetcher.clone();
        if fetcher_config.cache_dir.as_os_str().is_empty() {
            fetcher_config.cache_dir = config.work_dir.join("fetch");
        }
        Fetcher::new(fetcher_config, log.clone()).map_err(|e| {
            warn!(log, "the fetcher cannot start; tasks with URIs will fail"; "error" => %e);
            format!("the agent's fetcher cannot start: {e}")
        })
    }

    pub(super) fn set_fetcher(&mut self, fetcher: Result<Fetcher, String>) {
        self.fetching.fetcher = fetcher;
    }

    /// Books the executor, then fetches `uris` into its sandbox off the agent's thread; the
    /// container is launched when `Fetched` comes back.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fetch_then_launch(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: FrameworkId,
        info: ExecutorInfo,
        task: TaskInfo,
        spec: LaunchSpec,
        directory: PathBuf,
        uris: Vec<CommandUri>,
    ) {
        let container_id = spec.container_id.clone();
        let executor_id = info.executor_id.clone();
        // Checkpointed before it exists, so a crash during the fetch still finds the run.
        self.checkpoint_executor_run(&framework_id, &info, &container_id);
        ctx.delay(
            self.config.executor_registration_timeout,
            AgentMessage::ExecutorRegistrationTimeout {
                container_id: container_id.clone(),
            },
        );
        self.containers.insert(
            container_id.value.clone(),
            (framework_id.clone(), executor_id.clone()),
        );
        let user = info
            .command
            .as_ref()
            .and_then(|c| c.user.clone())
            .or_else(|| {
                self.frameworks
                    .get(&framework_id)
                    .map(|fw| fw.info.user.clone())
                    .filter(|u| !u.is_empty())
            });
        let executor = Executor {
            info,
            container_id: container_id.clone(),
            directory: directory.clone(),
            state: ExecutorState::Registering,
            queued: vec![task.clone()],
            queued_groups: Vec::new(),
            tasks: Default::default(),
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
        info!(self.log, "fetching before the launch"; "framework_id" => %framework_id,
            "executor_id" => %executor_id, "container_id" => &container_id.value,
            "uris" => uris.len());
        let cancel = Arc::new(AtomicBool::new(false));
        self.fetching
            .in_flight
            .insert(container_id.value.clone(), (cancel.clone(), spec));
        let request = FetchRequest {
            uris,
            user,
            sandbox: directory,
        };
        match &self.fetching.fetcher {
            Ok(fetcher) => {
                let fetch = fetcher.spawn(request, cancel);
                ctx.defer(fetch, move |result| AgentMessage::Fetched {
                    container_id,
                    result,
                });
            }
            Err(why) => {
                let error = FetchError {
                    uri: request.uris[0].value.clone(),
                    reason: why.clone(),
                };
                self.fetched(ctx, &container_id, Err(error));
            }
        }
    }

    /// A fetch ended: launch the container, or end the executor with why.
    pub(super) fn fetched(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: &ContainerId,
        result: Result<(), FetchError>,
    ) {
        let Some((_, spec)) = self.fetching.in_flight.remove(&container_id.value) else {
            return;
        };
        let Some(executor) = self.executor_by_container_mut(container_id) else {
            return;
        };
        if executor.state == ExecutorState::Terminating
            || (executor.queued.is_empty() && executor.tasks.is_empty())
        {
            // Killed, shut down or timed out during the fetch: it ends unstarted, for the
            // reason already booked.
            return self.end_unlaunched(ctx, container_id);
        }
        if let Err(e) = result {
            warn!(self.log, "fetch failed"; "container_id" => &container_id.value,
                "error" => %e);
            let Some(executor) = self.executor_by_container_mut(container_id) else {
                return;
            };
            executor.state = ExecutorState::Terminating;
            executor.ended_by_agent = Some((TaskStatusReason::FetcherFailed, e.to_string()));
            return self.end_unlaunched(ctx, container_id);
        }
        let launched = self.containerizer.launch(spec).and_then(|pid| {
            let wait = self.containerizer.wait(container_id)?;
            Ok((pid, wait))
        });
        let (pid, wait) = match launched {
            Ok(launched) => launched,
            Err(e) => {
                if let Some(executor) = self.executor_by_container_mut(container_id) {
                    executor.state = ExecutorState::Terminating;
                    executor.ended_by_agent =
                        Some((TaskStatusReason::ContainerLaunchFailed, e.to_string()));
                }
                return self.end_unlaunched(ctx, container_id);
            }
        };
        self.record_container(container_id, pid);
        self.oversub
            .note_launch(container_id, libprocess::unix_secs(ctx.wall_time()));
        let cid = container_id.clone();
        ctx.defer(wait, move |termination| AgentMessage::ExecutorExited {
            container_id: cid,
            termination,
        });
        let Some((framework_id, executor_id)) = self.containers.get(&container_id.value).cloned()
        else {
            return;
        };
        info!(self.log, "launched executor after its fetch"; "framework_id" => %framework_id,
            "executor_id" => %executor_id, "container_id" => &container_id.value, "pid" => pid);
        self.checkpoint_forked_pid(&framework_id, &executor_id, container_id, pid);
        // Tasks that joined during the fetch count in the limits now.
        self.update_container_limits(&framework_id, &executor_id);
    }

    /// Ends an executor whose container never started: its queued tasks get the booked
    /// reason (or fail), as if it had exited.
    fn end_unlaunched(&mut self, ctx: &mut Context<Self>, container_id: &ContainerId) {
        let termination = Termination {
            exit_code: None,
            signal: None,
            limitation: None,
        };
        self.executor_exited(ctx, container_id, termination);
    }

    /// Destroys a container, or cancels its fetch if it has not started yet.
    pub(super) fn destroy_container(&mut self, container_id: &ContainerId) {
        if let Some((cancel, _)) = self.fetching.in_flight.get(&container_id.value) {
            cancel.store(true, Ordering::Relaxed);
            return;
        }
        let _ = self.containerizer.destroy(container_id);
    }

    /// Cancels every fetch under way (the agent stops).
    pub(super) fn cancel_fetches(&mut self) {
        for (cancel, _) in self.fetching.in_flight.values() {
            cancel.store(true, Ordering::Relaxed);
        }
    }
}
