//! One simulated run: builds the cluster from a seed, runs the workload and the fault
//! schedule, heals, reconciles, and checks.
//!
//! The run loop waits until the runtime is idle (no task can run), checks the continuous
//! invariants when a simulated second has passed, then moves the clock straight to the
//! next thing due (a network delivery, an actor's timer, an agenda action) and delivers
//! it. Phases: workload with faults until `duration`; heal everything (partitions, drops, disk
//! faults; crashed agents and master restarted) and stop launching; a quiet period; every framework
//! reconciles; a last quiet period; the final checks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use libprocess::{Clock, Node, Pid, TestClock, Upid};
use meso_agent::agent::{Agent, AgentConfig, AGENT_PROCESS_ID};
use meso_api::v1::{FrameworkInfo, TaskId};
use meso_api::Resources;
use meso_frameworks::{DriverHandle, SchedulerDriver};
use meso_master::Master;
use parking_lot::Mutex;

use crate::agenda::Agenda;
use crate::checkers::{self, Truth, Violations};
use crate::exec::{self, IdleSignal};
use crate::host::{SimHost, TaskBehaviour};
use crate::masters::{MasterSeat, SeatRequest};
use crate::net::{NetFaults, NetStats, SimNet};
use crate::plan::Plan;
use crate::raft_seats::RaftSeats;
use crate::rng::SimRng;
use crate::trace::Trace;
use crate::workload::{self, FrameworkView, SharedView, SimScheduler};

/// The wall-clock time at simulated time zero (fixed: a run never depends on the date).
pub const WALL_EPOCH_SECS: u64 = 1_767_225_600;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The seed: everything else follows from it.
    pub seed: u64,
    /// Agents (one machine each).
    pub agents: usize,
    /// Frameworks.
    pub frameworks: usize,
    /// Simulated time of workload and faults.
    pub duration: Duration,
    /// Inject faults (drops, delays, partitions, agent crashes).
    pub faults: bool,
    /// Keep the trace's text.
    pub keep_trace: bool,
    /// The quiet period after healing, before the acknowledgement checks: longer than a
    /// task's longest run (60 s) plus an update's retry, or a task launched just before
    /// healing ends after the check and its update looks lost.
    pub heal: Duration,
    /// Which parts of the drawn schedule run (the minimiser's handle).
    pub plan: Plan,
    /// Masters: 1 (one master, its registry a log on its disk: `masters.rs`) or 3, 5, ...
    /// on the production Raft registry (`raft_seats.rs`).
    pub masters: usize,
}

impl SimConfig {
    /// The default run for `seed`.
    pub fn new(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            agents: 3,
            frameworks: 2,
            duration: Duration::from_secs(120),
            faults: true,
            keep_trace: false,
            heal: Duration::from_secs(240),
            plan: Plan::default(),
            masters: 1,
        }
    }
}

/// What a run found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Violations of the invariants (empty: the seed passed).
    pub violations: Vec<String>,
    /// The trace digest.
    pub digest: u64,
    /// Trace lines.
    pub trace_lines: u64,
    /// The trace (empty unless kept).
    pub trace: String,
    /// What the network carried.
    pub net: NetStats,
    /// Simulated time at the end.
    pub simulated: Duration,
    /// Run-loop steps (idle points).
    pub steps: u64,
    /// Tasks that started on some machine.
    pub tasks_started: usize,
}

impl Outcome {
    /// Events the run simulated: frames and HTTP chunks carried.
    pub fn events(&self) -> u64 {
        self.net.frames + self.net.chunks
    }
}

/// Runs one simulation on a fresh single-threaded runtime.
pub fn run(config: &SimConfig) -> Outcome {
    let idle = Arc::new(IdleSignal::default());
    let rt = exec::runtime(idle.clone()).expect("a current-thread runtime builds");
    let work = tempfile::Builder::new()
        .prefix("meso-sim-")
        .tempdir_in(work_root())
        .expect("a temporary work directory for the simulated agents");
    let outcome = rt.block_on(World::run(config.clone(), idle, work.path().to_path_buf()));
    drop(rt);
    outcome
}

/// Where the agents' work directories go: `MESO_SIM_WORK_DIR`, else `/dev/shm` when it
/// exists (the agents checkpoint with fsync, which on a real disk would cost more than
/// everything else in a run, and a run does not simulate disk faults yet), else the
/// system's temporary directory.
fn work_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("MESO_SIM_WORK_DIR") {
        return PathBuf::from(dir);
    }
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        return shm;
    }
    std::env::temp_dir()
}

