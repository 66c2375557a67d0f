//! The replicated registry log with three (or one) nodes in this process, each a libprocess
//! node on its own loopback port, talking over real TCP and writing redb stores in temp dirs.
//! Scenarios: election and replication, leader killed, partitioned leader steps down,
//! restart on an old work dir, snapshots and compaction, a one-node cluster.
//!
//! Timeouts here are hang guards only; every wait polls for an observable state.

use libprocess::{MessageMatch, Node};
use meso_api::v1::{AgentId, AgentInfo};
use meso_master::raftlog::{
    metric, LogStats, ProposeError, RaftFrame, RaftLog, RaftLogError, RaftLogOptions,
};
use meso_registry::{Operation, Registry, RegistryError};
use meso_testkit::eventually::eventually_async;
use std::net::SocketAddr;
use std::time::Duration;
use tempfile::TempDir;

const HANG_GUARD: Duration = Duration::from_secs(60);

fn agent(n: u32) -> AgentInfo {
    let mut info = AgentInfo::new(&format!("host{n}"));
    info.id = Some(AgentId::new(format!("agent-{n}")));
    info
}

struct Member {
    node: Node,
    log: RaftLog<Registry>,
}

struct Cluster {
    addrs: Vec<SocketAddr>,
    dirs: Vec<TempDir>,
    members: Vec<Option<Member>>,
    snapshot_after_entries: u64,
    election_ticks: usize,
}

impl Cluster {
    async fn start(size: usize, snapshot_after_entries: u64) -> Cluster {
        Self::start_with(size, snapshot_after_entries, 10).await
    }

    /// A cluster whose followers wait `election_ticks` (20 ms each, randomised up to twice
    /// that) without a leader before they campaign.
    async fn start_with(
        size: usize,
        snapshot_after_entries: u64,
        election_ticks: usize,
    ) -> Cluster {
        let mut nodes = Vec::new();
        for _ in 0..size {
            nodes.push(Node::builder().build().await.expect("node starts"));
        }
        let addrs: Vec<SocketAddr> = nodes.iter().map(Node::addr).collect();
        let dirs: Vec<TempDir> = (0..size).map(|_| tempfile::tempdir().unwrap()).collect();
        let mut cluster = Cluster {
            addrs,
            dirs,
            members: Vec::new(),
            snapshot_after_entries,
            election_ticks,
        };
        for (i, node) in nodes.into_iter().enumerate() {
            let log = cluster.open_log(&node, i);
            cluster.members.push(Some(Member { node, log }));
        }
        cluster
    }

    fn open_log(&self, node: &Node, i: usize) -> RaftLog<Registry> {
        self.try_open_log(node, i).expect("log starts")
    }

    fn try_open_log(&self, node: &Node, i: usize) -> Result<RaftLog<Registry>, RaftLogError> {
        let mut options = RaftLogOptions::new(i as u64 + 1, &self.addrs);
        options.tick = Duration::from_millis(20);
        options.config.snapshot_after_entries = self.snapshot_after_entries;
        options.config.election_ticks = self.election_ticks;
        RaftLog::start(node, options, self.dirs[i].path())
    }

    fn log(&self, i: usize) -> &RaftLog<Registry> {
        &self.members[i].as_ref().expect("member is running").log
    }

