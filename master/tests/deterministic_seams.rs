//! A master takes its ids and timestamps from its node's seams: two masters on nodes built
//! with the same seed and the same paused clock give a subscribing framework the same
//! `Mesos-Stream-Id` and report the same start time, the clock's wall epoch.

use std::time::{Duration, SystemTime};

use libprocess::TestClock;
use meso_testkit::http::nonblocking::EventStream;
use meso_testkit::master_harness::*;
use serde_json::json;

const EPOCH_SECS: u64 = 1_700_000_000;

/// A master on a node seeded with `seed` whose paused clock starts at `EPOCH_SECS`.
async fn seeded_master(seed: u64) -> Cluster {
    let clock = TestClock::paused_at(SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS));
    Cluster::start_seeded(Cluster::config(), clock, Some(seed)).await
}

/// The stream id a framework subscribing over HTTP gets, and the master's start time.
async fn stream_id_and_start_time(seed: u64) -> (String, f64) {
    let cluster = seeded_master(seed).await;
    let subscribe = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info":
        {"user": "tester", "name": "f", "failover_timeout": 0.0}}});
    let mut stream = EventStream::open(cluster.node.addr(), "/master/api/v1/scheduler", &subscribe)
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {} {}", r.status, r.text()));
    assert_eq!(
        stream.next().await.expect("SUBSCRIBED")["type"],
        "SUBSCRIBED"
    );
    let start_time = cluster.state().await["start_time"]
        .as_f64()
        .expect("state has start_time");
    cluster.node.shutdown().await;
    (stream.stream_id.clone(), start_time)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_and_clock_give_the_same_stream_id_and_start_time() {
    let (first_id, first_start) = stream_id_and_start_time(7).await;
    let (second_id, second_start) = stream_id_and_start_time(7).await;
    assert_eq!(first_id, second_id);
    assert_eq!(first_start, second_start);
    assert_eq!(
        first_start, EPOCH_SECS as f64,
        "start time is the clock's wall epoch"
    );
    let (other_id, _) = stream_id_and_start_time(8).await;
    assert_ne!(first_id, other_id, "another seed draws another stream id");
}
