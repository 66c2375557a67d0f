//! Who leads the masters, as one master knows it: the contract between the leadership
//! host ([`crate::leadership`]), which keeps [`LeaderInfo`] up to date, and the processes
//! that show it (the master's `/master/state`, the stand-in's redirects). Plain data, so
//! the master reads it without reading the leadership code that starts the master.

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
