//! Running the emulator as a program (`meso agent-emulator`): flags, `--nodes` libprocess
//! nodes sharing `--agents` emulated agent processes round-robin, and a reporter printing
//! progress lines on stdout.
//!
//! Why several nodes: a libprocess node has one connection to each peer, so agents that
//! share a node share one TCP stream to the master, which the master then reads on one
//! thread. Real agents are separate processes, each with its own connection; spreading the
//! emulated agents over several nodes keeps the master's side of the benchmark like that.
//!
//! Output (one line each, `key=value` after the `emulator` word, for scripts):
//! - `emulator progress registered=N of=T attempts=A not_leader=H losses=L shutdowns=S`
//!   every `--report-interval` while something changed;
//! - `emulator all_registered wave=W agents=T since_start_ms=X since_loss_ms=Y at_unix_ms=Z`
//!   each time every agent is registered again (wave 1 is the first registration, later
//!   waves follow a loss of the master; `since_loss_ms` is from the first agent noticing
//!   the loss, 0 in wave 1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use libprocess::{Limits, Node};
use meso_api::duration::parse_duration;
use meso_api::v1::FrameworkId;
use meso_api::Resources;
use slog::{o, Drain, Logger};

use super::plan::{self, Backoff};
use super::process::{EmulatedAgent, EmulatorConfig, Progress};
use crate::error::AgentError;
use crate::flags::master_upid;

/// Flags of `meso agent-emulator`.
#[derive(Debug, Clone, Args)]
pub struct EmulatorFlags {
    /// The masters, `host:port[,host:port...]` (each may be `master@host:port`).
    #[arg(long, env = "MESO_MASTER")]
    pub master: String,
    /// Number of emulated agents.
    #[arg(long, default_value_t = 1000)]
    pub agents: usize,
    /// Running tasks each agent reports when it re-registers.
    #[arg(long, default_value_t = 10)]
    pub tasks_per_agent: usize,
    /// Each agent's total resources.
    #[arg(long, default_value = "cpus:16;mem:65536;disk:1048576")]
    pub resources: String,
    /// Each task's resources.
    #[arg(long, default_value = "cpus:0.1;mem:32")]
    pub task_resources: String,
    /// The framework the emulated tasks belong to.
    #[arg(long, default_value = "agent-emulator-framework")]
    pub framework_id: String,
    /// IP address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: std::net::IpAddr,
    /// Port of the first node (the others take the following ports); 0: any free ports.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// libprocess nodes the agents are spread over (each its own listening port and its own
    /// connection to each master, as separate agent processes have); no more than
    /// `--agents` are used.
    #[arg(long, default_value_t = 16)]
    pub nodes: usize,
    /// Wait before retrying after the master went away (link broke, connection refused,
    /// ping timeout); doubled while that keeps happening, with jitter in [step/2, step].
    #[arg(long, default_value = "50ms", value_parser = parse_duration)]
    pub backoff: Duration,
    /// Largest retry step.
    #[arg(long, default_value = "2secs", value_parser = parse_duration)]
    pub max_backoff: Duration,
    /// Time to wait for a (re)registration answer before sending again (plus up to half of
    /// it as jitter); doubled for each attempt in a row left unanswered, up to
    /// `--max-answer-timeout` (as Mesos's agents double their registration backoff), so a
    /// busy leader is not sent the same re-registration again every few seconds.
    #[arg(long, default_value = "2secs", value_parser = parse_duration)]
    pub answer_timeout: Duration,
    /// Largest wait for a (re)registration answer (Mesos's agents cap their backoff at a
    /// minute).
    #[arg(long, default_value = "1mins", value_parser = parse_duration)]
    pub max_answer_timeout: Duration,
    /// Time between questions to a master that knows no leader (an election is under way);
    /// jittered in [t/2, t].
    #[arg(long, default_value = "100ms", value_parser = parse_duration)]
    pub election_poll: Duration,
    /// First registrations are spread uniformly over this.
    #[arg(long, default_value = "1secs", value_parser = parse_duration)]
    pub initial_spread: Duration,
    /// Jitter seed (runs with the same seed draw the same delays).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time between progress lines.
    #[arg(long, default_value = "1secs", value_parser = parse_duration)]
    pub report_interval: Duration,
    /// Exit (status 0) once every agent has registered this many times over (0: run until
    /// Ctrl-C or SIGTERM).
    #[arg(long, default_value_t = 0)]
    pub exit_after_waves: u64,
    /// Hostname prefix of the emulated agents.
    #[arg(long, default_value = "emulated")]
    pub hostname_prefix: String,
}

impl EmulatorFlags {
    /// Nodes to start: `--nodes`, but no more than there are agents.
    pub fn node_count(&self) -> usize {
        self.nodes.min(self.agents).max(1)
    }

