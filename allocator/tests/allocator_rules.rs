//! One test per allocation rule, through the allocator's public API: what a master would see
//! in the offers.

use std::time::Duration;

use meso_allocator::{
    Allocator, AllocatorConfig, AllocatorError, FrameworkSpec, Offer, Quantities, Quota, Timestamp,
};
use meso_api::resources::Resource;
use meso_api::Resources;

fn res(text: &str) -> Resources {
    Resources::parse(text, "*").expect("test resources parse")
}

fn revocable(resources: Resources) -> Resources {
    resources
        .iter()
        .cloned()
        .map(Resource::into_revocable)
        .collect()
}

fn cpus_milli(resources: &Resources) -> i64 {
    resources.scalar("cpus").map_or(0, |s| s.milli())
}

/// The milli-cpus `offers` hold in total.
fn offered_cpus<'a>(offers: impl IntoIterator<Item = &'a Offer>) -> i64 {
    offers.into_iter().map(|o| cpus_milli(&o.resources)).sum()
}

/// A quota guaranteeing `text` (e.g. `cpus:4`) with no limit.
fn guarantee(text: &str) -> Quota {
    Quota {
        guarantees: Quantities::parse(text).expect("test quantities parse"),
        limits: Quantities::default(),
    }
}

/// A quota limiting to `text` with no guarantee.
fn limit(text: &str) -> Quota {
    Quota {
        guarantees: Quantities::default(),
        limits: Quantities::parse(text).expect("test quantities parse"),
    }
}

/// Adds agents `a0`, `a1`, ... (`count` of them), each with `resources`.
fn add_agents(a: &mut Allocator, count: usize, resources: &str) {
    for i in 0..count {
        a.add_agent(&format!("a{i}"), &res(resources), &[]).unwrap();
    }
}

fn at(secs: u64) -> Timestamp {
    Timestamp(Duration::from_secs(secs))
}

fn roles(list: &[&str]) -> FrameworkSpec {
    FrameworkSpec {
        roles: list.iter().map(|r| r.to_string()).collect(),
        ..FrameworkSpec::default()
    }
}

fn allocator() -> Allocator {
    Allocator::new(AllocatorConfig::default()).expect("default config is valid")
}

/// Offers as sorted "framework@agent/role=resources" strings.
fn show(offers: &[Offer]) -> Vec<String> {
    let mut out: Vec<String> = offers
        .iter()
        .map(|o| {
            assert!(
                o.resources
                    .iter()
                    .all(|r| r.allocation_role.as_deref() == Some(&*o.role)),
                "offered resources carry their allocation role"
            );
            format!(
                "{}@{}/{}={}",
                o.framework,
                o.agent,
                o.role,
                o.resources.unallocate()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_lone_framework_is_offered_the_whole_agent_once() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024;ports:[31000-31009]"), &[])
        .unwrap();
    let offers = a.allocate(at(0));
    assert_eq!(
        show(&offers),
        vec!["f1@a1/eng=cpus:4; mem:1024; ports:[31000-31009]"]
    );
    // Offered resources stay allocated until recovered.
    assert!(a.allocate(at(1)).is_empty());
    assert_eq!(a.free_resources("a1").unwrap().to_string(), "");
}

#[test]
fn recovered_resources_are_offered_again() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    a.recover_resources("f1", "a1", "eng", &res("cpus:1;mem:256"))
        .unwrap();
    assert_eq!(show(&a.allocate(at(1))), vec!["f1@a1/eng=cpus:1; mem:256"]);
    a.recover_resources("f1", "a1", "eng", &offer.resources)
        .unwrap();
    assert_eq!(
        a.free_resources("a1").unwrap().to_string(),
        "cpus:4; mem:1024"
    );
    // Nothing is held any more, so recovering again is refused.
    assert!(a
        .recover_resources("f1", "a1", "eng", &offer.resources)
        .is_err());
    assert_eq!(show(&a.allocate(at(2))), vec!["f1@a1/eng=cpus:4; mem:1024"]);
}

#[test]
fn offers_go_only_to_active_frameworks() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.deactivate_framework("f1").unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    assert!(a.allocate(at(0)).is_empty());
    a.activate_framework("f1").unwrap();
    assert_eq!(a.allocate(at(1)).len(), 1);
}

#[test]
fn a_deactivated_agent_is_offered_from_only_after_it_is_activated() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    a.add_agent("a2", &res("cpus:2;mem:512"), &[]).unwrap();
    let offers = a.allocate(at(0));
    assert_eq!(offers.len(), 2);
    // The link to a1 breaks: its offer is recovered, but nothing on it is offered again.
    a.deactivate_agent("a1").unwrap();
    assert!(!a.is_agent_active("a1").unwrap());
    for offer in offers {
        a.recover_resources(
            &offer.framework,
            &offer.agent,
            &offer.role,
            &offer.resources,
        )
        .unwrap();
    }
    assert_eq!(show(&a.allocate(at(1))), vec!["f1@a2/eng=cpus:2; mem:512"]);
    // Its resources still count as the agent's free pool.
    assert_eq!(
        a.free_resources("a1").unwrap().to_string(),
        "cpus:4; mem:1024"
    );
    a.activate_agent("a1").unwrap();
    assert!(a.is_agent_active("a1").unwrap());
    assert_eq!(show(&a.allocate(at(2))), vec!["f1@a1/eng=cpus:4; mem:1024"]);
    assert!(matches!(
        a.deactivate_agent("nope"),
        Err(AllocatorError::UnknownAgent { .. })
    ));
    assert!(matches!(
        a.activate_agent("nope"),
        Err(AllocatorError::UnknownAgent { .. })
    ));
}

