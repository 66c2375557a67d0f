//! The registry's snapshot bytes, versioned so that a registry written by an older meso
//! still restores after an upgrade.
//!
//! Layouts: postcard is positional (not self-describing), so a field added to
//! [`Registry`] changes the layout. Since layout 2 a snapshot starts with [`MAGIC`] and one
//! version byte, then the postcard body of that version. Layout 1 is the untagged postcard
//! of the registry before the maintenance modes and agent controls (a `Vec` of maintenance
//! windows in place of `Machines`, and no agent controls); it is read as such, with every
//! machine UP and no agent deactivated or draining. A new layout gets the next version, a
//! `decode_vN` beside the others, and a fixture written by the code before it
//! (`registry/tests/fixtures/`). Layout 2 is layout 1 plus the maintenance modes and agent
//! controls; layout 3 adds the services framework's records (read from layout 2 as none).
//!
//! Invariants: [`encode`] always writes the newest layout; [`decode`] never panics, and an
//! error names the layout it tried and what did not decode.

use std::collections::BTreeMap;

use meso_api::v1::{AgentId, FrameworkId};
use serde::Deserialize;

use super::agent_controls::AgentControls;
use super::error::RegistryError;
use super::maintenance::{Machines, MaintenanceWindow};
use super::operation::{FrameworkRecord, QuotaRecord};
use super::state::{Registry, StoredAgent};

/// What starts every tagged snapshot (layout 2 and later).
pub const MAGIC: &[u8] = b"meso-registry";

/// The layout [`encode`] writes.
pub const CURRENT_VERSION: u8 = 3;

impl Registry {
    /// Encodes the whole registry in the newest snapshot layout (a version tag, then
    /// postcard with v1 values as JSON inside).
    pub fn snapshot(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a snapshot of any layout this meso reads (an older meso's too), checking
    /// the invariants.
    pub fn restore(bytes: &[u8]) -> Result<Registry, RegistryError> {
        let registry = decode(bytes)?;
        registry.check()?;
        Ok(registry)
    }
}

/// The registry in the newest layout.
pub fn encode(registry: &Registry) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.push(CURRENT_VERSION);
    postcard::to_extend(registry, bytes).expect("invariant: registry values always encode")
}

/// A registry from snapshot bytes of any layout this meso reads (not yet checked).
pub fn decode(bytes: &[u8]) -> Result<Registry, RegistryError> {
    let Some(tagged) = bytes.strip_prefix(MAGIC) else {
        return decode_v1(bytes);
    };
    let corrupt = |what: String| Err(RegistryError::CorruptSnapshot(what));
    match tagged.split_first() {
        None => corrupt("tagged snapshot without a version byte".into()),
        Some((3, body)) => postcard::from_bytes(body).or_else(|e| {
            corrupt(format!(
                "layout 3: {e} (the registry record: agents, maintenance, quotas, weights, \
                 frameworks, agent controls, services)"
            ))
        }),
        Some((2, body)) => decode_v2(body),
        Some((version, _)) => corrupt(format!(
            "layout {version} is newer than this meso reads (1 to {CURRENT_VERSION})"
        )),
    }
}

/// Layout 1: the registry before maintenance modes and agent controls.
#[derive(Deserialize)]
struct RegistryV1 {
    admitted: BTreeMap<AgentId, StoredAgent>,
    unreachable: BTreeMap<AgentId, u64>,
    gone: BTreeMap<AgentId, u64>,
    maintenance: Vec<MaintenanceWindow>,
    quotas: BTreeMap<String, QuotaRecord>,
    weights: BTreeMap<String, f64>,
    frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
}

fn decode_v1(bytes: &[u8]) -> Result<Registry, RegistryError> {
    let v1: RegistryV1 = postcard::from_bytes(bytes).map_err(|e| {
        RegistryError::CorruptSnapshot(format!(
            "untagged, read as layout 1: {e} (the registry record before maintenance modes \
             and agent controls)"
        ))
    })?;
    let mut maintenance = Machines::new();
    maintenance
        .update_schedule(v1.maintenance)
        .map_err(|why| RegistryError::CorruptSnapshot(format!("layout 1 maintenance: {why}")))?;
    Ok(Registry {
        admitted: v1.admitted,
        unreachable: v1.unreachable,
        gone: v1.gone,
        maintenance,
        quotas: v1.quotas,
        weights: v1.weights,
        frameworks: v1.frameworks,
        agent_controls: AgentControls::new(),
        services: BTreeMap::new(),
    })
}

/// Layout 2: the registry before the services framework's records.
#[derive(Deserialize)]
struct RegistryV2 {
    admitted: BTreeMap<AgentId, StoredAgent>,
    unreachable: BTreeMap<AgentId, u64>,
    gone: BTreeMap<AgentId, u64>,
    maintenance: Machines,
    quotas: BTreeMap<String, QuotaRecord>,
    weights: BTreeMap<String, f64>,
    frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
    agent_controls: AgentControls,
}

fn decode_v2(body: &[u8]) -> Result<Registry, RegistryError> {
    let v2: RegistryV2 = postcard::from_bytes(body).map_err(|e| {
        RegistryError::CorruptSnapshot(format!(
            "layout 2: {e} (the registry record before the services framework's records)"
        ))
    })?;
    Ok(Registry {
        admitted: v2.admitted,
        unreachable: v2.unreachable,
        gone: v2.gone,
        maintenance: v2.maintenance,
        quotas: v2.quotas,
        weights: v2.weights,
        frameworks: v2.frameworks,
        agent_controls: v2.agent_controls,
        services: BTreeMap::new(),
    })
}
