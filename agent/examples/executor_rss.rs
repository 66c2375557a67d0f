//! Measures `executor_rss_kb`: the resident memory (VmRSS) of one built-in command executor
//! running `sleep`, started by a real agent.
//!
//! Usage: `executor_rss <path to meso binary>` (runs `<path> executor`). The example starts
//! a stand-in master (it registers the agent and acknowledges every status update) and an
//! agent on loopback, launches one `sleep 60` command task, waits for TASK_RUNNING, reads
//! `/proc/<executor pid>/status`, kills the task, and prints `name: value unit` lines,
//! with the `sleep` command's own RSS as the same-run baseline.
//!
//! The agent uses the plain `PosixContainerizer`, which starts each executor with `exec`;
//! with `--zygote` it uses the containerizer `meso agent` runs by default
//! (`IsolatingContainerizer`, posix isolators), which forks executors from its executor
//! zygote. Either way the executor measured is the `sleep` process's parent.

use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process};
use meso_agent::agent::{Agent, AgentConfig, AGENT_PROCESS_ID};
use meso_agent::containerizer::{
    descendants, Containerizer, IsolatingContainerizer, PosixContainerizer,
};
use meso_api::v1::{AgentId, FrameworkId, FrameworkInfo, TaskId, TaskInfo, TaskState};
use meso_api::wire::{
    AgentRegistered, KillTask, RegisterAgent, RunTask, StatusUpdateAcknowledgement,
    StatusUpdateMessage,
};
use meso_api::Resources;
use meso_isolators::isolation::IsolationConfig;
use tokio::sync::mpsc;

struct StandInMaster {
    states: mpsc::UnboundedSender<TaskState>,
}

enum MasterMessage {
    Register,
    Update(Box<StatusUpdateMessage>),
}

impl From<RegisterAgent> for MasterMessage {
    fn from(_: RegisterAgent) -> Self {
        MasterMessage::Register
    }
}
impl From<StatusUpdateMessage> for MasterMessage {
    fn from(m: StatusUpdateMessage) -> Self {
        MasterMessage::Update(Box::new(m))
    }
}

