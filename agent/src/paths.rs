//! Where things live under the agent's `--work-dir`.
//!
//! Sandbox of one executor run:
//! `<work-dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>`, with the
//! executor's `stdout` and `stderr` files in it, and a `runs/latest` symlink to the newest run
//! (as Mesos keeps it; `/files` serves sandboxes under that name too). Ids are validated by `meso-api` before they
//! get here (no `/`, no `..`), which is what keeps every path inside the work dir.

use std::path::{Path, PathBuf};

use meso_api::v1::{AgentId, ContainerId, ExecutorId, FrameworkId};

/// The directory holding one framework's executor directories (a top directory for the
/// allocator: see [`crate::topdir`]).
pub fn executors(work_dir: &Path, agent: &AgentId, framework: &FrameworkId) -> PathBuf {
    work_dir
        .join("slaves")
        .join(agent.as_str())
        .join("frameworks")
        .join(framework.as_str())
        .join("executors")
}

/// The sandbox directory of one executor run.
pub fn sandbox(
    work_dir: &Path,
    agent: &AgentId,
    framework: &FrameworkId,
    executor: &ExecutorId,
    container: &ContainerId,
) -> PathBuf {
    executors(work_dir, agent, framework)
        .join(executor.as_str())
        .join("runs")
        .join(&container.value)
}

/// Where the persistent volume `id` of `role` keeps its data (Mesos's layout):
/// `<work-dir>/volumes/roles/<role>/<id>`. Roles and persistence ids are validated (no
/// `..` component) before they get here; a hierarchical role is nested directories.
pub fn volume(work_dir: &Path, role: &str, id: &str) -> PathBuf {
    work_dir.join("volumes").join("roles").join(role).join(id)
}

/// Points `<run>/../latest` at the run directory `run` (replacing an older link). Best
/// effort: a sandbox without the link still works, only the `latest` name is missing.
pub fn link_latest(run: &Path) {
    let (Some(runs), Some(name)) = (run.parent(), run.file_name()) else {
        return;
    };
    let latest = runs.join("latest");
    let _ = std::fs::remove_file(&latest);
    let _ = std::os::unix::fs::symlink(name, &latest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_layout_is_mesos_s() {
        let p = sandbox(
            Path::new("/w"),
            &AgentId::new("M-S0"),
            &FrameworkId::new("M-0001"),
            &ExecutorId::new("ex"),
            &ContainerId::new("c1"),
        );
        assert_eq!(
            p,
            Path::new("/w/slaves/M-S0/frameworks/M-0001/executors/ex/runs/c1")
        );
    }

    #[test]
    fn latest_points_at_the_newest_run() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        for run in ["c1", "c2"] {
            std::fs::create_dir_all(runs.join(run)).unwrap();
            link_latest(&runs.join(run));
        }
        assert_eq!(
            std::fs::read_link(runs.join("latest")).unwrap(),
            Path::new("c2")
        );
    }
}
