//! Golden tests of JSON shapes: `/master/state` and every operator event type. A small
//! cluster (one agent, one framework, one running task, one completed task, one outstanding
//! offer) is built in the books and written by the pure builders; the results are compared
//! with `tests/golden/master_state.json` and `tests/golden/operator_events.json` after
//! volatile values (times, addresses) are normalised. Set `UPDATE_GOLDEN=1` to rewrite the
//! golden files after an intended change, and review the diff. The same cluster checks the
//! web UI's views: `/master/overview` and `/master/list/*` agree with `/master/state`.

use libprocess::Upid;
use meso_api::attributes::Attributes;
use meso_api::http::events::{operator_heartbeat, operator_subscribed};
use meso_api::v1::{
    AgentId, AgentInfo, FrameworkCapability, FrameworkCapabilityType, FrameworkId, FrameworkInfo,
    MasterInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};
use meso_api::Resources;
use meso_master::master::agents::AgentBook;
use meso_master::master::frameworks::FrameworkBook;
use meso_master::master::offers::OfferBook;
use meso_master::master::operator_api::{get_state, v1_agent, v1_framework, v1_task};
use meso_master::master::operator_events::{
    agent_added_record, agent_removed_record, framework_added_record, framework_removed_record,
    framework_updated_record, task_added_record, task_updated_record,
};
use meso_master::master::state_json::{self, StateView, Totals};
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
            ..TaskInfo::command(id, agent.clone(), "sleep 100")
                .with_resources(res("cpus:0.5;mem:64"))
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

struct Books {
    master: MasterInfo,
    agents: AgentBook,
    frameworks: FrameworkBook,
    completed: std::collections::VecDeque<meso_master::master::frameworks::FrameworkRecord>,
    offers: OfferBook,
    tasks: TaskBook,
    unreachable_tasks: meso_master::master::unreachable_tasks::UnreachableTasks,
    recovered_agents: std::collections::BTreeMap<meso_api::v1::AgentId, meso_api::v1::AgentInfo>,
    timeline: Timeline,
    flags: Vec<(String, String)>,
}

impl Books {
    fn view(&self) -> StateView<'_> {
        StateView {
            unreachable_tasks: &self.unreachable_tasks,
            recovered_agents: &self.recovered_agents,
            info: &self.master,
            leader: Some(&self.master),
            leadership: None,
            agents: &self.agents,
            frameworks: &self.frameworks,
            completed_frameworks: &self.completed,
            offers: &self.offers,
            tasks: &self.tasks,
            timeline: &self.timeline,
            flags: &self.flags,
        }
    }
}

fn small_cluster() -> Books {
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
    {
        let mut done = tasks
            .get_mut(&fw, &TaskId::new("done"))
            .expect("task was just added");
        done.state = TaskState::Finished;
        let mut finished = TaskStatus::new(TaskId::new("done"), TaskState::Finished);
        finished.timestamp = Some(12.0);
        done.status = Some(finished);
    }
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
    Books {
        master,
        agents,
        frameworks,
        completed: std::collections::VecDeque::new(),
        offers,
        tasks,
        unreachable_tasks: Default::default(),
        recovered_agents: Default::default(),
        timeline,
        flags,
    }
}

/// Compares `actual` (normalised, pretty) with the golden file `name`.
fn check_golden(name: &str, actual: &Value) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    let pretty = serde_json::to_string_pretty(actual).expect("pretty JSON") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &pretty).expect("golden file written");
    }
    let golden = std::fs::read_to_string(&path).expect("golden file exists (UPDATE_GOLDEN=1)");
    assert_eq!(pretty, golden, "the shape of {name} changed");
}

#[test]
fn master_state_matches_the_golden_shape() {
    let books = small_cluster();
    let bytes = state_json::state(&books.view());
    assert!(
        !bytes.contains(&b'\n'),
        "the state document is compact JSON"
    );
    let mut actual: Value = serde_json::from_slice(&bytes).expect("state is JSON");
    normalise(&mut actual);
    check_golden("master_state.json", &actual);
}

/// Splits one RecordIO record, checking its framing: `<len>\n<exactly len bytes>`.
fn record_json(record: &[u8]) -> Value {
    let nl = record
        .iter()
        .position(|b| *b == b'\n')
        .expect("a record starts with its length line");
    let len: usize = std::str::from_utf8(&record[..nl])
        .expect("ASCII length")
        .parse()
        .expect("decimal length");
    let body = &record[nl + 1..];
    assert_eq!(body.len(), len, "nothing after the record's JSON");
    assert!(!body.contains(&b'\n'), "compact JSON");
    serde_json::from_slice(body).expect("record is JSON")
}

