//! Weights and quota across a leader kill, with real processes: three `meso master`s
//! (`--peers`). The operator sets weights (`PUT /weights` and `UPDATE_WEIGHTS`) and quota
//! (`UPDATE_QUOTA` and the old `/quota` endpoint) on the leader, the leader is killed with
//! SIGKILL, and the new leader shows the same weights, quota and roles, and keeps taking
//! changes. (master/tests/ha_masters.rs checks the same in one process against the log; this
//! is what an operator sees.) Timeouts are hang guards only.

use std::net::SocketAddr;
use std::time::Duration;

use meso_testkit::eventually::eventually_within;
use meso_testkit::http::blocking::{call, post_json, request, try_get};
use meso_testkit::masters::Masters;
use serde_json::{json, Value};

const MESO: &str = env!("CARGO_BIN_EXE_meso");
const GUARD: Duration = Duration::from_secs(120);

fn at(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn get_json(port: u16, path: &str) -> Value {
    let r = try_get(port, path).unwrap_or_else(|| panic!("GET {path} answered"));
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    serde_json::from_slice(&r.body).expect("JSON")
}

fn role(roles: &Value, name: &str) -> Value {
    roles["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("role {name} listed in {roles}"))
}

#[test]
fn weights_and_quota_survive_a_leader_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(MESO.as_ref(), dir.path(), 3, &[]);
    let first = masters.wait_leader(GUARD);
    let port = masters.ports[first];

    let r = request(
        at(port),
        "PUT",
        "/master/weights",
        &["Content-Type: application/json"],
        br#"[{"role":"eng","weight":2}]"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(
        at(port),
        &json!({"type": "UPDATE_WEIGHTS", "update_weights": {
            "weight_infos": [{"role": "ops", "weight": 0.5}]}})
        .to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // No agent: a guarantee needs `force` to pass the capacity check.
    let r = call(
        at(port),
        &json!({"type": "UPDATE_QUOTA", "update_quota": {"force": true, "quota_configs": [
            {"role": "eng", "guarantees": {"cpus": {"value": 2}},
             "limits": {"cpus": {"value": 4}}}]}})
        .to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_json(
        at(port),
        "/master/quota",
        r#"{"role":"ops","force":true,"guarantee":[{"name":"mem","type":"SCALAR","scalar":{"value":256}}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    masters.kill9(first);
    let second = eventually_within("a new leader", GUARD, || {
        masters.leader_now().filter(|&i| i != first)
    });
    let port = masters.ports[second];

    assert_eq!(
        get_json(port, "/master/weights"),
        json!([{"role": "eng", "weight": 2.0}, {"role": "ops", "weight": 0.5}])
    );
    let r = call(at(port), r#"{"type":"GET_QUOTA"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let quota = r.json();
    let configs = &quota["get_quota"]["status"]["configs"];
    assert_eq!(configs[0]["role"], "eng", "{quota}");
    assert_eq!(configs[0]["guarantees"]["cpus"]["value"], 2.0, "{quota}");
    assert_eq!(configs[0]["limits"]["cpus"]["value"], 4.0, "{quota}");
    assert_eq!(configs[1]["role"], "ops", "{quota}");
    assert_eq!(configs[1]["guarantees"]["mem"]["value"], 256.0, "{quota}");
    let roles = get_json(port, "/master/roles");
    assert_eq!(role(&roles, "eng")["weight"], 2.0, "{roles}");
    assert_eq!(
        role(&roles, "eng")["quota"]["guarantee"]["cpus"],
        2.0,
        "{roles}"
    );
    assert_eq!(role(&roles, "ops")["weight"], 0.5, "{roles}");

    // The new leader keeps taking changes, and they hold.
    let r = request(at(port), "DELETE", "/master/quota/ops", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(at(port), r#"{"type":"GET_QUOTA"}"#);
    let configs = r.json()["get_quota"]["status"]["configs"].clone();
    assert_eq!(configs.as_array().map(Vec::len), Some(1), "{configs}");
}
