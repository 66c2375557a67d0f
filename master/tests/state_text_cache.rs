//! The task book keeps each active task's JSON text between documents (issue 22). Over
//! random sequences of the book's mutations (tasks added one by one or per agent,
//! replaced, moved to another agent, changed through `get_mut`, completed, taken), after
//! every step the kept-text answers (`/master/state`, GET_STATE, GET_TASKS, SUBSCRIBED)
//! equal the answers of a fresh book holding the same tasks (nothing kept), and the v1
//! answers equal `operator_api`'s tree builders.

use std::collections::{BTreeMap, VecDeque};

use libprocess::Upid;
use meso_api::http::operator::{operator_response, MasterCallType};
use meso_api::labels::Labels;
use meso_api::v1::{AgentId, AgentInfo, FrameworkInfo, MasterInfo, TaskId, TaskInfo};
use meso_api::v1::{FrameworkId, TaskState, TaskStatus};
use meso_api::Resources;
use meso_master::master::agents::AgentBook;
use meso_master::master::frameworks::{FrameworkBook, FrameworkRecord};
use meso_master::master::offers::OfferBook;
use meso_master::master::operator_api;
use meso_master::master::operator_stream::{query_answer, subscribed_record};
use meso_master::master::state_json::{self, StateView};
use meso_master::master::tasks::{Task, TaskBook};
use meso_master::master::timeline::Timeline;
use meso_master::master::unreachable_tasks::UnreachableTasks;
use proptest::prelude::*;

/// One mutation of the book, with small ids so that steps hit the same tasks.
#[derive(Debug, Clone)]
enum Step {
    Add {
        framework: u8,
        task: u8,
        agent: u8,
    },
    AddOnAgent {
        agent: u8,
        tasks: Vec<(u8, u8)>,
    },
    Update {
        framework: u8,
        task: u8,
        running: bool,
        timestamp: u16,
        label: bool,
    },
    Complete {
        framework: u8,
        task: u8,
    },
    Take {
        framework: u8,
        task: u8,
    },
    /// Writes every document (so the next steps start from kept text).
    Read,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..2, 0u8..6, 0u8..3).prop_map(|(framework, task, agent)| Step::Add {
            framework,
            task,
            agent
        }),
        (0u8..3, proptest::collection::vec((0u8..2, 0u8..6), 0..4))
            .prop_map(|(agent, tasks)| Step::AddOnAgent { agent, tasks }),
        (0u8..2, 0u8..6, any::<bool>(), any::<u16>(), any::<bool>()).prop_map(
            |(framework, task, running, timestamp, label)| Step::Update {
                framework,
                task,
                running,
                timestamp,
                label
            }
        ),
        (0u8..2, 0u8..6).prop_map(|(framework, task)| Step::Complete { framework, task }),
        (0u8..2, 0u8..6).prop_map(|(framework, task)| Step::Take { framework, task }),
        Just(Step::Read),
    ]
}

fn task(framework: u8, id: u8, agent: u8, cpus: u8) -> Task {
    let agent_id = AgentId::new(format!("a{agent}"));
    let r = Resources::parse(&format!("cpus:0.{};mem:32", cpus % 9 + 1), "*")
        .expect("test resources parse");
    Task {
        info: TaskInfo::command(&format!("t{id}"), agent_id.clone(), "sleep 1")
            .with_resources(r.clone()),
        framework_id: FrameworkId::new(format!("f{framework}")),
        agent_id,
        state: TaskState::Staging,
        status: None,
        consumed: r,
        role: "*".into(),
        recovered: false,
    }
}

fn apply(book: &mut TaskBook, step: &Step, n: usize) {
    match step {
        Step::Add {
            framework,
            task: id,
            agent,
        } => book.add(task(*framework, *id, *agent, n as u8)),
        Step::AddOnAgent { agent, tasks } => {
            let tasks = tasks
                .iter()
                .map(|(f, t)| task(*f, *t, *agent, n as u8))
                .collect();
            book.add_on_agent(&AgentId::new(format!("a{agent}")), tasks);
        }
        Step::Update {
            framework,
            task: id,
            running,
            timestamp,
            label,
        } => {
            let (f, t) = (
                FrameworkId::new(format!("f{framework}")),
                TaskId::new(format!("t{id}")),
            );
            if let Some(mut task) = book.get_mut(&f, &t) {
                let state = if *running {
                    TaskState::Running
                } else {
                    TaskState::Starting
                };
                let mut status = TaskStatus::new(t.clone(), state);
                status.timestamp = Some(f64::from(*timestamp) / 4.0);
                if *label {
                    status.labels = Some(Labels::from_pairs([("k", Some("v"))]));
                }
                task.state = state;
                task.status = Some(status);
            }
        }
        Step::Complete {
            framework,
            task: id,
        } => {
            let (f, t) = (
                FrameworkId::new(format!("f{framework}")),
                TaskId::new(format!("t{id}")),
            );
            book.complete(&f, &t, TaskState::Finished);
        }
        Step::Take {
            framework,
            task: id,
        } => {
            let (f, t) = (
                FrameworkId::new(format!("f{framework}")),
                TaskId::new(format!("t{id}")),
            );
            book.take(&f, &t);
        }
        Step::Read => {}
    }
}

