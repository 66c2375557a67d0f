//! The batch framework behind `meso batch run` (issue 20): a job of stages of shell
//! tasks, run in stage order, with retries and delay scheduling for locality.
//!
//! * [`job`]: the job file (JSON), validated.
//! * [`plan`]: the pure core: which tasks an offer gets, what an update changes.
//! * [`framework`]: the [`Scheduler`](crate::Scheduler) around the plan.
//!
//! Written on the SDK: tasks, retries and counts are [`crate::tasks`], stage order
//! [`crate::stages`], delay scheduling [`crate::locality`], offer fitting
//! [`crate::packing`], progress [`crate::progress`].

pub mod framework;
pub mod job;
pub mod plan;

pub use crate::tasks::Summary;
pub use framework::{Batch, Report};
pub use job::Job;
pub use plan::Plan;
