//! Registry tests: each operation's rule, snapshot round trips, and properties over random
//! operation sequences (determinism, refused operations change nothing, GC bounds).

use super::*;
use meso_api::v1::{AgentId, AgentInfo, FrameworkId, FrameworkInfo};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn agent(n: u32) -> AgentInfo {
    let mut info = AgentInfo::new(&format!("host{n}"));
    info.id = Some(AgentId::new(format!("agent-{n}")));
    info
}

fn aid(n: u32) -> AgentId {
    AgentId::new(format!("agent-{n}"))
}

fn framework(n: u32, failover_timeout: f64) -> FrameworkRecord {
    let id = FrameworkId::new(format!("fw-{n}"));
    let mut info = FrameworkInfo::new("user", &format!("framework {n}"));
    info.id = Some(id.clone());
    info.failover_timeout = failover_timeout;
    FrameworkRecord { id, info }
}

fn machine(host: &str) -> MachineId {
    MachineId {
        hostname: Some(host.to_string()),
        ip: None,
    }
}

#[test]
fn an_admitted_agents_info_is_replaced_and_others_are_refused() {
    let mut r = Registry::new();
    assert_eq!(
        r.apply(&Operation::UpdateAgentInfo(agent(1))),
        Err(RegistryError::AgentNotAdmitted(aid(1)))
    );
    r.apply(&Operation::AdmitAgent(agent(1))).unwrap();
    let mut resized = agent(1);
    resized.resources = meso_api::Resources::parse("cpus:8;mem:4096", "*").unwrap();
    resized.attributes = meso_api::attributes::Attributes::parse("rack:r2").unwrap();
    r.apply(&Operation::UpdateAgentInfo(resized.clone()))
        .unwrap();
    assert_eq!(r.admitted_agent(&aid(1)), Some(&resized));
    let back = Registry::restore(&r.snapshot()).unwrap();
    assert_eq!(back.admitted_agent(&aid(1)), Some(&resized));
    r.apply(&Operation::MarkUnreachable {
        agent: aid(1),
        at_ms: 5,
    })
    .unwrap();
    assert_eq!(
        r.apply(&Operation::UpdateAgentInfo(resized)),
        Err(RegistryError::AgentNotAdmitted(aid(1)))
    );
}

#[test]
fn agent_lifecycle_follows_mesos_rules() {
    let mut r = Registry::new();
    r.apply(&Operation::AdmitAgent(agent(1))).unwrap();
    assert_eq!(
        r.apply(&Operation::AdmitAgent(agent(1))),
        Err(RegistryError::AgentAlreadyAdmitted(aid(1)))
    );
    r.apply(&Operation::MarkUnreachable {
        agent: aid(1),
        at_ms: 7,
    })
    .unwrap();
    assert_eq!(r.unreachable().get(&aid(1)), Some(&7));
    assert_eq!(
        r.apply(&Operation::AdmitAgent(agent(1))),
        Err(RegistryError::AgentUnreachable(aid(1)))
    );
    assert_eq!(
        r.apply(&Operation::MarkUnreachable {
            agent: aid(1),
            at_ms: 8
        }),
        Err(RegistryError::AgentNotAdmitted(aid(1)))
    );
    r.apply(&Operation::MarkReachable(agent(1))).unwrap();
    assert!(r.admitted_agent(&aid(1)).is_some());
    assert_eq!(
        r.apply(&Operation::MarkReachable(agent(1))),
        Err(RegistryError::AgentNotUnreachable(aid(1)))
    );
    r.apply(&Operation::MarkGone {
        agent: aid(1),
        at_ms: 9,
    })
    .unwrap();
    assert_eq!(
        r.apply(&Operation::AdmitAgent(agent(1))),
        Err(RegistryError::AgentGone(aid(1)))
    );
    assert_eq!(
        r.apply(&Operation::MarkGone {
            agent: aid(1),
            at_ms: 10
        }),
        Err(RegistryError::AgentGone(aid(1)))
    );
    assert_eq!(
        r.apply(&Operation::MarkGone {
            agent: aid(2),
            at_ms: 10
        }),
        Err(RegistryError::AgentUnknown(aid(2)))
    );
    r.apply(&Operation::AdmitAgent(agent(3))).unwrap();
    r.apply(&Operation::RemoveAgent(aid(3))).unwrap();
    assert_eq!(r.admitted().count(), 0);
    assert_eq!(
        r.apply(&Operation::RemoveAgent(aid(3))),
        Err(RegistryError::AgentNotAdmitted(aid(3)))
    );
}

