//! Which master an emulated agent talks to: a pure state machine over the configured masters
//! and the leader hints (`NotLeader`) they answer with.
//!
//! Rules: start at a configured master chosen by the caller (agents start at different ones
//! so followers share the first wave of questions); a hint naming a leader moves the target
//! there at once, unless its term is older than a hint already followed; a hint without a
//! leader (election under way) keeps the target, to be asked again after a short wait: a
//! live master learns the new leader as soon as there is one, while moving on could land on
//! the master that just died; a hint naming the master whose link just broke is taken as
//! "no leader known" too (the followers still name the dead leader until their election
//! timeout: following it would bounce off a refused connection and grow the backoff for the
//! whole election), unless a later hint names it in a newer term (it was restarted and
//! elected again) or the agent gave up on that master's answers; after [`NO_LEADER_ANSWERS_BEFORE_MOVING`] such answers in a row
//! (a master cut off from the others) it moves to the next configured master. The target
//! going away (broken link, refused connection) moves to the next configured master, to be
//! tried after a backoff. Hints from a master that is not the current target are stale and
//! ignored. A hint naming the answering master itself (sent by a stand-in as its master
//! takes over after an election) means "ask me again now".
//!
//! Invariant: the target is always either a configured master or the leader named by the
//! newest hint followed.

use libprocess::Upid;

/// Answers "no leader known" in a row from one master after which the tracker tries the next.
pub const NO_LEADER_ANSWERS_BEFORE_MOVING: u32 = 20;

/// What the agent should do after a tracker event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the (re)registration to the new target now.
    Now,
    /// Wait a backoff, then send to the (possibly new) target.
    Backoff,
    /// Nothing changed (a stale event).
    Ignore,
}

/// The master an emulated agent currently addresses.
#[derive(Debug, Clone)]
pub struct MasterTracker {
    masters: Vec<Upid>,
    position: usize,
    target: Upid,
    term: u64,
    no_leader_answers: u32,
    /// The master this agent lost since it last registered, and the term of the first hint
    /// that named it after the loss (hints naming it in that term or older are stale).
    lost: Option<(Upid, Option<u64>)>,
}

impl MasterTracker {
    /// A tracker over `masters` (non-empty) starting at `masters[start % len]`; `None` when
    /// `masters` is empty.
    pub fn new(masters: Vec<Upid>, start: usize) -> Option<MasterTracker> {
        let position = start % masters.len().max(1);
        let target = masters.get(position)?.clone();
        Some(MasterTracker {
            masters,
            position,
            target,
            term: 0,
            no_leader_answers: 0,
            lost: None,
        })
    }

    /// The master to send to.
    pub fn target(&self) -> &Upid {
        &self.target
    }

    /// The newest term seen in a followed hint.
    pub fn term(&self) -> u64 {
        self.term
    }

    fn advance(&mut self, away_from: &Upid) {
        // Skip the master we are leaving when it is one of the configured ones and there is
        // another.
        for _ in 0..self.masters.len() {
            self.position = (self.position + 1) % self.masters.len();
            if &self.masters[self.position] != away_from || self.masters.len() == 1 {
                break;
            }
        }
        self.target = self.masters[self.position].clone();
        self.no_leader_answers = 0;
    }

    /// `pid` went away (its link broke or could not be made).
    pub fn lost(&mut self, pid: &Upid) -> Next {
        if pid != &self.target {
            return Next::Ignore;
        }
        let gone = self.target.clone();
        self.advance(&gone);
        self.lost = Some((gone, None));
        Next::Backoff
    }

    /// The agent (re)registered with its target: hints are trusted again.
    pub fn registered(&mut self) {
        self.lost = None;
        self.no_leader_answers = 0;
    }

    /// Whether a hint naming `leader` in `term` names the master lost since the last
    /// registration in a term that is not newer than the first such hint's.
    fn names_the_lost_master(&mut self, leader: &Upid, term: u64) -> bool {
        match &mut self.lost {
            Some((gone, first_term)) if gone == leader => match first_term {
                None => {
                    *first_term = Some(term);
                    true
                }
                Some(first) => term <= *first,
            },
            _ => false,
        }
    }

