//! meso-allocator: hierarchical weighted DRF with quota, reservations, filters and
//! suppress/revive, as a pure core ([`Allocator`]) that the master's allocator actor
//! (`meso_master::master::allocation`) drives.
//!
//! Data flow: the master tells the core about agents (totals and what is in use), frameworks
//! (roles, capabilities, activity), weights and quota, and gives resources back
//! ([`Allocator::recover_resources`], [`Allocator::decline`]); [`Allocator::allocate`] returns
//! offers. Nothing here does I/O or reads a clock, and the crate depends on no runtime
//! (no tokio, no libprocess, no logging): its purity is a fact of the build.
//!
//! Resources cross the boundary as `meso_api::Resources`; inside, each distinct resource
//! shape is interned once and agents hold dense per-slot amounts.
//!
//! Files: `quantity` (range sets), `quantities` (named scalar amounts), `catalog` (interning
//! names and slots), `sorter` (incremental DRF order), `roles` (role tree and walk), `quota`
//! (role accounts and quota rules), `books` (the ledger all changes go through), `agent`,
//! `framework`, `filters`, `core` (the struct; resource, filter and settings calls;
//! queries), `membership` (agents and frameworks joining and leaving), `dirty` (which agents
//! the next incremental round walks), `round` (a round: which agents, in which order),
//! `allocate` (the walk over one agent), `metrics` (a snapshot for `/metrics`).
//!
//! Invariants:
//! - The core never reads the clock or does I/O: time comes in as a [`Timestamp`].
//! - Per agent and slot, free plus everything held equals the total; the ledger (`books`)
//!   always matches the agents' allocation records; only sort keys may lag, and only while
//!   marked dirty. Each member sits once in its sorter, under the key its owner stores.
//! - Any call that could make a (framework, role) newly eligible bumps the eligibility
//!   generation; any change of an agent's free resources clears its idle note and marks
//!   the agent dirty; a round changes no generation. So [`Allocator::allocate`], which
//!   walks only dirty agents, makes exactly the offers of [`Allocator::allocate_full`].
//! - A call that returns an error has changed nothing (apart from interning names and roles).
//! - Offered resources count as allocated until they are recovered.
//!
//! Not modelled: maintenance (unavailability, inverse offers); shared resources are treated as
//! exclusive; headroom counts only the outermost guaranteed roles, and children's guarantees
//! are not checked against their parent's; roles are never garbage-collected.
//!
//! ```
//! use meso_api::Resources;
//! use meso_allocator::{Allocator, AllocatorConfig, FrameworkSpec, Timestamp};
//!
//! let mut allocator = Allocator::new(AllocatorConfig::default()).unwrap();
//! let spec = FrameworkSpec { roles: vec!["eng".into()], ..FrameworkSpec::default() };
//! allocator.add_framework("fw-1", &spec).unwrap();
//! allocator.add_agent("agent-1", &Resources::parse("cpus:4;mem:1024", "*").unwrap(), &[]).unwrap();
//! let offers = allocator.allocate(Timestamp::default());
//! assert_eq!(offers.len(), 1);
//! assert_eq!(offers[0].resources.unallocate().to_string(), "cpus:4; mem:1024");
//! ```

mod agent;
mod allocate;
mod books;
mod catalog;
mod conversion;
mod core;
mod dirty;
mod error;
mod filters;
mod framework;
mod membership;
mod metrics;
mod quantities;
mod quantity;
mod quota;
mod roles;
mod round;
mod sorter;

pub use self::core::{Allocator, AllocatorConfig, Offer};
pub use self::error::AllocatorError;
pub use self::filters::{Timestamp, DEFAULT_REFUSE, MAX_REFUSE};
pub use self::framework::FrameworkSpec;
pub use self::metrics::{AllocatorMetrics, RoleMetrics};
pub use self::quantities::Quantities;
pub use self::quota::Quota;
pub use self::roles::validate_role_name;
