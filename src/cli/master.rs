//! `meso master`: flags and start-up of the master process.
//!
//! `MasterFlags` become a `MasterConfig`; `--peers` is checked (a bad address, a duplicate
//! or a list without this master's own address is refused by name). The registry's Raft
//! log is opened under `--work-dir` (required with peers; a lone master without one uses a
//! scratch directory) and a `MasterHost` runs the `Master` or its stand-in as `master`, the
//! node's HTTP delegate; `spawn_master` is the plain in-memory master `meso local` uses.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Args;
use libprocess::Node;
use meso_allocator::AllocatorConfig;
use meso_master::leadership::MasterHost;
use meso_master::master::recovery::RemovalRateLimit;
use meso_master::master::registry_gc::RegistryGcConfig;
use meso_master::master::removal_limit::RecoveryRemovalLimit;
use meso_master::raftlog::{RaftLog, RaftLogOptions};
use meso_master::{InMemoryRegistrar, Master, MasterConfig};
use meso_registry::Registry;

use meso_api::duration::parse_duration;
use meso_api::http::auth::{Credentials, HttpAuthenticator, JwtKey, NodeKind, Realm};

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
    /// Directory for the master's durable state: the replicated registry's log, hard state
    /// and snapshots. Required with `--peers`; without it a lone master keeps its registry
    /// in a fresh temporary directory removed when it exits (nothing survives a restart).
    #[arg(long, env = "MESO_WORK_DIR")]
    pub work_dir: Option<std::path::PathBuf>,
    /// Every master of the cluster as `ip:port,ip:port,...`, this one included, in the same
    /// order on every master (default: this master alone, a cluster of one).
    #[arg(long, env = "MESO_PEERS")]
    pub peers: Option<String>,
    /// Time a follower waits without hearing from the leader before it campaigns (randomised
    /// up to twice this), and a leader without a quorum before it steps down. A master whose
    /// process dies is replaced at once whatever this is (its port refuses connections);
    /// this bounds failover after a partition or a frozen machine, and keeps a loaded
    /// machine's stalls from causing needless failovers.
    #[arg(long, env = "MESO_RAFT_ELECTION_TIMEOUT", default_value = "2secs", value_parser = parse_duration)]
    pub raft_election_timeout: Duration,
    /// Time agents known from the registry have to re-register with a newly elected master,
    /// and agents whose connection broke have to re-register, before they are marked
    /// unreachable.
    #[arg(long, env = "MESO_AGENT_REREGISTER_TIMEOUT", default_value = "10mins", value_parser = parse_duration)]
    pub agent_reregister_timeout: Duration,
    /// Most agents marked unreachable per period (agents that missed their pings, and after
    /// a failover those that did not re-register), as `N/secs`, `N/mins` or `N/hrs` (e.g.
    /// `1/10mins`; default: no limit).
    #[arg(long, env = "MESO_AGENT_REMOVAL_RATE_LIMIT")]
    pub agent_removal_rate_limit: Option<String>,
    /// Largest share of the agents recovered from the registry after a failover that may be
    /// marked unreachable when `--agent-reregister-timeout` fires, as a percentage (Mesos's
    /// `--recovery_agent_removal_limit`). When more are missing the master refuses: it logs
    /// why and exits non-zero instead of removing them, so that a person looks first.
    #[arg(
        long,
        env = "MESO_RECOVERY_AGENT_REMOVAL_LIMIT",
        default_value = "100%"
    )]
    pub recovery_agent_removal_limit: String,
    /// Time between two garbage collections of departed (unreachable and gone) agents from
    /// the registry and the master's books.
    #[arg(long, env = "MESO_REGISTRY_GC_INTERVAL", default_value = "15mins", value_parser = parse_duration)]
    pub registry_gc_interval: Duration,
    /// Departed agents older than this are forgotten at the next garbage collection (their
    /// unreachable tasks with them); one that returns later is admitted afresh.
    #[arg(long, env = "MESO_REGISTRY_MAX_AGENT_AGE", default_value = "2weeks", value_parser = parse_duration)]
    pub registry_max_agent_age: Duration,
    /// Most unreachable agents, and most gone agents, remembered; past it the oldest are
    /// forgotten at the next garbage collection.
    #[arg(long, env = "MESO_REGISTRY_MAX_AGENT_COUNT", default_value_t = 102_400)]
    pub registry_max_agent_count: usize,
    /// Time between batch allocation rounds.
    #[arg(long, env = "MESO_ALLOCATION_INTERVAL", default_value = "1secs", value_parser = parse_duration)]
    pub allocation_interval: Duration,
    /// Rescind offers not used within this (default: never).
    #[arg(long, env = "MESO_OFFER_TIMEOUT", value_parser = parse_duration)]
    pub offer_timeout: Option<Duration>,
    /// Time between pings of each agent; an unanswered ping is one timeout.
    #[arg(long, env = "MESO_AGENT_PING_TIMEOUT", default_value = "15secs", value_parser = parse_duration)]
    pub agent_ping_timeout: Duration,
    /// Ping timeouts in a row after which an agent is marked unreachable (its tasks
    /// TASK_UNREACHABLE, or TASK_LOST for frameworks that are not PARTITION_AWARE).
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
    /// Require credentials on the read-only HTTP endpoints (`/master/state`,
    /// `/metrics/snapshot`, `/master/tasks`, `/flags`, ...; the services API's GETs under
    /// `/v2`; `/health`, `/version` and `/ping` stay open). Needs `--credentials` or
    /// `--jwt-secret-file`.
    #[arg(long, env = "MESO_AUTHENTICATE_HTTP_READONLY")]
    pub authenticate_http_readonly: bool,
    /// Require credentials on the read-write HTTP endpoints: the v1 operator API
    /// (`/api/v1`, every call, GET_* included, as Mesos) and the services API's writes
    /// under `/v2` (POST, PUT, PATCH, DELETE). Needs `--credentials` or `--jwt-secret-file`.
    #[arg(long, env = "MESO_AUTHENTICATE_HTTP_READWRITE")]
    pub authenticate_http_readwrite: bool,
    /// Require credentials on the v1 scheduler API (`/api/v1/scheduler`). Needs
    /// `--credentials` or `--jwt-secret-file`.
    #[arg(long, env = "MESO_AUTHENTICATE_HTTP_FRAMEWORKS")]
    pub authenticate_http_frameworks: bool,
    /// Principals and secrets accepted by HTTP Basic authentication and by the agents' and
    /// drivers' CRAM-MD5 authentication, a file as Mesos's: JSON
    /// `{"credentials":[{"principal":"ops","secret":"..."}]}` or lines of `principal secret`.
    #[arg(long, env = "MESO_CREDENTIALS")]
    pub credentials: Option<std::path::PathBuf>,
    /// Only agents that authenticated (CRAM-MD5 against `--credentials`, the agent's
    /// `--credential`) may register; others are refused and counted in
    /// `master/agent_authentication_failures`.
    #[arg(long, env = "MESO_AUTHENTICATE_AGENTS")]
    pub authenticate_agents: bool,
    /// Only scheduler drivers that authenticated (CRAM-MD5 against `--credentials`) may
    /// register; others get a framework error. An authenticated framework's
    /// `FrameworkInfo.principal` must be the authenticated principal in any case.
    #[arg(
        long,
        visible_alias = "authenticate",
        env = "MESO_AUTHENTICATE_FRAMEWORKS"
    )]
    pub authenticate_frameworks: bool,
    /// Time an agent or driver has to finish authenticating once it started (Mesos's
    /// `--authentication_v0_timeout`).
    #[arg(long, env = "MESO_AUTHENTICATION_TIMEOUT", default_value = "15secs", value_parser = parse_duration)]
    pub authentication_timeout: Duration,
    /// A file whose bytes (all of them, a trailing newline included) are the HS256 key of
    /// bearer JWTs (`Authorization: Bearer <token>`), accepted beside HTTP Basic.
    #[arg(long, env = "MESO_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<std::path::PathBuf>,
    /// Who may do what: a JSON file in Mesos's ACL format (`{"permissive": false,
    /// "run_tasks": [{"principals": {"values": ["ops"]}, "users": {"values": ["nobody"]}}],
    /// ...}`), every Mesos action key accepted. Refused HTTP calls get 403 naming the
    /// action, refused tasks TASK_ERROR; the state endpoints show each principal only the
    /// frameworks, tasks and executors it may view. Without it everything is allowed.
    #[arg(long, env = "MESO_ACLS")]
    pub acls: Option<std::path::PathBuf>,
    /// Role weights as `role=weight,role=weight` (deprecated in Mesos in favour of
    /// `PUT /weights` and UPDATE_WEIGHTS): written to the registry when it holds none yet.
    #[arg(long, env = "MESO_WEIGHTS")]
    pub weights: Option<String>,
    /// Do not run the services framework (Marathon's REST API v2 under `/v2`, `/ping`)
    /// beside the leading master.
    #[arg(long, env = "MESO_NO_SERVICES")]
    pub no_services: bool,
    /// Role of the services framework: its apps are offered this role's resources and
    /// unreserved ones (`*`).
    #[arg(long, env = "MESO_SERVICES_ROLE", default_value = "*")]
    pub services_role: String,
    /// `--log-format`, `--log-level`, `--log-dir`.
    #[command(flatten)]
    pub log: super::logging::LogFlags,
    /// `--ssl-*`: TLS on the master's port and its connections (agents, drivers, peers).
    #[command(flatten)]
    pub tls: meso_agent::flags::TlsFlags,
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
        // Start-up, before any node exists: the one master id not drawn from a node's seams
        // (`tests/seams_tidy.rs` scans the actor crates, not the binary).
        let mut config = MasterConfig::new(&uuid::Uuid::new_v4().to_string(), &hostname);
        config.allocation_interval = self.allocation_interval;
        config.offer_timeout = self.offer_timeout;
        config.agent_ping_timeout = self.agent_ping_timeout;
        config.max_agent_ping_timeouts = self.max_agent_ping_timeouts;
        config.max_completed_tasks_per_framework = self.max_completed_tasks_per_framework;
        if self.agent_reregister_timeout.is_zero() {
            anyhow::bail!("--agent-reregister-timeout must be greater than 0");
        }
        config.agent_reregister_timeout = self.agent_reregister_timeout;
        if self.registry_gc_interval.is_zero() {
            anyhow::bail!("--registry-gc-interval must be greater than 0");
        }
        config.registry_gc = RegistryGcConfig {
            interval: self.registry_gc_interval,
            max_agent_age: self.registry_max_agent_age,
            max_agent_count: self.registry_max_agent_count,
        };
        config.agent_removal_rate_limit = match &self.agent_removal_rate_limit {
            Some(v) => Some(
                RemovalRateLimit::parse(v)
                    .map_err(|e| anyhow::anyhow!("--agent-removal-rate-limit: {e}"))?,
            ),
            None => None,
        };
        config.recovery_agent_removal_limit =
            RecoveryRemovalLimit::parse(&self.recovery_agent_removal_limit)
                .map_err(|e| anyhow::anyhow!("--recovery-agent-removal-limit: {e}"))?;
        config.allocator = AllocatorConfig {
            min_allocatable: AllocatorConfig::parse_min_allocatable(
                &self.min_allocatable_resources,
            )
            .map_err(|e| anyhow::anyhow!("--min-allocatable-resources: {e}"))?,
            ..AllocatorConfig::default()
        };
        config.http_auth = self.http_authenticator()?;
        config.authentication = self.native_authentication()?;
        config.acls = match &self.acls {
            Some(path) => Some(std::sync::Arc::new(read_acls("--acls", path)?)),
            None => None,
        };
        if let Some(w) = &self.weights {
            config.weights = meso_master::master::role_controls::parse_weights_flag(w)
                .map_err(|e| anyhow::anyhow!("--weights: {e}"))?;
        }
        Ok(config)
    }
}