struct AgentSlot {
    ip: IpAddr,
    host: SimHost,
    node: Option<(Node, u64)>,
    /// The agent process while its node runs.
    agent: Option<Pid<Agent>>,
    work_dir: PathBuf,
}

struct FrameworkSlot {
    /// The framework's node, held for the run (dropped with the world: a forgotten node
    /// leaked its peers and processes, ~200 KB per seed in a campaign).
    _node: Node,
    view: SharedView,
    /// Whether it checkpoints (its tasks' updates survive an agent restart).
    checkpoint: bool,
    handle: DriverHandle,
    rng: Arc<Mutex<SimRng>>,
}

struct World {
    config: SimConfig,
    clock: TestClock,
    net: SimNet,
    trace: Trace,
    agenda: Agenda,
    idle: Arc<IdleSignal>,
    /// The one master (without `raft`).
    master: Option<Pid<Master>>,
    /// The master's machine and disk (`masters.rs`), without `raft`.
    seat: MasterSeat,
    /// Several masters on the Raft registry (`raft_seats.rs`).
    raft: Option<RaftSeats>,
    /// Every master's address (what agents and drivers are given).
    master_upids: Vec<Upid>,
    agents: Vec<AgentSlot>,
    frameworks: Vec<FrameworkSlot>,
    truth: Truth,
    violations: Violations,
    steps: u64,
    /// Crash/restart requests from the agenda (agent index, restart).
    pending: Arc<Mutex<Vec<(usize, bool)>>>,
}

fn ip(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, a, b))
}

impl World {
    async fn run(config: SimConfig, idle: Arc<IdleSignal>, work: PathBuf) -> Outcome {
        let seed = config.seed;
        let clock =
            TestClock::paused_at(SystemTime::UNIX_EPOCH + Duration::from_secs(WALL_EPOCH_SECS));
        let trace = Trace::new(config.keep_trace);
        let net = SimNet::new(
            clock.clone(),
            SimRng::stream(seed, "net"),
            NetFaults::default(),
            trace.clone(),
        );
        let agenda = Agenda::default();
        let truth = Truth::default();
        let violations = Violations::default();

        let mut seat = MasterSeat::new(seed, SocketAddr::new(ip(0, 1), 5050));
        let (master, raft, master_upids) = if config.masters > 1 {
            let addrs = (0..config.masters)
                .map(|k| SocketAddr::new(ip(0, k as u8 + 1), 5050))
                .collect();
            let mut seats = RaftSeats::new(seed, addrs, &clock, &trace, &violations);
            for k in 0..config.masters {
                seats.start(k, &net, &clock, &trace).await;
            }
            let upids = seats.upids();
            (None, Some(seats), upids)
        } else {
            let (master, _) = seat.start(&net, &clock, &trace).await;
            let upid = master.upid().clone();
            (Some(master), None, vec![upid])
        };

        let mut world = World {
            config: config.clone(),
            clock: clock.clone(),
            net,
            trace,
            agenda,
            idle,
            master,
            seat,
            raft,
            master_upids,
            agents: Vec::new(),
            frameworks: Vec::new(),
            truth,
            violations,
            steps: 0,
            pending: Arc::default(),
        };

        for i in 0..config.agents {
            let ip = ip(1, (i + 1) as u8);
            let (transport, _) = world.net.transport(ip);
            let exec_node = Node::builder()
                .bind(SocketAddr::new(ip, 0))
                .transport(transport)
                .test_clock(&clock)
                .seed(SimRng::stream(seed, &format!("node-exec-{i}")).next_u64())
                .build()
                .await
                .expect("an executor node binds in the simulation");
            let host = SimHost::new(
                i,
                exec_node,
                SimRng::stream(seed, &format!("host-{i}")),
                TaskBehaviour::default(),
                world.agenda.clone(),
                clock.clone(),
                world.truth.clone(),
                world.violations.clone(),
                world.trace.clone(),
            );
            let work_dir = work.join(format!("agent-{i}"));
            world.agents.push(AgentSlot {
                ip,
                host,
                node: None,
                agent: None,
                work_dir,
            });
            world.start_agent(i, 0).await;
        }

        for j in 0..config.frameworks {
            world.start_framework(j).await;
        }

        if config.faults {
            world.schedule_faults();
        }
        world.main_loop(config.duration).await;

        // Heal: no more faults or launches; crashed agents come back.
        let now = world.clock.now();
        world.trace.line(now, format_args!("heal"));
        world.net.set_faults(NetFaults::default());
        world.net.heal();
        world.pending.lock().clear();
        world.seat.heal();
        if let Some(raft) = world.raft.as_mut() {
            raft.heal();
            for k in 0..raft.len() {
                raft.start(k, &world.net, &world.clock, &world.trace).await;
            }
        } else if !world.seat.is_up() {
            world.restart_master().await;
        }
        for i in 0..world.agents.len() {
            if world.agents[i].node.is_none() {
                world.start_agent(i, 99).await;
            }
        }
        for f in &world.frameworks {
            f.view.lock().launching = false;
        }
        let quiet = config.heal;
        world.main_loop(now + quiet).await;
        world.check_acknowledgements().await;
        // Reconcile: explicit for every task a framework believes live, then implicit.
        for f in &world.frameworks {
            let live: Vec<(TaskId, Option<meso_api::v1::AgentId>)> = f
                .view
                .lock()
                .tasks
                .iter()
                .filter(|(_, s)| !s.is_terminal())
                .map(|(t, _)| (TaskId::new(t), None))
                .collect();
            let _ = f.handle.run(move |a| {
                let _ = a.reconcile_tasks(live);
                let _ = a.reconcile_tasks(Vec::new());
            });
        }
        let now = world.clock.now();
        world.main_loop(now + Duration::from_secs(60)).await;
        world.check_books().await;
        if let Some(raft) = &world.raft {
            for v in raft.check_caught_up().await {
                world.violation(v);
            }
        }
        for v in checkers::framework_views(
            &world
                .frameworks
                .iter()
                .map(|f| f.view.clone())
                .collect::<Vec<_>>(),
            &world.truth,
        ) {
            world.violation(v);
        }
        let simulated = world.clock.now();
        world.trace.line(
            simulated,
            format_args!(
                "end tasks_started={} violations={}",
                world.truth.started_count(),
                world.violations.all().len()
            ),
        );
        Outcome {
            seed,
            violations: world.violations.all(),
            digest: world.trace.digest(),
            trace_lines: world.trace.lines(),
            trace: world.trace.text(),
            net: world.net.stats(),
            simulated,
            steps: world.steps,
            tasks_started: world.truth.started_count(),
        }
    }

