//! The driver without libprocess: three `RaftDriver`s in one thread, messages passed by
//! hand (optionally cut), time advanced by ticks. Deterministic apart from raft-rs's
//! randomised election timeouts, which only change who wins.

use super::driver::{Output, RaftDriver, RaftLogConfig};
use super::error::ProposeError;
use super::storage::DiskStorage;
use meso_api::v1::{AgentId, AgentInfo};
use meso_registry::{Operation, Registry, RegistryError};
use raft::eraftpb::Message;
use std::collections::BTreeSet;

type Driver = RaftDriver<Registry, u32>;
type Results = Vec<(u32, Result<Result<(), RegistryError>, ProposeError>)>;

fn agent(n: u32) -> Operation {
    let mut info = AgentInfo::new(&format!("host{n}"));
    info.id = Some(AgentId::new(format!("agent-{n}")));
    Operation::AdmitAgent(info)
}

struct Net {
    drivers: Vec<Driver>,
    _dirs: Vec<tempfile::TempDir>,
    /// Nodes (1-based ids) whose messages to and from others are dropped.
    cut: BTreeSet<u64>,
    results: Results,
}

impl Net {
    fn new(size: u64) -> Net {
        let voters: Vec<u64> = (1..=size).collect();
        let mut drivers = Vec::new();
        let mut dirs = Vec::new();
        for id in 1..=size {
            let dir = tempfile::tempdir().unwrap();
            let storage = DiskStorage::open(dir.path(), &voters).unwrap();
            let mut config = RaftLogConfig::new(id, voters.clone());
            config.snapshot_after_entries = 8;
            let logger = slog::Logger::root(slog::Discard, slog::o!());
            drivers.push(Driver::new(config, storage, id * 1000, logger).unwrap());
            dirs.push(dir);
        }
        Net {
            drivers,
            _dirs: dirs,
            cut: BTreeSet::new(),
            results: Vec::new(),
        }
    }

    /// Processes ready state and delivers messages until the network is quiet.
    fn settle(&mut self, mut pending: Vec<Message>) {
        for _ in 0..1000 {
            for d in &mut self.drivers {
                let mut out: Output<u32, Result<(), RegistryError>> = Output::default();
                d.process_ready(&mut out).unwrap();
                pending.extend(out.messages);
                self.results.extend(out.results);
            }
            if pending.is_empty() {
                return;
            }
            for m in std::mem::take(&mut pending) {
                if self.cut.contains(&m.from) || self.cut.contains(&m.to) {
                    continue;
                }
                self.drivers[(m.to - 1) as usize].step(m);
            }
        }
        panic!("network did not settle in 1000 rounds");
    }

    fn tick(&mut self, n: usize) {
        for _ in 0..n {
            for d in &mut self.drivers {
                d.tick();
            }
            self.settle(Vec::new());
        }
    }

    fn leaders(&self) -> Vec<u64> {
        self.drivers
            .iter()
            .filter(|d| d.leader().is_leader)
            .map(|d| d.leader().id)
            .collect()
    }

    fn elect(&mut self) -> u64 {
        for _ in 0..200 {
            self.tick(1);
            let leaders: Vec<u64> = self
                .leaders()
                .into_iter()
                .filter(|id| !self.cut.contains(id))
                .collect();
            if leaders.len() == 1 {
                return leaders[0];
            }
        }
        panic!("no leader after 200 ticks");
    }

    fn propose(&mut self, node: u64, token: u32, op: &Operation) {
        let mut out = Output::default();
        let d = &mut self.drivers[(node - 1) as usize];
        d.propose(token, op, &mut out);
        d.flush(&mut out);
        self.results.extend(out.results);
        self.settle(out.messages);
    }
}

#[test]
fn batched_proposals_commit_in_order_with_outcomes() {
    let mut net = Net::new(3);
    let leader = net.elect();
    let mut out = Output::default();
    let d = &mut net.drivers[(leader - 1) as usize];
    for n in 0..5 {
        d.propose(n, &agent(n), &mut out);
    }
    d.propose(5, &agent(0), &mut out);
    assert_eq!(d.queued(), 6);
    d.flush(&mut out);
    net.settle(out.messages);
    let mut results = std::mem::take(&mut net.results);
    results.sort_by_key(|(t, _)| *t);
    assert_eq!(results.len(), 6);
    for (token, result) in &results[..5] {
        assert_eq!(result, &Ok(Ok(())), "token {token}");
    }
    assert_eq!(
        results[5].1,
        Ok(Err(RegistryError::AgentAlreadyAdmitted(AgentId::new(
            "agent-0"
        ))))
    );
    // Followers apply the same batch once the commit index reaches them.
    net.tick(3);
    for d in &net.drivers {
        assert_eq!(d.machine().admitted().count(), 5);
    }
}

