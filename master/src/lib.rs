//! meso-master: the master's parts. The allocator core ([`allocator`]), the master
//! process with its books, validation, allocator actor and registrar ([`master`]), and the
//! durable registry ([`registry`]) replicated by a Raft log ([`raftlog`]), and leadership
//! ([`leadership`]): the master runs on the Raft leader, a stand-in elsewhere.

pub mod allocator;
pub mod leadership;
pub mod master;
pub mod raftlog;
pub mod registry;

pub use master::registrar::{InMemoryRegistrar, Registrar};
pub use master::{Master, MasterConfig, MasterMessage};
