//! End-to-end maintenance and draining across a leader kill, with real processes: three
//! `meso master`s (`--peers`) and `meso agent`s with their own `--hostname`s. The operator
//! schedules maintenance for two machines, takes one of them DOWN (its agent is told to shut
//! down and exits) and drains another agent until it is DRAINED. The leader is killed with
//! SIGKILL: the new leader has the schedule, the DOWN machine and the drain (the drained
//! agent re-registers deactivated and DRAINED), still refuses an agent on the DOWN machine,
//! and lets it register once the machine is brought up. Timeouts are hang guards only.

use std::net::SocketAddr;
use std::time::Duration;

use meso_testkit::eventually::{eventually_within, poll_within};
use meso_testkit::http::blocking::{call, post_json, try_get};
use meso_testkit::masters::Masters;
use meso_testkit::process::{spawn_agent, Proc};
use serde_json::{json, Value};

const MESO: &str = env!("CARGO_BIN_EXE_meso");
const GUARD: Duration = Duration::from_secs(120);

fn at(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn leader_state(port: u16) -> Option<Value> {
    let r = try_get(port, "/master/state")?;
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    (r.status == 200 && v["elected"] == Value::Bool(true)).then_some(v)
}

/// The registered agent named `hostname` in the leader's state.
fn agent_named(state: &Value, hostname: &str) -> Option<Value> {
    state["slaves"]
        .as_array()?
        .iter()
        .find(|a| a["hostname"] == hostname)
        .cloned()
}

/// An agent reporting `hostname`, with its own work dir and log named `name`.
fn agent(masters: &Masters, name: &str, hostname: &str) -> Proc {
    spawn_agent(
        &masters.addresses(),
        masters.dir(),
        name,
        "cpus:1;mem:128",
        &["--hostname", hostname],
    )
}

/// Waits for `proc` to exit on its own (told to shut down).
fn wait_gone(what: &str, proc: &mut Proc) {
    if poll_within(GUARD, || proc.0.try_wait().ok().flatten()).is_err() {
        proc.kill9();
        panic!("hang guard: {what}");
    }
}

fn machine(name: &str) -> Value {
    json!({"hostname": name, "ip": "127.0.0.1"})
}

#[test]
fn the_schedule_a_down_machine_and_a_drain_survive_a_leader_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(MESO.as_ref(), dir.path(), 3, &[]);
    let first = masters.wait_leader(GUARD);
    let port = masters.ports[first];

    let mut down = agent(&masters, "down-1", "maint-down");
    let mut drained = agent(&masters, "drain-1", "maint-drain");
    let drained_id = eventually_within("both agents registered", GUARD, || {
        let s = leader_state(port)?;
        agent_named(&s, "maint-down")?;
        agent_named(&s, "maint-drain").and_then(|a| a["id"].as_str().map(str::to_string))
    });

    let schedule = json!({"windows": [{
        "machine_ids": [machine("maint-down"), machine("later")],
        "unavailability": {"start": {"nanoseconds": 1_000_000_000i64}}}]});
    let r = post_json(at(port), "/maintenance/schedule", &schedule.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_json(
        at(port),
        "/machine/down",
        &json!([machine("maint-down")]).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    wait_gone("the agent on the DOWN machine exits", &mut down);

    let drain = json!({"type": "DRAIN_AGENT",
        "drain_agent": {"agent_id": {"value": drained_id}, "max_grace_period": "5secs"}});
    let r = call(at(port), &drain.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    eventually_within("the drained agent to be DRAINED", GUARD, || {
        leader_state(port)
            .and_then(|s| agent_named(&s, "maint-drain"))
            .is_some_and(|a| a["drain_info"]["state"] == "DRAINED")
    });

    masters.kill9(first);
    let second = eventually_within("a new leader", GUARD, || {
        masters.leader_now().filter(|&i| i != first)
    });
    let port = masters.ports[second];

    let r = call(at(port), r#"{"type":"GET_MAINTENANCE_SCHEDULE"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["get_maintenance_schedule"]["schedule"], schedule);
    let r = call(at(port), r#"{"type":"GET_MAINTENANCE_STATUS"}"#);
    let status = &r.json()["get_maintenance_status"]["status"];
    assert_eq!(status["down_machines"], json!([machine("maint-down")]));
    assert_eq!(status["draining_machines"][0]["id"], machine("later"));

    let back = eventually_within("the drained agent back, still drained", GUARD, || {
        let r = call(at(port), r#"{"type":"GET_AGENTS"}"#);
        (r.status == 200).then_some(())?;
        r.json()["get_agents"]["agents"]
            .as_array()?
            .iter()
            .find(|a| a["agent_info"]["hostname"] == "maint-drain")
            .cloned()
    });
    assert_eq!(back["deactivated"], true, "{back}");
    assert_eq!(back["drain_info"]["state"], "DRAINED", "{back}");
    assert_eq!(
        back["drain_info"]["config"]["max_grace_period"],
        json!({"seconds": 5})
    );

    // The DOWN machine stays DOWN under the new leader.
    let mut refused = agent(&masters, "down-2", "maint-down");
    wait_gone("an agent on the DOWN machine is refused", &mut refused);
    let r = post_json(
        at(port),
        "/machine/up",
        &json!([machine("maint-down")]).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut up = agent(&masters, "down-3", "maint-down");
    eventually_within("the machine's agent registers once UP", GUARD, || {
        leader_state(port).and_then(|s| agent_named(&s, "maint-down"))
    });
    let r = call(
        at(port),
        &json!({"type": "REACTIVATE_AGENT",
            "reactivate_agent": {"agent_id": {"value": drained_id}}})
        .to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for p in [&mut drained, &mut up] {
        p.kill9();
    }
}