#[test]
fn a_declined_offer_is_filtered_for_its_framework_until_the_filter_expires() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    a.decline(&offer, Some(10.0), at(0)).unwrap();
    assert!(a.allocate(at(9)).is_empty());
    // Another framework is not filtered.
    a.add_framework("f2", &roles(&["eng"])).unwrap();
    let offers = a.allocate(at(9));
    assert_eq!(show(&offers), vec!["f2@a1/eng=cpus:4; mem:1024"]);
    a.decline(&offers[0], Some(0.0), at(9)).unwrap();
    // refuse_seconds 0 adds no filter; after expiry f1 may get it again.
    let offers = a.allocate(at(10));
    assert_eq!(offers.len(), 1);
}

#[test]
fn the_default_filter_lasts_five_seconds() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(100)).remove(0);
    a.decline(&offer, None, at(100)).unwrap();
    assert!(a.allocate(at(104)).is_empty());
    assert_eq!(a.allocate(at(105)).len(), 1);
}

#[test]
fn filters_are_capped_at_365_days() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    a.decline(&offer, Some(1e12), at(0)).unwrap();
    let year = 365 * 24 * 3600;
    assert!(a.allocate(at(year - 1)).is_empty());
    assert_eq!(a.allocate(at(year)).len(), 1);
}

#[test]
fn a_filter_does_not_hide_more_than_was_refused() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    a.allocate(at(0));
    // The framework keeps 2 cpus (a task) and declines the rest for an hour.
    a.recover_resources("f1", "a1", "eng", &res("cpus:2;mem:512"))
        .unwrap();
    a.add_filter(
        "f1",
        "a1",
        "eng",
        &res("cpus:2;mem:512"),
        Some(3600.0),
        at(0),
    )
    .unwrap();
    assert!(a.allocate(at(1)).is_empty());
    // The task ends: now more is free than was refused, so it is offered.
    a.recover_resources("f1", "a1", "eng", &res("cpus:2;mem:512"))
        .unwrap();
    assert_eq!(show(&a.allocate(at(2))), vec!["f1@a1/eng=cpus:4; mem:1024"]);
}

