//! `meso local`: a master and an agent in one process, on defaults, for trying meso out.
//! The master listens on `--port` (5050), the agent on `--agent-port` (5051); the agent's
//! work dir is `--work-dir` or `<user data dir>/meso/local` (`$XDG_DATA_HOME` or
//! `~/.local/share`), else a directory under the system temp dir. Ctrl-C or SIGTERM stops
//! the agent first (its executors and tasks are killed) and then the master.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;
use libprocess::Node;
use meso_agent::flags::AgentFlags;

/// Flags of `meso local`.
#[derive(Debug, Clone, Args)]
pub struct LocalFlags {
    /// IP address for both the master and the agent.
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// The master's port.
    #[arg(long, default_value_t = 5050)]
    pub port: u16,
    /// The agent's port.
    #[arg(long, default_value_t = 5051)]
    pub agent_port: u16,
    /// The agent's work dir [default: <user data dir>/meso/local].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The agent's resources (as `meso agent --resources`) [default: detected].
    #[arg(long)]
    pub resources: Option<String>,
    /// `--log-format`, `--log-level`, `--log-dir` (one file, `meso-local.log`, served as
    /// both `/master/log` and `/slave/log`).
    #[command(flatten)]
    pub log: super::logging::LogFlags,
}

fn default_work_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match data {
        Some(dir) => dir.join("meso").join("local"),
        None => std::env::temp_dir().join(format!("meso-local-{}", std::process::id())),
    }
}

/// The master's flags: `meso master`'s defaults (the test below keeps them in step), but
/// for the address and what `meso local` changes on purpose (open HTTP, no services).
fn master_flags(flags: &LocalFlags) -> super::master::MasterFlags {
    super::master::MasterFlags {
        ip: flags.ip,
        port: flags.port,
        hostname: None,
        work_dir: None,
        peers: None,
        raft_election_timeout: std::time::Duration::from_secs(2),
        agent_reregister_timeout: std::time::Duration::from_secs(600),
        agent_removal_rate_limit: None,
        recovery_agent_removal_limit: "100%".to_string(),
        registry_gc_interval: std::time::Duration::from_secs(15 * 60),
        registry_max_agent_age: std::time::Duration::from_secs(14 * 24 * 3600),
        registry_max_agent_count: 102_400,
        allocation_interval: std::time::Duration::from_secs(1),
        offer_timeout: None,
        agent_ping_timeout: std::time::Duration::from_secs(15),
        max_agent_ping_timeouts: 5,
        max_completed_tasks_per_framework: 1000,
        min_allocatable_resources: "cpus:0.01|mem:32".to_string(),
        // `meso local` is for trying meso out on one machine: HTTP stays open.
        authenticate_http_readonly: false,
        authenticate_http_readwrite: false,
        authenticate_http_frameworks: false,
        credentials: None,
        authenticate_agents: false,
        authenticate_frameworks: false,
        authentication_timeout: std::time::Duration::from_secs(15),
        jwt_secret_file: None,
        acls: None,
        weights: None,
        // The services framework needs the replicated registry `meso master` runs.
        no_services: true,
        services_role: "*".to_string(),
        log: flags.log.clone(),
        tls: Default::default(),
    }
}

/// The agent's flags: `meso agent`'s defaults (the test below keeps them in step), but for
/// the master, address, work dir, resources and tasks that end with the local cluster.
fn agent_flags(flags: &LocalFlags, master: String, work_dir: &std::path::Path) -> AgentFlags {
    AgentFlags {
        master,
        ip: flags.ip,
        port: flags.agent_port,
        hostname: None,
        work_dir: work_dir.to_path_buf(),
        resources: flags.resources.clone(),
        attributes: None,
        executor_registration_timeout: "1mins".to_string(),
        executor_shutdown_grace_period: "5secs".to_string(),
        registration_backoff_factor: "1secs".to_string(),
        command_executor: None,
        isolation: Default::default(),
        authenticate_http_readonly: false,
        authenticate_http_readwrite: false,
        authenticate_http_executors: false,
        http_credentials: None,
        credential: None,
        authentication_timeout: "5secs".to_string(),
        jwt_secret_file: None,
        acls: None,
        switch_user: true,
        // A local cluster is a sandbox: its tasks end with it (see README).
        recovery: meso_agent::flags::RecoveryFlags {
            stop_tasks_on_exit: true,
            ..Default::default()
        },
        oversubscription: Default::default(),
        fetcher: Default::default(),
        gc: Default::default(),
        tls: Default::default(),
    }
}

/// Runs `meso local` until Ctrl-C or SIGTERM.
pub async fn run(flags: LocalFlags) -> anyhow::Result<()> {
    let logging = flags.log.logging("local")?;
    let log = logging.logger.clone();
    let master_flags = master_flags(&flags);
    let master_node = Node::builder()
        .bind(SocketAddr::new(flags.ip, flags.port))
        .logger(log.clone())
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("master cannot listen on {}:{}: {e}", flags.ip, flags.port))?;
    master_node.set_metrics_text(Some(meso_api::prometheus::render));
    let mut master_config = master_flags.config()?;
    master_config.log_file = logging.file.clone();
    let master = super::master::spawn_master(&master_node, master_config)?;
    let work_dir = flags.work_dir.clone().unwrap_or_else(default_work_dir);
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| anyhow::anyhow!("cannot create work dir {}: {e}", work_dir.display()))?;
    let agent_flags = agent_flags(&flags, master_node.addr().to_string(), &work_dir);
    let agent_node =
        meso_agent::run::start(&agent_flags, log.clone(), logging.file.clone()).await?;
    let addr = master_node.addr();
    println!(
        "meso local: master at {addr}, agent at {} (work dir {})",
        agent_node.addr(),
        work_dir.display()
    );
    println!("  run a task:  meso execute --master {addr} --name hello --command 'echo hello'");
    println!("  state:       http://{addr}/master/state");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = master_node.wait(master.upid()) => {}
    }
    println!("meso local: shutting down (killing tasks)");
    agent_node.shutdown().await;
    master_node.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Master {
        #[command(flatten)]
        flags: super::super::master::MasterFlags,
    }

    #[derive(Parser)]
    struct Agent {
        #[command(flatten)]
        flags: AgentFlags,
    }

    #[derive(Parser)]
    struct Local {
        #[command(flatten)]
        flags: LocalFlags,
    }

    /// `meso local` repeats every master and agent default by hand; a default changed in
    /// `meso master` or `meso agent` and not here fails this test.
    #[test]
    fn local_runs_the_master_and_agent_on_their_own_defaults() {
        let local = Local::try_parse_from(["meso-local"]).unwrap().flags;

        let mut master = Master::try_parse_from(["meso-master"]).unwrap().flags;
        // What `meso local` sets on purpose.
        master.no_services = true;
        assert_eq!(
            format!("{:?}", master_flags(&local)),
            format!("{master:?}"),
            "meso local's master flags differ from meso master's defaults"
        );

        let work_dir = std::path::Path::new("/tmp/meso-local-test");
        let mut agent = Agent::try_parse_from([
            "meso-agent",
            "--master",
            "127.0.0.1:5050",
            "--work-dir",
            "/tmp/meso-local-test",
        ])
        .unwrap()
        .flags;
        agent.port = 5051;
        agent.recovery.stop_tasks_on_exit = true;
        assert_eq!(
            format!(
                "{:?}",
                agent_flags(&local, "127.0.0.1:5050".into(), work_dir)
            ),
            format!("{agent:?}"),
            "meso local's agent flags differ from meso agent's defaults"
        );
    }
}
