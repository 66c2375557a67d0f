//! What the master shows of offer operations and reservations over real HTTP against a
//! real in-process master (a test agent and the real scheduler driver, paused clock):
//! GET_OPERATIONS lists the operator's and a framework's RESERVE, finished, with what they
//! produced; `/master/state` carries `reserved_resources_full`; GET_AGENTS carries the
//! reservation in `total_resources` and a task's reserved resources in
//! `allocated_resources`.

use std::net::SocketAddr;

use meso_api::resources::ReservationInfo;
use meso_api::v1::{FrameworkInfo, Operation, TaskInfo};
use meso_api::Resources;
use meso_testkit::http::blocking::{call, get};
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

async fn http_get(addr: SocketAddr, path: &str) -> Response {
    let path = path.to_string();
    blocking(move || get(addr, &path)).await
}

fn dynamic(text: &str, role: &str) -> Resources {
    Resources::parse(text, "*")
        .expect("test resources parse")
        .push_reservation(&ReservationInfo::dynamically(role, Some("ops-admin")))
}

fn framework(role: &str) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", role);
    info.role = Some(role.to_string());
    info.principal = Some("ops-admin".to_string());
    info
}

async fn checkpointed(agent: &mut AgentHandle) -> Resources {
    next_matching(&mut agent.events, "CheckpointResources", |e| match e {
        AgentEvent::Checkpointed(r) => Some(r.clone()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_operations_lists_the_operators_and_a_frameworks_reservations() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let mut agent = cluster.add_agent("cpus:4;mem:1024;disk:1000").await;
    let addr = cluster.node.addr();

    let r = op(addr, r#"{"type":"GET_OPERATIONS"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"type": "GET_OPERATIONS", "get_operations": {"operations": []}})
    );

    // The operator reserves 1 cpu for "ops".
    let by_operator = dynamic("cpus:1", "ops");
    let body = format!(
        r#"{{"type":"RESERVE_RESOURCES","reserve_resources":{{"agent_id":{{"value":"{}"}},"resources":{}}}}}"#,
        agent.id.value,
        serde_json::to_string(&by_operator).unwrap()
    );
    let r = op(addr, &body).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(checkpointed(&mut agent).await, by_operator);

    // A framework of "ops" reserves 1 more cpu and 128 MB and launches on them.
    let mut fw = cluster.add_framework(framework("ops")).await;
    let offer = first_offer(&mut fw).await;
    let reserved = dynamic("cpus:1;mem:128", "ops").allocate("ops");
    let mut reserve = Operation::reserve(reserved.clone());
    reserve.id = Some(meso_api::v1::OperationId::new("fw-reserve"));
    let task = TaskInfo::command("t", agent.id.clone(), "sleep 100").with_resources(reserved);
    let id = offer.id.clone();
    fw.driver
        .run(move |a| {
            a.accept(
                vec![id],
                vec![reserve, Operation::launch(vec![task])],
                Default::default(),
            )
            .expect("framework is registered")
        })
        .expect("driver runs");
    next_matching(&mut agent.events, "RunTask", |e| match e {
        AgentEvent::RunTask(_, t) => Some(t.clone()),
        _ => None,
    })
    .await;

    let ops = op(addr, r#"{"type":"GET_OPERATIONS"}"#).await.json();
    let list = ops["get_operations"]["operations"]
        .as_array()
        .expect("a list of operations")
        .clone();
    assert_eq!(list.len(), 2, "{ops}");
    let (first, second) = (&list[0], &list[1]);
    assert!(first.get("framework_id").is_none(), "{first}");
    assert_eq!(first["agent_id"]["value"], agent.id.value.as_str());
    assert_eq!(first["info"]["type"], "RESERVE");
    assert_eq!(first["latest_status"]["state"], "OPERATION_FINISHED");
    let produced = first["latest_status"]["converted_resources"].to_string();
    assert!(
        produced.contains("DYNAMIC") && produced.contains("cpus"),
        "{produced}"
    );
    assert_eq!(second["framework_id"]["value"], fw.id.value.as_str());
    assert_eq!(
        second["latest_status"]["operation_id"]["value"],
        "fw-reserve"
    );
    assert_eq!(second["statuses"].as_array().map(Vec::len), Some(1));
    assert_ne!(first["uuid"], second["uuid"]);

    // /master/state has the reservation in full; GET_AGENTS has it in the total and the
    // task's reserved resources in what is allocated.
    let state = http_get(addr, "/master/state").await.json();
    let full = state["slaves"][0]["reserved_resources_full"]["ops"].to_string();
    assert!(
        full.contains("DYNAMIC") && full.contains("ops-admin"),
        "{full}"
    );
    let agents = op(addr, r#"{"type":"GET_AGENTS"}"#).await.json();
    let a = &agents["get_agents"]["agents"][0];
    let total = a["total_resources"].to_string();
    assert!(total.contains("DYNAMIC"), "{total}");
    let allocated = a["allocated_resources"].as_array().expect("allocated list");
    let cpus = allocated
        .iter()
        .find(|r| r["name"] == "cpus")
        .unwrap_or_else(|| panic!("the task's cpus are allocated: {allocated:?}"));
    assert_eq!(cpus["reservations"][0]["role"], "ops", "{cpus}");
    assert_eq!(cpus["allocation_info"]["role"], "ops", "{cpus}");
}

/// Issue 16's "done when": no v1 operator call of Mesos 1.11 about reservations, volumes,
/// weights, quota, maintenance or draining answers 501 (each is dispatched; an unknown
/// agent or an empty change gets the handler's own answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sharing_or_maintenance_call_answers_501() {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    let agent = r#"{"agent_id":{"value":"no-such-agent"}}"#;
    let res = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"r"}]}]"#;
    let machines = r#"{"machines":[{"hostname":"nowhere"}]}"#;
    let calls = [
        format!(r#"{{"type":"RESERVE_RESOURCES","reserve_resources":{{"agent_id":{{"value":"x"}},"resources":{res}}}}}"#),
        format!(r#"{{"type":"UNRESERVE_RESOURCES","unreserve_resources":{{"agent_id":{{"value":"x"}},"resources":{res}}}}}"#),
        r#"{"type":"CREATE_VOLUMES","create_volumes":{"agent_id":{"value":"x"},"volumes":[]}}"#.into(),
        r#"{"type":"DESTROY_VOLUMES","destroy_volumes":{"agent_id":{"value":"x"},"volumes":[]}}"#.into(),
        r#"{"type":"GROW_VOLUME","grow_volume":{}}"#.into(),
        r#"{"type":"SHRINK_VOLUME","shrink_volume":{}}"#.into(),
        r#"{"type":"GET_OPERATIONS"}"#.into(),
        r#"{"type":"GET_WEIGHTS"}"#.into(),
        r#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[]}}"#.into(),
        r#"{"type":"GET_QUOTA"}"#.into(),
        r#"{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[]}}"#.into(),
        r#"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"r","guarantee":[]}}}"#.into(),
        r#"{"type":"REMOVE_QUOTA","remove_quota":{"role":"r"}}"#.into(),
        r#"{"type":"GET_MAINTENANCE_STATUS"}"#.into(),
        r#"{"type":"GET_MAINTENANCE_SCHEDULE"}"#.into(),
        r#"{"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[]}}}"#.into(),
        format!(r#"{{"type":"START_MAINTENANCE","start_maintenance":{machines}}}"#),
        format!(r#"{{"type":"STOP_MAINTENANCE","stop_maintenance":{machines}}}"#),
        format!(r#"{{"type":"DRAIN_AGENT","drain_agent":{agent}}}"#),
        format!(r#"{{"type":"DEACTIVATE_AGENT","deactivate_agent":{agent}}}"#),
        format!(r#"{{"type":"REACTIVATE_AGENT","reactivate_agent":{agent}}}"#),
    ];
    for body in calls {
        let r = op(addr, &body).await;
        assert_ne!(r.status, 501, "{body}: {}", r.text());
        assert!(
            !r.text().contains("not implemented"),
            "{body}: {}",
            r.text()
        );
    }
}