#[test]
fn suppress_stops_offers_and_revive_resumes_them_and_clears_filters() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng", "ops"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    a.suppress("f1", &[]).unwrap();
    assert!(a.allocate(at(0)).is_empty());
    a.revive("f1", &["ops".to_string()]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    assert_eq!(&*offer.role, "ops");
    a.decline(&offer, Some(3600.0), at(0)).unwrap();
    assert!(a.allocate(at(1)).is_empty());
    a.revive("f1", &["ops".to_string()]).unwrap();
    assert_eq!(a.allocate(at(2)).len(), 1, "revive voids the filter");
}

#[test]
fn reservations_go_only_to_their_role_and_its_descendants() {
    let mut a = allocator();
    a.add_framework("ops", &roles(&["ops"])).unwrap();
    a.add_agent("a1", &res("cpus(eng):4;mem(eng):1024"), &[])
        .unwrap();
    assert!(a.allocate(at(0)).is_empty());
    a.add_framework("web", &roles(&["eng/web"])).unwrap();
    assert_eq!(
        show(&a.allocate(at(1))),
        vec!["web@a1/eng/web=cpus(eng):4; mem(eng):1024"]
    );
}

#[test]
fn unreserved_and_reserved_resources_split_between_roles() {
    let mut a = allocator();
    a.add_framework("ops", &roles(&["ops"])).unwrap();
    a.add_framework("eng", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:2;mem:512;cpus(eng):4;mem(eng):1024"), &[])
        .unwrap();
    let offers = show(&a.allocate(at(0)));
    // Whoever goes first, the eng reservation ends with eng and nothing goes to ops twice.
    assert!(offers
        .iter()
        .any(|o| o.starts_with("eng@a1/eng=") && o.contains("cpus(eng):4")));
    assert!(offers
        .iter()
        .all(|o| !o.starts_with("ops") || !o.contains("(eng)")));
}

#[test]
fn revocable_resources_go_only_to_frameworks_that_accept_them() {
    let mut a = allocator();
    a.add_framework("plain", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &revocable(res("cpus:4;mem:1024")), &[])
        .unwrap();
    assert!(a.allocate(at(0)).is_empty());
    let spec = FrameworkSpec {
        revocable: true,
        ..roles(&["eng"])
    };
    a.add_framework("rev", &spec).unwrap();
    assert_eq!(
        show(&a.allocate(at(1))),
        vec!["rev@a1/eng=cpus{REV}:4; mem{REV}:1024"]
    );
}

#[test]
fn offers_below_the_minimum_allocatable_resources_are_not_made() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("tiny", &res("cpus:0.005;mem:16;disk:100"), &[])
        .unwrap();
    assert!(a.allocate(at(0)).is_empty());
    a.add_agent("cpu-only", &res("cpus:0.01"), &[]).unwrap();
    a.add_agent("mem-only", &res("mem:32"), &[]).unwrap();
    assert_eq!(a.allocate(at(1)).len(), 2);

    let config = AllocatorConfig {
        min_allocatable: AllocatorConfig::parse_min_allocatable("cpus:1;mem:64").unwrap(),
        ..AllocatorConfig::default()
    };
    let mut b = Allocator::new(config).unwrap();
    b.add_framework("f1", &roles(&["eng"])).unwrap();
    b.add_agent("a", &res("cpus:1;mem:63"), &[]).unwrap();
    assert!(b.allocate(at(0)).is_empty());
    b.add_agent("b", &res("cpus:1;mem:64"), &[]).unwrap();
    assert_eq!(b.allocate(at(0)).len(), 1);
}

#[test]
fn the_framework_with_the_lower_dominant_share_is_offered_first() {
    let mut a = allocator();
    // "aaa" would win a tie on id; it holds a whole agent, so "zzz" (share 0) goes first.
    a.add_framework("aaa", &roles(&["eng"])).unwrap();
    a.add_framework("zzz", &roles(&["eng"])).unwrap();
    let total = res("cpus:8;mem:1024");
    a.add_agent(
        "used",
        &total,
        &[("aaa".into(), "eng".into(), total.clone())],
    )
    .unwrap();
    a.add_agent("free", &total, &[]).unwrap();
    assert_eq!(
        show(&a.allocate(at(0))),
        vec!["zzz@free/eng=cpus:8; mem:1024"]
    );
}

