//! Differential property test of the DRF order: the allocator keeps its role and framework
//! orders incrementally (re-keying only what changed); a naive reference here recomputes
//! every share and sorts from scratch for every agent. On a cluster of identical free agents
//! the number of agents each framework gets does not depend on the agent order, so the two
//! must agree exactly, whatever the role tree, weights and prior allocations.

use std::collections::BTreeMap;
use std::time::Duration;

use meso_allocator::{Allocator, AllocatorConfig, FrameworkSpec, Timestamp};
use meso_api::Resources;
use proptest::prelude::*;

/// Candidate roles, parents before children (so role ids follow this order).
const ROLES: [&str; 6] = ["a", "a/x", "a/y", "b", "b/z", "c"];

fn parent(role: usize) -> Option<usize> {
    let name = ROLES[role];
    name.rsplit_once('/').map(|(p, _)| {
        ROLES
            .iter()
            .position(|r| *r == p)
            .expect("parents are listed")
    })
}

/// Weighted dominant share, computed like the allocator: largest fraction over weight.
fn share(alloc: &[i64; 2], total: &[i64; 2], weight: f64) -> f64 {
    let mut s = 0.0f64;
    for (&a, &t) in alloc.iter().zip(total) {
        if a > 0 && t > 0 {
            s = s.max(a as f64 / t as f64);
        }
    }
    s / weight
}

fn key(share: f64, id: u32) -> (u64, u32) {
    (share.max(0.0).to_bits(), id)
}

struct Reference {
    weights: Vec<f64>,
    framework_role: Vec<usize>,
    framework_alloc: Vec<[i64; 2]>,
    own_alloc: Vec<[i64; 2]>,
    subtree_alloc: Vec<[i64; 2]>,
    total: [i64; 2],
}

impl Reference {
    fn give(&mut self, fw: usize, amount: [i64; 2]) {
        let add = |into: &mut [i64; 2]| {
            for (v, a) in into.iter_mut().zip(amount) {
                *v += a;
            }
        };
        let role = self.framework_role[fw];
        add(&mut self.framework_alloc[fw]);
        add(&mut self.own_alloc[role]);
        let mut r = Some(role);
        while let Some(cur) = r {
            add(&mut self.subtree_alloc[cur]);
            r = parent(cur);
        }
    }

    /// The framework the next agent goes to: depth-first through children (and the role's
    /// own frameworks, which sort after children on equal shares) by share.
    fn pick(&self, node: Option<usize>) -> Option<usize> {
        // Members: (key, Some(child role) | None for OWN).
        let mut members: Vec<((u64, u32), Option<usize>)> = (0..ROLES.len())
            .filter(|&r| parent(r) == node)
            .map(|r| {
                let s = share(&self.subtree_alloc[r], &self.total, self.weights[r]);
                (key(s, r as u32 + 1), Some(r))
            })
            .collect();
        if let Some(role) = node {
            let s = share(&self.own_alloc[role], &self.total, self.weights[role]);
            members.push((key(s, u32::MAX), None));
        }
        members.sort();
        for (_, member) in members {
            match member {
                Some(child) => {
                    if let Some(fw) = self.pick(Some(child)) {
                        return Some(fw);
                    }
                }
                None => {
                    let role = node.expect("only roles have an own entry");
                    let mut fws: Vec<((u64, u32), usize)> = (0..self.framework_role.len())
                        .filter(|&f| self.framework_role[f] == role)
                        .map(|f| {
                            (
                                key(share(&self.framework_alloc[f], &self.total, 1.0), f as u32),
                                f,
                            )
                        })
                        .collect();
                    fws.sort();
                    if let Some(&(_, f)) = fws.first() {
                        return Some(f);
                    }
                }
            }
        }
        None
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn incremental_drf_matches_a_full_recomputation(
        weights in proptest::collection::vec(prop_oneof![Just(1.0f64), Just(2.0), Just(0.5), Just(3.0)], 6),
        framework_roles in proptest::collection::vec(0usize..6, 1..6),
        used in proptest::collection::vec((0usize..6, 0u32..3), 0..6),
        free_agents in 1usize..40,
    ) {
        let mut allocator = Allocator::new(AllocatorConfig::default()).unwrap();
        // Create the roles in ROLES order so their ids match the reference's.
        let weight_list: Vec<(String, f64)> =
            ROLES.iter().zip(&weights).map(|(r, w)| (r.to_string(), *w)).collect();
        allocator.update_weights(&weight_list).unwrap();
        for (f, &role) in framework_roles.iter().enumerate() {
            let spec = FrameworkSpec { roles: vec![ROLES[role].to_string()], ..FrameworkSpec::default() };
            allocator.add_framework(&format!("fw-{f}"), &spec).unwrap();
        }
        let mut reference = Reference {
            weights: weights.clone(),
            framework_role: framework_roles.clone(),
            framework_alloc: vec![[0, 0]; framework_roles.len()],
            own_alloc: vec![[0, 0]; ROLES.len()],
            subtree_alloc: vec![[0, 0]; ROLES.len()],
            total: [0, 0],
        };
        // Agents already fully used by some framework (1 cpu, 100 mem each).
        let agent = Resources::parse("cpus:1;mem:100", "*").unwrap();
        let unit = [1000i64, 100_000];
        let mut n = 0;
        for (f, count) in used {
            let f = f % framework_roles.len();
            for _ in 0..count {
                let user = (format!("fw-{f}"), ROLES[framework_roles[f]].to_string(), agent.clone());
                allocator.add_agent(&format!("used-{n}"), &agent, &[user]).unwrap();
                n += 1;
                reference.give(f, unit);
                reference.total[0] += unit[0];
                reference.total[1] += unit[1];
            }
        }
        for i in 0..free_agents {
            allocator.add_agent(&format!("free-{i}"), &agent, &[]).unwrap();
            reference.total[0] += unit[0];
            reference.total[1] += unit[1];
        }
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for _ in 0..free_agents {
            let fw = reference.pick(None).expect("there is at least one framework");
            reference.give(fw, unit);
            *expected.entry(format!("fw-{fw}")).or_default() += 1;
        }
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for offer in allocator.allocate(Timestamp(Duration::from_secs(1))) {
            *got.entry(offer.framework.to_string()).or_default() += 1;
        }
        prop_assert_eq!(got, expected);
    }
}
