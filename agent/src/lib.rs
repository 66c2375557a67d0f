//! `meso-agent`: the agent role of meso.
//!
//! The agent reports its machine's resources to the master, runs each task's executor as a
//! separate OS process in a sandbox, serves the v1 executor HTTP API those executors speak,
//! and delivers their status updates to the framework reliably. The built-in command
//! executor (`meso executor`) lives here too ([`executor_main::run`]), kept small: it uses no
//! async runtime and no libprocess node.
//!
//! See ARCHITECTURE.md (section `meso-agent`) for the code map and the invariants.

pub mod detect;
pub mod error;
pub mod status_updates;

pub use error::AgentError;
pub mod agent;
pub mod containerizer;
pub mod emulator;
pub mod executor;
pub mod executor_contract;
pub mod executor_main;
pub mod flags;
pub mod paths;
pub mod run;
