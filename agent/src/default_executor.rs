//! The default executor (Mesos's `ExecutorInfo.type: DEFAULT`), `meso executor default`:
//! runs task groups (LAUNCH_GROUP) for frameworks that bring no executor of their own,
//! written on the framework SDK's executor driver (`meso_frameworks::executor`).
//!
//! Each task of a group runs as its own process (`/bin/sh -c <value>`, or `value` with
//! `arguments` when `shell` is false) in its own process group, in its own directory
//! `tasks/<task id>/` of the executor's sandbox, which the group shares (Mesos's layout
//! for nested containers; meso has no nested containers, so the tasks share the
//! executor's container and its isolation). The task's environment adds its
//! `command.environment` and `MESOS_SANDBOX` naming that directory; stdout and stderr go to
//! files there. Each task is reported TASK_RUNNING once started and TASK_FINISHED,
//! TASK_FAILED (the message names the exit status or signal) or TASK_KILLED when it ends.
//! Which tasks a task's end takes down is the pure `groups.rs` (Mesos's semantics: a
//! failed or killed task kills its whole group). A kill sends SIGTERM to each task's
//! process group and SIGKILL after the kill policy's grace period (else 3 s). The
//! executor exits once every task it was given has ended and been acknowledged, or on
//! SHUTDOWN after killing what runs.

mod groups;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meso_api::v1::{KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_frameworks::executor::{self, Executor, ExecutorActions};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::executor::{describe, DEFAULT_KILL_GRACE};
use groups::Groups;

/// Runs the default executor with the process environment until its tasks are done;
/// returns the process exit code.
pub fn run_default_executor() -> i32 {
    executor::run(DefaultExecutor::default())
}

/// The executor's state (see the module docs).
#[derive(Default)]
struct DefaultExecutor {
    groups: Groups,
    /// The process group of each started task.
    pgids: BTreeMap<TaskId, i32>,
    shutting_down: bool,
}

impl DefaultExecutor {
    fn report(
        driver: &mut ExecutorActions<'_, Self>,
        id: &TaskId,
        state: TaskState,
        msg: Option<String>,
    ) {
        let mut status = TaskStatus::new(id.clone(), state);
        status.message = msg;
        let _ = driver.send_status_update(status);
    }

    /// Task `id` ended (or could not start): report it and kill what its end takes down.
    fn ended(
        &mut self,
        driver: &mut ExecutorActions<'_, Self>,
        id: TaskId,
        success: bool,
        why: String,
    ) {
        self.pgids.remove(&id);
        if let Some((state, kill)) = self.groups.exited(&id, success) {
            Self::report(driver, &id, state, Some(why));
            self.signal(driver, kill, None);
        }
        if self.groups.all_done() {
            driver.stop();
        }
    }

    /// SIGTERM to the tasks' process groups now, SIGKILL to those still running after the
    /// grace period.
    fn signal(
        &mut self,
        driver: &mut ExecutorActions<'_, Self>,
        ids: Vec<TaskId>,
        policy: Option<&KillPolicy>,
    ) {
        if ids.is_empty() {
            return;
        }
        for id in &ids {
            if let Some(pgid) = self.pgids.get(id) {
                let _ = killpg(Pid::from_raw(*pgid), Signal::SIGTERM);
            }
        }
        let grace = policy
            .and_then(|p| p.grace_period.as_ref())
            .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(DEFAULT_KILL_GRACE);
        let handle = driver.handle();
        std::thread::spawn(move || {
            std::thread::sleep(grace);
            handle.run(move |e, _| {
                for id in ids {
                    if let (true, Some(pgid)) = (e.groups.is_live(&id), e.pgids.get(&id)) {
                        let _ = killpg(Pid::from_raw(*pgid), Signal::SIGKILL);
                    }
                }
            });
        });
    }

