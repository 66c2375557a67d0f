//! The soak benchmark (`scripts/bench/soak.sh`, issue 22): a cluster under steady churn for
//! `--minutes`, with its books watched for growth.
//!
//! - Three release `meso master --peers` processes; one leader kill (kill -9, then the
//!   master restarted on its work dir) every `--kill-every-minutes` (10).
//! - `meso agent-emulator` with `--agents` (10,000) stable agents, and a second emulator of
//!   `--churn-agents` (200) agents that is killed and started again every
//!   `--churn-every-secs` (120): agents leaving (their tasks end TASK_LOST, as expected for
//!   an agent that died) and new ones joining.
//! - `--frameworks` (1,000) frameworks (the real scheduler driver, spread over 8
//!   libprocess nodes in this process), each keeping `--tasks-per-framework` (5) tasks of
//!   `cpus:0.1;mem:32` running and killing each after `--task-life-secs` (30): a framework
//!   with all its tasks running suppresses offers, one short of them revives. Emulated
//!   agents answer a launch with TASK_RUNNING and a kill with TASK_KILLED at once.
//!
//! Prints `soak_tasks_launched`, `soak_tasks_lost` (tasks on stable agents that ended in any
//! state but TASK_KILLED, or had no update 60 s after their launch when the run ended:
//! target 0; its states are split by reason and by whether the task had run),
//! `soak_tasks_lost_after_running` (of those, tasks that had been RUNNING),
//! `soak_tasks_lost_then_heard_of` (tasks reported lost and later reported again: a LOST
//! that was not true), `soak_tasks_lost_on_departed_agents` (tasks on the churn emulator's
//! agents, expected), `soak_master_rss_mb_start` (the leader after the first minute),
//! `soak_master_rss_mb_10min` (the leader just before the kill at minute 10) and
//! `soak_master_rss_mb_end`, and `soak_offer_latency_ms_p50`/`_p99` (a framework short of
//! a task revives -> its next offer).
//!
//! Usage: soak_bench [--meso PATH] [--minutes N] [--agents N] [--churn-agents N]
//! [--churn-every-secs S] [--frameworks N] [--tasks-per-framework N] [--task-life-secs S]
//! [--kill-every-minutes M] [--keep-dir PATH]

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libprocess::Node;
use meso_api::detector::MasterDetector;
use meso_api::v1::{Filters, FrameworkInfo, Offer, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_api::Resources;
use meso_frameworks::driver::{DriverActions, DriverHandle, Scheduler, SchedulerDriver};
use meso_testkit::masters::Masters;
use meso_testkit::process::Proc;

const GUARD: Duration = Duration::from_secs(600);
const NODES: usize = 8;

/// Counters shared by every framework.
#[derive(Default)]
struct Stats {
    launched: u64,
    killed: u64,
    lost: u64,
    lost_departed: u64,
    /// Lost tasks by state, reason and whether they had run (a launch that died with a
    /// killed leader never ran: no agent got it).
    lost_states: HashMap<String, u64>,
    /// Lost tasks that had been RUNNING.
    lost_after_running: u64,
    /// Tasks reported again after they were reported lost (a LOST that was not true).
    lost_then_heard: u64,
    offer_latency_ms: Vec<f64>,
}

/// One task the framework launched.
struct Launch {
    at: Instant,
    running_since: Option<Instant>,
    departed: bool,
    /// When the kill was last sent (sent again after 20 s: a kill to a master that died
    /// with it is lost).
    kill_sent: Option<Instant>,
}

/// One framework's own state, shared with the ticker that kills tasks.
#[derive(Default)]
struct Own {
    tasks: HashMap<TaskId, Launch>,
    /// Tasks reported lost (to notice one that is heard of again).
    lost: HashSet<TaskId>,
    next: u64,
    /// Since when the framework is short of a task and has revived.
    hungry_since: Option<Instant>,
    suppressed: bool,
}

struct SoakScheduler {
    index: usize,
    target: usize,
    per_task: Resources,
    own: Arc<Mutex<Own>>,
    stats: Arc<Mutex<Stats>>,
}

impl SoakScheduler {
    /// Revives or suppresses as the number of tasks asks.
    fn steer(&self, own: &mut Own, driver: &mut DriverActions<'_>) {
        if own.tasks.len() < self.target {
            if own.hungry_since.is_none() {
                own.hungry_since = Some(Instant::now());
            }
            if own.suppressed {
                own.suppressed = false;
                let _ = driver.revive_offers();
            }
        } else if !own.suppressed {
            own.suppressed = true;
            own.hungry_since = None;
            let _ = driver.suppress_offers();
        }
    }
}

impl Scheduler for SoakScheduler {
    fn registered(
        &mut self,
        driver: &mut DriverActions<'_>,
        _: &meso_api::v1::FrameworkId,
        _: &meso_api::v1::MasterInfo,
    ) {
        let mut own = self.own.lock().expect("no panics while locked");
        own.suppressed = false;
        self.steer(&mut own, driver);
    }

    fn reregistered(&mut self, driver: &mut DriverActions<'_>, _: &meso_api::v1::MasterInfo) {
        // A new master knows nothing of the suppression: say it again.
        let mut own = self.own.lock().expect("no panics while locked");
        own.suppressed = own.tasks.len() < self.target;
        self.steer(&mut own, driver);
    }

    fn resource_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<Offer>) {
        let mut own = self.own.lock().expect("no panics while locked");
        let now = Instant::now();
        if let Some(since) = own.hungry_since.take() {
            self.stats
                .lock()
                .expect("no panics while locked")
                .offer_latency_ms
                .push(now.duration_since(since).as_secs_f64() * 1e3);
        }
        for offer in offers {
            // Scalars only: an offer's resources carry their allocation info, the task's not.
            let fits = offer.resources.cpus() >= self.per_task.cpus()
                && offer.resources.mem() >= self.per_task.mem();
            if own.tasks.len() >= self.target || !fits {
                let _ = driver.decline_offer(
                    offer.id,
                    Filters {
                        refuse_seconds: 10.0,
                    },
                );
                continue;
            }
            own.next += 1;
            let id = format!("soak-{}-{}", self.index, own.next);
            let task = TaskInfo::command(&id, offer.agent_id.clone(), "sleep 1000")
                .with_resources(self.per_task.clone());
            own.tasks.insert(
                TaskId::new(id),
                Launch {
                    at: now,
                    running_since: None,
                    departed: offer.hostname.starts_with("churn"),
                    kill_sent: None,
                },
            );
            self.stats.lock().expect("no panics while locked").launched += 1;
            let _ = driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
        }
        self.steer(&mut own, driver);
    }

    fn status_update(&mut self, driver: &mut DriverActions<'_>, status: &TaskStatus) {
        let mut own = self.own.lock().expect("no panics while locked");
        let Some(launch) = own.tasks.get_mut(&status.task_id) else {
            if own.lost.contains(&status.task_id) && status.state != TaskState::Lost {
                own.lost.remove(&status.task_id);
                self.stats
                    .lock()
                    .expect("no panics while locked")
                    .lost_then_heard += 1;
            }
            return;
        };
        match status.state {
            TaskState::Running => {
                launch.running_since.get_or_insert_with(Instant::now);
                return;
            }
            TaskState::Staging | TaskState::Starting => return,
            TaskState::Killed => {
                self.stats.lock().expect("no panics while locked").killed += 1;
            }
            other => {
                let mut stats = self.stats.lock().expect("no panics while locked");
                if launch.departed {
                    stats.lost_departed += 1;
                } else {
                    stats.lost += 1;
                    let ran = launch.running_since.is_some();
                    stats.lost_after_running += u64::from(ran);
                    let key = format!(
                        "{other} {:?} {}",
                        status.reason,
                        if ran {
                            "after RUNNING"
                        } else {
                            "never RUNNING"
                        }
                    );
                    *stats.lost_states.entry(key).or_default() += 1;
                    own.lost.insert(status.task_id.clone());
                }
            }
        }
        own.tasks.remove(&status.task_id);
        self.steer(&mut own, driver);
    }
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[(((p / 100.0) * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
}

fn emulator(
    meso: &std::path::Path,
    masters: &str,
    agents: usize,
    prefix: &str,
    log: &std::path::Path,
) -> Proc {
    let child = Command::new(meso)
        .args([
            "agent-emulator",
            "--master",
            masters,
            "--agents",
            &agents.to_string(),
            "--tasks-per-agent",
            "0",
            "--hostname-prefix",
            prefix,
            "--initial-spread",
            "5secs",
            "--nodes",
            if agents >= 1000 { "16" } else { "2" },
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(log).expect("emulator log"),
        ))
        .spawn()
        .expect("meso agent-emulator starts");
    Proc(child)
}

/// The leader's RSS in MB (0 when none answers).
fn leader_rss_mb(masters: &Masters) -> f64 {
    masters
        .leader_now()
        .and_then(|i| masters.pid(i))
        .and_then(|pid| status_kb(pid, "VmRSS:"))
        .map_or(0.0, |kb| kb as f64 / 1024.0)
}

struct Args {
    meso: std::path::PathBuf,
    minutes: f64,
    agents: usize,
    churn_agents: usize,
    churn_every: Duration,
    frameworks: usize,
    tasks: usize,
    life: Duration,
    kill_every: Duration,
    keep_dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        meso: "target/release/meso".into(),
        minutes: 60.0,
        agents: 10_000,
        churn_agents: 200,
        churn_every: Duration::from_secs(120),
        frameworks: 1000,
        tasks: 5,
        life: Duration::from_secs(30),
        kill_every: Duration::from_secs(600),
        keep_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let num = |v: String| -> f64 { v.parse().unwrap_or_else(|_| panic!("not a number: {v}")) };
        match flag.as_str() {
            "--meso" => a.meso = value().into(),
            "--minutes" => a.minutes = num(value()),
            "--agents" => a.agents = num(value()) as usize,
            "--churn-agents" => a.churn_agents = num(value()) as usize,
            "--churn-every-secs" => a.churn_every = Duration::from_secs_f64(num(value())),
            "--frameworks" => a.frameworks = num(value()) as usize,
            "--tasks-per-framework" => a.tasks = num(value()) as usize,
            "--task-life-secs" => a.life = Duration::from_secs_f64(num(value())),
            "--kill-every-minutes" => a.kill_every = Duration::from_secs_f64(num(value()) * 60.0),
            "--keep-dir" => a.keep_dir = Some(value().into()),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn main() {
    let a = args();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = match &a.keep_dir {
        Some(d) => {
            std::fs::create_dir_all(d).expect("--keep-dir is creatable");
            d.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let mut masters = Masters::start(&a.meso, &dir, 3, &[]);
    masters.wait_leader(GUARD);
    let addresses = masters.addresses();
    let _stable = emulator(
        &a.meso,
        &addresses,
        a.agents,
        "stable",
        &dir.join("emulator.log"),
    );
    let mut churn = (a.churn_agents > 0).then(|| {
        emulator(
            &a.meso,
            &addresses,
            a.churn_agents,
            "churn",
            &dir.join("churn.1.log"),
        )
    });
    // Let the agents register before the frameworks come.
    std::thread::sleep(Duration::from_secs(10));

    let stats = Arc::new(Mutex::new(Stats::default()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let per_task = Resources::parse("cpus:0.1;mem:32", "*").expect("task resources parse");
    let (nodes, frameworks) = runtime.block_on(async {
        let mut nodes = Vec::new();
        for _ in 0..NODES {
            nodes.push(
                Node::builder()
                    .bind(([127, 0, 0, 1], 0).into())
                    .build()
                    .await
                    .expect("a node starts"),
            );
        }
        let mut frameworks = Vec::new();
        for i in 0..a.frameworks {
            let own = Arc::new(Mutex::new(Own::default()));
            let scheduler = SoakScheduler {
                index: i,
                target: a.tasks,
                per_task: per_task.clone(),
                own: own.clone(),
                stats: stats.clone(),
            };
            let mut info = FrameworkInfo::new("soak", &format!("soak-{i}"));
            info.failover_timeout = 3600.0;
            let detector = MasterDetector::parse(&addresses).expect("the masters parse");
            let driver = SchedulerDriver::with_detector(detector, info, Box::new(scheduler))
                .reconcile_on_registration()
                .with_launch_check(Some(Duration::from_secs(10)));
            let pid = nodes[i % NODES].spawn(driver).expect("a driver starts");
            frameworks.push((DriverHandle::new(pid), own));
        }
        (nodes, frameworks)
    });

    let start = Instant::now();
    let end = start + Duration::from_secs_f64(a.minutes * 60.0);
    let mut next_kill = start + a.kill_every;
    let mut next_churn = start + a.churn_every;
    let mut churn_starts = 1;
    let mut rss_start = None;
    let mut rss_10min = None;
    let mut kills = 0;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_secs(1));
        let now = Instant::now();
        // Kill the tasks whose life is over.
        for (handle, own) in &frameworks {
            let mut own = own.lock().expect("no panics while locked");
            for (id, launch) in own.tasks.iter_mut() {
                let due = launch.kill_sent.map_or_else(
                    || {
                        launch
                            .running_since
                            .is_some_and(|t| now.duration_since(t) >= a.life)
                    },
                    |sent| now.duration_since(sent) >= Duration::from_secs(20),
                );
                if due {
                    launch.kill_sent = Some(now);
                    let id = id.clone();
                    let _ = handle.run(move |d| {
                        let _ = d.kill_task(id);
                    });
                }
            }
        }
        if rss_start.is_none() && now.duration_since(start) >= Duration::from_secs(60) {
            rss_start = Some(leader_rss_mb(&masters));
        }
        if now >= next_churn {
            if let Some(mut old) = churn.take() {
                old.kill9();
                churn_starts += 1;
                churn = Some(emulator(
                    &a.meso,
                    &addresses,
                    a.churn_agents,
                    "churn",
                    &dir.join(format!("churn.{churn_starts}.log")),
                ));
            }
            next_churn += a.churn_every;
        }
        if now >= next_kill && now < end {
            let rss = leader_rss_mb(&masters);
            if rss_10min.is_none() {
                rss_10min = Some(rss);
            }
            if let Some(leader) = masters.leader_now() {
                masters.kill9(leader);
                kills += 1;
                eprintln!(
                    "minute {:.1}: killed leader {leader} (RSS {rss:.0} MB)",
                    now.duration_since(start).as_secs_f64() / 60.0
                );
                std::thread::sleep(Duration::from_secs(1));
                masters.spawn(leader);
            }
            next_kill += a.kill_every;
        }
        if now.duration_since(start).as_secs() % 60 == 0 {
            let s = stats.lock().expect("no panics while locked");
            eprintln!(
                "minute {:.0}: launched {} killed {} lost {} (departed agents {}), leader RSS {:.0} MB",
                now.duration_since(start).as_secs_f64() / 60.0,
                s.launched,
                s.killed,
                s.lost,
                s.lost_departed,
                leader_rss_mb(&masters)
            );
        }
    }
    let rss_end = leader_rss_mb(&masters);
    // Launches with no update at all for a minute are lost too.
    let mut silent = 0;
    for (_, own) in &frameworks {
        let own = own.lock().expect("no panics while locked");
        silent += own
            .tasks
            .values()
            .filter(|l| {
                !l.departed && l.running_since.is_none() && l.at.elapsed() > Duration::from_secs(60)
            })
            .count();
    }
    let s = stats.lock().expect("no panics while locked");
    println!("# soak: {:.0} minutes, {} stable + {} churning agents (restarted every {:?}), {} frameworks x {} tasks living {:?}, {kills} leader kills", a.minutes, a.agents, a.churn_agents, a.churn_every, a.frameworks, a.tasks, a.life);
    println!("soak_tasks_launched: {}", s.launched);
    println!("soak_tasks_killed: {}", s.killed);
    println!(
        "soak_tasks_lost: {} ({} ended {:?}, {silent} never heard of)",
        s.lost + silent as u64,
        s.lost,
        s.lost_states
    );
    println!("soak_tasks_lost_after_running: {}", s.lost_after_running);
    println!("soak_tasks_lost_then_heard_of: {}", s.lost_then_heard);
    println!("soak_tasks_lost_on_departed_agents: {}", s.lost_departed);
    println!(
        "soak_master_rss_mb_start: {:.0} MB",
        rss_start.unwrap_or(f64::NAN)
    );
    println!(
        "soak_master_rss_mb_10min: {:.0} MB",
        rss_10min.unwrap_or(f64::NAN)
    );
    println!("soak_master_rss_mb_end: {rss_end:.0} MB");
    println!(
        "soak_offer_latency_ms_p50: {:.0} ms",
        percentile(&s.offer_latency_ms, 50.0)
    );
    println!(
        "soak_offer_latency_ms_p99: {:.0} ms",
        percentile(&s.offer_latency_ms, 99.0)
    );
    drop(s);
    drop(churn);
    drop(nodes);
    runtime.shutdown_timeout(Duration::from_secs(5));
}
