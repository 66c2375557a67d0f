//! [`MasterHost`]: runs the `Master` on the Raft leader and the `StandIn` elsewhere, and
//! swaps them as leadership moves (see the module docs of `leadership`).
//!
//! The host is a tokio task, not a process: it waits on the log's leader watch and on the
//! exit of the process it runs. A `Master` that stops on its own while this master still
//! leads (a registrar failure, e.g. the store failed) ends the host with an error, as a
//! Mesos master commits suicide; one that stops because leadership moved is replaced by a
//! `StandIn`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use libprocess::slog::{info, warn};
use libprocess::{Node, Pid, Upid};
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{snapshot_of, Companion, LeaderInfo, RaftRegistrar, SharedLeaderInfo, StandIn};
use crate::master::{Master, MasterConfig};
use crate::raftlog::{LeaderState, RaftLog};
use meso_registry::Registry;

/// Metric: 1 while this master leads and runs the master process, else 0.
pub const ELECTED: &str = "master/elected";
/// Metric: the Raft term this master has seen.
pub const RAFT_TERM: &str = "master/raft_term";

/// Metric: how many masters the cluster has (`--peers`, 1 without).
pub const RAFT_PEERS: &str = "master/raft_peers";
/// Metric: the leader's Raft id, its position in `--peers` counted from 1 (0: none known).
pub const LEADER_RAFT_ID: &str = "master/leader_raft_id";

/// Time between two attempts of the lease read a new leader recovers with.
const RECOVERY_RETRY: Duration = Duration::from_millis(20);
/// How long a master that stopped on its own may wait for the leader watch to show that
/// leadership moved (its writes failed for that reason) before it counts as a failure.
const STEP_DOWN_GRACE: Duration = Duration::from_secs(1);
/// Longest wait for that lease read before looking at leadership again (a hang guard: a
/// read is answered or refused by the log in the normal course).
const RECOVERY_READ_GUARD: Duration = Duration::from_secs(2);

/// Why the host stopped serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// A process could not be spawned (e.g. the id `master` is taken).
    #[error("cannot start the {what} process: {reason}")]
    Spawn {
        /// `master` or `stand-in`.
        what: &'static str,
        /// The runtime's reason.
        reason: String,
    },
    /// The master process stopped while this master still led (registrar failure).
    #[error("the master process stopped while leading (term {term})")]
    MasterStopped {
        /// The term it led in.
        term: u64,
    },
    /// The replicated log stopped.
    #[error("the replicated log stopped")]
    LogStopped,
}

/// Handle to a running host.
pub struct MasterHost {
    leader: SharedLeaderInfo,
    master: Arc<Mutex<Option<Pid<Master>>>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), HostError>>,
}

enum Serving {
    StandIn(Upid),
    Master(Upid, u64),
}

impl Serving {
    fn upid(&self) -> &Upid {
        match self {
            Serving::StandIn(u) | Serving::Master(u, _) => u,
        }
    }
}

impl MasterHost {
    /// Starts serving on `node` (which must run `log`): a stand-in at once, the master when
    /// this node leads. `peers` maps Raft ids to the masters' addresses; `config` is the
    /// master's configuration (each election gets a fresh master id: `<id>-<term>`).
    pub fn start(
        node: &Node,
        log: RaftLog<Registry>,
        peers: BTreeMap<u64, SocketAddr>,
        config: MasterConfig,
    ) -> MasterHost {
        MasterHost::start_with(node, log, peers, config, Vec::new())
    }

    /// [`MasterHost::start`] with `companions` run beside the master while it leads.
    pub fn start_with(
        node: &Node,
        log: RaftLog<Registry>,
        peers: BTreeMap<u64, SocketAddr>,
        config: MasterConfig,
        companions: Vec<Arc<dyn Companion>>,
    ) -> MasterHost {
        let leader: SharedLeaderInfo = Arc::new(Mutex::new(LeaderInfo {
            peers: peers.values().copied().collect(),
            ..LeaderInfo::default()
        }));
        let (stop, stop_rx) = watch::channel(false);
        let master = Arc::new(Mutex::new(None));
        let task = tokio::spawn(run(
            node.clone(),
            log,
            peers,
            config,
            (leader.clone(), master.clone()),
            stop_rx,
            companions,
        ));
        MasterHost {
            leader,
            master,
            stop,
            task,
        }
    }

