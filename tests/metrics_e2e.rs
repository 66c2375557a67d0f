//! End-to-end: `/metrics` of a real `meso master` and a real `meso agent`, parsed whole by
//! Prometheus's own Python client (`prometheus_client`'s text parser, the reference
//! implementation of the format, installed by `.ci/run` with pip), holds every key of the
//! same node's `/metrics/snapshot` as a sample of a typed, documented family with the same
//! value, and no key is left without a family of its own (`meso_unmapped`): the tidy check
//! that a new snapshot key also gets a Prometheus family.
//!
//! The cluster has weights, a quota and a running task, so that the
//! per-role allocator and quota keys are there. Without python3 or prometheus_client the
//! tests fail saying what to install (they never pass silently). Timeouts are hang guards.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use meso_api::prometheus::{sample, Kind};
use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::{call, request, try_get};
use meso_testkit::masters::serves_as_leader_on;
use meso_testkit::process::{free_port, spawn_agent, spawn_logged};
use meso_testkit::python_clients::python3;
use serde_json::Value;

/// Parses Prometheus text with `prometheus_client` and prints the families as JSON.
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [[s.name, s.labels, s.value] for s in f.samples]})
json.dump(out, sys.stdout)
"#;

/// The families of `text` as `prometheus_client` reads them.
fn parse(text: &str) -> Vec<Value> {
    let python = python3();
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'prometheus_client'"),
        "SKIPPED FOR REAL: Python's prometheus_client is not installed; this test parses \
         /metrics with it (`python3 -m pip install prometheus_client`; CI installs it)"
    );
    assert!(
        out.status.success(),
        "prometheus_client refused the text: {stderr}\n{text}"
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("the parser's JSON")
}

/// Checks the node at `port`: every snapshot key as a sample with the same value. `Err`
/// names the first key whose value moved between the two reads (a counter ticking), to
/// try again; a missing family or a bad type fails at once.
fn check_node(port: u16) -> Result<usize, String> {
    let text = try_get(port, "/metrics").expect("/metrics answers");
    assert_eq!(text.status, 200, "{}", text.text());
    assert!(
        text.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        text.header("content-type")
    );
    let text = text.text();
    let snapshot = try_get(port, "/metrics/snapshot").expect("snapshot").json();
    let snapshot = snapshot.as_object().expect("the snapshot is an object");
    let families = parse(&text);
    // Each family once, with a type and a HELP.
    let mut seen = BTreeMap::new();
    for f in &families {
        let name = f["name"].as_str().unwrap();
        assert!(seen.insert(name.to_string(), ()).is_none(), "{name} twice");
        assert!(
            !f["help"].as_str().unwrap_or("").is_empty(),
            "{name} has no HELP"
        );
        assert!(
            ["counter", "gauge", "summary"].contains(&f["type"].as_str().unwrap()),
            "{f}"
        );
    }
    assert_eq!(
        text.lines().filter(|l| l.starts_with("# TYPE ")).count(),
        families.len(),
        "{text}"
    );
    // Every snapshot key: a family of its own, and the same value.
    let mut checked = 0;
    for (key, value) in snapshot {
        let value = value.as_f64().unwrap_or_else(|| panic!("{key}: {value}"));
        let s = sample(key, value);
        assert!(
            s.mapped,
            "snapshot key {key:?} has no Prometheus family (meso_unmapped)"
        );
        // prometheus_client names a counter's family without `_total` (its samples keep it).
        let parsed_name = match s.kind {
            Kind::Counter => s.family.strip_suffix("_total").unwrap_or(&s.family),
            _ => &s.family,
        };
        let family = families
            .iter()
            .find(|f| f["name"] == parsed_name)
            .unwrap_or_else(|| panic!("{key}: no family {} in\n{text}", s.family));
        let kind = match s.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
        };
        assert_eq!(family["type"], kind, "{key}");
        let want_name = format!("{}{}", s.family, s.suffix);
        let want_labels: BTreeMap<String, String> = s.labels.iter().cloned().collect();
        let found = family["samples"].as_array().unwrap().iter().find(|x| {
            x[0] == want_name.as_str()
                && serde_json::from_value::<BTreeMap<String, String>>(x[1].clone()).ok()
                    == Some(want_labels.clone())
        });
        let got = found
            .unwrap_or_else(|| panic!("{key}: no sample {want_name}{want_labels:?} in\n{text}"))[2]
            .as_f64();
        // The clock and the machine move between the two reads.
        if key.ends_with("/uptime_secs") || key.starts_with("system/") {
            assert!(got.is_some_and(|g| g >= 0.0), "{key}: {got:?}");
        } else if got.is_none_or(|g| (g - s.value).abs() > 1e-9 * s.value.abs().max(1.0)) {
            return Err(format!("{key}: snapshot {} vs /metrics {got:?}", s.value));
        }
        checked += 1;
    }
    Ok(checked)
}