#[test]
fn weights_order_roles_by_weighted_share() {
    let mut a = allocator();
    a.update_weights(&[("heavy".into(), 3.0)]).unwrap();
    a.add_framework("light", &roles(&["light"])).unwrap();
    a.add_framework("heavy", &roles(&["heavy"])).unwrap();
    // heavy already holds 2 of 8 agents' worth; light holds 1. Weighted: 2/3 < 1.
    let total = res("cpus:1;mem:128");
    for i in 0..8 {
        let used = match i {
            0 | 1 => vec![("heavy".to_string(), "heavy".to_string(), total.clone())],
            2 => vec![("light".to_string(), "light".to_string(), total.clone())],
            _ => vec![],
        };
        a.add_agent(&format!("a{i}"), &total, &used).unwrap();
    }
    let offers = a.allocate(at(0));
    let heavy = offers.iter().filter(|o| &*o.framework == "heavy").count();
    let light = offers.iter().filter(|o| &*o.framework == "light").count();
    // 5 free agents: end state heavy 2+h, light 1+l with (2+h)/3 ≈ (1+l)/1.
    assert_eq!((heavy, light), (4, 1));
}

#[test]
fn hierarchical_roles_share_by_subtree() {
    let mut a = allocator();
    // eng has two frameworks in two subroles, ops has one: eng as a whole gets as much as
    // ops, not twice as much.
    a.add_framework("web", &roles(&["eng/web"])).unwrap();
    a.add_framework("db", &roles(&["eng/db"])).unwrap();
    a.add_framework("ops", &roles(&["ops"])).unwrap();
    add_agents(&mut a, 12, "cpus:1;mem:128");
    let offers = a.allocate(at(0));
    let count = |f: &str| offers.iter().filter(|o| &*o.framework == f).count();
    assert_eq!(count("ops"), 6);
    assert_eq!(count("web"), 3);
    assert_eq!(count("db"), 3);
}

#[test]
fn quota_limits_cap_a_role_and_its_subroles() {
    let mut a = allocator();
    a.update_quota("eng", &limit("cpus:3")).unwrap();
    a.add_framework("web", &roles(&["eng/web"])).unwrap();
    add_agents(&mut a, 4, "cpus:2;mem:128");
    let offers = a.allocate(at(0));
    let cpus = offered_cpus(&offers);
    assert_eq!(cpus, 3000, "{:?}", show(&offers));
}

#[test]
fn unmet_guarantees_hold_back_headroom_from_other_roles() {
    let mut a = allocator();
    a.update_quota("prod", &guarantee("cpus:4")).unwrap();
    a.add_framework("batch", &roles(&["batch"])).unwrap();
    add_agents(&mut a, 3, "cpus:2;mem:128");
    // 6 cpus, 4 held for prod (which has no framework yet): batch gets 2 cpus.
    let offers = a.allocate(at(0));
    let cpus = offered_cpus(&offers);
    assert_eq!(cpus, 2000, "{:?}", show(&offers));
    // prod's framework arrives and gets its guarantee first.
    a.add_framework("prod", &roles(&["prod"])).unwrap();
    let offers = a.allocate(at(1));
    let prod = offered_cpus(offers.iter().filter(|o| &*o.framework == "prod"));
    assert_eq!(prod, 4000, "{:?}", show(&offers));
}

#[test]
fn nested_guarantees_hold_back_headroom_once() {
    let mut a = allocator();
    a.update_quota("eng", &guarantee("cpus:4")).unwrap();
    a.update_quota("eng/web", &guarantee("cpus:4")).unwrap();
    a.add_framework("batch", &roles(&["batch"])).unwrap();
    add_agents(&mut a, 3, "cpus:2;mem:128");
    // eng's guarantee covers eng/web's: 4 of 6 cpus are held back, not 8.
    let offers = a.allocate(at(0));
    let cpus = offered_cpus(&offers);
    assert_eq!(cpus, 2000, "{:?}", show(&offers));
}

