//! Errors of the replicated log: [`RaftLogError`] for opening and running it,
//! [`ProposeError`] for a proposal whose outcome the proposer does not learn.

/// Opening or running the log failed.
#[derive(Debug, thiserror::Error)]
pub enum RaftLogError {
    /// The on-disk store failed (open, read, write or fsync).
    #[error("raft store at {path}: {reason}")]
    Store {
        /// The database file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The store holds bytes that do not decode.
    #[error("raft store at {path}: corrupt {what}: {reason}")]
    Corrupt {
        /// The database file.
        path: String,
        /// Which record.
        what: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// The configuration is unusable.
    #[error("raft configuration: {0}")]
    Config(String),
    /// The work dir was made for a different set of peers.
    #[error("work dir {path} belongs to a cluster with voters {stored:?}, not {given:?}")]
    MembershipMismatch {
        /// The database file.
        path: String,
        /// Voters recorded on disk.
        stored: Vec<u64>,
        /// Voters given now.
        given: Vec<u64>,
    },
    /// The snapshot in the store could not be restored by the state machine.
    #[error("snapshot at index {index} does not restore: {reason}")]
    BadSnapshot {
        /// Its log index.
        index: u64,
        /// The state machine's complaint.
        reason: String,
    },
    /// raft-rs refused a call.
    #[error("raft: {0}")]
    Raft(#[from] raft::Error),
    /// The log's process could not be started on the node.
    #[error("spawning the raft process: {0}")]
    Spawn(String),
}

/// Why a proposal's outcome is not known to the proposer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// This node is not the leader; `leader` is the node id it believes leads (0: none).
    #[error("not the leader (leader is node {leader})")]
    NotLeader {
        /// The leader's node id, 0 when none is known.
        leader: u64,
    },
    /// This node lost leadership before the proposal committed. It may still commit
    /// under the new leader: read the state to find out.
    #[error("leadership lost before the proposal committed; its outcome is unknown")]
    LeadershipLost,
    /// raft-rs dropped the proposal (e.g. a leader transfer is under way).
    #[error("proposal dropped by raft: {0}")]
    Dropped(String),
    /// The log's mailbox is full; try again later.
    #[error("the replicated log is overloaded: {0}")]
    Busy(String),
    /// The log's process has stopped.
    #[error("the replicated log has stopped")]
    Stopped,
    /// The command did not fit: encoded size in bytes and the limit.
    #[error("command of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The log failed on disk; the node stops serving.
    #[error("store failure: {0}")]
    Store(String),
}
