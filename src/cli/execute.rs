//! `meso execute`: run one command task through the master and report its states.
//!
//! A node, the scheduler driver and the `Execute` scheduler (`meso-frameworks`): the first
//! fitting offer runs the task. The framework registers as the OS user and this host, as
//! mesos-execute does. Ctrl-C or `--kill-after` sends KILL; the exit code follows
//! the final state (0 for TASK_FINISHED). Until the framework is registered a line says
//! every few seconds that no master answers yet; after `--master-timeout` (60 s) it gives
//! up with exit code 3. On a terminal a spinner shows the task's latest state while it
//! waits ([`super::console`]).
//!
//! `--attach` streams the task's stdout and stderr to this terminal's stdout and stderr
//! (as `kubectl run --attach`): reads with offsets of the sandbox files through the
//! leading master's agent proxy ([`super::sandbox::Follower`]), until the task ends and
//! what it wrote last has been read.

use std::time::Duration;

use clap::Args;
use libprocess::Node;
use meso_api::detector::MasterDetector;
use std::io::IsTerminal;
use std::sync::Arc;

use meso_api::v1::{FrameworkId, FrameworkInfo, TaskId};
use tokio::sync::watch;

use super::client::MasterClient;
use super::connect::{ConnectFlags, Connection};
use super::console::{Console, TICK};
use super::sandbox::{find_task, sandbox_dir, Follower};
use meso_api::Resources;
use meso_frameworks::execute::{Execute, ExecuteConfig, Outcome};
use meso_frameworks::{DriverHandle, SchedulerDriver};

use meso_api::duration::parse_duration;

/// Flags of `meso execute`.
#[derive(Debug, Clone, Args)]
pub struct ExecuteFlags {
    /// The masters, HOST:PORT[,HOST:PORT...] (the leader is found among them).
    #[arg(long, env = "MESO_MASTER")]
    pub master: String,
    /// How long the masters keep the framework and its task when this scheduler is
    /// disconnected (e.g. while the masters fail over).
    #[arg(long, default_value = "1mins", value_parser = parse_duration)]
    pub failover_timeout: Duration,
    /// Task (and framework) name; also the task id.
    #[arg(long)]
    pub name: String,
    /// Shell command to run.
    #[arg(long)]
    pub command: String,
    /// Resources of the task.
    #[arg(long, default_value = "cpus:0.1;mem:32")]
    pub resources: String,
    /// Role to subscribe with.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Ask agents to checkpoint the task, so it survives an agent restart (`kill -9`, an
    /// upgrade) and reconnects; `--checkpoint=false` lets the task die with its agent.
    #[arg(
        long,
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub checkpoint: bool,
    /// Run on revocable (oversubscribed) cpus and mem: the framework registers with the
    /// REVOCABLE_RESOURCES capability and the task waits for an agent that offers them
    /// (`meso agent --resource-estimator load`); it may be evicted when the agent's own
    /// work needs the machine back (TASK_KILLED, REASON_CONTAINER_PREEMPTED).
    #[arg(long)]
    pub revocable: bool,
    /// Health-check the task with this shell command (exit 0 is healthy), run in its
    /// sandbox; the task is killed after --health-check-consecutive-failures failures.
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["health_check_http", "health_check_tcp"])]
    pub health_check_cmd: Option<String>,
    /// Health-check the task with an HTTP GET of PORT[/PATH] on 127.0.0.1 (a status
    /// in 200..=399 is healthy).
    #[arg(long, value_name = "PORT[/PATH]", conflicts_with = "health_check_tcp")]
    pub health_check_http: Option<String>,
    /// Health-check the task by connecting to PORT on 127.0.0.1.
    #[arg(long, value_name = "PORT")]
    pub health_check_tcp: Option<u32>,
    /// Time before the first health check.
    #[arg(long, default_value = "15secs", value_parser = parse_duration)]
    pub health_check_delay: Duration,
    /// Time between health checks.
    #[arg(long, default_value = "10secs", value_parser = parse_duration)]
    pub health_check_interval: Duration,
    /// Time after the health checker starts during which failures do not count, until
    /// the first success.
    #[arg(long, default_value = "10secs", value_parser = parse_duration)]
    pub health_check_grace_period: Duration,
    /// Failed health checks in a row that get the task killed.
    #[arg(long, default_value_t = 3)]
    pub health_check_consecutive_failures: u32,
    /// Kill the task this long after launching it.
    #[arg(long, value_parser = parse_duration)]
    pub kill_after: Option<Duration>,
    /// Give up (exit code 3) when no master has registered the framework within this long;
    /// until then a line says every few seconds that it is still retrying. 0 waits forever.
    #[arg(long, env = "MESO_MASTER_TIMEOUT", value_parser = parse_duration, default_value = "60secs")]
    pub master_timeout: Duration,
    /// Stream the task's stdout and stderr here until it ends (read through the master).
    #[arg(long)]
    pub attach: bool,
    /// The OS user the task runs as on the agent (its `CommandInfo.user`; the agent's
    /// `--switch-user` switches to it). Default: the framework's user, this process's.
    #[arg(long, env = "MESO_TASK_USER")]
    pub user: Option<String>,
    /// Principal to act as (needs --secret-file): the framework's principal, which its
    /// scheduler driver authenticates with (CRAM-MD5, for masters run with
    /// `--authenticate-frameworks`), and HTTP Basic for --attach's reads.
    #[arg(long, env = "MESO_PRINCIPAL")]
    pub principal: Option<String>,
    /// File whose content (one trailing newline dropped) is the principal's secret.
    #[arg(long, env = "MESO_SECRET_FILE")]
    pub secret_file: Option<std::path::PathBuf>,
    /// `--ssl-*`: TLS to the masters. The scheduler driver is a node the master connects
    /// back to, so it needs a certificate too: all three files, as every node.
    #[command(flatten)]
    pub tls: meso_agent::flags::TlsFlags,
}

