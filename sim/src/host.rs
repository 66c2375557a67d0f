//! A simulated agent machine: the agent's [`Containerizer`] and the executors it runs.
//!
//! `SimContainerizer::launch` starts the real executor driver
//! (`meso_frameworks::executor::ExecutorDriver`) with a [`SimExecutor`] on the machine's
//! executor node (another libprocess node on the agent's IP, so a partition of the machine
//! cuts both). The driver subscribes to the agent over the v1 executor HTTP API through
//! the simulated network, exactly as `meso executor` does over TCP. A task "runs" for a
//! seeded duration and ends with a seeded exit code (0: TASK_FINISHED, else TASK_FAILED);
//! now and then the executor crashes instead (its container ends with a signal before any
//! terminal update, and the agent must report the task itself).
//!
//! The machine's table of containers outlives the agent process, as processes outlive a
//! crashed agent; a simulated agent crash kills them all here (the agent's recovery reads
//! liveness from `/proc`, which a simulated executor cannot satisfy, so recovered
//! executors are always gone: the restarted agent reports their tasks).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use libprocess::{Clock, Node, TestClock, Upid};
use meso_agent::containerizer::{
    Containerizer, LaunchSpec, RecoverSpec, Termination, UsageFuture, WaitFuture,
};
use meso_agent::AgentError;
use meso_api::v1::{ContainerId, KillPolicy, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_frameworks::executor::{Executor, ExecutorActions, ExecutorDriver, ExecutorEnvironment};
use parking_lot::Mutex;

use crate::agenda::Agenda;
use crate::checkers::{Truth, Violations};
use crate::rng::SimRng;
use crate::trace::Trace;

/// Fake pids start past Linux's largest `pid_max`, so no real process ever has one: the
/// agent's `/proc` checks find them gone and a stray kill hits nothing.
const FIRST_PID: u32 = 5_000_000;

/// How a task of this machine behaves (drawn per task).
#[derive(Debug, Clone)]
pub struct TaskBehaviour {
    /// Shortest run.
    pub min_run: Duration,
    /// Longest run.
    pub max_run: Duration,
    /// Probability that the task exits non-zero.
    pub fail_p: f64,
    /// Probability that the executor crashes while the task runs.
    pub crash_p: f64,
}

impl Default for TaskBehaviour {
    fn default() -> Self {
        TaskBehaviour {
            min_run: Duration::from_secs(1),
            max_run: Duration::from_secs(60),
            fail_p: 0.1,
            crash_p: 0.02,
        }
    }
}

struct Container {
    upid: Upid,
    pid: u32,
    /// Set when the container was killed or crashed (else the driver's exit code counts).
    end: Arc<Mutex<Option<Termination>>>,
    code: Arc<AtomicI32>,
    waited: bool,
    /// The tasks its executor started.
    tasks: Arc<Mutex<Vec<String>>>,
}

impl Container {
    /// Ends the container as killed (unless it already ended) and every task in it.
    fn kill(&self, node: &Node, truth: &Truth) {
        let mut end = self.end.lock();
        if end.is_none() {
            *end = Some(killed());
        }
        for t in self.tasks.lock().iter() {
            truth.ended(t);
        }
        node.terminate(&self.upid);
    }
}

struct HostState {
    node: Node,
    containers: BTreeMap<String, Container>,
    next_pid: u32,
    rng: SimRng,
    behaviour: TaskBehaviour,
    index: usize,
    truth: Truth,
    violations: Violations,
    trace: Trace,
}

/// One simulated machine's executors (shared by the successive agents on it).
#[derive(Clone)]
pub struct SimHost {
    state: Arc<Mutex<HostState>>,
    agenda: Agenda,
    clock: TestClock,
}

impl SimHost {
    /// A machine whose executors run on `node`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: usize,
        node: Node,
        rng: SimRng,
        behaviour: TaskBehaviour,
        agenda: Agenda,
        clock: TestClock,
        truth: Truth,
        violations: Violations,
        trace: Trace,
    ) -> SimHost {
        SimHost {
            state: Arc::new(Mutex::new(HostState {
                node,
                containers: BTreeMap::new(),
                next_pid: FIRST_PID,
                rng,
                behaviour,
                index,
                truth,
                violations,
                trace,
            })),
            agenda,
            clock,
        }
    }

    /// The containerizer an agent on this machine uses.
    pub fn containerizer(&self) -> Box<dyn Containerizer> {
        Box::new(SimContainerizer { host: self.clone() })
    }

    /// Kills every executor of the machine (the agent crashed and its executors with it).
    pub fn kill_all(&self) {
        let s = self.state.lock();
        for c in s.containers.values() {
            c.kill(&s.node, &s.truth);
        }
    }

    /// Running containers.
    pub fn running(&self) -> usize {
        let s = self.state.lock();
        s.containers
            .values()
            .filter(|c| c.end.lock().is_none())
            .count()
    }
}

