//! Tests of `Resources` through its public surface: grammar examples, JSON forms, the
//! subtraction policy, filters, and the algebra as properties.

use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> Resources {
    Resources::parse(text, "*").unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn scalar(v: f64) -> Scalar {
    Scalar::from_f64(v).expect("test literal is a valid scalar")
}

#[test]
#[cfg(target_pointer_width = "64")]
fn a_resource_stays_small_to_copy() {
    // The allocator copies resources into every offer; disk info is boxed to keep this down.
    let size = std::mem::size_of::<Resource>();
    assert!(size <= 128, "Resource grew to {size} bytes");
}

#[test]
fn issue_example_with_ranges_and_a_reserved_set() {
    let r = parse(
        "cpus:24;gpus:2;mem:24576;disk:409600;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}",
    );
    assert_eq!(r.cpus(), Some(scalar(24.0)));
    assert_eq!(r.gpus(), Some(scalar(2.0)));
    assert_eq!(r.mem(), Some(scalar(24576.0)));
    assert_eq!(r.disk(), Some(scalar(409600.0)));
    assert_eq!(
        r.ports(),
        Some(Ranges::from_pairs([(21000, 24000), (30000, 34000)]).unwrap())
    );
    let bugs = r.reserved("debug_role");
    assert_eq!(bugs.len(), 1);
    let bug = bugs.iter().next().unwrap();
    assert_eq!(
        bug.reservations,
        vec![ReservationInfo::statically("debug_role")]
    );
    assert_eq!(
        bug.value,
        Value::Set(Set::from_items(["a", "b", "c"]).unwrap())
    );
    assert_eq!(r.unreserved().len(), 5);
}

#[test]
fn issue_example_with_roles_keeps_roles_apart() {
    let r = parse("cpus:4;mem:2048;cpus(ops):8;mem(ops):4096");
    assert_eq!(r.len(), 4);
    assert_eq!(r.cpus(), Some(scalar(12.0)));
    assert_eq!(r.reserved("ops").cpus(), Some(scalar(8.0)));
    assert_eq!(r.unreserved().mem(), Some(scalar(2048.0)));
    assert_eq!(r.allocatable_to("ops").cpus(), Some(scalar(12.0)));
    assert_eq!(r.allocatable_to("ops/child").cpus(), Some(scalar(12.0)));
    assert_eq!(r.allocatable_to("dev").cpus(), Some(scalar(4.0)));
    assert_eq!(r.flatten().cpus(), Some(scalar(12.0)));
    assert_eq!(r.flatten().len(), 2);
}

/// Found by `scripts/fuzz.sh` (resources_attributes): JSON accepted names and set items
/// that the text form cannot carry, so a parsed value printed as text that did not parse.
#[test]
fn json_refuses_names_and_items_the_text_form_cannot_carry_back() {
    let name = r#"[{"name":")cpus","type":"SCALAR","scalar":{"value":1.5},"role":"*"}]"#;
    let err = Resources::parse(name, "*").unwrap_err().to_string();
    assert!(err.contains(")cpus") && err.contains("')'"), "{err}");
    for bad in ["a}", "a,b", "a b", "x:y", "p;q"] {
        let json =
            format!(r#"[{{"name":"gpus_set","type":"SET","set":{{"item":["ok","{bad}"]}}}}]"#);
        let err = Resources::parse(&json, "*").unwrap_err().to_string();
        assert!(err.contains("set items cannot hold"), "{bad}: {err}");
    }
    // CI's fuzz smoke found the same hole in the (deprecated) role field.
    let role = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5},"role":"};weig*"}]"#;
    let err = Resources::parse(role, "*").unwrap_err().to_string();
    assert!(err.contains("};weig*") && err.contains("'}'"), "{err}");
    // What is accepted prints and parses back to itself.
    let fine = r#"[{"name":"nvidia.com/gpu-v1","type":"SET","set":{"item":["/dev/nvidia0"]}}]"#;
    let r = Resources::parse(fine, "*").unwrap();
    assert_eq!(Resources::parse(&r.to_string(), "*").unwrap(), r);
}

#[test]
fn default_role_applies_to_unqualified_entries() {
    let r = Resources::parse("cpus:4;mem(*):10", "dev").unwrap();
    assert_eq!(r.reserved("dev").cpus(), Some(scalar(4.0)));
    assert_eq!(r.unreserved().mem(), Some(scalar(10.0)));
}

#[test]
fn same_name_entries_merge_and_spaces_are_ignored() {
    let r = parse(" cpus : 1.5 ; cpus:0.5;; ports:[1-2, 3-4];");
    assert_eq!(r.len(), 2);
    assert_eq!(r.cpus(), Some(scalar(2.0)));
    assert_eq!(r.to_string(), "cpus:2; ports:[1-4]");
}

