//! [`MasterDetector`]: how an agent or a scheduler driver finds the leading master among
//! the masters it was given (`--master a:5050,b:5050,c:5050`; one address still works).
//!
//! Pure: it only decides where to send the next (re)registration; the caller owns the
//! timers, links and messages. The rules:
//! - start with the first master;
//! - a [`NotLeader`](crate::wire::NotLeader) answer from the master in use that names a
//!   leader moves there at once (the caller may send right away); one that names no leader
//!   (an election is under way) moves to the next master in the list, to be tried after the
//!   caller's backoff;
//! - no answer within the caller's backoff, or a broken link, moves to the next master
//!   (round robin).
//!
//! Invariant: [`MasterDetector::current`] is always one of the configured masters or a
//! leader named by a hint from one of them; the list is never empty.

use std::net::{SocketAddr, ToSocketAddrs};

use libprocess::Upid;

use crate::wire::NotLeader;

/// Why a `--master` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad --master {value:?}: {reason}")]
pub struct DetectorError {
    /// The whole value given.
    pub value: String,
    /// What is wrong with it (naming the bad part).
    pub reason: String,
}

/// Where the leading master is, as far as this client knows (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterDetector {
    masters: Vec<Upid>,
    next: usize,
    current: Upid,
}

/// What a leader hint changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HintOutcome {
    /// The hint names the leader: send there now.
    Leader(Upid),
    /// No leader is known: the next master is in use, try it after a backoff.
    NextMaster(Upid),
    /// The hint came from a master not in use (a late answer): nothing changed.
    Ignored,
}

impl MasterDetector {
    /// A detector over `masters` (at least one).
    pub fn new(masters: Vec<Upid>) -> Result<MasterDetector, DetectorError> {
        let Some(first) = masters.first().cloned() else {
            return Err(DetectorError {
                value: String::new(),
                reason: "no master given".to_string(),
            });
        };
        Ok(MasterDetector {
            next: 1 % masters.len(),
            current: first,
            masters,
        })
    }

    /// Parses `--master`: comma-separated `host:port` or `master@host:port` (host names
    /// are resolved now), e.g. `10.0.0.1:5050,10.0.0.2:5050,10.0.0.3:5050`.
    pub fn parse(value: &str) -> Result<MasterDetector, DetectorError> {
        let bad = |reason: String| DetectorError {
            value: value.to_string(),
            reason,
        };
        let mut masters = Vec::new();
        for part in value.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(bad("an empty address in the list".to_string()));
            }
            let (id, host_port) = match part.split_once('@') {
                Some((id, rest)) => (id, rest),
                None => ("master", part),
            };
            if id.is_empty() {
                return Err(bad(format!("empty process id before '@' in {part:?}")));
            }
            let addr: SocketAddr = match host_port.parse() {
                Ok(addr) => addr,
                Err(_) => host_port
                    .to_socket_addrs()
                    .map_err(|e| bad(format!("cannot resolve {host_port:?}: {e}")))?
                    .next()
                    .ok_or_else(|| bad(format!("{host_port:?} resolves to no address")))?,
            };
            let upid = Upid::new(id, addr);
            if masters.contains(&upid) {
                return Err(bad(format!("{part:?} is listed twice")));
            }
            masters.push(upid);
        }
        MasterDetector::new(masters).map_err(|e| bad(e.reason))
    }

    /// The master to talk to now.
    pub fn current(&self) -> &Upid {
        &self.current
    }

    /// The configured masters.
    pub fn masters(&self) -> &[Upid] {
        &self.masters
    }

    /// The master in use did not answer (or its link broke): use the next one in the list
    /// and return it. With one master this is that master again.
    pub fn advance(&mut self) -> &Upid {
        self.current = self.masters[self.next].clone();
        self.next = (self.next + 1) % self.masters.len();
        &self.current
    }

    /// A [`NotLeader`] answer from `from`.
    pub fn not_leader(&mut self, from: &Upid, hint: &NotLeader) -> HintOutcome {
        if from != &self.current {
            return HintOutcome::Ignored;
        }
        let leader = hint
            .leader
            .as_deref()
            .and_then(|text| text.parse::<Upid>().ok())
            .filter(|leader| leader != from);
        match leader {
            Some(leader) => {
                // Continue the round robin after the leader's position when it is listed.
                if let Some(i) = self.masters.iter().position(|m| *m == leader) {
                    self.next = (i + 1) % self.masters.len();
                }
                self.current = leader.clone();
                HintOutcome::Leader(leader)
            }
            None => HintOutcome::NextMaster(self.advance().clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn upid(port: u16) -> Upid {
        Upid::new("master", SocketAddr::from(([127, 0, 0, 1], port)))
    }

    #[test]
    fn parses_lists_and_single_addresses() {
        let d = MasterDetector::parse("127.0.0.1:5050").unwrap();
        assert_eq!(d.masters(), [upid(5050)]);
        let d =
            MasterDetector::parse("127.0.0.1:5050, master@127.0.0.1:5051,127.0.0.1:5052").unwrap();
        assert_eq!(d.masters(), [upid(5050), upid(5051), upid(5052)]);
        assert_eq!(d.current(), &upid(5050));
        for (bad, says) in [
            ("", "empty address"),
            ("127.0.0.1:5050,,127.0.0.1:5051", "empty address"),
            ("@127.0.0.1:5050", "empty process id"),
            ("127.0.0.1:5050,127.0.0.1:5050", "listed twice"),
            ("no-port-here", "cannot resolve"),
        ] {
            let e = MasterDetector::parse(bad).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(e.reason.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn hints_lead_to_the_leader_and_round_robin_goes_on() {
        let mut d = MasterDetector::new(vec![upid(1), upid(2), upid(3)]).unwrap();
        let hint = NotLeader {
            leader: Some(upid(3).to_string()),
            term: 4,
        };
        assert_eq!(d.not_leader(&upid(1), &hint), HintOutcome::Leader(upid(3)));
        assert_eq!(d.current(), &upid(3));
        // A late answer from a master no longer in use changes nothing.
        assert_eq!(d.not_leader(&upid(1), &hint), HintOutcome::Ignored);
        // The leader dies: round robin after it.
        assert_eq!(d.advance(), &upid(1));
        let none = NotLeader {
            leader: None,
            term: 5,
        };
        assert_eq!(
            d.not_leader(&upid(1), &none),
            HintOutcome::NextMaster(upid(2))
        );
        // A hint naming the sender itself, or garbage, counts as no leader.
        let itself = NotLeader {
            leader: Some(upid(2).to_string()),
            term: 5,
        };
        assert_eq!(
            d.not_leader(&upid(2), &itself),
            HintOutcome::NextMaster(upid(3))
        );
        let garbage = NotLeader {
            leader: Some("nonsense".into()),
            term: 5,
        };
        assert_eq!(
            d.not_leader(&upid(3), &garbage),
            HintOutcome::NextMaster(upid(1))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Without hints every master is tried within one round, and the current master
        /// is always a configured one.
        #[test]
        fn round_robin_visits_every_master(n in 1usize..6, skips in 0usize..20) {
            let masters: Vec<Upid> = (0..n).map(|i| upid(5000 + i as u16)).collect();
            let mut d = MasterDetector::new(masters.clone()).unwrap();
            for _ in 0..skips {
                d.advance();
            }
            let mut seen = vec![d.current().clone()];
            for _ in 1..n {
                seen.push(d.advance().clone());
            }
            seen.sort();
            let mut expected = masters.clone();
            expected.sort();
            prop_assert_eq!(seen, expected);
        }
    }
}
