//! A round: which agents it walks and in which order.
//!
//! [`Allocator::allocate`] is incremental: it walks only the agents the dirty sets name
//! (`dirty`: agents whose free resources changed, new or re-activated agents, agents whose
//! blocking filters expired), or every agent when eligibility or headroom moved since the
//! last round. [`Allocator::allocate_full`] walks every live agent. Both walk in the same
//! order: by a per-round pseudo-random key of each agent (seeded by the configured seed and
//! the round number, so that no agent is always first), so the agents an incremental round
//! walks come in the same relative order as in a full round, and both make the same offers.
//!
//! Headroom can move during a round (with quota, every offer moves it), which voids the idle
//! notes of agents not yet reached; an incremental round then widens to every agent after
//! the current one in the order, as a full round would walk them.
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

    /// Runs one allocation round at time `now` that walks every live agent (what an
    /// incremental round is checked against).
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

    /// Every live agent placed after `after` in this round's order, in order.
    fn agents_after(&self, after: Option<(u64, u32)>) -> Vec<(u64, u32)> {
        let mut order: Vec<(u64, u32)> = self
            .live_agents
            .iter()
            .map(|&i| self.order_key(i))
            .filter(|&key| after.is_none_or(|a| key > a))
            .collect();
        order.sort_unstable();
        order
    }

    fn run_round(&mut self, now: Timestamp, full: bool) -> Vec<Offer> {
        self.books
            .refresh_keys(&mut self.tree, &mut self.frameworks);
        self.rounds += 1;
        let gens = (self.eligibility_gen, self.books.headroom_gen);
        let mut due = Vec::new();
        self.books.dirty.take_due(now, &mut self.agents, &mut due);
        let mut widened = full || self.books.dirty.round_gens != Some(gens);
        let mut order = if widened {
            self.agents_after(None)
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
        };
        let mut next = 0;
        while next < order.len() {
            let key = order[next];
            next += 1;
            self.walk_agent(key.1, &mut round);
            if !widened && (self.eligibility_gen, self.books.headroom_gen) != gens {
                // Idle notes of the agents not reached yet no longer hold.
                order = self.agents_after(Some(key));
                next = 0;
                widened = true;
            }
        }
        // The notes made this round carry `gens` only if nothing moved them meanwhile.
        self.books.dirty.round_gens =
            ((self.eligibility_gen, self.books.headroom_gen) == gens).then_some(gens);
        round.offers
    }
}
