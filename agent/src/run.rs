//! Running an agent as a program (`meso agent`): recovery of the previous run's
//! checkpoint, node, the agent process, SIGHUP (re-reads `--resources`/`--attributes` and
//! applies them online), and a clean stop on Ctrl-C or SIGTERM (executors
//! of checkpointing frameworks are left running for the next agent to recover; the others
//! are destroyed on the way out).

use std::path::PathBuf;

use libprocess::Node;
use slog::Logger;

use crate::agent::{Agent, AgentMessage, AGENT_PROCESS_ID};
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
    Ok(start_agent(flags, log, log_file).await?.0)
}

/// [`start`], also returning the agent process's local handle.
async fn start_agent(
    flags: &AgentFlags,
    log: Logger,
    log_file: Option<PathBuf>,
) -> Result<(Node, libprocess::Pid<Agent>, std::path::PathBuf), AgentError> {
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
    let mut builder = Node::builder()
        .bind(flags.listen_addr())
        .logger(log.clone())
        .delegate(AGENT_PROCESS_ID);
    if let Some(tls) = flags.tls.tls().map_err(AgentError::Node)? {
        builder = builder.tls(tls);
    }
    let node = builder
        .build()
        .await
        .map_err(|e| AgentError::Node(format!("cannot listen on {}: {e}", flags.listen_addr())))?;
    node.set_metrics_text(Some(meso_api::prometheus::render));
    let work_dir = config.work_dir.clone();
    let agent = Agent::new(config, Box::new(containerizer), log)
        .with_recovery(recovery)
        .with_checkpointed_resources(checkpointed)
        .with_log_file(log_file)
        .with_executor_tls(flags.tls.executor_env());
    let pid = node
        .spawn_named(AGENT_PROCESS_ID, agent)
        .map_err(|e| AgentError::Node(e.to_string()))?;
    Ok((node, pid, work_dir))
}

/// SIGHUP: reads `--resources` and `--attributes` again (from their files when given as
/// `file://`) and hands them to the agent, which applies them as an online change and logs
/// what changed or why it refused. Unreadable flags change nothing and are logged here.
fn reload_flags(
    flags: &AgentFlags,
    work_dir: &std::path::Path,
    agent: &libprocess::Pid<Agent>,
    log: &Logger,
) {
    match flags.resources_and_attributes(work_dir) {
        Ok((resources, attributes)) => {
            slog::info!(log, "SIGHUP: re-read --resources and --attributes";
                "resources" => %resources, "attributes" => %attributes);
            let _ = agent.send(AgentMessage::ReloadFlags {
                resources,
                attributes,
            });
        }
        Err(e) => {
            slog::warn!(log, "SIGHUP: flags not applied; the agent keeps its resources and attributes";
            "error" => %e)
        }
    }
}

/// Runs `meso agent` until Ctrl-C, SIGTERM, or the master shuts the agent down.
pub async fn run(
    flags: AgentFlags,
    log: Logger,
    log_file: Option<PathBuf>,
) -> Result<(), AgentError> {
    let (node, pid, work_dir) = start_agent(&flags, log.clone(), log_file).await?;
    let agent = libprocess::Upid::new(AGENT_PROCESS_ID, node.addr());
    slog::info!(log, "agent listening"; "address" => %node.addr());
    let signal = |kind: tokio::signal::unix::SignalKind, what: &'static str| {
        tokio::signal::unix::signal(kind).map_err(|source| AgentError::Io {
            what,
            path: String::new(),
            source,
        })
    };
    let mut term = signal(
        tokio::signal::unix::SignalKind::terminate(),
        "installing the SIGTERM handler",
    )?;
    let mut hup = signal(
        tokio::signal::unix::SignalKind::hangup(),
        "installing the SIGHUP handler",
    )?;
    let stopped = node.wait(&agent);
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hup.recv() => reload_flags(&flags, &work_dir, &pid, &log),
            _ = &mut stopped => break,
        }
    }
    node.shutdown().await;
    Ok(())
}
