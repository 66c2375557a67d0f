//! `meso`: the one binary. Thin: flags and wiring only; the work lives in the library crates.

mod allocator;
mod cli;

/// mimalloc, except in `meso executor` (see `allocator`).
#[global_allocator]
static ALLOCATOR: allocator::RoleAllocator = allocator::RoleAllocator;

use clap::{Parser, Subcommand};

/// A cluster resource manager modelled on Apache Mesos.
#[derive(Debug, Parser)]
#[command(name = "meso", version, about, long_about = None)]
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
    /// Run an agent: offer this machine's resources to a master and run its tasks.
    Agent(Box<cli::agent::AgentCommand>),
    /// Run one command task on a cluster and report its states (exit 0 when it finishes).
    Execute(cli::execute::ExecuteFlags),
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
        Command::AgentEmulator(flags) => {
            tokio::runtime::Runtime::new()?.block_on(meso_agent::emulator::run::run(*flags))?;
            Ok(())
        }
        // No async runtime here: the executor stays small (see meso_agent::executor).
        Command::Executor => std::process::exit(meso_agent::executor_main::run()),
    }
}
