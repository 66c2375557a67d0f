//! The `meso` subcommands: flag definitions and start-up, nothing more.

pub mod agent;
pub mod execute;
pub mod local;
pub mod log_filter;
pub mod log_line;
pub mod logging;
pub mod master;