#[test]
fn a_role_with_an_unmet_guarantee_goes_before_a_role_with_a_lower_share() {
    let mut a = allocator();
    a.update_quota("prod", &guarantee("cpus:1")).unwrap();
    let total = res("cpus:1;mem:128");
    a.add_framework("prod", &roles(&["prod"])).unwrap();
    a.add_framework("dev", &roles(&["dev"])).unwrap();
    // prod holds a reserved GPU agent, so its DRF share (1.0 of gpus) is far above dev's
    // (0), yet its cpus guarantee is unmet: the guarantee stage serves it first.
    a.add_agent(
        "r",
        &res("gpus(prod):1"),
        &[("prod".into(), "prod".into(), res("gpus(prod):1"))],
    )
    .unwrap();
    a.add_agent("a1", &total, &[]).unwrap();
    let offers = a.allocate(at(0));
    assert_eq!(show(&offers), vec!["prod@a1/prod=cpus:1; mem:128"]);
}

#[test]
fn removing_a_framework_frees_what_it_held() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    a.allocate(at(0));
    a.remove_framework("f1").unwrap();
    assert_eq!(
        a.free_resources("a1").unwrap().to_string(),
        "cpus:4; mem:1024"
    );
    a.add_framework("f2", &roles(&["eng"])).unwrap();
    assert_eq!(a.allocate(at(1)).len(), 1);
    assert!(a.allocations().iter().all(|o| &*o.framework == "f2"));
}

#[test]
fn agents_come_with_their_used_resources_and_go() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent(
        "a1",
        &res("cpus:4;mem:1024;ports:[31000-31009]"),
        &[(
            "f1".into(),
            "eng".into(),
            res("cpus:1;mem:24;ports:[31003-31004]"),
        )],
    )
    .unwrap();
    assert_eq!(
        show(&a.allocate(at(0))),
        vec!["f1@a1/eng=cpus:3; mem:1000; ports:[31000-31002, 31005-31009]"]
    );
    a.remove_agent("a1").unwrap();
    assert!(a.allocations().is_empty());
    assert_eq!(a.agent_count(), 0);
    assert!(a.allocate(at(1)).is_empty());
}

#[test]
fn updating_an_agent_adds_oversubscribed_resources() {
    let mut a = allocator();
    let spec = FrameworkSpec {
        revocable: true,
        ..roles(&["eng"])
    };
    a.add_framework("f1", &spec).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    a.allocate(at(0));
    let mut total = res("cpus:4;mem:1024");
    total += &revocable(res("cpus:2"));
    a.update_agent("a1", &total).unwrap();
    assert_eq!(show(&a.allocate(at(1))), vec!["f1@a1/eng=cpus{REV}:2"]);
    // Shrinking below what is allocated is refused and changes nothing.
    let err = a.update_agent("a1", &res("cpus:1;mem:1024")).unwrap_err();
    assert!(
        matches!(err, AllocatorError::TotalBelowAllocated { .. }),
        "{err}"
    );
    assert_eq!(a.allocations().len(), 1);
}