    fn live(&self) -> impl Iterator<Item = (usize, &Member)> {
        self.members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.as_ref().map(|m| (i, m)))
    }

    /// Waits until one live member leads and every live member in `among` agrees.
    async fn leader_among(&self, among: &[usize]) -> usize {
        eventually_async("a leader is elected", || async {
            let leaders: Vec<usize> = among
                .iter()
                .copied()
                .filter(|i| self.log(*i).leader().is_leader)
                .collect();
            let [leader] = leaders[..] else {
                return None;
            };
            let id = leader as u64 + 1;
            among
                .iter()
                .all(|i| self.log(*i).leader().leader == id)
                .then_some(leader)
        })
        .await
    }

    async fn leader(&self) -> usize {
        let live: Vec<usize> = self.live().map(|(i, _)| i).collect();
        self.leader_among(&live).await
    }

    /// Proposes through whoever leads, retrying while leadership moves. A retry after
    /// `LeadershipLost` may find the first attempt committed.
    async fn propose(&self, op: Operation) -> Result<(), RegistryError> {
        let live: Vec<usize> = self.live().map(|(i, _)| i).collect();
        self.propose_among(&live, op).await
    }

    /// Like `propose`, electing the leader among `among` only (the others may be cut off).
    async fn propose_among(&self, among: &[usize], op: Operation) -> Result<(), RegistryError> {
        tokio::time::timeout(HANG_GUARD, async {
            let mut retried = false;
            loop {
                let leader = self.leader_among(among).await;
                match self.log(leader).propose(op.clone()).await {
                    Ok(Err(RegistryError::AgentAlreadyAdmitted(_))) if retried => return Ok(()),
                    Ok(outcome) => return outcome,
                    Err(_) => {
                        retried = true;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        })
        .await
        .expect("proposal commits")
    }

    /// Admitted agents, read linearizably through whoever leads.
    async fn read_count(&self) -> usize {
        eventually_async("a leader serves the read", || async {
            let leader = self.leader().await;
            self.log(leader).read(|r| r.admitted().count()).await
        })
        .await
    }

    async fn stats(&self, i: usize) -> (usize, LogStats) {
        self.log(i)
            .inspect(|r, stats| (r.admitted().count(), stats))
            .await
            .expect("member answers")
    }

    /// Waits until member `i` has applied `agents` admitted agents.
    async fn wait_agents(&self, i: usize, agents: usize) {
        let what = format!("member {i} reaches {agents} agents");
        eventually_async(&what, || async { self.stats(i).await.0 == agents }).await
    }

    async fn kill(&mut self, i: usize) {
        let member = self.members[i].take().expect("member is running");
        member.log.stop();
        member.node.shutdown().await;
    }

    async fn restart(&mut self, i: usize) {
        let node = eventually_async("the old port is free again", || {
            Node::builder().bind(self.addrs[i]).build()
        })
        .await;
        // The stopped peer's store may be released a moment after its node shut down.
        let log = eventually_async("the old work dir opens again", || async {
            self.try_open_log(&node, i)
        })
        .await;
        self.members[i] = Some(Member { node, log });
    }

    async fn shutdown(mut self) {
        for i in 0..self.members.len() {
            if self.members[i].is_some() {
                self.kill(i).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_cluster_commits_and_reports_outcomes() {
    let cluster = Cluster::start(1, 1024).await;
    let leader = cluster.leader().await;
    assert_eq!(leader, 0);
    let log = cluster.log(0);
    assert_eq!(
        log.propose(Operation::AdmitAgent(agent(1))).await,
        Ok(Ok(()))
    );
    assert_eq!(
        log.propose(Operation::AdmitAgent(agent(1))).await,
        Ok(Err(RegistryError::AgentAlreadyAdmitted(AgentId::new(
            "agent-1"
        ))))
    );
    let count = log.read(|r| r.admitted().count()).await.unwrap();
    assert_eq!(count, 1);
    // The node's metrics show the leader and the term.
    let node = &cluster.members[0].as_ref().unwrap().node;
    let metrics = node.metrics().snapshot();
    assert_eq!(metrics.get(metric::IS_LEADER), Some(&1.0));
    assert_eq!(metrics.get(metric::LEADER_ID), Some(&1.0));
    assert!(metrics.get(metric::TERM).is_some_and(|t| *t >= 1.0));
    assert!(metrics.get(metric::PROPOSALS).is_some_and(|p| *p >= 2.0));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_replicate_and_followers_redirect() {
    let cluster = Cluster::start(3, 1024).await;
    let leader = cluster.leader().await;
    // Many proposals in flight at once, so batching is exercised. If leadership moves
    // meanwhile (a loaded machine can delay heartbeats), the failed ones go again.
    let futures: Vec<_> = (0..50)
        .map(|n| cluster.log(leader).propose(Operation::AdmitAgent(agent(n))))
        .collect();
    let outcomes = futures::future::join_all(futures).await;
    for (n, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(result) => assert_eq!(result, Ok(())),
            Err(_) => {
                // The first attempt may have committed after all.
                let again = cluster
                    .propose(Operation::AdmitAgent(agent(n as u32)))
                    .await;
                assert!(
                    matches!(again, Ok(()) | Err(RegistryError::AgentAlreadyAdmitted(_))),
                    "{again:?}"
                );
            }
        }
    }
    for i in 0..3 {
        cluster.wait_agents(i, 50).await;
    }
    // A follower refuses and names the leader.
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            let leader = cluster.leader().await;
            let follower = (leader + 1) % 3;
            let proposed = cluster
                .log(follower)
                .propose(Operation::AdmitAgent(agent(99)))
                .await;
            let read = cluster.log(follower).read(|r| r.admitted().count()).await;
            let named = leader as u64 + 1;
            if proposed == Err(ProposeError::NotLeader { leader: named })
                && read == Err(ProposeError::NotLeader { leader: named })
            {
                return;
            }
            // Leadership moved between the two looks; look again.
            assert!(
                matches!(proposed, Err(ProposeError::NotLeader { .. }) | Ok(_)),
                "{proposed:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a follower names the leader");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_leader_is_replaced_and_state_survives() {
    let mut cluster = Cluster::start(3, 1024).await;
    for n in 0..10 {
        cluster
            .propose(Operation::AdmitAgent(agent(n)))
            .await
            .unwrap();
    }
    let old = cluster.leader().await;
    let old_term = cluster.log(old).leader().term;
    cluster.kill(old).await;
    let rest: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let new = cluster.leader_among(&rest).await;
    assert_ne!(new, old);
    assert!(cluster.log(new).leader().term > old_term);
    cluster
        .propose(Operation::AdmitAgent(agent(10)))
        .await
        .unwrap();
    let count = cluster
        .log(new)
        .read(|r| r.admitted().count())
        .await
        .unwrap();
    assert_eq!(count, 11);
    cluster.shutdown().await;
}

/// Marathon's `DELETE /v2/leader`: the leader hands over to another node, which leads in a
/// later term with every committed entry; a follower cannot, nor can a node alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_hands_leadership_over_on_request() {
    let cluster = Cluster::start(3, 1024).await;
    for n in 0..10 {
        cluster
            .propose(Operation::AdmitAgent(agent(n)))
            .await
            .unwrap();
    }
    let (old, to) = eventually_async("the leader starts a handover", || async {
        let old = cluster.leader().await;
        let follower = (old + 1) % 3;
        // Leadership may move by itself on a loaded machine between two looks: then look
        // again.
        let refused = cluster.log(follower).transfer_leadership().await;
        if !matches!(refused, Err(ProposeError::NotLeader { .. })) {
            return None;
        }
        match cluster.log(old).transfer_leadership().await {
            Ok(to) => Some((old, to)),
            Err(ProposeError::NotLeader { .. }) => None,
            Err(e) => panic!("the leader refused: {e}"),
        }
    })
    .await;
    assert_ne!(to, old as u64 + 1, "handed to another node");
    let old_term = cluster.log(old).leader().term;
    let new = eventually_async("another node leads", || async {
        let new = cluster.leader().await;
        (new != old && cluster.log(new).leader().term > old_term).then_some(new)
    })
    .await;
    assert!(!cluster.log(old).leader().is_leader);
    cluster
        .propose(Operation::AdmitAgent(agent(10)))
        .await
        .unwrap();
    let count = cluster
        .log(new)
        .read(|r| r.admitted().count())
        .await
        .unwrap();
    assert_eq!(count, 11);
    cluster.shutdown().await;

    let alone = Cluster::start(1, 1024).await;
    alone.leader().await;
    let refused = alone.log(0).transfer_leadership().await;
    assert!(
        matches!(&refused, Err(ProposeError::Dropped(why)) if why.contains("no other master")),
        "{refused:?}"
    );
    assert!(alone.log(0).leader().is_leader);
    alone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_campaigns_at_once_when_the_dead_leaders_port_refuses_connections() {
    // Elections after 1-2 s without a leader: the new leader below comes from the fast
    // path (the followers' links to the leader break and its port refuses connections)
    // unless the probe took longer than that.
    let mut cluster = Cluster::start_with(3, 1024, 50).await;
    cluster
        .propose(Operation::AdmitAgent(agent(0)))
        .await
        .unwrap();
    let old = cluster.leader().await;
    let old_term = cluster.log(old).leader().term;
    let rest: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    // Both followers have heard from the leader (and linked to it) by now.
    for &i in &rest {
        cluster.wait_agents(i, 1).await;
    }
    cluster.kill(old).await;
    let new = cluster.leader_among(&rest).await;
    let campaigns = |i: usize| {
        cluster.members[i]
            .as_ref()
            .unwrap()
            .node
            .metrics()
            .snapshot()[metric::DEAD_LEADER_CAMPAIGNS]
    };
    // The first live voter campaigned at once and won in the next term: no split vote, and
    // the other follower never needed its turn.
    assert_eq!(new, rest[0], "the lowest live raft id campaigns first");
    assert_eq!(campaigns(rest[0]), 1.0);
    assert_eq!(campaigns(rest[1]), 0.0);
    assert_eq!(cluster.log(new).leader().term, old_term + 1);
    cluster
        .propose_among(&rest, Operation::AdmitAgent(agent(1)))
        .await
        .unwrap();
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_leader_steps_down_and_rejoins() {
    let cluster = Cluster::start(3, 1024).await;
    cluster
        .propose(Operation::AdmitAgent(agent(0)))
        .await
        .unwrap();
    let old = cluster.leader().await;
    let old_upid = cluster.log(old).upid().clone();
    let rest: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    // Cut the old leader off both ways: its frames are dropped where they arrive, and
    // frames to it are dropped at its node.
    let mut rules = Vec::new();
    for &i in &rest {
        let node = &cluster.members[i].as_ref().unwrap().node;
        rules.push(
            node.filters()
                .drop_matching(MessageMatch::of::<RaftFrame>().from(&old_upid)),
        );
        let upid = cluster.log(i).upid().clone();
        let old_node = &cluster.members[old].as_ref().unwrap().node;
        rules.push(
            old_node
                .filters()
                .drop_matching(MessageMatch::of::<RaftFrame>().from(&upid)),
        );
    }
    // Check-quorum: the isolated leader gives up leadership by itself.
    let mut watch = cluster.log(old).watch_leader();
    tokio::time::timeout(HANG_GUARD, watch.wait_for(|s| !s.is_leader))
        .await
        .expect("isolated leader steps down")
        .expect("peer process is running");
    assert!(matches!(
        cluster
            .log(old)
            .propose(Operation::AdmitAgent(agent(1)))
            .await,
        Err(ProposeError::NotLeader { .. })
    ));
    let new = cluster.leader_among(&rest).await;
    assert_ne!(new, old);
    cluster
        .propose_among(&rest, Operation::AdmitAgent(agent(1)))
        .await
        .unwrap();
    // Heal: the old leader follows the new one and catches up.
    drop(rules);
    cluster.wait_agents(old, 2).await;
    let leader = cluster.leader().await;
    assert_ne!(
        leader, old,
        "the higher-term leader keeps leading after the heal"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_node_catches_up_from_its_old_work_dir() {
    let mut cluster = Cluster::start(3, 1024).await;
    for n in 0..5 {
        cluster
            .propose(Operation::AdmitAgent(agent(n)))
            .await
            .unwrap();
    }
    let leader = cluster.leader().await;
    let follower = (leader + 1) % 3;
    cluster.wait_agents(follower, 5).await;
    cluster.kill(follower).await;
    for n in 5..15 {
        cluster
            .propose(Operation::AdmitAgent(agent(n)))
            .await
            .unwrap();
    }
    cluster.restart(follower).await;
    cluster.wait_agents(follower, 15).await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_keep_the_log_bounded_and_bring_a_lagging_node_up() {
    let snapshot_after = 20;
    let mut cluster = Cluster::start(3, snapshot_after).await;
    cluster
        .propose(Operation::AdmitAgent(agent(0)))
        .await
        .unwrap();
    let leader = cluster.leader().await;
    let lagging = (leader + 1) % 3;
    cluster.kill(lagging).await;
    // One proposal at a time: one log entry each.
    for n in 1..200 {
        cluster
            .propose(Operation::AdmitAgent(agent(n)))
            .await
            .unwrap();
    }
    for (i, _) in cluster.live() {
        let (_, stats) = cluster.stats(i).await;
        assert!(
            stats.entries <= 2 * snapshot_after,
            "member {i} holds {} entries: {stats:?}",
            stats.entries
        );
        assert!(
            stats.snapshot_index > 0,
            "member {i} took a snapshot: {stats:?}"
        );
    }
    // The entries the lagging node misses were compacted away: it needs the snapshot.
    cluster.restart(lagging).await;
    cluster.wait_agents(lagging, 200).await;
    let (_, stats) = cluster.stats(lagging).await;
    assert!(stats.entries <= 2 * snapshot_after, "{stats:?}");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_cluster_recovers_its_state_from_disk() {
    // A small snapshot interval, so recovery reads a snapshot and replays entries after it.
    let mut cluster = Cluster::start(1, 4).await;
    for n in 0..10 {
        cluster
            .propose(Operation::AdmitAgent(agent(n)))
            .await
            .unwrap();
    }
    let (_, before) = cluster.stats(0).await;
    assert!(before.snapshot_index > 0, "{before:?}");
    cluster.kill(0).await;
    cluster.restart(0).await;
    assert_eq!(cluster.read_count().await, 10);
    assert_eq!(
        cluster
            .log(0)
            .propose(Operation::AdmitAgent(agent(3)))
            .await,
        Ok(Err(RegistryError::AgentAlreadyAdmitted(AgentId::new(
            "agent-3"
        ))))
    );
    cluster.shutdown().await;
}
