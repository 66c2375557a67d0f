//! JSON and wire costs of typical messages: decoding a scheduler ACCEPT (the reference's
//! example), encoding an OFFERS event with 10 offers, a postcard frame of the same, and an
//! agent's re-registration with 10 tasks (what a master failover brings 10,000 of).
//!
//! Run: `cargo bench -p meso-api --bench json`. `check_limits` on the ACCEPT body is the
//! baseline (one pass over the bytes).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use meso_api::json::{check_limits, from_slice, to_vec, Limits};
use meso_api::v1::scheduler::{Call, Event, EventType, Offers};
use meso_api::v1::{AgentId, FrameworkId, Offer, OfferId};
use meso_api::v1::{AgentInfo, TaskInfo, TaskState};
use meso_api::wire::{ReregisterAgent, ResourceOffers, TaskRecord, WireMessage};
use meso_api::Resources;

const ACCEPT: &str = r#"{"type":"ACCEPT","framework_id":{"value":"M-0000"},
 "accept":{"offer_ids":[{"value":"M-O7"}],
  "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t1",
    "task_id":{"value":"t1"},"agent_id":{"value":"M-S0"},
    "command":{"value":"sleep 10"},
    "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},
                 {"name":"mem","type":"SCALAR","scalar":{"value":32}}]}]}}],
  "filters":{"refuse_seconds":5}}}"#;

fn offers() -> Vec<Offer> {
    let resources = Resources::parse("cpus:8;mem:16384;disk:100000;ports:[31000-32000]", "*")
        .expect("the benchmark's offer resources are well formed")
        .allocate("*");
    (0..10)
        .map(|i| Offer {
            id: OfferId::new(format!("M-O{i}")),
            framework_id: FrameworkId::new("M-0000"),
            agent_id: AgentId::new(format!("M-S{i}")),
            hostname: format!("host{i}"),
            url: None,
            resources: resources.clone(),
            attributes: Default::default(),
            executor_ids: Vec::new(),
            unavailability: None,
            allocation_info: None,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    c.bench_function("json/check_limits accept (baseline)", |b| {
        b.iter(|| check_limits(black_box(ACCEPT.as_bytes()), &limits))
    });
    c.bench_function("json/decode accept", |b| {
        b.iter(|| from_slice::<Call>(black_box(ACCEPT.as_bytes()), &limits))
    });
    let mut event = Event::new(EventType::Offers);
    event.offers = Some(Offers { offers: offers() });
    c.bench_function("json/encode offers event (10 offers)", |b| {
        b.iter(|| to_vec(black_box(&event)))
    });
    let message = ResourceOffers {
        offers: offers(),
        pids: (0..10)
            .map(|i| format!("slave(1)@10.0.0.{i}:5051"))
            .collect(),
    };
    let frame = message.encode();
    c.bench_function("wire/encode resource offers (10 offers)", |b| {
        b.iter(|| black_box(&message).encode())
    });
    c.bench_function("wire/decode resource offers (10 offers)", |b| {
        b.iter(|| ResourceOffers::decode(black_box(&frame)))
    });
}

/// A re-registration as the agent emulator sends it: 10 command tasks of `cpus:0.1;mem:32`.
fn reregistration() -> ReregisterAgent {
    let agent_id = AgentId::new("M-S17");
    let mut agent = AgentInfo::new("host17");
    agent.id = Some(agent_id.clone());
    agent.resources = Resources::parse("cpus:4;mem:8192", "*").expect("well formed");
    let per_task = Resources::parse("cpus:0.1;mem:32", "*").expect("well formed");
    let tasks = (0..10)
        .map(|i| TaskRecord {
            task: TaskInfo::command(&format!("task-17-{i}"), agent_id.clone(), "sleep 1000000")
                .with_resources(per_task.clone()),
            framework_id: FrameworkId::new("M-0000"),
            executor_id: None,
            state: TaskState::Running,
            unacknowledged_update_uuid: None,
        })
        .collect();
    ReregisterAgent {
        agent,
        checkpointed_resources: Resources::new(),
        executor_infos: Vec::new(),
        tasks,
        frameworks: Vec::new(),
        version: "0.1.0".to_string(),
        capabilities: Vec::new(),
    }
}

fn bench_reregistration(c: &mut Criterion) {
    let message = reregistration();
    let frame = message.encode();
    c.bench_function("wire/encode reregister agent (10 tasks)", |b| {
        b.iter(|| black_box(&message).encode())
    });
    c.bench_function("wire/decode reregister agent (10 tasks)", |b| {
        b.iter(|| ReregisterAgent::decode(black_box(&frame)))
    });
}

criterion_group!(benches, bench, bench_reregistration);
criterion_main!(benches);
