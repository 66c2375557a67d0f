//! The `meso` subcommands: flag definitions and start-up for the roles (`master`, `agent`,
//! `local`, `execute`), and the operator commands (`agents`, `tasks`, `task logs`, ...),
//! thin HTTP clients of the leading master: `commands.rs` (arguments, exit codes),
//! `connect.rs` (masters and credentials), `client.rs` (leader finding, errors),
//! `listings.rs` and `operate.rs` (the commands), `sandbox.rs` (sandboxes through the
//! master's agent proxy), `table.rs` (output); `console.rs` is `meso execute`'s output; `batch.rs` is `meso batch`.

pub mod agent;
pub mod batch;
pub mod client;
pub mod commands;
pub mod connect;
pub mod console;
pub mod execute;
pub mod listings;
pub mod local;
pub mod log_filter;
pub mod log_line;
pub mod logging;
pub mod master;
pub mod operate;
pub mod sandbox;
pub mod table;
