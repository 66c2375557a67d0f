//! `meso`: the one binary. Thin: flags and wiring only; the work lives in the library crates.

mod cli;

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
    /// Run a master.
    Master(cli::master::MasterFlags),
    /// Run one command task on a cluster and report its states (exit 0 when it finishes).
    Execute(cli::execute::ExecuteFlags),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Master(flags) => runtime.block_on(cli::master::run(flags)),
        Command::Execute(flags) => {
            let code = runtime.block_on(cli::execute::run(flags))?;
            drop(runtime);
            std::process::exit(code);
        }
    }
}