/// A book with the same active and completed tasks as `book` and no kept text.
fn fresh(book: &TaskBook) -> TaskBook {
    let mut out = TaskBook::new(100);
    for t in book.active() {
        out.add(t.clone());
    }
    for t in book.completed() {
        out.add_completed(t.clone());
    }
    out
}

struct Fixture {
    master: MasterInfo,
    agents: AgentBook,
    frameworks: FrameworkBook,
    offers: OfferBook,
    timeline: Timeline,
    completed_frameworks: VecDeque<FrameworkRecord>,
    recovered: BTreeMap<AgentId, AgentInfo>,
    unreachable: UnreachableTasks,
}

impl Fixture {
    fn new() -> Fixture {
        let master = MasterInfo {
            id: "m".into(),
            ip: 0,
            port: 5050,
            pid: Some("master@127.0.0.1:5050".into()),
            hostname: Some("h".into()),
            version: None,
            address: None,
            capabilities: Vec::new(),
        };
        let mut agents = AgentBook::new("m");
        for i in 0..3u16 {
            let mut info = AgentInfo::new(&format!("host{i}"));
            info.resources = Resources::parse("cpus:8;mem:4096", "*").expect("resources parse");
            let pid = Upid::new("slave(1)", ([127, 0, 0, 1], 6000 + i).into());
            agents.add(info, AgentId::new(format!("a{i}")), pid);
        }
        // One agent draining (deactivated, with drain info) and one re-registered, so that
        // the agents' optional fields are written too.
        let drain = meso_registry::DrainConfig {
            max_grace_period_ns: Some(5),
            mark_gone: false,
        };
        agents
            .controls_mut()
            .drain_agent(&AgentId::new("a1"), drain)
            .expect("a valid drain");
        let mut timeline = Timeline::new(0.0);
        for (i, at) in [(0, 1.5), (1, 2.0), (2, 3.25), (2, 4.5)] {
            timeline.agent_seen(&AgentId::new(format!("a{i}")), at);
        }
        let mut frameworks = FrameworkBook::new("m");
        for i in 0..2 {
            frameworks.add(
                FrameworkInfo::new("u", &format!("fw{i}")),
                FrameworkId::new(format!("f{i}")),
                None,
            );
        }
        Fixture {
            master,
            agents,
            frameworks,
            offers: OfferBook::new("m"),
            timeline,
            completed_frameworks: VecDeque::new(),
            recovered: BTreeMap::new(),
            unreachable: UnreachableTasks::default(),
        }
    }

    fn view<'a>(&'a self, tasks: &'a TaskBook) -> StateView<'a> {
        StateView {
            info: &self.master,
            leader: Some(&self.master),
            leadership: None,
            agents: &self.agents,
            frameworks: &self.frameworks,
            completed_frameworks: &self.completed_frameworks,
            offers: &self.offers,
            tasks,
            unreachable_tasks: &self.unreachable,
            recovered_agents: &self.recovered,
            timeline: &self.timeline,
            flags: &[],
        }
    }
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("an answer is JSON")
}

/// The one record of a RecordIO stream, checked against its length prefix.
fn record(bytes: &[u8]) -> &[u8] {
    let newline = bytes
        .iter()
        .position(|b| *b == b'\n')
        .expect("a length line");
    let length: usize = std::str::from_utf8(&bytes[..newline])
        .expect("digits")
        .parse()
        .expect("a length");
    assert_eq!(bytes.len(), newline + 1 + length, "one whole record");
    &bytes[newline + 1..]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn kept_task_text_answers_as_a_fresh_book(steps in proptest::collection::vec(step(), 1..24)) {
        let fixture = Fixture::new();
        let mut book = TaskBook::new(100);
        for (n, step) in steps.iter().enumerate() {
            apply(&mut book, step, n);
            let again = fresh(&book);
            let (kept, new) = (fixture.view(&book), fixture.view(&again));
            prop_assert_eq!(state_json::state(&kept), state_json::state(&new));
            let state = query_answer(&kept, MasterCallType::GetState).expect("a query");
            prop_assert_eq!(&state, &query_answer(&new, MasterCallType::GetState).expect("a query"));
            let tree = operator_api::get_state(&new).to_string();
            prop_assert_eq!(json(&state), json(operator_response("GET_STATE", Some(&tree)).as_bytes()));
            let agents = json(&state)["get_state"]["get_agents"]["agents"].clone();
            let agents = agents.as_array().expect("agents");
            prop_assert!(agents.iter().any(|a| a["drain_info"].is_object()));
            prop_assert!(agents.iter().any(|a| a["reregistered_time"].is_object()));
            let tasks = query_answer(&kept, MasterCallType::GetTasks).expect("a query");
            let tree = operator_api::get_tasks(&new).to_string();
            prop_assert_eq!(json(&tasks), json(operator_response("GET_TASKS", Some(&tree)).as_bytes()));
            let subscribed = subscribed_record(&kept);
            let tree = meso_api::http::events::operator_subscribed(&operator_api::get_state(&new));
            prop_assert_eq!(json(record(&subscribed)), json(record(&tree)));
        }
    }
}
