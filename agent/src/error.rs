//! The one error type of `meso-agent`: every variant names what was wrong and the value.

use thiserror::Error;

/// What can go wrong in the agent and the built-in executor.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A flag (or its environment variable) with a value the agent cannot use.
    #[error("bad value '{value}' for {flag}: {reason}")]
    Flag {
        /// The flag, e.g. `--resources`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// An environment variable the executor needs is missing or malformed.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A filesystem or process operation failed.
    #[error("{what} '{path}': {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path or object involved.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A container id the containerizer does not know.
    #[error("unknown container '{0}'")]
    UnknownContainer(String),
    /// The agent's HTTP peer answered something the protocol does not allow.
    #[error("protocol error talking to {peer}: {reason}")]
    Protocol {
        /// Who we talked to.
        peer: String,
        /// What went wrong.
        reason: String,
    },
    /// A status update the status update manager refuses.
    #[error("status update for task '{task_id}' refused: {reason}")]
    StatusUpdate {
        /// The task.
        task_id: String,
        /// Why.
        reason: String,
    },
    /// An isolator refused or failed a step of a container's lifecycle.
    #[error(transparent)]
    Isolator(#[from] meso_isolators::IsolatorError),
    /// A checkpoint file could not be written or read back.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// The agent cannot recover its previous run as asked.
    #[error("recovery: {0}")]
    Recovery(String),
    /// The libprocess node could not start.
    #[error("agent node: {0}")]
    Node(String),
}
