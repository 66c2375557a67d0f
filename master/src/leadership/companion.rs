//! [`Companion`]: something that runs beside the `Master` while this master leads (the
//! services framework, `meso-services`), started after the master process and stopped
//! before it, by the [`MasterHost`](super::MasterHost).
//!
//! A companion talks to the master as any client does (its own processes, messages and
//! HTTP on the node); the host only gives it the node and the registry's log, whose lease
//! read it may use to recover its own records.

use futures::future::BoxFuture;
use libprocess::Node;

use crate::raftlog::RaftLog;
use meso_registry::Registry;

/// Runs while this master leads (see the module docs).
pub trait Companion: Send + Sync + 'static {
    /// This master was elected and its `Master` process runs: start.
    fn elected(&self, node: &Node, log: &RaftLog<Registry>);
    /// Leadership ended or the host stops: stop what `elected` started (resolves once it
    /// has stopped). Called also when nothing was started.
    fn deposed(&self, node: &Node) -> BoxFuture<'static, ()>;
}
