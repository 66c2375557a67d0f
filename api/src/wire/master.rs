//! Masters among themselves and towards clients: where the leading master is.
//!
//! Only the Raft leader among the masters runs the master proper. Every other master answers
//! any registration, reregistration or scheduler message with [`NotLeader`], so an agent or a
//! framework driver can go straight to the leader instead of trying each address in turn.

use serde::{Deserialize, Serialize};

/// Master (not the leader) to agent or driver: "I am not the leading master".
///
/// Sent in answer to any message a client sends to a master that does not lead. The client
/// should send its (re)registration to `leader` when it is known, and otherwise keep trying
/// the masters it was configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotLeader {
    /// The leading master's process id (`master@ip:port`) when this master knows it; `None`
    /// while an election is under way or this master is cut off from the others.
    pub leader: Option<String>,
    /// The Raft term this master has seen (a newer hint carries a higher term).
    pub term: u64,
}
