//! The walk over one agent ([`Allocator::walk_agent`], called by a round, see `round`): the
//! roles and frameworks in hierarchical DRF order, offering each eligible framework what it
//! may take there.
//!
//! Per agent: a guarantee stage (only when some role has an unmet guarantee: those roles,
//! capped to what they are owed) and then a fair stage (everyone, with headroom held back
//! for unmet guarantees and limits enforced). A framework gets, on that agent, every free
//! resource it is eligible for: unreserved ones, those reserved to its role or an ancestor,
//! revocable ones only with the capability; scalars capped by quota. It is skipped when it
//! is inactive or suppressed in the role, when the result is below the minimum allocatable
//! resources, or when a live filter covers it. The DRF order is a snapshot per agent: keys
//! changed by the agent's offers are refreshed before the next agent, in O(log n) each.
//!
//! Cost: the walk stops as soon as the agent has nothing allocatable left, so a round is
//! about one offer per agent plus the (framework, role) pairs skipped on the way. A skipped
//! pair costs a few comparisons and, if it has filters on the agent, a binary search; a
//! filter that refused exactly what is free is found before the pair's claim (quota caps
//! included) is computed. A role is passed over as a whole when what it could take there at
//! most (unreserved free resources plus its reservations) is below the minimum, so an agent
//! whose unreserved part is gone is not offered to every framework of other roles. An
//! agent whose walk offered nothing gets an `IdleNote` and is left out of later rounds (see
//! `dirty`) until its free resources change, an eligibility-widening call is made, headroom
//! moves (only with quota), or the earliest filter that held someone back expires.

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
    capped: &mut bool,
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
            // Quota held part of it back: what a release elsewhere may change.
            *capped |= cap < have;
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
pub(crate) struct Round {
    pub(crate) now: Timestamp,
    /// Some role has quota.
    pub(crate) quota: bool,
    /// What the current (framework, role) may take on the current agent (see [`offerable`]).
    pub(crate) scratch: Vec<i64>,
    pub(crate) offers: Vec<Offer>,
    /// Walk agents even where an idle note says nothing would be offered (a full
    /// recomputation).
    pub(crate) ignore_notes: bool,
    /// A quota cap held back part of some claim on the current agent.
    pub(crate) capped: bool,
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

/// True if the unreserved free resources of `agent` (revocable ones included) meet the
/// minimum: then any role may find something there, whatever its reservations.
fn unreserved_meets_minimum(
    minimum: &[Vec<(NameIdx, i64)>],
    agent: &AgentState,
    catalog: &Catalog,
) -> bool {
    meets_minimum(minimum, agent, catalog, |i| {
        if catalog.slots[agent.slots[i] as usize].reservation.is_none() {
            agent.free[i].scalar()
        } else {
            0
        }
    })
}

/// An upper bound of what any framework of `role` may take on `agent`: the free resources
/// unreserved or reserved to `role` or an ancestor (revocable ones included, quota
/// ignored). When it is below the minimum, no framework of the role can be offered
/// anything there.
fn role_may_take(
    minimum: &[Vec<(NameIdx, i64)>],
    agent: &AgentState,
    catalog: &Catalog,
    tree: &RoleTree,
    role: RoleIdx,
) -> bool {
    meets_minimum(minimum, agent, catalog, |i| {
        match catalog.slots[agent.slots[i] as usize].reservation {
            Some(res) if !tree.is_within(role, res) => 0,
            _ => agent.free[i].scalar(),
        }
    })
}

/// The parts of the allocator a walk over one agent reads and changes.
struct Walk<'a> {
    tree: &'a RoleTree,
    books: &'a mut Books,
    frameworks: &'a mut [Option<super::framework::FrameworkState>],
    catalog: &'a Catalog,
    min_allocatable: &'a [Vec<(NameIdx, i64)>],
}

