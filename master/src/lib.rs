//! meso-master: the master's parts. The allocator core ([`allocator`]) and the master
//! process with its books, validation, allocator actor and registrar ([`master`]).

pub mod allocator;
pub mod master;

pub use master::registrar::{InMemoryRegistrar, Registrar};
pub use master::{Master, MasterConfig, MasterMessage};
