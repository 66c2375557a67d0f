//! An incremental round ([`Allocator::allocate`], which walks only the agents that changed)
//! makes exactly the offers of a full round ([`Allocator::allocate_full`], which walks every
//! agent): two allocators get the same random sequence of calls (agents and frameworks
//! coming and going, offers declined with filters of random lengths, resources recovered,
//! suppress and revive, activity, weights, quota with guarantees and limits, agents resized,
//! time passing), one answering rounds incrementally and the other in full, and every round
//! must give the same offers in the same order.

use std::time::Duration;

use meso_allocator::{
    Allocator, AllocatorConfig, FrameworkSpec, Offer, Quantities, Quota, Timestamp,
};
use meso_api::Resources;
use proptest::prelude::*;

const ROLES: [&str; 4] = ["a", "a/x", "b", "c"];

#[derive(Clone, Debug)]
enum Op {
    Allocate,
    AddAgent(u32, u32, Option<usize>),
    RemoveAgent(usize),
    ResizeAgent(usize, u32),
    AddFramework(usize, bool),
    RemoveFramework(usize),
    Recover(usize),
    Decline(usize, u64),
    /// Filters part of an offer (its cpus only), recovers all of it.
    DeclineCpus(usize, u64),
    Suppress(usize),
    Revive(usize),
    Deactivate(usize),
    Activate(usize),
    DeactivateAgent(usize),
    ActivateAgent(usize),
    Weight(usize, u32),
    Guarantee(usize, u32),
    Advance(u64),
}

fn op_gen() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => Just(Op::Allocate),
        2 => (1u32..8, 64u32..2048, proptest::option::of(0usize..4))
            .prop_map(|(c, m, r)| Op::AddAgent(c, m, r)),
        1 => (0usize..16).prop_map(Op::RemoveAgent),
        1 => (0usize..16, 1u32..10).prop_map(|(i, c)| Op::ResizeAgent(i, c)),
        1 => (0usize..4, any::<bool>()).prop_map(|(r, s)| Op::AddFramework(r, s)),
        1 => (0usize..8).prop_map(Op::RemoveFramework),
        3 => (0usize..64).prop_map(Op::Recover),
        8 => (0usize..64, 0u64..30).prop_map(|(i, s)| Op::Decline(i, s)),
        2 => (0usize..64, 1u64..30).prop_map(|(i, s)| Op::DeclineCpus(i, s)),
        1 => (0usize..8).prop_map(Op::Suppress),
        1 => (0usize..8).prop_map(Op::Revive),
        1 => (0usize..8).prop_map(Op::Deactivate),
        1 => (0usize..8).prop_map(Op::Activate),
        1 => (0usize..16).prop_map(Op::DeactivateAgent),
        1 => (0usize..16).prop_map(Op::ActivateAgent),
        1 => (0usize..4, 1u32..4).prop_map(|(r, w)| Op::Weight(r, w)),
        1 => (0usize..4, 0u32..6).prop_map(|(r, g)| Op::Guarantee(r, g)),
        6 => (1u64..15).prop_map(Op::Advance),
    ]
}

fn agent_resources(cpus: u32, mem: u32, reserved: Option<usize>) -> Resources {
    let mut text = format!("cpus:{cpus};mem:{mem};ports:[1000-1010]");
    if let Some(role) = reserved {
        let role = ROLES[role];
        text.push_str(&format!(";cpus({role}):2;mem({role}):64"));
    }
    Resources::parse(&text, "*").expect("generated resources parse")
}

/// Both allocators, fed the same calls; every call must succeed or fail alike.
struct Pair {
    incremental: Allocator,
    full: Allocator,
}

impl Pair {
    fn both<T: PartialEq + std::fmt::Debug>(&mut self, call: impl Fn(&mut Allocator) -> T) -> T {
        let a = call(&mut self.incremental);
        let b = call(&mut self.full);
        assert_eq!(a, b, "the two allocators answered a call differently");
        a
    }
}