    fn violation(&self, v: String) {
        self.trace
            .line(self.clock.now(), format_args!("VIOLATION {v}"));
        self.violations.push(v);
    }

    /// Starts (or restarts, `generation > 0`) agent `i` on its machine.
    async fn start_agent(&mut self, i: usize, generation: u64) {
        let slot = &self.agents[i];
        let (transport, tag) = self.net.transport(slot.ip);
        let node = Node::builder()
            .bind(SocketAddr::new(slot.ip, 5051))
            .transport(transport)
            .test_clock(&self.clock)
            .delegate(AGENT_PROCESS_ID)
            .seed(
                SimRng::stream(self.config.seed, &format!("node-agent-{i}-{generation}"))
                    .next_u64(),
            )
            .build()
            .await
            .expect("an agent node binds in the simulation");
        let config = AgentConfig {
            master: self.master_upids[0].clone(),
            masters: self.master_upids[1..].to_vec(),
            hostname: format!("agent{i}.sim"),
            work_dir: slot.work_dir.clone(),
            resources: Resources::parse("cpus:4;mem:4096;disk:10000;ports:[31000-32000]", "*")
                .expect("the simulated agents' resources parse"),
            attributes: Default::default(),
            executor_registration_timeout: Duration::from_secs(60),
            executor_shutdown_grace_period: Duration::from_secs(5),
            registration_backoff_factor: Duration::from_secs(1),
            command_executor: PathBuf::from("/simulated/meso-executor"),
            http_auth: meso_api::http::auth::HttpAuthenticator::open(),
            recovery: meso_agent::agent::recovery::RecoveryConfig {
                stop_tasks_on_exit: false,
                strict: false,
                ..Default::default()
            },
            oversubscription: Default::default(),
            fetcher: Default::default(),
            gc: Default::default(),
            acls: None,
            authentication: Default::default(),
            switch_user: false,
        };
        let log = slog::Logger::root(slog::Discard, slog::o!());
        // As the production runner (`agent/src/run.rs`): the previous run's checkpoint is
        // taken back before the agent starts, so a restarted agent re-registers under its
        // id with its tasks and its unacknowledged updates.
        let recovery = match meso_agent::agent::recovery::load(&config, &log) {
            Ok(recovery) => recovery,
            Err(e) => {
                self.violation(format!("agent {i} cannot recover its checkpoint: {e}"));
                None
            }
        };
        let agent = Agent::new(config, slot.host.containerizer(), log).with_recovery(recovery);
        let pid = node
            .spawn_named(AGENT_PROCESS_ID, agent)
            .expect("the agent spawns");
        self.agents[i].agent = Some(pid);
        self.trace.line(
            self.clock.now(),
            format_args!("agent {i} starts (generation {generation})"),
        );
        self.agents[i].node = Some((node, tag));
    }

