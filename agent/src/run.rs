//! Running an agent as a program (`meso agent`): logger, recovery of the previous run's
//! checkpoint, node, the agent process, and a clean stop on Ctrl-C or SIGTERM (executors
//! of checkpointing frameworks are left running for the next agent to recover; the others
//! are destroyed on the way out).

use libprocess::Node;
use slog::{o, Drain, Logger};

use crate::agent::{Agent, AGENT_PROCESS_ID};
use crate::containerizer::IsolatingContainerizer;
use crate::error::AgentError;
use crate::flags::AgentFlags;

/// A logger writing one line per event to stderr.
pub fn stderr_logger() -> Logger {
    let decorator = slog_term::PlainSyncDecorator::new(std::io::stderr());
    let drain = slog_term::FullFormat::new(decorator).build().fuse();
    Logger::root(drain, o!())
}

/// Starts a node on the flags' address with the agent as `slave(1)` (also the HTTP
/// delegate, so `/api/v1/executor` and `/state` reach it). Returns the node.
pub async fn start(flags: &AgentFlags, log: Logger) -> Result<Node, AgentError> {
    let config = flags.to_config()?;
    // Before listening: a damaged checkpoint (under --strict) or a refused
    // reconfiguration stops the agent here, naming the file or the flag.
    let recovery = crate::agent::recovery::load(&config, &log)?;
    // Dynamic reservations and volumes of earlier runs: damaged, or no longer within
    // `--resources`, the agent stops here naming the file (as Mesos's agent).
    let meta = crate::checkpoint::layout::meta_dir(&config.work_dir);
    let checkpointed = crate::checkpoint::resources::read(&meta)
        .map_err(|e| AgentError::Recovery(e.to_string()))?;
    config
        .resources
        .apply_checkpointed(&checkpointed)
        .map_err(|e| {
            AgentError::Recovery(format!(
                "{}: the checkpointed reservations and volumes do not fit --resources: {e}",
                crate::checkpoint::resources::path(&meta).display()
            ))
        })?;
    // Before listening: an unknown or unavailable isolator stops the agent here.
    let containerizer = IsolatingContainerizer::new(&flags.isolation.config()?)?;
    slog::info!(log, "isolation"; "isolators" => containerizer.isolator_names().join(","));
    let node = Node::builder()
        .bind(flags.listen_addr())
        .logger(log.clone())
        .delegate(AGENT_PROCESS_ID)
        .build()
        .await
        .map_err(|e| AgentError::Node(format!("cannot listen on {}: {e}", flags.listen_addr())))?;
    let agent = Agent::new(config, Box::new(containerizer), log)
        .with_recovery(recovery)
        .with_checkpointed_resources(checkpointed);
    node.spawn_named(AGENT_PROCESS_ID, agent)
        .map_err(|e| AgentError::Node(e.to_string()))?;
    Ok(node)
}

/// Runs `meso agent` until Ctrl-C, SIGTERM, or the master shuts the agent down.
pub async fn run(flags: AgentFlags) -> Result<(), AgentError> {
    let log = stderr_logger();
    let node = start(&flags, log.clone()).await?;
    let agent = libprocess::Upid::new(AGENT_PROCESS_ID, node.addr());
    slog::info!(log, "agent listening"; "address" => %node.addr());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|source| AgentError::Io {
            what: "installing the SIGTERM handler",
            path: String::new(),
            source,
        })?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = node.wait(&agent) => {}
    }
    node.shutdown().await;
    Ok(())
}
