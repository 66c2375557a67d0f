//! Benchmark of `meso_api::http`'s front doors: how many scheduler calls per second one core
//! can decode, validate and admit (the pure part of answering `POST /api/v1/scheduler`),
//! and how fast scheduler events are framed as RecordIO. Prints `name: value unit` lines.
//!
//! `cargo run --release -p meso-api --example http_front_door_bench [-- --quick]`

use std::hint::black_box;
use std::time::Instant;

use meso_api::http::{events, recordio, scheduler_request, FrameworkStanding, RequestHeaders};
use meso_api::json::Limits;
use meso_api::v1::FrameworkId;

const ACKNOWLEDGE: &str = concat!(
    r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"b5eac2c5-609b-4ca1-a352-61941702fc9e-0000"},"#,
    r#""acknowledge":{"agent_id":{"value":"b5eac2c5-609b-4ca1-a352-61941702fc9e-S17"},"#,
    r#""task_id":{"value":"web-3f2a"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}"#
);
const STREAM_ID: &str = "0af5c887-8ad1-443e-82df-15784babb2c5";

fn per_second(iterations: u64, run: impl Fn()) -> f64 {
    // Warm-up, then the timed loop.
    for _ in 0..iterations / 10 {
        run();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        run();
    }
    iterations as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let iterations = if quick { 20_000 } else { 500_000 };
    let headers = RequestHeaders::from_pairs([
        ("Host", "master:5050"),
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
        ("Mesos-Stream-Id", STREAM_ID),
    ]);
    let limits = Limits::default();
    let acks = per_second(iterations, || {
        let request = scheduler_request("POST", &headers, ACKNOWLEDGE.as_bytes(), &limits)
            .expect("the benchmark's ACKNOWLEDGE is valid");
        request
            .admit(FrameworkStanding::Http {
                stream_id: STREAM_ID,
            })
            .expect("the benchmark's stream id matches");
        black_box(request);
    });
    println!("front_door_acknowledge_calls_per_s: {acks:.0} calls/s");

    let heartbeats = per_second(iterations, || {
        black_box(events::scheduler_heartbeat());
    });
    println!("scheduler_heartbeat_records_per_s: {heartbeats:.0} records/s");

    let mut stream = Vec::new();
    for _ in 0..1000 {
        stream.extend(events::scheduler_subscribed(
            FrameworkId::new("f-0000"),
            None,
        ));
    }
    let bytes = stream.len() as f64;
    let decodes = per_second(if quick { 20 } else { 500 }, || {
        let mut decoder = recordio::Decoder::new(1 << 20);
        let mut records = 0;
        for piece in stream.chunks(1500) {
            records += decoder
                .feed(piece)
                .expect("the benchmark's stream is well framed")
                .len();
        }
        assert_eq!(records, 1000, "every record decoded");
    });
    println!(
        "recordio_decode_mb_per_s: {:.0} MB/s",
        decodes * bytes / 1_000_000.0
    );
}
