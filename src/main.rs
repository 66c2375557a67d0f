//! `meso`: the one binary. Thin: flags and wiring only; the work lives in the library crates.

use clap::Parser;

/// A cluster resource manager modelled on Apache Mesos.
#[derive(Debug, Parser)]
#[command(name = "meso", version, about, long_about = None)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
