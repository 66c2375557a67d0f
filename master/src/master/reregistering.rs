//! Agents whose re-registration is in progress (Mesos's `slaves.reregistering`): from the
//! moment the master starts admitting one (a registry write, for an agent back from
//! unreachable) until it answers. A second re-registration of that agent id in that window
//! is dropped without an answer: the agent gets the answer to the first one, and a
//! duplicate (an agent that re-sent while the master was busy) costs no second registry
//! write. Pure bookkeeping.
//!
//! Invariant: an id is in the set only while its registry write is outstanding; the write's
//! answer takes it out (whatever it says), so the set is bounded by the agents coming back
//! at once.

use std::collections::HashSet;

use meso_api::v1::AgentId;

/// Agent ids with a re-registration under way.
#[derive(Debug, Default)]
pub struct Reregistering {
    ids: HashSet<AgentId>,
}

impl Reregistering {
    /// Starts `id`'s re-registration: `false` if one is already under way (drop this one).
    pub fn begin(&mut self, id: &AgentId) -> bool {
        self.ids.insert(id.clone())
    }

    /// Whether `id`'s re-registration is under way.
    pub fn contains(&self, id: &AgentId) -> bool {
        self.ids.contains(id)
    }

    /// `id`'s re-registration is over (admitted, refused, or not applied).
    pub fn end(&mut self, id: &AgentId) {
        self.ids.remove(id);
    }

    /// How many are under way.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_second_begin_is_refused_until_the_first_ends() {
        let mut r = Reregistering::default();
        let a = AgentId::new("a");
        assert!(r.begin(&a));
        assert!(!r.begin(&a), "a duplicate while the first is under way");
        assert!(r.begin(&AgentId::new("b")), "another agent is not held up");
        r.end(&a);
        assert!(!r.contains(&a));
        assert!(r.begin(&a), "after the answer a new re-registration starts");
    }

    proptest! {
        #[test]
        fn the_set_holds_exactly_the_begun_and_not_ended(
            ops in proptest::collection::vec((any::<bool>(), 0u8..8), 0..64),
        ) {
            let mut r = Reregistering::default();
            let mut model = std::collections::BTreeSet::new();
            for (begin, n) in ops {
                let id = AgentId::new(format!("a{n}"));
                if begin {
                    prop_assert_eq!(r.begin(&id), model.insert(n));
                } else {
                    r.end(&id);
                    model.remove(&n);
                }
                prop_assert_eq!(r.len(), model.len());
            }
        }
    }
}
