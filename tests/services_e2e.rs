//! End-to-end services framework: real `meso master`s (the framework runs beside the
//! leader) and three real `meso agent`s with attributes `rack` and `zone`, driven over
//! Marathon's `/v2` with plain HTTP. Placement constraints, a failed instance replaced, a
//! rolling update that keeps the minimum healthy, a leader kill during a deployment
//! finished by the new leader without relaunching what ran, 422s naming the field, and an
//! instance whose health check starts failing killed and replaced.
//! Timeouts are hang guards only.

use std::net::SocketAddr;
use std::time::Duration;

use meso_testkit::eventually::eventually_within;
use meso_testkit::http::blocking::request;
use meso_testkit::masters::Masters;
use meso_testkit::process::{spawn_agent, Proc};
use serde_json::{json, Value};

const MESO: &str = env!("CARGO_BIN_EXE_meso");
const GUARD: Duration = Duration::from_secs(120);

/// (hostname, attributes) of the three agents: racks r1, r2, r2; zones west, east, west.
const AGENTS: [(&str, &str); 3] = [
    ("svc-h1", "rack:r1;zone:west"),
    ("svc-h2", "rack:r2;zone:east"),
    ("svc-h3", "rack:r2;zone:west"),
];

fn at(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A `/v2` call: status and JSON body (`Null` when empty).
fn v2(port: u16, method: &str, path: &str, body: &str) -> (u16, Value) {
    let r = request(
        at(port),
        method,
        path,
        &["Content-Type: application/json", "Accept: application/json"],
        body.as_bytes(),
    );
    let value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, value)
}

struct Cluster {
    masters: Masters,
    agents: Vec<Proc>,
    /// The agents' host ports, a range of 100 of this cluster's own, so a task that binds
    /// its port never meets one of another test's tasks.
    ports: (u16, u16),
    /// The masters' and agents' work dirs and logs (removed after the executors ended).
    dir: tempfile::TempDir,
}

impl Drop for Cluster {
    /// The framework checkpoints, so its executors outlive the killed agents: end them.
    fn drop(&mut self) {
        self.agents.clear();
        meso_testkit::executors::end_executors_under(self.masters.dir());
    }
}

impl Cluster {
    fn start(n_masters: usize) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let masters = Masters::start(MESO.as_ref(), dir.path(), n_masters, &[]);
        let leader = masters.wait_leader(GUARD);
        // 20000-29999, below the kernel's ephemeral ports where `free_port` picks.
        let base = 20_000 + (meso_testkit::process::free_port() % 100) * 100;
        let mut cluster = Cluster {
            masters,
            agents: Vec::new(),
            ports: (base, base + 99),
            dir,
        };
        for (host, attributes) in AGENTS {
            cluster.agent(host, attributes);
        }
        let port = cluster.masters.ports[leader];
        // The services framework registers with the master when the first app arrives: until
        // then a cluster that runs no service shows no framework of its own.
        eventually_within("three agents and the services API", GUARD, || {
            let (status, _) = v2(port, "GET", "/v2/info", "");
            let state = request(at(port), "GET", "/master/state", &[], b"").json();
            (status == 200
                && state["frameworks"].as_array().is_some_and(|f| f.is_empty())
                && state["activated_slaves"] == json!(3))
            .then_some(())
        });
        cluster
    }

    fn agent(&mut self, host: &str, attributes: &str) {
        let dir = self.masters.dir().to_path_buf();
        self.agents.push(spawn_agent(
            &self.masters.addresses(),
            &dir,
            host,
            &format!(
                "cpus:2;mem:1024;disk:100;ports:[{}-{}]",
                self.ports.0, self.ports.1
            ),
            &["--hostname", host, "--attributes", attributes],
        ));
    }

    fn port(&self) -> u16 {
        self.masters.ports[self.masters.wait_leader(GUARD)]
    }
}

