//! One real `meso master` and one `meso agent` (cpus:2;mem:512;disk:100) on loopback ports
//! for the root end-to-end tests (included with `#[path]` beside `procs.rs`; it uses
//! `crate::procs`), with extra agent flags such as `--isolation`, and the tail of their logs
//! for failure messages.
//!
//! Invariants: [`Cluster::start_with_agent_flags`] returns only once the master answers
//! `/master/health` and counts the agent as activated (hang-guarded waits, never an
//! assertion of speed); both logs and the agent's work dir live in the cluster's temporary
//! directory; dropping the cluster kills the agent, then the master, then removes the
//! directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::procs::{free_port, http_get, spawn_agent, spawn_logged, wait_until, Proc};

/// How many last lines of each log [`Cluster::logs`] shows.
const LOG_TAIL_LINES: usize = 40;

/// A running master with one registered agent.
pub struct Cluster {
    /// The master's HTTP (and libprocess) port on 127.0.0.1.
    pub master_port: u16,
    /// Declared before the master so that it is killed first.
    agent: Proc,
    master: Proc,
    /// Holds `master.log`, `agent.log` and the agent's work dir `agent/`.
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// A master and an agent started with no flags beyond the usual ones.
    pub fn start() -> Cluster {
        Cluster::start_with_agent_flags(&[])
    }

    /// A master and an agent given `agent_flags` (e.g. `["--isolation", "filesystem/rootfs"]`)
    /// after its master, port, work dir and resources.
    pub fn start_with_agent_flags(agent_flags: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let master_port = free_port();
        let port = master_port.to_string();
        let master = spawn_logged(&["master", "--port", &port], &dir.path().join("master.log"));
        wait_until("master answers /health", || {
            http_get(master_port, "/master/health").is_some()
        });
        let master_addr = format!("127.0.0.1:{master_port}");
        let agent = spawn_agent(
            &master_addr,
            dir.path(),
            "agent",
            "cpus:2;mem:512;disk:100",
            agent_flags,
        );
        wait_until("the agent registered", || {
            http_get(master_port, "/master/state")
                .is_some_and(|s| s.contains("\"activated_slaves\":1"))
        });
        Cluster {
            master_port,
            agent,
            master,
            dir,
        }
    }

    /// The agent's `--work-dir`.
    pub fn agent_work_dir(&self) -> PathBuf {
        self.dir.path().join("agent")
    }

    /// The last lines of the master's and the agent's logs, each under a header naming it.
    pub fn logs(&self) -> String {
        ["master.log", "agent.log"]
            .iter()
            .map(|f| {
                format!(
                    "--- {f} (last lines)\n{}",
                    log_tail(&self.dir.path().join(f))
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The last lines of the file at `path` (empty when it cannot be read).
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(LOG_TAIL_LINES).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}