#[test]
fn zero_entries_are_dropped_but_listed_raw() {
    assert!(parse("cpus:0").is_empty());
    let raw = parse_resource_list("cpus:0;mem:5", "*").unwrap();
    assert_eq!(raw.len(), 2);
    assert_eq!(raw[0].value, Value::Scalar(Scalar::ZERO));
}

#[test]
fn json_flag_form_matches_the_text_form() {
    let json = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":24}},
        {"name":"gpus","type":"SCALAR","scalar":{"value":2}},
        {"name":"mem","type":"SCALAR","scalar":{"value":24576}},
        {"name":"disk","type":"SCALAR","scalar":{"value":409600}},
        {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":21000,"end":24000},{"begin":30000,"end":34000}]}},
        {"name":"bugs","type":"SET","set":{"item":["a","b","c"]},"role":"debug_role"}]"#;
    let text = "cpus:24;gpus:2;mem:24576;disk:409600;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}";
    assert_eq!(Resources::parse(json, "*").unwrap(), parse(text));
    // The JSON form's entries with neither role nor reservations get the default role.
    let dev = Resources::parse(json, "dev").unwrap();
    assert_eq!(dev.reserved("dev").cpus(), Some(scalar(24.0)));
    assert_eq!(dev.reserved("debug_role").len(), 1);
}

#[test]
fn json_output_is_compact_post_refinement_and_round_trips() {
    let r = parse("cpus(ops):0.5;ports:[31000-32000]");
    let json = crate::json::to_string(&r);
    assert!(!json.contains('\n'));
    assert!(json.contains(
        r#"{"name":"cpus","type":"SCALAR","scalar":{"value":0.5},"reservations":[{"type":"STATIC","role":"ops"}]}"#
    ), "{json}");
    assert!(
        json.contains(
            r#"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}}"#
        ),
        "{json}"
    );
    let back: Resources = crate::json::from_str(&json, &Default::default()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn json_accepts_legacy_dynamic_reservation_and_strings_for_numbers() {
    let json = r#"[{"name":"disk","type":"SCALAR","scalar":{"value":"100"},"role":"ops",
        "reservation":{"principal":"alice","labels":{"labels":[{"key":"k","value":"v"}]}},
        "disk":{"persistence":{"id":"vol1","principal":"alice"},
                "volume":{"mode":"RW","container_path":"data"}},
        "unknown_key":{"ignored":true}}]"#;
    let r: Resources = crate::json::from_str(json, &Default::default()).unwrap();
    let v = r.iter().next().unwrap();
    assert!(v.is_persistent_volume());
    assert!(v.is_dynamically_reserved());
    assert_eq!(v.reservations[0].principal.as_deref(), Some("alice"));
    assert_eq!(r.persistent_volumes().len(), 1);
    // Round trip through JSON and postcard keeps everything.
    let again: Resources =
        crate::json::from_str(&crate::json::to_string(&r), &Default::default()).unwrap();
    assert_eq!(again, r);
    let bytes = postcard::to_allocvec(&r).unwrap();
    let back: Resources = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, r);
}

#[test]
fn pre_refinement_and_endpoint_formats() {
    let mut r = parse("cpus:1;mem(ops):2");
    r += &Resource::scalar("disk", 3.0)
        .unwrap()
        .with_reservation(ReservationInfo {
            labels: crate::labels::Labels::from_pairs([("k", Some("v"))]),
            ..ReservationInfo::dynamically("dev", Some("alice"))
        });
    let sorted = |v: serde_json::Value| {
        let mut items: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.to_string())
            .collect();
        items.sort();
        items
    };
    assert_eq!(
        sorted(r.to_json_value(ResourceFormat::PreRefinement).unwrap()),
        vec![
            r#"{"name":"cpus","role":"*","scalar":{"value":1.0},"type":"SCALAR"}"#,
            r#"{"name":"disk","reservation":{"labels":{"labels":[{"key":"k","value":"v"}]},"principal":"alice"},"role":"dev","scalar":{"value":3.0},"type":"SCALAR"}"#,
            r#"{"name":"mem","role":"ops","scalar":{"value":2.0},"type":"SCALAR"}"#,
        ]
    );
    // The pre-refinement form reads back to the same resources.
    let pre = r
        .to_json_value(ResourceFormat::PreRefinement)
        .unwrap()
        .to_string();
    assert_eq!(Resources::parse(&pre, "*").unwrap(), r);
    let endpoint = r.to_json_value(ResourceFormat::Endpoint).unwrap();
    assert!(
        endpoint
            .to_string()
            .contains(r#""reservations":[{"role":"ops","type":"STATIC"}],"role":"ops""#),
        "{endpoint}"
    );
    assert_eq!(
        r.to_json_value(ResourceFormat::PostRefinement).unwrap(),
        serde_json::to_value(&r).unwrap()
    );
    let refined =
        parse("mem(ops):2").push_reservation(&ReservationInfo::dynamically("ops/a", None));
    let err = refined
        .to_json_value(ResourceFormat::PreRefinement)
        .unwrap_err();
    assert!(err.to_string().contains("refined reservations"), "{err}");
    assert!(refined.to_json_value(ResourceFormat::Endpoint).is_ok());
}