impl MasterFlags {
    /// The HTTP authentication the flags ask for, with the credentials and key files read
    /// now: a missing or garbled file stops the start with the file and the problem named.
    pub fn http_authenticator(&self) -> anyhow::Result<HttpAuthenticator> {
        let realms: Vec<Realm> = [
            (self.authenticate_http_readonly, Realm::Readonly),
            (self.authenticate_http_readwrite, Realm::Readwrite),
            (self.authenticate_http_frameworks, Realm::Framework),
        ]
        .into_iter()
        .filter_map(|(on, realm)| on.then_some(realm))
        .collect();
        let credentials = match &self.credentials {
            Some(path) => Some(read_credentials("--credentials", path)?),
            None => None,
        };
        let key = match &self.jwt_secret_file {
            Some(path) => Some(read_jwt_key("--jwt-secret-file", path)?),
            None => None,
        };
        Ok(HttpAuthenticator::new(
            NodeKind::Master,
            &realms,
            credentials,
            key,
        )?)
    }
}

impl MasterFlags {
    /// Agents' and drivers' authentication as the flags ask for it: requiring it without
    /// `--credentials` is refused, since nobody could register.
    pub fn native_authentication(
        &self,
    ) -> anyhow::Result<meso_master::master::authentication::AuthenticationConfig> {
        if self.authentication_timeout.is_zero() {
            anyhow::bail!("--authentication-timeout must be greater than 0");
        }
        let credentials = match &self.credentials {
            Some(path) => Some(std::sync::Arc::new(read_credentials(
                "--credentials",
                path,
            )?)),
            None => None,
        };
        for (on, flag) in [
            (self.authenticate_agents, "--authenticate-agents"),
            (self.authenticate_frameworks, "--authenticate-frameworks"),
        ] {
            if on && credentials.is_none() {
                anyhow::bail!("{flag} needs --credentials: without them nobody could authenticate");
            }
        }
        Ok(meso_master::master::authentication::AuthenticationConfig {
            agents: self.authenticate_agents,
            frameworks: self.authenticate_frameworks,
            credentials,
            timeout: self.authentication_timeout,
        })
    }
}