/// Exit code of `meso execute` when no master answered within `--master-timeout`.
pub const EXIT_NO_MASTER: i32 = 3;

/// How often `meso execute` says it is still waiting for a master.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Prints progress until the framework is registered; returns only when `timeout` (not
/// zero) passed without a registration. Once registered it never returns.
async fn no_master_within(
    mut registered: watch::Receiver<Option<FrameworkId>>,
    console: &Console,
    master: &str,
    timeout: Duration,
) {
    let start = tokio::time::Instant::now();
    loop {
        let mut wait = PROGRESS_EVERY;
        if !timeout.is_zero() {
            wait = wait.min(timeout.saturating_sub(start.elapsed()));
        }
        if registered.borrow().is_some() {
            return std::future::pending().await;
        }
        tokio::select! {
            changed = registered.changed() => {
                if changed.is_err() {
                    return std::future::pending().await;
                }
            }
            _ = tokio::time::sleep(wait) => {
                if !timeout.is_zero() && start.elapsed() >= timeout {
                    return;
                }
                console.line(&format!("no master at {master} yet, retrying"));
            }
        }
    }
}

/// The task's health check from the `--health-check-*` flags (none without a kind);
/// refused as the master would refuse it.
fn health_check(flags: &ExecuteFlags) -> anyhow::Result<Option<meso_api::v1::HealthCheck>> {
    use meso_api::v1::task::{HttpCheckInfo, TcpCheckInfo};
    use meso_api::v1::{CommandInfo, HealthCheck, HealthCheckType};
    let mut check = HealthCheck::command(CommandInfo::shell(""));
    check.command = None;
    if let Some(line) = &flags.health_check_cmd {
        check.command = Some(CommandInfo::shell(line));
    } else if let Some(target) = &flags.health_check_http {
        let (port, path) = match target.split_once('/') {
            Some((port, path)) => (port, Some(format!("/{path}"))),
            None => (target.as_str(), None),
        };
        let port = port
            .parse()
            .map_err(|_| anyhow::anyhow!("--health-check-http: '{target}' is not PORT[/PATH]"))?;
        check.kind = Some(HealthCheckType::Http);
        check.http = Some(HttpCheckInfo {
            scheme: None,
            port,
            path,
        });
    } else if let Some(port) = flags.health_check_tcp {
        check.kind = Some(HealthCheckType::Tcp);
        check.tcp = Some(TcpCheckInfo { port });
    } else {
        return Ok(None);
    }
    check.delay_seconds = flags.health_check_delay.as_secs_f64();
    check.interval_seconds = flags.health_check_interval.as_secs_f64();
    check.grace_period_seconds = flags.health_check_grace_period.as_secs_f64();
    check.consecutive_failures = flags.health_check_consecutive_failures;
    meso_api::v1::checks::validate_health_check(&check)
        .map_err(|e| anyhow::anyhow!("--health-check-*: {e}"))?;
    Ok(Some(check))
}

