//! `meso`: the one binary. Thin: flags and wiring only; the work lives in the library crates.

mod allocator;
mod cli;

/// mimalloc, except in `meso executor` (see `allocator`).
#[global_allocator]
static ALLOCATOR: allocator::RoleAllocator = allocator::RoleAllocator;

use clap::{Parser, Subcommand};

/// A cluster resource manager modelled on Apache Mesos.
#[derive(Debug, Parser)]
#[command(name = "meso", version, about, long_about = None, after_help = cli::commands::EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a master and an agent in this process, on defaults (try meso out).
    Local(cli::local::LocalFlags),
    /// Run a master.
    Master(cli::master::MasterFlags),
    /// Run an agent: offer this machine's resources to a master and run its tasks
    /// (`meso agent drain ID` drains one instead; see `meso agent drain --help`).
    Agent(Box<cli::agent::AgentCommand>),
    /// Run one command task on a cluster and report its states (exit 0 when it finishes).
    Execute(cli::execute::ExecuteFlags),
    /// Run a batch job (stages of shell tasks, locality, retries) or show batch jobs.
    Batch(cli::batch::BatchArgs),
    /// List the agents (a table, or --json).
    Agents(cli::commands::ListArgs),
    /// List the frameworks: active, inactive and completed.
    Frameworks(cli::commands::ListArgs),
    /// List the tasks, filtered by --state, --framework, --agent, --name.
    Tasks(cli::commands::TasksArgs),
    /// List the roles with weights, allocation, reservations and quota.
    Roles(cli::commands::ListArgs),
    /// List the outstanding offers.
    Offers(cli::commands::ListArgs),
    /// Show the maintenance schedule and each machine's mode.
    Maintenance(cli::commands::ListArgs),
    /// One task: inspect, logs [--stderr] [-f], kill.
    Task(cli::commands::TaskArgs),
    /// A task's sandbox, read through the master: ls, cat.
    Sandbox(cli::commands::SandboxArgs),
    /// One framework: teardown.
    Framework(cli::commands::FrameworkArgs),
    /// The built-in command executor (started by the agent; reads MESOS_* variables).
    Executor,
    /// Emulate thousands of agents with tasks against the masters (tests and benchmarks).
    #[command(hide = true)]
    AgentEmulator(Box<meso_agent::emulator::run::EmulatorFlags>),
}

fn main() -> anyhow::Result<()> {
    // `meso executor` skips flag parsing altogether: the executor reads its MESOS_*
    // environment and should touch as little memory as it can (see BENCHMARKS.md).
    if std::env::args_os().nth(1).is_some_and(|a| a == "executor") {
        std::process::exit(meso_agent::executor_main::run());
    }
    // `meso agent drain ID` acts on an agent; plain `meso agent` runs one.
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == "agent") && args.next().is_some_and(|a| a == "drain") {
        let drain = cli::commands::AgentDrainCli::parse_from(std::env::args_os().skip(2));
        exit_with(cli::commands::Operator::Drain(drain));
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Local(flags) => tokio::runtime::Runtime::new()?.block_on(cli::local::run(flags)),
        Command::Master(flags) => tokio::runtime::Runtime::new()?.block_on(cli::master::run(flags)),
        Command::Execute(flags) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let code = runtime.block_on(cli::execute::run(flags))?;
            drop(runtime);
            std::process::exit(code);
        }
        Command::Agent(flags) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cli::agent::run(*flags))
        }
        Command::Batch(a) => std::process::exit(cli::batch::run(a)),
        Command::Agents(a) => exit_with(cli::commands::Operator::Agents(a)),
        Command::Frameworks(a) => exit_with(cli::commands::Operator::Frameworks(a)),
        Command::Tasks(a) => exit_with(cli::commands::Operator::Tasks(a)),
        Command::Roles(a) => exit_with(cli::commands::Operator::Roles(a)),
        Command::Offers(a) => exit_with(cli::commands::Operator::Offers(a)),
        Command::Maintenance(a) => exit_with(cli::commands::Operator::Maintenance(a)),
        Command::Task(a) => exit_with(cli::commands::Operator::Task(a)),
        Command::Sandbox(a) => exit_with(cli::commands::Operator::Sandbox(a)),
        Command::Framework(a) => exit_with(cli::commands::Operator::Framework(a)),
        Command::AgentEmulator(flags) => {
            tokio::runtime::Runtime::new()?.block_on(meso_agent::emulator::run::run(*flags))?;
            Ok(())
        }
        // No async runtime here: the executor stays small (see meso_agent::executor).
        Command::Executor => std::process::exit(meso_agent::executor_main::run()),
    }
}

/// Runs an operator command and exits with its code.
fn exit_with(command: cli::commands::Operator) -> ! {
    std::process::exit(cli::commands::run(command))
}
