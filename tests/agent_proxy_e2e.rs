//! End-to-end: the leading master relays an agent's `/files/*`, `/containers` and `/state`
//! under `/agents/<agent id>/` (one origin for the web UI and the CLI), with real `meso
//! master` and `meso agent` processes and raw HTTP from the test. A task's stdout is read,
//! listed and downloaded through the master; an unknown agent is 404, an agent that is down
//! is 502 and one that does not answer is 504, each naming it; with HTTP authentication
//! the caller's credentials are checked by the master and passed on to the agent.
//!
//! Timeouts are hang guards only.

use std::net::SocketAddr;
use std::process::Command;

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::{get, request};
use meso_testkit::process::{free_port, meso_bin, spawn_agent, spawn_logged};
use serde_json::Value;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Runs `meso execute` with `command` to its exit; panics unless it finished.
fn execute(port: u16, name: &str, command: &str) {
    let out = Command::new(meso_bin())
        .args(["execute", "--master", &format!("127.0.0.1:{port}")])
        .args(["--name", name, "--command", command])
        .output()
        .expect("meso execute runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The sandbox of the task `name` (a command task: its executor id is its task id) as the
/// agent lays it out, with the agent's id, from the master's state and the relayed agent
/// state.
fn sandbox(port: u16, name: &str, headers: &[&str]) -> (String, String) {
    let state = request(addr(port), "GET", "/master/state", headers, b"").json();
    let agent = state["slaves"][0]["id"]
        .as_str()
        .expect("agent id")
        .to_string();
    let frameworks = state["completed_frameworks"]
        .as_array()
        .into_iter()
        .chain(state["frameworks"].as_array())
        .flatten();
    let framework = frameworks
        .filter(|f| f["name"] == name)
        .map(|f| f["id"].as_str().expect("framework id").to_string())
        .next()
        .expect("the task's framework in the master's state");
    let agent_state = request(
        addr(port),
        "GET",
        &format!("/agents/{agent}/state"),
        headers,
        b"",
    );
    assert_eq!(agent_state.status, 200, "{}", agent_state.text());
    let work_dir = agent_state.json()["flags"]["work_dir"]
        .as_str()
        .expect("the agent's work dir")
        .to_string();
    let dir =
        format!("{work_dir}/slaves/{agent}/frameworks/{framework}/executors/{name}/runs/latest");
    (agent, dir)
}

#[test]
fn the_master_relays_an_agents_files_and_containers_and_names_what_failed() {
    let mut cluster = Cluster::start();
    let port = cluster.master_port;
    execute(port, "proxied", "echo relayed-out; echo relayed-err >&2");
    let (agent, dir) = sandbox(port, "proxied", &[]);

    let listing = get(
        addr(port),
        &format!("/agents/{agent}/files/browse?path={dir}"),
    );
    assert_eq!(listing.status, 200, "{}", listing.text());
    let names: Vec<String> = listing
        .json()
        .as_array()
        .expect("a listing is an array")
        .iter()
        .map(|e| {
            e["path"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        names.contains(&"stdout".to_string()) && names.contains(&"stderr".to_string()),
        "{names:?}"
    );

    let read = get(
        addr(port),
        &format!("/agents/{agent}/files/read?path={dir}/stdout&offset=0"),
    );
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["data"], "relayed-out\n");
    // The same answer as the agent's own endpoint: the size with offset=-1.
    let size = get(
        addr(port),
        &format!("/agents/{agent}/files/read?path={dir}/stdout&offset=-1"),
    );
    assert_eq!(size.json(), serde_json::json!({"data": "", "offset": 12}));

    let download = get(
        addr(port),
        &format!("/agents/{agent}/files/download?path={dir}/stderr"),
    );
    assert_eq!(download.status, 200);
    assert_eq!(download.text(), "relayed-err\n");
    assert!(
        download
            .header("Content-Disposition")
            .is_some_and(|d| d.contains("stderr")),
        "{:?}",
        download.headers
    );

    let containers = get(addr(port), &format!("/agents/{agent}/containers"));
    assert_eq!(containers.status, 200, "{}", containers.text());
    assert!(containers.json().is_array());
    // `/master/agents/...` is the same route.
    let containers = get(addr(port), &format!("/master/agents/{agent}/containers"));
    assert_eq!(containers.status, 200, "{}", containers.text());

    // An agent's error passes through: a path outside every sandbox.
    let outside = get(
        addr(port),
        &format!("/agents/{agent}/files/read?path=/etc/passwd&offset=0"),
    );
    assert!(
        matches!(outside.status, 403 | 404),
        "{} {}",
        outside.status,
        outside.text()
    );

    let unknown = get(addr(port), "/agents/no-such-agent/containers");
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.text().contains("'no-such-agent'"),
        "{}",
        unknown.text()
    );
    let other = get(addr(port), &format!("/agents/{agent}/api/v1"));
    assert_eq!(other.status, 404);
    assert!(other.text().contains("/files/read"), "{}", other.text());

    let agent_port = get(addr(port), "/master/state").json()["slaves"][0]["pid"]
        .as_str()
        .and_then(|pid| pid.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok())
        .expect("the agent's port in its pid");

    // A stopped agent accepts the connection and never answers: 504 naming its address.
    cluster.agent().stop();
    let pid = cluster.agent().pid();
    // SIGSTOP reaches every thread asynchronously: wait until the kernel reports it stopped.
    eventually("every thread of the agent is stopped", || {
        all_threads_stopped(pid)
    });
    let silent = get(addr(port), &format!("/agents/{agent}/containers"));
    cluster.agent().cont();
    assert_eq!(silent.status, 504, "{}", silent.text());
    assert!(
        silent.text().contains(&format!("127.0.0.1:{agent_port}")),
        "{}",
        silent.text()
    );

    // A dead agent refuses the connection: 502 naming its address (until the master
    // marks it unreachable).
    cluster.agent().kill9();
    let down = get(addr(port), &format!("/agents/{agent}/containers"));
    assert!(
        matches!(down.status, 502 | 503),
        "{} {}",
        down.status,
        down.text()
    );
    assert!(down.text().contains(&agent), "{}", down.text());
    if down.status == 502 {
        assert!(
            down.text().contains(&format!("127.0.0.1:{agent_port}")),
            "{}",
            down.text()
        );
    }
}

/// Whether every thread of process `pid` is stopped (`T` in `/proc/<pid>/task/*/stat`).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    threads.flatten().all(|t| {
        std::fs::read_to_string(t.path().join("stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(") ")
                    .map(|(_, rest)| rest.starts_with('T'))
            })
            .unwrap_or(false)
    })
}

