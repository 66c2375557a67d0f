//! The operator API's SUBSCRIBE stream under `--acls`, over real HTTP to a real master:
//! each subscriber gets only the framework and task events its view ACLs allow
//! (`view_frameworks`, `view_tasks`), as Mesos filters per subscriber, and its SUBSCRIBED
//! state is filtered as GET_STATE is.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meso_api::acl::Acls;
use meso_api::http::auth::{Credentials, HttpAuthenticator, NodeKind, Realm};
use meso_api::v1::{FrameworkInfo, TaskState};
use meso_testkit::http::blocking::EventStream;
use meso_testkit::master_harness::*;
use serde_json::{json, Value};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(HANG_GUARD, tokio::task::spawn_blocking(f))
        .await
        .expect("hang guard: http")
        .expect("http client thread")
}

/// A master whose operator API needs credentials (`ops`, `alice`: secret `<name>-secret`)
/// where alice may view only the frameworks and tasks of the OS user `alice-user`.
async fn master() -> Cluster {
    let mut config = Cluster::config();
    let credentials = Credentials::parse("ops ops-secret\nalice alice-secret\n").expect("creds");
    config.http_auth = HttpAuthenticator::new(
        NodeKind::Master,
        &[Realm::Readonly, Realm::Readwrite],
        Some(credentials),
        None,
    )
    .expect("authenticator");
    let acls = json!({
        "view_frameworks": [
            {"principals": {"values": ["alice"]}, "users": {"values": ["alice-user"]}},
            {"principals": {"values": ["alice"]}, "users": {"type": "NONE"}}
        ],
        "view_tasks": [
            {"principals": {"values": ["alice"]}, "users": {"values": ["alice-user"]}},
            {"principals": {"values": ["alice"]}, "users": {"type": "NONE"}}
        ]
    });
    config.acls = Some(Arc::new(Acls::parse(&acls.to_string()).expect("ACLs")));
    let cluster = Cluster::start(config).await;
    cluster.node.set_delegate(Some("master"));
    cluster
}

fn subscribe(addr: std::net::SocketAddr, who: &str) -> (EventStream, Value) {
    let auth = format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("{who}:{who}-secret"))
    );
    let mut s = EventStream::open(addr, "/api/v1", &[&auth], r#"{"type":"SUBSCRIBE"}"#);
    assert_eq!(s.status, 200, "{who}: {:?}", s.headers);
    let first = s.expect("SUBSCRIBED");
    (s, first)
}

/// Every event of `s` up to and including the TASK_UPDATED of `task`.
fn events_until_update_of(s: &mut EventStream, task: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let e = s.next_event().expect("the stream ended");
        let done =
            e["type"] == "TASK_UPDATED" && e["task_updated"]["status"]["task_id"]["value"] == task;
        seen.push(e);
        if done {
            return seen;
        }
    }
}

/// `(type, framework name or task id)` of the framework and task events in `events`.
fn summary(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| {
            let kind = e["type"].as_str()?;
            let what = match kind {
                "FRAMEWORK_ADDED" => &e["framework_added"]["framework"]["framework_info"]["name"],
                "TASK_ADDED" => &e["task_added"]["task"]["task_id"]["value"],
                "TASK_UPDATED" => &e["task_updated"]["status"]["task_id"]["value"],
                _ => return None,
            };
            Some((kind.to_string(), what.as_str()?.to_string()))
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_subscriber_gets_only_the_events_it_may_view() {
    let cluster = master().await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    // bob's framework exists before anyone subscribes: alice's SUBSCRIBED state omits it.
    let mut bob = cluster
        .add_framework(FrameworkInfo::new("bob-user", "bob-fw"))
        .await;
    let (ops, alice) = blocking(move || {
        let (ops, ops_first) = subscribe(addr, "ops");
        let (alice, alice_first) = subscribe(addr, "alice");
        let names = |first: &Value| -> Vec<String> {
            first["subscribed"]["get_state"]["get_frameworks"]["frameworks"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|f| {
                            f["framework_info"]["name"]
                                .as_str()
                                .unwrap_or("?")
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(names(&ops_first), ["bob-fw"], "{ops_first}");
        assert!(names(&alice_first).is_empty(), "{alice_first}");
        (ops, alice)
    })
    .await;
    let mut alice_fw = cluster
        .add_framework(FrameworkInfo::new("alice-user", "alice-fw"))
        .await;
    // bob's task first, then alice's: a leak would reach alice's stream first.
    launch_one(&mut bob, &mut agent, "bob-task").await;
    agent.send_update(&bob.id, "bob-task", TaskState::Running);
    let ops = blocking(move || {
        let mut ops = ops;
        let seen = events_until_update_of(&mut ops, "bob-task");
        assert_eq!(
            summary(&seen),
            pairs(&[
                ("FRAMEWORK_ADDED", "alice-fw"),
                ("TASK_ADDED", "bob-task"),
                ("TASK_UPDATED", "bob-task"),
            ]),
            "{seen:?}"
        );
        ops
    })
    .await;
    launch_one(&mut alice_fw, &mut agent, "alice-task").await;
    agent.send_update(&alice_fw.id, "alice-task", TaskState::Running);
    blocking(move || {
        let (mut ops, mut alice) = (ops, alice);
        let seen = events_until_update_of(&mut ops, "alice-task");
        assert_eq!(
            summary(&seen),
            pairs(&[("TASK_ADDED", "alice-task"), ("TASK_UPDATED", "alice-task")]),
            "{seen:?}"
        );
        let hers = events_until_update_of(&mut alice, "alice-task");
        assert_eq!(
            summary(&hers),
            pairs(&[
                ("FRAMEWORK_ADDED", "alice-fw"),
                ("TASK_ADDED", "alice-task"),
                ("TASK_UPDATED", "alice-task"),
            ]),
            "{hers:?}"
        );
        assert!(
            hers.iter().all(|e| !e.to_string().contains("bob")),
            "alice saw bob's framework or task: {hers:?}"
        );
    })
    .await;
}
