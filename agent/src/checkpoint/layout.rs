//! Where each checkpoint lives under `<work-dir>/meta`, after Mesos's `src/slave/paths.hpp`.
//!
//! ```text
//! meta/boot_id
//! meta/slaves/latest -> <agent_id>
//! meta/slaves/<agent_id>/slave.info
//! meta/slaves/<agent_id>/drain.config
//! meta/slaves/<agent_id>/flags.info       (meso's own: see `flags_record`)
//! meta/slaves/<agent_id>/frameworks/<fid>/framework.info
//! meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/executor.info
//! meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/latest -> <container_id>
//! .../runs/<container_id>/pids/forked.pid
//! .../runs/<container_id>/pids/http.marker
//! .../runs/<container_id>/completed
//! .../runs/<container_id>/tasks/<tid>/task.info
//! .../runs/<container_id>/tasks/<tid>/task.updates
//! ```
//!
//! Pure path arithmetic. Ids are validated by `meso-api` (no `/`, no `..`) before they get
//! here, which keeps every path inside `meta/`.

use std::path::{Path, PathBuf};

use meso_api::v1::{AgentId, ContainerId, ExecutorId, FrameworkId, TaskId};

/// `<work-dir>/meta`.
pub fn meta_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("meta")
}

/// The boot id of the machine when the agent last started.
pub fn boot_id(meta: &Path) -> PathBuf {
    meta.join("boot_id")
}

/// `meta/slaves`: one directory per agent id this work dir has had.
pub fn agents_dir(meta: &Path) -> PathBuf {
    meta.join("slaves")
}

/// The symlink naming the current agent id.
pub fn latest_agent(meta: &Path) -> PathBuf {
    agents_dir(meta).join("latest")
}

/// The directory of one agent id.
pub fn agent_dir(meta: &Path, agent: &AgentId) -> PathBuf {
    agents_dir(meta).join(agent.as_str())
}

/// The agent's `AgentInfo` (with `--resources` and `--attributes` as it ran).
pub fn agent_info(agent_dir: &Path) -> PathBuf {
    agent_dir.join("slave.info")
}

/// The drain the master asked for, while the agent drains (Mesos's `drain.config`).
pub fn drain_config(agent_dir: &Path) -> PathBuf {
    agent_dir.join("drain.config")
}

/// The directory of one framework.
pub fn framework_dir(agent_dir: &Path, framework: &FrameworkId) -> PathBuf {
    agent_dir.join("frameworks").join(framework.as_str())
}

/// The framework's `FrameworkInfo`.
pub fn framework_info(framework_dir: &Path) -> PathBuf {
    framework_dir.join("framework.info")
}

/// The directory of one executor.
pub fn executor_dir(framework_dir: &Path, executor: &ExecutorId) -> PathBuf {
    framework_dir.join("executors").join(executor.as_str())
}

/// The executor's `ExecutorInfo`.
pub fn executor_info(executor_dir: &Path) -> PathBuf {
    executor_dir.join("executor.info")
}

/// The directory of one run (container) of an executor.
pub fn run_dir(executor_dir: &Path, container: &ContainerId) -> PathBuf {
    executor_dir.join("runs").join(&container.value)
}

/// The pid of the executor process the agent forked.
pub fn forked_pid(run_dir: &Path) -> PathBuf {
    run_dir.join("pids").join("forked.pid")
}

/// Present once the executor subscribed over the v1 HTTP API (Mesos's `http.marker`).
pub fn http_marker(run_dir: &Path) -> PathBuf {
    run_dir.join("pids").join("http.marker")
}

/// Present once the run ended and everything in it was accounted for.
pub fn run_completed(run_dir: &Path) -> PathBuf {
    run_dir.join("completed")
}

/// The directory of one task of a run.
pub fn task_dir(run_dir: &Path, task: &TaskId) -> PathBuf {
    run_dir.join("tasks").join(task.as_str())
}

/// The task's `TaskInfo`.
pub fn task_info(task_dir: &Path) -> PathBuf {
    task_dir.join("task.info")
}

/// The task's status update stream: appended [`super::records`].
pub fn task_updates(task_dir: &Path) -> PathBuf {
    task_dir.join("task.updates")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_mesos_s() {
        let meta = meta_dir(Path::new("/w"));
        let agent = agent_dir(&meta, &AgentId::new("M-S0"));
        let fw = framework_dir(&agent, &FrameworkId::new("M-0001"));
        let run = run_dir(
            &executor_dir(&fw, &ExecutorId::new("ex")),
            &ContainerId::new("c1"),
        );
        assert_eq!(
            task_updates(&task_dir(&run, &TaskId::new("t1"))),
            Path::new(
                "/w/meta/slaves/M-S0/frameworks/M-0001/executors/ex/runs/c1/tasks/t1/task.updates"
            )
        );
        assert_eq!(
            forked_pid(&run),
            Path::new("/w/meta/slaves/M-S0/frameworks/M-0001/executors/ex/runs/c1/pids/forked.pid")
        );
        assert_eq!(boot_id(&meta), Path::new("/w/meta/boot_id"));
    }
}
