//! The allocation round: [`Allocator::allocate`] walks every agent (in a shuffled order) and,
//! for each, the roles and frameworks in hierarchical DRF order, offering each eligible
//! framework what it may take there.
//!
//! Per agent: a guarantee stage (only when some role has quota: roles with unmet guarantees,
//! capped to what they are owed) and then a fair stage (everyone, with headroom held back
//! for unmet guarantees and limits enforced). A framework gets, on that agent, every free
//! resource it is eligible for: unreserved ones, those reserved to its role or an ancestor,
//! revocable ones only with the capability; scalars capped by quota. It is skipped when it
//! is inactive or suppressed in the role, when the result is below the minimum allocatable
//! resources, or when a live filter covers it. The DRF order is a snapshot per agent: keys
//! changed by the agent's offers are refreshed before the next agent, in O(log n) each.
//!
//! Cost: the walk stops as soon as the agent has nothing allocatable left, so a round is
//! about one offer per agent plus the (framework, role) pairs skipped on the way; a skipped
//! pair costs a few comparisons and, if it has filters on the agent, a binary search. An
//! agent whose walk offered nothing gets an `IdleNote` and is skipped by later rounds until
//! its free resources change, an eligibility-widening call is made, headroom moves (only
//! with quota), or the earliest filter that held someone back expires.

use std::ops::ControlFlow;
use std::time::Duration;

use super::agent::{AgentState, IdleNote};
use super::books::{Books, Move, Transfer};
use super::catalog::{Amount, Catalog, NameIdx};
use super::core::{Allocator, Offer};
use super::filters::Timestamp;
use super::roles::{RoleIdx, RoleTree, Step, Visit, ROOT};

/// Which pass over an agent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    /// Roles with unmet guarantees, up to what they are owed.
    Guarantees,
    /// Everyone, within limits and headroom.
    Fair,
}

/// True if some alternative of `minimum` is met by the scalar amounts `amount_of(slot
/// position)` of `agent` (no alternatives means no minimum).
fn meets_minimum(
    minimum: &[Vec<(NameIdx, i64)>],
    agent: &AgentState,
    catalog: &Catalog,
    amount_of: impl Fn(usize) -> i64,
) -> bool {
    if minimum.is_empty() {
        return (0..agent.slots.len()).any(|i| amount_of(i) > 0);
    }
    minimum.iter().any(|alternative| {
        alternative.iter().all(|&(name, wanted)| {
            let mut have = 0i64;
            for (i, &slot) in agent.slots.iter().enumerate() {
                let info = catalog.slots[slot as usize];
                if info.scalar && info.name == name {
                    have += amount_of(i);
                }
            }
            have >= wanted
        })
    })
}

/// How much unreserved, non-revocable `name` `role` may take now under quota.
fn quota_cap(books: &Books, tree: &RoleTree, role: RoleIdx, name: usize, stage: Stage) -> i64 {
    let mut room = i64::MAX;
    for r in tree.chain(role) {
        let account = &books.accounts[r as usize];
        if account.has_quota {
            room = room.min(account.limit_room(name));
        }
    }
    let account = &books.accounts[role as usize];
    let unmet = account.unmet(name);
    let headroom = match stage {
        Stage::Guarantees if super::quota::get_at(&account.guarantee, name) > 0 => unmet,
        Stage::Guarantees => books.surplus(name),
        Stage::Fair => books.surplus(name).saturating_add(unmet),
    };
    room.min(headroom)
}

/// Who asks for an agent's resources, and under which rules: a (framework, role) pair in
/// one stage of the walk.
#[derive(Clone, Copy, Debug)]
struct Claim {
    role: RoleIdx,
    /// The framework accepts revocable resources.
    revocable_ok: bool,
    stage: Stage,
    /// Some role has quota, so unreserved scalars are capped.
    quota: bool,
}

/// Fills `scratch` (one entry per agent slot) with what `claim` may take: scalar
/// thousandths, or 1 for "all of this non-scalar slot". Returns true if anything is in it.
fn offerable(
    agent: &AgentState,
    catalog: &Catalog,
    tree: &RoleTree,
    books: &Books,
    claim: Claim,
    scratch: &mut Vec<i64>,
) -> bool {
    let Claim {
        role,
        revocable_ok,
        stage,
        quota,
    } = claim;
    scratch.clear();
    let mut any = false;
    for (free, &slot) in agent.free.iter().zip(&agent.slots) {
        let info = catalog.slots[slot as usize];
        let eligible = !free.is_empty()
            && (revocable_ok || !info.revocable)
            && info.reservation.is_none_or(|res| tree.is_within(role, res));
        let v = if !eligible {
            0
        } else if !info.scalar {
            1
        } else if quota && info.reservation.is_none() && !info.revocable {
            let cap = quota_cap(books, tree, role, info.name as usize, stage);
            let have = free.scalar();
            if info.divisible || cap >= have {
                have.min(cap)
            } else {
                // Used whole or not at all.
                0
            }
        } else {
            free.scalar()
        };
        any |= v > 0;
        scratch.push(v);
    }
    any
}