/// The app's tasks as `/v2/apps/{id}/tasks` lists them.
fn tasks(port: u16, app: &str) -> Vec<Value> {
    let (status, body) = v2(port, "GET", &format!("/v2/apps{app}/tasks"), "");
    assert_eq!(status, 200, "{body}");
    body["tasks"].as_array().cloned().unwrap_or_default()
}

fn running(tasks: &[Value]) -> Vec<&Value> {
    tasks
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING")
        .collect()
}

/// Waits until `app` has `n` running tasks and no deployment; returns them.
fn wait_deployed(port: u16, app: &str, n: usize) -> Vec<Value> {
    eventually_within(&format!("{app} deployed with {n} running"), GUARD, || {
        let (_, body) = v2(port, "GET", &format!("/v2/apps{app}"), "");
        let app_info = &body["app"];
        let t = tasks(port, app);
        (app_info["deployments"] == json!([]) && running(&t).len() == n && t.len() == n)
            .then_some(t)
    })
}

fn hosts(tasks: &[Value]) -> Vec<String> {
    let mut h: Vec<String> = tasks
        .iter()
        .map(|t| t["host"].as_str().unwrap().to_string())
        .collect();
    h.sort();
    h
}

fn create(port: u16, app: Value) {
    let (status, body) = v2(port, "POST", "/v2/apps", &app.to_string());
    assert_eq!(status, 201, "{body}");
}

