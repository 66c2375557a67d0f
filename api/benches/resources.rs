//! Resources arithmetic on an agent-sized value: cpus, mem, disk and 16 port ranges, each
//! both unreserved and reserved for a role (8 entries), against a task-sized value.
//!
//! Run: `cargo bench -p meso-api --bench resources`. The `clone` line is the baseline for
//! this machine and run (a copy of the agent value); compare the others to it.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use meso_api::Resources;

fn agent() -> Resources {
    let ports: Vec<String> = (0..16)
        .map(|i| format!("{}-{}", 31000 + i * 100, 31000 + i * 100 + 49))
        .collect();
    let ports = ports.join(",");
    Resources::parse(
        &format!(
            "cpus:16;mem:65536;disk:1048576;ports:[{ports}];\
             cpus(ops):8;mem(ops):32768;disk(ops):524288;ports(ops):[40000-40015]"
        ),
        "*",
    )
    .expect("the benchmark's agent resources are well formed")
}

fn task() -> Resources {
    Resources::parse(
        "cpus:0.5;mem:512;disk:1024;ports:[31000-31000,31100-31100];cpus(ops):1;mem(ops):256",
        "*",
    )
    .expect("the benchmark's task resources are well formed")
}

fn bench(c: &mut Criterion) {
    let agent = agent();
    let task = task();
    assert!(agent.contains(&task), "the task fits the agent");
    c.bench_function("resources/clone (baseline)", |b| {
        b.iter(|| black_box(&agent).clone())
    });
    // In place: the copy of the agent value is made in setup, outside the timing.
    c.bench_function("resources/add_assign", |b| {
        b.iter_batched_ref(
            || agent.clone(),
            |a| *a += black_box(&task),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("resources/sub_assign", |b| {
        b.iter_batched_ref(
            || agent.clone(),
            |a| *a -= black_box(&task),
            BatchSize::SmallInput,
        )
    });
    // By reference: includes copying the agent value (compare with the baseline).
    c.bench_function("resources/add (copying)", |b| {
        b.iter(|| black_box(&agent) + black_box(&task))
    });
    c.bench_function("resources/subtract (copying)", |b| {
        b.iter(|| black_box(&agent) - black_box(&task))
    });
    c.bench_function("resources/checked_sub", |b| {
        b.iter(|| black_box(&agent).checked_sub(black_box(&task)))
    });
    c.bench_function("resources/contains", |b| {
        b.iter(|| black_box(&agent).contains(black_box(&task)))
    });
    c.bench_function("resources/allocatable_to", |b| {
        b.iter(|| black_box(&agent).allocatable_to(black_box("ops")))
    });
    c.bench_function("resources/cpus", |b| b.iter(|| black_box(&agent).cpus()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
