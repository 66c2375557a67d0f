//! A cluster over TLS with real processes: a `meso master` and a `meso agent` with
//! certificates from one CA and `--ssl-require-client-cert`, and `meso execute` with its
//! own certificate, run a task end to end (agent to master, master to agent, driver to
//! master, master to driver, and the executor to its agent are all TLS). A plain client is
//! told to use TLS, and a client certificate from another CA is refused; with
//! `--ssl-support-downgrade` a master answers plain HTTP and TLS alike, and a TLS agent
//! registers. Timeouts are hang guards only.

use std::process::Command;
use std::time::Duration;

use meso_testkit::certs::{get, Ca};
use meso_testkit::eventually::eventually_within;
use meso_testkit::process::{free_port, spawn_agent, spawn_logged, wait_exit, Proc};
use serde_json::Value;

const GUARD: Duration = Duration::from_secs(120);

fn master(dir: &std::path::Path, port: u16, tls: &[String], extra: &[&str], name: &str) -> Proc {
    let mut args: Vec<String> = vec!["master".into(), "--port".into(), port.to_string()];
    args.extend(tls.iter().cloned());
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spawn_logged(&args, &dir.join(format!("{name}.log")))
}

fn registered_agents(port: u16, tls: Option<&libprocess::Tls>) -> Option<usize> {
    let (status, body) = get(port, "/master/state", tls).ok()?;
    let state: Value = serde_json::from_str(&body).ok()?;
    (status == 200).then(|| state["slaves"].as_array().map_or(0, Vec::len))
}

#[test]
fn a_task_runs_end_to_end_over_tls_with_client_certificates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("meso test CA");
    let master_files = ca.leaf_files(dir.path(), "master");
    let agent_files = ca.leaf_files(dir.path(), "agent");
    let framework_files = ca.leaf_files(dir.path(), "framework");
    let operator = ca.leaf_files(dir.path(), "operator").client();
    let intruder = Ca::new("another CA").leaf_files(dir.path(), "intruder");
    // Trusts our CA, presents a certificate of the other.
    let intruder =
        libprocess::Tls::client_from_files(&master_files.ca, Some((&intruder.cert, &intruder.key)))
            .unwrap();

    let port = free_port();
    let _master = master(
        dir.path(),
        port,
        &master_files.flags(),
        &["--ssl-require-client-cert"],
        "master",
    );
    let master_addr = format!("127.0.0.1:{port}");
    let agent_tls: Vec<String> = agent_files.flags();
    let agent_tls: Vec<&str> = agent_tls.iter().map(String::as_str).collect();
    let _agent = spawn_agent(
        &master_addr,
        dir.path(),
        "agent",
        "cpus:1;mem:256",
        &agent_tls,
    );
    eventually_within("the agent registered over TLS", GUARD, || {
        (registered_agents(port, Some(&operator))? == 1).then_some(())
    });

    let mut execute = Command::new(meso_testkit::process::meso_bin())
        .args(["execute", "--master", &master_addr, "--name", "over-tls"])
        .args(["--command", "echo hello over tls"])
        .args(framework_files.flags())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("execute.log")).unwrap())
        .spawn()
        .expect("meso execute starts");
    let status = wait_exit("meso execute over TLS", &mut execute);
    assert!(
        status.success(),
        "the task finished over TLS: {status:?}\n{}",
        meso_testkit::process::logs_in(dir.path(), &["execute", "master", "agent"])
    );
    let (_, body) = get(port, "/master/tasks", Some(&operator)).expect("tasks over TLS");
    let tasks: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tasks["tasks"][0]["state"], "TASK_FINISHED", "{tasks}");

    // A plain client is told to use TLS; another CA's client certificate is refused.
    let (status, body) = get(port, "/master/state", None).expect("a plain answer");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("requires TLS"), "{body}");
    assert!(get(port, "/master/state", Some(&intruder)).is_err());
    // Without a client certificate while the master requires one: refused too.
    let anonymous = libprocess::Tls::client_from_files(&master_files.ca, None).unwrap();
    assert!(get(port, "/master/state", Some(&anonymous)).is_err());
}

#[test]
fn downgrade_serves_plain_clients_beside_tls_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("meso test CA");
    let master_files = ca.leaf_files(dir.path(), "master");
    let operator = ca.leaf_files(dir.path(), "operator").client();
    let port = free_port();
    let _master = master(
        dir.path(),
        port,
        &master_files.flags(),
        &["--ssl-support-downgrade"],
        "master",
    );
    eventually_within("the master answers plain HTTP", GUARD, || {
        get(port, "/master/state", None)
            .ok()
            .filter(|(s, _)| *s == 200)
    });
    assert_eq!(get(port, "/master/state", Some(&operator)).unwrap().0, 200);
    // TLS agents register beside the plain clients.
    let master_addr = format!("127.0.0.1:{port}");
    let agent_files = ca.leaf_files(dir.path(), "agent");
    let tls: Vec<String> = agent_files.flags();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    let _agent = spawn_agent(&master_addr, dir.path(), "agent", "cpus:1;mem:256", &tls);
    eventually_within(
        "a TLS agent registered with the downgrading master",
        GUARD,
        || (registered_agents(port, None)? == 1).then_some(()),
    );
}