fn killed() -> Termination {
    Termination {
        exit_code: None,
        signal: Some(9),
        limitation: None,
    }
}

struct SimContainerizer {
    host: SimHost,
}

fn unknown(c: &ContainerId) -> AgentError {
    AgentError::UnknownContainer(c.value.clone())
}

impl Containerizer for SimContainerizer {
    fn launch(&mut self, spec: LaunchSpec) -> Result<u32, AgentError> {
        let env: BTreeMap<String, String> = spec.env.iter().cloned().collect();
        let env = ExecutorEnvironment::from_lookup(|name| env.get(name).cloned())
            .map_err(|e| AgentError::Recovery(format!("simulated executor environment: {e}")))?;
        let mut s = self.host.state.lock();
        let code = Arc::new(AtomicI32::new(0));
        let end = Arc::new(Mutex::new(None));
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let executor = SimExecutor {
            host: s.index,
            trace: s.trace.clone(),
            truth: s.truth.clone(),
            violations: s.violations.clone(),
            tasks: tasks.clone(),
            live: Default::default(),
            rng: SimRng::stream(s.rng.next_u64(), "executor"),
            behaviour: s.behaviour.clone(),
            agenda: self.host.agenda.clone(),
            clock: self.host.clock.clone(),
            end: end.clone(),
            node: s.node.clone(),
        };
        let pid = s
            .node
            .spawn(ExecutorDriver::new(env, executor, code.clone()))
            .map_err(|e| AgentError::Recovery(format!("simulated executor: {e}")))?;
        let fake_pid = s.next_pid;
        s.next_pid += 1;
        s.containers.insert(
            spec.container_id.value.clone(),
            Container {
                upid: pid.upid().clone(),
                pid: fake_pid,
                end,
                code,
                waited: false,
                tasks,
            },
        );
        Ok(fake_pid)
    }

    fn wait(&mut self, container_id: &ContainerId) -> Result<WaitFuture, AgentError> {
        let mut s = self.host.state.lock();
        let node = s.node.clone();
        let c = s
            .containers
            .get_mut(&container_id.value)
            .ok_or_else(|| unknown(container_id))?;
        if c.waited {
            return Err(unknown(container_id));
        }
        c.waited = true;
        let (upid, end, code) = (c.upid.clone(), c.end.clone(), c.code.clone());
        Ok(Box::pin(async move {
            node.wait(&upid).await;
            let ended = end.lock().clone();
            ended.unwrap_or_else(|| Termination {
                exit_code: Some(code.load(Ordering::SeqCst)),
                signal: None,
                limitation: None,
            })
        }))
    }

    fn destroy(&mut self, container_id: &ContainerId) -> Result<(), AgentError> {
        let s = self.host.state.lock();
        let c = s
            .containers
            .get(&container_id.value)
            .ok_or_else(|| unknown(container_id))?;
        c.kill(&s.node, &s.truth);
        Ok(())
    }

    fn forget(&mut self, container_id: &ContainerId) {
        self.host
            .state
            .lock()
            .containers
            .remove(&container_id.value);
    }

    fn usage(&self, container_id: &ContainerId, timestamp: f64) -> UsageFuture {
        let known = self
            .host
            .state
            .lock()
            .containers
            .contains_key(&container_id.value);
        let id = container_id.clone();
        Box::pin(async move {
            if !known {
                return Err(unknown(&id));
            }
            Ok(meso_isolators_stats(timestamp))
        })
    }

    fn recover(&mut self, spec: RecoverSpec) -> Result<(), AgentError> {
        let s = self.host.state.lock();
        match s.containers.get(&spec.container_id.value) {
            Some(c) if c.pid == spec.pid && c.end.lock().is_none() => Ok(()),
            _ => Err(AgentError::Recovery(format!(
                "simulated container '{}' is not running",
                spec.container_id.value
            ))),
        }
    }

