//! Unit tests and the proptest of the weight and quota checks.

use super::*;
use meso_api::http::role_controls::ScalarValue;

fn amounts(pairs: &[(&str, i64)]) -> Amounts {
    pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

fn config(role: &str, g: &[(&str, f64)], l: &[(&str, f64)]) -> QuotaConfig {
    let map = |p: &[(&str, f64)]| {
        p.iter()
            .map(|(n, v)| (n.to_string(), ScalarValue { value: *v }))
            .collect()
    };
    QuotaConfig {
        role: role.to_string(),
        guarantees: map(g),
        limits: map(l),
    }
}

fn update(force: bool, configs: Vec<QuotaConfig>) -> UpdateQuota {
    UpdateQuota {
        force: Some(force),
        quota_configs: configs,
    }
}

fn none(_: &str) -> Amounts {
    Amounts::new()
}

#[test]
fn weights_must_name_valid_roles_and_be_positive() {
    let info = |role: &str, weight: f64| WeightInfo {
        role: role.to_string(),
        weight,
    };
    let ok = RoleControls::check_weights(&[info(" a ", 2.0), info("b", 0.5)]).unwrap();
    assert_eq!(ok, BTreeMap::from([("a".into(), 2.0), ("b".into(), 0.5)]));
    for (bad, says) in [
        (info("a", 0.0), "Weights must be positive"),
        (info("a", -1.0), "Weights must be positive"),
        (info("a", f64::NAN), "Weights must be positive"),
        (info("", 1.0), "Invalid role ''"),
        (info("..", 1.0), "Invalid role '..'"),
    ] {
        let e = RoleControls::check_weights(&[info("fine", 2.0), bad]).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.body.contains(says), "{}", e.body);
    }
    let mut c = RoleControls::default();
    c.apply_weights(&ok);
    assert_eq!(c.weight("a"), 2.0);
    assert_eq!(c.weight("z"), 1.0);
    c.apply_weights(&BTreeMap::from([("a".into(), 1.0)]));
    assert_eq!(c.weight_infos(), json!([{"role": "b", "weight": 0.5}]));
}

#[test]
fn rescinds_enforce_limits_then_make_room_for_guarantees() {
    let offer = |k: u32, role: &str, cpus: i64| (k, role.to_string(), amounts(&[("cpus", cpus)]));
    let offers = vec![
        offer(1, "a", 2000),
        offer(2, "b", 1000),
        offer(3, "a/x", 2000),
        offer(4, "ab", 3000),
        offer(5, "b", 1000),
    ];
    // a consumes 1 and is offered 4 (a/x is below a, ab is not): limit 3 takes 2 of a's.
    let limit = QuotaRecord {
        guarantees: Amounts::new(),
        limits: amounts(&[("cpus", 3000)]),
    };
    let mut taken = BTreeSet::new();
    let chosen = offers_to_rescind(
        "a",
        &limit,
        &amounts(&[("cpus", 1000)]),
        &offers,
        &mut taken,
    );
    assert_eq!(chosen, vec![1]);
    // b holds 2 in offers; a guarantee of 4 takes others' offers until 4 is covered,
    // never an offer already taken.
    let guarantee = QuotaRecord {
        guarantees: amounts(&[("cpus", 4000)]),
        limits: Amounts::new(),
    };
    let chosen = offers_to_rescind("b", &guarantee, &Amounts::new(), &offers, &mut taken);
    assert_eq!(chosen, vec![3]);
    let none = offers_to_rescind(
        "b",
        &QuotaRecord::default(),
        &Amounts::new(),
        &offers,
        &mut taken,
    );
    assert!(none.is_empty());
}

