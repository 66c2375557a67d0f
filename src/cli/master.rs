//! `meso master`: flags and start-up of the master process.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Args;
use libprocess::Node;
use meso_master::allocator::AllocatorConfig;
use meso_master::{InMemoryRegistrar, Master, MasterConfig};

use meso_api::duration::parse_duration;

/// Flags of `meso master` (each also `MESO_<FLAG>` in the environment).
#[derive(Debug, Clone, Args)]
pub struct MasterFlags {
    /// IP address to listen on.
    #[arg(long, env = "MESO_IP", default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// Port to listen on.
    #[arg(long, env = "MESO_PORT", default_value_t = 5050)]
    pub port: u16,
    /// Hostname advertised to frameworks (default: the machine's hostname).
    #[arg(long, env = "MESO_HOSTNAME")]
    pub hostname: Option<String>,
    /// Directory for the master's durable state (unused by the in-memory registry).
    #[arg(long, env = "MESO_WORK_DIR")]
    pub work_dir: Option<std::path::PathBuf>,
    /// Time between batch allocation rounds.
    #[arg(long, env = "MESO_ALLOCATION_INTERVAL", default_value = "1secs", value_parser = parse_duration)]
    pub allocation_interval: Duration,
    /// Rescind offers not used within this (default: never).
    #[arg(long, env = "MESO_OFFER_TIMEOUT", value_parser = parse_duration)]
    pub offer_timeout: Option<Duration>,
    /// Time between pings of each agent; an unanswered ping is one timeout.
    #[arg(long, env = "MESO_AGENT_PING_TIMEOUT", default_value = "15secs", value_parser = parse_duration)]
    pub agent_ping_timeout: Duration,
    /// Ping timeouts in a row after which an agent is removed.
    #[arg(long, env = "MESO_MAX_AGENT_PING_TIMEOUTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_agent_ping_timeouts: u32,
    /// Completed tasks remembered per framework (for /master/state).
    #[arg(
        long,
        env = "MESO_MAX_COMPLETED_TASKS_PER_FRAMEWORK",
        default_value_t = 1000
    )]
    pub max_completed_tasks_per_framework: usize,
    /// Smallest offer, as alternatives: `cpus:0.01|mem:32`.
    #[arg(
        long,
        env = "MESO_MIN_ALLOCATABLE_RESOURCES",
        default_value = "cpus:0.01|mem:32"
    )]
    pub min_allocatable_resources: String,
}

impl MasterFlags {
    /// The master's configuration; errors name the bad flag value.
    pub fn config(&self) -> anyhow::Result<MasterConfig> {
        if self.offer_timeout.is_some_and(|t| t.is_zero()) {
            anyhow::bail!("--offer-timeout must be greater than 0");
        }
        if self.agent_ping_timeout.is_zero() {
            anyhow::bail!("--agent-ping-timeout must be greater than 0");
        }
        if self.allocation_interval.is_zero() {
            anyhow::bail!("--allocation-interval must be greater than 0");
        }
        let hostname = match &self.hostname {
            Some(h) => h.clone(),
            None => nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| self.ip.to_string()),
        };
        let mut config = MasterConfig::new(&uuid::Uuid::new_v4().to_string(), &hostname);
        config.allocation_interval = self.allocation_interval;
        config.offer_timeout = self.offer_timeout;
        config.agent_ping_timeout = self.agent_ping_timeout;
        config.max_agent_ping_timeouts = self.max_agent_ping_timeouts;
        config.max_completed_tasks_per_framework = self.max_completed_tasks_per_framework;
        config.allocator = AllocatorConfig {
            min_allocatable: AllocatorConfig::parse_min_allocatable(
                &self.min_allocatable_resources,
            )
            .map_err(|e| anyhow::anyhow!("--min-allocatable-resources: {e}"))?,
            ..AllocatorConfig::default()
        };
        Ok(config)
    }
}

/// Starts a master on `node` (spawned as `master`, the node's HTTP delegate).
pub fn spawn_master(node: &Node, config: MasterConfig) -> anyhow::Result<libprocess::Pid<Master>> {
    let master = Master::new(config, Box::new(InMemoryRegistrar::new()));
    let pid = node.spawn_named("master", master)?;
    node.set_delegate(Some("master"));
    Ok(pid)
}

/// Runs `meso master` until Ctrl-C.
pub async fn run(flags: MasterFlags) -> anyhow::Result<()> {
    let config = flags.config()?;
    let node = Node::builder()
        .bind(SocketAddr::new(flags.ip, flags.port))
        .logger(super::logging::stderr_logger())
        .build()
        .await?;
    let pid = spawn_master(&node, config)?;
    eprintln!(
        "master listening on {} (state: http://{}/master/state)",
        pid.upid(),
        node.addr()
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = node.wait(pid.upid()) => anyhow::bail!("the master process stopped"),
    }
    node.shutdown().await;
    Ok(())
}
