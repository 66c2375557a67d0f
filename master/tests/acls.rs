//! `--acls` on a real master over real HTTP and the real scheduler driver: every action of
//! issue 17 is refused to a principal the ACLs do not allow (403 naming the action for
//! HTTP, a framework error or TASK_ERROR for frameworks) and allowed to the one they do;
//! the state documents show each principal only the frameworks and tasks it may view.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meso_api::acl::Acls;
use meso_api::http::auth::{Credentials, HttpAuthenticator, NodeKind, Realm};
use meso_api::resources::{DiskInfo, Persistence, ReservationInfo, Resource, Volume, VolumeMode};
use meso_api::v1::{CommandInfo, FrameworkInfo, TaskState, TaskStatusReason};
use meso_api::Resources;
use meso_frameworks::SchedulerDriver;
use meso_testkit::http::blocking::request;
use meso_testkit::http::Response;
use meso_testkit::master_harness::*;
use serde_json::{json, Value};

async fn send(addr: SocketAddr, method: &str, path: &str, who: &str, body: String) -> Response {
    let (method, path) = (method.to_string(), path.to_string());
    let auth = format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("{who}:{who}-secret"))
    );
    let task = tokio::task::spawn_blocking(move || {
        let content_type = if body.starts_with("slaveId") {
            "Content-Type: application/x-www-form-urlencoded"
        } else {
            "Content-Type: application/json"
        };
        request(
            addr,
            &method,
            &path,
            &[content_type, &auth],
            body.as_bytes(),
        )
    });
    tokio::time::timeout(HANG_GUARD, task)
        .await
        .expect("hang guard: http")
        .expect("http client thread")
}

/// A master whose HTTP realms all need credentials (`ops`, `dev`, `alice`, `bob`, each
/// with the secret `<name>-secret`) and that decides by `acls`.
async fn master_with(acls: Value) -> Cluster {
    let mut config = Cluster::config();
    let list: Vec<Value> = ["ops", "dev", "alice", "bob"]
        .iter()
        .map(|p| json!({"principal": p, "secret": format!("{p}-secret")}))
        .collect();
    let credentials =
        Credentials::parse(&json!({ "credentials": list }).to_string()).expect("credentials");
    config.http_auth = HttpAuthenticator::new(
        NodeKind::Master,
        &[Realm::Readonly, Realm::Readwrite, Realm::Framework],
        Some(credentials),
        None,
    )
    .expect("authenticator");
    config.acls = Some(Arc::new(Acls::parse(&acls.to_string()).expect("ACLs")));
    let cluster = Cluster::start(config).await;
    cluster.node.set_delegate(Some("master"));
    cluster
}

fn dynamic(text: &str, role: &str) -> Resources {
    res(text).push_reservation(&ReservationInfo::dynamically(role, Some("ops")))
}

fn volume(role: &str) -> Resources {
    let disk: Resource = dynamic("disk:100", role)
        .into_iter()
        .next()
        .expect("one disk")
        .with_disk(DiskInfo {
            persistence: Some(Persistence {
                id: "v1".into(),
                principal: Some("ops".into()),
            }),
            volume: Some(Volume {
                mode: VolumeMode::Rw,
                container_path: "data".into(),
                host_path: None,
            }),
            source: None,
        });
    disk.into()
}

fn agent_call(kind: &str, agent: &str, field: &str, payload: &Resources) -> String {
    let lower = kind.to_ascii_lowercase();
    json!({
        "type": kind,
        lower: {"agent_id": {"value": agent}, field: payload},
    })
    .to_string()
}

fn refused(r: &Response, action: &str, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", r.text());
    assert!(
        r.text().contains(action),
        "{what}: the refusal {:?} should name {action}",
        r.text()
    );
}

