//! Snapshots written by older meso versions restore after an upgrade, and bad bytes are
//! an error naming the layout, never a panic.
//!
//! `fixtures/registry-v1.snapshot` was written by the registry of commit 4fd4007^ (layout
//! 1, before maintenance modes and agent controls): agent S-1 admitted (host-a, 4 cpus),
//! S-2 gone at 1000 ms, a quota of 2 cpus (guarantee and limit) and weight 2 for role
//! `tuyucheng`, a maintenance window for host-a, framework F-1 with a 60 s failover
//! timeout.

use meso_api::v1::{AgentId, FrameworkId};
use meso_registry::{MachineId, MachineMode, Operation, Registry, RegistryError};
use proptest::prelude::*;

const V1: &[u8] = include_bytes!("fixtures/registry-v1.snapshot");

#[test]
fn a_layout_1_snapshot_of_an_older_meso_restores_whole() {
    let r = Registry::restore(V1).expect("an older meso's registry restores");
    let admitted: Vec<&AgentId> = r.admitted().map(|(id, _)| id).collect();
    assert_eq!(admitted, vec![&AgentId::new("S-1")]);
    let s1 = r.admitted_agent(&AgentId::new("S-1")).unwrap();
    assert_eq!(s1.hostname, "host-a");
    assert_eq!(r.gone().get(&AgentId::new("S-2")), Some(&1000));
    assert_eq!(r.quotas()["tuyucheng"].guarantees["cpus"], 2000);
    assert_eq!(r.weights()["tuyucheng"], 2.0);
    assert!(r.frameworks().contains_key(&FrameworkId::new("F-1")));
    let host_a = MachineId {
        hostname: Some("host-a".into()),
        ip: None,
    };
    assert_eq!(r.maintenance().windows().len(), 1);
    assert_eq!(r.maintenance().mode(&host_a), MachineMode::Draining);

    // It lives on in the newest layout, and the new operations apply to it.
    let mut upgraded = Registry::restore(&r.snapshot()).unwrap();
    assert_eq!(upgraded, r);
    assert!(r.snapshot().starts_with(b"meso-registry"));
    upgraded
        .apply(&Operation::DeactivateAgent(AgentId::new("S-1")))
        .unwrap();
    assert_eq!(Registry::restore(&upgraded.snapshot()).unwrap(), upgraded);
}

#[test]
fn bad_bytes_name_the_layout_they_were_read_as() {
    let message = |bytes: &[u8]| match Registry::restore(bytes) {
        Err(RegistryError::CorruptSnapshot(m)) => m,
        other => panic!("{bytes:?} should be refused: {other:?}"),
    };
    assert!(message(&V1[..V1.len() / 2]).contains("layout 1"));
    let mut cut = b"meso-registry".to_vec();
    cut.push(2);
    cut.extend_from_slice(&[0xff, 0xff, 0xff]);
    assert!(message(&cut).contains("layout 2"), "{}", message(&cut));
    assert!(message(b"meso-registry").contains("version byte"));
    let mut future = b"meso-registry".to_vec();
    future.push(9);
    assert!(message(&future).contains("layout 9 is newer"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Any bytes: a registry or an error, never a panic; with the tag or without.
    #[test]
    fn any_bytes_restore_or_fail_cleanly(body in proptest::collection::vec(any::<u8>(), 0..256),
                                         tagged: bool, version in 0u8..4) {
        let mut bytes = Vec::new();
        if tagged {
            bytes.extend_from_slice(b"meso-registry");
            bytes.push(version);
        }
        bytes.extend_from_slice(&body);
        let _ = Registry::restore(&bytes);
    }
}

/// Log entries are positional postcard too: a variant keeps its index forever (new ones
/// are appended), so an older meso's log entries still mean what they meant.
#[test]
fn operations_keep_their_variant_indices() {
    let index = |op: &Operation| postcard::to_allocvec(op).unwrap()[0];
    assert_eq!(index(&Operation::RemoveAgent(AgentId::new("a"))), 4);
    assert_eq!(index(&Operation::SetWeights(Default::default())), 8);
    assert_eq!(index(&Operation::UpdateMaintenance(vec![])), 9);
    assert_eq!(
        index(&Operation::RemoveFramework(FrameworkId::new("f"))),
        12
    );
    assert_eq!(index(&Operation::DeactivateAgent(AgentId::new("a"))), 17);
}
