//! meso-api: the Mesos data model shared by master, agent, allocator and frameworks.
//!
//! * [`resources`]: `Resource`/`Resources` with Mesos's fixed-point arithmetic, filters,
//!   the `--resources` grammar and JSON form.
//! * [`attributes`]: the `--attributes` grammar and JSON form.
//! * [`roles`] and [`ids`]: validation of role names and ids.
//! * [`json`]: the guarded JSON entry point (`from_slice` with [`json::Limits`]) and the
//!   serde helpers for Mesos's JSON mapping.
//! * [`labels`]: key/value labels.
//! * [`error`]: the crate's one error type.
//!
//! Everything here is pure data and functions: no I/O, no clocks, no threads.

pub mod attributes;
pub mod error;
pub mod ids;
pub mod json;
pub mod labels;
pub mod resources;
pub mod roles;

pub use error::{Error, Result};
pub use resources::{Resource, Resources, Scalar};
