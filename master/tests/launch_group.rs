//! LAUNCH_GROUP through a real master over the v1 scheduler HTTP API (raw sockets, paused
//! clock, a test agent): a valid group reaches the agent as one RunTaskGroup and its tasks
//! are tracked with the executor charged once; a group reusing a live task id gets
//! TASK_ERROR (REASON_TASK_GROUP_INVALID) for every task and nothing reaches the agent.

use std::net::SocketAddr;

use libprocess::MessageMatch;
use meso_api::wire;
use meso_testkit::http::json_call;
use meso_testkit::http::nonblocking::{request, EventStream};
use meso_testkit::master_harness::*;
use serde_json::{json, Value};

const PATH: &str = "/master/api/v1/scheduler";

async fn subscribe(addr: SocketAddr) -> (EventStream, String) {
    let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info":
        {"user": "tester", "name": "group", "failover_timeout": 3600.0}}});
    let mut stream = EventStream::open(addr, PATH, &call)
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {} {}", r.status, r.text()));
    let subscribed = stream.next().await.expect("SUBSCRIBED");
    let id = subscribed["subscribed"]["framework_id"]["value"]
        .as_str()
        .expect("framework id")
        .to_string();
    (stream, id)
}

fn cpus(value: f64) -> Value {
    json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": value}}])
}

fn group_task(id: &str, agent: &Value) -> Value {
    json!({"name": id, "task_id": {"value": id}, "agent_id": agent,
        "command": {"value": "sleep 100"}, "resources": cpus(1.0)})
}

fn accept_group(framework: &str, offer: &Value, tasks: Vec<Value>) -> Value {
    json!({"type": "ACCEPT", "framework_id": {"value": framework},
        "accept": {"offer_ids": [offer["id"]], "operations": [{"type": "LAUNCH_GROUP",
            "launch_group": {
                "executor": {"type": "CUSTOM", "executor_id": {"value": "ex"},
                    "command": {"value": "./executor"}, "resources": cpus(0.5)},
                "task_group": {"tasks": tasks}}}],
        "filters": {"refuse_seconds": 0}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_group_is_sent_whole_and_tracked_and_an_invalid_one_errors_every_task() {
    let cluster = Cluster::start(Cluster::config()).await;
    let agent = cluster.add_agent("cpus:4;mem:1024").await;
    let addr = cluster.node.addr();
    let (mut stream, framework) = subscribe(addr).await;
    let offers = stream.next_of("OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let agent_id = offer["agent_id"].clone();

    let sent = cluster
        .node
        .filters()
        .expect(MessageMatch::of::<wire::RunTaskGroup>().to(agent.pid.upid()));
    let accept = accept_group(
        &framework,
        &offer,
        vec![group_task("g1", &agent_id), group_task("g2", &agent_id)],
    );
    let answer = request(addr, &json_call(PATH, Some(&stream.stream_id), &accept))
        .await
        .expect("an answer to ACCEPT");
    assert_eq!(answer.status, 202, "{}", answer.text());
    let run: wire::RunTaskGroup = tokio::time::timeout(HANG_GUARD, sent)
        .await
        .expect("hang guard: RunTaskGroup")
        .expect("RunTaskGroup seen")
        .decode()
        .expect("a RunTaskGroup");
    let ids: Vec<&str> = run
        .task_group
        .tasks
        .iter()
        .map(|t| t.task_id.as_str())
        .collect();
    assert_eq!(ids, ["g1", "g2"]);
    assert_eq!(run.executor.executor_id.as_str(), "ex");
    assert_eq!(
        run.executor.framework_id.as_ref().map(|f| f.value.as_str()),
        Some(framework.as_str()),
        "the master fills in the executor's framework"
    );
    cluster.clock.settle().await;

    let state = cluster.state().await;
    let tasks = state["frameworks"][0]["tasks"]
        .as_array()
        .expect("tasks")
        .clone();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks
        .iter()
        .all(|t| t["state"] == "TASK_STAGING" && t["executor_id"] == "ex"));
    assert_eq!(state["frameworks"][0]["used_resources"]["cpus"], 2.0);

    // The rest comes back: the executor was charged once (4 - 2 tasks - 0.5). A group
    // reusing g1 is refused task by task.
    let offers = stream.next_of("OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let offered: f64 = offer["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["name"] == "cpus")
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum();
    assert_eq!(offered, 1.5, "{offer}");
    let accept = accept_group(
        &framework,
        &offer,
        vec![group_task("g3", &agent_id), group_task("g1", &agent_id)],
    );
    let answer = request(addr, &json_call(PATH, Some(&stream.stream_id), &accept))
        .await
        .expect("an answer to ACCEPT");
    assert_eq!(answer.status, 202, "{}", answer.text());
    let mut errored = Vec::new();
    while errored.len() < 2 {
        let update = stream.next_of("UPDATE").await;
        let status = &update["update"]["status"];
        assert_eq!(status["state"], "TASK_ERROR", "{update}");
        assert_eq!(status["reason"], "REASON_TASK_GROUP_INVALID", "{update}");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains("'g1'")),
            "the message names the reused id: {update}"
        );
        errored.push(
            status["task_id"]["value"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    errored.sort();
    assert_eq!(errored, ["g1", "g3"]);
    assert_eq!(
        cluster.state().await["frameworks"][0]["tasks"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "nothing of the invalid group is tracked"
    );
}