/// The OS user this process runs as (mesos-execute's `FrameworkInfo.user`).
fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default()
}

/// How often `--attach` reads the task's files again.
const ATTACH_EVERY: Duration = Duration::from_millis(300);

/// Streams the task's stdout and stderr through `console` until `done` turns true, then
/// reads what is left once more. Failures to read are retried (the sandbox and its files
/// appear only once the task runs); the last one is reported if nothing could be read.
async fn attach(
    client: MasterClient,
    console: Arc<Console>,
    task: String,
    mut registered: watch::Receiver<Option<FrameworkId>>,
    mut done: watch::Receiver<bool>,
) {
    let framework = loop {
        if let Some(f) = registered.borrow().clone() {
            break f;
        }
        if *done.borrow() {
            return;
        }
        tokio::select! {
            r = registered.changed() => if r.is_err() { return },
            _ = done.changed() => {}
        }
    };
    let mut followers: Option<[Follower; 2]> = None;
    let mut failure: Option<String> = None;
    loop {
        let finished = *done.borrow();
        if followers.is_none() {
            match locate(&client, &task, framework.as_str()).await {
                Ok((agent, dir)) => {
                    followers = Some([
                        Follower::new(&agent, format!("{dir}/stdout")),
                        Follower::new(&agent, format!("{dir}/stderr")),
                    ])
                }
                Err(e) => failure = Some(e.message),
            }
        }
        if let Some(pair) = followers.as_mut() {
            for (i, follower) in pair.iter_mut().enumerate() {
                match follower.poll(&client).await {
                    Ok(data) => {
                        console.output(&data, i == 1);
                        failure = None;
                    }
                    Err(e) => failure = Some(e.message),
                }
            }
        }
        if finished {
            if let Some(why) = failure {
                eprintln!("meso: --attach could not read the task's output: {why}");
            }
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(ATTACH_EVERY) => {}
            _ = done.changed() => {}
        }
    }
}

/// The agent and sandbox of task `task` of `framework`, once launched.
async fn locate(
    client: &MasterClient,
    task: &str,
    framework: &str,
) -> Result<(String, String), super::client::CliError> {
    let found = find_task(client, task, Some(framework)).await?;
    let dir = sandbox_dir(client, &found).await?;
    Ok((found.agent, dir))
}

fn detector(text: &str) -> anyhow::Result<MasterDetector> {
    let list: Vec<&str> = text
        .split(',')
        .map(|part| part.trim().strip_prefix("http://").unwrap_or(part.trim()))
        .collect();
    MasterDetector::parse(&list.join(",")).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The driver's credential from `--principal` and `--secret-file` (both or neither).
fn driver_credential(
    flags: &ExecuteFlags,
) -> anyhow::Result<Option<meso_api::authentication::Credential>> {
    match (&flags.principal, &flags.secret_file) {
        (None, None) => Ok(None),
        (Some(_), None) => anyhow::bail!("--principal needs --secret-file"),
        (None, Some(_)) => anyhow::bail!("--secret-file needs --principal"),
        (Some(principal), Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("--secret-file {}: cannot read it: {e}", path.display())
            })?;
            meso_api::authentication::Credential::from_secret_text(principal, &text)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("--principal/--secret-file: {e}"))
        }
    }
}

