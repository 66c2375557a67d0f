//! meso-master: the master's parts. The master process with its books, validation,
//! allocator actor (around the pure `meso_allocator` core) and registrar ([`master`]), the
//! Raft log that replicates the durable `meso_registry` state machine ([`raftlog`]), and
//! leadership ([`leadership`]): the master runs on the Raft leader, a stand-in elsewhere.

mod leader_info;
pub mod leadership;
pub mod master;
pub mod raftlog;

pub use master::registrar::{InMemoryRegistrar, Registrar};
pub use master::{Master, MasterConfig, MasterMessage};