    /// Checks the flags; errors name the flag and the value.
    pub fn to_config(&self) -> Result<EmulatorConfig, AgentError> {
        let masters = self
            .master
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(master_upid)
            .collect::<Result<Vec<_>, _>>()?;
        if masters.is_empty() {
            return Err(AgentError::Flag {
                flag: "--master",
                value: self.master.clone(),
                reason: "names no master".into(),
            });
        }
        if self.agents == 0 {
            return Err(AgentError::Flag {
                flag: "--agents",
                value: "0".into(),
                reason: "at least one agent".into(),
            });
        }
        if self.nodes == 0 {
            return Err(AgentError::Flag {
                flag: "--nodes",
                value: "0".into(),
                reason: "at least one node".into(),
            });
        }
        if self.port != 0 && usize::from(self.port) + self.node_count() - 1 > usize::from(u16::MAX)
        {
            return Err(AgentError::Flag {
                flag: "--port",
                value: self.port.to_string(),
                reason: format!("{} nodes need ports up to {}", self.node_count(), u16::MAX),
            });
        }
        let resources = |flag: &'static str, text: &str| {
            let r = Resources::parse(text, "*").map_err(|e| AgentError::Flag {
                flag,
                value: text.to_string(),
                reason: e.to_string(),
            })?;
            r.validate().map_err(|e| AgentError::Flag {
                flag,
                value: text.to_string(),
                reason: e.to_string(),
            })?;
            Ok::<_, AgentError>(r)
        };
        let total = resources("--resources", &self.resources)?;
        let per_task = resources("--task-resources", &self.task_resources)?;
        let mut used = Resources::new();
        for _ in 0..self.tasks_per_agent {
            used += per_task.clone();
        }
        if !total.contains(&used) {
            return Err(AgentError::Flag {
                flag: "--tasks-per-agent",
                value: self.tasks_per_agent.to_string(),
                reason: format!("{used} of tasks do not fit in the agent's {total}"),
            });
        }
        let framework_id = FrameworkId::new(self.framework_id.clone());
        framework_id.validate().map_err(|e| AgentError::Flag {
            flag: "--framework-id",
            value: self.framework_id.clone(),
            reason: e.to_string(),
        })?;
        Ok(EmulatorConfig {
            masters,
            tasks_per_agent: self.tasks_per_agent,
            resources: total,
            task_resources: per_task,
            framework_id,
            hostname_prefix: self.hostname_prefix.clone(),
            backoff: Backoff::new(self.backoff, self.max_backoff),
            answer_timeout: self.answer_timeout.max(Duration::from_millis(1)),
            max_answer_timeout: self
                .max_answer_timeout
                .max(self.answer_timeout)
                .max(Duration::from_millis(1)),
            election_poll: self.election_poll.max(Duration::from_millis(1)),
            initial_spread: self.initial_spread,
            seed: self.seed,
        })
    }
}

/// A logger for warnings and errors only (thousands of agents would drown info lines).
fn quiet_logger() -> Logger {
    let decorator = slog_term::PlainSyncDecorator::new(std::io::stderr());
    let drain = slog_term::FullFormat::new(decorator)
        .build()
        .filter_level(slog::Level::Warning)
        .fuse();
    Logger::root(drain, o!())
}

/// Starts the nodes and the emulated agents (agent `i` on node `i % nodes`); returns the
/// nodes and the shared counters.
pub async fn start(
    flags: &EmulatorFlags,
    log: Logger,
) -> Result<(Vec<Node>, Arc<Progress>), AgentError> {
    let config = Arc::new(flags.to_config()?);
    let mut nodes = Vec::with_capacity(flags.node_count());
    for n in 0..flags.node_count() {
        let port = if flags.port == 0 {
            0
        } else {
            // Checked by `to_config`: the last port fits.
            flags.port + n as u16
        };
        let addr = SocketAddr::new(flags.ip, port);
        let node = Node::builder()
            .bind(addr)
            .logger(log.clone())
            .limits(Limits::default())
            .build()
            .await
            .map_err(|e| AgentError::Node(format!("cannot listen on {addr}: {e}")))?;
        nodes.push(node);
    }
    let progress = Arc::new(Progress::new(flags.agents));
    for index in 0..flags.agents {
        let node = &nodes[index % nodes.len()];
        let agent =
            EmulatedAgent::new(index, config.clone(), progress.clone()).ok_or_else(|| {
                AgentError::Flag {
                    flag: "--master",
                    value: flags.master.clone(),
                    reason: "names no master".into(),
                }
            })?;
        node.spawn_named(plan::process_id(index), agent)
            .map_err(|e| AgentError::Node(e.to_string()))?;
    }
    Ok((nodes, progress))
}

/// Runs `meso agent-emulator` until Ctrl-C, SIGTERM, or `--exit-after-waves`.
pub async fn run(flags: EmulatorFlags) -> Result<(), AgentError> {
    let started = Instant::now();
    let (nodes, progress) = start(&flags, quiet_logger()).await?;
    println!(
        "emulator started agents={} tasks_per_agent={} nodes={} address={}",
        flags.agents,
        flags.tasks_per_agent,
        nodes.len(),
        nodes[0].addr()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|source| AgentError::Io {
            what: "installing the SIGTERM handler",
            path: String::new(),
            source,
        })?;
    let started_ms = libprocess::unix_ms(nodes[0].wall_time());
    let mut last = progress.snapshot();
    let mut waves_reported = 0;
    let mut since_report = Duration::ZERO;
    let tick = Duration::from_millis(10);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tokio::time::sleep(tick) => {}
        }
        since_report += tick;
        let now = progress.snapshot();
        if now.waves_done > waves_reported {
            waves_reported = now.waves_done;
            let since_loss = if waves_reported > 1 && now.wave_started_ms > 0 {
                now.all_registered_ms.saturating_sub(now.wave_started_ms)
            } else {
                0
            };
            println!(
                "emulator all_registered wave={} agents={} since_start_ms={} since_loss_ms={} at_unix_ms={}",
                waves_reported,
                now.total,
                now.all_registered_ms.saturating_sub(started_ms),
                since_loss,
                now.all_registered_ms
            );
            if flags.exit_after_waves > 0 && waves_reported >= flags.exit_after_waves {
                break;
            }
        }
        if since_report >= flags.report_interval && now != last {
            since_report = Duration::ZERO;
            println!(
                "emulator progress registered={} of={} attempts={} not_leader={} losses={} shutdowns={} elapsed_ms={}",
                now.registered,
                now.total,
                now.attempts,
                now.not_leader,
                now.losses,
                now.shutdowns,
                started.elapsed().as_millis()
            );
            last = now;
        }
    }
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}
