//! Maintenance and agent draining over real HTTP against a real in-process master (test
//! agents, the real scheduler driver and a v1 HTTP scheduler, paused clock): the schedule,
//! machine DOWN and UP, inverse offers and the frameworks' answers, and DRAIN_AGENT,
//! DEACTIVATE_AGENT and REACTIVATE_AGENT, each call's success path and its refusals.
//!
//! The test agents run on the master's node, so their machine is
//! `{"hostname": "agent.test", "ip": "127.0.0.1"}`.

use std::net::SocketAddr;
use std::time::Duration;

use meso_api::v1::{FrameworkInfo, TaskState};
use meso_testkit::eventually::eventually_async;
use meso_testkit::http::blocking::{call, exchange as raw, get};
use meso_testkit::http::nonblocking::{request, EventStream};
use meso_testkit::http::{json_call, Response};
use meso_testkit::master_harness::*;
use serde_json::{json, Value};

const MACHINE: &str = r#"{"hostname":"agent.test","ip":"127.0.0.1"}"#;
const SCHEDULER: &str = "/master/api/v1/scheduler";

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

async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    blocking(move || raw(addr, request.as_bytes())).await
}

async fn http_get(addr: SocketAddr, path: &str) -> Response {
    let path = path.to_string();
    blocking(move || get(addr, &path)).await
}

async fn start() -> Cluster {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    cluster
}

fn assert_refused(r: &Response, status: u16, says: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert!(
        r.text().contains(says),
        "{what}: body {:?} should say {says:?}",
        r.text()
    );
}

fn schedule(machines: &str) -> String {
    format!(
        r#"{{"windows":[{{"machine_ids":[{machines}],
            "unavailability":{{"start":{{"nanoseconds":1000000000}},
            "duration":{{"nanoseconds":3600000000000}}}}}}]}}"#
    )
}

async fn update_schedule(addr: SocketAddr, schedule: &str) -> Response {
    op(
        addr,
        &format!(
            r#"{{"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{{"schedule":{schedule}}}}}"#
        ),
    )
    .await
}