    fn start(&mut self, driver: &mut ExecutorActions<'_, Self>, task: &TaskInfo) {
        let sandbox = driver
            .environment()
            .sandbox
            .clone()
            .unwrap_or_else(|| PathBuf::from("."));
        match spawn(task, &sandbox) {
            Ok(mut child) => {
                self.pgids.insert(task.task_id.clone(), child.id() as i32);
                Self::report(driver, &task.task_id, TaskState::Running, None);
                let handle = driver.handle();
                let id = task.task_id.clone();
                std::thread::spawn(move || {
                    let (success, why) = match child.wait() {
                        Ok(status) => (status.success(), format!("Command {}", describe(status))),
                        Err(e) => (false, format!("waiting for the command failed: {e}")),
                    };
                    handle.run(move |e, a| e.ended(a, id, success, why));
                });
            }
            Err(why) => {
                let id = task.task_id.clone();
                self.ended(driver, id, false, why);
            }
        }
    }
}

impl Executor for DefaultExecutor {
    fn launch_task(&mut self, driver: &mut ExecutorActions<'_, Self>, task: TaskInfo) {
        // Mesos's default executor takes groups only; a lone task is a group of one.
        self.launch_task_group(driver, TaskGroupInfo { tasks: vec![task] });
    }

    fn launch_task_group(&mut self, driver: &mut ExecutorActions<'_, Self>, group: TaskGroupInfo) {
        if self.shutting_down {
            for task in group.tasks {
                Self::report(
                    driver,
                    &task.task_id,
                    TaskState::Lost,
                    Some("the executor is shutting down".into()),
                );
            }
            return;
        }
        self.groups
            .add_group(group.tasks.iter().map(|t| t.task_id.clone()).collect());
        for task in &group.tasks {
            // A failed start may already have killed the rest of the group.
            if self.groups.is_live(&task.task_id) {
                self.start(driver, task);
            }
        }
    }

    fn kill_task(
        &mut self,
        driver: &mut ExecutorActions<'_, Self>,
        task: &TaskId,
        policy: Option<&KillPolicy>,
    ) {
        let ids = self.groups.kill(task);
        self.signal(driver, ids, policy);
    }

    fn shutdown(&mut self, driver: &mut ExecutorActions<'_, Self>) {
        self.shutting_down = true;
        let ids = self.groups.kill_all();
        if ids.is_empty() {
            driver.stop();
        }
        self.signal(driver, ids, None);
    }
}

/// Starts `task`'s command in `tasks/<id>/` of `sandbox`, in a process group of its own.
fn spawn(task: &TaskInfo, sandbox: &Path) -> Result<Child, String> {
    use std::os::unix::process::CommandExt;
    let command = task
        .command
        .as_ref()
        .ok_or_else(|| format!("task '{}' has no command", task.task_id))?;
    let value = command
        .value
        .as_deref()
        .ok_or_else(|| format!("task '{}' has no command value", task.task_id))?;
    let dir = sandbox.join("tasks").join(task.task_id.as_str());
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the task's sandbox {}: {e}", dir.display()))?;
    let mut cmd = if command.shell {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(value);
        c
    } else {
        let mut c = Command::new(value);
        c.args(command.arguments.iter().skip(1));
        c
    };
    if let Some(env) = &command.environment {
        for v in &env.variables {
            cmd.env(&v.name, v.value.clone().unwrap_or_default());
        }
    }
    let file = |name: &str| {
        std::fs::File::create(dir.join(name))
            .map_err(|e| format!("cannot create {name} in {}: {e}", dir.display()))
    };
    cmd.current_dir(&dir)
        .env("MESOS_SANDBOX", &dir)
        .env("MESOS_TASK_ID", task.task_id.as_str())
        .stdin(Stdio::null())
        .stdout(file("stdout")?)
        .stderr(file("stderr")?)
        .process_group(0);
    cmd.spawn()
        .map_err(|e| format!("cannot start the command of task '{}': {e}", task.task_id))
}
