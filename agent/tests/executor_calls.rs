//! The v1 executor API with the test playing the executor over raw HTTP: the agent starts
//! a custom executor that only sleeps, and the test SUBSCRIBEs in its name. Covers every
//! event the agent sends (SUBSCRIBED, LAUNCH, ACKNOWLEDGED, MESSAGE, KILL, HEARTBEAT,
//! SHUTDOWN), every validation row of the reference's §2.1/§2.2 tables (one request each,
//! status and body), and re-subscription with unacknowledged updates.

use std::time::Duration;

use meso_api::v1::{
    CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, TaskGroupInfo, TaskId, TaskInfo, TaskState,
};
use meso_api::wire::{FrameworkToExecutor, KillTask, RunTaskGroup, ShutdownExecutor};
use meso_testkit::agent_harness::*;
use meso_testkit::eventually::eventually_within;
use meso_testkit::http::blocking::{get, post_json, request, EventStream};
use meso_testkit::http::Response;

const IDS: &str = r#""framework_id":{"value":"M-0000"},"executor_id":{"value":"manual"}"#;
const UUID1: &str = "AAECAwQFBgcICQoLDA0ODw==";
const UUID2: &str = "EBESExQVFhcYGRobHB0eHw==";

fn sleeping_executor(id: &str) -> ExecutorInfo {
    ExecutorInfo {
        name: Some(format!("{id} executor")),
        ..executor_info(id, CommandInfo::shell("sleep 600"))
    }
}

fn task(id: &str, executor: &str) -> TaskInfo {
    command_task(id, "unused").with_executor(sleeping_executor(executor))
}

fn subscribe_call(executor: &str, unacknowledged_updates: &str) -> String {
    format!(
        r#"{{"type":"SUBSCRIBE","framework_id":{{"value":"M-0000"}},"executor_id":{{"value":"{executor}"}},"subscribe":{{"unacknowledged_updates":[{unacknowledged_updates}]}}}}"#
    )
}