/// The scalar amounts of `wanted` (aligned with the agent's slots), with non-scalar slots
/// counted as 0: what [`meets_minimum`] measures an offer by.
fn wanted_scalar(catalog: &Catalog, agent: &AgentState, wanted: &[i64], i: usize) -> i64 {
    if catalog.slots[agent.slots[i] as usize].scalar {
        wanted[i]
    } else {
        0
    }
}

/// What an offer of `wanted` (aligned with `free`, see [`offerable`]) holds: the wanted
/// thousandths of a scalar, all of a non-scalar slot, nothing of an unwanted slot.
fn held_amounts(free: &[Amount], wanted: &[i64]) -> Vec<Amount> {
    free.iter()
        .zip(wanted)
        .map(|(free, &want)| match free {
            _ if want == 0 => free.empty_like(),
            Amount::Scalar(_) => Amount::Scalar(want),
            other => other.clone(),
        })
        .collect()
}

/// Whether the walk descends into `role` in `stage`: not when no framework sits in it, nor,
/// in the guarantee stage, when it has no unmet guarantee.
fn role_step(tree: &RoleTree, books: &Books, role: RoleIdx, stage: Stage) -> Step {
    if tree.nodes[role as usize].frameworks.len() == 0 {
        return Step::Skip;
    }
    if stage == Stage::Guarantees && !books.accounts[role as usize].any_unmet() {
        return Step::Skip;
    }
    Step::Continue
}

/// One allocation round's running state, shared by the walks over its agents.
struct Round {
    now: Timestamp,
    /// Some role has quota.
    quota: bool,
    /// What the current (framework, role) may take on the current agent (see [`offerable`]).
    scratch: Vec<i64>,
    offers: Vec<Offer>,
}

/// True if `refused` (a filter) covers everything in `scratch`.
fn covered(refused: &[Amount], scratch: &[i64], free: &[Amount]) -> bool {
    refused
        .iter()
        .zip(scratch.iter().zip(free))
        .all(|(r, (&want, free))| {
            want == 0
                || match r {
                    Amount::Scalar(have) => *have >= want,
                    other => other.contains(free),
                }
        })
}

impl Allocator {
    /// Runs one allocation round at time `now` and returns the offers made. Offered resources
    /// count as allocated until recovered.
    pub fn allocate(&mut self, now: Timestamp) -> Vec<Offer> {
        self.books
            .refresh_keys(&mut self.tree, &mut self.frameworks);
        let order = self.agent_order();
        self.rounds += 1;
        let mut round = Round {
            now,
            quota: !self.books.quota_roles.is_empty(),
            scratch: Vec::new(),
            offers: Vec::with_capacity(order.len()),
        };
        for index in order {
            let Some(mut agent) = self.agents[index as usize].take() else {
                continue;
            };
            let still_idle = agent.idle.is_some_and(|note| {
                note.eligibility_gen == self.eligibility_gen
                    && note.headroom_gen == self.books.headroom_gen
                    && now < note.until
            });
            let allocatable = agent.active
                && !still_idle
                && meets_minimum(&self.min_allocatable, &agent, &self.catalog, |i| {
                    agent.free[i].scalar()
                });
            if allocatable {
                let before = round.offers.len();
                let mut blocked_until = Timestamp(Duration::MAX);
                for stage in [Stage::Guarantees, Stage::Fair] {
                    if stage == Stage::Guarantees && !round.quota {
                        continue;
                    }
                    self.allocate_on(&mut agent, stage, &mut round, &mut blocked_until);
                }
                if round.offers.len() == before {
                    agent.idle = Some(IdleNote {
                        eligibility_gen: self.eligibility_gen,
                        headroom_gen: self.books.headroom_gen,
                        until: blocked_until,
                    });
                }
            }
            self.agents[index as usize] = Some(agent);
            self.books
                .refresh_keys(&mut self.tree, &mut self.frameworks);
        }
        round.offers
    }

