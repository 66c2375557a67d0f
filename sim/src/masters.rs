//! The simulated master's seat: the machine the production `Master` runs on, its disk
//! (which outlives the process) and its crash/restart schedule.
//!
//! A crash resets the master's connections, stops its node (the `Master` and its allocator
//! die with their heaps) and crashes its disk ([`SimDisk::crash`]: unsynced writes are
//! lost, kept or torn). A restart opens the registry log again ([`DiskRegistrar::open`],
//! which checks the committed changes against it) and starts a new `Master` recovered from
//! that registry, at the same address, with a new master id (`sim-<generation>`, as the
//! production host's `<id>-<term>`): agents re-register and frameworks re-subscribe
//! through their production paths. A master that stopped by itself (a failed fsync makes
//! the registrar fail, and the master stops) is restarted by its supervisor a second later.
//!
//! This is the one-master shape (`--masters 1`, the default). Three or five masters on the
//! production Raft registry are `raft_seats.rs` (`--masters 3`): there the seam is the
//! log's `StoreBackend` (`meso_master::raftlog`), which the simulator implements on a
//! [`SimDisk`] (`raftstore.rs`: appends fsync after the disk's latency on the simulated
//! clock instead of on a blocking thread), and the Raft peer probes a dead leader and
//! paces its retries through its node's transport and clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use libprocess::{Clock, Node, Pid, TestClock};
use meso_master::{Master, MasterConfig};
use parking_lot::Mutex;

use crate::agenda::Agenda;
use crate::disk::{DiskFaults, SimDisk};
use crate::net::SimNet;
use crate::plan::Plan;
use crate::registrar::{DiskRegistrar, Ledger};
use crate::rng::SimRng;
use crate::trace::Trace;

/// The master's process id on its node.
const MASTER_ID: &str = "master";

/// A request from the agenda: crash the master, or restart it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatRequest {
    /// Crash the master's machine.
    Crash,
    /// Start it again (if it is down).
    Restart,
}

/// The master's machine.
pub struct MasterSeat {
    seed: u64,
    addr: SocketAddr,
    disk: SimDisk,
    ledger: Ledger,
    fsync_latency: Duration,
    node: Option<(Node, u64)>,
    generation: u64,
    /// Requests from the agenda, run by the world's loop when the cluster is idle.
    pub requests: Arc<Mutex<Vec<SeatRequest>>>,
}

impl MasterSeat {
    /// The seat at `addr`, with an empty disk.
    pub fn new(seed: u64, addr: SocketAddr) -> MasterSeat {
        let mut rng = SimRng::stream(seed, "master-disk-latency");
        MasterSeat {
            seed,
            addr,
            disk: SimDisk::new(SimRng::stream(seed, "master-disk"), DiskFaults::default()),
            ledger: Ledger::default(),
            fsync_latency: Duration::from_micros(rng.range(100, 5_000)),
            node: None,
            generation: 0,
            requests: Arc::default(),
        }
    }

    /// Whether the machine runs.
    pub fn is_up(&self) -> bool {
        self.node.is_some()
    }

    /// The disk (to set its faults).
    pub fn disk(&self) -> &SimDisk {
        &self.disk
    }

    /// Changes committed by the registrar so far.
    pub fn committed(&self) -> usize {
        self.ledger.len()
    }

    /// Starts the master (first start or restart); answers its pid and the violations its
    /// recovery found.
    pub async fn start(
        &mut self,
        net: &SimNet,
        clock: &TestClock,
        trace: &Trace,
    ) -> (Pid<Master>, Vec<String>) {
        let generation = self.generation;
        self.generation += 1;
        let (transport, tag) = net.transport(self.addr.ip());
        let node = Node::builder()
            .bind(self.addr)
            .transport(transport)
            .test_clock(clock)
            .seed(SimRng::stream(self.seed, &format!("node-master-{generation}")).next_u64())
            .build()
            .await
            .expect("the master's node binds in the simulation");
        let (registrar, opened, violations) = DiskRegistrar::open(
            self.disk.clone(),
            clock.clone(),
            self.fsync_latency,
            self.ledger.clone(),
        );
        let snapshot = registrar.snapshot();
        trace.line(
            clock.now(),
            format_args!(
                "master starts (generation {generation}): {} registry records, {} torn bytes cut, {} admitted, {} unreachable, {} frameworks",
                opened.records,
                opened.torn_bytes,
                snapshot.admitted.len(),
                snapshot.unreachable.len(),
                snapshot.frameworks.len()
            ),
        );
        let mut violations = violations;
        if opened.refused > 0 {
            violations.push(format!(
                "the registry refused {} of its own log records on recovery",
                opened.refused
            ));
        }
        let master_id = if generation == 0 {
            "sim".to_string()
        } else {
            format!("sim-{generation}")
        };
        let mut config = MasterConfig::new(&master_id, "master.sim");
        config.agent_reregister_timeout = Duration::from_secs(60);
        let master = Master::new(config, Box::new(registrar)).recovered_from(snapshot);
        let pid = node
            .spawn_named(MASTER_ID, master)
            .expect("the master spawns");
        self.node = Some((node, tag));
        (pid, violations)
    }

