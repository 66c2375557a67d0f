//! Dynamic reservations and persistent volumes over real HTTP against a real in-process
//! master (test agents and the real scheduler driver on one node with a paused clock): the
//! operator calls (v1 and legacy form endpoints), each success and each refusal, what
//! `/master/state`, GET_AGENTS and `/master/roles` show, what the agent is told to
//! checkpoint, which frameworks are offered reserved resources, and a framework's ACCEPT
//! with RESERVE / CREATE / DESTROY / UNRESERVE before LAUNCH, applied in order.

use std::net::SocketAddr;

use meso_api::resources::{DiskInfo, Persistence, ReservationInfo, Resource, Volume, VolumeMode};
use meso_api::v1::{Filters, FrameworkInfo, Offer, Operation, TaskInfo, TaskState};
use meso_api::Resources;
use meso_testkit::http::blocking::{call, exchange as raw, get};
use meso_testkit::http::Response;
use meso_testkit::master_harness::*;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(HANG_GUARD, tokio::task::spawn_blocking(f))
        .await
        .expect("hang guard: http")
        .expect("http client thread")
}

async fn op(addr: SocketAddr, body: &str) -> Response {
    let body = body.to_string();
    blocking(move || call(addr, &body)).await
}

async fn form(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    blocking(move || raw(addr, request.as_bytes())).await
}

async fn http_get(addr: SocketAddr, path: &str) -> Response {
    let path = path.to_string();
    blocking(move || get(addr, &path)).await
}

fn framework(role: &str) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", role);
    info.role = Some(role.to_string());
    info.principal = Some("ops-admin".to_string());
    info
}

fn dynamic(text: &str, role: &str) -> Resources {
    res(text).push_reservation(&ReservationInfo::dynamically(role, Some("ops-admin")))
}

fn json(r: &Resources) -> String {
    serde_json::to_string(r).expect("resources serialise")
}

fn volume(id: &str, size: &str, role: &str) -> Resource {
    dynamic(&format!("disk:{size}"), role)
        .into_iter()
        .next()
        .expect("one disk")
        .with_disk(DiskInfo {
            persistence: Some(Persistence {
                id: id.into(),
                principal: Some("ops-admin".into()),
            }),
            volume: Some(Volume {
                mode: VolumeMode::Rw,
                container_path: "data".into(),
                host_path: None,
            }),
            source: None,
        })
}

fn reserve_call(agent: &str, resources: &Resources) -> String {
    format!(
        r#"{{"type":"RESERVE_RESOURCES","reserve_resources":{{"agent_id":{{"value":"{agent}"}},"resources":{}}}}}"#,
        json(resources)
    )
}

fn unreserve_call(agent: &str, resources: &Resources) -> String {
    format!(
        r#"{{"type":"UNRESERVE_RESOURCES","unreserve_resources":{{"agent_id":{{"value":"{agent}"}},"resources":{}}}}}"#,
        json(resources)
    )
}

fn volumes_call(kind: &str, agent: &str, volumes: &Resources) -> String {
    let lower = kind.to_ascii_lowercase();
    format!(
        r#"{{"type":"{kind}","{lower}":{{"agent_id":{{"value":"{agent}"}},"volumes":{}}}}}"#,
        json(volumes)
    )
}

fn assert_refused(r: &Response, status: u16, says: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert!(
        r.text().contains(says),
        "{what}: body {:?} should say {says:?}",
        r.text()
    );
}

/// The next checkpoint the test agent is told to keep.
async fn checkpointed(agent: &mut AgentHandle) -> Resources {
    next_matching(&mut agent.events, "CheckpointResources", |e| match e {
        AgentEvent::Checkpointed(r) => Some(r.clone()),
        _ => None,
    })
    .await
}

/// The next offer `fw` gets (after a revive, so one comes even if it declined before).
async fn fresh_offer(cluster: &Cluster, fw: &mut FrameworkHandle) -> Offer {
    fw.driver
        .run(|a| a.revive_offers().expect("framework is registered"))
        .expect("driver runs");
    cluster.advance(std::time::Duration::from_secs(1), 1).await;
    first_offer(fw).await
}