/// Reads and parses a Mesos ACL file given to `flag`.
pub fn read_acls(flag: &str, path: &std::path::Path) -> anyhow::Result<meso_api::acl::Acls> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: cannot read it: {e}", path.display()))?;
    meso_api::acl::Acls::parse(&text).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))
}

/// Reads and parses a Mesos credentials file given to `flag`.
pub fn read_credentials(flag: &str, path: &std::path::Path) -> anyhow::Result<Credentials> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: cannot read it: {e}", path.display()))?;
    Credentials::parse(&text).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))
}

/// Reads an HS256 key file given to `flag` (refused when empty).
pub fn read_jwt_key(flag: &str, path: &std::path::Path) -> anyhow::Result<JwtKey> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: cannot read it: {e}", path.display()))?;
    if bytes.is_empty() {
        anyhow::bail!(
            "{flag} {}: the file is empty, so any token could be forged",
            path.display()
        );
    }
    Ok(JwtKey(bytes))
}

/// Parses `--peers`: `ip:port` addresses separated by commas (an empty value is no peers).
pub fn parse_peers(value: &str) -> anyhow::Result<Vec<SocketAddr>> {
    let mut peers = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let addr: SocketAddr = part.parse().map_err(|_| {
            anyhow::anyhow!("--peers: {part:?} is not an address of the form ip:port")
        })?;
        if peers.contains(&addr) {
            anyhow::bail!("--peers: {addr} is listed twice in {value:?}");
        }
        peers.push(addr);
    }
    Ok(peers)
}

