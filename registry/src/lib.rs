//! meso-registry: what the master must not forget across a failover (Mesos's
//! `registry.proto`): admitted, unreachable and gone agents, the maintenance schedule and
//! machine modes (`maintenance`), deactivated and draining agents (`agent_controls`),
//! quotas, weights, frameworks with their failover timeouts, and the services framework's
//! records (opaque bytes by key, written and read only by `meso-services`).
//!
//! [`Registry`] is a pure, deterministic state machine: [`Registry::apply`] takes an
//! [`Operation`], checks it, and either changes the registry or returns a
//! [`RegistryError`] and changes nothing. No clock, no I/O: times come inside operations,
//! and the crate depends on no runtime (no tokio, no libprocess, no logging). The master's
//! replicated log (`meso_master::raftlog`) applies the same operations in the same order on
//! every master, and snapshots the registry with [`Registry::snapshot`] to compact its log.
//!
//! Rules, as Mesos's registrar: admitting an agent that is admitted, unreachable or gone is
//! refused (an unreachable one comes back with `MarkReachable`); gone is final; garbage
//! collection drops unreachable and gone entries older than `now - max_age`, then the oldest
//! beyond `max_count` per list. Invariants: an agent id is in at most one of admitted,
//! unreachable and gone; a stored framework carries its own id and a finite, non-negative
//! failover timeout; weights are finite and positive (1.0 is stored as absent); quota
//! guarantees do not exceed limits; a snapshot restores to an equal registry and
//! `restore` re-checks these invariants. Snapshots carry a layout version, and `restore`
//! reads every earlier layout (`snapshot.rs`), so an upgrade keeps the registry. Log
//! entries (`Operation`) are positional too: variants are only ever appended.

mod agent_controls;
mod error;
mod maintenance;
mod operation;
mod snapshot;
mod state;

pub use agent_controls::{AgentControl, AgentControls, DrainConfig, DrainState};
pub use error::RegistryError;
pub use maintenance::{MachineId, MachineKey, MachineMode, Machines, MaintenanceWindow};
pub use operation::{FrameworkRecord, Operation, OperationResult, QuotaRecord};
pub use snapshot::CURRENT_VERSION as SNAPSHOT_VERSION;
pub use state::{prune_candidates, Registry};

#[cfg(test)]
mod tests;
