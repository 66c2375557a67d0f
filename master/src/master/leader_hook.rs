//! The master's view of leadership, for `/master/state`: who leads, the Raft term, the
//! peers. The leadership host owns the values; the master only reads
//! them. A master without the hook (tests, `meso local`) reports itself as the leader.

use serde_json::Value;

use super::Master;
use crate::leader_info::SharedLeaderInfo;

impl Master {
    /// Shows `leader` (kept up to date by the leadership host) in `/master/state`.
    pub fn with_leader_info(mut self, leader: SharedLeaderInfo) -> Master {
        self.leader_info = Some(leader);
        self
    }

    /// The leadership fields of `/master/state`: `leader`, `raft_term`, `peers`,
    /// `elected`.
    pub fn leader_json(&self) -> Value {
        match &self.leader_info {
            Some(shared) => shared.lock().to_json(),
            None => serde_json::json!({
                "leader": self.info.as_ref().and_then(|i| i.pid.clone()),
                "raft_term": 0,
                "peers": Vec::<String>::new(),
                "elected": true,
            }),
        }
    }
}
