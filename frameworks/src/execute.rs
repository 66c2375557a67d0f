//! The framework behind `meso execute` (Mesos's mesos-execute): registers, launches one
//! command task (task id = the given name) on the first offer that holds its resources,
//! declines everything else, reports each state change through a line sink, and hands the
//! final state to the caller.
//!
//! With `revocable`, the task's cpus and mem are revocable (oversubscribed) resources: the
//! framework must register with the REVOCABLE_RESOURCES capability ([`framework_info`]),
//! and the task may be evicted (TASK_KILLED, REASON_CONTAINER_PREEMPTED) when the agent's
//! own work needs the machine back.
//!
//! Invariant: at most one task is launched; once launched, offers are declined for an hour
//! and further offers suppressed (before, an offer that does not fit is declined for
//! [`UNFIT_REFUSE_SECONDS`] only).

use meso_api::v1::{
    AgentId, Filters, FrameworkCapability, FrameworkCapabilityType, FrameworkId, FrameworkInfo,
    MasterInfo, Offer, OfferId, TaskId, TaskInfo, TaskState, TaskStatus,
};
use meso_api::Resources;
use tokio::sync::oneshot;

use crate::driver::{DriverActions, Scheduler};

/// How long an offer that cannot hold the task is declined for while the task waits.
pub const UNFIT_REFUSE_SECONDS: f64 = 5.0;

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteConfig {
    /// Task name and id.
    pub name: String,
    /// Shell command.
    pub command: String,
    /// Resources of the task.
    pub resources: Resources,
    /// Run on revocable cpus and mem.
    pub revocable: bool,
    /// The OS user the task runs as (`CommandInfo.user`); `None`: the framework's.
    pub user: Option<String>,
    /// The task's health check, if any.
    pub health_check: Option<meso_api::v1::HealthCheck>,
}

/// The task's resources: with `revocable`, its cpus and mem become revocable (the other
/// resources stay as they are: only cpus and mem are oversubscribed).
pub fn task_resources(resources: &Resources, revocable: bool) -> Resources {
    if !revocable {
        return resources.clone();
    }
    resources
        .iter()
        .map(|r| {
            if matches!(&*r.name, "cpus" | "mem") {
                r.clone().into_revocable()
            } else {
                r.clone()
            }
        })
        .collect()
}

/// Adds the REVOCABLE_RESOURCES capability to `framework` when `revocable`.
pub fn framework_info(mut framework: FrameworkInfo, revocable: bool) -> FrameworkInfo {
    let capability = FrameworkCapabilityType::RevocableResources;
    if revocable && !framework.has_capability(capability) {
        framework.capabilities.push(FrameworkCapability {
            kind: Some(capability),
        });
    }
    framework
}

/// How the task ended (or why it never ran).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The task reached a terminal state.
    Terminal {
        /// The state.
        state: TaskState,
        /// The status message, if any.
        message: Option<String>,
    },
    /// The master refused the framework.
    Error(String),
}

impl Outcome {
    /// The process exit code: 0 for TASK_FINISHED, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Terminal {
                state: TaskState::Finished,
                ..
            } => 0,
            _ => 1,
        }
    }
}

/// The `meso execute` scheduler.
pub struct Execute {
    config: ExecuteConfig,
    launched: Option<AgentId>,
    outcome: Option<oneshot::Sender<Outcome>>,
    registration: Option<oneshot::Sender<FrameworkId>>,
    say: Box<dyn FnMut(String) + Send>,
}

impl Execute {
    /// A scheduler running `config`, printing through `say`; the outcome arrives on the
    /// returned receiver.
    pub fn new(
        config: ExecuteConfig,
        say: Box<dyn FnMut(String) + Send>,
    ) -> (Execute, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        (
            Execute {
                config,
                launched: None,
                outcome: Some(tx),
                registration: None,
                say,
            },
            rx,
        )
    }

    /// A receiver that gets the framework id once a master has registered the framework
    /// (used by `meso execute` to tell an unreachable master from a slow one).
    pub fn registration(&mut self) -> oneshot::Receiver<FrameworkId> {
        let (tx, rx) = oneshot::channel();
        self.registration = Some(tx);
        rx
    }

    /// The task id used for the task.
    pub fn task_id(&self) -> TaskId {
        TaskId::new(&self.config.name)
    }

