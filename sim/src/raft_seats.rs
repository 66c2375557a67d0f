//! Three or five masters on the production Raft registry (`--masters N`): each seat is a
//! machine running what `meso master --peers` runs, the production `RaftLog` (its store
//! on the seat's own [`SimDisk`] through [`SimStore`]) and `MasterHost` (the `Master` on the
//! Raft leader, a `StandIn` elsewhere), electing over the simulated network. Agents and
//! drivers are given every master (as `--master a,b,c`) and find the leader through their
//! production detectors (`NotLeader` hints, broken links).
//!
//! Faults, drawn per seed from their own stream ([`RaftSeats::schedule`]): crash of the
//! leader of the moment (half of them in the middle of its next Raft write, before the
//! fsync) and its restart; a partition of the leader from the other masters; a partition
//! of a minority; disk faults (failed fsyncs, torn tails) on every master's disk. A master
//! whose host stopped by itself (a failed fsync stops its Raft peer) is restarted by its
//! supervisor a second later.
//!
//! Checkers ([`RaftChecker`], the log's `LogObserver`, told by every node's production
//! driver as it happens): at most one master leads any Raft term; every entry applied at an
//! index, by any master, in any incarnation, is the same entry (so no committed change,
//! among them every change a registrar acknowledged, is ever lost or replaced across
//! leader changes and restarts); and after healing every master has applied every entry
//! any master applied.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use libprocess::{Clock, Node, Pid, TestClock, Upid};
use meso_master::leadership::MasterHost;
use meso_master::raftlog::{LogObserver, RaftLog, RaftLogOptions};
use meso_master::{Master, MasterConfig};
use meso_registry::Registry;
use parking_lot::Mutex;

use crate::agenda::Agenda;
use crate::checkers::Violations;
use crate::disk::{DiskFaults, SimDisk};
use crate::net::SimNet;
use crate::plan::Plan;
use crate::raftstore::SimStore;
use crate::rng::{fnv, SimRng, FNV_START};
use crate::trace::Trace;

/// A request from the agenda, run by the world's loop when the cluster is idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaftRequest {
    /// Crash master `k`.
    Crash(usize),
    /// Start master `k` again (if it is down).
    Restart(usize),
    /// Crash whichever master leads now; restart it `down` later. `mid_write`: at its next
    /// Raft write, after the bytes reach the page cache and before the fsync.
    CrashLeader { down: Duration, mid_write: bool },
    /// Cut the master leading now from the other masters.
    PartitionLeader,
    /// Cut this many masters (not the leader) from the others.
    PartitionMinority(usize),
}

/// The checkers' books, fed by every master's Raft driver.
pub struct RaftChecker {
    clock: TestClock,
    trace: Trace,
    violations: Violations,
    books: Mutex<Books>,
}

#[derive(Default)]
struct Books {
    /// Who led each term.
    leaders: BTreeMap<u64, u64>,
    /// What was applied at each index: (term, hash of the data, the first node applying it).
    applied: BTreeMap<u64, (u64, u64, u64)>,
}

impl RaftChecker {
    fn new(clock: TestClock, trace: Trace, violations: Violations) -> RaftChecker {
        RaftChecker {
            clock,
            trace,
            violations,
            books: Mutex::default(),
        }
    }

    /// The highest index any master applied.
    pub fn max_applied(&self) -> u64 {
        self.books
            .lock()
            .applied
            .last_key_value()
            .map_or(0, |(i, _)| *i)
    }

    /// Terms with a leader so far.
    pub fn terms_led(&self) -> usize {
        self.books.lock().leaders.len()
    }
}

impl LogObserver for RaftChecker {
    fn applied(&self, node: u64, index: u64, term: u64, data: &[u8]) {
        let hash = fnv(FNV_START, data);
        let mut books = self.books.lock();
        match books.applied.get(&index) {
            None => {
                books.applied.insert(index, (term, hash, node));
            }
            Some((t, h, first)) if (*t, *h) != (term, hash) => {
                let v = format!(
                    "master {} applied entry {index} of term {term}, but master {} applied another entry (term {t}) at that index: a committed change was lost",
                    node - 1,
                    first - 1
                );
                drop(books);
                self.trace
                    .line(self.clock.now(), format_args!("VIOLATION {v}"));
                self.violations.push(v);
            }
            Some(_) => {}
        }
    }