fn passed(r: &Response, what: &str) {
    assert!(
        r.status != 403 && r.status != 401,
        "{what}: {} {}",
        r.status,
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_action_is_refused_to_dev_and_allowed_to_ops() {
    let ops_only =
        |object: &str| json!([{"principals": {"values": ["ops"]}, object: {"type": "ANY"}}]);
    let cluster = master_with(json!({
        "permissive": false,
        "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
        "update_weights": ops_only("roles"),
        "update_quotas": ops_only("roles"),
        "reserve_resources": ops_only("roles"),
        "unreserve_resources": ops_only("reserver_principals"),
        "create_volumes": ops_only("roles"),
        "destroy_volumes": ops_only("creator_principals"),
        "teardown_frameworks": ops_only("framework_principals"),
        "mark_agents_gone": ops_only("agents"),
        "drain_agents": ops_only("agents"),
        "update_maintenance_schedules": ops_only("machines"),
        "get_endpoints": ops_only("paths"),
        "access_mesos_logs": ops_only("logs"),
        "view_frameworks": ops_only("users"),
        "view_tasks": ops_only("users"),
        "view_executors": ops_only("users"),
    }))
    .await;
    let addr = cluster.node.addr();
    let agent = cluster.add_agent("cpus:4;mem:1024;disk:1000").await;
    let gone = cluster.add_agent("cpus:1;mem:128").await;
    let id = agent.id.value.clone();
    let mut info = FrameworkInfo::new("tester", "f");
    info.principal = Some("fw-principal".into());
    let fw = cluster.add_framework(info).await;

    let weights = json!({"type": "UPDATE_WEIGHTS",
        "update_weights": {"weight_infos": [{"role": "dev", "weight": 2.0}]}});
    let quota = json!({"type": "UPDATE_QUOTA", "update_quota": {"force": true,
        "quota_configs": [{"role": "dev", "guarantees": {"cpus": {"value": 1.0}}}]}});
    let schedule = json!({"type": "UPDATE_MAINTENANCE_SCHEDULE",
        "update_maintenance_schedule": {"schedule": {"windows": []}}});
    let teardown = json!({"type": "TEARDOWN",
        "teardown": {"framework_id": {"value": fw.id.value}}});
    let drain =
        json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": gone.id.value}}});
    let mark_gone = json!({"type": "MARK_AGENT_GONE",
        "mark_agent_gone": {"agent_id": {"value": gone.id.value}}});
    let reserved = dynamic("cpus:1;disk:500", "dev");
    let reserve_form = format!(
        "slaveId={id}&resources={}",
        serde_json::to_string(&dynamic("cpus:1", "dev")).expect("json")
    );
    let steps: Vec<(&str, &str, String, &str)> = vec![
        ("POST", "/api/v1", weights.to_string(), "update_weights"),
        (
            "PUT",
            "/master/weights",
            r#"[{"role":"dev","weight":3.0}]"#.into(),
            "update_weights",
        ),
        ("POST", "/api/v1", quota.to_string(), "update_quotas"),
        (
            "DELETE",
            "/master/quota/dev",
            String::new(),
            "update_quotas",
        ),
        (
            "POST",
            "/api/v1",
            agent_call("RESERVE_RESOURCES", &id, "resources", &reserved),
            "reserve_resources",
        ),
        ("POST", "/master/reserve", reserve_form, "reserve_resources"),
        (
            "POST",
            "/api/v1",
            agent_call("CREATE_VOLUMES", &id, "volumes", &volume("dev")),
            "create_volumes",
        ),
        (
            "POST",
            "/api/v1",
            agent_call("DESTROY_VOLUMES", &id, "volumes", &volume("dev")),
            "destroy_volumes",
        ),
        (
            "POST",
            "/api/v1",
            agent_call("UNRESERVE_RESOURCES", &id, "resources", &reserved),
            "unreserve_resources",
        ),
        (
            "POST",
            "/api/v1",
            schedule.to_string(),
            "update_maintenance_schedules",
        ),
        (
            "POST",
            "/master/maintenance/schedule",
            r#"{"windows":[]}"#.into(),
            "update_maintenance_schedules",
        ),
        ("GET", "/metrics/snapshot", String::new(), "get_endpoints"),
        (
            "GET",
            "/master/files/read?path=/master/log&offset=0",
            String::new(),
            "access_mesos_logs",
        ),
        ("POST", "/api/v1", drain.to_string(), "drain_agents"),
        ("POST", "/api/v1", mark_gone.to_string(), "mark_agents_gone"),
        (
            "POST",
            "/api/v1",
            teardown.to_string(),
            "teardown_frameworks",
        ),
    ];
    for (method, path, body, action) in steps {
        let what = format!("{method} {path} {}", &body[..body.len().min(60)]);
        refused(
            &send(addr, method, path, "dev", body.clone()).await,
            action,
            &what,
        );
        let r = send(addr, method, path, "ops", body).await;
        passed(&r, &what);
        if path == "/api/v1" && body_kind_is_operation(action) {
            assert_eq!(r.status, 202, "{what}: {}", r.text());
        }
    }
    // Each allowed call took effect: the framework is gone, the agent is gone.
    let state = cluster.state().await;
    assert_eq!(
        state["frameworks"].as_array().map(Vec::len),
        Some(0),
        "{state}"
    );
    let r = send(
        addr,
        "POST",
        "/api/v1",
        "ops",
        r#"{"type":"GET_WEIGHTS"}"#.into(),
    )
    .await;
    assert!(r.text().contains("\"dev\""), "{}", r.text());
}

fn body_kind_is_operation(action: &str) -> bool {
    matches!(
        action,
        "reserve_resources" | "create_volumes" | "destroy_volumes" | "unreserve_resources"
    )
}

/// A framework registration that the master answers with an error: its message.
async fn refused_registration(cluster: &Cluster, info: FrameworkInfo) -> String {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    cluster
        .node
        .spawn(SchedulerDriver::new(
            cluster.master.upid().clone(),
            info,
            Box::new(ChannelScheduler(tx)),
        ))
        .expect("driver spawns");
    next_matching(&mut rx, "framework error", |e| match e {
        SchedEvent::Error(message) => Some(message.clone()),
        SchedEvent::Registered(id) => panic!("framework {id} registered; the ACLs refuse it"),
        _ => None,
    })
    .await
}

fn framework(principal: &str, user: &str, role: &str) -> FrameworkInfo {
    let mut info = FrameworkInfo::new(user, principal);
    info.principal = Some(principal.into());
    info.role = Some(role.into());
    info
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frameworks_register_in_their_roles_and_run_tasks_only_as_allowed_users() {
    let cluster = master_with(json!({
        "register_frameworks": [
            {"principals": {"values": ["alice"]}, "roles": {"values": ["analytics"]}},
            {"principals": {"type": "NONE"}, "roles": {"values": ["analytics"]}}
        ],
        "run_tasks": [
            {"principals": {"values": ["alice"]}, "users": {"values": ["alice-user", "nobody"]}},
            {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
        ]
    }))
    .await;
    let why = refused_registration(&cluster, framework("bob", "bob-user", "analytics")).await;
    assert!(
        why.contains("register_frameworks") && why.contains("analytics"),
        "{why}"
    );

    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut alice = cluster
        .add_framework(framework("alice", "alice-user", "analytics"))
        .await;
    let offer = first_offer(&mut alice).await;
    let mut as_root = command_task("as-root", &agent.id, "cpus:1;mem:128");
    as_root.command = Some(CommandInfo {
        user: Some("root".into()),
        ..as_root.command.clone().expect("a command task")
    });
    let mut as_nobody = command_task("as-nobody", &agent.id, "cpus:1;mem:128");
    as_nobody.command = Some(CommandInfo {
        user: Some("nobody".into()),
        ..as_nobody.command.clone().expect("a command task")
    });
    let as_framework = command_task("as-framework", &agent.id, "cpus:1;mem:128");
    launch(
        &alice,
        vec![offer.id],
        vec![as_root, as_nobody, as_framework],
    );
    let error = next_update(&mut alice).await;
    assert_eq!(error.task_id.as_str(), "as-root");
    assert_eq!(error.state, TaskState::Error);
    assert_eq!(error.reason, Some(TaskStatusReason::TaskUnauthorized));
    let message = error.message.unwrap_or_default();
    assert!(
        message.contains("run_tasks") && message.contains("root"),
        "{message}"
    );
    for id in ["as-nobody", "as-framework"] {
        next_matching(&mut agent.events, "RunTask", |e| match e {
            AgentEvent::RunTask(_, t) if t.task_id.as_str() == id => Some(()),
            _ => None,
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_documents_show_each_principal_only_what_it_may_view() {
    let view = |object: &str| {
        json!([
            {"principals": {"values": ["alice"]}, object: {"values": ["alice-user"]}},
            {"principals": {"values": ["ops"]}, object: {"type": "ANY"}},
            {"principals": {"type": "ANY"}, object: {"type": "NONE"}}
        ])
    };
    let cluster = master_with(json!({
        "view_frameworks": view("users"),
        "view_tasks": view("users"),
        "view_executors": view("users"),
    }))
    .await;
    let addr = cluster.node.addr();
    let mut agent = cluster.add_agent("cpus:4;mem:1024").await;
    let mut alice = cluster
        .add_framework(framework("alice", "alice-user", "a"))
        .await;
    launch_one(&mut alice, &mut agent, "alice-task").await;
    let mut bob = cluster
        .add_framework(framework("bob", "bob-user", "b"))
        .await;
    launch_one(&mut bob, &mut agent, "bob-task").await;

    let framework_names = |doc: &Value, list: &str| -> Vec<String> {
        doc[list]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let user = f.get("user").or_else(|| f["framework_info"].get("user"));
                user.and_then(Value::as_str).unwrap_or("?").to_string()
            })
            .collect()
    };
    for (who, users, tasks) in [
        ("alice", vec!["alice-user"], 1),
        ("bob", vec![], 0),
        ("ops", vec!["alice-user", "bob-user"], 2),
    ] {
        let state = send(addr, "GET", "/master/state", who, String::new())
            .await
            .json();
        assert_eq!(
            framework_names(&state, "frameworks"),
            users,
            "{who}: /master/state"
        );
        let listed: usize = state["frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["tasks"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(listed, tasks, "{who}: tasks in /master/state");
        let frameworks = send(addr, "GET", "/master/frameworks", who, String::new())
            .await
            .json();
        assert_eq!(
            framework_names(&frameworks, "frameworks"),
            users,
            "{who}: /master/frameworks"
        );
        let list = send(addr, "GET", "/master/tasks", who, String::new())
            .await
            .json();
        assert_eq!(
            list["tasks"].as_array().map(Vec::len),
            Some(tasks),
            "{who}: /master/tasks"
        );

        let v1 = send(
            addr,
            "POST",
            "/api/v1",
            who,
            r#"{"type":"GET_STATE"}"#.into(),
        )
        .await
        .json();
        let s = &v1["get_state"];
        assert_eq!(
            framework_names(&s["get_frameworks"], "frameworks"),
            users,
            "{who}: GET_STATE"
        );
        assert_eq!(
            s["get_tasks"]["tasks"].as_array().map(Vec::len),
            Some(tasks),
            "{who}"
        );
        let v1 = send(
            addr,
            "POST",
            "/api/v1",
            who,
            r#"{"type":"GET_TASKS"}"#.into(),
        )
        .await
        .json();
        assert_eq!(
            v1["get_tasks"]["tasks"].as_array().map(Vec::len),
            Some(tasks),
            "{who}"
        );
        let v1 = send(
            addr,
            "POST",
            "/api/v1",
            who,
            r#"{"type":"GET_FRAMEWORKS"}"#.into(),
        )
        .await
        .json();
        assert_eq!(
            framework_names(&v1["get_frameworks"], "frameworks"),
            users,
            "{who}"
        );
    }
}
