//! Electing at once when the leader's process is gone, instead of after the election timeout.
//!
//! A follower links to every peer's raft process. When its link to the leader breaks, it asks
//! the leader's address for a TCP connection. A refused connection means no process listens
//! there: the leader process died (an exited or killed master frees its port at once). Then
//! the followers need not wait out the 0.5-1 s election timeout: the first live voter by raft
//! id campaigns now, the next one [`CAMPAIGN_STAGGER`] later if still no leader is known, and
//! so on, so that they do not split the vote.
//!
//! The campaign is a leadership transfer (raft-rs `MsgTimeoutNow`): voters grant it inside
//! their leader lease. That is safe only because the old leader cannot act any more: its
//! port refuses connections. A connection that times out or succeeds (a partition, a slow
//! leader, a master restarted on the port) changes nothing: the election timeout and
//! check-quorum handle those as before. Assumption: nothing between the masters answers for
//! a live master with a TCP reset (a firewall rule rejecting with RST would look like death).
//!
//! [`campaign_delay`] is the pure decision; [`refuses_connections`] the probe (through the
//! node's transport and clock).

use super::driver::LeaderState;
use futures::future::Either;
use libprocess::seams::Transport;
use libprocess::Clock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Between the campaigns of successive live voters.
pub const CAMPAIGN_STAGGER: Duration = Duration::from_millis(100);

/// How long one probe waits for the connection to be accepted or refused.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(250);

/// Probes, and the pause between them: a dying process may still accept for a moment while
/// its connections are already closed.
pub const PROBES: u32 = 3;
pub const PROBE_PAUSE: Duration = Duration::from_millis(30);

/// Whether `addr` refuses a connection (no process listens there) within [`PROBES`] tries,
/// asked through the node's `transport` and timed by its `clock` (a simulated node probes
/// the simulated network). A connection accepted every time, or pending after
/// [`PROBE_TIMEOUT`], says the leader may live.
pub async fn refuses_connections(
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    addr: SocketAddr,
) -> bool {
    for probe in 0..PROBES {
        if probe > 0 {
            clock.sleep_until(clock.now() + PROBE_PAUSE).await;
        }
        let connect = transport.connect(addr);
        let timeout = clock.sleep_until(clock.now() + PROBE_TIMEOUT);
        match futures::future::select(connect, timeout).await {
            Either::Left((Err(e), _)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return true
            }
            Either::Left((Ok(_), _)) => continue,
            Either::Left((Err(_), _)) | Either::Right(_) => return false,
        }
    }
    false
}

/// When this node should campaign after leader `dead` of `term` was found gone, given what
/// it knows now (`state`) and the voters: `None` if it should not (it leads, the term moved
/// on, another leader is known, or it is not a voter), else the wait: its rank among the
/// live voters (by id) times [`CAMPAIGN_STAGGER`].
pub fn campaign_delay(
    state: &LeaderState,
    voters: &[u64],
    dead: u64,
    term: u64,
) -> Option<Duration> {
    if state.is_leader || state.term != term || (state.leader != dead && state.leader != 0) {
        return None;
    }
    let mut live: Vec<u64> = voters.iter().copied().filter(|v| *v != dead).collect();
    live.sort_unstable();
    live.dedup();
    let rank = live.iter().position(|v| *v == state.id)?;
    Some(CAMPAIGN_STAGGER * u32::try_from(rank).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn follower(id: u64, leader: u64, term: u64) -> LeaderState {
        LeaderState {
            id,
            leader,
            term,
            is_leader: false,
        }
    }

    #[test]
    fn the_lowest_live_voter_campaigns_first_and_the_next_one_later() {
        let voters = [1, 2, 3];
        assert_eq!(
            campaign_delay(&follower(2, 1, 5), &voters, 1, 5),
            Some(Duration::ZERO)
        );
        assert_eq!(
            campaign_delay(&follower(3, 1, 5), &voters, 1, 5),
            Some(CAMPAIGN_STAGGER)
        );
        assert_eq!(
            campaign_delay(&follower(1, 3, 5), &voters, 3, 5),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn nothing_is_done_once_the_cluster_moved_on() {
        let voters = [1, 2, 3];
        // A newer term, another leader, or this node leading.
        assert_eq!(campaign_delay(&follower(2, 1, 6), &voters, 1, 5), None);
        assert_eq!(campaign_delay(&follower(2, 3, 5), &voters, 1, 5), None);
        let leading = LeaderState {
            id: 2,
            leader: 2,
            term: 5,
            is_leader: true,
        };
        assert_eq!(campaign_delay(&leading, &voters, 1, 5), None);
        // No leader known any more in the same term still counts as the dead one's term.
        assert_eq!(
            campaign_delay(&follower(2, 0, 5), &voters, 1, 5),
            Some(Duration::ZERO)
        );
        // Not a voter.
        assert_eq!(campaign_delay(&follower(9, 1, 5), &voters, 1, 5), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// The live voters get distinct waits: at most one campaigns at any moment.
        #[test]
        fn live_voters_never_share_a_wait(n in 2u64..8, dead_pick in 0u64..8, term in 1u64..100) {
            let voters: Vec<u64> = (1..=n).collect();
            let dead = 1 + dead_pick % n;
            let waits: Vec<Duration> = voters
                .iter()
                .filter(|v| **v != dead)
                .filter_map(|v| campaign_delay(&follower(*v, dead, term), &voters, dead, term))
                .collect();
            prop_assert_eq!(waits.len() as u64, n - 1);
            let mut sorted = waits.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), waits.len());
            prop_assert_eq!(sorted[0], Duration::ZERO);
        }
    }
}