#[test]
fn postcard_round_trip_of_every_feature() {
    let mut r = parse("cpus:4;mem(ops):1024;ports:[1-5,10-20];bugs(debug):{a,b}");
    r += &Resource::scalar("cpus", 2.0)
        .unwrap()
        .into_revocable()
        .allocated_to("ops");
    r += &Resource::scalar("disk", 10.0)
        .unwrap()
        .with_reservation(ReservationInfo::dynamically("ops", Some("p")))
        .with_disk(DiskInfo {
            persistence: Some(Persistence {
                id: "v".into(),
                principal: None,
            }),
            volume: Some(Volume {
                mode: VolumeMode::Ro,
                container_path: "/x".into(),
                host_path: Some("/h".into()),
            }),
            source: Some(DiskSource {
                kind: DiskSourceType::Mount,
                root: Some("/mnt/a".into()),
                id: None,
                profile: None,
            }),
        })
        .into_shared();
    let bytes = postcard::to_allocvec(&r).unwrap();
    let back: Resources = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, r);
    let json: Resources =
        crate::json::from_str(&crate::json::to_string(&r), &Default::default()).unwrap();
    assert_eq!(json, r);
}

#[test]
fn subtraction_saturates_and_checked_subtraction_refuses() {
    let a = parse("cpus:1;ports:[1-10]");
    let b = parse("cpus:3;ports:[5-20];mem:7");
    // Saturating: what is not there is dropped; cpus would go negative and disappear.
    assert_eq!(&a - &b, parse("ports:[1-4]"));
    let err = a.checked_sub(&b).unwrap_err();
    assert!(matches!(err, Error::NotContained { .. }));
    assert!(err.to_string().contains("cpus:3"), "{err}");
    assert_eq!(
        a.checked_sub(&parse("cpus:0.25")).unwrap(),
        parse("cpus:0.75;ports:[1-10]")
    );
}

#[test]
fn point_one_plus_point_two_minus_point_three_leaves_nothing() {
    let r = parse("cpus:0.1") + &parse("cpus:0.2") - &parse("cpus:0.3");
    assert!(r.is_empty(), "{r}");
}

#[test]
fn ranges_split_around_a_port() {
    let r = parse("ports:[31000-32000]") - &parse("ports:[31500-31500]");
    assert_eq!(r.to_string(), "ports:[31000-31499, 31501-32000]");
}

#[test]
fn shared_volumes_are_counted_copies_and_persistent_volumes_are_whole() {
    let volume = Resource::scalar("disk", 5.0)
        .unwrap()
        .with_static_role("ops")
        .with_disk(DiskInfo {
            persistence: Some(Persistence {
                id: "v1".into(),
                principal: None,
            }),
            volume: None,
            source: None,
        });
    let shared = volume.clone().into_shared();
    let mut r = Resources::from(shared.clone());
    r += &shared;
    assert_eq!(r.len(), 2);
    assert!(r.contains(&(Resources::from(shared.clone()) + &Resources::from(shared.clone()))));
    r -= &shared;
    assert_eq!(r.len(), 1);
    // A persistent volume cannot be partly taken.
    let exclusive = Resources::from(volume.clone());
    let mut part = volume.clone();
    part.value = Value::Scalar(scalar(1.0));
    assert!(!exclusive.contains_resource(&part));
    assert_eq!(exclusive.clone() - &Resources::from(part), exclusive);
    assert!((exclusive.clone() - &exclusive).is_empty());
}