#[test]
fn agent_without_id_is_refused() {
    let mut r = Registry::new();
    let info = AgentInfo::new("nameless");
    assert_eq!(
        r.apply(&Operation::AdmitAgent(info)),
        Err(RegistryError::AgentWithoutId {
            hostname: "nameless".to_string()
        })
    );
}

#[test]
fn gc_drops_old_then_oldest() {
    let mut r = Registry::new();
    for n in 0..10 {
        r.apply(&Operation::AdmitAgent(agent(n))).unwrap();
        r.apply(&Operation::MarkUnreachable {
            agent: aid(n),
            at_ms: 100 + u64::from(n),
        })
        .unwrap();
    }
    r.apply(&Operation::Gc {
        now_ms: 200,
        max_age_ms: 97,
        max_count: 100,
    })
    .unwrap();
    // Kept: at_ms >= 103.
    assert_eq!(r.unreachable().len(), 7);
    r.apply(&Operation::Gc {
        now_ms: 200,
        max_age_ms: 1000,
        max_count: 2,
    })
    .unwrap();
    let kept: Vec<_> = r.unreachable().keys().cloned().collect();
    assert_eq!(kept, vec![aid(8), aid(9)]);
}

#[test]
fn prune_forgets_the_named_departed_agents_and_skips_the_rest() {
    let mut r = Registry::new();
    for n in 0..4 {
        r.apply(&Operation::AdmitAgent(agent(n))).unwrap();
    }
    for n in 0..2 {
        r.apply(&Operation::MarkUnreachable {
            agent: aid(n),
            at_ms: 10 + u64::from(n),
        })
        .unwrap();
    }
    r.apply(&Operation::MarkGone {
        agent: aid(2),
        at_ms: 5,
    })
    .unwrap();
    let unreachable = prune_candidates(r.unreachable(), 100, 89, 10);
    assert_eq!(unreachable, vec![aid(0)], "departed at 10 < 100 - 89");
    let gone = prune_candidates(r.gone(), 100, 1000, 0);
    assert_eq!(gone, vec![aid(2)], "over the count");
    // aid(3) is admitted and aid(9) unknown: named in a prune, they are skipped.
    r.apply(&Operation::Prune {
        unreachable: [unreachable, vec![aid(3), aid(9)]].concat(),
        gone,
    })
    .unwrap();
    assert_eq!(r.unreachable().keys().collect::<Vec<_>>(), [&aid(1)]);
    assert!(r.gone().is_empty());
    assert_eq!(r.admitted().count(), 1);
}

