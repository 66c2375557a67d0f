//! The batch framework: a [`Scheduler`] around the pure [`Plan`]. Offers go to the plan
//! (time from the driver's clock, since the framework registered); what it picks is
//! launched as command tasks with `MESO_BATCH_TASK_INDEX` set; the rest of each offer is
//! declined briefly while tasks wait, longer once none does. Status updates go to the plan;
//! a retry revives offers. Each event is shown through a [`Progress`] (failures kept above
//! a terminal's bar). When every task finished, failed or was skipped, the framework tears
//! itself down and the report goes to the caller.

use std::time::{Duration, SystemTime};

use meso_api::v1::{Filters, FrameworkId, MasterInfo, Offer, TaskInfo, TaskStatus};
use tokio::sync::oneshot;

use super::plan::Plan;
use crate::driver::{DriverActions, Scheduler};
use crate::execute::describe;
use crate::progress::Progress;
use crate::tasks::{Outcome, Summary};

/// How long offers are declined while tasks still wait (stage order, locality, backoff).
pub const WAITING_REFUSE_SECONDS: f64 = 0.5;

/// How long offers are declined once no task waits.
pub const IDLE_REFUSE_SECONDS: f64 = 30.0;

/// The job's end: the final counts and the tasks that failed for good (or the master's
/// error).
pub type Report = Result<(Summary, Vec<String>), String>;

/// The `meso batch run` scheduler.
pub struct Batch {
    plan: Plan,
    start: Option<SystemTime>,
    progress: Progress,
    report: Option<oneshot::Sender<Report>>,
}

impl Batch {
    /// Runs `plan`, showing progress through `progress`; the report arrives on the receiver.
    pub fn new(plan: Plan, progress: Progress) -> (Batch, oneshot::Receiver<Report>) {
        let (tx, rx) = oneshot::channel();
        let batch = Batch {
            plan,
            start: None,
            progress,
            report: Some(tx),
        };
        (batch, rx)
    }

    fn now(&self, driver: &DriverActions<'_>) -> Duration {
        let now = driver.wall_time();
        let since = self.start.and_then(|s| now.duration_since(s).ok());
        since.unwrap_or_default()
    }

    fn say(&self, driver: &DriverActions<'_>, line: Option<&str>, keep: bool) {
        let now = self.now(driver);
        self.progress.show(line, keep, &self.plan.summary(), now);
    }
}

impl Scheduler for Batch {
    fn registered(&mut self, driver: &mut DriverActions<'_>, id: &FrameworkId, _: &MasterInfo) {
        self.start.get_or_insert(driver.wall_time());
        self.say(driver, Some(&format!("registered as framework {id}")), true);
    }

    fn reregistered(&mut self, driver: &mut DriverActions<'_>, _: &MasterInfo) {
        self.say(driver, Some("re-registered with the leading master"), true);
    }

    fn resource_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<Offer>) {
        let now = self.now(driver);
        for offer in offers {
            let launches = self.plan.offer(&offer, now);
            if launches.is_empty() {
                let waiting = self.plan.wants_offers();
                let refuse_seconds =
                    [IDLE_REFUSE_SECONDS, WAITING_REFUSE_SECONDS][waiting as usize];
                let _ = driver.decline_offer(offer.id, Filters { refuse_seconds });
                continue;
            }
            let mut tasks = Vec::new();
            for l in launches {
                let level = ["host", "attribute", "any"][l.level as usize];
                let line = format!("launching {} on {} ({level})", l.name, offer.hostname);
                self.say(driver, Some(&line), false);
                let mut task = TaskInfo::command(&l.id, offer.agent_id.clone(), &l.command)
                    .with_resources(l.resources)
                    .with_env("MESO_BATCH_TASK_INDEX", &l.index.to_string());
                task.name = l.name;
                tasks.push(task);
            }
            let filters = Filters {
                refuse_seconds: 0.0,
            };
            let _ = driver.launch_tasks(vec![offer.id], tasks, filters);
        }
    }

    fn status_update(&mut self, driver: &mut DriverActions<'_>, status: &TaskStatus) {
        let now = self.now(driver);
        let (line, keep) = match self.plan.update(status.task_id.as_str(), status.state, now) {
            Outcome::Ignored => return,
            Outcome::Running(_) => (None, false),
            Outcome::Finished(name) => (Some(format!("{name} finished")), false),
            Outcome::Retry(name, at) => {
                let _ = driver.revive_offers();
                let (why, wait) = (describe(status), at.saturating_sub(now));
                (
                    Some(format!("{name} failed ({why}); retry in {wait:?}")),
                    true,
                )
            }
            Outcome::Failed(name) => {
                let why = describe(status);
                (Some(format!("{name} failed for good ({why})")), true)
            }
        };
        self.say(driver, line.as_deref(), keep);
        if self.plan.done() {
            let _ = driver.teardown();
            if let Some(tx) = self.report.take() {
                let _ = tx.send(Ok((self.plan.summary(), self.plan.failed())));
            }
        }
    }

    fn error(&mut self, _driver: &mut DriverActions<'_>, message: &str) {
        if let Some(tx) = self.report.take() {
            let _ = tx.send(Err(message.to_string()));
        }
    }
}