    /// Crashes agent `i`: its connections reset, its node stops, its executors die.
    async fn crash_agent(&mut self, i: usize) {
        let Some((node, tag)) = self.agents[i].node.take() else {
            return;
        };
        self.agents[i].agent = None;
        self.trace
            .line(self.clock.now(), format_args!("agent {i} crashes"));
        self.net.crash(tag);
        self.agents[i].host.kill_all();
        node.shutdown().await;
    }

    async fn start_framework(&mut self, j: usize) {
        let seed = self.config.seed;
        let (transport, _) = self.net.transport(ip(2, (j + 1) as u8));
        let node = Node::builder()
            .bind(SocketAddr::new(ip(2, (j + 1) as u8), 0))
            .transport(transport)
            .test_clock(&self.clock)
            .seed(SimRng::stream(seed, &format!("node-fw-{j}")).next_u64())
            .build()
            .await
            .expect("a framework node binds in the simulation");
        let mut rng = SimRng::stream(seed, &format!("framework-{j}"));
        let mut info = FrameworkInfo::new("sim", &format!("fw{j}"));
        info.checkpoint = rng.chance(0.5);
        info.failover_timeout = 7.0 * 24.0 * 3600.0;
        let view: SharedView = Arc::new(Mutex::new(FrameworkView {
            launching: true,
            ..Default::default()
        }));
        let scheduler = SimScheduler::new(
            &format!("fw{j}"),
            SimRng::stream(seed, &format!("scheduler-{j}")),
            view.clone(),
            self.trace.clone(),
            self.clock.clone(),
        );
        let checkpoint = info.checkpoint;
        let detector = meso_api::detector::MasterDetector::new(self.master_upids.clone())
            .expect("the simulation has a master");
        let driver = SchedulerDriver::with_detector(detector, info, Box::new(scheduler))
            .reconcile_on_registration()
            .with_launch_check(Some(meso_frameworks::driver::DEFAULT_LAUNCH_CHECK));
        let pid = node.spawn(driver).expect("the driver spawns");
        let slot = FrameworkSlot {
            _node: node,
            view,
            checkpoint,
            handle: DriverHandle::new(pid),
            rng: Arc::new(Mutex::new(rng)),
        };
        let first = Duration::from_millis(slot.rng.lock().range(1000, 5000));
        schedule_step(
            self.agenda.clone(),
            self.trace.clone(),
            slot.handle.clone(),
            slot.rng.clone(),
            slot.view.clone(),
            (j, 1, self.config.plan.clone()),
            self.clock.now() + first,
            self.config.duration,
        );
        self.frameworks.push(slot);
    }