    fn leads(&self, node: u64, term: u64) {
        let mut books = self.books.lock();
        let first = *books.leaders.entry(term).or_insert(node);
        drop(books);
        self.trace.line(
            self.clock.now(),
            format_args!("master {} leads raft term {term}", node - 1),
        );
        if first != node {
            let v = format!(
                "masters {} and {} both led raft term {term}",
                first - 1,
                node - 1
            );
            self.trace
                .line(self.clock.now(), format_args!("VIOLATION {v}"));
            self.violations.push(v);
        }
    }
}

/// One running master: its node, transport tag, host and log.
struct Running {
    node: Node,
    tag: u64,
    host: MasterHost,
    log: RaftLog<Registry>,
}

struct Seat {
    disk: SimDisk,
    fsync_latency: Duration,
    running: Option<Running>,
    generation: u64,
}

/// The masters of a run.
pub struct RaftSeats {
    seed: u64,
    addrs: Vec<SocketAddr>,
    seats: Vec<Seat>,
    checker: Arc<RaftChecker>,
    /// Requests from the agenda.
    pub requests: Arc<Mutex<Vec<RaftRequest>>>,
}

impl RaftSeats {
    /// `addrs.len()` masters with empty disks (none started).
    pub fn new(
        seed: u64,
        addrs: Vec<SocketAddr>,
        clock: &TestClock,
        trace: &Trace,
        violations: &Violations,
    ) -> RaftSeats {
        let seats = (0..addrs.len())
            .map(|k| {
                let mut rng = SimRng::stream(seed, &format!("master-{k}-disk-latency"));
                Seat {
                    disk: SimDisk::new(
                        SimRng::stream(seed, &format!("master-{k}-disk")),
                        DiskFaults::default(),
                    ),
                    fsync_latency: Duration::from_micros(rng.range(100, 5_000)),
                    running: None,
                    generation: 0,
                }
            })
            .collect();
        RaftSeats {
            seed,
            addrs,
            seats,
            checker: Arc::new(RaftChecker::new(
                clock.clone(),
                trace.clone(),
                violations.clone(),
            )),
            requests: Arc::default(),
        }
    }

    /// Every master's `master` process address (the agents' and drivers' `--master` list).
    pub fn upids(&self) -> Vec<Upid> {
        self.addrs.iter().map(|a| Upid::new("master", *a)).collect()
    }

    /// The checker's books.
    pub fn checker(&self) -> &RaftChecker {
        &self.checker
    }

    /// Whether master `k` runs.
    pub fn is_up(&self, k: usize) -> bool {
        self.seats[k].running.is_some()
    }

    /// Masters.
    pub fn len(&self) -> usize {
        self.seats.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.seats.is_empty()
    }

    /// The master that leads by its own log now, if one does.
    pub fn leader(&self) -> Option<usize> {
        self.seats
            .iter()
            .position(|s| s.running.as_ref().is_some_and(|r| r.log.leader().is_leader))
    }

    /// The leading master's `Master` process (for the books checker).
    pub fn leader_master(&self) -> Option<Pid<Master>> {
        let k = self.leader()?;
        self.seats[k].running.as_ref()?.host.master_pid()
    }

    /// Starts master `k` (first start or restart); violations go to the checker's sink.
    pub async fn start(&mut self, k: usize, net: &SimNet, clock: &TestClock, trace: &Trace) {
        let seat = &mut self.seats[k];
        if seat.running.is_some() {
            return;
        }
        let generation = seat.generation;
        seat.generation += 1;
        let addr = self.addrs[k];
        let (transport, tag) = net.transport(addr.ip());
        let node = Node::builder()
            .bind(addr)
            .transport(transport)
            .test_clock(clock)
            .seed(SimRng::stream(self.seed, &format!("node-master-{k}-{generation}")).next_u64())
            .build()
            .await
            .expect("a master's node binds in the simulation");
        let (records, torn) = seat.disk.recover();
        trace.line(
            clock.now(),
            format_args!(
                "master {k} starts (generation {generation}): {} raft store records, {torn} torn bytes cut",
                records.len()
            ),
        );
        let options =
            RaftLogOptions::for_member(addr, &self.addrs).expect("every master is among the peers");
        let store = SimStore::new(
            seat.disk.clone(),
            clock.clone(),
            seat.fsync_latency,
            &format!("master-{k}"),
        );
        let observer: Arc<dyn LogObserver> = self.checker.clone();
        let log =
            match RaftLog::<Registry>::start_on(&node, options, Arc::new(store), Some(observer)) {
                Ok(log) => log,
                Err(e) => {
                    let v = format!("master {k} cannot open its raft store: {e}");
                    trace.line(clock.now(), format_args!("VIOLATION {v}"));
                    self.checker.violations.push(v);
                    node.shutdown().await;
                    return;
                }
            };
        let mut config =
            MasterConfig::new(&format!("sim{k}g{generation}"), &format!("master{k}.sim"));
        config.agent_reregister_timeout = Duration::from_secs(60);
        let peers = self
            .addrs
            .iter()
            .enumerate()
            .map(|(i, a)| (i as u64 + 1, *a))
            .collect();
        let host = MasterHost::start(&node, log.clone(), peers, config);
        seat.running = Some(Running {
            node,
            tag,
            host,
            log,
        });
    }