    /// Who leads, as this master knows it.
    pub fn leader_info(&self) -> LeaderInfo {
        self.leader.lock().clone()
    }

    /// The shared leader info (for `/master/state` and metrics).
    pub fn shared_leader_info(&self) -> SharedLeaderInfo {
        self.leader.clone()
    }

    /// The `Master` process this host started last (it may have stopped since).
    pub fn master_pid(&self) -> Option<Pid<Master>> {
        self.master.lock().clone()
    }

    /// Whether the host has stopped (see [`wait`](Self::wait) for why).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until the host stops: `Ok` after [`MasterHost::stop`], an error otherwise.
    pub async fn wait(&mut self) -> Result<(), HostError> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(_) => Err(HostError::LogStopped),
        }
    }

    /// Stops the process it runs and the host.
    pub async fn stop(mut self) -> Result<(), HostError> {
        let _ = self.stop.send(true);
        self.wait().await
    }
}

fn update_info(
    shared: &SharedLeaderInfo,
    node: &Node,
    peers: &BTreeMap<u64, SocketAddr>,
    state: LeaderState,
    elected: bool,
) {
    let mut info = shared.lock();
    info.leader = peers
        .get(&state.leader)
        .map(|addr| Upid::new("master", *addr));
    info.term = state.term;
    info.elected = elected;
    node.metrics()
        .gauge(ELECTED)
        .set(if elected { 1 } else { 0 });
    node.metrics()
        .gauge(RAFT_TERM)
        .set(i64::try_from(state.term).unwrap_or(i64::MAX));
    node.metrics()
        .gauge(RAFT_PEERS)
        .set(i64::try_from(peers.len()).unwrap_or(i64::MAX));
    node.metrics()
        .gauge(LEADER_RAFT_ID)
        .set(i64::try_from(state.leader).unwrap_or(i64::MAX));
}

fn spawn_stand_in(
    node: &Node,
    shared: &SharedLeaderInfo,
    config: &MasterConfig,
) -> Result<Serving, HostError> {
    let stand_in = StandIn::new(shared.clone()).with_http_auth(config.http_auth.clone());
    let pid = node
        .spawn_named("master", stand_in)
        .map_err(|e| HostError::Spawn {
            what: "stand-in",
            reason: e.to_string(),
        })?;
    Ok(Serving::StandIn(pid.upid().clone()))
}

/// Stops every companion (before the master they run beside).
async fn depose(node: &Node, companions: &[Arc<dyn Companion>]) {
    for c in companions {
        c.deposed(node).await;
    }
}

async fn stop_process(node: &Node, upid: &Upid) {
    let exited = node.wait(upid);
    node.terminate(upid);
    exited.await;
}

/// The registry by a lease read; `Err` when the read failed or took longer than
/// [`RECOVERY_READ_GUARD`] (then the caller looks at leadership again).
async fn recover(
    node: &Node,
    log: &RaftLog<Registry>,
) -> Result<crate::master::registrar::RegistrySnapshot, String> {
    let clock = node.clock();
    let guard = clock.sleep_until(clock.now() + RECOVERY_READ_GUARD);
    tokio::select! {
        biased;
        read = log.read(snapshot_of) => read.map_err(|e| e.to_string()),
        _ = guard => Err("the registry read did not complete".to_string()),
    }
}

/// Milliseconds since the Unix epoch by the node's wall clock, for the failover phase log
/// lines only.
fn unix_ms(node: &Node) -> u64 {
    libprocess::unix_ms(node.wall_time())
}

