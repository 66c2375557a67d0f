//! Properties of the legacy state documents over random books: whatever the cluster, the
//! `/master/state` body is one line of valid JSON whose counts match the books, and
//! every resources object has its four fixed keys with the sums of its tasks.

use libprocess::Upid;
use meso_api::v1::{AgentInfo, FrameworkInfo, MasterInfo, TaskId, TaskInfo, TaskState};
use meso_api::Resources;
use meso_master::master::agents::AgentBook;
use meso_master::master::frameworks::FrameworkBook;
use meso_master::master::offers::OfferBook;
use meso_master::master::state_json::{self, StateView};
use meso_master::master::tasks::{Task, TaskBook};
use meso_master::master::timeline::Timeline;
use proptest::prelude::*;

fn res(text: &str) -> Resources {
    Resources::parse(text, "*").expect("test resources parse")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn state_counts_match_the_books(
        agent_count in 0usize..6,
        framework_count in 1usize..4,
        tasks in proptest::collection::vec((0usize..6, 0usize..4, 1u32..8, any::<bool>()), 0..20),
    ) {
        let master = MasterInfo {
            id: "m".into(), ip: 0, port: 5050, pid: Some("master@127.0.0.1:5050".into()),
            hostname: Some("h".into()), version: None, address: None, capabilities: Vec::new(),
        };
        let mut agents = AgentBook::new("m");
        let mut agent_ids = Vec::new();
        for i in 0..agent_count {
            let id = agents.next_id();
            let mut info = AgentInfo::new(&format!("a{i}"));
            info.resources = res("cpus:8;mem:4096");
            agents.add(info, id.clone(), Upid::new("slave(1)", ([127, 0, 0, 1], 6000 + i as u16).into()));
            agent_ids.push(id);
        }
        let mut frameworks = FrameworkBook::new("m");
        let mut fw_ids = Vec::new();
        for i in 0..framework_count {
            let id = frameworks.next_id();
            frameworks.add(FrameworkInfo::new("u", &format!("f{i}")), id.clone(), None);
            fw_ids.push(id);
        }
        let mut book = TaskBook::new(100);
        let mut active = 0usize;
        let mut cpus_per_agent = vec![0u32; agent_count];
        let mut cpus_per_framework = vec![0u32; framework_count];
        for (n, (a, f, tenths, finished)) in tasks.iter().enumerate() {
            if agent_ids.is_empty() { break; }
            let a = a % agent_ids.len();
            let fi = f % fw_ids.len();
            let f = &fw_ids[fi];
            let r = res(&format!("cpus:0.{tenths}"));
            let task_id = TaskId::new(format!("t{n}"));
            book.add(Task {
                info: TaskInfo {
                    name: "t".into(), command: None,
                    ..TaskInfo::command(task_id.as_str(), agent_ids[a].clone(), "true").with_resources(r.clone())
                },
                framework_id: f.clone(), agent_id: agent_ids[a].clone(),
                state: TaskState::Running, status: None, consumed: r, role: "*".into(),
                recovered: false,
            });
            if *finished {
                book.complete(f, &task_id, TaskState::Finished);
            } else {
                active += 1;
                cpus_per_agent[a] += tenths;
                cpus_per_framework[fi] += tenths;
            }
        }
        let timeline = Timeline::new(0.0);
        let offers = OfferBook::new("m");
        let view = StateView {
            unreachable_tasks: &Default::default(),
            recovered_agents: &Default::default(),
            info: &master, leader: Some(&master), leadership: None, agents: &agents, frameworks: &frameworks,
            completed_frameworks: &std::collections::VecDeque::new(),
            offers: &offers, tasks: &book, timeline: &timeline, flags: &[],
        };
        let bytes = state_json::state(&view);
        prop_assert!(!bytes.contains(&b'\n'));
        let state: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        prop_assert_eq!(state["activated_slaves"].as_u64(), Some(agent_count as u64));
        let fws = state["frameworks"].as_array().expect("frameworks array");
        prop_assert_eq!(fws.len(), framework_count);
        for (i, fw) in fws.iter().enumerate() {
            let used = fw["used_resources"]["cpus"].as_f64().expect("cpus");
            prop_assert!((used - f64::from(cpus_per_framework[i]) / 10.0).abs() < 1e-9);
        }
        let listed: usize = fws.iter().map(|f| f["tasks"].as_array().map_or(0, Vec::len)).sum();
        prop_assert_eq!(listed, active);
        for (i, slave) in state["slaves"].as_array().expect("slaves array").iter().enumerate() {
            for key in ["cpus", "gpus", "mem", "disk"] {
                prop_assert!(slave["used_resources"][key].is_number(), "{} missing", key);
            }
            let used = slave["used_resources"]["cpus"].as_f64().expect("cpus");
            prop_assert!((used - f64::from(cpus_per_agent[i]) / 10.0).abs() < 1e-9);
        }
    }
}