    /// Draws the run's fault schedule onto the agenda.
    fn schedule_faults(&mut self) {
        let mut rng = SimRng::stream(self.config.seed, "faults");
        let end = self.config.duration;
        let faults = NetFaults {
            drop_p: [0.0, 0.01, 0.05][rng.below(3)],
            delay_min: Duration::from_micros(50),
            delay_max: Duration::from_micros(rng.range(200, 20_000)),
            spike_p: [0.0, 0.01][rng.below(2)],
            spike_max: Duration::from_millis(rng.range(10, 2_000)),
        };
        let plan = self.config.plan.clone();
        let faults = if plan.keeps_fault(0) {
            faults
        } else {
            NetFaults {
                drop_p: 0.0,
                spike_p: 0.0,
                ..faults
            }
        };
        self.trace
            .line(self.clock.now(), format_args!("faults {faults:?}"));
        self.net.set_faults(faults);
        let n = rng.range(0, 4);
        let planted = usize::from(plan.plant);
        let master_faults = match &self.raft {
            Some(raft) => raft.fault_count(),
            None => self.seat.fault_count(),
        };
        self.trace.line(
            self.clock.now(),
            format_args!(
                "schedule: {} faults",
                n as usize + 1 + planted + master_faults
            ),
        );
        for index in 1..=n as usize {
            let agenda = plan.fault_agenda(index, &self.agenda);
            let at = Duration::from_millis(rng.range(5_000, end.as_millis() as u64));
            let len = Duration::from_millis(rng.range(1_000, 60_000));
            match rng.below(3) {
                0 => {
                    // Partition one agent's machine from the master.
                    let i = rng.below(self.agents.len());
                    let (net, trace, a) = (self.net.clone(), self.trace.clone(), self.agents[i].ip);
                    let masters = self.master_ips();
                    agenda.at(at, move || {
                        trace.line(at, format_args!("partition agent {i} from the master"));
                        masters.iter().for_each(|m| net.partition(a, *m));
                    });
                    let (net, trace) = (self.net.clone(), self.trace.clone());
                    agenda.at(at + len, move || {
                        trace.line(at + len, format_args!("heal partitions"));
                        net.heal();
                    });
                }
                1 => {
                    // Partition one framework from the master.
                    let j = rng.below(self.frameworks.len().max(1));
                    let (net, trace) = (self.net.clone(), self.trace.clone());
                    let masters = self.master_ips();
                    agenda.at(at, move || {
                        trace.line(at, format_args!("partition framework {j} from the master"));
                        masters
                            .iter()
                            .for_each(|m| net.partition(ip(2, (j + 1) as u8), *m));
                    });
                    let (net, trace) = (self.net.clone(), self.trace.clone());
                    agenda.at(at + len, move || {
                        trace.line(at + len, format_args!("heal partitions"));
                        net.heal();
                    });
                }
                _ => {
                    // Crash an agent; restart it later.
                    let i = rng.below(self.agents.len());
                    let pending = self.pending.clone();
                    agenda.at(at, move || pending.lock().push((i, false)));
                    let pending = self.pending.clone();
                    agenda.at(at + len, move || pending.lock().push((i, true)));
                }
            }
        }
        let sinks = (&self.truth, &self.violations, &self.trace);
        // The master faults follow the scheduled ones; a planted fault comes last.
        plan.schedule_planted(n as usize + 1 + master_faults, end, &self.agenda, sinks);
        let first = n as usize + 1;
        match &self.raft {
            Some(raft) => raft.schedule(&self.agenda, &self.net, &self.trace, end, first, &plan),
            None => {
                let (agenda, clock, trace) = (&self.agenda, &self.clock, &self.trace);
                self.seat
                    .schedule(agenda, clock, trace, end, true, first, &plan)
            }
        }
    }

    fn master_ips(&self) -> Vec<IpAddr> {
        self.master_upids.iter().map(|u| u.addr().ip()).collect()
    }

