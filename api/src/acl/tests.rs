use super::*;
use proptest::prelude::*;
use serde_json::json;

fn acls(value: serde_json::Value) -> Acls {
    Acls::parse(&value.to_string()).expect("valid ACLs")
}

#[test]
fn mesoss_documented_example_only_foo_registers_in_analytics() {
    let acls = acls(json!({
        "register_frameworks": [
            {"principals": {"values": ["foo"]}, "roles": {"values": ["analytics"]}},
            {"principals": {"type": "NONE"}, "roles": {"values": ["analytics"]}}
        ]
    }));
    let register =
        |p: Option<&str>, role| acls.authorize(p, Action::RegisterFrameworks, Some(role));
    assert!(register(Some("foo"), "analytics"));
    assert!(!register(Some("bar"), "analytics"));
    assert!(!register(None, "analytics"));
    // Permissive (the default) for every other role.
    assert!(register(Some("bar"), "ads"));
    assert!(register(None, "ads"));
}

#[test]
fn non_permissive_refuses_what_no_rule_matches_and_implicit_objects_need_any() {
    let acls = acls(json!({
        "permissive": false,
        "mark_agents_gone": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}],
        "drain_agents": [{"principals": {"values": ["ops"]}, "agents": {"values": ["a1"]}}]
    }));
    assert!(acls.authorize(Some("ops"), Action::MarkAgentsGone, None));
    assert!(!acls.authorize(Some("dev"), Action::MarkAgentsGone, None));
    // A rule with values does not speak about an implicit (ANY) object.
    assert!(!acls.authorize(Some("ops"), Action::DrainAgents, None));
    assert!(!acls.authorize(Some("ops"), Action::UpdateWeights, Some("r")));
}

#[test]
fn recursive_role_rules_cover_the_roles_below_only() {
    let acls = acls(json!({
        "permissive": false,
        "reserve_resources": [
            {"principals": {"values": ["eng"]}, "roles": {"values": ["eng/%", "ops"]}}
        ]
    }));
    let reserve = |role| acls.authorize(Some("eng"), Action::ReserveResources, Some(role));
    assert!(reserve("eng/web"));
    assert!(reserve("eng/web/a"));
    assert!(reserve("ops"));
    assert!(!reserve("eng"));
    assert!(!reserve("engineering"));
    assert_eq!(acls.rules(Action::ReserveResources).len(), 2);
}

#[test]
fn every_mesos_action_parses_and_mistakes_are_named() {
    let mut file = serde_json::Map::new();
    for (name, object, _) in action::MESOS_ACTIONS {
        file.insert(
            name.to_string(),
            json!([{"principals": {"type": "ANY"}, *object: {"type": "NONE"}}]),
        );
    }
    let acls = acls(serde_json::Value::Object(file));
    assert!(!acls.authorize(Some("x"), Action::RunTasks, Some("root")));

    let err = |v: serde_json::Value| Acls::parse(&v.to_string()).unwrap_err().to_string();
    assert!(err(json!({"run_task": []})).contains("unknown ACL action \"run_task\""));
    let e = err(json!({"run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}));
    assert!(
        e.contains("\"run_tasks\" rule 0") && e.contains("\"roles\""),
        "{e}"
    );
    let e = err(json!({"run_tasks": [{"principals": {"type": "ANY"}}]}));
    assert!(e.contains("missing \"users\""), "{e}");
    let e = err(json!({"run_tasks": [{"principals": {"type": "ALL"}, "users": {}}]}));
    assert!(e.contains("\"principals\"") && e.contains("ALL"), "{e}");
    assert!(err(json!({"permissive": "no"})).contains("permissive"));
    assert!(err(json!({"run_tasks": {}})).contains("list of rules"));
    assert!(err(json!([])).contains("object"));
    assert!(Acls::parse("{").is_err());
}

fn entity() -> impl Strategy<Value = Entity> {
    prop_oneof![
        Just(Entity::Any),
        Just(Entity::None),
        proptest::collection::vec(prop_oneof!["a", "b", "c"], 0..3).prop_map(Entity::Some),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (entity(), entity()).prop_map(|(subjects, objects)| Rule { subjects, objects })
}

fn name() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof!["a", "b", "c", "d"].prop_map(String::from))
}

fn entity_json(e: &Entity) -> serde_json::Value {
    match e {
        Entity::Any => json!({"type": "ANY"}),
        Entity::None => json!({"type": "NONE"}),
        Entity::Some(v) => json!({ "values": v }),
    }
}

fn file(permissive: bool, rules: &[Rule]) -> Acls {
    let list: Vec<_> = rules
        .iter()
        .map(|r| json!({"principals": entity_json(&r.subjects), "users": entity_json(&r.objects)}))
        .collect();
    acls(json!({"permissive": permissive, "run_tasks": list}))
}

proptest! {
    #[test]
    fn a_file_round_trips_and_without_rules_permissive_decides(
        permissive in any::<bool>(),
        rules in proptest::collection::vec(rule(), 0..5),
        who in name(),
        what in name(),
    ) {
        let acls = file(permissive, &rules);
        prop_assert_eq!(acls.rules(Action::RunTasks), rules.as_slice());
        prop_assert_eq!(acls.permissive, permissive);
        let empty = file(permissive, &[]);
        prop_assert_eq!(
            empty.authorize(who.as_deref(), Action::RunTasks, what.as_deref()),
            permissive
        );
        // Other actions have no rules.
        prop_assert_eq!(
            acls.authorize(who.as_deref(), Action::ViewTasks, what.as_deref()),
            permissive
        );
    }

    #[test]
    fn the_first_matching_rule_decides_and_later_rules_do_not(
        permissive in any::<bool>(),
        first in rule(),
        later in proptest::collection::vec(rule(), 0..5),
        who in name(),
        what in name(),
    ) {
        let request = (Entity::request(who.as_deref()), Entity::request(what.as_deref()));
        let mut rules = vec![first.clone()];
        rules.extend(later.clone());
        let decided = file(permissive, &rules)
            .authorize(who.as_deref(), Action::RunTasks, what.as_deref());
        if request.0.matches(&first.subjects) && request.1.matches(&first.objects) {
            let alone = file(!permissive, std::slice::from_ref(&first))
                .authorize(who.as_deref(), Action::RunTasks, what.as_deref());
            prop_assert_eq!(decided, alone);
        } else {
            let rest = file(permissive, &later)
                .authorize(who.as_deref(), Action::RunTasks, what.as_deref());
            prop_assert_eq!(decided, rest);
        }
    }

    #[test]
    fn a_leading_deny_all_rule_refuses_everyone_and_allow_all_admits_everyone(
        permissive in any::<bool>(),
        later in proptest::collection::vec(rule(), 0..5),
        who in name(),
        what in name(),
    ) {
        let deny = Rule { subjects: Entity::None, objects: Entity::Any };
        let allow = Rule { subjects: Entity::Any, objects: Entity::Any };
        for (head, expected) in [(deny, false), (allow, true)] {
            let mut rules = vec![head];
            rules.extend(later.clone());
            prop_assert_eq!(
                file(permissive, &rules).authorize(who.as_deref(), Action::RunTasks, what.as_deref()),
                expected
            );
        }
    }
}
