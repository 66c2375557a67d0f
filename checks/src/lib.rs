//! Task checks for executors: Mesos's health checks (`TaskInfo.health_check`, which decide
//! `healthy` and may get a task killed) and general checks (`TaskInfo.check`, reported in
//! `check_status`), usable by any executor (the built-in command executor, the SDK's).
//!
//! Pure cores, thin shell:
//! - [`health::HealthCore`] and [`general::CheckCore`] decide, from the policy and the
//!   results so far, when the next check runs and what to report (healthy, unhealthy, kill;
//!   a changed check status). They take time as `Duration` values since an origin the
//!   caller picks and do no I/O.
//! - [`probe`] runs one check for real, blocking, within its timeout: a COMMAND as a child
//!   process in its own process group (killed with the group on timeout), HTTP with
//!   `std::net` (HTTPS through `curl -k`, as Mesos runs its HTTP checks), TCP with a connect.
//! - [`runner`] is the loop of one check on its own small thread, feeding probe results to
//!   a core and handing each verdict to the executor's callback.

pub mod general;
pub mod health;
pub mod probe;
pub mod runner;
