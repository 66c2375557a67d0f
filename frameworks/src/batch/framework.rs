//! The batch framework: a [`Scheduler`] around the pure [`Plan`]. Offers go to the plan
//! (time from the driver's clock, since the framework registered); what it picks is
//! launched as command tasks with `MESO_BATCH_TASK_INDEX` set; the rest of each offer is
//! declined briefly while tasks wait, longer once none does. Status updates go to the plan;
//! a retry revives offers. When every task finished, failed or was skipped, the framework
//! tears itself down and the report goes to the caller.

use std::time::{Duration, SystemTime};

use meso_api::v1::{
    EnvironmentVariable, Filters, FrameworkId, MasterInfo, Offer, TaskInfo, TaskStatus,
};
use tokio::sync::oneshot;

use super::plan::{Outcome, Plan, Summary};
use crate::driver::{DriverActions, Scheduler};

/// How long offers are declined while tasks still wait (stage order, locality, backoff).
pub const WAITING_REFUSE_SECONDS: f64 = 0.5;

/// The job's end: the final counts and the tasks that failed for good (or the master's
/// error).
pub type Report = Result<(Summary, Vec<String>), String>;

/// What the framework tells its user: a line (or none) and the counts after it.
pub type Say = Box<dyn FnMut(Option<String>, &Summary) + Send>;

/// The `meso batch run` scheduler.
pub struct Batch {
    plan: Plan,
    start: Option<SystemTime>,
    say: Say,
    report: Option<oneshot::Sender<Report>>,
}

impl Batch {
    /// Runs `plan`, telling progress through `say`; the report arrives on the receiver.
    pub fn new(plan: Plan, say: Say) -> (Batch, oneshot::Receiver<Report>) {
        let (tx, rx) = oneshot::channel();
        (
            Batch {
                plan,
                start: None,
                say,
                report: Some(tx),
            },
            rx,
        )
    }

    fn now(&self, driver: &DriverActions<'_>) -> Duration {
        let now = driver.wall_time();
        self.start
            .and_then(|s| now.duration_since(s).ok())
            .unwrap_or_default()
    }

    fn task(&self, offer: &Offer, launch: super::plan::Launch) -> TaskInfo {
        let mut task = TaskInfo::command(&launch.id, offer.agent_id.clone(), &launch.command)
            .with_resources(launch.resources);
        task.name = launch.name;
        if let Some(c) = task.command.as_mut() {
            c.environment = Some(meso_api::v1::task::Environment {
                variables: vec![EnvironmentVariable {
                    name: "MESO_BATCH_TASK_INDEX".into(),
                    kind: meso_api::v1::task::EnvironmentVariableType::Value,
                    value: Some(launch.index.to_string()),
                }],
            });
        }
        task
    }

    fn check_done(&mut self, driver: &mut DriverActions<'_>) {
        if self.plan.done() {
            let _ = driver.teardown();
            if let Some(tx) = self.report.take() {
                let _ = tx.send(Ok((self.plan.summary(), self.plan.failed())));
            }
        }
    }
}

impl Scheduler for Batch {
    fn registered(&mut self, driver: &mut DriverActions<'_>, id: &FrameworkId, _: &MasterInfo) {
        self.start.get_or_insert(driver.wall_time());
        (self.say)(
            Some(format!("registered as framework {id}")),
            &self.plan.summary(),
        );
    }

    fn reregistered(&mut self, _driver: &mut DriverActions<'_>, _: &MasterInfo) {
        let line = "re-registered with the leading master".to_string();
        (self.say)(Some(line), &self.plan.summary());
    }

    fn resource_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<Offer>) {
        let now = self.now(driver);
        for offer in offers {
            let launches = self.plan.offer(&offer, now);
            if launches.is_empty() {
                let refuse = if self.plan.wants_offers() {
                    WAITING_REFUSE_SECONDS
                } else {
                    30.0
                };
                let _ = driver.decline_offer(
                    offer.id,
                    Filters {
                        refuse_seconds: refuse,
                    },
                );
                continue;
            }
            let mut tasks = Vec::new();
            for l in launches {
                let level = ["host", "attribute", "any"][l.level as usize];
                let line = format!("launching {} on {} ({level})", l.name, offer.hostname);
                (self.say)(Some(line), &self.plan.summary());
                tasks.push(self.task(&offer, l));
            }
            let filters = Filters {
                refuse_seconds: 0.0,
            };
            let _ = driver.launch_tasks(vec![offer.id], tasks, filters);
        }
    }

    fn status_update(&mut self, driver: &mut DriverActions<'_>, status: &TaskStatus) {
        let now = self.now(driver);
        let line = match self.plan.update(status.task_id.as_str(), status.state, now) {
            Outcome::Ignored => return,
            Outcome::Running(_) => None,
            Outcome::Finished(name) => Some(format!("{name} finished")),
            Outcome::Retry(name, at) => {
                let _ = driver.revive_offers();
                let why = crate::execute::describe(status);
                Some(format!(
                    "{name} failed ({why}); retry in {:?}",
                    at.saturating_sub(now)
                ))
            }
            Outcome::Failed(name) => {
                let why = crate::execute::describe(status);
                Some(format!("{name} failed for good ({why})"))
            }
        };
        (self.say)(line, &self.plan.summary());
        self.check_done(driver);
    }

    fn error(&mut self, _driver: &mut DriverActions<'_>, message: &str) {
        if let Some(tx) = self.report.take() {
            let _ = tx.send(Err(message.to_string()));
        }
    }
}
