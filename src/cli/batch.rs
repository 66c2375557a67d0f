//! `meso batch`: `run` runs a job file with the batch framework (`meso_frameworks::batch`)
//! and exits 0 when every task finished (1 naming the failed tasks otherwise, 3 when the
//! master refused the framework); `status` shows batch jobs' tasks per stage from the
//! master's state. On a terminal `run` draws a progress bar (done/running/failed, ETA) on
//! stderr; otherwise it prints one line per event on stdout.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use meso_api::detector::MasterDetector;
use meso_api::duration::parse_duration;
use meso_api::v1::FrameworkInfo;
use meso_frameworks::batch::{Batch, Job, Plan};
use meso_frameworks::progress::Progress;
use meso_frameworks::SchedulerDriver;

use super::client::{CliError, MasterClient};
use super::connect::{ConnectFlags, Connection};

/// Prefix of a batch job's framework name (`meso-batch <job>`).
pub const FRAMEWORK_PREFIX: &str = "meso-batch ";

/// `meso batch ...`.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub command: BatchCommand,
}

/// The batch subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum BatchCommand {
    /// Run a job file (JSON: name, stages with name, tasks, command, resources, prefer,
    /// retries, after, ratio; see meso_frameworks::batch::job); exit 0 when every task
    /// finished, 1 naming the failed tasks, 3 when the master refused the framework.
    Run(RunFlags),
    /// Show batch jobs (frameworks named `meso-batch <job>`) and their tasks per stage.
    Status(StatusFlags),
}

/// Flags of `meso batch run`.
#[derive(Debug, Clone, Args)]
pub struct RunFlags {
    /// The masters, HOST:PORT[,HOST:PORT...] (the leader is found among them).
    #[arg(long, env = "MESO_MASTER")]
    pub master: String,
    /// How long a task waits for an offer from a preferred host before it takes a
    /// preferred attribute (rack), and as long again before it takes any agent.
    #[arg(long, default_value = "3secs", value_parser = parse_duration)]
    pub locality_wait: Duration,
    /// Wait before a failed task's first retry; doubled for each further retry (at most 60 s).
    #[arg(long, default_value = "1secs", value_parser = parse_duration)]
    pub retry_backoff: Duration,
    /// Run on revocable (oversubscribed) cpus and mem, as the job field `revocable`.
    #[arg(long)]
    pub revocable: bool,
    /// Role to subscribe with.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// How long the masters keep the job's framework and tasks while this scheduler is
    /// disconnected (e.g. while the masters fail over).
    #[arg(long, default_value = "1mins", value_parser = parse_duration)]
    pub failover_timeout: Duration,
    /// Speak the v1 scheduler HTTP API to the masters instead of libprocess messages.
    #[arg(long)]
    pub http: bool,
    /// The job file (JSON).
    pub jobfile: PathBuf,
}

/// Flags of `meso batch status`.
#[derive(Debug, Clone, Args)]
pub struct StatusFlags {
    #[command(flatten)]
    pub connect: ConnectFlags,
    /// Only this job.
    pub job: Option<String>,
}

/// Runs `meso batch`; returns the exit code.
pub fn run(args: BatchArgs) -> i32 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("meso: cannot start a runtime: {e}");
            return 1;
        }
    };
    let result = match args.command {
        BatchCommand::Run(flags) => runtime.block_on(run_job(flags)),
        BatchCommand::Status(flags) => runtime.block_on(status(flags)),
    };
    result.unwrap_or_else(|e| {
        eprintln!("meso: {e}");
        e.exit_code()
    })
}

async fn run_job(flags: RunFlags) -> Result<i32, CliError> {
    let path = flags.jobfile.display().to_string();
    let text = std::fs::read_to_string(&flags.jobfile)
        .map_err(|e| CliError::new(2, format!("cannot read job file {path}: {e}")))?;
    let mut job = Job::parse(&text).map_err(|e| CliError::new(2, format!("{path}: {e}")))?;
    job.revocable |= flags.revocable;
    let masters = flags.master.replace("http://", "");
    let detector = MasterDetector::parse(&masters)
        .map_err(|e| CliError::new(2, format!("--master {}: {e}", flags.master)))?;
    let user = std::env::var("USER").unwrap_or_default();
    let mut info = FrameworkInfo::new(&user, &format!("{FRAMEWORK_PREFIX}{}", job.name));
    if flags.role != "*" {
        info.role = Some(flags.role.clone());
    }
    info.failover_timeout = flags.failover_timeout.as_secs_f64();
    let info = meso_frameworks::execute::framework_info(info, job.revocable);
    let progress = Progress::for_stderr();
    let plan = Plan::new(job, flags.locality_wait, flags.retry_backoff);
    let (batch, report) = Batch::new(plan, progress);
    // A launch lost on its way (a master failover mid-ACCEPT) comes back as a terminal
    // update, which the plan retries.
    let mut driver = SchedulerDriver::with_detector(detector, info, Box::new(batch))
        .with_launch_check(Some(meso_frameworks::driver::DEFAULT_LAUNCH_CHECK));
    if flags.http {
        driver = driver.over_http();
    }
    let (report, ran) = tokio::join!(report, driver.run());
    ran.map_err(|e| CliError::new(1, e))?;
    progress.finish();
    let (s, failed) = match report {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            let why = format!("the master refused the framework: {e}");
            return Err(CliError::new(3, why));
        }
        Err(_) => return Err(CliError::new(1, "the framework stopped without a report")),
    };
    if !failed.is_empty() || s.finished != s.total {
        let (n, names) = (failed.len(), failed.join(", "));
        let why = format!("{n} tasks failed: {names}; {} skipped", s.skipped);
        return Err(CliError::new(1, why));
    }
    println!(
        "all {} tasks finished; {} of {} with preferences ran on a preferred place",
        s.total, s.on_preferred, s.preferring
    );
    Ok(0)
}

async fn status(flags: StatusFlags) -> Result<i32, CliError> {
    let connection =
        Connection::resolve(&flags.connect).map_err(|e| CliError::new(2, e.to_string()))?;
    let state = MasterClient::new(connection)
        .get_json("/master/state")
        .await?;
    let mut found = false;
    for (list, kind) in [
        ("frameworks", "active"),
        ("completed_frameworks", "completed"),
    ] {
        for f in state[list].as_array().into_iter().flatten() {
            let Some(job) = f["name"]
                .as_str()
                .and_then(|n| n.strip_prefix(FRAMEWORK_PREFIX))
            else {
                continue;
            };
            if flags.job.as_deref().is_some_and(|j| j != job) {
                continue;
            }
            found = true;
            println!(
                "job {job} ({kind}, framework {})",
                f["id"].as_str().unwrap_or("?")
            );
            let mut counts: std::collections::BTreeMap<(String, String), usize> =
                Default::default();
            let tasks = [&f["tasks"], &f["completed_tasks"]];
            for t in tasks.iter().filter_map(|t| t.as_array()).flatten() {
                let name = t["name"].as_str().unwrap_or("?");
                let stage = name.rsplit_once('-').map_or(name, |(s, _)| s).to_string();
                let st = t["state"].as_str().unwrap_or("?").to_string();
                *counts.entry((stage, st)).or_default() += 1;
            }
            for ((stage, st), n) in counts {
                println!("  {stage:<16} {st:<16} {n}");
            }
        }
    }
    if !found {
        return Err(CliError::new(6, "no batch job found"));
    }
    Ok(0)
}