    fn fits(&self, offer: &Offer) -> Option<Resources> {
        let role = offer
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.clone())
            .unwrap_or_else(|| "*".to_string());
        let wanted = task_resources(&self.config.resources, self.config.revocable).allocate(&role);
        offer.resources.contains(&wanted).then_some(wanted)
    }

    fn finish(&mut self, outcome: Outcome) {
        if let Some(tx) = self.outcome.take() {
            let _ = tx.send(outcome);
        }
    }
}

/// One line describing a status update.
pub fn describe(status: &TaskStatus) -> String {
    let mut line = format!("task '{}' is {}", status.task_id, status.state);
    if let Some(reason) = status.reason {
        line.push_str(&format!(" ({reason})"));
    }
    if let Some(healthy) = status.healthy {
        line.push_str(if healthy { ", healthy" } else { ", unhealthy" });
    }
    if let Some(message) = status.message.as_deref().filter(|m| !m.is_empty()) {
        line.push_str(&format!(": {message}"));
    }
    line
}

impl Scheduler for Execute {
    fn registered(
        &mut self,
        _driver: &mut DriverActions<'_>,
        framework_id: &FrameworkId,
        master: &MasterInfo,
    ) {
        if let Some(tx) = self.registration.take() {
            let _ = tx.send(framework_id.clone());
        }
        (self.say)(format!(
            "registered as framework {} with master {}",
            framework_id,
            master.pid.as_deref().unwrap_or(&master.id)
        ));
    }

    fn resource_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<Offer>) {
        let long = Filters {
            refuse_seconds: 3600.0,
        };
        // Until the task runs, an offer that does not fit is declined only briefly: the
        // agent's resources may grow (revocable ones come and go with its estimate).
        let waiting = Filters {
            refuse_seconds: UNFIT_REFUSE_SECONDS,
        };
        for offer in offers {
            if self.launched.is_none() {
                if let Some(resources) = self.fits(&offer) {
                    // Named after its id (`task_id()` is the name).
                    let mut task = TaskInfo::command(
                        &self.config.name,
                        offer.agent_id.clone(),
                        &self.config.command,
                    )
                    .with_resources(resources);
                    if let (Some(user), Some(command)) = (&self.config.user, &mut task.command) {
                        command.user = Some(user.clone());
                    }
                    task.health_check = self.config.health_check.clone();
                    (self.say)(format!(
                        "launching task '{}' on agent {} ({})",
                        self.config.name, offer.agent_id, offer.hostname
                    ));
                    let _ = driver.launch_tasks(vec![offer.id.clone()], vec![task], long);
                    self.launched = Some(offer.agent_id.clone());
                    let _ = driver.suppress_offers();
                    continue;
                }
            }
            let filter = if self.launched.is_some() {
                long
            } else {
                waiting
            };
            let _ = driver.decline_offer(offer.id, filter);
        }
    }

    fn offer_rescinded(&mut self, _driver: &mut DriverActions<'_>, _offer: &OfferId) {}

    fn status_update(&mut self, _driver: &mut DriverActions<'_>, status: &TaskStatus) {
        if status.task_id != self.task_id() {
            return;
        }
        (self.say)(describe(status));
        if status.state.is_terminal() {
            self.finish(Outcome::Terminal {
                state: status.state,
                message: status.message.clone(),
            });
        }
    }

    fn disconnected(&mut self, _driver: &mut DriverActions<'_>) {
        (self.say)("disconnected from the master; re-registering".to_string());
    }

    fn agent_lost(&mut self, _driver: &mut DriverActions<'_>, agent: &AgentId) {
        if self.launched.as_ref() == Some(agent) {
            (self.say)(format!("agent {agent} was lost"));
        }
    }

    fn error(&mut self, _driver: &mut DriverActions<'_>, message: &str) {
        (self.say)(format!("error: {message}"));
        self.finish(Outcome::Error(message.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocable_turns_cpus_and_mem_revocable_and_asks_for_the_capability() {
        let r = Resources::parse("cpus:0.5;mem:64;disk:10", "*").unwrap();
        assert_eq!(task_resources(&r, false), r);
        let rev = task_resources(&r, true);
        assert!(rev.named("cpus").iter().all(|r| r.revocable));
        assert!(rev.named("mem").iter().all(|r| r.revocable));
        assert!(rev.named("disk").iter().all(|r| !r.revocable));
        let info = framework_info(FrameworkInfo::new("u", "n"), true);
        assert!(info.has_capability(FrameworkCapabilityType::RevocableResources));
        assert_eq!(
            framework_info(info.clone(), true).capabilities.len(),
            info.capabilities.len()
        );
        assert!(framework_info(FrameworkInfo::new("u", "n"), false)
            .capabilities
            .is_empty());
    }
}
