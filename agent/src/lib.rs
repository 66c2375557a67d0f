//! `meso-agent`: the agent role of meso.
//!
//! The agent reports its machine's resources to the master, runs each task's executor as a
//! separate OS process in a sandbox, serves the v1 executor HTTP API those executors speak,
//! and delivers their status updates to the framework reliably. The built-in command
//! executor (`meso executor`) lives here too ([`executor_main::run`]), kept small: it uses no
//! async runtime and no libprocess node. So does the default executor for task groups
//! (`meso executor default`, [`default_executor`]), written on the framework SDK.
//!
//! Data flow: the master's wire messages reach the `Agent` process ([`agent`], `slave(1)`,
//! also the node's HTTP delegate); it starts one OS process per executor through a
//! [`containerizer::Containerizer`]; executors talk back over the v1 executor HTTP API on the
//! same port ([`agent::executor_api`]); their status updates go through the pure
//! [`status_updates`] core to the master, which routes the framework's acknowledgements back.
//! The built-in executor and the agent's containerizer share only [`executor_contract`].
//!
//! Bounds (issue 22), one line each: executors, tasks and status update streams live as
//! long as their task (a stream is forgotten once its terminal update is acknowledged,
//! `agent::checkpointing`); sandboxes and their `meta` records are removed by [`gc`] after
//! `--gc-delay` or sooner when free disk falls under the headroom; the fetcher cache by
//! `--fetcher-cache-size`; `/files` reads by `agent::files::MAX_READ_LENGTH`; the
//! checkpointed update log per task by its stream; mailboxes and peer queues by
//! `libprocess::Limits`. A task's own stdout/stderr files grow as the task writes (its
//! sandbox's disk quota bounds them when the disk isolator is on).
//!
//! Invariants:
//! - An executor is in the containerizer's table exactly while it is in its framework's
//!   executors; a task is either queued (its executor has not subscribed yet) or launched.
//! - When an executor exits, each of its tasks that is not terminal gets an agent-made
//!   TASK_FAILED (TASK_KILLED if a kill was asked) naming the exit status, or the
//!   limitation's reason when the containerizer ended it for one.
//! - `/files` serves a path only if its canonical form lies inside a run directory of the
//!   work dir (`..` refused, symlinks out of the sandbox are 404).
//! - After every agent hook the `slave/*` gauges match the agent's state.
//!
//! Not done: checkpointing and recovery (`<work-dir>/meta`), so no "recovering" answers; the
//! nested containers (the default executor's tasks share its container); completed executors and tasks in
//! `/state` and GET_TASKS; executor ERROR events; the agent's file, logging and container
//! operator calls (501 with a reason); fetching as another user (`CommandInfo.user` only
//! keys the fetcher cache); garbage collection of executor and framework directories (only
//! run directories are collected) and of sandboxes found at recovery; image
//! stores and `ContainerInfo.volumes`. The isolators' launcher path forks and waits for the
//! child's `exec` on the agent's process thread.
//!
//! See ARCHITECTURE.md (section `meso-agent`) for where this crate sits.

pub mod checkpoint;
pub mod detect;
pub mod error;
pub mod oversubscription;
pub mod status_updates;

pub use error::AgentError;
pub mod agent;
pub mod containerizer;
pub mod default_executor;
pub mod emulator;
pub mod executor;
pub mod executor_contract;
pub mod executor_main;
pub mod fetcher;
pub mod flags;
pub mod gc;
pub mod paths;
pub mod run;
pub mod topdir;
