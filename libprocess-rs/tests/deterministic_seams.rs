//! What an actor draws from its node's seams is reproducible: two nodes built with the same
//! seed and the same paused clock hand their processes the same uuids, draws and wall times,
//! and a different seed gives different ones.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use libprocess::{Node, TestClock};
use tokio::sync::oneshot;

/// What one process drew, in order.
#[derive(Debug, PartialEq)]
struct Draws {
    uuids: Vec<uuid::Uuid>,
    jitter: Vec<u64>,
    wall_times: Vec<SystemTime>,
}

const EPOCH_SECS: u64 = 1_700_000_000;

async fn draws_of(seed: u64) -> Draws {
    let clock = TestClock::paused_at(SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS));
    let node = Node::builder()
        .test_clock(&clock)
        .seed(seed)
        .build()
        .await
        .expect("node binds on loopback");
    let (pid, _events) = recorder(&node).await;
    let mut draws = Draws {
        uuids: Vec::new(),
        jitter: Vec::new(),
        wall_times: Vec::new(),
    };
    for _ in 0..3 {
        let (tx, rx) = oneshot::channel();
        pid.dispatch(move |_, ctx| {
            let _ = tx.send((ctx.uuid_v4(), ctx.random_in(500..=1000), ctx.wall_time()));
        })
        .expect("the recorder runs");
        let (uuid, jitter, wall) = tokio::time::timeout(GUARD, rx)
            .await
            .expect("hang guard: dispatch")
            .expect("the recorder answered");
        draws.uuids.push(uuid);
        draws.jitter.push(jitter);
        draws.wall_times.push(wall);
        clock.advance(Duration::from_millis(250));
    }
    node.shutdown().await;
    draws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_and_clock_give_the_same_ids_and_times() {
    let first = draws_of(42).await;
    let second = draws_of(42).await;
    assert_eq!(first, second);
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS);
    assert_eq!(
        first.wall_times,
        [0, 250, 500].map(|ms| epoch + Duration::from_millis(ms)),
        "wall time is the clock's wall epoch plus its own time"
    );
    assert!(first.uuids.iter().all(|u| u.get_version_num() == 4));
    assert!(first.jitter.iter().all(|j| (500..=1000).contains(j)));
    let other = draws_of(43).await;
    assert_ne!(
        first.uuids, other.uuids,
        "a different seed draws differently"
    );
}