    /// Runs until simulated time `until` (or until nothing is left to happen).
    async fn main_loop(&mut self, until: Duration) {
        let mut next_check = self.clock.now() + Duration::from_secs(1);
        loop {
            self.idle.until_idle().await;
            self.steps += 1;
            let requests: Vec<(usize, bool)> = std::mem::take(&mut *self.pending.lock());
            if !requests.is_empty() {
                for (i, restart) in requests {
                    if restart {
                        if self.agents[i].node.is_none() {
                            self.start_agent(i, self.steps).await;
                        }
                    } else {
                        self.crash_agent(i).await;
                    }
                }
                continue;
            }
            if let Some(raft) = self.raft.as_mut() {
                let (net, clock, trace, agenda) =
                    (&self.net, &self.clock, &self.trace, &self.agenda);
                if raft.run_requests(net, clock, trace, agenda).await {
                    continue;
                }
            }
            let seat_requests: Vec<SeatRequest> = std::mem::take(&mut *self.seat.requests.lock());
            if !seat_requests.is_empty() {
                for r in seat_requests {
                    match r {
                        SeatRequest::Crash => {
                            self.seat.crash(&self.net, &self.clock, &self.trace).await
                        }
                        SeatRequest::Restart if !self.seat.is_up() => self.restart_master().await,
                        SeatRequest::Restart => {}
                    }
                }
                continue;
            }
            let now = self.clock.now();
            if now >= next_check {
                next_check = now + Duration::from_secs(1);
                self.supervise(now);
                self.check_books().await;
                self.net.collect_garbage();
                continue;
            }
            let next = [
                self.net.next_due(),
                self.clock.next_deadline_after(now),
                self.agenda.next_due(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else {
                break;
            };
            if next > until {
                if until > now {
                    self.clock.advance(until - now);
                }
                break;
            }
            if next > now {
                self.clock.advance(next - now);
            }
            self.net.deliver_due(next);
            self.agenda.run_due(next);
        }
    }

    /// The agents' supervisor: an agent process that stopped by itself (it exits on some
    /// errors, as Mesos's does) is restarted a second later, as systemd would.
    fn supervise(&mut self, now: Duration) {
        if let Some(raft) = &self.raft {
            raft.supervise(now, &self.agenda, &self.trace);
        }
        if self.seat.exited() {
            self.trace.line(
                now,
                format_args!("master exited; its supervisor restarts it"),
            );
            let requests = self.seat.requests.clone();
            requests.lock().push(SeatRequest::Crash);
            self.agenda.at(now + Duration::from_secs(1), move || {
                requests.lock().push(SeatRequest::Restart)
            });
        }
        for (i, slot) in self.agents.iter().enumerate() {
            let Some((node, _)) = &slot.node else {
                continue;
            };
            let alive = node
                .processes()
                .iter()
                .any(|(upid, _)| upid.id() == AGENT_PROCESS_ID);
            if !alive {
                self.trace.line(
                    now,
                    format_args!("agent {i} exited; its supervisor restarts it"),
                );
                let pending = self.pending.clone();
                pending.lock().push((i, false));
                self.agenda.at(now + Duration::from_secs(1), move || {
                    pending.lock().push((i, true))
                });
            }
        }
    }

    /// After healing and the quiet period, before any reconciliation: every update of a
    /// checkpointing framework's task was delivered and acknowledged (no agent still holds
    /// one), and every such task that ended on its machine has a terminal state in its
    /// framework's view (no terminal update lost).
    async fn check_acknowledgements(&mut self) {
        let mut checkpointing = Vec::new();
        for f in self.frameworks.iter().filter(|f| f.checkpoint) {
            if let Some(id) = f.view.lock().id.clone() {
                checkpointing.push(id);
            }
        }
        for (i, slot) in self.agents.iter().enumerate() {
            let Some(agent) = &slot.agent else {
                continue;
            };
            let Some(held) = checkpoint_unacknowledged(agent).await else {
                continue;
            };
            for (framework, task, state) in held {
                if checkpointing.contains(&framework) {
                    self.violation(format!(
                        "agent {i} still holds an unacknowledged {state:?} update of task {task} (framework {framework}) after healing"
                    ));
                }
            }
        }
        let views: Vec<SharedView> = self
            .frameworks
            .iter()
            .filter(|f| f.checkpoint)
            .map(|f| f.view.clone())
            .collect();
        for v in checkers::terminal_updates(&views, &self.truth) {
            self.violation(v);
        }
    }

    /// Starts the master again from its disk; recovery's findings are violations.
    async fn restart_master(&mut self) {
        let (pid, found) = self.seat.start(&self.net, &self.clock, &self.trace).await;
        self.master = Some(pid);
        for v in found {
            self.violation(v);
        }
    }

    async fn check_books(&mut self) {
        let master = match &self.raft {
            Some(raft) => raft.leader_master(),
            None => self.master.clone(),
        };
        let Some(master) = master else {
            return;
        };
        if let Some(found) = checkers::allocation_books(&master).await {
            for v in found {
                self.violation(v);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn schedule_step(
    agenda: Agenda,
    trace: Trace,
    handle: DriverHandle,
    rng: Arc<Mutex<SimRng>>,
    view: SharedView,
    (j, k, plan): (usize, u64, Plan),
    at: Duration,
    end: Duration,
) {
    if at > end {
        return;
    }
    let next_agenda = agenda.clone();
    agenda.at(at, move || {
        let (r, v, t) = (rng.clone(), view.clone(), trace.clone());
        if plan.keeps_step(j, k) {
            let _ = handle.run(move |a| {
                let what = workload::step(&mut r.lock(), &v, a);
                t.line(at, format_args!("framework {j}: step {j}.{k}: {what}"));
            });
        }
        let next = at + Duration::from_millis(rng.lock().range(2_000, 10_000));
        let step = (j, k + 1, plan);
        schedule_step(next_agenda, trace, handle, rng, view, step, next, end);
    });
}

/// The updates agent `agent` holds unacknowledged; `None` when it is gone.
async fn checkpoint_unacknowledged(
    agent: &Pid<Agent>,
) -> Option<Vec<(meso_api::v1::FrameworkId, TaskId, meso_api::v1::TaskState)>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    agent
        .dispatch(move |a, _| {
            let _ = tx.send(a.unacknowledged_updates());
        })
        .ok()?;
    rx.await.ok()
}