fn update(status: &str) -> String {
    format!(r#"{{"type":"UPDATE",{IDS},"update":{{"status":{status}}}}}"#)
}

fn status(task: &str, state: &str, uuid: &str) -> String {
    format!(
        r#"{{"task_id":{{"value":"{task}"}},"state":"{state}","source":"SOURCE_EXECUTOR","uuid":"{uuid}"}}"#
    )
}

/// Subscribes as `executor`, retrying while the agent does not know it yet (the RunTask
/// that creates it is on its way).
fn subscribe(addr: std::net::SocketAddr, executor: &str, unacked: &str) -> EventStream {
    eventually_within("SUBSCRIBE to be answered 200", HANG_GUARD, || {
        let s = EventStream::open(
            addr,
            "/api/v1/executor",
            &["Accept: application/json"],
            &subscribe_call(executor, unacked),
        );
        if s.status == 200 {
            Ok(s)
        } else {
            Err(format!("SUBSCRIBE kept getting {}", s.status))
        }
    })
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn refused(r: Response, status: u16, needle: &str) {
    assert_eq!(r.status, status, "body: {}", r.text());
    assert!(!r.body.is_empty(), "a refusal says why");
    assert!(
        r.text().contains(needle),
        "body {:?} lacks {needle:?}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_api_events_validation_and_resubscription() {
    let mut h = Harness::start_registered().await;
    let addr = h.agent.addr();
    h.run_task(task("m1", "manual"));
    // A second executor that never subscribes, for the 403 row.
    h.run_task(task("w1", "waiting"));

    let mut stream = blocking(|| subscribe(addr, "manual", ""));
    let (sub, launch) = blocking(|| (stream.expect("SUBSCRIBED"), stream.expect("LAUNCH")));
    let s = &sub["subscribed"];
    assert_eq!(s["executor_info"]["executor_id"]["value"], "manual");
    assert_eq!(s["framework_info"]["id"]["value"], "M-0000");
    assert_eq!(s["agent_info"]["id"]["value"], AGENT_ID);
    assert_eq!(s["container_id"]["value"].as_str().unwrap().len(), 36);
    assert_eq!(launch["launch"]["task"]["task_id"]["value"], "m1");

    blocking(|| {
        // Transport rows (§2.1).
        refused(get(addr, "/api/v1/executor"), 405, "POST");
        refused(
            request(
                addr,
                "POST",
                "/api/v1/executor",
                &[],
                update(&status("m1", "TASK_RUNNING", UUID1)).as_bytes(),
            ),
            400,
            "Content-Type",
        );
        refused(
            request(
                addr,
                "POST",
                "/api/v1/executor",
                &["Content-Type: text/plain"],
                b"{}",
            ),
            415,
            "text/plain",
        );
        refused(
            request(
                addr,
                "POST",
                "/api/v1/executor",
                &[
                    "Content-Type: application/json",
                    "Accept: application/x-protobuf",
                ],
                subscribe_call("manual", "").as_bytes(),
            ),
            406,
            "",
        );
        refused(post_json(addr, "/api/v1/executor", "{not json"), 400, "");
        let deep = format!(
            r#"{{"type":"HEARTBEAT",{IDS},"x":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        refused(post_json(addr, "/api/v1/executor", &deep), 400, "");

        // Envelope rows: ids and payloads are required.
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                r#"{"type":"UPDATE","framework_id":{"value":"M-0000"}}"#,
            ),
            400,
            "executor_id",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &format!(r#"{{"type":"UPDATE",{IDS}}}"#),
            ),
            400,
            "update",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &format!(r#"{{"type":"MESSAGE",{IDS}}}"#),
            ),
            400,
            "message",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &format!(r#"{{"type":"NOT_A_CALL",{IDS}}}"#),
            ),
            400,
            "",
        );

        // UPDATE rows (§2.2).
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(
                    r#"{"task_id":{"value":"m1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR"}"#,
                ),
            ),
            400,
            "uuid",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&status("m1", "TASK_RUNNING", "AAAA")),
            ),
            400,
            "16 bytes",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&format!(
                    r#"{{"task_id":{{"value":"m1"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"{UUID1}","executor_id":{{"value":"other"}}}}"#
                )),
            ),
            400,
            "executor_id",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&format!(
                    r#"{{"task_id":{{"value":"m1"}},"state":"TASK_RUNNING","source":"SOURCE_AGENT","uuid":"{UUID1}"}}"#
                )),
            ),
            400,
            "SOURCE_EXECUTOR",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&status("m1", "TASK_STAGING", UUID1)),
            ),
            400,
            "TASK_STAGING",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&format!(
                    r#"{{"task_id":{{"value":"m1"}},"source":"SOURCE_EXECUTOR","uuid":"{UUID1}"}}"#
                )),
            ),
            400,
            "state",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&format!(
                    r#"{{"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"{UUID1}"}}"#
                )),
            ),
            400,
            "task_id",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &update(&status("nope", "TASK_RUNNING", UUID1)),
            ),
            400,
            "nope",
        );

        // Standing rows: unknown framework or executor, not subscribed yet, UNKNOWN.
        let other = |fw: &str, ex: &str, kind: &str| {
            format!(
                r#"{{"type":"{kind}","framework_id":{{"value":"{fw}"}},"executor_id":{{"value":"{ex}"}},"update":{{"status":{}}}}}"#,
                status("w1", "TASK_RUNNING", UUID1)
            )
        };
        refused(
            post_json(addr, "/api/v1/executor", &other("nope", "manual", "UPDATE")),
            400,
            "Framework cannot be found",
        );
        refused(
            post_json(addr, "/api/v1/executor", &other("M-0000", "nope", "UPDATE")),
            400,
            "Executor cannot be found",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &other("M-0000", "waiting", "UPDATE"),
            ),
            403,
            "not subscribed",
        );
        refused(
            post_json(
                addr,
                "/api/v1/executor",
                &other("M-0000", "manual", "UNKNOWN"),
            ),
            501,
            "UNKNOWN",
        );
        // HEARTBEAT is accepted before any lookup.
        let r = post_json(
            addr,
            "/api/v1/executor",
            r#"{"type":"HEARTBEAT","framework_id":{"value":"nope"},"executor_id":{"value":"nope"}}"#,
        );
        assert_eq!(r.status, 202, "{}", r.text());
    });

    // A valid UPDATE: 202, ACKNOWLEDGED at once, forwarded to the master with the agent id.
    let r = blocking(|| {
        post_json(
            addr,
            "/api/v1/executor",
            &update(&status("m1", "TASK_RUNNING", UUID1)),
        )
    });
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty());
    let ack = blocking(|| stream.expect("ACKNOWLEDGED"));
    assert_eq!(ack["acknowledged"]["task_id"]["value"], "m1");
    assert_eq!(ack["acknowledged"]["uuid"], UUID1);
    let running = loop {
        let u = h.next_update().await;
        if u.status.task_id == TaskId::new("m1") {
            break u;
        }
    };
    assert_eq!(running.status.state, TaskState::Running);
    assert_eq!(running.status.agent_id.as_ref().unwrap().as_str(), AGENT_ID);
    h.ack(&running);

    // MESSAGE both ways.
    let r = blocking(|| {
        post_json(
            addr,
            "/api/v1/executor",
            &format!(r#"{{"type":"MESSAGE",{IDS},"message":{{"data":"aGk="}}}}"#),
        )
    });
    assert_eq!(r.status, 202, "{}", r.text());
    h.to_agent(FrameworkToExecutor {
        agent_id: meso_api::v1::AgentId::new(AGENT_ID),
        framework_id: FrameworkId::new("M-0000"),
        executor_id: ExecutorId::new("manual"),
        data: b"hello".to_vec(),
    });
    let message = blocking(|| stream.expect("MESSAGE"));
    assert_eq!(message["message"]["data"], "aGVsbG8=");

    // A second task for the subscribed executor comes as LAUNCH; a kill as KILL.
    h.run_task(task("m2", "manual"));
    let launch = blocking(|| stream.expect("LAUNCH"));
    assert_eq!(launch["launch"]["task"]["task_id"]["value"], "m2");
    h.to_agent(KillTask {
        framework_id: FrameworkId::new("M-0000"),
        task_id: TaskId::new("m2"),
        kill_policy: grace(7),
    });
    let kill = blocking(|| stream.expect("KILL"));
    assert_eq!(kill["kill"]["task_id"]["value"], "m2");
    assert_eq!(
        kill["kill"]["kill_policy"]["grace_period"]["nanoseconds"],
        7_000_000_000i64
    );

    // A task group for the subscribed executor comes as one LAUNCH_GROUP.
    h.to_agent(RunTaskGroup {
        framework: framework(),
        executor: sleeping_executor("manual"),
        task_group: TaskGroupInfo {
            tasks: vec![command_task("m3", "true"), command_task("m4", "true")],
        },
    });
    let group = blocking(|| stream.expect("LAUNCH_GROUP"));
    let tasks = group["launch_group"]["task_group"]["tasks"]
        .as_array()
        .unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1]["task_id"]["value"], "m4");

    // HEARTBEAT every 30 minutes.
    h.clock.advance(Duration::from_secs(30 * 60 + 1));
    blocking(|| stream.expect("HEARTBEAT"));

    // The connection breaks; the executor subscribes again with an update it never saw
    // acknowledged. The agent takes it and acknowledges it on the new stream.
    drop(stream);
    let unacked = format!(r#"{{"status":{}}}"#, status("m1", "TASK_FINISHED", UUID2));
    let mut stream = blocking(|| subscribe(addr, "manual", &unacked));
    blocking(|| {
        stream.expect("SUBSCRIBED");
        let ack = stream.expect("ACKNOWLEDGED");
        assert_eq!(ack["acknowledged"]["uuid"], UUID2);
    });
    loop {
        let u = h.next_update().await;
        if u.status.task_id == TaskId::new("m1") && u.status.state == TaskState::Finished {
            assert_eq!(
                u.uuid.as_deref(),
                Some(&[16u8, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31][..])
            );
            break;
        }
    }

    // SHUTDOWN; a SUBSCRIBE while shutting down is answered with SHUTDOWN too.
    h.to_agent(ShutdownExecutor {
        framework_id: FrameworkId::new("M-0000"),
        executor_id: ExecutorId::new("manual"),
    });
    blocking(|| stream.expect("SHUTDOWN"));
    let mut again = blocking(|| subscribe(addr, "manual", ""));
    blocking(|| {
        again.expect("SUBSCRIBED");
        again.expect("SHUTDOWN");
    });
    assert_eq!(blocking(|| get(addr, "/health")).status, 200);
}
