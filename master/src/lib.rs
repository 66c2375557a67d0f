//! meso-master: the master's parts. For now the allocator core ([`allocator`]); the master
//! actor, the registrar and the HTTP APIs join it later.

pub mod allocator;
pub mod raftlog;
pub mod registry;