impl Process for StandInMaster {
    type Message = MasterMessage;
    fn install(h: &mut Handlers<Self>) {
        h.on::<RegisterAgent>().on::<StatusUpdateMessage>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, msg: MasterMessage) {
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        match msg {
            MasterMessage::Register => {
                // Stand-in master for a benchmark: the agent retries registration if this is lost.
                let _ = ctx.send(
                    &from,
                    AgentRegistered {
                        agent_id: AgentId::new("bench-S0"),
                        total_ping_timeout_seconds: None,
                    },
                );
            }
            MasterMessage::Update(m) => {
                let u = m.update;
                let _ = self.states.send(u.status.state);
                // Stand-in master: the agent retries an unacknowledged update.
                let _ = ctx.send(
                    &from,
                    StatusUpdateAcknowledgement {
                        agent_id: AgentId::new("bench-S0"),
                        framework_id: u.framework_id,
                        task_id: u.status.task_id,
                        uuid: u.uuid.unwrap_or_default(),
                    },
                );
            }
        }
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// (Pss, private) kB from `/proc/<pid>/smaps_rollup`: the executor's fair share of shared
/// pages, and what it alone holds (the cost of one more executor).
fn shares_kb(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        field("Pss:"),
        field("Private_Clean:") + field("Private_Dirty:"),
    )
}

/// The parent pid of `pid`, from `/proc/<pid>/stat` (the field after the state).
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let binary = std::env::args()
        .nth(1)
        .expect("usage: executor_rss <path to the meso binary>");
    let (tx, mut states) = mpsc::unbounded_channel();
    let master_node = Node::builder().build().await.expect("master node");
    let master = master_node
        .spawn_named("master", StandInMaster { states: tx })
        .expect("spawn master")
        .upid()
        .clone();
    let work_dir = tempfile::tempdir().expect("temp dir");
    let agent_node = Node::builder()
        .delegate(AGENT_PROCESS_ID)
        .build()
        .await
        .expect("agent node");
    let config = AgentConfig {
        master: master.clone(),
        masters: Vec::new(),
        hostname: "localhost".into(),
        work_dir: work_dir.path().to_path_buf(),
        resources: Resources::parse("cpus:1;mem:128", "*").expect("resources"),
        attributes: Default::default(),
        executor_registration_timeout: Duration::from_secs(60),
        executor_shutdown_grace_period: Duration::from_secs(5),
        registration_backoff_factor: Duration::from_secs(1),
        command_executor: binary.clone().into(),
        http_auth: meso_api::http::auth::HttpAuthenticator::open(),
        recovery: Default::default(),
        oversubscription: Default::default(),
        fetcher: Default::default(),
        gc: Default::default(),
        acls: None,
        switch_user: true,
        authentication: Default::default(),
    };
    let containerizer: Box<dyn Containerizer> = if std::env::args().any(|a| a == "--zygote") {
        Box::new(
            IsolatingContainerizer::new(&IsolationConfig::default())
                .expect("the default (posix) isolation needs no privileges"),
        )
    } else {
        Box::new(PosixContainerizer::new())
    };
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let agent = agent_node
        .spawn_named(AGENT_PROCESS_ID, Agent::new(config, containerizer, log))
        .expect("spawn agent")
        .upid()
        .clone();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // No user: the task runs as the agent's own (`--switch-user` would need a real user).
    let mut framework = FrameworkInfo::new("", "executor_rss");
    framework.id = Some(FrameworkId::new("bench-0000"));
    let task = TaskInfo::command("sleeper", AgentId::new("bench-S0"), "exec sleep 60")
        .with_resources(Resources::parse("cpus:0.1;mem:32", "*").expect("resources"));
    master_node
        .send_from(
            Some(&master),
            &agent,
            RunTask {
                framework,
                pid: None,
                task,
            },
        )
        .expect("send RunTask");
    while let Some(state) = states.recv().await {
        if state == TaskState::Running {
            break;
        }
        assert!(!state.is_terminal(), "task ended early: {state}");
    }
    // Let the executor settle into its steady state (blocked reading events).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let me = std::process::id();
    let tree = descendants(me);
    let sleeper = tree
        .iter()
        .copied()
        .find(|&p| cmdline(p).starts_with("sleep"))
        .expect("the sleep process is a descendant");
    let executor = tree
        .iter()
        .copied()
        .find(|&p| parent(sleeper) == Some(p) && cmdline(p).contains(" executor"))
        .expect("the sleep process's parent is the executor");
    println!("executor_rss_kb: {} kB", rss_kb(executor).unwrap_or(0));
    let (pss, private) = shares_kb(executor);
    println!("executor_pss_kb: {pss} kB");
    println!("executor_private_kb: {private} kB");
    println!("baseline_sleep_rss_kb: {} kB", rss_kb(sleeper).unwrap_or(0));
    if std::env::args().any(|a| a == "--detail") {
        // Where the executor's resident pages are, largest first (to stderr).
        let smaps = std::fs::read_to_string(format!("/proc/{executor}/smaps")).unwrap_or_default();
        let mut name = String::new();
        let mut rows = Vec::new();
        for line in smaps.lines() {
            if let Some(rss) = line.strip_prefix("Rss:") {
                let kb: u64 = rss.trim().trim_end_matches(" kB").parse().unwrap_or(0);
                rows.push((kb, name.clone()));
            } else if line
                .split_whitespace()
                .next()
                .is_some_and(|w| w.contains('-'))
            {
                name = line.to_string();
            }
        }
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        for (kb, name) in rows.iter().take(12) {
            eprintln!("{kb:>6} kB  {name}");
        }
    }
    master_node
        .send_from(
            Some(&master),
            &agent,
            KillTask {
                framework_id: FrameworkId::new("bench-0000"),
                task_id: TaskId::new("sleeper"),
                kill_policy: None,
            },
        )
        .expect("send KillTask");
    while let Some(state) = states.recv().await {
        if state.is_terminal() {
            break;
        }
    }
    // Let the executor exit on its own (it does once the agent acknowledges the terminal
    // update) before the agent shuts down, so a profiler wrapped around it can finish
    // (scripts/executor-symbol-order.sh). The bound only guards against a hang.
    for _ in 0..600 {
        if !std::path::Path::new(&format!("/proc/{executor}")).exists()
            || std::fs::read_to_string(format!("/proc/{executor}/stat")).is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z'))
            })
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    agent_node.shutdown().await;
    master_node.shutdown().await;
}