async fn agents(addr: SocketAddr) -> Value {
    let r = op(addr, r#"{"type":"GET_AGENTS"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["get_agents"]["agents"].clone()
}

fn agent_call(kind: &str, agent: &str, extra: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    format!(r#"{{"type":"{kind}","{lower}":{{"agent_id":{{"value":"{agent}"}}{extra}}}}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_is_set_shown_and_refused_as_mesos_refuses_it() {
    let cluster = start().await;
    let addr = cluster.node.addr();

    let r = op(addr, r#"{"type":"GET_MAINTENANCE_SCHEDULE"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["get_maintenance_schedule"]["schedule"],
        json!({"windows": []})
    );

    let other = r#"{"hostname":"other","ip":"10.0.0.9"}"#;
    let r = update_schedule(addr, &schedule(&format!("{MACHINE},{other}"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = op(addr, r#"{"type":"GET_MAINTENANCE_SCHEDULE"}"#).await;
    let windows = &r.json()["get_maintenance_schedule"]["schedule"]["windows"];
    assert_eq!(
        windows[0]["machine_ids"][1],
        json!({"hostname":"other","ip":"10.0.0.9"})
    );
    assert_eq!(
        windows[0]["unavailability"]["duration"]["nanoseconds"],
        3_600_000_000_000i64
    );
    for path in ["/maintenance/schedule", "/master/maintenance/schedule"] {
        let r = http_get(addr, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(&r.json()["windows"], windows, "{path}");
    }
    let r = op(addr, r#"{"type":"GET_MAINTENANCE_STATUS"}"#).await;
    let status = &r.json()["get_maintenance_status"]["status"];
    assert_eq!(
        status["draining_machines"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(status.get("down_machines").is_none(), "{status}");

    // Refusals (400 naming the reason); none changes the schedule.
    let twice = format!(
        r#"{{"windows":[{{"machine_ids":[{MACHINE}],"unavailability":{{"start":{{"nanoseconds":0}}}}}},
            {{"machine_ids":[{{"hostname":"AGENT.TEST","ip":"127.0.0.1"}}],"unavailability":{{"start":{{"nanoseconds":0}}}}}}]}}"#
    );
    for (body, says) in [
        (
            r#"{"windows":[{"machine_ids":[],"unavailability":{"start":{"nanoseconds":0}}}]}"#
                .to_string(),
            "List of machines in the maintenance window is empty",
        ),
        (twice, "appears more than once in the schedule"),
        (
            r#"{"windows":[{"machine_ids":[{"hostname":"h"}],"unavailability":{"start":{"nanoseconds":0},"duration":{"nanoseconds":-5}}}]}"#
                .to_string(),
            "Unavailability 'duration' is negative",
        ),
        (
            r#"{"windows":[{"machine_ids":[{"hostname":""}],"unavailability":{"start":{"nanoseconds":0}}}]}"#
                .to_string(),
            "Both 'hostname' and 'ip' for a machine are empty",
        ),
        (
            r#"{"windows":[{"machine_ids":[{"ip":"1.2.3"}],"unavailability":{"start":{"nanoseconds":0}}}]}"#
                .to_string(),
            "1.2.3",
        ),
    ] {
        assert_refused(&update_schedule(addr, &body).await, 400, says, &body);
        assert_refused(
            &http(addr, "POST", "/maintenance/schedule", &body).await,
            400,
            says,
            &body,
        );
    }
    assert_refused(
        &http(addr, "POST", "/maintenance/schedule", "{nope").await,
        400,
        "Failed to parse maintenance schedule",
        "not JSON",
    );
    assert_refused(
        &http(addr, "DELETE", "/maintenance/schedule", "").await,
        405,
        "Expecting one of",
        "DELETE",
    );
    let r = http_get(addr, "/maintenance/schedule").await;
    assert_eq!(&r.json()["windows"], windows, "refusals changed nothing");

    // Machines: down needs a scheduled DRAINING machine, up a DOWN one.
    let unscheduled = r#"[{"hostname":"nowhere","ip":"10.1.1.1"}]"#;
    assert_refused(
        &http(addr, "POST", "/machine/down", unscheduled).await,
        400,
        "is not part of a maintenance schedule",
        "down unscheduled",
    );
    assert_refused(
        &http(addr, "POST", "/machine/down", "[]").await,
        400,
        "List of machines is empty",
        "down nothing",
    );
    assert_refused(
        &http(addr, "POST", "/machine/up", &format!("[{other}]")).await,
        400,
        "is not in DOWN mode and cannot be brought up",
        "up a draining machine",
    );
    assert_refused(
        &op(
            addr,
            &format!(
                r#"{{"type":"START_MAINTENANCE","start_maintenance":{{"machines":[{other},{other}]}}}}"#
            ),
        )
        .await,
        400,
        "appears more than once",
        "down twice",
    );
    let r = op(
        addr,
        &format!(r#"{{"type":"START_MAINTENANCE","start_maintenance":{{"machines":[{other}]}}}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_refused(
        &http(addr, "POST", "/machine/down", &format!("[{other}]")).await,
        400,
        "is not in DRAINING mode and cannot be brought down",
        "down twice over",
    );
    assert_refused(
        &update_schedule(addr, &schedule(MACHINE)).await,
        400,
        "is deactivated and cannot be removed from the schedule",
        "a schedule without the DOWN machine",
    );
    let r = http_get(addr, "/maintenance/status").await;
    assert_eq!(
        r.json()["down_machines"],
        json!([{"hostname":"other","ip":"10.0.0.9"}])
    );
    assert_eq!(
        r.json()["draining_machines"].as_array().map(Vec::len),
        Some(1)
    );

    let r = op(
        addr,
        &format!(r#"{{"type":"STOP_MAINTENANCE","stop_maintenance":{{"machines":[{other}]}}}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = http_get(addr, "/maintenance/schedule").await;
    assert_eq!(
        r.json()["windows"][0]["machine_ids"],
        json!([{"hostname":"agent.test","ip":"127.0.0.1"}]),
        "a machine brought up leaves the schedule"
    );
    let r = http(addr, "POST", "/maintenance/schedule", r#"{"windows":[]}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        http_get(addr, "/maintenance/status").await.json(),
        json!({})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_taken_down_loses_its_agent_until_it_is_brought_up() {
    let cluster = start().await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "f"))
        .await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Running);

    let r = update_schedule(addr, &schedule(MACHINE)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The driver's framework runs a task there: it gets an inverse offer and accepts it.
    let inverse = next_matching(&mut fw.events, "an inverse offer", |e| match e {
        SchedEvent::InverseOffers(o) if !o.is_empty() => Some(o[0].clone()),
        _ => None,
    })
    .await;
    assert_eq!(inverse.agent_id.as_ref(), Some(&agent.id));
    assert_eq!(inverse.unavailability.start.nanoseconds, 1_000_000_000);
    fw.driver
        .run(move |a| {
            a.answer_inverse_offers(vec![inverse.id], true, None)
                .expect("framework is registered");
        })
        .expect("driver is running");
    eventually_async("the accept to show", || async {
        statuses(addr).await[0]["status"] == "ACCEPT"
    })
    .await;
    // Offers from a DRAINING machine carry its unavailability (after the accept's 5 s
    // filter on the rest of the agent).
    cluster.advance(Duration::from_secs(1), 6).await;
    let offer = first_offer(&mut fw).await;
    let unavailability = offer
        .unavailability
        .expect("offers carry the unavailability");
    assert_eq!(unavailability.start.nanoseconds, 1_000_000_000);

    let r = http(addr, "POST", "/machine/down", &format!("[{MACHINE}]")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let said = next_matching(&mut agent.events, "shutdown", |e| match e {
        AgentEvent::Shutdown(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(said, "Operator initiated 'Machine DOWN'");
    let lost = next_update(&mut fw).await;
    assert_eq!((lost.task_id.as_str(), lost.state), ("t1", TaskState::Lost));
    assert!(agents(addr).await.as_array().is_some_and(Vec::is_empty));
    let r = op(addr, r#"{"type":"GET_MAINTENANCE_STATUS"}"#).await;
    assert_eq!(
        r.json()["get_maintenance_status"]["status"]["down_machines"],
        json!([{"hostname":"agent.test","ip":"127.0.0.1"}])
    );

    // While DOWN, an agent on the machine may not register.
    let refused = cluster
        .add_agent_refused(&cluster.node, "cpus:1;mem:64")
        .await;
    assert_eq!(refused, "Machine is `DOWN`");

    let r = http(addr, "POST", "/machine/up", &format!("[{MACHINE}]")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let back = cluster.add_agent("cpus:1;mem:64").await;
    assert_eq!(
        agents(addr).await[0]["agent_info"]["id"]["value"],
        back.id.value.as_str()
    );
    let r = op(addr, r#"{"type":"GET_MAINTENANCE_SCHEDULE"}"#).await;
    assert_eq!(
        r.json()["get_maintenance_schedule"]["schedule"],
        json!({"windows": []})
    );
}

async fn subscribe(addr: SocketAddr) -> (EventStream, String) {
    let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info":
        {"user": "tester", "name": "maintenance-aware", "failover_timeout": 3600.0}}});
    let mut stream = EventStream::open(addr, SCHEDULER, &body)
        .await
        .unwrap_or_else(|r| panic!("SUBSCRIBE refused: {} {}", r.status, r.text()));
    let subscribed = stream.next_of("SUBSCRIBED").await;
    let id = subscribed["subscribed"]["framework_id"]["value"]
        .as_str()
        .expect("framework id")
        .to_string();
    (stream, id)
}

async fn scheduler_call(addr: SocketAddr, stream: &EventStream, body: Value) -> Response {
    request(addr, &json_call(SCHEDULER, Some(&stream.stream_id), &body))
        .await
        .expect("an answer to the call")
}

async fn statuses(addr: SocketAddr) -> Value {
    let r = op(addr, r#"{"type":"GET_MAINTENANCE_STATUS"}"#).await;
    r.json()["get_maintenance_status"]["status"]["draining_machines"][0]["statuses"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_framework_on_a_draining_machine_gets_inverse_offers_and_its_answers_show() {
    let cluster = start().await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let (mut stream, id) = subscribe(addr).await;
    let offers = stream.next_of("OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let accept = json!({"type": "ACCEPT", "framework_id": {"value": id},
        "accept": {"offer_ids": [offer["id"]], "operations": [{"type": "LAUNCH", "launch": {
            "task_infos": [{"name": "t1", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
                "command": {"value": "sleep 1000"},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}]}]}}]}});
    let r = scheduler_call(addr, &stream, accept).await;
    assert_eq!(r.status, 202, "{}", r.text());
    next_matching(&mut agent.events, "RunTask", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == "t1" => Some(()),
        _ => None,
    })
    .await;

    let r = update_schedule(addr, &schedule(MACHINE)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let event = stream.next_of("INVERSE_OFFERS").await;
    let inverse = &event["inverse_offers"]["inverse_offers"][0];
    assert_eq!(inverse["agent_id"]["value"], agent.id.value.as_str());
    assert_eq!(inverse["framework_id"]["value"], id.as_str());
    assert_eq!(
        inverse["unavailability"]["start"]["nanoseconds"],
        1_000_000_000i64
    );
    assert_eq!(statuses(addr).await[0]["status"], "UNKNOWN");
    assert_eq!(
        statuses(addr).await[0]["framework_id"]["value"],
        id.as_str()
    );

    // Declined with a filter: recorded, and asked again once the filter expires.
    let decline = json!({"type": "DECLINE_INVERSE_OFFERS", "framework_id": {"value": id},
        "decline_inverse_offers": {"inverse_offer_ids": [inverse["id"]],
            "filters": {"refuse_seconds": 30}}});
    let r = scheduler_call(addr, &stream, decline).await;
    assert_eq!(r.status, 202, "{}", r.text());
    eventually_async("the decline to show", || async {
        statuses(addr).await[0]["status"] == "DECLINE"
    })
    .await;
    cluster.advance(Duration::from_secs(31), 1).await;
    let again = stream.next_of("INVERSE_OFFERS").await;
    let second = again["inverse_offers"]["inverse_offers"][0].clone();
    assert_ne!(second["id"], inverse["id"]);

    let accept = json!({"type": "ACCEPT_INVERSE_OFFERS", "framework_id": {"value": id},
        "accept_inverse_offers": {"inverse_offer_ids": [second["id"]]}});
    let r = scheduler_call(addr, &stream, accept).await;
    assert_eq!(r.status, 202, "{}", r.text());
    eventually_async("the accept to show", || async {
        statuses(addr).await[0]["status"] == "ACCEPT"
    })
    .await;

    // Asked again after the default filter (5 s); cancelling the schedule rescinds it.
    cluster.advance(Duration::from_secs(6), 1).await;
    let third = stream.next_of("INVERSE_OFFERS").await;
    let third_id = third["inverse_offers"]["inverse_offers"][0]["id"].clone();
    let r = update_schedule(addr, r#"{"windows":[]}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rescind = stream.next_of("RESCIND_INVERSE_OFFER").await;
    assert_eq!(
        rescind["rescind_inverse_offer"]["inverse_offer_id"],
        third_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_agent_kills_its_task_stops_offering_and_becomes_drained() {
    let cluster = start().await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "f"))
        .await;
    launch_one(&mut fw, &mut agent, "t1").await;
    agent.send_update(&fw.id, "t1", TaskState::Running);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Running);
    let id = agent.id.value.clone();

    // Refusals first.
    assert_refused(
        &op(addr, &agent_call("DRAIN_AGENT", "nope", "")).await,
        400,
        "Unknown agent",
        "drain unknown",
    );
    assert_refused(
        &op(addr, &agent_call("DEACTIVATE_AGENT", "nope", "")).await,
        400,
        "Unknown agent",
        "deactivate unknown",
    );
    assert_refused(
        &op(addr, &agent_call("REACTIVATE_AGENT", &id, "")).await,
        400,
        "Agent is not deactivated",
        "reactivate an active agent",
    );
    assert_refused(
        &op(
            addr,
            &agent_call("DRAIN_AGENT", &id, r#","max_grace_period":"-1s""#),
        )
        .await,
        400,
        "non-negative",
        "negative grace",
    );
    assert_refused(
        &op(
            addr,
            &agent_call("DRAIN_AGENT", &id, r#","max_grace_period":"soon""#),
        )
        .await,
        400,
        "soon",
        "unreadable grace",
    );
    let r = update_schedule(addr, &schedule(MACHINE)).await;
    assert_eq!(r.status, 200);
    assert_refused(
        &op(addr, &agent_call("DRAIN_AGENT", &id, "")).await,
        400,
        "is part of a maintenance schedule",
        "drain a scheduled agent",
    );
    let r = update_schedule(addr, r#"{"windows":[]}"#).await;
    assert_eq!(r.status, 200);

    let r = op(
        addr,
        &agent_call("DRAIN_AGENT", &id, r#","max_grace_period":{"seconds":2}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let bound = next_matching(&mut agent.events, "the drain", |e| match e {
        AgentEvent::Drain(bound) => Some(*bound),
        _ => None,
    })
    .await;
    assert_eq!(bound, Some(2_000_000_000));
    let listed = agents(addr).await;
    assert_eq!(listed[0]["deactivated"], true);
    assert_eq!(listed[0]["active"], false);
    assert_eq!(listed[0]["drain_info"]["state"], "DRAINING");
    assert_eq!(
        listed[0]["drain_info"]["config"],
        json!({"mark_gone": false, "max_grace_period": {"seconds": 2}})
    );
    let state = cluster.state().await;
    assert_eq!(state["slaves"][0]["deactivated"], true);
    assert_eq!(
        (&state["activated_slaves"], &state["deactivated_slaves"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(state["slaves"][0]["drain_info"]["state"], "DRAINING");
    assert_refused(
        &op(addr, &agent_call("REACTIVATE_AGENT", &id, "")).await,
        400,
        "Agent is still in the DRAINING state",
        "reactivate while draining",
    );

    // The task ends; once its update is acknowledged the agent is DRAINED.
    agent.send_update(&fw.id, "t1", TaskState::Killed);
    assert_eq!(next_update(&mut fw).await.state, TaskState::Killed);
    eventually_async("the agent to be DRAINED", || async {
        agents(addr).await[0]["drain_info"]["state"] == "DRAINED"
    })
    .await;
    // No offers from a drained agent: rounds pass and nothing is outstanding.
    cluster.advance(Duration::from_secs(1), 5).await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["offers"], json!([]), "{state}");

    let r = op(addr, &agent_call("REACTIVATE_AGENT", &id, "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let listed = agents(addr).await;
    assert_eq!(listed[0]["deactivated"], false);
    assert!(listed[0].get("drain_info").is_none(), "{listed}");
    cluster.advance(Duration::from_secs(1), 2).await;
    let offer = first_offer(&mut fw).await;
    assert_eq!(offer.agent_id, agent.id, "offers resume once reactivated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_stops_offers_and_a_drain_with_mark_gone_ends_the_agent() {
    let cluster = start().await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let id = agent.id.value.clone();
    let r = op(addr, &agent_call("DEACTIVATE_AGENT", &id, "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "f"))
        .await;
    cluster.advance(Duration::from_secs(1), 5).await;
    let state = cluster.state().await;
    assert_eq!(state["frameworks"][0]["offers"], json!([]), "{state}");
    assert_eq!(agents(addr).await[0]["deactivated"], true);
    assert!(agents(addr).await[0].get("drain_info").is_none());

    let r = op(addr, &agent_call("REACTIVATE_AGENT", &id, "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let offer = first_offer(&mut fw).await;
    assert_eq!(offer.agent_id, agent.id);

    // An empty agent drained with mark_gone is DRAINED at once, then gone.
    let r = op(
        addr,
        &agent_call("DRAIN_AGENT", &id, r#","mark_gone":true"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let said = next_matching(&mut agent.events, "shutdown", |e| match e {
        AgentEvent::Shutdown(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(said, "Agent has been marked gone");
    assert!(agents(addr).await.as_array().is_some_and(Vec::is_empty));
    assert_refused(
        &op(addr, &agent_call("DRAIN_AGENT", &id, "")).await,
        400,
        "Unknown agent",
        "drain a gone agent",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_framework_that_starts_on_a_draining_machine_is_asked_at_the_next_ping_round() {
    let cluster = start().await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let r = update_schedule(addr, &schedule(MACHINE)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut fw = cluster
        .add_framework(FrameworkInfo::new("tester", "late"))
        .await;
    launch_one(&mut fw, &mut agent, "t1").await;
    assert!(
        statuses(addr).await.is_null(),
        "not asked before it runs anything"
    );
    cluster.advance(Duration::from_secs(15), 1).await;
    let inverse = next_matching(&mut fw.events, "an inverse offer", |e| match e {
        SchedEvent::InverseOffers(o) if !o.is_empty() => Some(o[0].clone()),
        _ => None,
    })
    .await;
    assert_eq!(inverse.agent_id.as_ref(), Some(&agent.id));
    assert_eq!(statuses(addr).await[0]["status"], "UNKNOWN");
}
