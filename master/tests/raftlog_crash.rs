//! Crash safety of the log with a real kill -9: a child OS process (this test binary started
//! again) runs a one-node registry log and prints `ACK <n>` for every admitted agent whose
//! proposal resolved; the parent kills it with SIGKILL mid-stream, then opens the same work
//! dir and checks that every acknowledged agent is there. Three rounds on one dir.

use libprocess::Node;
use meso_api::v1::{AgentId, AgentInfo};
use meso_master::raftlog::{RaftLog, RaftLogOptions};
use meso_registry::{Operation, Registry};
use meso_testkit::eventually::eventually_async_within;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_DIR: &str = "MESO_RAFTLOG_CRASH_CHILD_DIR";
const CHILD_FIRST: &str = "MESO_RAFTLOG_CRASH_CHILD_FIRST";

fn agent(n: u64) -> Operation {
    let mut info = AgentInfo::new(&format!("host{n}"));
    info.id = Some(AgentId::new(format!("agent-{n}")));
    Operation::AdmitAgent(info)
}

/// Not a test: the child's body. Proposes agents from `CHILD_FIRST` on, 16 in flight, and
/// prints an acknowledgement line for each until it is killed.
#[test]
fn crash_child_entry() {
    let (Some(dir), Some(first)) = (std::env::var_os(CHILD_DIR), std::env::var_os(CHILD_FIRST))
    else {
        return;
    };
    let first: u64 = first.to_str().unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let node = Node::builder().build().await.unwrap();
        // The parent may still be releasing the store: retry opening for a while.
        let log = eventually_async_within(
            "the child to open the log",
            Duration::from_secs(30),
            || async {
                let options = RaftLogOptions::for_member(node.addr(), &[]).unwrap();
                RaftLog::<Registry>::start(&node, options, std::path::Path::new(&dir))
            },
        )
        .await;
        let mut next = first;
        loop {
            let batch: Vec<u64> = (next..next + 16).collect();
            next += 16;
            let outcomes =
                futures::future::join_all(batch.iter().map(|n| log.propose(agent(*n)))).await;
            let mut out = std::io::stdout().lock();
            for (n, outcome) in batch.iter().zip(outcomes) {
                if outcome == Ok(Ok(())) {
                    writeln!(out, "ACK {n}").unwrap();
                }
            }
            out.flush().unwrap();
        }
    });
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the child until it has acknowledged at least `count` agents, then SIGKILLs it.
fn run_child_and_kill(dir: &std::path::Path, first: u64, count: usize) -> BTreeSet<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_entry",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_FIRST, first.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary can start itself");
    let stdout = child.stdout.take().unwrap();
    let mut child = Child(child);
    let mut acked = BTreeSet::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output is text");
        if let Some(at) = line.find("ACK ") {
            acked.insert(line[at + 4..].trim().parse::<u64>().unwrap());
            if acked.len() >= count {
                break;
            }
        }
    }
    assert!(
        acked.len() >= count,
        "child exited after {} acks",
        acked.len()
    );
    // Child::kill is SIGKILL on Unix: no destructor, no flush, nothing runs in the child.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked_all = BTreeSet::new();
    for round in 0..3u64 {
        let path = dir.path().to_path_buf();
        let acked =
            tokio::task::spawn_blocking(move || run_child_and_kill(&path, round * 100_000, 150))
                .await
                .unwrap();
        acked_all.extend(acked);
        // Open the same dir here and look.
        let node = Node::builder().build().await.unwrap();
        let options = RaftLogOptions::for_member(node.addr(), &[]).unwrap();
        let log = RaftLog::<Registry>::start(&node, options, dir.path()).unwrap();
        let admitted: BTreeSet<u64> = eventually_async_within(
            "the restarted node to lead and read",
            Duration::from_secs(60),
            || {
                log.read(|r| {
                    r.admitted()
                        .map(|(id, _)| id.to_string()["agent-".len()..].parse::<u64>().unwrap())
                        .collect::<BTreeSet<u64>>()
                })
            },
        )
        .await;
        let lost: Vec<&u64> = acked_all.difference(&admitted).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged but lost: {lost:?}"
        );
        log.stop();
        node.shutdown().await;
    }
}