#[test]
fn framework_failover_timeout_is_kept() {
    let mut r = Registry::new();
    r.apply(&Operation::AddFramework(framework(1, 604800.0)))
        .unwrap();
    let snapshot = r.snapshot();
    let restored = Registry::restore(&snapshot).unwrap();
    let fid = FrameworkId::new("fw-1");
    assert_eq!(restored.frameworks()[&fid].info.failover_timeout, 604800.0);
    assert_eq!(
        r.apply(&Operation::AddFramework(framework(1, 1.0))),
        Err(RegistryError::FrameworkAlreadyRegistered(fid.clone()))
    );
    r.apply(&Operation::UpdateFramework(framework(1, 5.0)))
        .unwrap();
    assert_eq!(r.frameworks()[&fid].info.failover_timeout, 5.0);
    let bad = r.apply(&Operation::UpdateFramework(framework(1, -1.0)));
    assert!(matches!(
        bad,
        Err(RegistryError::InvalidFailoverTimeout { .. })
    ));
    let nan = r.apply(&Operation::AddFramework(framework(2, f64::NAN)));
    assert!(matches!(
        nan,
        Err(RegistryError::InvalidFailoverTimeout { .. })
    ));
    let mut mismatched = framework(3, 0.0);
    mismatched.id = FrameworkId::new("other");
    assert!(matches!(
        r.apply(&Operation::AddFramework(mismatched)),
        Err(RegistryError::FrameworkIdMismatch { .. })
    ));
    r.apply(&Operation::RemoveFramework(fid.clone())).unwrap();
    assert_eq!(
        r.apply(&Operation::RemoveFramework(fid.clone())),
        Err(RegistryError::FrameworkUnknown(fid))
    );
}

#[test]
fn quota_weights_maintenance_are_validated() {
    let mut r = Registry::new();
    let quota = QuotaRecord {
        guarantees: BTreeMap::from([("cpus".to_string(), 2000)]),
        limits: BTreeMap::from([("cpus".to_string(), 1000)]),
    };
    assert!(matches!(
        r.apply(&Operation::SetQuota {
            role: "eng".to_string(),
            quota
        }),
        Err(RegistryError::InvalidQuota { .. })
    ));
    assert!(matches!(
        r.apply(&Operation::SetQuota {
            role: "..".to_string(),
            quota: QuotaRecord::default()
        }),
        Err(RegistryError::InvalidRole { .. })
    ));
    let quota = QuotaRecord {
        guarantees: BTreeMap::from([("cpus".to_string(), 1000)]),
        limits: BTreeMap::new(),
    };
    r.apply(&Operation::SetQuota {
        role: "eng".to_string(),
        quota: quota.clone(),
    })
    .unwrap();
    assert_eq!(r.quotas().get("eng"), Some(&quota));
    r.apply(&Operation::SetQuota {
        role: "eng".to_string(),
        quota: QuotaRecord::default(),
    })
    .unwrap();
    assert!(r.quotas().is_empty());

    let cpus = |g: i64, l: i64| QuotaRecord {
        guarantees: BTreeMap::from([("cpus".to_string(), g)]),
        limits: BTreeMap::from([("cpus".to_string(), l)]),
    };
    assert!(matches!(
        r.apply(&Operation::UpdateQuotas(BTreeMap::from([
            ("a".to_string(), cpus(1000, 2000)),
            ("b".to_string(), cpus(3000, 2000)),
        ]))),
        Err(RegistryError::InvalidQuota { .. })
    ));
    assert!(r.quotas().is_empty(), "a refused batch of quotas sets none");
    r.apply(&Operation::UpdateQuotas(BTreeMap::from([
        ("a".to_string(), cpus(1000, 2000)),
        ("b".to_string(), cpus(0, 500)),
    ])))
    .unwrap();
    assert_eq!(r.quotas().get("a"), Some(&cpus(1000, 2000)));
    assert_eq!(r.quotas().get("b"), Some(&cpus(0, 500)));
    r.apply(&Operation::UpdateQuotas(BTreeMap::from([(
        "a".to_string(),
        QuotaRecord::default(),
    )])))
    .unwrap();
    assert_eq!(
        r.quotas().keys().collect::<Vec<_>>(),
        ["b"],
        "an empty quota removes only its role's"
    );
    r.apply(&Operation::SetQuota {
        role: "b".to_string(),
        quota: QuotaRecord::default(),
    })
    .unwrap();

    assert!(matches!(
        r.apply(&Operation::SetWeights(BTreeMap::from([
            ("a".to_string(), 2.0),
            ("b".to_string(), 0.0)
        ]))),
        Err(RegistryError::InvalidWeight { .. })
    ));
    assert!(
        r.weights().is_empty(),
        "a refused batch of weights sets none"
    );
    r.apply(&Operation::SetWeights(BTreeMap::from([(
        "a".to_string(),
        2.0,
    )])))
    .unwrap();
    assert_eq!(r.weights().get("a"), Some(&2.0));

    let window = |hosts: &[&str]| MaintenanceWindow {
        machines: hosts.iter().map(|h| machine(h)).collect(),
        start_ns: 1,
        duration_ns: Some(10),
    };
    assert!(matches!(
        r.apply(&Operation::UpdateMaintenance(vec![
            window(&["a"]),
            window(&["a"])
        ])),
        Err(RegistryError::InvalidMaintenance(_))
    ));
    assert!(matches!(
        r.apply(&Operation::UpdateMaintenance(vec![window(&[])])),
        Err(RegistryError::InvalidMaintenance(_))
    ));
    r.apply(&Operation::UpdateMaintenance(vec![window(&["a", "b"])]))
        .unwrap();
    assert_eq!(r.maintenance().windows().len(), 1);
}