    /// `from` answered "not the leader", naming `leader` (if known) in `term`.
    pub fn not_leader(&mut self, from: &Upid, leader: Option<Upid>, term: u64) -> Next {
        if from != &self.target {
            return Next::Ignore;
        }
        let stale = leader
            .as_ref()
            .is_some_and(|l| l != from && self.names_the_lost_master(l, term));
        match leader {
            // A master naming itself just became the leader (its stand-in held this agent
            // until the `Master` replaced it): ask again at once.
            Some(leader) if &leader == from && term >= self.term => {
                self.term = term;
                self.no_leader_answers = 0;
                Next::Now
            }
            Some(leader) if !stale && term >= self.term && &leader != from => {
                self.term = term;
                self.target = leader;
                self.no_leader_answers = 0;
                Next::Now
            }
            _ => {
                self.term = self.term.max(term);
                self.no_leader_answers += 1;
                if self.no_leader_answers >= NO_LEADER_ANSWERS_BEFORE_MOVING {
                    let here = self.target.clone();
                    self.advance(&here);
                    // So many answers: trust hints again, even one naming the lost master.
                    self.lost = None;
                }
                Next::Backoff
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn master(port: u16) -> Upid {
        Upid::new("master", ([127, 0, 0, 1], port).into())
    }

    fn three() -> Vec<Upid> {
        vec![master(1), master(2), master(3)]
    }

    #[test]
    fn empty_list_has_no_tracker() {
        assert!(MasterTracker::new(Vec::new(), 0).is_none());
    }

    #[test]
    fn a_hint_moves_to_the_leader_at_once() {
        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        assert_eq!(t.target(), &master(1));
        assert_eq!(t.not_leader(&master(1), Some(master(3)), 5), Next::Now);
        assert_eq!(t.target(), &master(3));
        assert_eq!(t.term(), 5);
    }

    #[test]
    fn a_master_naming_itself_is_asked_again_at_once() {
        let mut t = MasterTracker::new(three(), 1).expect("three masters");
        assert_eq!(t.not_leader(&master(2), Some(master(2)), 7), Next::Now);
        assert_eq!(t.target(), &master(2));
        assert_eq!(t.term(), 7);
        // Not in an older term than a hint already followed.
        assert_eq!(t.not_leader(&master(2), Some(master(2)), 6), Next::Backoff);
    }

    #[test]
    fn no_leader_known_asks_the_same_master_again_then_moves_on() {
        let mut t = MasterTracker::new(three(), 2).expect("three masters");
        for _ in 1..NO_LEADER_ANSWERS_BEFORE_MOVING {
            assert_eq!(t.not_leader(&master(3), None, 2), Next::Backoff);
            assert_eq!(t.target(), &master(3));
        }
        assert_eq!(t.not_leader(&master(3), None, 2), Next::Backoff);
        assert_eq!(t.target(), &master(1));
    }

    #[test]
    fn an_older_hint_is_not_followed() {
        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        t.not_leader(&master(1), Some(master(2)), 7);
        assert_eq!(t.not_leader(&master(2), Some(master(1)), 6), Next::Backoff);
        assert_eq!(t.target(), &master(2));
        assert_eq!(t.term(), 7);
    }

    #[test]
    fn stale_events_are_ignored() {
        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        assert_eq!(t.lost(&master(2)), Next::Ignore);
        assert_eq!(t.not_leader(&master(3), Some(master(3)), 9), Next::Ignore);
        assert_eq!(t.target(), &master(1));
    }

    #[test]
    fn losing_the_leader_moves_on() {
        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        t.not_leader(&master(1), Some(master(2)), 1);
        assert_eq!(t.lost(&master(2)), Next::Backoff);
        assert_ne!(t.target(), &master(2));
    }

    #[test]
    fn a_hint_naming_the_lost_leader_waits_for_the_election() {
        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        t.not_leader(&master(1), Some(master(2)), 1);
        assert_eq!(t.lost(&master(2)), Next::Backoff);
        let asked = t.target().clone();
        // The follower still names the dead leader in the old term: ask it again later.
        assert_eq!(t.not_leader(&asked, Some(master(2)), 1), Next::Backoff);
        assert_eq!(t.target(), &asked);
        assert_eq!(t.not_leader(&asked, Some(master(2)), 1), Next::Backoff);
        // The election is over: a hint naming another master is followed at once.
        assert_eq!(asked, master(3));
        assert_eq!(t.not_leader(&asked, Some(master(1)), 2), Next::Now);
        assert_eq!(t.target(), &master(1));
    }

    #[test]
    fn the_lost_master_is_followed_again_in_a_newer_term_or_after_registering() {
        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        t.not_leader(&master(1), Some(master(2)), 1);
        t.lost(&master(2));
        let asked = t.target().clone();
        assert_eq!(t.not_leader(&asked, Some(master(2)), 1), Next::Backoff);
        assert_eq!(t.not_leader(&asked, Some(master(2)), 3), Next::Now);
        assert_eq!(t.target(), &master(2));

        let mut t = MasterTracker::new(three(), 0).expect("three masters");
        t.not_leader(&master(1), Some(master(2)), 1);
        t.lost(&master(2));
        t.registered();
        let asked = t.target().clone();
        assert_eq!(t.not_leader(&asked, Some(master(2)), 1), Next::Now);
    }

    #[test]
    fn a_single_master_is_retried() {
        let mut t = MasterTracker::new(vec![master(1)], 4).expect("one master");
        assert_eq!(t.lost(&master(1)), Next::Backoff);
        assert_eq!(t.target(), &master(1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever the masters answer, the target is a configured master or the newest
        /// leader hint followed, and a lost target is never kept when another exists.
        #[test]
        fn target_is_configured_or_hinted(
            start in 0usize..10,
            events in proptest::collection::vec((0u8..3, 0u16..4, 0u16..4, 0u64..10), 0..40),
        ) {
            let masters = three();
            let mut t = MasterTracker::new(masters.clone(), start).expect("three masters");
            for (kind, from, hint, term) in events {
                let from = if from == 0 { t.target().clone() } else { master(from) };
                let before = t.target().clone();
                match kind {
                    0 => {
                        let next = t.lost(&from);
                        if from == before {
                            prop_assert_eq!(next, Next::Backoff);
                            prop_assert_ne!(t.target(), &before);
                        } else {
                            prop_assert_eq!(next, Next::Ignore);
                        }
                    }
                    _ => {
                        let leader = (hint != 0).then(|| master(hint));
                        t.not_leader(&from, leader, term);
                    }
                }
                prop_assert!(masters.contains(t.target()));
            }
        }
    }
}