    /// Crashes master `k` (nothing when it is down).
    pub async fn crash(&mut self, k: usize, net: &SimNet, clock: &TestClock, trace: &Trace) {
        let Some(running) = self.seats[k].running.take() else {
            return;
        };
        net.crash(running.tag);
        running.node.shutdown().await;
        drop(running.host);
        let tail = self.seats[k].disk.crash();
        trace.line(
            clock.now(),
            format_args!("master {k} crashes (unsynced raft store tail: {tail:?})"),
        );
    }

    /// Runs the agenda's requests; answers whether there were any.
    pub async fn run_requests(
        &mut self,
        net: &SimNet,
        clock: &TestClock,
        trace: &Trace,
        agenda: &Agenda,
    ) -> bool {
        let requests: Vec<RaftRequest> = std::mem::take(&mut *self.requests.lock());
        if requests.is_empty() {
            return false;
        }
        for r in requests {
            match r {
                RaftRequest::Crash(k) => self.crash(k, net, clock, trace).await,
                RaftRequest::Restart(k) => self.start(k, net, clock, trace).await,
                RaftRequest::CrashLeader { down, mid_write } => {
                    let Some(k) = self.leader() else {
                        trace.line(clock.now(), format_args!("no master leads: no crash"));
                        continue;
                    };
                    let restart = {
                        let (requests, agenda, clock) =
                            (self.requests.clone(), agenda.clone(), clock.clone());
                        move || {
                            let at = clock.now() + down;
                            agenda.at(at, move || requests.lock().push(RaftRequest::Restart(k)));
                        }
                    };
                    if mid_write {
                        trace.line(
                            clock.now(),
                            format_args!("master {k} (leader) will crash at its next raft write"),
                        );
                        let requests = self.requests.clone();
                        self.seats[k].disk.on_next_write(move || {
                            requests.lock().push(RaftRequest::Crash(k));
                            restart();
                        });
                    } else {
                        trace.line(clock.now(), format_args!("master {k} (leader) crashes"));
                        self.crash(k, net, clock, trace).await;
                        restart();
                    }
                }
                RaftRequest::PartitionLeader => {
                    let Some(k) = self.leader() else {
                        continue;
                    };
                    trace.line(
                        clock.now(),
                        format_args!("partition master {k} (leader) from the other masters"),
                    );
                    self.cut(&[k], net);
                }
                RaftRequest::PartitionMinority(n) => {
                    let leader = self.leader();
                    let minority: Vec<usize> = (0..self.len())
                        .rev()
                        .filter(|k| Some(*k) != leader)
                        .take(n)
                        .collect();
                    trace.line(
                        clock.now(),
                        format_args!("partition masters {minority:?} from the other masters"),
                    );
                    self.cut(&minority, net);
                }
            }
        }
        true
    }

    /// Cuts the masters `side` from the other masters.
    fn cut(&self, side: &[usize], net: &SimNet) {
        for a in side {
            for b in (0..self.len()).filter(|b| !side.contains(b)) {
                net.partition(self.addrs[*a].ip(), self.addrs[b].ip());
            }
        }
    }

    /// The supervisor: a master whose host stopped by itself (its Raft peer stopped on a
    /// store failure, or its `Master` stopped while leading) is restarted a second later.
    pub fn supervise(&self, now: Duration, agenda: &Agenda, trace: &Trace) {
        for (k, seat) in self.seats.iter().enumerate() {
            if seat.running.as_ref().is_some_and(|r| r.host.is_finished()) {
                trace.line(
                    now,
                    format_args!("master {k} exited; its supervisor restarts it"),
                );
                let requests = self.requests.clone();
                requests.lock().push(RaftRequest::Crash(k));
                agenda.at(now + Duration::from_secs(1), move || {
                    requests.lock().push(RaftRequest::Restart(k))
                });
            }
        }
    }

