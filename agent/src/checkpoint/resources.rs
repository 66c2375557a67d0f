//! The agent's checkpointed resources: its dynamic reservations and persistent volumes, the
//! complete set the master last sent in `CheckpointResources`, at
//! `meta/resources/resources.info` (Mesos's path, outside `slaves/<id>`, so they outlive an
//! agent id). Semantic: Mesos's `CheckpointResourcesMessage` (the master sends the whole
//! set after each change; the agent replaces its file, then creates the directories of new
//! volumes and removes those of destroyed ones), not the newer per-operation
//! `UpdateOperationStatus` feedback.
//!
//! The file is one CRC-framed JSON array of Resource objects, written atomically; an
//! absent file is an empty set.

use std::path::{Path, PathBuf};

use meso_api::Resources;

use super::{files, records, CheckpointError};

/// `meta/resources/resources.info`.
pub fn path(meta: &Path) -> PathBuf {
    meta.join("resources").join("resources.info")
}

/// Replaces the checkpointed resources, durably.
pub fn write(meta: &Path, resources: &Resources) -> Result<(), CheckpointError> {
    let file = path(meta);
    if let Some(dir) = file.parent() {
        files::ensure_dir(dir)?;
    }
    let json = serde_json::to_vec(resources)
        .map_err(|e| CheckpointError::new(&file, format!("cannot encode: {e}")))?;
    files::write_atomically(&file, &records::frame(&json))
}

/// The checkpointed resources, empty when none were ever written; a damaged file is an
/// error naming it.
pub fn read(meta: &Path) -> Result<Resources, CheckpointError> {
    let file = path(meta);
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Resources::new()),
        Err(e) => return Err(CheckpointError::new(&file, format!("cannot read: {e}"))),
    };
    let payload = records::single_frame(&bytes).map_err(|why| CheckpointError::new(&file, why))?;
    let resources: Resources =
        meso_api::json::from_slice(payload, &meso_api::json::Limits::default())
            .map_err(|e| CheckpointError::new(&file, format!("not a resource list: {e}")))?;
    resources
        .validate()
        .map_err(|e| CheckpointError::new(&file, e.to_string()))?;
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::resources::ReservationInfo;

    #[test]
    fn resources_round_trip_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("meta");
        assert!(read(&meta).unwrap().is_empty());
        let reserved = Resources::parse("cpus:2;disk:10", "*")
            .unwrap()
            .push_reservation(&ReservationInfo::dynamically("ops", Some("p")));
        write(&meta, &reserved).unwrap();
        assert_eq!(read(&meta).unwrap(), reserved);
        write(&meta, &Resources::new()).unwrap();
        assert!(read(&meta).unwrap().is_empty());
        std::fs::write(path(&meta), b"garbage").unwrap();
        let err = read(&meta).unwrap_err();
        assert!(err.to_string().contains("resources.info"), "{err}");
    }
}
