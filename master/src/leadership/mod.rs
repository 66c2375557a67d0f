//! Leadership: which master acts as the master. Only the Raft leader of the registry log
//! runs the [`Master`](crate::Master) process; every other master runs a [`StandIn`] under
//! the same process id (`master`) that points clients at the leader.
//!
//! - [`RaftRegistrar`] (`registrar.rs`): the master's registrar over the replicated log.
//! - [`StandIn`] (`standin.rs`): the follower's `master` process: answers every client
//!   message with [`NotLeader`](meso_api::wire::NotLeader) and HTTP with 307 to the leader
//!   (503 when none is known), except its own health, version, state and redirect.
//! - [`MasterHost`] (`host.rs`): watches the log's leader and swaps the two processes: on
//!   election it reads the registry (a lease read) and starts a `Master` recovered from it;
//!   on losing leadership it terminates the `Master` (its links to agents and frameworks
//!   break, so they look for the new leader) and starts a `StandIn`.
//! - [`Companion`] (`companion.rs`): what runs beside the `Master` while it leads (the
//!   services framework), started after it and stopped before it.
//!
//! Invariants: at most one of `Master` and `StandIn` runs on a node at any time (the old one
//! has exited before the new one is spawned); `master/elected` is 1 exactly while a
//! `Master` runs; a `Master` is only started after a successful lease read, so it starts from
//! a registry that includes every committed change.

mod companion;
mod host;
mod registrar;
mod standin;

pub use companion::Companion;
pub use host::{HostError, MasterHost, ELECTED, LEADER_RAFT_ID, RAFT_PEERS, RAFT_TERM};
pub use registrar::{operation_for, snapshot_of, RaftRegistrar};
pub use standin::{StandIn, StandInMessage};

pub use crate::leader_info::{LeaderInfo, SharedLeaderInfo};
