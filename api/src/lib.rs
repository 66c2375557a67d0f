//! meso-api: the Mesos data model shared by master, agent, allocator and frameworks.
//!
//! * [`resources`]: `Resource`/`Resources` with Mesos's fixed-point arithmetic, filters,
//!   the `--resources` grammar and JSON form.
//! * [`attributes`]: the `--attributes` grammar and JSON form.
//! * [`authentication`]: CRAM-MD5 authentication of agents and drivers to the master.
//! * [`roles`] and [`ids`]: validation of role names and ids.
//! * [`json`]: the guarded JSON entry point (`from_slice` with [`json::Limits`]) and the
//!   serde helpers for Mesos's JSON mapping.
//! * [`labels`]: key/value labels.
//! * [`v1`]: the Mesos v1 types with their exact JSON form.
//! * [`wire`]: internal master/agent/driver messages for libprocess frames, each with a
//!   stable name ([`wire::WireMessage::NAME`]).
//! * [`prometheus`]: the `/metrics/snapshot` keys as Prometheus families, and the text.
//! * [`error`]: the crate's one error type.
//!
//! Everything here is pure data and functions: no I/O, no clocks, no threads.
//!
//! ```
//! use meso_api::{Resources, Scalar};
//!
//! let agent = Resources::parse("cpus:4;mem:2048;cpus(ops):8;ports:[31000-32000]", "*")?;
//! let task = Resources::parse("cpus:0.5;ports:[31500-31500]", "*")?;
//! assert!(agent.contains(&task));
//! let left = agent.checked_sub(&task)?;
//! assert_eq!(left.cpus(), Some(Scalar::from_milli(11_500)));
//! assert_eq!(left.unreserved().to_string(), "cpus:3.5; mem:2048; ports:[31000-31499, 31501-32000]");
//! // Taking more than is there: `-` saturates, `checked_sub` refuses.
//! let greedy = Resources::parse("cpus:100", "*")?;
//! assert!(agent.checked_sub(&greedy).is_err());
//! assert_eq!((agent.clone() - &greedy).cpus(), Some(Scalar::from_units(8)));
//! # Ok::<(), meso_api::Error>(())
//! ```

#![warn(missing_docs)]

pub mod acl;
pub mod attributes;
pub mod authentication;
#[cfg(feature = "libprocess")]
pub mod detector;
pub mod duration;
pub mod error;
pub mod http;
pub mod ids;
pub mod json;
pub mod labels;
pub mod prometheus;
pub mod resources;
pub mod roles;
pub mod v1;
pub mod wire;

pub use error::{Error, Result};
pub use resources::{Resource, Resources, Scalar};