/// The raft options of the master at `me` among `peers` (validated: `me` must be listed).
pub fn raft_options(
    me: SocketAddr,
    peers: &[SocketAddr],
    election_timeout: Duration,
) -> anyhow::Result<RaftLogOptions> {
    RaftLogOptions::for_member(me, peers)
        .map_err(|e| anyhow::anyhow!("--peers: {e}"))?
        .with_election_timeout(election_timeout)
        .map_err(|e| anyhow::anyhow!("--raft-election-timeout: {e}"))
}

/// Starts a master on `node` (spawned as `master`, the node's HTTP delegate).
pub fn spawn_master(node: &Node, config: MasterConfig) -> anyhow::Result<libprocess::Pid<Master>> {
    let master = Master::new(config, Box::new(InMemoryRegistrar::new()));
    let pid = node.spawn_named("master", master)?;
    node.set_delegate(Some("master"));
    Ok(pid)
}

/// The services framework's companion, unless `--no-services`.
fn services_companion(
    flags: &MasterFlags,
) -> anyhow::Result<Vec<std::sync::Arc<dyn meso_master::leadership::Companion>>> {
    if flags.no_services {
        return Ok(Vec::new());
    }
    meso_api::roles::validate_role(&flags.services_role)
        .map_err(|e| anyhow::anyhow!("--services-role: {e}"))?;
    let user = std::env::var("USER").unwrap_or_else(|_| "root".to_string());
    Ok(vec![meso_services::framework::ServicesCompanion::new(
        meso_services::framework::ServicesConfig {
            role: flags.services_role.clone(),
            user,
            http_auth: flags.http_authenticator()?,
        },
    )])
}

