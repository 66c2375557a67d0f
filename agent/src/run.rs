//! Running an agent as a program (`meso agent`): recovery of the previous run's
//! checkpoint, node, the agent process, and a clean stop on Ctrl-C or SIGTERM (executors
//! of checkpointing frameworks are left running for the next agent to recover; the others
//! are destroyed on the way out).

use std::path::PathBuf;

use libprocess::Node;
use slog::Logger;

use crate::agent::{Agent, AGENT_PROCESS_ID};
use crate::containerizer::IsolatingContainerizer;
use crate::error::AgentError;
use crate::flags::AgentFlags;

/// Starts a node on the flags' address with the agent as `slave(1)` (also the HTTP
/// delegate, so `/api/v1/executor` and `/state` reach it), logging to `log`; `log_file` is
/// the file that log is also written to, served as `/slave/log`. Returns the node.
pub async fn start(
    flags: &AgentFlags,
    log: Logger,
    log_file: Option<PathBuf>,
) -> Result<Node, AgentError> {
    let config = flags.to_config()?;
    // Before listening: a damaged checkpoint (under --strict) or a refused
    // reconfiguration stops the agent here, naming the file or the flag.
    let recovery = crate::agent::recovery::load(&config, &log)?;
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
    node.set_metrics_text(Some(meso_api::prometheus::render));
    let agent = Agent::new(config, Box::new(containerizer), log)
        .with_recovery(recovery)
        .with_log_file(log_file);
    node.spawn_named(AGENT_PROCESS_ID, agent)
        .map_err(|e| AgentError::Node(e.to_string()))?;
    Ok(node)
}

/// Runs `meso agent` until Ctrl-C, SIGTERM, or the master shuts the agent down.
pub async fn run(
    flags: AgentFlags,
    log: Logger,
    log_file: Option<PathBuf>,
) -> Result<(), AgentError> {
    let node = start(&flags, log.clone(), log_file).await?;
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
