//! Property tests of the allocator: random clusters and random sequences of calls, checked
//! against invariants a master relies on.
//!
//! * never offer more than an agent has, nor the same resource twice at once;
//! * reservations go only to their role's subtree; revocable only to frameworks that
//!   accept it; offers only to active, subscribed, unsuppressed (framework, role) pairs;
//! * quota limits hold;
//! * recovered resources become offerable again.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use meso_allocator::{
    Allocator, AllocatorConfig, FrameworkSpec, Offer, Quantities, Quota, Timestamp,
};
use meso_api::resources::{Resource, Value};
use meso_api::Resources;
use proptest::prelude::*;

const ROLES: [&str; 4] = ["a", "a/x", "b", "c"];

#[derive(Clone, Debug)]
struct AgentGen {
    cpus: u32,
    mem: u32,
    ports: (u64, u64),
    reserved: Option<(usize, u32)>,
    revocable_cpus: u32,
}

#[derive(Clone, Debug)]
struct FrameworkGen {
    roles: BTreeSet<usize>,
    revocable: bool,
}

#[derive(Clone, Debug)]
enum Op {
    Allocate,
    Recover(usize),
    Decline(usize, u64),
    Suppress(usize),
    Revive(usize),
    Deactivate(usize),
    Activate(usize),
    DeactivateAgent(usize),
    ActivateAgent(usize),
    Advance(u64),
}

fn agent_gen() -> impl Strategy<Value = AgentGen> {
    (
        1u32..8,
        32u32..2048,
        (1000u64..1100, 0u64..20),
        proptest::option::of((0usize..2, 1u32..4)),
        0u32..3,
    )
        .prop_map(|(cpus, mem, (p, n), reserved, revocable_cpus)| AgentGen {
            cpus,
            mem,
            ports: (p, p + n),
            reserved,
            revocable_cpus,
        })
}

fn framework_gen() -> impl Strategy<Value = FrameworkGen> {
    (
        proptest::collection::btree_set(0usize..4, 1..3),
        any::<bool>(),
    )
        .prop_map(|(roles, revocable)| FrameworkGen { roles, revocable })
}

fn op_gen() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Allocate),
        3 => (0usize..64).prop_map(Op::Recover),
        2 => (0usize..64, 0u64..20).prop_map(|(i, s)| Op::Decline(i, s)),
        1 => (0usize..8).prop_map(Op::Suppress),
        1 => (0usize..8).prop_map(Op::Revive),
        1 => (0usize..8).prop_map(Op::Deactivate),
        1 => (0usize..8).prop_map(Op::Activate),
        1 => (0usize..8).prop_map(Op::DeactivateAgent),
        1 => (0usize..8).prop_map(Op::ActivateAgent),
        1 => (1u64..10).prop_map(Op::Advance),
    ]
}

fn agent_resources(g: &AgentGen) -> Resources {
    let mut text = format!(
        "cpus:{};mem:{};ports:[{}-{}]",
        g.cpus, g.mem, g.ports.0, g.ports.1
    );
    if let Some((role, cpus)) = g.reserved {
        text.push_str(&format!(
            ";cpus({}):{cpus};mem({}):64",
            ROLES[role], ROLES[role]
        ));
    }
    let mut out = Resources::parse(&text, "*").expect("generated resources parse");
    if g.revocable_cpus > 0 {
        let rev = Resource::scalar("cpus", f64::from(g.revocable_cpus))
            .expect("a small positive scalar is valid")
            .into_revocable();
        out += &rev;
    }
    out
}

fn within(role: &str, ancestor: &str) -> bool {
    role == ancestor || role.starts_with(&format!("{ancestor}/"))
}

fn port_count(resources: &Resources) -> u64 {
    resources
        .iter()
        .map(|r| match &r.value {
            Value::Ranges(ranges) => ranges.count(),
            _ => 0,
        })
        .sum()
}

