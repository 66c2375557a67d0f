//! `/master/state` at scale: a real master on a libprocess node whose books hold 10,000
//! agents and 100,000 running tasks (100 frameworks of 1,000 tasks, built in process and
//! installed with `Master::install_books`), then `GET /master/state` over a real loopback
//! HTTP/1.1 connection, timed from request to last body byte. Prints `name: value unit`:
//! the p50 of the runs over HTTP (`master_state_ms_10k_agents_100k_tasks`), the p50 of
//! the pure builder alone (wall and thread CPU time: the CPU figure is what the builder
//! costs when the machine is shared), and the body size. Then the same for GET_STATE's
//! builder; for both, the first build (which writes every task's text, kept by the task
//! book) beside the p50 (which copies it).
//!
//! `--quick` uses 1,000 agents and 10,000 tasks (CI smoke run).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use libprocess::{Node, Upid};
use meso_api::attributes::Attributes;
use meso_api::http::operator::MasterCallType;
use meso_api::v1::{AgentInfo, FrameworkInfo, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_api::Resources;
use meso_master::master::agents::AgentBook;
use meso_master::master::frameworks::FrameworkBook;
use meso_master::master::offers::OfferBook;
use meso_master::master::operator_stream::query_answer;
use meso_master::master::tasks::{Task, TaskBook};
use meso_master::{InMemoryRegistrar, Master, MasterConfig};

const RUNS: usize = 7;

fn res(text: &str) -> Resources {
    Resources::parse(text, "*").expect("bench resources parse")
}

fn books(agent_count: usize, task_count: usize) -> (AgentBook, FrameworkBook, OfferBook, TaskBook) {
    let mut agents = AgentBook::new("bench");
    let mut ids = Vec::with_capacity(agent_count);
    for i in 0..agent_count {
        let id = agents.next_id();
        let mut info = AgentInfo::new(&format!("agent{i}.example"));
        info.resources = res("cpus:32;mem:131072;disk:1048576;ports:[31000-32000]");
        info.attributes = Attributes::parse("rack:r1").expect("attributes parse");
        let port = 10_000 + (i % 50_000) as u16;
        agents.add(
            info,
            id.clone(),
            Upid::new("slave(1)", ([10, 0, 0, 1], port).into()),
        );
        ids.push(id);
    }
    let mut frameworks = FrameworkBook::new("bench");
    let framework_count = 100;
    let mut fws = Vec::new();
    for i in 0..framework_count {
        let id = frameworks.next_id();
        frameworks.add(
            FrameworkInfo::new("bench", &format!("framework {i}")),
            id.clone(),
            Some(Upid::new(
                "scheduler(1)",
                ([10, 0, 1, 1], 20_000 + i as u16).into(),
            )),
        );
        fws.push(id);
    }
    let mut tasks = TaskBook::new(1000);
    let resources = res("cpus:0.1;mem:32");
    for i in 0..task_count {
        let agent = &ids[i % ids.len()];
        let fw = &fws[i % fws.len()];
        let task_id = TaskId::new(format!("task-{i}"));
        let mut status = TaskStatus::new(task_id.clone(), TaskState::Running);
        status.timestamp = Some(1_700_000_000.0 + i as f64);
        tasks.add(Task {
            info: TaskInfo {
                name: format!("task {i}"),
                ..TaskInfo::command(task_id.as_str(), agent.clone(), "sleep 1000")
                    .with_resources(resources.clone())
            },
            framework_id: fw.clone(),
            agent_id: agent.clone(),
            state: TaskState::Running,
            status: Some(status),
            consumed: resources.clone(),
            role: "*".into(),
            recovered: false,
        });
    }
    (agents, frameworks, OfferBook::new("bench"), tasks)
}

/// One `GET` over a fresh connection; returns the body length.
fn get(addr: std::net::SocketAddr, path: &str) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect to the master");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("set a hang guard");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read the response");
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response head");
    assert!(out.starts_with(b"HTTP/1.1 200"), "state answered 200");
    out.len() - head_end - 4
}

/// CPU time of the calling thread (not inflated by other processes on a loaded machine).
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; the clock id is valid on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

fn p50(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (agent_count, task_count) = if quick {
        (1_000, 10_000)
    } else {
        (10_000, 100_000)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let node = Node::builder().build().await.expect("node starts");
        let master = Master::new(
            MasterConfig::new("bench", "localhost"),
            Box::new(InMemoryRegistrar::new()),
        );
        let pid = node.spawn_named("master", master).expect("master spawns");
        node.set_delegate(Some("master"));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (a, f, o, t) = books(agent_count, task_count);
        pid.dispatch(move |m, _| {
            m.install_books(a, f, o, t);
            let mut builds = Vec::new();
            let mut cpu = Vec::new();
            for _ in 0..RUNS {
                let start = Instant::now();
                let cpu_start = thread_cpu_ms();
                let body = meso_master::master::state_json::state(&m.state_view());
                cpu.push(thread_cpu_ms() - cpu_start);
                builds.push(start.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(body);
            }
            // GET_STATE's builder: the first call writes every task's v1 text, the next
            // ones copy it (the task book keeps it until a task changes).
            let mut get_state_cpu = Vec::new();
            for _ in 0..RUNS {
                let cpu_start = thread_cpu_ms();
                let body = query_answer(&m.state_view(), MasterCallType::GetState);
                get_state_cpu.push(thread_cpu_ms() - cpu_start);
                std::hint::black_box(body);
            }
            let _ = tx.send((p50(builds), cpu[0], p50(cpu), get_state_cpu[0], p50(get_state_cpu)));
        })
        .expect("master is running");
        let (build_ms, first_cpu_ms, build_cpu_ms, get_state_first_ms, get_state_ms) =
            rx.await.expect("books installed");
        let addr = node.addr();
        let http = tokio::task::spawn_blocking(move || {
            let mut times = Vec::new();
            let mut size = 0;
            for _ in 0..RUNS {
                let start = Instant::now();
                size = get(addr, "/master/state");
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            (p50(times), size)
        })
        .await
        .expect("http runs");
        let label = if quick {
            "1k_agents_10k_tasks"
        } else {
            "10k_agents_100k_tasks"
        };
        println!("master_state_ms_{label}: {:.1} ms", http.0);
        println!("master_state_build_ms_{label}: {build_ms:.1} ms");
        println!("master_state_build_cpu_ms_{label}: {build_cpu_ms:.1} ms");
        println!("master_state_first_build_cpu_ms_{label}: {first_cpu_ms:.1} ms (writes the tasks' text)");
        println!("get_state_build_cpu_ms_{label}: {get_state_ms:.1} ms");
        println!("get_state_first_build_cpu_ms_{label}: {get_state_first_ms:.1} ms (writes the tasks' text)");
        println!("master_state_bytes_{label}: {} bytes", http.1);
        node.shutdown().await;
    });
}
