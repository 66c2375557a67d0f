//! meso-frameworks: the framework side of meso.
//!
//! * [`driver`]: the scheduler driver, a libprocess process that registers a framework with
//!   the master, re-registers after a lost connection, delivers events to a [`Scheduler`]
//!   and acknowledges status updates.
//! * [`executor`]: the executor side: the [`Executor`](executor::Executor) trait and its
//!   driver speaking the v1 executor HTTP API to the agent.
//! * [`launches`]: launches not heard of yet, reconciled by the driver.
//! * [`packing`]: fitting tasks into an offer, naming tasks.
//! * [`locality`]: delay scheduling for tasks that prefer hosts or attributes.
//! * [`tasks`]: many tasks' attempts, retries with backoff and status-update bookkeeping.
//! * [`stages`]: stage order for multi-stage jobs (after, slow-start ratio).
//! * [`progress`]: a progress bar on a terminal, plain lines otherwise.
//! * [`spec`]: reading a framework's JSON file with errors that name the field's path.
//! * [`batch`]: the batch framework behind `meso batch` (stages, retries, locality).
//! * [`execute`]: the framework behind `meso execute` (run one command task, report its
//!   states).

pub mod batch;
pub mod driver;
pub mod execute;
pub mod executor;
pub mod launches;
pub mod locality;
pub mod packing;
pub mod progress;
pub mod spec;
pub mod stages;
pub mod tasks;

pub use driver::{DriverActions, DriverHandle, Scheduler, SchedulerDriver};