/// Runs `meso master` until Ctrl-C: the replicated registry's node, and the master
/// process while this master leads (a stand-in pointing at the leader otherwise).
pub async fn run(flags: MasterFlags) -> anyhow::Result<()> {
    let mut config = flags.config()?;
    let logging = flags.log.logging("master")?;
    config.log_file = logging.file.clone();
    let me = SocketAddr::new(flags.ip, flags.port);
    let peers = parse_peers(flags.peers.as_deref().unwrap_or(""))?;
    let options = raft_options(me, &peers, flags.raft_election_timeout)?;
    let (work_dir, scratch) = match &flags.work_dir {
        Some(dir) => (dir.clone(), false),
        None if !peers.is_empty() => anyhow::bail!(
            "--peers needs --work-dir: a master of a cluster must find its Raft log again after a restart"
        ),
        None => (
            std::env::temp_dir().join(format!(
                "meso-master-{}-{}",
                flags.port,
                std::process::id()
            )),
            true,
        ),
    };
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| anyhow::anyhow!("--work-dir {}: {e}", work_dir.display()))?;
    let mut builder = Node::builder().bind(me).logger(logging.logger.clone());
    if let Some(tls) = flags.tls.tls().map_err(|e| anyhow::anyhow!(e))? {
        builder = builder.tls(tls);
    }
    let node = builder.build().await?;
    // `/metrics` with Mesos's keys as typed families, also while this master does not lead.
    node.set_metrics_text(Some(meso_api::prometheus::render));
    let raft_peers = options.peers.clone();
    let log = RaftLog::<Registry>::start(&node, options, &work_dir)
        .map_err(|e| anyhow::anyhow!("registry log under {}: {e}", work_dir.display()))?;
    let mut host = MasterHost::start_with(
        &node,
        log.clone(),
        raft_peers,
        config,
        services_companion(&flags)?,
    );
    libprocess::slog::info!(logging.logger, "master listening";
        "pid" => format!("master@{}", node.addr()),
        "peers" => if peers.is_empty() { "none, a cluster of one".to_string() } else { format!("{peers:?}") },
        "work_dir" => %work_dir.display(),
        "state" => format!("http://{}/master/state", node.addr()));
    let result = tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        r = host.wait() => r.map_err(|e| anyhow::anyhow!("master stopped: {e}")),
    };
    log.stop();
    node.shutdown().await;
    if scratch {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_validated_with_the_bad_value_named() {
        let a: SocketAddr = "127.0.0.1:5050".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:5051".parse().unwrap();
        assert_eq!(
            parse_peers("127.0.0.1:5050, 127.0.0.1:5051").unwrap(),
            [a, b]
        );
        assert!(parse_peers("").unwrap().is_empty());
        let e = parse_peers("127.0.0.1:5050,nonsense")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"nonsense\""), "{e}");
        let e = parse_peers("127.0.0.1:5050,127.0.0.1:5050")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listed twice"), "{e}");
        let two = Duration::from_secs(2);
        let e = raft_options("127.0.0.1:5052".parse().unwrap(), &[a, b], two)
            .expect_err("own address missing")
            .to_string();
        assert!(
            e.contains("127.0.0.1:5052") && e.contains("not among"),
            "{e}"
        );
        let o = raft_options(b, &[a, b], two).unwrap();
        assert_eq!((o.config.id, o.config.election_ticks), (2, 40));
        let e = raft_options(b, &[a, b], Duration::from_millis(200))
            .expect_err("not above two heartbeats")
            .to_string();
        assert!(e.contains("--raft-election-timeout"), "{e}");
    }
}