const CREDENTIALS: &str = r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#;
/// `ops:s3cret` in base64.
const RIGHT: &str = "Authorization: Basic b3BzOnMzY3JldA==";

#[test]
fn relayed_requests_carry_the_callers_credentials_to_the_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.json");
    std::fs::write(&credentials, CREDENTIALS).expect("credentials file");
    let credentials = credentials.to_str().expect("utf-8 temp path");
    let port = free_port();
    // The master's own endpoints are open here; the agent's are guarded, so what the agent
    // sees is what the caller sent.
    let _master = spawn_logged(
        &["master", "--port", &port.to_string()],
        &dir.path().join("master.log"),
    );
    let _agent = spawn_agent(
        &format!("127.0.0.1:{port}"),
        dir.path(),
        "agent",
        "cpus:2;mem:512;disk:100",
        &[
            "--authenticate-http-readonly",
            "--http-credentials",
            credentials,
        ],
    );
    eventually("the agent registered", || {
        meso_testkit::http::blocking::try_get(port, "/master/state")
            .is_some_and(|r| r.text().contains("\"activated_slaves\":1"))
    });
    let state = get(addr(port), "/master/state").json();
    let agent = state["slaves"][0]["id"]
        .as_str()
        .expect("agent id")
        .to_string();
    let path = format!("/agents/{agent}/containers");

    // The agent's refusal comes back as is, with its own realm.
    let anonymous = get(addr(port), &path);
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    assert_eq!(
        anonymous.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-agent-readonly\"")
    );
    let relayed = request(addr(port), "GET", &path, &[RIGHT], b"");
    assert_eq!(relayed.status, 200, "{}", relayed.text());
    let agent_state: Value = request(
        addr(port),
        "GET",
        &format!("/agents/{agent}/state"),
        &[RIGHT],
        b"",
    )
    .json();
    assert_eq!(agent_state["id"], agent.as_str());
}

#[test]
fn a_master_with_http_authentication_refuses_relayed_requests_without_credentials() {
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.json");
    std::fs::write(&credentials, CREDENTIALS).expect("credentials file");
    let credentials = credentials.to_str().expect("utf-8 temp path");
    let port = free_port();
    let _master = spawn_logged(
        &[
            "master",
            "--port",
            &port.to_string(),
            "--authenticate-http-readonly",
            "--credentials",
            credentials,
        ],
        &dir.path().join("master.log"),
    );
    let _agent = spawn_agent(
        &format!("127.0.0.1:{port}"),
        dir.path(),
        "agent",
        "cpus:2;mem:512;disk:100",
        &[],
    );
    eventually("the agent registered", || {
        meso_testkit::http::blocking::try_exchange(
            addr(port),
            &meso_testkit::http::request_bytes("GET", "/master/state", &[RIGHT], b""),
            std::time::Duration::from_secs(10),
        )
        .is_some_and(|r| r.text().contains("\"activated_slaves\":1"))
    });
    let state = request(addr(port), "GET", "/master/state", &[RIGHT], b"").json();
    let agent = state["slaves"][0]["id"]
        .as_str()
        .expect("agent id")
        .to_string();
    let path = format!("/agents/{agent}/containers");
    let anonymous = get(addr(port), &path);
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    assert_eq!(
        anonymous.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-master-readonly\"")
    );
    let relayed = request(addr(port), "GET", &path, &[RIGHT], b"");
    assert_eq!(relayed.status, 200, "{}", relayed.text());
}