#[test]
fn changing_a_frameworks_roles_changes_where_it_is_offered() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.update_framework("f1", &roles(&["ops"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offers = a.allocate(at(0));
    assert_eq!(&*offers[0].role, "ops");
}

#[test]
fn bad_input_gets_a_typed_error_and_changes_nothing() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    assert!(matches!(
        a.add_framework("f1", &roles(&["eng"])),
        Err(AllocatorError::DuplicateFramework { .. })
    ));
    assert!(matches!(
        a.add_agent("a1", &res("cpus:1"), &[]),
        Err(AllocatorError::DuplicateAgent { .. })
    ));
    assert!(matches!(
        a.add_framework("f2", &roles(&["bad//role"])),
        Err(AllocatorError::InvalidRoleName { .. })
    ));
    assert!(matches!(
        a.remove_agent("nope"),
        Err(AllocatorError::UnknownAgent { .. })
    ));
    assert!(matches!(
        a.suppress("nope", &[]),
        Err(AllocatorError::UnknownFramework { .. })
    ));
    assert!(matches!(
        a.update_weights(&[("eng".into(), 0.0)]),
        Err(AllocatorError::InvalidWeight { .. })
    ));
    assert!(matches!(
        a.add_agent(
            "a2",
            &res("cpus:1;mem:64"),
            &[("f1".into(), "eng".into(), res("cpus:2"))]
        ),
        Err(AllocatorError::NotAvailable { .. })
    ));
    assert!(matches!(
        a.add_agent(
            "a3",
            &res("cpus(ops):1;mem:64"),
            &[("f1".into(), "eng".into(), res("cpus(ops):1"))]
        ),
        Err(AllocatorError::ReservationMismatch { .. })
    ));
    assert_eq!(a.agent_count(), 1);
    let offer = a.allocate(at(0)).remove(0);
    assert!(matches!(
        a.decline(&offer, Some(-1.0), at(0)),
        Err(AllocatorError::InvalidRefuseSeconds { .. })
    ));
    assert!(matches!(
        a.decline(&offer, Some(f64::NAN), at(0)),
        Err(AllocatorError::InvalidRefuseSeconds { .. })
    ));
    assert!(matches!(
        a.recover_resources("f1", "a1", "eng", &res("cpus:5")),
        Err(AllocatorError::NotAllocated { .. })
    ));
    assert!(matches!(
        a.recover_resources("f1", "a1", "ops", &res("cpus:1")),
        Err(AllocatorError::NotAllocated { .. })
    ));
    // The failed calls left the offer allocated in full.
    assert_eq!(a.allocations()[0].resources, offer.resources);
    assert!(matches!(
        a.update_quota(
            "eng",
            &Quota {
                guarantees: Quantities::parse("cpus:2").unwrap(),
                limits: Quantities::parse("cpus:1").unwrap(),
            }
        ),
        Err(AllocatorError::InvalidQuota { .. })
    ));
    let err = a
        .recover_resources("f1", "a1", "eng", &res("gpus:1"))
        .unwrap_err();
    assert!(err.to_string().contains("gpus"), "{err}");
}

/// Fairness under contention: three frameworks, each in its own role with weights 1, 1 and
/// 2, on a cluster they saturate. Tasks end and are replaced over many rounds; the dominant
/// shares must end within 0.02 (2% of the cluster) of 1:1:2, i.e. 25%, 25%, 50%.
#[test]
fn weighted_drf_converges_to_the_weights_under_contention() {
    let mut a = allocator();
    a.update_weights(&[("gold".into(), 2.0)]).unwrap();
    for (f, r) in [("a", "silver"), ("b", "bronze"), ("c", "gold")] {
        a.add_framework(f, &roles(&[r])).unwrap();
    }
    let agents = 200;
    for i in 0..agents {
        a.add_agent(&format!("agent-{i}"), &res("cpus:4;mem:4096"), &[])
            .unwrap();
    }
    // Round 0 hands out everything; afterwards each round every framework finishes the
    // tasks on a tenth of its agents (deterministically chosen) and the freed agents are
    // offered again. Frameworks keep all they are offered (they are never satisfied).
    let mut held: Vec<Offer> = a.allocate(at(0));
    for round in 1..40u64 {
        let mut kept = Vec::new();
        for (i, offer) in held.into_iter().enumerate() {
            if (i as u64 + round) % 10 == 0 {
                a.recover_resources(
                    &offer.framework,
                    &offer.agent,
                    &offer.role,
                    &offer.resources,
                )
                .unwrap();
            } else {
                kept.push(offer);
            }
        }
        kept.extend(a.allocate(at(round)));
        held = kept;
    }
    let share = |f: &str| {
        held.iter()
            .filter(|o| &*o.framework == f)
            .map(|o| cpus_milli(&o.resources))
            .sum::<i64>() as f64
            / (agents as f64 * 4000.0)
    };
    let (sa, sb, sc) = (share("a"), share("b"), share("c"));
    assert!(
        (sa + sb + sc - 1.0).abs() < 1e-9,
        "the cluster stays saturated"
    );
    for (got, want) in [(sa, 0.25), (sb, 0.25), (sc, 0.5)] {
        assert!((got - want).abs() <= 0.02, "shares {sa} {sb} {sc}");
    }
}

#[test]
fn frameworks_of_one_role_share_it_equally() {
    let mut a = allocator();
    for f in ["f1", "f2", "f3"] {
        a.add_framework(f, &roles(&["eng"])).unwrap();
    }
    add_agents(&mut a, 9, "cpus:1;mem:128");
    let offers = a.allocate(at(0));
    for f in ["f1", "f2", "f3"] {
        assert_eq!(
            offers.iter().filter(|o| &*o.framework == f).count(),
            3,
            "{f}"
        );
    }
}

#[test]
fn a_filter_in_one_role_does_not_hide_offers_in_another() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    a.decline(&offer, Some(3600.0), at(0)).unwrap();
    assert!(a.allocate(at(1)).is_empty());
    a.update_framework("f1", &roles(&["eng", "ops"])).unwrap();
    let offers = a.allocate(at(2));
    assert_eq!(show(&offers), vec!["f1@a1/ops=cpus:4; mem:1024"]);
}