#[test]
fn metrics_of_a_real_master_and_agent_parse_and_agree_with_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _master = spawn_logged(
        &["master", "--port", &port.to_string()],
        &dir.path().join("master.log"),
    );
    eventually("the master leads", || serves_as_leader_on(port));
    let master = format!("127.0.0.1:{port}");
    let _agent = spawn_agent(&master, dir.path(), "agent", "cpus:2;mem:512", &[]);
    let addr: SocketAddr = master.parse().unwrap();
    eventually("the agent registered", || {
        try_get(port, "/metrics/snapshot")
            .is_some_and(|r| r.json()["master/slaves_active"].as_f64() == Some(1.0))
    });
    let r = request(
        addr,
        "PUT",
        "/weights",
        &[],
        br#"[{"role":"ops","weight":3}]"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(
        addr,
        r#"{"type":"UPDATE_QUOTA","update_quota":{"force":false,"quota_configs":[
            {"role":"eng","guarantees":{"cpus":{"value":0.5}},"limits":{"cpus":{"value":1}}}]}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // A task holds resources for a while, so that a role has an allocation.
    let mut execute = Command::new(meso_testkit::process::meso_bin())
        .args([
            "execute",
            "--master",
            &master,
            "--name",
            "sleeper",
            "--command",
            "sleep 60",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the task runs", || {
        try_get(port, "/metrics/snapshot")
            .is_some_and(|r| r.json()["master/tasks_running"].as_f64() == Some(1.0))
    });
    let snapshot = try_get(port, "/metrics/snapshot").unwrap().json();
    for key in [
        "allocator/mesos/quota/roles/eng/resources/cpus/guarantee",
        "allocator/mesos/roles/ops/weight",
        "allocator/mesos/allocation_run_ms/count",
        "registrar/raft/apply_lag",
    ] {
        assert!(snapshot.get(key).is_some(), "no {key} in {snapshot}");
    }
    assert!(
        snapshot
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("allocator/mesos/roles/") && k.ends_with("/cpus/allocated")),
        "{snapshot}"
    );
    // The operator API's GET_METRICS has the same keys, the allocator's included.
    let r = call(addr, r#"{"type":"GET_METRICS","get_metrics":{}}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<String> = r.json()["get_metrics"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| m["name"].as_str().unwrap_or_default().to_string())
        .collect();
    for key in ["allocator/mesos/allocation_runs", "master/tasks_running"] {
        assert!(names.iter().any(|n| n == key), "{key} not in {names:?}");
    }
    let checked = eventually("the master's /metrics agrees with its snapshot", || {
        check_node(port)
    });
    assert!(checked > 80, "{checked}");
    let text = try_get(port, "/metrics").unwrap().text();
    assert!(
        text.contains("meso_master_tasks{state=\"running\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("meso_allocator_quota_guarantee{role=\"eng\",resource=\"cpus\"} 0.5\n"),
        "{text}"
    );
    let _ = execute.kill();
    let _ = execute.wait();
}

#[test]
fn metrics_of_a_real_agent_parse_and_agree_with_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _master = spawn_logged(
        &["master", "--port", &port.to_string()],
        &dir.path().join("master.log"),
    );
    eventually("the master leads", || serves_as_leader_on(port));
    let agent_port = free_port();
    let work = dir.path().join("agent");
    let _agent = spawn_logged(
        &[
            "agent",
            "--master",
            &format!("127.0.0.1:{port}"),
            "--port",
            &agent_port.to_string(),
            "--work-dir",
            work.to_str().unwrap(),
            "--resources",
            "cpus:2;mem:512",
        ],
        &dir.path().join("agent.log"),
    );
    eventually("the agent registered", || {
        try_get(agent_port, "/metrics/snapshot")
            .is_some_and(|r| r.json()["slave/registered"].as_f64() == Some(1.0))
    });
    let checked = eventually("the agent's /metrics agrees with its snapshot", || {
        check_node(agent_port)
    });
    assert!(checked > 40, "{checked}");
    let text = try_get(agent_port, "/metrics").unwrap().text();
    assert!(text.contains("meso_agent_registered 1\n"), "{text}");
    assert!(
        text.contains("meso_agent_resources_capacity{resource=\"cpus\"} 2\n"),
        "{text}"
    );
}