#[test]
fn constraints_spread_balance_and_pin_and_bad_apps_get_422_naming_the_field() {
    let cluster = Cluster::start(1);
    let port = cluster.port();
    let (status, pong) = (
        request(at(port), "GET", "/ping", &[], b"").status,
        request(at(port), "GET", "/ping", &[], b"").text(),
    );
    assert_eq!((status, pong.as_str()), (200, "pong"));

    create(
        port,
        json!({"id": "/unique", "cmd": "sleep 1000", "instances": 3, "cpus": 0.1, "mem": 16,
        "constraints": [["hostname", "UNIQUE"]]}),
    );
    create(
        port,
        json!({"id": "/grouped", "cmd": "sleep 1000", "instances": 4, "cpus": 0.1, "mem": 16,
        "constraints": [["rack", "GROUP_BY"]]}),
    );
    create(
        port,
        json!({"id": "/pinned", "cmd": "sleep 1000", "instances": 4, "cpus": 0.1, "mem": 16,
        "constraints": [["zone", "LIKE", "west"]]}),
    );
    let unique = wait_deployed(port, "/unique", 3);
    assert_eq!(hosts(&unique), ["svc-h1", "svc-h2", "svc-h3"]);
    let grouped = wait_deployed(port, "/grouped", 4);
    let on_r1 = grouped.iter().filter(|t| t["host"] == "svc-h1").count();
    assert_eq!(
        on_r1,
        2,
        "GROUP_BY rack balances 2/2: {:?}",
        hosts(&grouped)
    );
    let pinned = wait_deployed(port, "/pinned", 4);
    assert!(
        pinned.iter().all(|t| t["host"] != "svc-h2"),
        "LIKE zone:west keeps off the east agent: {:?}",
        hosts(&pinned)
    );
    for t in &pinned {
        assert!(t["ports"][0]
            .as_u64()
            .is_some_and(|p| (cluster.ports.0..=cluster.ports.1).contains(&(p as u16))));
    }

    let (status, body) = v2(
        port,
        "POST",
        "/v2/apps",
        r#"{"id":"/bad","cmd":"x","cpus":"two"}"#,
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"][0]["path"], "/cpus", "{body}");
    let (status, body) = v2(
        port,
        "POST",
        "/v2/apps",
        r#"{"id":"/bad","cmd":"x","constraints":[["rack","GROUP_BY"],["zone","NEAR","x"]]}"#,
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"][0]["path"], "/constraints(1)", "{body}");
    let (status, body) = v2(port, "POST", "/v2/apps", r#"{"id":"/Bad","cmd":"x"}"#);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"][0]["path"], "/id", "{body}");
    let (status, _) = v2(port, "GET", "/v2/apps/bad", "");
    assert_eq!(status, 404, "nothing half-created");

    let (status, body) = v2(port, "DELETE", "/v2/apps/pinned", "");
    assert_eq!(status, 200, "{body}");
    eventually_within(
        "the deleted app's tasks are gone from the master",
        GUARD,
        || {
            let state = request(at(port), "GET", "/master/state", &[], b"").json();
            let names: Vec<String> = state["frameworks"][0]["tasks"]
                .as_array()?
                .iter()
                .filter(|t| t["state"] == "TASK_RUNNING")
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .collect();
            names
                .iter()
                .all(|n| !n.starts_with("pinned."))
                .then_some(())
        },
    );
}

#[test]
fn a_failed_instance_is_replaced() {
    let cluster = Cluster::start(1);
    let port = cluster.port();
    create(
        port,
        json!({"id": "/flaky", "cmd": "sleep 2; exit 3", "instances": 1, "cpus": 0.1,
        "mem": 16, "backoffSeconds": 1, "backoffFactor": 1.0}),
    );
    let first = eventually_within("the first task runs", GUARD, || {
        tasks(port, "/flaky")
            .first()
            .and_then(|t| t["id"].as_str().map(str::to_string))
    });
    assert!(first.ends_with("._app.1"), "{first}");
    let instance = first.trim_end_matches("._app.1").to_string();
    let failure = eventually_within(
        "the failure is recorded and the instance relaunched",
        GUARD,
        || {
            let (_, body) = v2(port, "GET", "/v2/apps/flaky", "");
            let failure = body["app"]["lastTaskFailure"].clone();
            let relaunched = tasks(port, "/flaky").iter().any(|t| {
                t["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(&instance) && id != first)
            });
            (failure.is_object() && relaunched).then_some(failure)
        },
    );
    assert_eq!(failure["taskId"], first.as_str());
    assert_eq!(failure["state"], "TASK_FAILED");
}

/// The tasks that run and whose health checks pass.
fn healthy(tasks: &[Value]) -> usize {
    tasks
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING" && t["healthCheckResults"][0]["alive"] == true)
        .count()
}

#[test]
fn a_rolling_update_never_drops_below_the_minimum_healthy() {
    let cluster = Cluster::start(1);
    let port = cluster.port();
    // A health check that passes: an instance counts once its first check did.
    let check = json!([{"protocol": "COMMAND", "command": {"value": "true"},
        "delaySeconds": 0, "intervalSeconds": 1, "gracePeriodSeconds": 60}]);
    create(
        port,
        json!({"id": "/roll", "cmd": "sleep 1000", "instances": 4, "cpus": 0.1, "mem": 16,
        "healthChecks": check,
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}}),
    );
    let before = wait_deployed(port, "/roll", 4);
    assert_eq!(healthy(&before), 4, "deployed means healthy: {before:?}");
    let (status, body) = v2(port, "PUT", "/v2/apps/roll", r#"{"cmd":"sleep 2000"}"#);
    assert_eq!(status, 200, "{body}");
    let version = body["version"].as_str().unwrap().to_string();
    let mut observed = Vec::new();
    eventually_within("the rolling update finishes", GUARD, || {
        let t = tasks(port, "/roll");
        let up = healthy(&t);
        observed.push(up);
        assert!(
            up >= 2,
            "healthy instances dropped to {up} during the update (seen {observed:?})"
        );
        let (_, app) = v2(port, "GET", "/v2/apps/roll", "");
        let done = app["app"]["deployments"] == json!([])
            && up == 4
            && t.len() == 4
            && t.iter().all(|x| x["version"] == version.as_str());
        done.then_some(())
    });
    let after = tasks(port, "/roll");
    for t in &before {
        assert!(
            after.iter().all(|a| a["id"] != t["id"]),
            "every old task replaced"
        );
    }
}

#[test]
fn a_deployment_cut_by_a_leader_kill_finishes_on_the_new_leader_without_relaunches() {
    let mut cluster = Cluster::start(3);
    let port = cluster.port();
    create(
        port,
        json!({"id": "/prod/web", "cmd": "sleep 1000", "instances": 3, "cpus": 0.1,
        "mem": 16, "constraints": [["hostname", "UNIQUE"]]}),
    );
    let before = wait_deployed(port, "/prod/web", 3);
    // A fourth instance cannot be placed until a fourth host joins: the deployment stays.
    let (status, body) = v2(port, "PUT", "/v2/apps/prod/web", r#"{"instances":4}"#);
    assert_eq!(status, 200, "{body}");
    let deployment = body["deploymentId"].as_str().unwrap().to_string();
    eventually_within("the scale waits in the queue", GUARD, || {
        let (_, q) = v2(port, "GET", "/v2/queue", "");
        (q["queue"][0]["count"] == json!(1)).then_some(())
    });
    let old = cluster.masters.wait_leader(GUARD);
    cluster.masters.kill9(old);
    let new_port = eventually_within("a new leader with the services framework", GUARD, || {
        let i = cluster.masters.leader_now().filter(|&i| i != old)?;
        let p = cluster.masters.ports[i];
        let (status, d) = v2(p, "GET", "/v2/deployments", "");
        (status == 200 && d[0]["id"] == deployment.as_str()).then_some(p)
    });
    cluster.agent("svc-h4", "rack:r3;zone:east");
    let after = wait_deployed(new_port, "/prod/web", 4);
    assert_eq!(hosts(&after), ["svc-h1", "svc-h2", "svc-h3", "svc-h4"]);
    for t in &before {
        assert!(
            after
                .iter()
                .any(|a| a["id"] == t["id"] && a["state"] == "TASK_RUNNING"),
            "task {} kept running and was adopted, not relaunched",
            t["id"]
        );
    }
    let (_, d) = v2(new_port, "GET", "/v2/deployments", "");
    assert_eq!(d, json!([]));
}

/// Marathon's `DELETE /v2/leader`: the leading master hands its Raft leadership (and with
/// it the services framework) to another master, which goes on with the same apps and
/// tasks; the old master stays up as a follower.
#[test]
fn delete_v2_leader_hands_the_framework_to_another_master_without_relaunches() {
    let cluster = Cluster::start(3);
    let port = cluster.port();
    create(
        port,
        json!({"id": "/prod/api", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1, "mem": 16}),
    );
    let before = wait_deployed(port, "/prod/api", 2);
    let old = cluster.masters.wait_leader(GUARD);
    let (status, body) = v2(cluster.masters.ports[old], "DELETE", "/v2/leader", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"message": "Leadership abdicated"}));
    let new_port = eventually_within("another master leads the services framework", GUARD, || {
        let i = cluster.masters.leader_now().filter(|&i| i != old)?;
        let p = cluster.masters.ports[i];
        let (status, l) = v2(p, "GET", "/v2/leader", "");
        (status == 200 && l["leader"] == json!(format!("127.0.0.1:{p}"))).then_some(p)
    });
    let after = wait_deployed(new_port, "/prod/api", 2);
    for t in &before {
        assert!(
            after.iter().any(|a| a["id"] == t["id"]),
            "task {} was adopted by the new leader, not relaunched",
            t["id"]
        );
    }
    // The old master is a follower now, up and answering.
    let r = request(at(cluster.masters.ports[old]), "GET", "/health", &[], b"");
    assert_eq!(r.status, 200);
    assert!(!cluster.masters.serves_as_leader(old));
}

/// Maintenance: when the operator schedules a window for the machine of one of an app's
/// hosts, the master's inverse offers make the framework start a replacement on another
/// host and kill the instance on that host only once the replacement runs, before the
/// machine goes down.
#[test]
fn an_instance_on_a_machine_scheduled_for_maintenance_is_replaced_first() {
    let cluster = Cluster::start(1);
    let port = cluster.port();
    create(
        port,
        json!({"id": "/prod/cache", "cmd": "sleep 1000", "instances": 2, "cpus": 0.1,
        "mem": 16, "constraints": [["hostname", "UNIQUE"]]}),
    );
    let before = wait_deployed(port, "/prod/cache", 2);
    let leaving = before[0]["host"].as_str().expect("a host").to_string();
    let staying = before[1]["host"].as_str().expect("a host").to_string();
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as i64;
    let schedule = json!({"windows": [{
        "machine_ids": [{"hostname": leaving, "ip": "127.0.0.1"}],
        "unavailability": {"start": {"nanoseconds": now_ns + 3_600_000_000_000i64}}}]});
    let r = request(
        at(port),
        "POST",
        "/maintenance/schedule",
        &["Content-Type: application/json"],
        schedule.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let after = eventually_within("the instance moved off the leaving host", GUARD, || {
        let t = tasks(port, "/prod/cache");
        let h = hosts(&t);
        (t.len() == 2 && running(&t).len() == 2 && !h.contains(&leaving)).then_some(t)
    });
    let h = hosts(&after);
    assert!(h.contains(&staying), "the other instance stayed: {h:?}");
    assert!(
        after.iter().any(|t| t["id"] == before[1]["id"]),
        "the instance on the staying host was not touched"
    );
    // The old instance was killed by the framework, not lost with its machine: the
    // machine is still up (only scheduled), and the agent still registered.
    let state = request(at(port), "GET", "/master/state", &[], b"").json();
    assert_eq!(state["activated_slaves"], json!(3), "{state}");
}

/// Reads the server-sent events of `stream` until one of type `kind` arrives; returns its
/// data.
fn sse_until(stream: &mut std::io::BufReader<std::net::TcpStream>, kind: &str) -> Value {
    use std::io::BufRead;
    let mut current = String::new();
    loop {
        let mut line = String::new();
        let n = stream.read_line(&mut line).expect("read the event stream");
        assert!(n > 0, "the event stream ended before {kind}");
        let line = line.trim_end();
        if let Some(t) = line.strip_prefix("event: ") {
            current = t.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            if current == kind {
                return serde_json::from_str(data).expect("event data is JSON");
            }
        }
    }
}

#[test]
fn the_event_stream_tells_of_api_calls_status_updates_and_deployments() {
    use std::io::Write;
    let cluster = Cluster::start(1);
    let port = cluster.port();
    let mut tcp = std::net::TcpStream::connect(at(port)).expect("connect");
    tcp.set_read_timeout(Some(GUARD)).expect("hang guard");
    write!(
        tcp,
        "GET /v2/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("subscribe");
    let mut events = std::io::BufReader::new(tcp);
    let attached = sse_until(&mut events, "event_stream_attached");
    assert!(attached["timestamp"].as_str().unwrap().ends_with('Z'));
    create(
        port,
        json!({"id": "/evented", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16}),
    );
    let posted = sse_until(&mut events, "api_post_event");
    assert_eq!(posted["appDefinition"]["id"], "/evented");
    let running = sse_until(&mut events, "status_update_event");
    assert_eq!(running["appId"], "/evented");
    let done = sse_until(&mut events, "deployment_success");
    assert!(done["plan"]["original"].is_object() && done["plan"]["target"].is_object());
}

/// `(tasksHealthy, tasksUnhealthy, task ids)` of `app` as `/v2/apps/{id}` shows it.
fn health_of(port: u16, app: &str) -> (u64, u64, Vec<String>) {
    let (status, body) = v2(port, "GET", &format!("/v2/apps{app}"), "");
    assert_eq!(status, 200, "{body}");
    let a = &body["app"];
    let ids = a["tasks"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (
        a["tasksHealthy"].as_u64().unwrap_or(0),
        a["tasksUnhealthy"].as_u64().unwrap_or(0),
        ids,
    )
}

#[test]
fn a_failing_health_check_gets_the_instance_killed_and_replaced() {
    let cluster = Cluster::start(1);
    let dir = &cluster.dir;
    let port = cluster.port();
    // The check fails while this file exists; the first task's grace period ends with its
    // first success, the replacement's (60 s) covers the failures until the file goes.
    let sick = dir.path().join("sick");
    create(
        port,
        json!({"id": "/checked", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 16,
        "backoffSeconds": 1, "backoffFactor": 1.0,
        "healthChecks": [{"protocol": "COMMAND",
            "command": {"value": format!("test ! -e {}", sick.display())},
            "delaySeconds": 0, "intervalSeconds": 2, "timeoutSeconds": 10,
            "gracePeriodSeconds": 60, "maxConsecutiveFailures": 4}]}),
    );
    let first = eventually_within("the first task is healthy", GUARD, || {
        let (healthy, unhealthy, ids) = health_of(port, "/checked");
        (healthy == 1 && unhealthy == 0 && ids.len() == 1).then(|| ids[0].clone())
    });
    assert!(first.ends_with("._app.1"), "{first}");
    let instance = first.trim_end_matches("._app.1").to_string();
    // The app's deployment finished only once the instance was healthy.
    let (_, app) = v2(port, "GET", "/v2/apps/checked", "");
    assert_eq!(app["app"]["deployments"], json!([]));

    std::fs::write(&sick, b"").expect("make the check fail");
    // Four consecutive failures two seconds apart: the task shows unhealthy for about six
    // seconds before the executor kills it.
    let app = eventually_within("the task is reported unhealthy", GUARD, || {
        let (_, body) = v2(port, "GET", "/v2/apps/checked", "");
        let a = &body["app"];
        let unhealthy = a["tasksHealthy"] == 0
            && a["tasksUnhealthy"] == 1
            && a["tasks"].as_array().map(Vec::len) == Some(1)
            && a["tasks"][0]["id"] == first.as_str();
        unhealthy.then(|| a.clone())
    });
    assert_eq!(
        app["tasks"][0]["healthCheckResults"][0]["alive"], false,
        "{app}"
    );
    let second = eventually_within(
        "the unhealthy task is killed and its instance relaunched",
        GUARD,
        || {
            let next = tasks(port, "/checked")
                .iter()
                .filter(|t| t["state"] == "TASK_RUNNING")
                .filter_map(|t| t["id"].as_str())
                .find(|id| id.starts_with(&instance) && *id != first)?
                .to_string();
            Some(next)
        },
    );
    assert!(
        second.ends_with("._app.2"),
        "same instance, next run: {second}"
    );
    let (_, app) = v2(port, "GET", "/v2/apps/checked", "");
    let failure = &app["app"]["lastTaskFailure"];
    assert_eq!(failure["taskId"], first.as_str(), "{failure}");
    assert_eq!(failure["state"], "TASK_KILLED", "{failure}");
    let completed = request(
        at(port),
        "GET",
        "/master/tasks?order=asc&limit=100",
        &[],
        b"",
    )
    .json();
    let killed = completed["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|x| x["id"] == first.as_str()).cloned())
        .unwrap_or(Value::Null);
    assert_eq!(killed["state"], "TASK_KILLED", "{completed}");

    std::fs::remove_file(&sick).expect("make the check pass again");
    eventually_within("the replacement is healthy", GUARD, || {
        let (healthy, unhealthy, ids) = health_of(port, "/checked");
        (healthy == 1 && unhealthy == 0 && ids == [second.clone()]).then_some(())
    });
}

#[test]
fn the_services_api_asks_for_the_masters_credentials_where_the_operator_api_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.json");
    std::fs::write(
        &credentials,
        r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#,
    )
    .expect("credentials file");
    let masters = Masters::start(
        MESO.as_ref(),
        dir.path(),
        1,
        &[
            "--authenticate-http-readwrite",
            "--credentials",
            credentials.to_str().expect("utf-8 temp path"),
        ],
    );
    let port = masters.ports[masters.wait_leader(GUARD)];
    let app = r#"{"id":"/guarded","cmd":"sleep 1000","instances":0}"#;
    let post = |authorization: Option<&str>| {
        let auth = authorization.map(|a| format!("Authorization: {a}"));
        let mut headers = vec!["Content-Type: application/json", "Accept: application/json"];
        headers.extend(auth.as_deref());
        request(at(port), "POST", "/v2/apps", &headers, app.as_bytes())
    };
    // Reads are in the read-only realm, which this master leaves open.
    eventually_within("the services API answers", GUARD, || {
        (v2(port, "GET", "/v2/apps", "").0 == 200).then_some(())
    });
    let refused = post(None);
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert!(
        refused.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("Authorization")),
        "a Marathon error body saying why: {}",
        refused.text()
    );
    assert_eq!(
        refused.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-master-readwrite\"")
    );
    // `ops:wrong`, then `ops:s3cret`.
    assert_eq!(post(Some("Basic b3BzOndyb25n")).status, 401);
    let (_, apps) = v2(port, "GET", "/v2/apps", "");
    assert_eq!(apps["apps"], json!([]), "nothing was created");
    let created = post(Some("Basic b3BzOnMzY3JldA=="));
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(request(at(port), "GET", "/ping", &[], b"").status, 200);
    let metrics = request(at(port), "GET", "/metrics/snapshot", &[], b"").json();
    assert_eq!(
        metrics["services/http_authentication_failures"], 1.0,
        "only the wrong secret counts: {metrics}"
    );
}

#[test]
fn a_deployment_waits_for_the_readiness_check_of_its_new_instance() {
    let cluster = Cluster::start(1);
    let dir = &cluster.dir;
    let port = cluster.port();
    // The task serves this directory; `/ready` answers 404 until the file exists.
    let www = dir.path().join("www");
    std::fs::create_dir(&www).expect("served directory");
    create(
        port,
        json!({"id": "/warming", "instances": 1, "cpus": 0.1, "mem": 32,
        "cmd": format!("cd {} && exec python3 -m http.server $PORT0 --bind 127.0.0.1", www.display()),
        "portDefinitions": [{"port": 0, "name": "http-api"}],
        "readinessChecks": [{"path": "/ready", "intervalSeconds": 2, "timeoutSeconds": 1}]}),
    );
    let (_, app) = v2(port, "GET", "/v2/apps/warming", "");
    assert_eq!(
        app["app"]["readinessChecks"][0]["httpStatusCodesForReady"],
        json!([200]),
        "defaults filled in: {app}"
    );
    // Running, asked, not ready: the deployment stays and says why.
    let result = eventually_within("the task is asked and is not ready", GUARD, || {
        let (_, d) = v2(port, "GET", "/v2/deployments", "");
        let r = d[0]["currentActions"][0]["readinessCheckResults"][0].clone();
        if r["lastResponse"]["status"] == 404 {
            Ok(r)
        } else {
            let (_, tasks) = v2(port, "GET", "/v2/apps/warming/tasks", "");
            Err(format!("deployments {d}, tasks {tasks}"))
        }
    });
    assert_eq!(result["ready"], false, "{result}");
    assert_eq!(result["name"], "readinessCheck", "{result}");
    let (_, app) = v2(port, "GET", "/v2/apps/warming?embed=app.readiness", "");
    assert_eq!(app["app"]["tasksRunning"], 1, "{app}");
    assert_eq!(app["app"]["deployments"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app["app"]["readinessCheckResults"][0]["ready"], false,
        "{app}"
    );

    std::fs::write(www.join("ready"), b"ok").expect("the task becomes ready");
    eventually_within(
        "the deployment finishes once the task is ready",
        GUARD,
        || {
            let (_, d) = v2(port, "GET", "/v2/deployments", "");
            if d == json!([]) {
                Ok(())
            } else {
                Err(format!("deployments {d}"))
            }
        },
    );
    let (_, app) = v2(port, "GET", "/v2/apps/warming", "");
    assert_eq!(app["app"]["tasksRunning"], 1, "{app}");

    let (status, body) = v2(
        port,
        "POST",
        "/v2/apps",
        r#"{"id":"/bad-ready","cmd":"x","readinessChecks":[{"portName":"web"}]}"#,
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["details"][0]["path"], "/readinessChecks(0)/portName",
        "{body}"
    );
}