/// Runs `meso execute`; returns the process exit code.
pub async fn run(flags: ExecuteFlags) -> anyhow::Result<i32> {
    let detector = detector(&flags.master)?;
    let client = if flags.attach {
        let connection = Connection::resolve(&ConnectFlags {
            master: Some(flags.master.clone()),
            principal: flags.principal.clone(),
            secret_file: flags.secret_file.clone(),
            config: None,
            ssl_ca_file: flags.tls.ssl_ca_file.clone(),
            ssl_cert_file: flags.tls.ssl_cert_file.clone(),
            ssl_key_file: flags.tls.ssl_key_file.clone(),
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        Some(MasterClient::new(connection))
    } else {
        None
    };
    let master = detector.current().clone();
    let resources = Resources::parse(&flags.resources, "*")
        .map_err(|e| anyhow::anyhow!("--resources '{}': {e}", flags.resources))?;
    let bind_ip = if master.addr().ip().is_loopback() {
        master.addr().ip()
    } else {
        std::net::IpAddr::from([0, 0, 0, 0])
    };
    let mut builder = Node::builder().bind(std::net::SocketAddr::new(bind_ip, 0));
    if let Some(tls) = flags.tls.tls().map_err(|e| anyhow::anyhow!(e))? {
        builder = builder.tls(tls);
    }
    let node = builder.build().await?;
    let mut framework = FrameworkInfo::new(&os_user(), &flags.name);
    framework.hostname = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok());
    if flags.role != "*" {
        framework.role = Some(flags.role.clone());
    }
    framework.failover_timeout = flags.failover_timeout.as_secs_f64();
    framework.checkpoint = flags.checkpoint;
    framework.principal = flags.principal.clone();
    let credential = driver_credential(&flags)?;
    let console = Arc::new(Console::new(
        std::io::stdout().is_terminal(),
        format!("waiting for a master at {}", flags.master),
    ));
    let framework = meso_frameworks::execute::framework_info(framework, flags.revocable);
    let (mut scheduler, outcome) = Execute::new(
        ExecuteConfig {
            name: flags.name.clone(),
            command: flags.command.clone(),
            resources,
            revocable: flags.revocable,
            user: flags.user.clone(),
            health_check: health_check(&flags)?,
        },
        Box::new({
            let console = console.clone();
            move |line| console.line(&line)
        }),
    );
    let registration = scheduler.registration();
    let (registered_tx, registered) = watch::channel(None);
    tokio::spawn(async move {
        if let Ok(id) = registration.await {
            let _ = registered_tx.send(Some(id));
        }
    });
    let (done_tx, done) = watch::channel(false);
    let attached = client.map(|client| {
        tokio::spawn(attach(
            client,
            console.clone(),
            flags.name.clone(),
            registered.clone(),
            done,
        ))
    });
    let spinner = tokio::spawn({
        let console = console.clone();
        async move {
            let start = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(TICK).await;
                console.tick(start.elapsed());
            }
        }
    });
    let mut driver = SchedulerDriver::with_detector(detector, framework, Box::new(scheduler));
    if let Some(credential) = credential {
        driver = driver.with_credential(
            credential,
            meso_frameworks::driver::authentication::DEFAULT_AUTHENTICATION_TIMEOUT,
        );
    }
    let driver = node.spawn(driver)?;
    let handle = DriverHandle::new(driver.clone());
    let task = TaskId::new(&flags.name);
    if let Some(after) = flags.kill_after {
        let handle = handle.clone();
        let task = task.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = handle.run(move |a| {
                let _ = a.kill_task(task);
            });
        });
    }
    let mut outcome = Box::pin(outcome);
    let result = tokio::select! {
        r = &mut outcome => r.ok(),
        _ = no_master_within(registered, &console, &flags.master, flags.master_timeout) => {
            console.stop();
            spinner.abort();
            eprintln!(
                "gave up: no master answered at {} within {:?} (--master-timeout)",
                flags.master, flags.master_timeout
            );
            node.terminate(driver.upid());
            node.shutdown().await;
            return Ok(EXIT_NO_MASTER);
        }
        _ = tokio::signal::ctrl_c() => {
            console.line(&format!("interrupted: killing task '{}'", flags.name));
            let task = task.clone();
            let _ = handle.run(move |a| { let _ = a.kill_task(task); });
            tokio::time::timeout(Duration::from_secs(30), &mut outcome).await.ok().and_then(|r| r.ok())
        }
    };
    // What the task wrote last is read before the framework is torn down.
    let _ = done_tx.send(true);
    if let Some(attached) = attached {
        let _ = tokio::time::timeout(Duration::from_secs(30), attached).await;
    }
    spinner.abort();
    console.stop();
    let _ = handle.run(|a| {
        let _ = a.teardown();
    });
    let _ = tokio::time::timeout(Duration::from_secs(5), node.wait(driver.upid())).await;
    node.shutdown().await;
    Ok(match result {
        Some(outcome) => {
            if let Outcome::Terminal { state, message } = &outcome {
                if outcome.exit_code() != 0 {
                    eprintln!(
                        "task '{}' ended {}: {}",
                        flags.name,
                        state,
                        message.as_deref().unwrap_or("")
                    );
                }
            }
            outcome.exit_code()
        }
        None => {
            eprintln!("task '{}' ended without a final state", flags.name);
            2
        }
    })
}
