//! meso's one test kit: everything the integration and end-to-end tests share, as a
//! dev-dependency crate (`publish = false`), so no test file carries its own client or
//! polling loop.
//!
//! What it owns, by module:
//! - [`http`]: one raw HTTP/1.1 + RecordIO client (a pure wire core, a blocking and a tokio
//!   shell).
//! - [`eventually`]: the one polling helper and the hang guard.
//! - [`root`] and [`skip_unless_root!`]: tests that need root say SKIPPED by name.
//! - [`process`]: real `meso` processes (spawn with logs, kill -9, SIGSTOP/SIGCONT, log
//!   tails); [`e2e_cluster`] one real master and agent; [`masters`] three real HA masters;
//!   [`subscribe`] a scheduler SUBSCRIBE that follows redirects; [`python_clients`] the
//!   Python HTTP clients; [`executors`] ends the executors checkpointing frameworks
//!   leave behind their killed agents.
//! - [`certs`]: a test CA and certificates (rcgen) written as `--ssl-*` files, and an
//!   HTTPS GET.
//! - [`browser`]: headless Chromium through chromedriver (WebDriver), for the web UI's
//!   tests, and [`skip_unless_browser!`] where it is not installed.
//! - [`cluster`]: the in-process cluster harness with raft-rs's verbs (`crash`,
//!   `restart`, `partition`, `isolate`, `heal`, `settle`) over libprocess message filters.
//! - [`master_harness`]: a real master with small wire-speaking test agents and the real
//!   scheduler driver; [`agent_harness`]: a real agent with a small test master;
//!   [`isolated`]: a test's own cgroups root for agents with isolators; [`rootfs`]: a
//!   tiny root filesystem; [`isolator_checks`]: cgroup and process-table checks for the
//!   isolators' tests.
//!
//! Invariants: no timing assertion anywhere (every deadline is a hang guard that names
//! what it waited for); nothing here stubs meso: the harnesses run the real master, agent,
//! driver and processes, and fake only the peer a test plays.

pub mod agent_harness;
pub mod browser;
pub mod certs;
pub mod cluster;
pub mod e2e_cluster;
pub mod eventually;
pub mod executors;
pub mod http;
pub mod isolated;
pub mod isolator_checks;
pub mod master_harness;
pub mod masters;
pub mod process;
pub mod python_clients;
pub mod root;
pub mod rootfs;
pub mod subscribe;

pub use eventually::{eventually, eventually_async, HANG_GUARD};
