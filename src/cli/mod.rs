//! The `meso` subcommands: flag definitions and start-up, nothing more.

pub mod execute;
pub mod local;
pub mod logging;
pub mod master;