impl Allocator {
    /// Walks agent `index` (if live, active, with something allocatable and no idle note
    /// that still holds), offering its resources in DRF order; notes it idle if nothing was
    /// offered. Sort keys are refreshed afterwards.
    pub(crate) fn walk_agent(&mut self, index: u32, round: &mut Round) {
        let Allocator {
            agents,
            tree,
            books,
            frameworks,
            catalog,
            min_allocatable,
            eligibility_gen,
            ..
        } = self;
        let Some(agent) = agents.get_mut(index as usize).and_then(Option::as_mut) else {
            return;
        };
        let still_idle = !round.ignore_notes
            && agent.idle.is_some_and(|note| {
                note.eligibility_gen == *eligibility_gen
                    && note.headroom_gen.is_none_or(|g| g == books.headroom_gen)
                    && round.now < note.until
            });
        let allocatable = agent.active
            && !still_idle
            && meets_minimum(min_allocatable, agent, catalog, |i| agent.free[i].scalar());
        if allocatable {
            let before = round.offers.len();
            round.capped = false;
            let mut blocked_until = Timestamp(Duration::MAX);
            let mut walk = Walk {
                tree,
                books,
                frameworks,
                catalog,
                min_allocatable,
            };
            for stage in [Stage::Guarantees, Stage::Fair] {
                if stage == Stage::Guarantees {
                    if !round.quota {
                        continue;
                    }
                    walk.books.refresh_required(walk.tree);
                    if walk.books.unmet_pairs == 0 {
                        continue;
                    }
                }
                walk.allocate_on(agent, stage, round, &mut blocked_until);
            }
            if round.offers.len() == before {
                // Without a quota cap in the way, more headroom would change nothing here.
                let headroom_gen = round.capped.then_some(books.headroom_gen);
                agent.idle = Some(IdleNote {
                    eligibility_gen: *eligibility_gen,
                    headroom_gen,
                    until: blocked_until,
                });
                books
                    .dirty
                    .note_idle(agent, blocked_until, headroom_gen.is_some());
            }
        }
        books.refresh_keys(tree, frameworks);
    }
}

impl Walk<'_> {
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
        let Walk {
            tree,
            books,
            frameworks,
            catalog,
            min_allocatable,
        } = self;
        let tree: &RoleTree = tree;
        let Round {
            now,
            quota,
            scratch,
            offers,
            capped,
            ..
        } = round;
        // Unreserved free resources meet the minimum: no role needs the reservation bound.
        // (Without reservations, the walk goes on only while they do.)
        let reserved = agent
            .slots
            .iter()
            .any(|&s| catalog.slots[s as usize].reservation.is_some());
        let mut open = !reserved || unreserved_meets_minimum(min_allocatable, agent, catalog);
        let _: ControlFlow<()> = tree.visit(ROOT, &mut |visit| match visit {
            Visit::Role(role) => match role_step(tree, books, role, stage) {
                Step::Continue
                    if !open && !role_may_take(min_allocatable, agent, catalog, tree, role) =>
                {
                    Step::Skip
                }
                step => step,
            },
            Visit::Framework(role, fw_index) => {
                let fw = frameworks[fw_index as usize]
                    .as_mut()
                    .expect("sorters only hold live frameworks");
                let Some(epoch) = fw.offer_epoch(role) else {
                    return Step::Continue;
                };
                if !agent.filters.is_empty() {
                    // A filter that refused exactly what is free covers whatever the claim
                    // could be: decided before the claim is computed.
                    if let Some(until) = agent.filters.refused_all_until(
                        fw_index,
                        role,
                        epoch,
                        *now,
                        agent.free_print,
                    ) {
                        *blocked_until = (*blocked_until).min(until);
                        return Step::Continue;
                    }
                }
                if *quota {
                    books.refresh_required(tree);
                }
                let claim = Claim {
                    role,
                    revocable_ok: fw.revocable,
                    stage,
                    quota: *quota,
                };
                if !offerable(agent, catalog, tree, books, claim, scratch, capped)
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
                    open = !reserved || unreserved_meets_minimum(min_allocatable, agent, catalog);
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