    /// Live agents in this round's order: a Fisher-Yates shuffle seeded by the configured
    /// seed and the round number, so that no agent is always first.
    fn agent_order(&self) -> Vec<u32> {
        let mut order = self.live_agents.clone();
        let mut state = self.shuffle_seed ^ self.rounds.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for i in (1..order.len()).rev() {
            // splitmix64
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let j = (z % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        order
    }

    /// One stage of the walk over one agent: offers each (framework, role) in DRF order
    /// what it may take, until the agent has nothing allocatable left; `blocked_until` is
    /// lowered to the expiry of any filter that held a framework back.
    fn allocate_on(
        &mut self,
        agent: &mut AgentState,
        stage: Stage,
        round: &mut Round,
        blocked_until: &mut Timestamp,
    ) {
        let Allocator {
            tree,
            books,
            frameworks,
            catalog,
            min_allocatable,
            ..
        } = self;
        let tree: &RoleTree = tree;
        let Round {
            now,
            quota,
            scratch,
            offers,
        } = round;
        let _: ControlFlow<()> = tree.visit(ROOT, &mut |visit| match visit {
            Visit::Role(role) => role_step(tree, books, role, stage),
            Visit::Framework(role, fw_index) => {
                let fw = frameworks[fw_index as usize]
                    .as_mut()
                    .expect("sorters only hold live frameworks");
                let Some(epoch) = fw.offer_epoch(role) else {
                    return Step::Continue;
                };
                if *quota {
                    books.refresh_required(tree);
                }
                let claim = Claim {
                    role,
                    revocable_ok: fw.revocable,
                    stage,
                    quota: *quota,
                };
                if !offerable(agent, catalog, tree, books, claim, scratch)
                    || !meets_minimum(min_allocatable, agent, catalog, |i| {
                        wanted_scalar(catalog, agent, scratch, i)
                    })
                {
                    return Step::Continue;
                }
                if !agent.filters.is_empty() {
                    let until = agent.filters.covered_until(
                        fw_index,
                        role,
                        epoch,
                        *now,
                        agent.free_print,
                        |refused| covered(refused, scratch, &agent.free),
                    );
                    if let Some(until) = until {
                        *blocked_until = (*blocked_until).min(until);
                        return Step::Continue;
                    }
                }
                let held = held_amounts(&agent.free, scratch);
                let transfer = Transfer {
                    direction: Move::Allocate,
                    framework: fw_index,
                    role,
                    held: &held,
                };
                books.move_held(transfer, agent, fw, catalog, tree);
                let role_name = tree.shared_name(role);
                offers.push(Offer {
                    framework: fw.id.clone(),
                    agent: agent.id.clone(),
                    resources: agent.render(&held, catalog, Some(&role_name)),
                    role: role_name,
                });
                if meets_minimum(min_allocatable, agent, catalog, |i| agent.free[i].scalar()) {
                    Step::Continue
                } else {
                    Step::Stop
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::RangeSet;

    fn ports(from: u64, to: u64) -> Amount {
        Amount::Ranges(RangeSet::from_canonical([(from, to)].into_iter()))
    }

    #[test]
    fn an_offer_holds_wanted_scalars_and_whole_non_scalar_slots() {
        let free = [
            Amount::Scalar(4000),
            ports(31000, 31010),
            Amount::Scalar(1000),
        ];
        assert_eq!(
            held_amounts(&free, &[2000, 1, 0]),
            vec![Amount::Scalar(2000), ports(31000, 31010), Amount::Scalar(0)]
        );
        assert_eq!(
            held_amounts(&free, &[0, 0, 0]),
            vec![
                Amount::Scalar(0),
                Amount::Ranges(RangeSet::new()),
                Amount::Scalar(0)
            ]
        );
    }

    #[test]
    fn a_filter_covers_an_offer_only_if_it_refused_at_least_as_much() {
        let free = [Amount::Scalar(4000), ports(31000, 31010)];
        let refused = [Amount::Scalar(3000), ports(31000, 31010)];
        assert!(covered(&refused, &[3000, 1], &free));
        assert!(covered(&refused, &[2000, 0], &free));
        assert!(
            !covered(&refused, &[3001, 1], &free),
            "more cpus than refused"
        );
        let fewer_ports = [Amount::Scalar(3000), ports(31000, 31005)];
        assert!(
            !covered(&fewer_ports, &[1000, 1], &free),
            "ports not refused"
        );
        assert!(covered(&fewer_ports, &[1000, 0], &free), "ports not wanted");
    }
}