#[test]
fn isolated_leader_steps_down_and_fails_its_waiters() {
    let mut net = Net::new(3);
    let leader = net.elect();
    net.cut.insert(leader);
    net.propose(leader, 1, &agent(1));
    assert!(net.results.is_empty(), "nothing commits without a quorum");
    // Check-quorum: within two election timeouts the leader notices and steps down.
    net.tick(40);
    let old = &net.drivers[(leader - 1) as usize];
    assert!(!old.leader().is_leader);
    assert_eq!(net.results, vec![(1, Err(ProposeError::LeadershipLost))]);
    let new = net.elect();
    assert_ne!(new, leader);
    // Pre-vote: the rejoining node does not disrupt the new leader's term.
    let term = net.drivers[(new - 1) as usize].leader().term;
    net.cut.clear();
    net.tick(30);
    assert_eq!(net.leaders(), vec![new]);
    assert_eq!(net.drivers[(new - 1) as usize].leader().term, term);
}

#[test]
fn log_is_compacted_and_lagging_follower_gets_a_snapshot() {
    let mut net = Net::new(3);
    let leader = net.elect();
    let lagging = leader % 3 + 1;
    net.cut.insert(lagging);
    for n in 0..40 {
        net.propose(leader, n, &agent(n));
    }
    let stats = net.drivers[(leader - 1) as usize].stats();
    assert!(stats.snapshot_index > 0 && stats.entries <= 16, "{stats:?}");
    net.cut.clear();
    net.tick(30);
    let lag = &net.drivers[(lagging - 1) as usize];
    assert_eq!(lag.machine().admitted().count(), 40);
    assert!(lag.stats().snapshot_index > 0);
}

#[test]
fn followers_refuse_proposals_and_reads() {
    let mut net = Net::new(3);
    let leader = net.elect();
    let follower = leader % 3 + 1;
    let mut out = Output::default();
    let d = &mut net.drivers[(follower - 1) as usize];
    d.propose(7, &agent(7), &mut out);
    d.read(8, &mut out);
    assert_eq!(
        out.results,
        vec![(7, Err(ProposeError::NotLeader { leader }))]
    );
    assert_eq!(
        out.reads,
        vec![(8, Err(ProposeError::NotLeader { leader }))]
    );
}

#[test]
fn oversized_commands_are_refused() {
    let mut net = Net::new(1);
    let leader = net.elect();
    let mut info = AgentInfo::new(&"h".repeat(2 << 20));
    info.id = Some(AgentId::new("big"));
    let mut out = Output::default();
    net.drivers[(leader - 1) as usize].propose(1, &Operation::AdmitAgent(info), &mut out);
    assert!(matches!(
        out.results[..],
        [(1, Err(ProposeError::TooLarge { .. }))]
    ));
}

#[test]
fn batches_split_at_the_byte_bound() {
    let mut net = Net::new(1);
    let leader = net.elect();
    let d = &mut net.drivers[(leader - 1) as usize];
    let before = d.stats().last_index;
    let mut out = Output::default();
    // Each command is a little over 100 KiB; at most 4 MiB go in one entry.
    for n in 0..100 {
        let mut info = AgentInfo::new(&format!("{n}{}", "h".repeat(100 << 10)));
        info.id = Some(AgentId::new(format!("agent-{n}")));
        d.propose(n, &Operation::AdmitAgent(info), &mut out);
    }
    d.flush(&mut out);
    net.settle(out.messages);
    let d = &net.drivers[(leader - 1) as usize];
    let entries = d.stats().last_index - before;
    assert!(
        (3..=4).contains(&entries),
        "100 x 100 KiB took {entries} entries"
    );
    assert_eq!(net.results.len(), 100);
    assert!(net.results.iter().all(|(_, r)| r == &Ok(Ok(()))));
}