struct Model {
    frameworks: Vec<FrameworkGen>,
    active: Vec<bool>,
    suppressed: Vec<bool>,
    /// Agents deactivated (their link broke) and not activated since.
    inactive_agents: BTreeSet<String>,
    limits: BTreeMap<&'static str, i64>,
    /// (framework index, agent, role) -> when the latest filter on it expires.
    filters: BTreeMap<(usize, String, String), Timestamp>,
}

/// Liveness after a round: an agent whose free resources hold unreserved, non-revocable
/// cpus or mem above the minimum must not be left alone while some active, unsuppressed
/// framework subscribed to a role without quota has no filter on it there.
fn check_nothing_left_behind(
    allocator: &Allocator,
    totals: &BTreeMap<String, Resources>,
    model: &Model,
    now: Timestamp,
) {
    for agent in totals.keys() {
        let free = allocator.free_resources(agent).expect("agent exists");
        let plain = |name: &str| -> i64 {
            free.iter()
                .filter(|r| &*r.name == name && !r.is_reserved() && !r.revocable)
                .map(|r| match &r.value {
                    Value::Scalar(s) => s.milli(),
                    _ => 0,
                })
                .sum()
        };
        if model.inactive_agents.contains(agent) || (plain("cpus") < 10 && plain("mem") < 32_000) {
            continue;
        }
        for (index, fw) in model.frameworks.iter().enumerate() {
            if !model.active[index] || model.suppressed[index] {
                continue;
            }
            for &r in &fw.roles {
                let role = ROLES[r];
                if model.limits.contains_key(role) {
                    continue;
                }
                let filtered = model
                    .filters
                    .get(&(index, agent.clone(), role.to_string()))
                    .is_some_and(|&until| until > now);
                assert!(
                    filtered,
                    "{agent} keeps {free} free although fw-{index} in {role} may take it"
                );
            }
        }
    }
}

/// Checks every standing allocation and the offers just made against the invariants.
fn check(
    allocator: &Allocator,
    totals: &BTreeMap<String, Resources>,
    model: &Model,
    offers: &[Offer],
) {
    let allocations = allocator.allocations();
    for (agent, total) in totals {
        let mut sum = allocator.free_resources(agent).expect("agent exists");
        let mut ports = port_count(&sum);
        for held in allocations.iter().filter(|o| &*o.agent == agent.as_str()) {
            sum += &held.resources.unallocate();
            ports += port_count(&held.resources);
        }
        assert_eq!(
            &sum, total,
            "free + allocated must equal the total on {agent}"
        );
        assert_eq!(ports, port_count(total), "no port is held twice on {agent}");
    }
    for offer in offers {
        let index: usize = offer.framework[3..]
            .parse()
            .expect("framework ids are fw-N");
        let fw = &model.frameworks[index];
        assert!(
            !model.inactive_agents.contains(&*offer.agent),
            "offer from an inactive agent: {offer:?}"
        );
        assert!(
            model.active[index],
            "offer to inactive framework: {offer:?}"
        );
        assert!(
            !model.suppressed[index],
            "offer to suppressed framework: {offer:?}"
        );
        assert!(
            fw.roles.iter().any(|&r| ROLES[r] == &*offer.role),
            "offer in a role the framework is not subscribed to: {offer:?}"
        );
        for r in offer.resources.iter() {
            if let Some(res) = r.reservations.last() {
                assert!(
                    within(&offer.role, &res.role),
                    "reservation leak: {offer:?}"
                );
            }
            assert!(!r.revocable || fw.revocable, "revocable leak: {offer:?}");
        }
    }
    for (role, limit) in &model.limits {
        let used: i64 = allocations
            .iter()
            .filter(|o| within(&o.role, role))
            .flat_map(|o| o.resources.iter())
            .filter(|r| &*r.name == "cpus" && !r.is_reserved() && !r.revocable)
            .map(|r| match &r.value {
                Value::Scalar(s) => s.milli(),
                _ => 0,
            })
            .sum();
        assert!(
            used <= *limit,
            "role {role} holds {used} millicpus over its limit {limit}"
        );
    }
}