fn decline(fw: &FrameworkHandle, offer: &Offer) {
    let id = offer.id.clone();
    fw.driver
        .run(move |a| {
            a.decline_offer(
                id,
                Filters {
                    refuse_seconds: 0.0,
                },
            )
            .expect("framework is registered")
        })
        .expect("driver runs");
}

fn accept(fw: &FrameworkHandle, offer: &Offer, operations: Vec<Operation>) {
    let id = offer.id.clone();
    fw.driver
        .run(move |a| {
            a.accept(vec![id], operations, Filters::default())
                .expect("framework is registered")
        })
        .expect("driver runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_reserve_and_unreserve_and_only_the_role_is_offered_them() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let mut agent = cluster.add_agent("cpus:4;mem:1024;disk:1000").await;
    let addr = cluster.node.addr();
    let id = agent.id.value.clone();
    let reserved = dynamic("cpus:2;mem:256", "ops");

    let r = op(addr, &reserve_call(&id, &reserved)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(checkpointed(&mut agent).await, reserved);

    let state = http_get(addr, "/master/state").await.json();
    let slave = &state["slaves"][0];
    assert_eq!(slave["reserved_resources"]["ops"]["cpus"], 2.0);
    assert_eq!(slave["reserved_resources"]["ops"]["mem"], 256.0);
    assert_eq!(slave["unreserved_resources"]["cpus"], 2.0);
    let slaves = http_get(addr, "/master/slaves").await.json();
    let full = slaves["slaves"][0]["reserved_resources_full"]["ops"].to_string();
    assert!(
        full.contains("DYNAMIC") && full.contains("ops-admin"),
        "{full}"
    );
    let agents = op(addr, r#"{"type":"GET_AGENTS"}"#).await.json();
    let total = agents["get_agents"]["agents"][0]["total_resources"].to_string();
    assert!(total.contains("DYNAMIC"), "{total}");
    let roles = http_get(addr, "/master/roles").await.json();
    let ops = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "ops")
        .cloned()
        .expect("the reserved role shows in /master/roles");
    assert_eq!(ops["reserved"]["cpus"], 2.0);

    // A framework of another role is offered only the unreserved part; one of the role
    // gets the reservation too.
    let mut dev = cluster.add_framework(framework("dev")).await;
    let offer = first_offer(&mut dev).await;
    assert!(
        offer.resources.reserved_any().is_empty(),
        "{}",
        offer.resources
    );
    assert_eq!(offer.resources.cpus().unwrap().to_string(), "2");
    let mut ops_fw = cluster.add_framework(framework("ops")).await;
    decline(&dev, &offer);
    let offer = fresh_offer(&cluster, &mut ops_fw).await;
    assert_eq!(
        offer.resources.reserved("ops").unallocate(),
        reserved,
        "{}",
        offer.resources
    );
    decline(&ops_fw, &offer);

    // Refusals, each naming what is wrong; none changes anything.
    let refusals = [
        (
            reserve_call("nope", &reserved),
            400,
            "No agent found with specified ID 'nope'",
        ),
        (
            reserve_call(&id, &res("cpus(ops):1")),
            400,
            "must have a DYNAMIC reservation",
        ),
        (reserve_call(&id, &dynamic("cpus:10", "ops")), 409, "cpus"),
        (
            reserve_call(&id, &Resources::new()),
            400,
            "names no resources",
        ),
        (
            unreserve_call(&id, &res("cpus:1")),
            400,
            "is not dynamically reserved",
        ),
        (
            unreserve_call(&id, &dynamic("cpus:3", "ops")),
            409,
            "not held by the agent",
        ),
        (
            r#"{"type":"RESERVE_RESOURCES","reserve_resources":{"resources":[]}}"#.to_string(),
            400,
            "agent_id",
        ),
    ];
    for (body, status, says) in &refusals {
        let r = op(addr, body).await;
        assert_refused(&r, *status, says, body);
    }
    let state = cluster.state().await;
    assert_eq!(state["slaves"][0]["reserved_resources"]["ops"]["cpus"], 2.0);

    // Legacy form endpoints.
    let body = format!("slaveId={id}&resources={}", json(&dynamic("cpus:1", "dev")));
    let r = form(addr, "POST", "/master/reserve", &body).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let after = checkpointed(&mut agent).await;
    assert_eq!(after, reserved.clone() + &dynamic("cpus:1", "dev"));
    let r = form(addr, "POST", "/master/reserve", "resources=[]").await;
    assert_refused(&r, 400, "Missing 'slaveId'", "form without slaveId");
    let r = form(addr, "GET", "/master/unreserve", "").await;
    assert_refused(&r, 405, "POST", "GET of /master/unreserve");
    let body = format!("slaveId={id}&resources={}", json(&dynamic("cpus:1", "dev")));
    let r = form(addr, "POST", "/master/unreserve", &body).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(checkpointed(&mut agent).await, reserved);

    // UNRESERVE gives it back.
    let r = op(addr, &unreserve_call(&id, &reserved)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(checkpointed(&mut agent).await.is_empty());
    let state = cluster.state().await;
    assert_eq!(state["slaves"][0]["unreserved_resources"]["cpus"], 4.0);
    assert_eq!(
        state["slaves"][0]["reserved_resources"],
        serde_json::json!({})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_create_grow_shrink_and_destroy_volumes_and_not_one_in_use() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let mut agent = cluster.add_agent("cpus:4;mem:1024;disk:1000").await;
    let addr = cluster.node.addr();
    let id = agent.id.value.clone();
    let disk = dynamic("disk:500", "ops");
    assert_eq!(op(addr, &reserve_call(&id, &disk)).await.status, 202);
    checkpointed(&mut agent).await;
    let v = volume("v1", "100", "ops");
    let volumes: Resources = v.clone().into();

    let r = op(addr, &volumes_call("CREATE_VOLUMES", &id, &volumes)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let kept = checkpointed(&mut agent).await;
    assert_eq!(kept.persistent_volumes(), volumes);
    let slaves = http_get(addr, "/master/slaves").await.json();
    let full = slaves["slaves"][0]["reserved_resources_full"]["ops"].to_string();
    assert!(
        full.contains("\"persistence\"") && full.contains("v1"),
        "{full}"
    );

    // The same id again, an unsafe path, unreserved disk: refused.
    let r = op(addr, &volumes_call("CREATE_VOLUMES", &id, &volumes)).await;
    assert_refused(&r, 409, "duplicate persistence id 'v1'", "a second v1");
    let mut outside = volume("v2", "10", "ops");
    outside
        .disk
        .as_mut()
        .unwrap()
        .volume
        .as_mut()
        .unwrap()
        .container_path = "../../etc".into();
    let r = op(addr, &volumes_call("CREATE_VOLUMES", &id, &outside.into())).await;
    assert_refused(&r, 400, "without '..'", "a path out of the sandbox");

    // GROW and SHRINK.
    let addition = dynamic("disk:50", "ops").into_iter().next().unwrap();
    let grow = format!(
        r#"{{"type":"GROW_VOLUME","grow_volume":{{"agent_id":{{"value":"{id}"}},"volume":{},"addition":{}}}}}"#,
        serde_json::to_string(&v).unwrap(),
        serde_json::to_string(&addition).unwrap()
    );
    let r = op(addr, &grow).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let grown = volume("v1", "150", "ops");
    assert_eq!(
        checkpointed(&mut agent).await.persistent_volumes(),
        grown.clone().into()
    );
    let shrink = format!(
        r#"{{"type":"SHRINK_VOLUME","shrink_volume":{{"agent_id":{{"value":"{id}"}},"volume":{},"subtract":{{"value":100}}}}}}"#,
        serde_json::to_string(&grown).unwrap()
    );
    let r = op(addr, &shrink).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let small = volume("v1", "50", "ops");
    assert_eq!(
        checkpointed(&mut agent).await.persistent_volumes(),
        small.clone().into()
    );
    let r = op(addr, &shrink).await;
    assert_refused(
        &r,
        409,
        "not held by the agent",
        "shrinking a volume that changed",
    );

    // A task using the volume: DESTROY is refused until it ends.
    let mut fw = cluster.add_framework(framework("ops")).await;
    let offer = first_offer(&mut fw).await;
    let offered_volume = offer.resources.persistent_volumes();
    assert_eq!(offered_volume.unallocate(), small.clone().into());
    let task = TaskInfo::command("uses-v1", agent.id.clone(), "true")
        .with_resources(res("cpus:1;mem:64").allocate("ops") + &offered_volume);
    accept(&fw, &offer, vec![Operation::launch(vec![task])]);
    next_matching(&mut agent.events, "RunTask", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == "uses-v1" => Some(()),
        _ => None,
    })
    .await;
    let destroy = volumes_call("DESTROY_VOLUMES", &id, &small.clone().into());
    let r = op(addr, &destroy).await;
    assert_refused(&r, 400, "'v1' is in use", "DESTROY of a volume in use");
    agent.send_update(&fw.id, "uses-v1", TaskState::Finished);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Finished);
    let r = op(addr, &destroy).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let kept = checkpointed(&mut agent).await;
    assert!(kept.persistent_volumes().is_empty(), "{kept}");
    assert_eq!(kept, disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_framework_reserves_creates_and_launches_in_one_accept_in_order() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let mut agent = cluster.add_agent("cpus:4;mem:1024;disk:1000").await;
    let mut fw = cluster.add_framework(framework("ops")).await;
    let offer = first_offer(&mut fw).await;

    let reserved = dynamic("cpus:1;mem:128;disk:200", "ops").allocate("ops");
    let v = volume("data", "100", "ops").allocated_to("ops");
    let task = TaskInfo::command("writer", agent.id.clone(), "true").with_resources(
        dynamic("cpus:1;mem:128", "ops").allocate("ops") + &Resources::from(v.clone()),
    );
    accept(
        &fw,
        &offer,
        vec![
            // Dropped: a role the framework is not subscribed to; the rest goes on.
            Operation::reserve(dynamic("cpus:1", "other").allocate("ops")),
            Operation::reserve(reserved.clone()),
            Operation::create(v.clone().into()),
            Operation::launch(vec![task]),
        ],
    );
    // The checkpoints come before the task (the operations are applied in order); the
    // kit's waits skip what they pass over, so both are taken in one wait.
    let mut sent = None;
    let mut kept = Resources::new();
    while sent.is_none() || kept.persistent_volumes().is_empty() {
        let event = next_matching(
            &mut agent.events,
            "RunTask or CheckpointResources",
            |e| match e {
                AgentEvent::RunTask(_, t) => Some(Ok(t.clone())),
                AgentEvent::Checkpointed(r) => Some(Err(r.clone())),
                _ => None,
            },
        )
        .await;
        match event {
            Ok(task) => {
                assert!(
                    !kept.persistent_volumes().is_empty(),
                    "the volume was checkpointed before the task that uses it was sent"
                );
                sent = Some(task);
            }
            Err(resources) => kept = resources,
        }
    }
    let sent = sent.expect("the loop ends with the task");
    assert_eq!(sent.task_id.as_str(), "writer");
    assert_eq!(sent.resources.persistent_volumes().len(), 1);
    assert_eq!(
        kept,
        dynamic("cpus:1;mem:128;disk:100", "ops") + &Resources::from(v.unallocate_one())
    );
    let state = cluster.state().await;
    let slave = &state["slaves"][0];
    assert_eq!(slave["reserved_resources"]["ops"]["cpus"], 1.0);
    assert!(
        slave["reserved_resources"].get("other").is_none(),
        "{}",
        slave["reserved_resources"]
    );
    assert_eq!(slave["used_resources"]["cpus"], 1.0);

    // While the task runs, its volume cannot be destroyed (the DESTROY is dropped); once
    // it ended, DESTROY and UNRESERVE in one ACCEPT give everything back.
    agent.send_update(&fw.id, "writer", TaskState::Running);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Running);
    let offer = fresh_offer(&cluster, &mut fw).await;
    accept(&fw, &offer, vec![Operation::destroy(v.clone().into())]);
    agent.send_update(&fw.id, "writer", TaskState::Finished);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Finished);
    let slaves = http_get(cluster.node.addr(), "/master/slaves").await.json();
    let full = slaves["slaves"][0]["reserved_resources_full"]["ops"].to_string();
    assert!(full.contains("persistence"), "the volume stays: {full}");
    // The task's resources (the volume, reserved cpus and mem) come back with its end; the
    // reserved disk beside the volume may still sit in another offer made before that, so
    // an offer without all of the reservation is declined until one holds it whole.
    let whole = dynamic("cpus:1;mem:128;disk:100", "ops").allocate("ops");
    let offer = loop {
        let offer = fresh_offer(&cluster, &mut fw).await;
        if !offer.resources.persistent_volumes().is_empty() && offer.resources.contains(&whole) {
            break offer;
        }
        decline(&fw, &offer);
    };
    let offered = offer.resources.clone();
    accept(
        &fw,
        &offer,
        vec![
            Operation::destroy(offered.persistent_volumes()),
            // The destroyed volume's disk is plain reserved disk again, released with the rest.
            Operation::unreserve(dynamic("cpus:1;mem:128;disk:200", "ops").allocate("ops")),
        ],
    );
    loop {
        let kept = checkpointed(&mut agent).await;
        if kept.is_empty() {
            break;
        }
    }
    let state = cluster.state().await;
    assert_eq!(
        state["slaves"][0]["reserved_resources"],
        serde_json::json!({})
    );
    assert_eq!(state["slaves"][0]["unreserved_resources"]["cpus"], 4.0);
}

trait UnallocateOne {
    fn unallocate_one(&self) -> Resource;
}

impl UnallocateOne for Resource {
    fn unallocate_one(&self) -> Resource {
        let mut r = self.clone();
        r.allocation_role = None;
        r
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_authentication_a_reservation_must_name_the_callers_principal() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use meso_api::http::auth::{Credentials, HttpAuthenticator, NodeKind, Realm};
    let mut config = Cluster::config();
    let credentials = Credentials::parse(
        r#"{"credentials":[{"principal":"ops-admin","secret":"s3cret"},{"principal":"eve","secret":"x"}]}"#,
    )
    .expect("credentials");
    config.http_auth = HttpAuthenticator::new(
        NodeKind::Master,
        &[Realm::Readwrite],
        Some(credentials),
        None,
    )
    .expect("authenticator");
    let cluster = Cluster::start(config).await;
    cluster.node.set_delegate(Some("master"));
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let addr = cluster.node.addr();
    let body = reserve_call(&agent.id.value, &dynamic("cpus:1", "ops"));
    let as_user = |user: &str, secret: &str| {
        let auth = format!(
            "Authorization: Basic {}",
            STANDARD.encode(format!("{user}:{secret}"))
        );
        let body = body.clone();
        move || {
            meso_testkit::http::blocking::request(
                addr,
                "POST",
                "/api/v1",
                &["Content-Type: application/json", &auth],
                body.as_bytes(),
            )
        }
    };
    let r = blocking(as_user("eve", "x")).await;
    assert_refused(
        &r,
        400,
        "attempted by principal 'eve', which does not match the principal 'ops-admin'",
        "another principal's reservation",
    );
    let r = blocking(as_user("ops-admin", "s3cret")).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(checkpointed(&mut agent).await, dynamic("cpus:1", "ops"));
}