fn show(offers: &[Offer]) -> Vec<String> {
    offers
        .iter()
        .map(|o| format!("{}@{}/{}={}", o.framework, o.agent, o.role, o.resources))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn incremental_rounds_make_the_offers_of_full_rounds(
        seed in any::<u64>(),
        start_agents in proptest::collection::vec((1u32..8, 64u32..2048, proptest::option::of(0usize..4)), 1..8),
        start_frameworks in proptest::collection::vec((0usize..4, any::<bool>()), 1..5),
        quota in proptest::bool::weighted(0.4),
        limit_b in proptest::option::of(0u32..8),
        ops in proptest::collection::vec(op_gen(), 1..80),
    ) {
        let config = AllocatorConfig { shuffle_seed: seed, ..AllocatorConfig::default() };
        let mut pair = Pair {
            incremental: Allocator::new(config.clone()).unwrap(),
            full: Allocator::new(config).unwrap(),
        };
        // Without quota, declines and recoveries move no headroom, so most rounds are
        // incremental; with it, headroom moves within rounds too.
        if let Some(limit) = limit_b.filter(|_| quota) {
            let quota = Quota {
                guarantees: Quantities::default(),
                limits: Quantities::parse(&format!("cpus:{limit}")).unwrap(),
            };
            pair.both(|a| a.update_quota("b", &quota).is_ok());
        }
        let mut agents: Vec<String> = Vec::new();
        let mut next_agent = 0usize;
        let mut frameworks: Vec<String> = Vec::new();
        let mut next_framework = 0usize;
        let add_framework = |pair: &mut Pair, id: &str, role: usize, second: bool| {
            let mut roles = vec![ROLES[role].to_string()];
            if second {
                roles.push(ROLES[(role + 2) % ROLES.len()].to_string());
            }
            let spec = FrameworkSpec { roles, revocable: false, suppressed_roles: Vec::new() };
            pair.both(|a| a.add_framework(id, &spec).is_ok());
        };
        for &(role, second) in &start_frameworks {
            let id = format!("fw-{next_framework}");
            next_framework += 1;
            add_framework(&mut pair, &id, role, second);
            frameworks.push(id);
        }
        for &(cpus, mem, reserved) in &start_agents {
            let id = format!("agent-{next_agent}");
            next_agent += 1;
            let total = agent_resources(cpus, mem, reserved);
            pair.both(|a| a.add_agent(&id, &total, &[]).is_ok());
            agents.push(id);
        }
        let mut now = Timestamp::default();
        let mut held: Vec<Offer> = Vec::new();
        for op in ops {
            match op {
                Op::Allocate => {
                    let a = pair.incremental.allocate(now);
                    let b = pair.full.allocate_full(now);
                    prop_assert_eq!(show(&a), show(&b), "an incremental round differs from a full one");
                    held.extend(a);
                }
                Op::AddAgent(cpus, mem, reserved) => {
                    let id = format!("agent-{next_agent}");
                    next_agent += 1;
                    let total = agent_resources(cpus, mem, reserved);
                    pair.both(|a| a.add_agent(&id, &total, &[]).is_ok());
                    agents.push(id);
                }
                Op::RemoveAgent(i) if !agents.is_empty() => {
                    let id = agents.swap_remove(i % agents.len());
                    pair.both(|a| a.remove_agent(&id).is_ok());
                    held.retain(|o| *o.agent != *id);
                }
                Op::ResizeAgent(i, cpus) if !agents.is_empty() => {
                    let id = agents[i % agents.len()].clone();
                    let total = agent_resources(cpus, 2048, None);
                    // Refused (and changing nothing) when less than what is held.
                    pair.both(|a| a.update_agent(&id, &total).is_ok());
                }
                Op::AddFramework(role, second) => {
                    let id = format!("fw-{next_framework}");
                    next_framework += 1;
                    add_framework(&mut pair, &id, role, second);
                    frameworks.push(id);
                }
                Op::RemoveFramework(i) if !frameworks.is_empty() => {
                    let id = frameworks.swap_remove(i % frameworks.len());
                    pair.both(|a| a.remove_framework(&id).is_ok());
                    held.retain(|o| *o.framework != *id);
                }
                Op::Recover(i) if !held.is_empty() => {
                    let o = held.swap_remove(i % held.len());
                    pair.both(|a| a.recover_resources(&o.framework, &o.agent, &o.role, &o.resources).is_ok());
                }
                Op::Decline(i, secs) if !held.is_empty() => {
                    let o = held.swap_remove(i % held.len());
                    pair.both(|a| a.decline(&o, Some(secs as f64), now).is_ok());
                }
                Op::DeclineCpus(i, secs) if !held.is_empty() => {
                    let o = held.swap_remove(i % held.len());
                    let cpus: Resources = o.resources.iter().filter(|r| &*r.name == "cpus").cloned().collect();
                    pair.both(|a| {
                        a.recover_resources(&o.framework, &o.agent, &o.role, &o.resources).is_ok()
                            && a.add_filter(&o.framework, &o.agent, &o.role, &cpus, Some(secs as f64), now).is_ok()
                    });
                }
                Op::Suppress(i) if !frameworks.is_empty() => {
                    let id = &frameworks[i % frameworks.len()];
                    pair.both(|a| a.suppress(id, &[]).is_ok());
                }
                Op::Revive(i) if !frameworks.is_empty() => {
                    let id = &frameworks[i % frameworks.len()];
                    pair.both(|a| a.revive(id, &[]).is_ok());
                }
                Op::Deactivate(i) if !frameworks.is_empty() => {
                    let id = &frameworks[i % frameworks.len()];
                    pair.both(|a| a.deactivate_framework(id).is_ok());
                }
                Op::Activate(i) if !frameworks.is_empty() => {
                    let id = &frameworks[i % frameworks.len()];
                    pair.both(|a| a.activate_framework(id).is_ok());
                }
                Op::DeactivateAgent(i) if !agents.is_empty() => {
                    let id = &agents[i % agents.len()];
                    pair.both(|a| a.deactivate_agent(id).is_ok());
                }
                Op::ActivateAgent(i) if !agents.is_empty() => {
                    let id = &agents[i % agents.len()];
                    pair.both(|a| a.activate_agent(id).is_ok());
                }
                Op::Weight(r, w) => {
                    let weights = vec![(ROLES[r].to_string(), f64::from(w))];
                    pair.both(|a| a.update_weights(&weights).is_ok());
                }
                Op::Guarantee(r, g) if quota => {
                    let quota = Quota {
                        guarantees: if g == 0 {
                            Quantities::default()
                        } else {
                            Quantities::parse(&format!("cpus:{g};mem:{}", g * 128)).unwrap()
                        },
                        limits: Quantities::default(),
                    };
                    pair.both(|a| a.update_quota(ROLES[r], &quota).is_ok());
                }
                Op::Advance(secs) => now = now.after(Duration::from_secs(secs)),
                _ => {}
            }
        }
        // What is held in the end is the same too.
        let held_a = show(&pair.incremental.allocations());
        let held_b = show(&pair.full.allocations());
        prop_assert_eq!(held_a, held_b);
    }
}
