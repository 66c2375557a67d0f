//! Placement: resources and ports from offers, roles, and a property: every instance the
//! planner places keeps every constraint given the instances placed before it.

use super::*;
use crate::constraints::parse_all;
use crate::parse::{definition_from, parse_object};
use proptest::prelude::*;

fn app(extra: &str) -> AppDefinition {
    let body = format!(r#"{{"id":"/a","cmd":"x","cpus":0.5,"mem":64{extra}}}"#);
    definition_from(parse_object(body.as_bytes()).unwrap()).unwrap()
}

fn offer(host: &str, rack: &str, zone: &str, cpus: f64) -> OfferSlot {
    let mut r = Resources::parse(&format!("cpus:{cpus};mem:1024;disk:100"), "*").unwrap();
    r.add_resource(&ports_resource(31000, 31009));
    OfferSlot {
        facts: AgentFacts {
            hostname: host.into(),
            attributes: BTreeMap::from([
                ("rack".to_string(), rack.to_string()),
                ("zone".to_string(), zone.to_string()),
            ]),
        },
        remaining: r.allocate("*"),
    }
}

#[test]
fn an_instance_takes_its_resources_and_one_port_per_definition() {
    let a = app(r#","portDefinitions":[{"port":0},{"port":0}]"#);
    let mut offers = vec![offer("h1", "r1", "west", 1.0)];
    let p = place(&a, "*", &[], &mut offers, &[], 3);
    assert_eq!(p.len(), 2, "1 cpu holds two instances of 0.5");
    assert_eq!(p[0].ports, [31000, 31001]);
    assert_eq!(p[1].ports, [31002, 31003]);
    assert_eq!(p[0].resources.cpus().unwrap().as_f64(), 0.5);
    assert_eq!(offers[0].remaining.cpus(), None);
}

#[test]
fn fixed_ports_and_roles_are_honoured() {
    let a = app(r#","requirePorts":true,"portDefinitions":[{"port":31005}]"#);
    let mut offers = vec![offer("h1", "r1", "west", 4.0)];
    let p = place(&a, "*", &[], &mut offers, &[], 2);
    assert_eq!(p.len(), 1, "a fixed port is taken once per agent");
    assert_eq!(p[0].ports, [31005]);
    let reserved = app(r#","role":"web","acceptedResourceRoles":["web"]"#);
    let mut offers = vec![offer("h1", "r1", "west", 4.0)];
    assert!(place(&reserved, "web", &[], &mut offers, &[], 1).is_empty());
}

#[test]
fn unique_hostname_spreads_and_like_pins() {
    let a = app(r#","constraints":[["hostname","UNIQUE"],["zone","LIKE","west"]]"#);
    let cs = parse_all(&a.constraints);
    let mut offers = vec![
        offer("h1", "r1", "west", 4.0),
        offer("h2", "r2", "east", 4.0),
        offer("h3", "r3", "west", 4.0),
    ];
    let p = place(&a, "*", &cs, &mut offers, &[], 3);
    let hosts: Vec<usize> = p.iter().map(|p| p.offer).collect();
    assert_eq!(hosts, [0, 2]);
}

fn constraint_strategy() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec!["hostname".to_string(), "UNIQUE".to_string()]),
        Just(vec!["rack".to_string(), "UNIQUE".to_string()]),
        (1u32..4).prop_map(|n| vec!["rack".into(), "MAX_PER".into(), n.to_string()]),
        Just(vec!["zone".to_string(), "CLUSTER".to_string()]),
        Just(vec![
            "zone".to_string(),
            "LIKE".to_string(),
            "west|north".to_string()
        ]),
        Just(vec![
            "zone".to_string(),
            "UNLIKE".to_string(),
            "east".to_string()
        ]),
        Just(vec!["rack".to_string(), "GROUP_BY".to_string()]),
        (1u32..4).prop_map(|n| vec!["rack".into(), "GROUP_BY".into(), n.to_string()]),
        Just(vec!["rack".to_string(), "IS".to_string(), "r1".to_string()]),
        Just(vec![
            "missing".to_string(),
            "UNLIKE".to_string(),
            "x".to_string()
        ]),
    ]
}

proptest! {
    #[test]
    fn every_placed_instance_keeps_every_constraint(
        agents in prop::collection::vec((0u8..5, 0u8..4, 1u8..8), 1..10),
        constraints in prop::collection::vec(constraint_strategy(), 0..3),
        existing in prop::collection::vec(0usize..10, 0..4),
        count in 0usize..20,
    ) {
        let zones = ["west", "east", "north", "south"];
        let mut offers: Vec<OfferSlot> = agents
            .iter()
            .enumerate()
            .map(|(i, (rack, zone, cpus))| {
                offer(&format!("h{i}"), &format!("r{rack}"), zones[*zone as usize], *cpus as f64 * 0.5)
            })
            .collect();
        let list = serde_json::to_string(&constraints).unwrap();
        let a = app(&format!(r#","constraints":{list}"#));
        let cs = parse_all(&a.constraints);
        // Instances that exist already (any version) sit on some of the agents.
        let placed: Vec<AgentFacts> = existing
            .iter()
            .map(|i| offers[i % offers.len()].facts.clone())
            .collect();
        let before = offers.clone();
        let p = place(&a, "*", &cs, &mut offers, &placed, count);
        prop_assert!(p.len() <= count);
        let mut so_far = placed.clone();
        for placement in &p {
            let facts = &before[placement.offer].facts;
            prop_assert!(
                constraints_allow(&cs, facts, &so_far),
                "{:?} placed on {:?} with {:?} already placed", constraints, facts, so_far
            );
            so_far.push(facts.clone());
        }
        // Nothing was taken that an offer did not have.
        for (slot, old) in offers.iter().zip(&before) {
            prop_assert!(old.remaining.contains(&slot.remaining));
        }
    }
}