proptest! {
    // Integration tests have no lib.rs beside them for proptest's regression files.
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn invariants_hold_under_random_calls(
        agents in proptest::collection::vec(agent_gen(), 1..6),
        frameworks in proptest::collection::vec(framework_gen(), 1..5),
        limit_b in proptest::option::of(0u32..6),
        limit_c in proptest::option::of(0u32..6),
        ops in proptest::collection::vec(op_gen(), 1..30),
    ) {
        let mut allocator = Allocator::new(AllocatorConfig::default()).unwrap();
        let mut model = Model {
            active: vec![true; frameworks.len()],
            suppressed: vec![false; frameworks.len()],
            inactive_agents: BTreeSet::new(),
            frameworks: frameworks.clone(),
            limits: BTreeMap::new(),
            filters: BTreeMap::new(),
        };
        for (role, limit) in [("b", limit_b), ("c", limit_c)] {
            if let Some(limit) = limit {
                let quota = Quota {
                    guarantees: Quantities::default(),
                    limits: Quantities::parse(&format!("cpus:{limit}")).unwrap(),
                };
                allocator.update_quota(role, &quota).unwrap();
                model.limits.insert(role, i64::from(limit) * 1000);
            }
        }
        for (i, fw) in frameworks.iter().enumerate() {
            let spec = FrameworkSpec {
                roles: fw.roles.iter().map(|&r| ROLES[r].to_string()).collect(),
                revocable: fw.revocable,
                suppressed_roles: Vec::new(),
            };
            allocator.add_framework(&format!("fw-{i}"), &spec).unwrap();
        }
        let mut totals = BTreeMap::new();
        for (i, g) in agents.iter().enumerate() {
            let total = agent_resources(g);
            allocator.add_agent(&format!("agent-{i}"), &total, &[]).unwrap();
            totals.insert(format!("agent-{i}"), total);
        }
        let mut now = Timestamp::default();
        let mut held: Vec<Offer> = Vec::new();
        for op in ops {
            match op {
                Op::Allocate => {
                    let offers = allocator.allocate(now);
                    check(&allocator, &totals, &model, &offers);
                    check_nothing_left_behind(&allocator, &totals, &model, now);
                    held.extend(offers);
                }
                Op::Recover(i) if !held.is_empty() => {
                    let offer = held.swap_remove(i % held.len());
                    allocator
                        .recover_resources(&offer.framework, &offer.agent, &offer.role, &offer.resources)
                        .unwrap();
                }
                Op::Decline(i, secs) if !held.is_empty() => {
                    let offer = held.swap_remove(i % held.len());
                    allocator.decline(&offer, Some(secs as f64), now).unwrap();
                    if secs > 0 {
                        let index: usize = offer.framework[3..].parse().unwrap();
                        let key = (index, offer.agent.to_string(), offer.role.to_string());
                        let until = now.after(Duration::from_secs(secs));
                        let entry = model.filters.entry(key).or_insert(until);
                        *entry = (*entry).max(until);
                    }
                }
                Op::Suppress(f) => {
                    let f = f % frameworks.len();
                    allocator.suppress(&format!("fw-{f}"), &[]).unwrap();
                    model.suppressed[f] = true;
                }
                Op::Revive(f) => {
                    let f = f % frameworks.len();
                    allocator.revive(&format!("fw-{f}"), &[]).unwrap();
                    model.suppressed[f] = false;
                    model.filters.retain(|(index, _, _), _| *index != f);
                }
                Op::Deactivate(f) => {
                    let f = f % frameworks.len();
                    allocator.deactivate_framework(&format!("fw-{f}")).unwrap();
                    model.active[f] = false;
                }
                Op::Activate(f) => {
                    let f = f % frameworks.len();
                    allocator.activate_framework(&format!("fw-{f}")).unwrap();
                    model.active[f] = true;
                }
                Op::DeactivateAgent(a) => {
                    let agent = format!("agent-{}", a % agents.len());
                    allocator.deactivate_agent(&agent).unwrap();
                    prop_assert!(!allocator.is_agent_active(&agent).unwrap());
                    model.inactive_agents.insert(agent);
                }
                Op::ActivateAgent(a) => {
                    let agent = format!("agent-{}", a % agents.len());
                    allocator.activate_agent(&agent).unwrap();
                    model.inactive_agents.remove(&agent);
                }
                Op::Advance(secs) => now = now.after(Duration::from_secs(secs)),
                Op::Recover(_) | Op::Decline(..) => {}
            }
            check(&allocator, &totals, &model, &[]);
        }
    }

    #[test]
    fn recovered_resources_become_offerable_again(
        agents in proptest::collection::vec(agent_gen(), 1..6),
        frameworks in proptest::collection::vec(framework_gen(), 1..5),
    ) {
        // No minimum, so what is offered does not depend on the order agents and
        // frameworks are visited in: everything some framework may take is offered.
        let config = AllocatorConfig { min_allocatable: Vec::new(), ..AllocatorConfig::default() };
        let mut allocator = Allocator::new(config).unwrap();
        for (i, fw) in frameworks.iter().enumerate() {
            let spec = FrameworkSpec {
                roles: fw.roles.iter().map(|&r| ROLES[r].to_string()).collect(),
                revocable: fw.revocable,
                suppressed_roles: Vec::new(),
            };
            allocator.add_framework(&format!("fw-{i}"), &spec).unwrap();
        }
        for (i, g) in agents.iter().enumerate() {
            allocator.add_agent(&format!("agent-{i}"), &agent_resources(g), &[]).unwrap();
        }
        let sum = |offers: &[Offer]| {
            let mut out = Resources::new();
            for o in offers {
                out += &o.resources.unallocate();
            }
            out
        };
        let first = allocator.allocate(Timestamp::default());
        prop_assert!(!first.is_empty(), "every framework can take unreserved cpus");
        for o in &first {
            allocator.recover_resources(&o.framework, &o.agent, &o.role, &o.resources).unwrap();
        }
        prop_assert!(allocator.allocations().is_empty());
        let second = allocator.allocate(Timestamp(Duration::from_secs(1)));
        prop_assert_eq!(sum(&first), sum(&second));
    }
}

