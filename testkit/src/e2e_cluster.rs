//! One real `meso master` and one `meso agent` (cpus:2;mem:512;disk:100) on loopback ports
//! for the root end-to-end tests, with extra agent flags such as `--isolation`, and the tail of their logs
//! for failure messages.
//!
//! Invariants: [`Cluster::start_with_agent_flags`] returns only once the master answers
//! `/master/health` and counts the agent as activated (hang-guarded waits, never an
//! assertion of speed); both logs and the agent's work dir live in the cluster's temporary
//! directory; dropping the cluster kills the agent, then the master, then removes the
//! directory.
use std::path::PathBuf;

use crate::eventually::eventually;
use crate::http::blocking::try_get;
use crate::process::{free_port, logs_in, spawn_agent, spawn_logged, Proc};

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
        eventually("master answers /health", || {
            try_get(master_port, "/master/health").is_some()
        });
        let master_addr = format!("127.0.0.1:{master_port}");
        let agent = spawn_agent(
            &master_addr,
            dir.path(),
            "agent",
            "cpus:2;mem:512;disk:100",
            agent_flags,
        );
        eventually("the agent registered", || {
            try_get(master_port, "/master/state")
                .is_some_and(|s| s.text().contains("\"activated_slaves\":1"))
        });
        Cluster {
            master_port,
            agent,
            master,
            dir,
        }
    }

    /// The agent process (to kill -9, SIGSTOP or SIGCONT it).
    pub fn agent(&mut self) -> &mut Proc {
        &mut self.agent
    }

    /// The master process (to kill -9, SIGSTOP or SIGCONT it).
    pub fn master(&mut self) -> &mut Proc {
        &mut self.master
    }

    /// Runs `tests/http_clients/scheduler.py` against the master with `extra` arguments to
    /// its exit; its exit code and output.
    pub fn run_scheduler(&self, extra: &[&str]) -> (Option<i32>, String) {
        crate::python_clients::run_scheduler_py(self.master_port, extra)
    }

    /// The agent's `--work-dir`.
    pub fn agent_work_dir(&self) -> PathBuf {
        self.dir.path().join("agent")
    }

    /// The last lines of the master's and the agent's logs, each under a header naming it.
    pub fn logs(&self) -> String {
        logs_in(self.dir.path(), &["master.log", "agent.log"])
    }
}