async fn run(
    node: Node,
    log: RaftLog<Registry>,
    peers: BTreeMap<u64, SocketAddr>,
    config: MasterConfig,
    (shared, started): (SharedLeaderInfo, Arc<Mutex<Option<Pid<Master>>>>),
    mut stop: watch::Receiver<bool>,
    companions: Vec<Arc<dyn Companion>>,
) -> Result<(), HostError> {
    let logger = node.logger().clone();
    let mut leader = log.watch_leader();
    let mut serving = spawn_stand_in(&node, &shared, &config)?;
    node.set_delegate(Some("master"));
    let mut logged_term = 0;
    loop {
        let state = *leader.borrow_and_update();
        if state.is_leader && state.term != logged_term {
            logged_term = state.term;
            info!(logger, "raft leadership gained; recovering the registry";
                "term" => state.term, "at_unix_ms" => unix_ms(&node));
        }
        let elected = matches!(serving, Serving::Master(..));
        update_info(&shared, &node, &peers, state, elected && state.is_leader);
        match (&serving, state.is_leader) {
            (Serving::StandIn(_), true) => match recover(&node, &log).await {
                Ok(snapshot) => {
                    info!(logger, "registry recovered by a lease read";
                        "term" => state.term, "agents" => snapshot.admitted.len(),
                        "at_unix_ms" => unix_ms(&node));
                    let mut config = config.clone();
                    config.master_id = format!("{}-{}", config.master_id, state.term);
                    let master = Master::new(config, Box::new(RaftRegistrar::new(log.clone())))
                        .with_leader_info(shared.clone())
                        .recovered_from(snapshot);
                    // Replaced in place: the stand-in answers what it already has queued,
                    // and everything sent from now on queues for the master, so no client
                    // message meets an unknown process and no client link breaks.
                    let pid =
                        node.replace_named("master", master)
                            .map_err(|e| HostError::Spawn {
                                what: "master",
                                reason: e.to_string(),
                            })?;
                    *started.lock() = Some(pid.clone());
                    info!(logger, "elected: this master leads"; "term" => state.term, "pid" => %pid.upid(), "at_unix_ms" => unix_ms(&node));
                    serving = Serving::Master(pid.upid().clone(), state.term);
                    update_info(&shared, &node, &peers, state, true);
                    for c in &companions {
                        c.elected(&node, &log);
                    }
                }
                Err(e) => {
                    // The lease is not valid yet (nothing committed in this term) or
                    // leadership moved on: look again shortly.
                    let clock = node.clock();
                    let stopped = tokio::select! {
                        biased;
                        _ = clock.sleep_until(clock.now() + RECOVERY_RETRY) => false,
                        _ = stop.changed() => true,
                    };
                    if stopped {
                        stop_process(&node, serving.upid()).await;
                        return Ok(());
                    }
                    libprocess::slog::debug!(logger, "registry recovery not possible yet"; "reason" => e);
                    continue;
                }
            },
            (Serving::Master(upid, term), false) => {
                warn!(logger, "leadership lost: the master process stops"; "term" => *term, "new_term" => state.term);
                depose(&node, &companions).await;
                stop_process(&node, upid).await;
                serving = spawn_stand_in(&node, &shared, &config)?;
                update_info(&shared, &node, &peers, state, false);
            }
            _ => {}
        }
        let exited = node.wait(serving.upid());
        tokio::select! {
            biased;
            changed = leader.changed() => {
                if changed.is_err() {
                    depose(&node, &companions).await;
                    stop_process(&node, serving.upid()).await;
                    return Err(HostError::LogStopped);
                }
            }
            _ = exited => {
                match &serving {
                    Serving::Master(_, term) => {
                        let term = *term;
                        depose(&node, &companions).await;
                        // Registry writes fail as soon as leadership moves, which the
                        // leader watch may show a moment later: give it that moment.
                        let clock = node.clock();
                        let moved = tokio::select! {
                            biased;
                            r = leader.wait_for(|s| !s.is_leader || s.term != term) => r.is_ok(),
                            _ = clock.sleep_until(clock.now() + STEP_DOWN_GRACE) => false,
                        };
                        if !moved {
                            update_info(&shared, &node, &peers, log.leader(), false);
                            return Err(HostError::MasterStopped { term });
                        }
                        // It stopped because its registry writes failed after leadership
                        // moved; the next turn of the loop serves as a stand-in.
                        serving = spawn_stand_in(&node, &shared, &config)?;
                    }
                    Serving::StandIn(_) => {
                        serving = spawn_stand_in(&node, &shared, &config)?;
                    }
                }
            }
            _ = stop.changed() => {
                depose(&node, &companions).await;
                stop_process(&node, serving.upid()).await;
                update_info(&shared, &node, &peers, log.leader(), false);
                return Ok(());
            }
        }
    }
}