/// Calls with arbitrary (often wrong) ids, resources, roles and numbers: each either works
/// or returns an error, never panics, and the ledger stays exact.
#[derive(Clone, Debug)]
enum Wild {
    AddAgent(usize, usize),
    RemoveAgent(usize),
    UpdateAgent(usize, usize),
    AddFramework(usize, usize),
    RemoveFramework(usize),
    UpdateFramework(usize, usize),
    Recover(usize, usize, usize, usize),
    Filter(usize, usize, usize, usize, usize),
    Weight(usize, usize),
    Quota(usize, usize, usize),
    Suppress(usize, usize),
    Revive(usize, usize),
    Allocate,
}

const WILD_RESOURCES: [&str; 8] = [
    "cpus:4;mem:1024;ports:[1-10]",
    "cpus:1",
    "cpus(a):2;mem(a):64",
    "mem:0.001",
    "ports:[5-6]",
    "cpus:1e15",
    "gpus:2;cpus:0.01",
    "",
];
const WILD_ROLES: [&str; 6] = ["a", "a/x", "b", "*", "bad//role", ""];
const WILD_NUMBERS: [f64; 6] = [0.0, 1.0, 5.0, -1.0, f64::NAN, f64::INFINITY];

fn wild_gen() -> impl Strategy<Value = Wild> {
    let i = || 0usize..8;
    prop_oneof![
        1 => (i(), i()).prop_map(|(a, r)| Wild::AddAgent(a, r)),
        1 => i().prop_map(Wild::RemoveAgent),
        1 => (i(), i()).prop_map(|(a, r)| Wild::UpdateAgent(a, r)),
        1 => (i(), i()).prop_map(|(f, r)| Wild::AddFramework(f, r)),
        1 => i().prop_map(Wild::RemoveFramework),
        1 => (i(), i()).prop_map(|(f, r)| Wild::UpdateFramework(f, r)),
        1 => (i(), i(), i(), i()).prop_map(|(f, a, r, x)| Wild::Recover(f, a, r, x)),
        1 => (i(), i(), i(), i(), i()).prop_map(|(f, a, r, x, n)| Wild::Filter(f, a, r, x, n)),
        1 => (i(), i()).prop_map(|(r, n)| Wild::Weight(r, n)),
        1 => (i(), i(), i()).prop_map(|(r, g, l)| Wild::Quota(r, g, l)),
        1 => (i(), i()).prop_map(|(f, r)| Wild::Suppress(f, r)),
        1 => (i(), i()).prop_map(|(f, r)| Wild::Revive(f, r)),
        3 => Just(Wild::Allocate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn wrong_calls_get_errors_not_panics(ops in proptest::collection::vec(wild_gen(), 1..40)) {
        let mut allocator = Allocator::new(AllocatorConfig::default()).unwrap();
        let mut totals: BTreeMap<String, Resources> = BTreeMap::new();
        let res = |x: usize| Resources::parse(WILD_RESOURCES[x % 8], "*").unwrap();
        let role = |x: usize| WILD_ROLES[x % 6].to_string();
        let agent = |x: usize| format!("agent-{}", x % 5);
        let fw = |x: usize| format!("fw-{}", x % 4);
        let mut now = Timestamp::default();
        for op in ops {
            match op {
                Wild::AddAgent(a, r) => {
                    if allocator.add_agent(&agent(a), &res(r), &[]).is_ok() {
                        totals.insert(agent(a), res(r));
                    }
                }
                Wild::RemoveAgent(a) => {
                    if allocator.remove_agent(&agent(a)).is_ok() {
                        totals.remove(&agent(a));
                    }
                }
                Wild::UpdateAgent(a, r) => {
                    if allocator.update_agent(&agent(a), &res(r)).is_ok() {
                        totals.insert(agent(a), res(r));
                    }
                }
                Wild::AddFramework(f, r) => {
                    let spec = FrameworkSpec { roles: vec![role(r)], ..FrameworkSpec::default() };
                    let _ = allocator.add_framework(&fw(f), &spec);
                }
                Wild::RemoveFramework(f) => {
                    let _ = allocator.remove_framework(&fw(f));
                }
                Wild::UpdateFramework(f, r) => {
                    let spec = FrameworkSpec {
                        roles: vec![role(r), role(r + 1)],
                        revocable: r % 2 == 0,
                        suppressed_roles: vec![role(r + 2)],
                    };
                    let _ = allocator.update_framework(&fw(f), &spec);
                }
                Wild::Recover(f, a, r, x) => {
                    let _ = allocator.recover_resources(&fw(f), &agent(a), &role(r), &res(x));
                }
                Wild::Filter(f, a, r, x, n) => {
                    let secs = Some(WILD_NUMBERS[n % 6]);
                    let _ = allocator.add_filter(&fw(f), &agent(a), &role(r), &res(x), secs, now);
                }
                Wild::Weight(r, n) => {
                    let _ = allocator.update_weights(&[(role(r), WILD_NUMBERS[n % 6])]);
                }
                Wild::Quota(r, g, l) => {
                    let quota = Quota {
                        guarantees: Quantities::parse(&format!("cpus:{}", g % 3)).unwrap(),
                        limits: Quantities::parse(&format!("cpus:{}", l % 5)).unwrap(),
                    };
                    let _ = allocator.update_quota(&role(r), &quota);
                }
                Wild::Suppress(f, r) => {
                    let _ = allocator.suppress(&fw(f), &[role(r)]);
                }
                Wild::Revive(f, r) => {
                    let _ = allocator.revive(&fw(f), &[role(r)]);
                }
                Wild::Allocate => {
                    now = now.after(Duration::from_secs(1));
                    allocator.allocate(now);
                }
            }
            let allocations = allocator.allocations();
            for (name, total) in &totals {
                let mut sum = allocator.free_resources(name).expect("agent exists");
                for held in allocations.iter().filter(|o| &*o.agent == name.as_str()) {
                    sum += &held.resources.unallocate();
                }
                prop_assert_eq!(&sum, total, "free + allocated must equal the total on {}", name);
            }
        }
    }
}