#[test]
fn drains_need_a_known_agent_and_leave_with_it() {
    let mut r = Registry::new();
    let config = DrainConfig {
        max_grace_period_ns: None,
        mark_gone: true,
    };
    assert_eq!(
        r.apply(&Operation::DrainAgent {
            agent: aid(1),
            config
        }),
        Err(RegistryError::AgentUnknown(aid(1)))
    );
    r.apply(&Operation::AdmitAgent(agent(1))).unwrap();
    r.apply(&Operation::DrainAgent {
        agent: aid(1),
        config,
    })
    .unwrap();
    assert!(r.agent_controls().is_deactivated(&aid(1)));
    assert!(matches!(
        r.apply(&Operation::ReactivateAgent(aid(1))),
        Err(RegistryError::InvalidAgentControl(..))
    ));
    r.apply(&Operation::MarkAgentDrained(aid(1))).unwrap();
    let restored = Registry::restore(&r.snapshot()).unwrap();
    assert_eq!(
        restored.agent_controls().drain(&aid(1)),
        Some((config, DrainState::Drained))
    );
    r.apply(&Operation::MarkGone {
        agent: aid(1),
        at_ms: 1,
    })
    .unwrap();
    assert_eq!(r.agent_controls().get(&aid(1)), None);
}

#[test]
fn machines_go_down_and_up_through_the_log() {
    let mut r = Registry::new();
    let m = MachineId::of_agent("h", "10.0.0.1");
    assert!(matches!(
        r.apply(&Operation::StartMaintenance(vec![m.clone()])),
        Err(RegistryError::InvalidMaintenance(_))
    ));
    r.apply(&Operation::UpdateMaintenance(vec![MaintenanceWindow {
        machines: vec![m.clone()],
        start_ns: 0,
        duration_ns: None,
    }]))
    .unwrap();
    r.apply(&Operation::StartMaintenance(vec![m.clone()]))
        .unwrap();
    let restored = Registry::restore(&r.snapshot()).unwrap();
    assert_eq!(restored.maintenance().mode(&m), MachineMode::Down);
    assert!(matches!(
        r.apply(&Operation::UpdateMaintenance(Vec::new())),
        Err(RegistryError::InvalidMaintenance(_))
    ));
    r.apply(&Operation::StopMaintenance(vec![m.clone()]))
        .unwrap();
    assert_eq!(r.maintenance().mode(&m), MachineMode::Up);
}

#[test]
fn garbage_snapshots_are_refused() {
    assert!(matches!(
        Registry::restore(&[0xff, 0xff, 0xff]),
        Err(RegistryError::CorruptSnapshot(_))
    ));
    // An agent in two lists is caught on restore.
    let mut r = Registry::new();
    r.apply(&Operation::AdmitAgent(agent(1))).unwrap();
    r.gone.insert(aid(1), 5);
    assert!(matches!(
        Registry::restore(&r.snapshot()),
        Err(RegistryError::CorruptSnapshot(_))
    ));
}

