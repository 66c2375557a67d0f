//! The operator commands' arguments and their run: resolve the masters and credentials
//! ([`super::connect`]), run the command on a small runtime, print an error as one line
//! `meso: <what failed>` and exit with its code ([`EXIT_CODES`]).

use clap::{Args, Parser};

use super::client::{CliError, MasterClient};
use super::connect::{ConnectFlags, Connection};
use super::listings::{self, OutputFlags, TaskFilters};
use super::operate::{self, DrainArgs, FrameworkCommand, SandboxCommand, TaskCommand};

/// The exit codes of the operator commands (shown in `meso --help`).
pub const EXIT_CODES: &str = "\
Exit codes of the operator commands (agents, frameworks, tasks, roles, offers, maintenance,
task, sandbox, framework, agent drain):
  0  done
  1  the master (or an agent through it) refused or failed the request
  2  bad usage (unknown flag, missing argument, bad config file or secret file)
  3  no master could be reached, or none leads
  4  credentials missing or refused (401/403): pass --principal and --secret-file
  5  the master does not implement the call (501)
  6  the task, framework or agent does not exist
`meso execute` exits 0 when its task finishes, 3 when no master answers (--master-timeout),
and non-zero for any other end of the task.";

/// A read command's flags.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub connect: ConnectFlags,
    #[command(flatten)]
    pub output: OutputFlags,
}

/// `meso tasks` flags.
#[derive(Debug, Clone, Args)]
pub struct TasksArgs {
    #[command(flatten)]
    pub connect: ConnectFlags,
    #[command(flatten)]
    pub output: OutputFlags,
    #[command(flatten)]
    pub filters: TaskFilters,
}

/// `meso task ...`.
#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    #[command(flatten)]
    pub connect: ConnectFlags,
    #[command(subcommand)]
    pub command: TaskCommand,
}

/// `meso sandbox ...`.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    #[command(flatten)]
    pub connect: ConnectFlags,
    #[command(subcommand)]
    pub command: SandboxCommand,
}

/// `meso framework ...`.
#[derive(Debug, Clone, Args)]
pub struct FrameworkArgs {
    #[command(flatten)]
    pub connect: ConnectFlags,
    #[command(subcommand)]
    pub command: FrameworkCommand,
}

/// `meso agent drain` (parsed apart from `meso agent`, which runs an agent).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "meso agent drain",
    bin_name = "meso agent drain",
    about = "Drain an agent: kill its tasks and stop offering its resources (v1 DRAIN_AGENT)",
    after_help = EXIT_CODES
)]
pub struct AgentDrainCli {
    #[command(flatten)]
    pub connect: ConnectFlags,
    #[command(flatten)]
    pub args: DrainArgs,
}

/// One operator command.
#[derive(Debug, Clone)]
pub enum Operator {
    /// `meso agents`.
    Agents(ListArgs),
    /// `meso frameworks`.
    Frameworks(ListArgs),
    /// `meso tasks`.
    Tasks(TasksArgs),
    /// `meso roles`.
    Roles(ListArgs),
    /// `meso offers`.
    Offers(ListArgs),
    /// `meso maintenance`.
    Maintenance(ListArgs),
    /// `meso task ...`.
    Task(TaskArgs),
    /// `meso sandbox ...`.
    Sandbox(SandboxArgs),
    /// `meso framework ...`.
    Framework(FrameworkArgs),
    /// `meso agent drain`.
    Drain(AgentDrainCli),
}

impl Operator {
    fn connect(&self) -> &ConnectFlags {
        match self {
            Operator::Agents(a)
            | Operator::Frameworks(a)
            | Operator::Roles(a)
            | Operator::Offers(a)
            | Operator::Maintenance(a) => &a.connect,
            Operator::Tasks(a) => &a.connect,
            Operator::Task(a) => &a.connect,
            Operator::Sandbox(a) => &a.connect,
            Operator::Framework(a) => &a.connect,
            Operator::Drain(a) => &a.connect,
        }
    }

    async fn run_with(&self, client: &MasterClient) -> Result<(), CliError> {
        match self {
            Operator::Agents(a) => listings::agents(client, &a.output).await,
            Operator::Frameworks(a) => listings::frameworks(client, &a.output).await,
            Operator::Tasks(a) => listings::tasks(client, &a.filters, &a.output).await,
            Operator::Roles(a) => listings::roles(client, &a.output).await,
            Operator::Offers(a) => listings::offers(client, &a.output).await,
            Operator::Maintenance(a) => listings::maintenance(client, &a.output).await,
            Operator::Task(a) => operate::task(client, &a.command).await,
            Operator::Sandbox(a) => operate::sandbox(client, &a.command).await,
            Operator::Framework(a) => operate::framework(client, &a.command).await,
            Operator::Drain(a) => operate::drain(client, &a.args).await,
        }
    }
}

/// Runs `command`; returns the process exit code (the error already printed).
pub fn run(command: Operator) -> i32 {
    let connection = match Connection::resolve(command.connect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("meso: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("meso: cannot start a runtime: {e}");
            return 1;
        }
    };
    let client = MasterClient::new(connection);
    match runtime.block_on(command.run_with(&client)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("meso: {e}");
            e.exit_code()
        }
    }
}