#[test]
fn allocate_and_reservation_stack() {
    let r = parse("cpus:2;mem(ops):5");
    let a = r.allocate("ops");
    assert_eq!(a.allocated_to("ops"), a);
    assert!(!a.contains(&r), "allocated resources differ in shape");
    assert_eq!(a.unallocate(), r);
    let refined = r
        .reserved("ops")
        .push_reservation(&ReservationInfo::dynamically("ops/a", Some("p")));
    assert!(refined.validate().is_ok());
    assert_eq!(refined.reserved("ops/a").mem(), Some(scalar(5.0)));
    assert_eq!(refined.pop_reservation(), r.reserved("ops"));
    assert_eq!(refined.to_unreserved(), parse("mem:5"));
    let bad = r
        .reserved("ops")
        .push_reservation(&ReservationInfo::dynamically("dev", None));
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("does not refine"));
    assert_eq!(refined.reservations().len(), 1);
    assert_eq!(a.allocations().len(), 1);
    assert_eq!(r.scalar_quantities(), parse("cpus:2;mem:5"));
}

#[test]
fn filters() {
    let mut r = parse("cpus:2;mem(ops):5");
    r += &Resource::scalar("cpus", 1.0).unwrap().into_revocable();
    assert_eq!(r.revocable().cpus(), Some(scalar(1.0)));
    assert_eq!(r.non_revocable().cpus(), Some(scalar(2.0)));
    assert_eq!(r.reserved_any(), parse("mem(ops):5"));
    assert_eq!(r.named("mem").len(), 1);
    assert!(r.shared().is_empty());
    assert_eq!(r.non_shared(), r);
    assert_eq!(r.names().len(), 2);
}

#[test]
fn malformed_text_gives_typed_errors_naming_the_token() {
    let cases: &[(&str, &str)] = &[
        ("cpus:-1", "-1"),
        ("cpus:abc", "abc"),
        ("cpus:nan", "nan"),
        ("ports:[5-1]", "[5-1]"),
        ("ports:[1-5,3-7]", "[1-5,3-7]"),
        ("bugs:{a,b,a}", "{a,b,a}"),
        ("cpus", "cpus"),
        ("cpus:1:2", "cpus:1:2"),
        ("cpus(ops:1", "cpus(ops:1"),
        ("(ops):1", "(ops):1"),
        ("cpus(-bad):1", "-bad"),
        ("cpus(a b):1", "a b"),
        ("cpus(.):1", "."),
        ("gpus:1.5", "gpus"),
    ];
    for (text, token) in cases {
        let err = Resources::parse(text, "*").expect_err(text).to_string();
        assert!(err.contains(&format!("'{token}'")), "{text}: {err}");
    }
}

#[test]
fn malformed_json_gives_typed_errors_naming_the_token() {
    let cases: &[(&str, &str)] = &[
        (
            r#"[{"name":"cpus","type":"FOO","scalar":{"value":1}}]"#,
            "FOO",
        ),
        (r#"[{"name":"cpus","type":"SCALAR"}]"#, "scalar"),
        (r#"[{"type":"SCALAR","scalar":{"value":1}}]"#, "name"),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]"#,
            "-1",
        ),
        (r#"[{"name":"cpus","type":"TEXT"}]"#, "TEXT"),
        (
            r#"[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}}]"#,
            "5-1",
        ),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"a//b"}]"#,
            "a//b",
        ),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1}"#,
            "EOF",
        ),
    ];
    for (json, token) in cases {
        let err = Resources::parse(json, "*");
        let err = match err {
            Err(e) => e.to_string(),
            Ok(r) => panic!("{json} parsed as {r}"),
        };
        assert!(err.contains(token), "{json}: {err}");
    }
}

fn arb_resource() -> impl Strategy<Value = Resource> {
    let name_role = (
        prop::sample::select(vec!["cpus", "mem", "disk"]),
        prop::sample::select(vec!["*", "ops", "dev"]),
    );
    let scalar = (name_role, 0i64..10_000).prop_map(|((name, role), milli)| {
        Resource::new(name, Value::Scalar(Scalar::from_milli(milli))).with_static_role(role)
    });
    let ranges = (
        prop::sample::select(vec!["*", "ops"]),
        prop::collection::vec((0u64..100, 0u64..10), 0..4),
    )
        .prop_map(|(role, v)| {
            let r = Ranges::coalesced(v.into_iter().map(|(b, l)| (b, b + l)))
                .expect("begin <= end by construction");
            Resource::new("ports", Value::Ranges(r)).with_static_role(role)
        });
    let set = prop::collection::btree_set("[a-d]", 0..4).prop_map(|items| {
        Resource::new("bugs", Value::Set(Set::from_items(items).expect("unique")))
    });
    let revocable = (0i64..5000).prop_map(|milli| {
        Resource::new("cpus", Value::Scalar(Scalar::from_milli(milli))).into_revocable()
    });
    // Dynamic reservations (refined once), allocation, and persistent volumes, shared or
    // not: the shapes the grammar cannot express and that must still obey the algebra.
    let dynamic = (0i64..5000, any::<bool>(), prop::option::of(Just("ops"))).prop_map(
        |(milli, refined, allocated)| {
            let mut r = Resource::new("mem", Value::Scalar(Scalar::from_milli(milli)))
                .with_reservation(ReservationInfo::dynamically("ops", Some("p")));
            if refined {
                r = r.with_reservation(ReservationInfo::dynamically("ops/a", None));
            }
            if let Some(role) = allocated {
                r = r.allocated_to(role);
            }
            r
        },
    );
    let volume = (1i64..5000, "[a-c]", any::<bool>()).prop_map(|(milli, id, shared)| {
        let r = Resource::new("disk", Value::Scalar(Scalar::from_milli(milli)))
            .with_reservation(ReservationInfo::dynamically("ops", Some("p")))
            .with_disk(DiskInfo {
                persistence: Some(Persistence {
                    id,
                    principal: None,
                }),
                volume: Some(Volume {
                    mode: VolumeMode::Rw,
                    container_path: "data".into(),
                    host_path: None,
                }),
                source: None,
            });
        if shared {
            r.into_shared()
        } else {
            r
        }
    });
    prop_oneof![scalar, ranges, set, revocable, dynamic, volume]
}

