//! Where things live under the agent's `--work-dir`.
//!
//! Sandbox of one executor run:
//! `<work-dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>`, with the
//! executor's `stdout` and `stderr` files in it. Ids are validated by `meso-api` before they
//! get here (no `/`, no `..`), which is what keeps every path inside the work dir.

use std::path::{Path, PathBuf};

use meso_api::v1::{AgentId, ContainerId, ExecutorId, FrameworkId};

/// The sandbox directory of one executor run.
pub fn sandbox(
    work_dir: &Path,
    agent: &AgentId,
    framework: &FrameworkId,
    executor: &ExecutorId,
    container: &ContainerId,
) -> PathBuf {
    work_dir
        .join("slaves")
        .join(agent.as_str())
        .join("frameworks")
        .join(framework.as_str())
        .join("executors")
        .join(executor.as_str())
        .join("runs")
        .join(&container.value)
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
}