    /// Crashes the master's machine (nothing when it is down).
    pub async fn crash(&mut self, net: &SimNet, clock: &TestClock, trace: &Trace) {
        let Some((node, tag)) = self.node.take() else {
            return;
        };
        net.crash(tag);
        node.shutdown().await;
        let tail = self.disk.crash();
        trace.line(
            clock.now(),
            format_args!("master crashes (unsynced registry tail: {tail:?})"),
        );
    }

    /// Healing: no more crash requests or disk faults.
    pub fn heal(&self) {
        self.requests.lock().clear();
        self.disk.set_faults(DiskFaults::default());
        self.disk.disarm();
    }

    /// Whether the `Master` process stopped by itself while its machine runs.
    pub fn exited(&self) -> bool {
        match &self.node {
            Some((node, _)) => !node
                .processes()
                .iter()
                .any(|(upid, _)| upid.id() == MASTER_ID),
            None => false,
        }
    }

    /// How many crashes this seed draws (the plan's indexes count them).
    pub fn fault_count(&self) -> usize {
        [0, 0, 1, 1, 2][SimRng::stream(self.seed, "master-faults").below(5)]
    }

    /// Draws the master's crashes onto the agenda as the plan's faults `first..first +
    /// fault_count()` (so the minimiser can drop each), and the disk's faults, from their
    /// own seeded stream (the other faults' schedule is unchanged by them).
    #[allow(clippy::too_many_arguments)]
    pub fn schedule(
        &self,
        agenda: &Agenda,
        clock: &TestClock,
        trace: &Trace,
        end: Duration,
        disk_faults: bool,
        first: usize,
        plan: &Plan,
    ) {
        let mut rng = SimRng::stream(self.seed, "master-faults");
        let crashes = [0, 0, 1, 1, 2][rng.below(5)];
        for index in first..first + crashes {
            let at = Duration::from_millis(rng.range(5_000, end.as_millis() as u64));
            let down = Duration::from_millis(rng.range(200, 20_000));
            let agenda = &plan.fault_agenda(index, agenda);
            if rng.chance(0.5) {
                // At the next registry write, after its bytes reach the page cache and
                // before its fsync; restarted `down` later.
                let (requests, disk, tr) =
                    (self.requests.clone(), self.disk.clone(), trace.clone());
                let (agenda2, clock) = (agenda.clone(), clock.clone());
                agenda.at(at, move || {
                    tr.line(
                        at,
                        format_args!("master will crash at its next registry write"),
                    );
                    disk.on_next_write(move || {
                        requests.lock().push(SeatRequest::Crash);
                        agenda2.at(clock.now() + down, move || {
                            requests.lock().push(SeatRequest::Restart)
                        });
                    });
                });
                continue;
            }
            let requests = self.requests.clone();
            agenda.at(at, move || requests.lock().push(SeatRequest::Crash));
            let requests = self.requests.clone();
            agenda.at(at + down, move || {
                requests.lock().push(SeatRequest::Restart)
            });
        }
        let faults = DiskFaults {
            fsync_fail_p: [0.0, 0.0, 0.002, 0.02][rng.below(4)],
            torn_p: [0.0, 0.5, 1.0][rng.below(3)],
        };
        if disk_faults {
            trace.line(
                Duration::ZERO,
                format_args!("master crashes {crashes}, disk {faults:?}"),
            );
            self.disk.set_faults(faults);
        } else {
            trace.line(Duration::ZERO, format_args!("master crashes {crashes}"));
        }
    }
}
