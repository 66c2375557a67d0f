//! A re-registration the master is already handling (Mesos's `slaves.reregistering`): an
//! agent back from unreachable that sends its re-registration twice before the registry
//! has admitted it again is admitted once, with one registry write and one answer; the
//! duplicate is dropped without an answer. The registry here holds its MarkReachable
//! writes until the test lets them through, so the second copy surely arrives while the
//! first is in progress.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use libprocess::Node;
use meso_api::v1::{FrameworkInfo, TaskState};
use meso_master::master::registrar::{RegistrarError, RegistryChange, RegistrySnapshot};
use meso_master::{InMemoryRegistrar, Master, Registrar};
use meso_testkit::master_harness::*;
use tokio::sync::Semaphore;

#[path = "partition/returning.rs"]
#[allow(dead_code)] // the partition tests read the other events
mod returning;
use returning::{returning, BackEvent};

/// An in-memory registry whose MarkReachable writes wait for a permit of `gate`, counted in
/// `reachable` as they come.
#[derive(Clone)]
struct GatedRegistrar {
    inner: InMemoryRegistrar,
    gate: Arc<Semaphore>,
    reachable: Arc<AtomicUsize>,
}

impl Registrar for GatedRegistrar {
    fn apply(
        &mut self,
        change: RegistryChange,
    ) -> BoxFuture<'static, Result<bool, RegistrarError>> {
        if !matches!(change, RegistryChange::MarkReachable(_)) {
            return self.inner.apply(change);
        }
        self.reachable.fetch_add(1, Ordering::SeqCst);
        let (gate, mut inner) = (self.gate.clone(), self.inner.clone());
        Box::pin(async move {
            let _permit = gate.acquire().await.expect("the gate stays open");
            inner.apply(change).await
        })
    }

    fn recover(&mut self) -> BoxFuture<'static, Result<RegistrySnapshot, RegistrarError>> {
        self.inner.recover()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reregistrations_in_a_row_are_admitted_once_and_answered_once() {
    let registrar = GatedRegistrar {
        inner: InMemoryRegistrar::new(),
        gate: Arc::new(Semaphore::new(0)),
        reachable: Arc::new(AtomicUsize::new(0)),
    };
    let config = Cluster::config();
    let clock = libprocess::TestClock::paused();
    let node = Node::builder()
        .test_clock(&clock)
        .build()
        .await
        .expect("node starts");
    let master = node
        .spawn_named(
            "master",
            Master::new(config.clone(), Box::new(registrar.clone())),
        )
        .expect("master spawns");
    let cluster = Cluster {
        clock,
        node,
        master,
        config,
    };
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "reregistering"))
        .await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Running);

    // Cut off: it misses its pings until it is marked unreachable.
    agent
        .answer_pings
        .store(false, std::sync::atomic::Ordering::SeqCst);
    cluster.advance(Duration::from_secs(15), 7).await;
    assert_eq!(cluster.state().await["unreachable_slaves"], 1);

    // Back, sending its re-registration twice in a row.
    let mut info = FrameworkInfo::new("tester", "reregistering");
    info.id = Some(fw.id.clone());
    let (mut back, mut rx) = returning(&cluster, &agent.id, &info, &[("t1", TaskState::Running)]);
    back.copies = 2;
    cluster.node.spawn(back).expect("returning agent spawns");
    let writes = registrar.reachable.clone();
    meso_testkit::eventually::eventually_async("the first copy reaches the registry", || {
        let writes = writes.clone();
        async move { writes.load(Ordering::SeqCst) >= 1 }
    })
    .await;
    // The second copy is right behind the first in the master's mailbox: once the master
    // is quiet it was handled too (the registry write is all that waits).
    cluster.clock.settle().await;
    assert_eq!(
        registrar.reachable.load(Ordering::SeqCst),
        1,
        "one registry write for the two copies"
    );
    assert!(rx.try_recv().is_err(), "no answer before the registry's");

    registrar.gate.add_permits(8);
    let back_as = next_matching(&mut rx, "re-registration", |e| match e {
        BackEvent::Reregistered(id) => Some(id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(back_as, agent.id);
    cluster.clock.settle().await;
    while let Ok(event) = rx.try_recv() {
        assert!(
            !matches!(event, BackEvent::Reregistered(_)),
            "the duplicate is not answered"
        );
    }
    assert_eq!(registrar.reachable.load(Ordering::SeqCst), 1);
    let state = cluster.state().await;
    assert_eq!(state["unreachable_slaves"], 0);
    assert_eq!(state["activated_slaves"], 1);
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
}