/// True when the `--resources` grammar can express the resource.
fn expressible(r: &Resource) -> bool {
    !r.revocable
        && !r.shared
        && r.disk.is_none()
        && r.allocation_role.is_none()
        && r.reservations
            .iter()
            .all(|x| x.kind == ReservationType::Static)
}

fn arb_resources() -> impl Strategy<Value = Resources> {
    prop::collection::vec(arb_resource(), 0..6).prop_map(Resources::from_iter)
}

/// `b` without the ranges and set items it shares with `a`. Adding ranges or sets is a
/// union (as in Mesos), so `(a + b) - b == a` holds only when they are disjoint; scalars
/// always add up.
fn disjoint_from(b: &Resources, a: &Resources) -> Resources {
    let is_scalar = |r: &Resource| matches!(r.value, Value::Scalar(_));
    b.filter(is_scalar) + (b.filter(|r| !is_scalar(r)) - &a.filter(|r| !is_scalar(r)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn adding_then_subtracting_gives_back_the_original(a in arb_resources(), b in arb_resources()) {
        let b = disjoint_from(&b, &a);
        prop_assert_eq!((a.clone() + &b) - &b, a);
    }

    #[test]
    fn a_sum_contains_its_parts(a in arb_resources(), b in arb_resources()) {
        let sum = &a + &b;
        prop_assert!(sum.contains(&a));
        prop_assert!(sum.contains(&b));
        let b = disjoint_from(&b, &a);
        prop_assert_eq!((&a + &b).checked_sub(&b).unwrap(), a);
    }

    #[test]
    fn addition_commutes_and_associates(a in arb_resources(), b in arb_resources(), c in arb_resources()) {
        prop_assert_eq!(&a + &b, &b + &a);
        prop_assert_eq!((&a + &b) + &c, &a + &(&b + &c));
    }

    #[test]
    fn subtracting_what_is_not_contained_is_refused(a in arb_resources(), b in arb_resources()) {
        match a.checked_sub(&b) {
            Ok(diff) => {
                prop_assert!(a.contains(&b));
                prop_assert_eq!(diff + &b, a.clone());
            }
            Err(Error::NotContained { .. }) => prop_assert!(!a.contains(&b)),
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
        // The saturating form never yields more than it started with.
        prop_assert!(a.contains(&(&a - &b)));
    }

    #[test]
    fn display_parses_back(a in arb_resources()) {
        let plain = a.filter(expressible);
        prop_assert_eq!(Resources::parse(&plain.to_string(), "*").unwrap(), plain);
        // The other shapes still display (Mesos's long form) without panicking.
        prop_assert!(a.is_empty() || !a.to_string().is_empty());
    }

    #[test]
    fn json_and_postcard_round_trip(a in arb_resources()) {
        let json = crate::json::to_string(&a);
        prop_assert_eq!(crate::json::from_str::<Resources>(&json, &Default::default()).unwrap(), a.clone());
        let bytes = postcard::to_allocvec(&a).unwrap();
        prop_assert_eq!(postcard::from_bytes::<Resources>(&bytes).unwrap(), a);
    }

    #[test]
    fn random_text_never_panics(text in "[a-z0-9(){}\\[\\]:;,.\\- *]{0,40}") {
        let _ = Resources::parse(&text, "*");
        let _ = parse_resource_list(&text, "ops");
    }
}