#[test]
fn resources_held_in_a_dropped_role_can_still_be_recovered() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    a.update_framework("f1", &roles(&["ops"])).unwrap();
    assert_eq!(a.allocations()[0].role.as_ref(), "eng");
    a.recover_resources("f1", "a1", "eng", &offer.resources)
        .unwrap();
    assert_eq!(show(&a.allocate(at(1))), vec!["f1@a1/ops=cpus:4; mem:1024"]);
}

#[test]
fn expiring_filters_reclaims_them_without_changing_offers() {
    let mut a = allocator();
    a.add_framework("f1", &roles(&["eng"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offer = a.allocate(at(0)).remove(0);
    a.decline(&offer, Some(10.0), at(0)).unwrap();
    a.expire_filters(at(5));
    assert!(
        a.allocate(at(5)).is_empty(),
        "a live filter survives expiry"
    );
    a.expire_filters(at(10));
    assert_eq!(a.allocate(at(10)).len(), 1);
}

#[test]
fn metrics_report_totals_shares_quota_and_filters() {
    let mut a = allocator();
    a.update_weights(&[("eng".into(), 2.0)]).unwrap();
    a.update_quota("eng", &limit("cpus:8")).unwrap();
    a.add_framework("f1", &roles(&["eng/web"])).unwrap();
    a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
    a.add_agent("a2", &res("cpus:4;mem:1024"), &[]).unwrap();
    let offers = a.allocate(at(0));
    a.decline(&offers[0], Some(60.0), at(0)).unwrap();
    let m = a.metrics(at(1));
    assert_eq!(m.allocation_runs, 1);
    assert_eq!((m.agents, m.frameworks), (2, 1));
    assert_eq!(m.total["cpus"].milli(), 8000);
    assert_eq!(m.offered_or_allocated["cpus"].milli(), 4000);
    let eng = &m.roles["eng"];
    assert_eq!(eng.weight, 2.0);
    assert!((eng.dominant_share - 0.25).abs() < 1e-9, "{eng:?}");
    assert_eq!(eng.quota_consumed["cpus"].milli(), 4000);
    assert_eq!(m.roles["eng/web"].active_filters, 1);
    assert_eq!(a.metrics(at(60)).roles["eng/web"].active_filters, 0);
    assert!(matches!(
        a.update_quota("*", &Quota::default()),
        Err(AllocatorError::InvalidQuota { .. })
    ));
}
