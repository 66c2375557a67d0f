//! `meta/slaves/<agent_id>/flags.info` (meso's own; Mesos has no such file): the
//! `--resources` and `--attributes` the agent was started with when its `slave.info` was last
//! written. `slave.info` holds what the agent runs with, which an online change
//! (UPDATE_AGENT, SIGHUP) makes differ from the flags; this record tells a restarted agent
//! whether its flags moved since: if they did not, the online change survives the restart
//! (the agent runs with `slave.info`'s values); if they did, the flags win and
//! `--reconfiguration-policy` judges them against `slave.info`.
//!
//! One CRC frame of JSON, written atomically like every `.info`.

use std::path::Path;

use meso_api::attributes::Attributes;
use meso_api::Resources;
use serde::{Deserialize, Serialize};

use super::{files, layout, records, CheckpointError};

/// The flags' resources and attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagsRecord {
    /// `--resources` as the agent read them.
    pub resources: Resources,
    /// `--attributes` as the agent read them.
    pub attributes: Attributes,
}

/// The record's path in an agent's directory.
pub fn path(agent_dir: &Path) -> std::path::PathBuf {
    agent_dir.join("flags.info")
}

/// Writes the record (atomically, fsynced).
pub fn write(agent_dir: &Path, record: &FlagsRecord) -> Result<(), CheckpointError> {
    let json = serde_json::to_vec(record)
        .expect("invariant: resources and attributes always serialize to JSON");
    files::write_atomically(&path(agent_dir), &records::frame(&json))
}

/// Reads the record of agent `agent` under `meta`: `Ok(None)` when there is none (an agent
/// checkpointed before meso had online changes).
pub fn read(
    meta: &Path,
    agent: &meso_api::v1::AgentId,
) -> Result<Option<FlagsRecord>, CheckpointError> {
    let file = path(&layout::agent_dir(meta, agent));
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CheckpointError::new(&file, format!("cannot read it: {e}"))),
    };
    let payload = records::single_frame(&bytes).map_err(|p| CheckpointError::new(&file, p))?;
    serde_json::from_slice(payload)
        .map(Some)
        .map_err(|e| CheckpointError::new(&file, format!("is not a flags record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path();
        let id = meso_api::v1::AgentId::new("a-S0");
        assert_eq!(read(meta, &id).unwrap(), None);
        let agent_dir = layout::agent_dir(meta, &id);
        std::fs::create_dir_all(&agent_dir).unwrap();
        let record = FlagsRecord {
            resources: Resources::parse("cpus:2;mem:512;ports:[31000-32000]", "*").unwrap(),
            attributes: Attributes::parse("rack:r1").unwrap(),
        };
        write(&agent_dir, &record).unwrap();
        assert_eq!(read(meta, &id).unwrap(), Some(record));
        std::fs::write(path(&agent_dir), b"garbage").unwrap();
        let e = read(meta, &id).unwrap_err();
        assert!(e.path.ends_with("flags.info"), "{e}");
    }
}