    fn destroy_orphan(
        &mut self,
        container_id: &ContainerId,
        _pid: Option<u32>,
    ) -> Result<(), AgentError> {
        let mut s = self.host.state.lock();
        if let Some(c) = s.containers.remove(&container_id.value) {
            c.kill(&s.node, &s.truth);
        }
        Ok(())
    }

    fn release(&mut self, container_id: &ContainerId) {
        // The executor keeps running; only the agent's handle goes.
        if let Some(c) = self
            .host
            .state
            .lock()
            .containers
            .get_mut(&container_id.value)
        {
            c.waited = false;
        }
    }
}

fn meso_isolators_stats(timestamp: f64) -> meso_isolators::ResourceStatistics {
    meso_isolators::ResourceStatistics {
        timestamp,
        ..Default::default()
    }
}

/// The simulated executor: runs each task for a seeded time and reports how it ended.
struct SimExecutor {
    host: usize,
    trace: Trace,
    truth: Truth,
    violations: Violations,
    tasks: Arc<Mutex<Vec<String>>>,
    /// Tasks started and not yet ended.
    live: std::collections::BTreeSet<String>,
    rng: SimRng,
    behaviour: TaskBehaviour,
    agenda: Agenda,
    clock: TestClock,
    end: Arc<Mutex<Option<Termination>>>,
    node: Node,
}

impl Executor for SimExecutor {
    fn launch_task(&mut self, driver: &mut ExecutorActions<'_, Self>, task: TaskInfo) {
        let id = task.task_id.as_str().to_string();
        self.truth.started(&id, self.host, &self.violations);
        self.tasks.lock().push(id.clone());
        self.live.insert(id.clone());
        let now = self.clock.now();
        let _ =
            driver.send_status_update(TaskStatus::new(task.task_id.clone(), TaskState::Running));
        let b = &self.behaviour;
        let run = Duration::from_millis(
            self.rng
                .range(b.min_run.as_millis() as u64, b.max_run.as_millis() as u64),
        );
        let crash = self.rng.chance(b.crash_p);
        let failed = self.rng.chance(b.fail_p);
        let at = now + run;
        self.trace.line(
            now,
            format_args!(
                "machine {}: task {id} runs for {run:?}{}",
                self.host,
                if crash {
                    ", then its executor crashes"
                } else if failed {
                    ", then fails"
                } else {
                    ""
                }
            ),
        );
        let handle = driver.handle();
        if crash {
            let end = self.end.clone();
            let node = self.node.clone();
            let upid = handle_upid(&handle);
            let truth = self.truth.clone();
            let tasks = self.tasks.clone();
            self.agenda.at(at, move || {
                let mut e = end.lock();
                if e.is_none() {
                    for t in tasks.lock().iter() {
                        truth.ended(t);
                    }
                    *e = Some(Termination {
                        exit_code: None,
                        signal: Some(11),
                        limitation: None,
                    });
                    node.terminate(&upid);
                }
            });
            return;
        }
        let task_id = task.task_id.clone();
        let truth = self.truth.clone();
        self.agenda.at(at, move || {
            handle.run(move |e, a| {
                if !e.live.remove(task_id.as_str()) {
                    return;
                }
                truth.ended(task_id.as_str());
                let state = if failed {
                    TaskState::Failed
                } else {
                    TaskState::Finished
                };
                let _ = a.send_status_update(TaskStatus::new(task_id, state));
                a.stop();
            });
        });
    }

    fn kill_task(
        &mut self,
        driver: &mut ExecutorActions<'_, Self>,
        task: &TaskId,
        _: Option<&KillPolicy>,
    ) {
        if !self.live.remove(task.as_str()) {
            return;
        }
        self.truth.ended(task.as_str());
        self.trace.line(
            self.clock.now(),
            format_args!("machine {}: task {} killed", self.host, task.as_str()),
        );
        let _ = driver.send_status_update(TaskStatus::new(task.clone(), TaskState::Killed));
        driver.stop();
    }
}

fn handle_upid(handle: &meso_frameworks::executor::ExecutorHandle<SimExecutor>) -> Upid {
    handle.upid().clone()
}
