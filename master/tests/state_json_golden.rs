//! Golden test of the `/master/state` JSON shape: a small cluster (one agent, one
//! framework, one running task, one completed task, one outstanding offer) built in the
//! books and written by the pure builder, compared with `tests/golden/master_state.json`
//! after volatile values (times, ports) are normalised. Set `UPDATE_GOLDEN=1` to rewrite
//! the golden file after an intended change, and review the diff.

use libprocess::Upid;
use meso_api::attributes::Attributes;
use meso_api::v1::{
    AgentId, AgentInfo, CommandInfo, FrameworkCapability, FrameworkCapabilityType, FrameworkId,
    FrameworkInfo, MasterInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};
use meso_api::Resources;
use meso_master::master::agents::AgentBook;
use meso_master::master::frameworks::FrameworkBook;
use meso_master::master::offers::OfferBook;
use meso_master::master::state_json::{self, StateView};
use meso_master::master::tasks::{Task, TaskBook};
use meso_master::master::timeline::Timeline;
use serde_json::Value;

fn res(text: &str) -> Resources {
    Resources::parse(text, "*").expect("test resources parse")
}

fn task(id: &str, fw: &FrameworkId, agent: &AgentId, state: TaskState, at: f64) -> Task {
    let mut status = TaskStatus::new(TaskId::new(id), state);
    status.timestamp = Some(at);
    Task {
        info: TaskInfo {
            name: format!("task {id}"),
            task_id: TaskId::new(id),
            agent_id: agent.clone(),
            resources: res("cpus:0.5;mem:64"),
            executor: None,
            command: Some(CommandInfo::shell("sleep 100")),
            container: None,
            health_check: None,
            kill_policy: None,
            data: None,
            labels: None,
            max_completion_time: None,
        },
        framework_id: fw.clone(),
        agent_id: agent.clone(),
        state,
        status: Some(status),
        consumed: res("cpus:0.5;mem:64"),
        role: "*".to_string(),
        recovered: false,
    }
}

/// Replaces values that change from run to run (times, ports) with fixed markers.
pub fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let volatile = key.ends_with("_time") || key == "timestamp";
                if volatile && v.is_number() {
                    *v = Value::String("<time>".into());
                } else if key == "pid" || key == "leader" {
                    if let Some(s) = v.as_str() {
                        let id = s.split('@').next().unwrap_or("");
                        *v = Value::String(format!("{id}@<addr>"));
                    }
                } else {
                    normalise(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

#[test]
fn master_state_matches_the_golden_shape() {
    let master = MasterInfo {
        id: "m1".into(),
        ip: 16_777_343,
        port: 5050,
        pid: Some("master@127.0.0.1:5050".into()),
        hostname: Some("master.example".into()),
        version: Some("1.11.0".into()),
        address: None,
        capabilities: Vec::new(),
    };
    let mut agents = AgentBook::new("m1");
    let agent = agents.next_id();
    let mut info = AgentInfo::new("agent.example");
    info.resources = res("cpus:4;mem:1024;disk:2048;ports:[31000-32000];cpus(web):1");
    info.attributes = Attributes::parse("rack:r1;zone:3").expect("attributes parse");
    agents.add(
        info,
        agent.clone(),
        Upid::new("slave(1)", ([127, 0, 0, 1], 5051).into()),
    );
    let mut frameworks = FrameworkBook::new("m1");
    let fw = frameworks.next_id();
    let mut fw_info = FrameworkInfo::new("alice", "golden");
    fw_info.roles = vec!["*".into()];
    fw_info.capabilities = vec![FrameworkCapability {
        kind: Some(FrameworkCapabilityType::MultiRole),
    }];
    fw_info.failover_timeout = 60.0;
    frameworks.add(
        fw_info,
        fw.clone(),
        Some(Upid::new("scheduler(1)", ([127, 0, 0, 1], 40000).into())),
    );
    let mut tasks = TaskBook::new(10);
    tasks.add(task("running", &fw, &agent, TaskState::Running, 10.0));
    tasks.add(task("done", &fw, &agent, TaskState::Running, 11.0));
    // As the master does: the terminal update is recorded, then the ack completes it.
    let done = tasks
        .get_mut(&fw, &TaskId::new("done"))
        .expect("task was just added");
    done.state = TaskState::Finished;
    let mut finished = TaskStatus::new(TaskId::new("done"), TaskState::Finished);
    finished.timestamp = Some(12.0);
    done.status = Some(finished);
    tasks.complete(&fw, &TaskId::new("done"), TaskState::Finished);
    let mut offers = OfferBook::new("m1");
    offers.create(
        &fw,
        &agent,
        "agent.example",
        &Attributes::default(),
        "*",
        res("cpus:1;mem:128").allocate("*"),
    );
    let mut timeline = Timeline::new(1.0);
    timeline.agent_seen(&agent, 2.0);
    timeline.framework_seen(&fw, 3.0);
    let flags = vec![("hostname".to_string(), "master.example".to_string())];
    let view = StateView {
        info: &master,
        leader: Some(&master),
        agents: &agents,
        frameworks: &frameworks,
        offers: &offers,
        tasks: &tasks,
        timeline: &timeline,
        flags: &flags,
    };
    let bytes = state_json::state(&view);
    assert!(
        !bytes.contains(&b'\n'),
        "the state document is compact JSON"
    );
    let mut actual: Value = serde_json::from_slice(&bytes).expect("state is JSON");
    normalise(&mut actual);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/master_state.json"
    );
    let pretty = serde_json::to_string_pretty(&actual).expect("pretty JSON") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &pretty).expect("golden file written");
    }
    let golden = std::fs::read_to_string(path).expect("golden file exists (UPDATE_GOLDEN=1)");
    assert_eq!(pretty, golden, "the /master/state shape changed");
}
