//! Revocable resources through the master, in process: an agent's reported revocable total
//! reaches `/master/state` and the offers of frameworks with REVOCABLE_RESOURCES (marked
//! `revocable` in JSON), a shrinking total rescinds the offers holding revocable resources,
//! a task may not mix revocable and non-revocable cpus, the total never falls below
//! what revocable tasks hold, and falls back to the report once they end.

use std::time::Duration;

use meso_api::resources::Resource;
use meso_api::v1::{FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, Offer, TaskState};
use meso_api::Resources;
use meso_testkit::master_harness::*;

fn revocable(text: &str) -> Resources {
    res(text)
        .into_iter()
        .map(Resource::into_revocable)
        .collect()
}

fn revocable_framework() -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", "batch");
    info.capabilities.push(FrameworkCapability {
        kind: Some(FrameworkCapabilityType::RevocableResources),
    });
    info
}

fn revocable_cpus(offer: &Offer) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.revocable && &*r.name == "cpus")
        .filter_map(|r| match &r.value {
            meso_api::resources::Value::Scalar(s) => Some(s.as_f64()),
            _ => None,
        })
        .sum()
}

async fn state_cpus_revocable(cluster: &Cluster) -> f64 {
    cluster.state().await["slaves"][0]["resources"]["cpus_revocable"]
        .as_f64()
        .unwrap_or(0.0)
}

async fn until_revocable_cpus(cluster: &Cluster, want: f64) {
    for _ in 0..200 {
        if (state_cpus_revocable(cluster).await - want).abs() < 1e-9 {
            return;
        }
        cluster.advance(Duration::from_millis(10), 1).await;
    }
    panic!(
        "cpus_revocable never became {want}: {}",
        cluster.state().await["slaves"]
    );
}

/// The next offer, moving the paused clock a second at a time until one comes (filters
/// and the allocator's calls in flight settle on their own time); other events are dropped.
async fn next_offer(cluster: &Cluster, fw: &mut FrameworkHandle) -> Offer {
    for _ in 0..120 {
        while let Ok(e) = fw.events.try_recv() {
            if let SchedEvent::Offers(offers) = e {
                if let Some(offer) = offers.into_iter().next() {
                    return offer;
                }
            }
        }
        cluster.advance(Duration::from_secs(1), 1).await;
    }
    panic!("no offer within 120 s of the test clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocable_resources_are_offered_rescinded_and_kept_apart() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:2;mem:1024").await;
    agent.send_oversubscribed(revocable("cpus:1.5;mem:512"));
    until_revocable_cpus(&cluster, 1.5).await;

    let mut fw = cluster.add_framework(revocable_framework()).await;
    let offer = first_offer(&mut fw).await;
    assert_eq!(revocable_cpus(&offer), 1.5, "{offer:?}");
    let json = serde_json::to_value(&offer).unwrap();
    assert!(
        json["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "cpus" && r["revocable"] == serde_json::json!({})),
        "revocable resources are marked as Mesos marks them: {json}"
    );

    // A task mixing revocable and non-revocable cpus is refused, naming the rule.
    let mixed = command_task("mixed", &agent.id, "mem:64")
        .with_resources(res("cpus:0.5;mem:64") + &revocable("cpus:0.5"));
    launch(&fw, vec![offer.id.clone()], vec![mixed]);
    let update = next_update(&mut fw).await;
    assert_eq!(update.state, TaskState::Error);
    let message = update.message.unwrap_or_default();
    assert!(
        message.contains("cannot use both revocable and non-revocable 'cpus' at the same time"),
        "{message}"
    );

    // The estimate shrinks: the outstanding revocable offer is rescinded, the next one holds
    // only what is left. (The refused task's offer came back with the default 5 s filter.)
    let offer = next_offer(&cluster, &mut fw).await;
    assert_eq!(revocable_cpus(&offer), 1.5);
    agent.send_oversubscribed(revocable("cpus:0.5"));
    cluster.advance(Duration::from_millis(10), 5).await;
    next_matching(
        &mut fw.events,
        "the revocable offer is rescinded",
        |e| match e {
            SchedEvent::Rescinded(id) if *id == offer.id => Some(()),
            _ => None,
        },
    )
    .await;
    let offer = next_offer(&cluster, &mut fw).await;
    assert_eq!(revocable_cpus(&offer), 0.5);

    // A revocable task holds 0.5 cpus; a smaller estimate cannot take them from the books
    // (the QoS controller evicts, the report does not).
    let task = command_task("rev", &agent.id, "mem:64")
        .with_resources(res("mem:64") + &revocable("cpus:0.5"));
    launch(&fw, vec![offer.id.clone()], vec![task]);
    cluster.advance(Duration::from_millis(10), 5).await;
    let mut seen = Vec::new();
    let mut reached = false;
    for _ in 0..500 {
        while let Ok(e) = agent.events.try_recv() {
            reached |= matches!(&e, AgentEvent::RunTask(_, t) if t.task_id.as_str() == "rev");
        }
        while let Ok(e) = fw.events.try_recv() {
            seen.push(format!("{e:?}"));
        }
        if reached {
            break;
        }
        cluster.advance(Duration::from_millis(10), 1).await;
    }
    assert!(
        reached,
        "the revocable task reaches the agent; the framework saw {seen:#?}"
    );
    // Reported: 0.2 cpus (below what the task holds) and 100 mem (to see it applied).
    agent.send_oversubscribed(revocable("cpus:0.2;mem:100"));
    for _ in 0..200 {
        let state = cluster.state().await;
        if state["slaves"][0]["resources"]["mem_revocable"] == 100.0 {
            break;
        }
        cluster.advance(Duration::from_millis(10), 1).await;
    }
    let resources = cluster.state().await["slaves"][0]["resources"].clone();
    assert_eq!(resources["mem_revocable"], 100.0, "{resources}");
    assert_eq!(resources["cpus_revocable"], 0.5, "{resources}");
    let used = cluster.state().await["slaves"][0]["used_resources"].clone();
    assert_eq!(used["cpus_revocable"], 0.5, "{used}");

    // The QoS controller evicts the task: the total falls back to the report (0.2), so the
    // evicted task's 0.5 cpus are not offered again on a machine the estimator found busy.
    while fw.events.try_recv().is_ok() {}
    agent.send_update(&fw.id, "rev", TaskState::Killed);
    until_revocable_cpus(&cluster, 0.2).await;
    let offer = next_offer(&cluster, &mut fw).await;
    assert_eq!(revocable_cpus(&offer), 0.2, "{offer:?}");
}
