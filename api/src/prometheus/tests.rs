//! The mapping's rules: labels from key parts, family names from parts, timers as
//! summaries, each family's HELP and TYPE once, and nothing unmapped among the keys meso
//! writes.

use super::*;

fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn task_states_resources_and_roles_become_labels() {
    let s = sample("master/tasks_running", 3.0);
    assert_eq!(s.family, "meso_master_tasks");
    assert_eq!(s.labels, vec![("state".into(), "running".into())]);
    let s = sample("master/cpus_revocable_used", 1.5);
    assert_eq!(s.family, "meso_master_resources_used");
    assert_eq!(
        s.labels,
        vec![
            ("resource".into(), "cpus".into()),
            ("revocable".into(), "true".into())
        ]
    );
    let s = sample("master/mem_percent", 0.5);
    assert_eq!(s.family, "meso_master_resources_used_ratio");
    assert_eq!(s.labels[1], ("revocable".into(), "false".into()));
    // A hierarchical role spans `/`; the resource does not.
    let s = sample("allocator/mesos/roles/eng/ml/resources/cpus/allocated", 2.0);
    assert_eq!(s.family, "meso_allocator_role_allocated");
    assert_eq!(
        s.labels,
        vec![
            ("role".into(), "eng/ml".into()),
            ("resource".into(), "cpus".into())
        ]
    );
    let s = sample("allocator/mesos/roles/eng/ml/shares/dominant", 0.25);
    assert_eq!(s.family, "meso_allocator_role_shares_dominant");
    assert_eq!(s.labels, vec![("role".into(), "eng/ml".into())]);
}

#[test]
fn keys_of_a_known_shape_get_families_without_a_rule_each() {
    for (key, family) in [
        (
            "allocator/mesos/quota/roles/a/resources/cpus/guarantee",
            "meso_allocator_quota_guarantee",
        ),
        (
            "allocator/mesos/quota/roles/a/b/resources/mem/offered_or_allocated",
            "meso_allocator_quota_offered_or_allocated",
        ),
        (
            "allocator/mesos/quota/roles/a/resources/disk/consumed",
            "meso_allocator_quota_consumed",
        ),
        (
            "allocator/mesos/roles/a/weight",
            "meso_allocator_role_weight",
        ),
        (
            "allocator/mesos/roles/a/shares/weighted_dominant",
            "meso_allocator_role_weighted_dominant",
        ),
    ] {
        let s = sample(key, 1.0);
        assert!(s.mapped, "{key}");
        assert_eq!(s.family, family, "{key}");
        assert!(!s.help.is_empty(), "{key}");
        assert!(s.labels.iter().any(|(k, _)| k == "role"), "{key}");
    }
}

#[test]
fn timers_become_summaries_in_seconds() {
    let s = sample("registrar/raft/ready/p99_ms", 12.0);
    assert_eq!(s.family, "meso_registrar_raft_ready_seconds");
    assert_eq!(s.kind, Kind::Summary);
    assert_eq!(s.labels, vec![("quantile".into(), "0.99".into())]);
    assert_eq!(s.value, 0.012);
    let s = sample("registrar/raft/ready/count", 7.0);
    assert_eq!((s.suffix, s.value), ("_count", 7.0));
    assert!(s.labels.is_empty());
}

#[test]
fn an_unknown_key_is_kept_under_the_unmapped_family() {
    let s = sample("something/new", 1.0);
    assert!(!s.mapped);
    assert_eq!(s.family, UNMAPPED_FAMILY);
    assert_eq!(s.labels, vec![("key".into(), "something/new".into())]);
}

#[test]
fn the_text_has_each_family_once_with_help_and_type() {
    let text = render(&map(&[
        ("master/tasks_running", 2.0),
        ("master/tasks_finished", 5.0),
        ("master/cpus_total", 4.0),
        ("master/cpus_revocable_total", 0.0),
        ("allocator/mesos/roles/a\"b/shares/dominant", 0.5),
        ("registrar/raft/ready/p50_ms", f64::NAN),
    ]));
    assert_eq!(
        text.matches("# TYPE meso_master_tasks gauge\n").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("# HELP meso_master_resources_capacity ")
            .count(),
        1
    );
    assert!(
        text.contains("meso_master_tasks{state=\"running\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("meso_master_resources_capacity{resource=\"cpus\",revocable=\"false\"} 4\n")
    );
    assert!(text.contains("meso_allocator_role_shares_dominant{role=\"a\\\"b\"} 0.5\n"));
    assert!(text.contains("meso_registrar_raft_ready_seconds{quantile=\"0.5\"} NaN\n"));
    // HELP comes from the family's rule that has it, whichever key is first.
    assert!(
        !text.contains("# HELP meso_master_resources_capacity \n"),
        "{text}"
    );
}

/// Every family a rule names has one type, and a HELP from at least one of its rules.
#[test]
fn every_family_has_one_type_and_a_help() {
    let mut kinds: BTreeMap<&str, (Kind, bool)> = BTreeMap::new();
    for rule in RULES {
        let entry = kinds.entry(rule.family).or_insert((rule.kind, false));
        assert_eq!(entry.0, rule.kind, "{} has two types", rule.family);
        entry.1 |= !rule.help.is_empty();
    }
    for (family, (_, help)) in kinds {
        assert!(help, "{family} has no HELP");
        assert!(
            family.starts_with("meso_") || family.starts_with("libprocess_"),
            "{family}"
        );
    }
}

proptest::proptest! {
    /// Whatever the key and value, the text is well formed: every line a comment or
    /// `name{labels} value`, and every sample's family declared before it.
    #[test]
    fn any_snapshot_renders_as_wellformed_text(
        keys in proptest::collection::btree_map(
            "(master|slave|allocator/mesos/roles|libprocess|x)/[a-z_/\"\\\\\n]{0,12}",
            proptest::num::f64::ANY,
            0..8,
        )
    ) {
        let text = render(&keys);
        let mut declared = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.push(rest.split(' ').next().unwrap().to_string());
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            proptest::prop_assert!(
                declared.iter().any(|d| name == *d || name == format!("{d}_count")),
                "{line}"
            );
        }
        proptest::prop_assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), keys.len());
    }
}
