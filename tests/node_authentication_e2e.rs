//! Authentication of agents and scheduler drivers to the master end to end, with real
//! `meso master`, `meso agent` and `meso execute` processes: a master with
//! `--authenticate-agents --authenticate-frameworks --credentials` (Mesos's text form)
//! registers the agent whose `--credential` is right, and neither the agent with a wrong
//! secret (its log says the master refused it; the master counts the failed exchange in
//! `master/authentication_failures`) nor the agent without a credential (dropped, counted in
//! `master/agent_authentication_failures`, with a log line naming it); neither secret shows
//! in `/flags`. `meso execute` with `--principal/--secret-file` runs its task to
//! TASK_FINISHED; without them it is refused with Mesos's framework error and the refusal
//! is counted in `master/framework_authentication_failures`. Also the start-up refusal of
//! `--authenticate-agents` without `--credentials`.
//!
//! Timeouts are hang guards only.

use std::path::Path;
use std::process::{Command, Stdio};

use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::{free_port, log_tail, meso_bin, spawn_agent, spawn_logged};
use serde_json::Value;

const AGENT_SECRET: &str = "agent-s3cret";
const FRAMEWORK_SECRET: &str = "fw-s3cret";

fn json(port: u16, path: &str) -> Option<Value> {
    serde_json::from_str(&try_get(port, path)?.text()).ok()
}

fn metric(port: u16, name: &str) -> f64 {
    json(port, "/metrics/snapshot")
        .and_then(|m| m[name].as_f64())
        .unwrap_or(-1.0)
}

/// Hostnames of the registered agents.
fn registered(port: u16) -> Vec<String> {
    json(port, "/master/slaves")
        .and_then(|s| {
            s["slaves"].as_array().map(|a| {
                a.iter()
                    .map(|x| x["hostname"].as_str().unwrap_or("").to_string())
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("test file");
    path.to_str().expect("utf-8 temp path").to_string()
}

/// `meso execute` to its exit: code and output.
fn execute(master: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "execute",
        "--master",
        master,
        "--name",
        "authn",
        "--command",
        "true",
        "--master-timeout",
        "60secs",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(meso_bin())
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("meso execute runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn only_agents_and_frameworks_that_authenticated_may_register() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let credentials = write(
        d,
        "credentials",
        &format!("agent {AGENT_SECRET}\nfw {FRAMEWORK_SECRET}\n"),
    );
    let right = write(
        d,
        "right-credential.json",
        &format!(r#"{{"principal":"agent","secret":"{AGENT_SECRET}"}}"#),
    );
    let wrong = write(d, "wrong-credential", "agent not-the-secret\n");
    let fw_secret = write(d, "fw.secret", &format!("{FRAMEWORK_SECRET}\n"));
    let port = free_port();
    let port_text = port.to_string();
    let _master = spawn_logged(
        &[
            "master",
            "--port",
            &port_text,
            "--authenticate-agents",
            "--authenticate-frameworks",
            "--credentials",
            &credentials,
        ],
        &d.join("master.log"),
    );
    let master = format!("127.0.0.1:{port}");
    let logs = || {
        format!(
            "master:\n{}\nwrong:\n{}\nnone:\n{}",
            log_tail(&d.join("master.log")),
            log_tail(&d.join("wrong.log")),
            log_tail(&d.join("none.log"))
        )
    };
    let agent = |name: &str, extra: &[&str]| {
        let mut args = vec!["--hostname", name, "--registration-backoff-factor", "200ms"];
        args.extend_from_slice(extra);
        spawn_agent(&master, d, name, "cpus:2;mem:512", &args)
    };
    let _right = agent("right", &["--credential", &right]);
    let _wrong = agent("wrong", &["--credential", &wrong]);
    let _none = agent("none", &[]);

    eventually("the agent with the right credential registers", || {
        registered(port) == ["right"]
    });
    eventually("the wrong secret is refused and counted", || {
        metric(port, "master/authentication_failures") >= 1.0
            && log_tail(&d.join("wrong.log")).contains("the master refused authentication")
    });
    eventually(
        "the agent without a credential is refused and counted",
        || metric(port, "master/agent_authentication_failures") >= 1.0,
    );
    let master_log = log_tail(&d.join("master.log"));
    assert!(
        master_log.contains("authentication failed") && master_log.contains("wrong secret"),
        "{}",
        logs()
    );
    assert!(
        master_log.contains("refusing registration of agent: it is not authenticated"),
        "{}",
        logs()
    );
    // Both refused agents have tried by now; still only the authenticated one is in.
    assert_eq!(registered(port), ["right"], "{}", logs());

    // Secrets are in no /flags.
    let flags = try_get(port, "/flags").expect("master /flags").text();
    assert!(
        flags.contains("\"authenticate_agents\":\"true\""),
        "{flags}"
    );
    let agent_port = json(port, "/master/slaves").expect("slaves")["slaves"][0]["port"]
        .as_u64()
        .expect("agent port") as u16;
    let agent_flags = try_get(agent_port, "/flags").expect("agent /flags").text();
    for text in [&flags, &agent_flags, &master_log] {
        assert!(
            !text.contains(AGENT_SECRET) && !text.contains(FRAMEWORK_SECRET),
            "a secret leaked: {text}"
        );
    }

    // A framework without credentials is refused with Mesos's error.
    let (code, out) = execute(&master, &[]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("is not authenticated"), "{out}\n{}", logs());
    assert!(metric(port, "master/framework_authentication_failures") >= 1.0);
    // With them it runs its task.
    let (code, out) = execute(&master, &["--principal", "fw", "--secret-file", &fw_secret]);
    assert_eq!(code, Some(0), "{out}\n{}", logs());
    assert!(out.contains("TASK_FINISHED"), "{out}");
}

#[test]
fn authenticating_agents_without_credentials_is_refused_at_start() {
    let out = Command::new(meso_bin())
        .args(["master", "--port", "0", "--authenticate-agents"])
        .output()
        .expect("meso master runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--authenticate-agents needs --credentials"),
        "{err}"
    );
}
