//! A round: which agents it walks and in which order.
//!
//! [`Allocator::allocate`] is incremental: it walks only the agents the dirty sets name
//! (`dirty`: agents whose free resources changed, new or re-activated agents, agents whose
//! blocking filters expired, agents held back by quota when headroom widened), or every
//! agent when eligibility widened since the last round. [`Allocator::allocate_full`] walks every live agent. Both walk in the same
//! order: by a per-round pseudo-random key of each agent (seeded by the configured seed and
//! the round number, so that no agent is always first), so the agents an incremental round
//! walks come in the same relative order as in a full round, and both make the same offers.
//!
//! Nothing a round does can make an agent noted idle offerable again: a round only
//! allocates, and an allocation only narrows what quota lets roles take elsewhere (free
//! unreserved resources fall at least as much as unmet guarantees; consumption toward
//! limits grows). So the generations stay as they were during a round, and the idle notes
//! of agents not walked stay true (checked in debug builds).
//!
//! Cost: an incremental round is O(d log d) for the d agents it walks (plus their walks);
//! a full round is O(n log n) over all n agents.

use super::allocate::Round;
use super::core::{Allocator, Offer};
use super::filters::Timestamp;

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Allocator {
    /// Runs one allocation round at time `now` and returns the offers made. Offered resources
    /// count as allocated until recovered. Walks only the agents that changed since the last
    /// round (see the module docs); the offers are those of [`Allocator::allocate_full`].
    pub fn allocate(&mut self, now: Timestamp) -> Vec<Offer> {
        self.run_round(now, false)
    }

    /// Runs one allocation round at time `now` that walks every live agent, idle notes
    /// ignored: a full recomputation, what an incremental round is checked against.
    pub fn allocate_full(&mut self, now: Timestamp) -> Vec<Offer> {
        self.run_round(now, true)
    }

    /// The place of agent `index` in this round's order.
    fn order_key(&self, index: u32) -> (u64, u32) {
        let seed = self.shuffle_seed ^ self.rounds.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (
            mix(seed ^ mix(u64::from(index).wrapping_add(0x9E37_79B9_7F4A_7C15))),
            index,
        )
    }

    /// Every live agent, in this round's order.
    fn every_agent(&self) -> Vec<(u64, u32)> {
        let mut order: Vec<(u64, u32)> = self
            .live_agents
            .iter()
            .map(|&i| self.order_key(i))
            .collect();
        order.sort_unstable();
        order
    }

    fn run_round(&mut self, now: Timestamp, full: bool) -> Vec<Offer> {
        self.books
            .refresh_keys(&mut self.tree, &mut self.frameworks);
        self.rounds += 1;
        let gens = (self.eligibility_gen, self.books.headroom_gen);
        let last = self.books.dirty.round_gens;
        let every = full || last.is_none_or(|(eligibility, _)| eligibility != gens.0);
        let headroom_moved = every || last.is_some_and(|(_, headroom)| headroom != gens.1);
        let mut due = Vec::new();
        self.books
            .dirty
            .take_due(now, headroom_moved, &mut self.agents, &mut due);
        let order = if every {
            self.every_agent()
        } else {
            let mut order: Vec<(u64, u32)> = due.iter().map(|&i| self.order_key(i)).collect();
            order.sort_unstable();
            order.dedup();
            order
        };
        let mut round = Round {
            now,
            quota: !self.books.quota_roles.is_empty(),
            scratch: Vec::new(),
            offers: Vec::with_capacity(order.len()),
            ignore_notes: full,
            capped: false,
        };
        for (_, index) in order {
            self.walk_agent(index, &mut round);
        }
        debug_assert_eq!(
            (self.eligibility_gen, self.books.headroom_gen),
            gens,
            "a round moves no generation"
        );
        self.books.dirty.round_gens = Some(gens);
        round.offers
    }
}