fn op_strategy() -> impl Strategy<Value = Operation> {
    let n = 0u32..12;
    prop_oneof![
        n.clone().prop_map(|n| Operation::AdmitAgent(agent(n))),
        (n.clone(), 0u64..1000).prop_map(|(n, at_ms)| Operation::MarkUnreachable {
            agent: aid(n),
            at_ms
        }),
        n.clone().prop_map(|n| Operation::MarkReachable(agent(n))),
        (n.clone(), 0u64..1000).prop_map(|(n, at_ms)| Operation::MarkGone {
            agent: aid(n),
            at_ms
        }),
        n.clone().prop_map(|n| Operation::RemoveAgent(aid(n))),
        n.clone().prop_map(|n| {
            let mut info = agent(n);
            info.hostname = format!("resized{n}");
            Operation::UpdateAgentInfo(info)
        }),
        (
            proptest::collection::vec(0u32..12, 0..4),
            proptest::collection::vec(0u32..12, 0..4)
        )
            .prop_map(|(u, g)| Operation::Prune {
                unreachable: u.into_iter().map(aid).collect(),
                gone: g.into_iter().map(aid).collect(),
            }),
        (0u64..1500, 0u64..1000, 0u64..6).prop_map(|(now_ms, max_age_ms, max_count)| {
            Operation::Gc {
                now_ms,
                max_age_ms,
                max_count,
            }
        }),
        ("[a-c]", 0i64..3000, -10i64..3000).prop_map(|(role, g, l)| Operation::SetQuota {
            role,
            quota: QuotaRecord {
                guarantees: BTreeMap::from([("cpus".to_string(), g)]),
                limits: BTreeMap::from([("cpus".to_string(), l)]),
            }
        }),
        proptest::collection::btree_map("[a-c]", (0i64..3000, -10i64..3000), 0..3).prop_map(|m| {
            Operation::UpdateQuotas(
                m.into_iter()
                    .map(|(role, (g, l))| {
                        (
                            role,
                            QuotaRecord {
                                guarantees: BTreeMap::from([("mem".to_string(), g)]),
                                limits: BTreeMap::from([("mem".to_string(), l)]),
                            },
                        )
                    })
                    .collect(),
            )
        }),
        ("[a-c]", -1.0f64..4.0)
            .prop_map(|(role, w)| Operation::SetWeights(BTreeMap::from([(role, w)]))),
        proptest::collection::vec("[a-d]", 0..3).prop_map(|hosts| {
            Operation::UpdateMaintenance(vec![MaintenanceWindow {
                machines: hosts.iter().map(|h| machine(h)).collect(),
                start_ns: 0,
                duration_ns: None,
            }])
        }),
        (0u32..4, -1.0f64..100.0).prop_map(|(n, t)| Operation::AddFramework(framework(n, t))),
        (0u32..4, 0.0f64..100.0).prop_map(|(n, t)| Operation::UpdateFramework(framework(n, t))),
        (0u32..4).prop_map(|n| Operation::RemoveFramework(FrameworkId::new(format!("fw-{n}")))),
        proptest::collection::vec("[a-d]", 0..3).prop_map(|hosts| {
            Operation::StartMaintenance(hosts.iter().map(|h| machine(h)).collect())
        }),
        proptest::collection::vec("[a-d]", 0..3).prop_map(|hosts| {
            Operation::StopMaintenance(hosts.iter().map(|h| machine(h)).collect())
        }),
        (0u32..4, any::<bool>(), -5i64..5).prop_map(|(n, mark_gone, g)| Operation::DrainAgent {
            agent: aid(n),
            config: DrainConfig {
                max_grace_period_ns: Some(g),
                mark_gone
            },
        }),
        (0u32..4).prop_map(|n| Operation::MarkAgentDrained(aid(n))),
        (0u32..4).prop_map(|n| Operation::DeactivateAgent(aid(n))),
        (0u32..4).prop_map(|n| Operation::ReactivateAgent(aid(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Two replicas applying the same operations agree on every result and on the registry;
    /// a refused operation leaves the registry unchanged; snapshots restore equal.
    #[test]
    fn replicas_agree_and_refusals_change_nothing(ops in proptest::collection::vec(op_strategy(), 0..80)) {
        let mut a = Registry::new();
        let mut b = Registry::new();
        for op in &ops {
            let before = a.clone();
            let ra = a.apply(op);
            let rb = b.apply(op);
            prop_assert_eq!(&ra, &rb);
            if ra.is_err() {
                prop_assert_eq!(&a, &before);
            }
            // Encoded operations decode to the same thing (they travel in the log).
            let bytes = postcard::to_allocvec(op).unwrap();
            let decoded: Operation = postcard::from_bytes(&bytes).unwrap();
            prop_assert_eq!(&decoded, op);
        }
        prop_assert_eq!(&a, &b);
        let restored = Registry::restore(&a.snapshot()).unwrap();
        prop_assert_eq!(&restored, &a);
        prop_assert_eq!(restored.snapshot(), a.snapshot());
        // An agent sits in at most one list.
        for (id, _) in a.admitted() {
            prop_assert!(!a.unreachable().contains_key(id) && !a.gone().contains_key(id));
        }
        for id in a.unreachable().keys() {
            prop_assert!(!a.gone().contains_key(id));
        }
    }

    /// After GC every unreachable and gone list is within the count and age bounds, and
    /// only entries outside the bounds were dropped.
    #[test]
    fn gc_respects_bounds(
        ops in proptest::collection::vec(op_strategy(), 0..80),
        now_ms in 0u64..2000,
        max_age_ms in 0u64..2000,
        max_count in 0u64..8,
    ) {
        let mut r = Registry::new();
        for op in &ops {
            let _ = r.apply(op);
        }
        let before = r.clone();
        // The master's choice (`prune_candidates` then `Prune`) and the registry's own `Gc`
        // forget the same agents.
        let mut pruned = r.clone();
        pruned.apply(&Operation::Prune {
            unreachable: prune_candidates(r.unreachable(), now_ms, max_age_ms, max_count as usize),
            gone: prune_candidates(r.gone(), now_ms, max_age_ms, max_count as usize),
        }).unwrap();
        r.apply(&Operation::Gc { now_ms, max_age_ms, max_count }).unwrap();
        prop_assert_eq!(pruned.unreachable(), r.unreachable());
        prop_assert_eq!(pruned.gone(), r.gone());
        let oldest = now_ms.saturating_sub(max_age_ms);
        for (list, old) in [(r.unreachable(), before.unreachable()), (r.gone(), before.gone())] {
            prop_assert!(list.len() as u64 <= max_count);
            prop_assert!(list.values().all(|at| *at >= oldest));
            let eligible = old.values().filter(|at| **at >= oldest).count() as u64;
            prop_assert_eq!(list.len() as u64, eligible.min(max_count));
            for (id, at) in list {
                prop_assert_eq!(old.get(id), Some(at));
            }
        }
        prop_assert_eq!(r.admitted().count(), before.admitted().count());
    }
}

#[test]
fn services_records_are_written_and_removed_together_and_survive_a_snapshot() {
    let mut r = Registry::new();
    r.apply(&Operation::PutServices(vec![
        ("app:/a".into(), Some(b"one".to_vec())),
        ("app:/b".into(), Some(b"two".to_vec())),
    ]))
    .unwrap();
    r.apply(&Operation::PutServices(vec![
        ("app:/a".into(), None),
        ("app:/b".into(), Some(b"three".to_vec())),
    ]))
    .unwrap();
    assert_eq!(
        r.services(),
        &BTreeMap::from([("app:/b".to_string(), b"three".to_vec())])
    );
    assert_eq!(Registry::restore(&r.snapshot()).unwrap(), r);
}
