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
//!
//! Invariants: at most one of `Master` and `StandIn` runs on a node at any time (the old one
//! has exited before the new one is spawned); `master/elected` is 1 exactly while a
//! `Master` runs; a `Master` is only started after a successful lease read, so it starts from
//! a registry that includes every committed change.

mod host;
mod registrar;
mod standin;

pub use host::{HostError, MasterHost, ELECTED, LEADER_RAFT_ID, RAFT_PEERS, RAFT_TERM};
pub use registrar::{operation_for, snapshot_of, RaftRegistrar};
pub use standin::{StandIn, StandInMessage};

use std::net::SocketAddr;
use std::sync::Arc;

use libprocess::Upid;
use parking_lot::Mutex;

/// Who leads the masters, as this master knows it: for `/master/state`, `/metrics/snapshot`
/// and the leader hints a follower sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderInfo {
    /// The leading master's process (`master@ip:port`), when one is known.
    pub leader: Option<Upid>,
    /// The Raft term this master has seen.
    pub term: u64,
    /// Every master of the cluster, this one included, in `--peers` order.
    pub peers: Vec<SocketAddr>,
    /// Whether this master leads and runs the master process.
    pub elected: bool,
}

impl LeaderInfo {
    /// The leader's `(host, port)` for HTTP redirects.
    pub fn leader_host_port(&self) -> Option<(String, u16)> {
        self.leader
            .as_ref()
            .map(|u| (u.addr().ip().to_string(), u.addr().port()))
    }

    /// The fields as JSON (`leader`, `raft_term`, `peers`, `elected`), for the state
    /// documents of the master and the stand-in.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "leader": self.leader.as_ref().map(|u| u.to_string()),
            "raft_term": self.term,
            "peers": self.peers.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "elected": self.elected,
        })
    }
}

/// [`LeaderInfo`] shared between the host that updates it and the processes that show it.
pub type SharedLeaderInfo = Arc<Mutex<LeaderInfo>>;
