//! `meso agent`: the agent's flags (`meso_agent::flags::AgentFlags`) with the `--log-*`
//! flags beside them; the logger is built here and handed to the agent's runner.

use clap::Args;
use meso_agent::flags::AgentFlags;

use super::logging::LogFlags;

/// Flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct AgentCommand {
    /// The agent's own flags.
    #[command(flatten)]
    pub agent: AgentFlags,
    /// `--log-format`, `--log-level`, `--log-dir`.
    #[command(flatten)]
    pub log: LogFlags,
}

/// Runs `meso agent` until Ctrl-C, SIGTERM, or the master shuts the agent down.
pub async fn run(flags: AgentCommand) -> anyhow::Result<()> {
    let logging = flags.log.logging("agent")?;
    meso_agent::run::run(flags.agent, logging.logger, logging.file).await?;
    Ok(())
}
