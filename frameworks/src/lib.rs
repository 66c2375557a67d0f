//! meso-frameworks: the framework side of meso.
//!
//! * [`driver`]: the scheduler driver, a libprocess process that registers a framework with
//!   the master, re-registers after a lost connection, delivers events to a [`Scheduler`]
//!   and acknowledges status updates.
//! * [`execute`]: the framework behind `meso execute` (run one command task, report its
//!   states).

pub mod driver;
pub mod execute;

pub use driver::{DriverActions, DriverHandle, Scheduler, SchedulerDriver};
