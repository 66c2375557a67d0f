//! [`SchedulerDriver::run`] through the public API against the kit's master: the driver
//! runs on a node of its own, registers, and `run` returns once the scheduler tears the
//! framework down, which the master then lists as completed. Waits are hang guards.

use meso_api::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};
use meso_testkit::eventually::eventually_async;
use meso_testkit::master_harness::{Cluster, HANG_GUARD};
use tokio::sync::oneshot;

/// Tears its framework down as soon as it is registered.
struct Leave(Option<oneshot::Sender<FrameworkId>>);

impl Scheduler for Leave {
    fn registered(&mut self, driver: &mut DriverActions<'_>, id: &FrameworkId, _: &MasterInfo) {
        driver.teardown().expect("registered");
        if let Some(tx) = self.0.take() {
            let _ = tx.send(id.clone());
        }
    }

    fn resource_offers(&mut self, _: &mut DriverActions<'_>, _: Vec<Offer>) {}

    fn status_update(&mut self, _: &mut DriverActions<'_>, _: &TaskStatus) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_returns_once_the_scheduler_tears_the_framework_down() {
    let cluster = Cluster::start(Cluster::config()).await;
    let (tx, registered) = oneshot::channel();
    let info = FrameworkInfo::new("tester", "run");
    let driver = SchedulerDriver::new(
        cluster.master.upid().clone(),
        info,
        Box::new(Leave(Some(tx))),
    );
    tokio::time::timeout(HANG_GUARD, driver.run())
        .await
        .expect("hang guard: run returns after the teardown")
        .expect("the driver's node started");
    let id = registered.await.expect("the scheduler was registered");
    eventually_async("the master lists the framework as completed", || async {
        let state = cluster.state().await;
        let completed = state["completed_frameworks"].as_array().cloned();
        completed.is_some_and(|c| c.iter().any(|f| f["id"] == id.as_str()))
    })
    .await;
}
