//! [`StateMachine`]: what the replicated log drives, and its implementation for the
//! [`Registry`](meso_registry::Registry).
//!
//! A state machine must be deterministic: applying the same commands in the same order from
//! the same snapshot gives the same state and outcomes on every node.

use meso_registry::{Operation, OperationResult, Registry};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A deterministic state machine replicated by the log.
pub trait StateMachine: Sized + Send + 'static {
    /// A change, encoded with postcard into the log.
    type Command: Serialize + DeserializeOwned + Send + 'static;
    /// What applying a command returns to its proposer.
    type Outcome: Send + 'static;

    /// The state of a new cluster.
    fn empty() -> Self;
    /// Applies one committed command.
    fn apply(&mut self, command: &Self::Command) -> Self::Outcome;
    /// Encodes the whole state (for log compaction and lagging followers).
    fn snapshot(&self) -> Vec<u8>;
    /// Decodes a state made by [`snapshot`](Self::snapshot).
    fn restore(bytes: &[u8]) -> Result<Self, String>;
}

impl StateMachine for Registry {
    type Command = Operation;
    type Outcome = OperationResult;

    fn empty() -> Self {
        Registry::new()
    }

    fn apply(&mut self, command: &Operation) -> OperationResult {
        Registry::apply(self, command)
    }

    fn snapshot(&self) -> Vec<u8> {
        Registry::snapshot(self)
    }

    fn restore(bytes: &[u8]) -> Result<Self, String> {
        Registry::restore(bytes).map_err(|e| e.to_string())
    }
}