#[test]
fn operator_events_match_the_golden_shapes() {
    let books = small_cluster();
    let view = books.view();
    let totals = Totals::of(&view);
    let agent = books.agents.iter().next().expect("one agent");
    let framework = books.frameworks.iter().next().expect("one framework");
    let task = books.tasks.active().next().expect("one running task");
    let status = task.status.as_ref().expect("the task has a status");
    let records: Vec<(&str, Vec<u8>)> = vec![
        ("SUBSCRIBED", operator_subscribed(&get_state(&view))),
        ("TASK_ADDED", task_added_record(&v1_task(task))),
        (
            "TASK_UPDATED",
            task_updated_record(&task.framework_id, status, task.state),
        ),
        (
            "AGENT_ADDED",
            agent_added_record(&v1_agent(&view, &totals, agent)),
        ),
        (
            "AGENT_REMOVED",
            agent_removed_record(agent.info.id.as_ref().expect("agent id")),
        ),
        (
            "FRAMEWORK_ADDED",
            framework_added_record(&v1_framework(&view, &totals, framework)),
        ),
        (
            "FRAMEWORK_UPDATED",
            framework_updated_record(&v1_framework(&view, &totals, framework)),
        ),
        (
            "FRAMEWORK_REMOVED",
            framework_removed_record(&serde_json::json!(framework.info)),
        ),
        ("HEARTBEAT", operator_heartbeat()),
    ];
    let mut all = serde_json::Map::new();
    for (kind, record) in records {
        let mut event = record_json(&record);
        assert_eq!(event["type"], kind);
        normalise(&mut event);
        all.insert(kind.to_string(), event);
    }
    check_golden("operator_events.json", &Value::Object(all));
}

#[test]
fn the_overview_agrees_with_the_state_document() {
    use meso_master::master::overview_json::overview;
    let books = small_cluster();
    let view = books.view();
    let o = overview(&view);
    let s: Value = serde_json::from_slice(&state_json::state(&view)).expect("state is JSON");
    assert_eq!(o["agents"]["active"], s["activated_slaves"]);
    assert_eq!(o["agents"]["deactivated"], s["deactivated_slaves"]);
    assert_eq!(o["agents"]["unreachable"], s["unreachable_slaves"]);
    let cpus: f64 = s["slaves"]
        .as_array()
        .expect("slaves")
        .iter()
        .map(|a| a["resources"]["cpus"].as_f64().expect("cpus"))
        .sum();
    assert_eq!(o["resources"]["total"]["cpus"].as_f64(), Some(cpus));
    assert_eq!(o["resources"]["allocated"]["cpus"].as_f64(), Some(0.5));
    assert_eq!(o["resources"]["offered"]["cpus"].as_f64(), Some(1.0));
    assert_eq!(o["resources"]["idle"]["cpus"].as_f64(), Some(cpus - 1.5));
    assert_eq!(o["tasks"]["by_state"]["TASK_RUNNING"], 1);
    assert_eq!(o["tasks"]["by_state"]["TASK_FINISHED"], 1);
    assert_eq!(o["offers"], 1);
    assert_eq!(o["frameworks"]["active"], 1);
}

#[test]
fn lists_are_filtered_sorted_and_paged_by_the_master() {
    use meso_master::master::list_json::{list, ListKind, ListQuery};
    use meso_master::master::status_history::StatusHistory;
    let books = small_cluster();
    let view = books.view();
    let history = StatusHistory::default();
    let page = |kind, q: &str| {
        list(
            &view,
            &history,
            kind,
            &ListQuery::parse(kind, Some(q)).expect("query parses"),
        )
    };
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_string())
            .collect()
    };
    let all = page(ListKind::Tasks, "kind=all&sort=started&order=desc");
    assert_eq!(all["total"], 2);
    assert_eq!(ids(&all), ["done", "running"]);
    assert_eq!(ids(&page(ListKind::Tasks, "kind=active")), ["running"]);
    assert_eq!(
        ids(&page(ListKind::Tasks, "kind=all&filter=DONE")),
        ["done"]
    );
    assert_eq!(
        ids(&page(ListKind::Tasks, "kind=all&state=finished")),
        ["done"]
    );
    assert_eq!(
        ids(&page(ListKind::Tasks, "kind=all&limit=1&offset=1")),
        ["running"]
    );
    let one = page(ListKind::Tasks, "kind=all&id=done");
    assert_eq!(one["items"][0]["kind"], "completed");
    assert_eq!(one["items"][0]["statuses"][0]["state"], "TASK_FINISHED");
    let agents = page(ListKind::Agents, "");
    assert_eq!(agents["items"][0]["tasks"], 1);
    assert_eq!(agents["items"][0]["allocated"]["cpus"].as_f64(), Some(0.5));
    let frameworks = page(ListKind::Frameworks, "kind=active");
    assert_eq!(frameworks["items"][0]["name"], "golden");
    assert_eq!(
        frameworks["items"][0]["max_share"].as_f64(),
        Some(0.1),
        "0.5 of 5 cpus"
    );
    assert_eq!(page(ListKind::Offers, "")["total"], 1);
    assert_eq!(page(ListKind::Frameworks, "kind=completed")["total"], 0);
}

#[test]
fn an_event_about_one_agent_or_framework_shows_the_same_sums_as_the_whole_state() {
    // Operator events are built from the sums of the one agent or framework they are about;
    // those must equal what `/master/state` shows for it.
    let books = small_cluster();
    let view = books.view();
    let all = Totals::of(&view);
    for agent in books.agents.iter() {
        let id = agent.info.id.as_ref().expect("agent id");
        let one = Totals::of_agent(&view, id);
        assert_eq!(v1_agent(&view, &one, agent), v1_agent(&view, &all, agent));
    }
    for framework in books.frameworks.iter() {
        let id = framework.info.id.as_ref().expect("framework id");
        let one = Totals::of_framework(&view, id);
        assert_eq!(
            v1_framework(&view, &one, framework),
            v1_framework(&view, &all, framework)
        );
    }
}