#[test]
fn the_weights_flag_is_role_equals_weight_pairs() {
    assert_eq!(
        parse_weights_flag("a=2, b=0.5").unwrap(),
        BTreeMap::from([("a".into(), 2.0), ("b".into(), 0.5)])
    );
    assert_eq!(parse_weights_flag("").unwrap(), BTreeMap::new());
    for (bad, says) in [
        ("a", "role=weight"),
        ("a=x", "not a number"),
        ("a=0", "positive"),
        ("..=1", "invalid role"),
    ] {
        let e = parse_weights_flag(bad).unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn update_quota_checks_configs_consumption_and_capacity_unless_forced() {
    let c = RoleControls::default();
    let capacity = amounts(&[("cpus", 8000), ("mem", 4_096_000)]);
    let ns = BTreeSet::new();
    let ok = c
        .check_update_quota(
            &update(false, vec![config("a", &[("cpus", 2.0)], &[("cpus", 4.0)])]),
            none,
            &capacity,
            &ns,
        )
        .unwrap();
    assert_eq!(ok["a"].guarantees, amounts(&[("cpus", 2000)]));
    assert_eq!(ok["a"].limits, amounts(&[("cpus", 4000)]));
    let refused = |u: UpdateQuota, consumed: &dyn Fn(&str) -> Amounts| {
        c.check_update_quota(&u, consumed, &capacity, &ns)
            .unwrap_err()
    };
    for (u, says) in [
        (
            update(false, vec![config("a", &[("cpus", 5.0)], &[("cpus", 4.0)])]),
            "is not contained within",
        ),
        (update(false, vec![config("", &[], &[])]), "must be set"),
        (update(false, vec![config("a/b", &[], &[])]), "nested role"),
        (update(false, vec![config("*", &[], &[])]), "'*'"),
        (
            update(false, vec![config("a", &[("cpus", -1.0)], &[])]),
            "negative",
        ),
        (
            update(false, vec![config("a", &[("ports", 1.0)], &[])]),
            "scalar",
        ),
        (
            update(false, vec![config("a", &[("mem", 1e15)], &[])]),
            "not supported",
        ),
        (
            update(
                false,
                vec![config("a", &[], &[]), config("a", &[], &[("cpus", 1.0)])],
            ),
            "more than once",
        ),
        (
            update(
                false,
                vec![
                    config("a", &[("cpus", 5.0)], &[]),
                    config("b", &[("cpus", 4.0)], &[]),
                ],
            ),
            "exceed cluster capacity",
        ),
    ] {
        let e = refused(u, &none);
        assert_eq!(e.status, 400, "{}", e.body);
        assert!(e.body.contains(says), "{} should say {says}", e.body);
    }
    let busy = |_: &str| amounts(&[("cpus", 3000)]);
    let e = refused(
        update(false, vec![config("a", &[], &[("cpus", 2.0)])]),
        &busy,
    );
    assert!(e.body.contains("already consuming 'cpus:3'"), "{}", e.body);
    // `force` skips consumption and capacity, never the config checks.
    let forced = update(
        true,
        vec![
            config("a", &[("cpus", 100.0)], &[]),
            config("b", &[], &[("cpus", 1.0)]),
        ],
    );
    assert!(c.check_update_quota(&forced, busy, &capacity, &ns).is_ok());
    let bad_forced = update(true, vec![config("a", &[("cpus", 5.0)], &[("cpus", 1.0)])]);
    assert!(c
        .check_update_quota(&bad_forced, none, &capacity, &ns)
        .is_err());
}

#[test]
fn capacity_counts_the_other_roles_guarantees_but_not_the_replaced_one() {
    let mut c = RoleControls::default();
    let capacity = amounts(&[("cpus", 8000)]);
    c.apply_quotas(&BTreeMap::from([(
        "a".to_string(),
        QuotaRecord {
            guarantees: amounts(&[("cpus", 6000)]),
            limits: Amounts::new(),
        },
    )]));
    let ns = BTreeSet::new();
    let b3 = update(false, vec![config("b", &[("cpus", 3.0)], &[])]);
    assert!(c.check_update_quota(&b3, none, &capacity, &ns).is_err());
    let a7 = update(false, vec![config("a", &[("cpus", 7.0)], &[])]);
    assert!(c.check_update_quota(&a7, none, &capacity, &ns).is_ok());
    // An empty config removes a's quota, freeing its guarantee.
    let both = update(
        false,
        vec![config("a", &[], &[]), config("b", &[("cpus", 8.0)], &[])],
    );
    let changes = c.check_update_quota(&both, none, &capacity, &ns).unwrap();
    c.apply_quotas(&changes);
    assert_eq!(c.quotas.keys().collect::<Vec<_>>(), ["b"]);
}

#[test]
fn set_and_remove_quota_are_the_deprecated_guarantee_calls() {
    let mut c = RoleControls::default();
    let capacity = amounts(&[("cpus", 4000)]);
    let request = |role: &str, text: &str, force: bool| QuotaRequest {
        force: Some(force),
        role: role.to_string(),
        guarantee: Resources::parse(text, "*").unwrap(),
    };
    let (role, q) = c
        .check_set_quota(&request("eng", "cpus:2", false), &capacity)
        .unwrap();
    assert_eq!(role, "eng");
    assert_eq!(q.guarantees, q.limits);
    c.apply_quotas(&BTreeMap::from([(role, q)]));
    let e = c
        .check_set_quota(&request("eng", "cpus:1", false), &capacity)
        .unwrap_err();
    assert!(e.body.contains("already has quota"), "{}", e.body);
    let e = c
        .check_set_quota(&request("ops", "cpus:3", false), &capacity)
        .unwrap_err();
    assert_eq!(e.status, 409, "{}", e.body);
    assert!(c
        .check_set_quota(&request("ops", "cpus:3", true), &capacity)
        .is_ok());
    for (r, says) in [
        (request("ops", "cpus(ops):1", false), "ReservationInfo"),
        (request("ops", "ports:[1-2]", false), "non-scalar"),
        (request("", "cpus:1", false), "must specify a role"),
        (request("ops", "", false), "empty 'guarantee'"),
    ] {
        let e = c.check_set_quota(&r, &capacity).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.body.contains(says), "{}", e.body);
    }
    assert!(c.check_remove_quota("eng").is_ok());
    let e = c.check_remove_quota("ops").unwrap_err();
    assert!(e.body.contains("has no quota set"), "{}", e.body);
    let status = c.quota_status();
    assert_eq!(status["configs"][0]["limits"]["cpus"]["value"], 2.0);
    assert_eq!(status["infos"][0]["guarantee"][0]["scalar"]["value"], 2.0);
    assert_eq!(
        c.quota_metrics()["allocator/mesos/quota/roles/eng/resources/cpus/guarantee"],
        2.0
    );
}

proptest::proptest! {
    /// Whatever UPDATE_QUOTA a caller sends, an accepted (unforced) one leaves every
    /// guarantee within its limit and the sum of guarantees within the capacity, and a
    /// refused one is refused for one of those reasons or a bad role.
    #[test]
    fn accepted_updates_keep_guarantees_within_limits_and_capacity(
        existing in proptest::collection::btree_map("[a-c]", 0u32..6, 0..3),
        configs in proptest::collection::vec(
            ("[a-d]", proptest::option::of(0u32..8), proptest::option::of(0u32..8)), 0..4),
        capacity in 0i64..16,
    ) {
        let mut c = RoleControls::default();
        c.apply_quotas(&existing.iter().map(|(r, g)| (r.clone(), QuotaRecord {
            guarantees: amounts(&[("cpus", i64::from(*g) * 1000)]),
            limits: Amounts::new(),
        })).collect());
        let update = update(false, configs.iter().map(|(role, g, l)| {
            let g: Vec<(&str, f64)> = g.map(|g| ("cpus", f64::from(g))).into_iter().collect();
            let l: Vec<(&str, f64)> = l.map(|l| ("cpus", f64::from(l))).into_iter().collect();
            config(role, &g, &l)
        }).collect());
        let capacity = amounts(&[("cpus", capacity * 1000)]);
        match c.check_update_quota(&update, none, &capacity, &BTreeSet::new()) {
            Ok(changes) => {
                c.apply_quotas(&changes);
                let mut total = Amounts::new();
                for q in c.quotas.values() {
                    proptest::prop_assert!(within_limits(&q.limits, &q.guarantees));
                    add_into(&mut total, &q.guarantees);
                }
                proptest::prop_assert!(covers(&capacity, &total));
            }
            Err(e) => {
                proptest::prop_assert_eq!(e.status, 400);
                proptest::prop_assert!(
                    e.body.contains("exceed cluster capacity")
                        || e.body.contains("is not contained within")
                        || e.body.contains("more than once"),
                    "{}", e.body
                );
            }
        }
    }
}