    /// Healing: no more requests or disk faults; the caller restarts the masters down.
    pub fn heal(&self) {
        self.requests.lock().clear();
        for seat in &self.seats {
            seat.disk.set_faults(DiskFaults::default());
            seat.disk.disarm();
        }
    }

    /// After healing: every master has applied every entry any master applied.
    pub async fn check_caught_up(&self) -> Vec<String> {
        let max = self.checker.max_applied();
        let mut found = Vec::new();
        for (k, seat) in self.seats.iter().enumerate() {
            let Some(r) = &seat.running else {
                found.push(format!("master {k} is down after healing"));
                continue;
            };
            match r.log.inspect(|_, stats| stats.applied).await {
                Ok(applied) if applied >= max => {}
                Ok(applied) => found.push(format!(
                    "master {k} applied up to raft index {applied} after healing, but index {max} was applied"
                )),
                Err(e) => found.push(format!("master {k}'s raft log is gone after healing: {e}")),
            }
        }
        found
    }

    /// How many master faults this seed draws (the plan's indexes count them).
    pub fn fault_count(&self) -> usize {
        SimRng::stream(self.seed, "raft-master-faults").range(0, 4) as usize
    }

    /// Draws the masters' faults onto the agenda from their own seeded stream, as the
    /// plan's faults `first..first + fault_count()` (the minimiser can drop each), and the
    /// disks' faults.
    pub fn schedule(
        &self,
        agenda: &Agenda,
        net: &SimNet,
        trace: &Trace,
        end: Duration,
        first: usize,
        plan: &Plan,
    ) {
        let mut rng = SimRng::stream(self.seed, "raft-master-faults");
        let n = rng.range(0, 4) as usize;
        let minority = (self.len() - 1) / 2;
        for index in first..first + n {
            let at = Duration::from_millis(rng.range(5_000, end.as_millis() as u64));
            let len = Duration::from_millis(rng.range(200, 20_000));
            let kind = rng.below(3);
            let mid_write = rng.chance(0.5);
            let agenda = plan.fault_agenda(index, agenda);
            let requests = self.requests.clone();
            let request = match kind {
                0 => RaftRequest::CrashLeader {
                    down: len,
                    mid_write,
                },
                1 => RaftRequest::PartitionLeader,
                _ => RaftRequest::PartitionMinority(minority),
            };
            agenda.at(at, move || requests.lock().push(request));
            if kind != 0 {
                let (net, trace) = (net.clone(), trace.clone());
                agenda.at(at + len, move || {
                    trace.line(at + len, format_args!("heal partitions"));
                    net.heal();
                });
            }
        }
        let faults = DiskFaults {
            fsync_fail_p: [0.0, 0.0, 0.002, 0.02][rng.below(4)],
            torn_p: [0.0, 0.5, 1.0][rng.below(3)],
        };
        trace.line(
            Duration::ZERO,
            format_args!(
                "{} raft masters: {n} master faults, disks {faults:?}",
                self.len()
            ),
        );
        for seat in &self.seats {
            seat.disk.set_faults(faults);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> (RaftChecker, Violations) {
        let violations = Violations::default();
        let c = RaftChecker::new(TestClock::paused(), Trace::new(false), violations.clone());
        (c, violations)
    }

    #[test]
    fn two_leaders_in_one_term_are_a_violation() {
        let (c, v) = checker();
        c.leads(1, 1);
        c.leads(2, 2);
        c.leads(2, 2);
        assert!(v.is_empty(), "{:?}", v.all());
        c.leads(3, 2);
        assert_eq!(v.all().len(), 1);
        assert!(v.all()[0].contains("masters 1 and 2 both led raft term 2"));
    }

    #[test]
    fn another_entry_at_an_applied_index_is_a_lost_committed_change() {
        let (c, v) = checker();
        c.applied(1, 1, 1, b"a");
        c.applied(2, 1, 1, b"a");
        c.applied(1, 2, 1, b"b");
        assert!(v.is_empty());
        assert_eq!(c.max_applied(), 2);
        c.applied(3, 2, 2, b"c");
        assert_eq!(v.all().len(), 1);
        assert!(
            v.all()[0].contains("a committed change was lost"),
            "{:?}",
            v.all()
        );
    }
}
