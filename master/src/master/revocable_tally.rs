//! The revocable resources and evictions a set of tasks or agents adds to the `revocable`
//! summary (`revocable_summary`, issue 23), in fixed point: adding and subtracting one
//! task's tally is exact, which lets the task book keep its active tasks' tally up to
//! date at every change (issue 22) instead of `/master/state` walking every task.
//!
//! Pure; it knows tasks only by their state, status and resources.

use std::ops::{AddAssign, SubAssign};

use meso_api::resources::{Scalar, Value};
use meso_api::v1::{TaskState, TaskStatus, TaskStatusReason};
use meso_api::Resources;

/// Whether a task in `state` with latest `status` ended by a QoS controller's eviction
/// (TASK_KILLED with REASON_CONTAINER_PREEMPTED).
pub fn evicted_by(state: TaskState, status: Option<&TaskStatus>) -> bool {
    state == TaskState::Killed
        && status.is_some_and(|s| s.reason == Some(TaskStatusReason::ContainerPreempted))
}

/// Revocable cpus and mem in fixed point, and a count of evicted tasks: what a set of
/// tasks (or agents) adds to the summary. Adding and subtracting one task's tally is exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevocableTally {
    /// Revocable CPUs.
    pub cpus: Scalar,
    /// Revocable memory in MB.
    pub mem: Scalar,
    /// Tasks evicted by a QoS controller.
    pub evicted: u64,
}

impl RevocableTally {
    /// Adds the revocable cpus and mem of `r`.
    pub fn add_resources(&mut self, r: &Resources) {
        for res in r.iter().filter(|res| res.revocable) {
            let Value::Scalar(x) = &res.value else {
                continue;
            };
            match &*res.name {
                "cpus" => self.cpus += *x,
                "mem" => self.mem += *x,
                _ => {}
            }
        }
    }

    /// What an active task in `state`, with its latest `status` and `resources`, adds: a
    /// task that ended and waits for its framework's acknowledgement is still active, but
    /// its resources are free again and, if evicted, it counts as evicted already (as the
    /// master's eviction metric does, from the same status update).
    pub fn of_active(
        state: TaskState,
        status: Option<&TaskStatus>,
        resources: &Resources,
    ) -> RevocableTally {
        let mut out = RevocableTally::default();
        if state.is_terminal() {
            out.evicted = u64::from(evicted_by(state, status));
        } else {
            out.add_resources(resources);
        }
        out
    }
}

impl AddAssign for RevocableTally {
    fn add_assign(&mut self, that: RevocableTally) {
        self.cpus += that.cpus;
        self.mem += that.mem;
        self.evicted += that.evicted;
    }
}

impl SubAssign for RevocableTally {
    fn sub_assign(&mut self, that: RevocableTally) {
        self.cpus -= that.cpus;
        self.mem -= that.mem;
        self.evicted -= that.evicted;
    }
}
