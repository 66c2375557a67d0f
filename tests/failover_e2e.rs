//! End-to-end master failover with real processes: three `meso master` processes with
//! `--peers`, two `meso agent` processes and two `meso execute` frameworks (each running one
//! long task), all given `--master a,b,c`. The leader is killed with SIGKILL twenty times in
//! a row (the killed master restarted on its work dir each time). After every kill a new
//! leader serves, both agents and both frameworks re-register with it, both tasks are still
//! TASK_RUNNING there and still the same OS process (each task appends its shell's pid to a
//! file when it starts: one line means it never restarted). At the end the tasks are told to
//! finish and both frameworks receive TASK_FINISHED (no status update lost) and exit 0.
//! Timeouts are hang guards only.

use meso_testkit::eventually::eventually_within;
use meso_testkit::http::blocking::try_get;
use meso_testkit::masters::Masters;
use meso_testkit::process::{free_port, spawn_logged, Proc};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const MESO: &str = env!("CARGO_BIN_EXE_meso");
const GUARD: Duration = Duration::from_secs(120);
const KILLS: usize = 20;
const FRAMEWORKS: [&str; 2] = ["long-a", "long-b"];

/// The leader's `/master/state`, when `port` serves as leader.
fn leader_state(port: u16) -> Option<Value> {
    let response = try_get(port, "/master/state")?;
    let v: Value = serde_json::from_slice(&response.body).ok()?;
    (response.status == 200 && v["elected"] == Value::Bool(true)).then_some(v)
}

/// True when the leader's state has both agents, and each framework connected and active
/// with its one task TASK_RUNNING.
fn everyone_back(state: &Value) -> bool {
    if state["activated_slaves"].as_u64() != Some(2) {
        return false;
    }
    FRAMEWORKS.iter().all(|name| {
        state["frameworks"].as_array().is_some_and(|fws| {
            fws.iter().any(|f| {
                f["name"] == *name
                    && f["connected"] == Value::Bool(true)
                    && f["active"] == Value::Bool(true)
                    && f["tasks"].as_array().is_some_and(|t| {
                        t.len() == 1 && t[0]["state"] == "TASK_RUNNING" && t[0]["id"] == *name
                    })
            })
        })
    })
}

/// The pids a task's shell wrote (one per start).
fn task_pids(file: &Path) -> Vec<i32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

struct Framework {
    name: &'static str,
    pid_file: PathBuf,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    proc: Proc,
}

impl Framework {
    fn wait_line(&mut self, what: &str) {
        loop {
            let line = self.lines.recv_timeout(GUARD).unwrap_or_else(|_| {
                panic!(
                    "hang guard: {} waiting for {what}; saw {:?}",
                    self.name, self.seen
                )
            });
            self.seen.push(line.clone());
            if line.contains(what) {
                return;
            }
        }
    }
}

#[test]
fn twenty_leader_kills_lose_no_task_and_no_update() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let mut masters = Masters::start(Path::new(MESO), root, 3, &[]);
    masters.wait_leader(GUARD);
    let addresses = masters.addresses();

    let _agents: Vec<Proc> = (0..2)
        .map(|i| {
            let work = root.join(format!("agent{i}"));
            let port = free_port().to_string();
            spawn_logged(
                &[
                    "agent",
                    "--master",
                    &addresses,
                    "--port",
                    &port,
                    "--work-dir",
                    work.to_str().expect("utf-8 temp path"),
                    "--resources",
                    "cpus:1;mem:256;disk:100",
                    "--registration-backoff-factor",
                    "100ms",
                ],
                &root.join(format!("agent{i}.log")),
            )
        })
        .collect();

    let stop = root.join("stop");
    let mut frameworks: Vec<Framework> = FRAMEWORKS
        .iter()
        .map(|name| {
            let pid_file = root.join(format!("{name}.pids"));
            let command = format!(
                "echo $$ >> {}; while [ ! -e {} ]; do sleep 0.1; done",
                pid_file.display(),
                stop.display()
            );
            let mut child = Command::new(MESO)
                .args([
                    "execute",
                    "--master",
                    &addresses,
                    "--name",
                    name,
                    "--command",
                    &command,
                    "--resources",
                    "cpus:0.5;mem:32",
                    "--failover-timeout",
                    "10mins",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::from(
                    std::fs::File::create(root.join(format!("{name}.log"))).expect("log file"),
                ))
                .spawn()
                .expect("meso execute starts");
            let stdout = child.stdout.take().expect("piped stdout");
            let (tx, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            Framework {
                name,
                pid_file,
                lines,
                seen: Vec::new(),
                proc: Proc(child),
            }
        })
        .collect();
    for f in &mut frameworks {
        f.wait_line("TASK_RUNNING");
    }
    let mut first_pids = Vec::new();
    for f in &frameworks {
        eventually_within("the task wrote its pid", GUARD, || {
            task_pids(&f.pid_file).len() == 1
        });
        first_pids.push(task_pids(&f.pid_file)[0]);
    }

    for kill in 1..=KILLS {
        let old = masters.wait_leader(GUARD);
        masters.kill9(old);
        let mut new = None;
        eventually_within(
            &format!("kill {kill}: a new leader with both agents and both frameworks back"),
            GUARD,
            || {
                new = (0..masters.ports.len()).find(|&i| {
                    i != old && leader_state(masters.ports[i]).is_some_and(|s| everyone_back(&s))
                });
                new.is_some()
            },
        );
        let new = new.expect("wait_until returned, so a leader was found");
        for (f, first) in frameworks.iter().zip(&first_pids) {
            assert_eq!(
                task_pids(&f.pid_file),
                vec![*first],
                "kill {kill}: task {} restarted",
                f.name
            );
            assert!(
                alive(*first),
                "kill {kill}: task {} (pid {first}) is gone",
                f.name
            );
        }
        masters.spawn(old);
        let leader_port = masters.ports[new];
        eventually_within(
            &format!("kill {kill}: the restarted master follows the leader"),
            GUARD,
            || masters.follows(old, leader_port),
        );
    }

    std::fs::write(&stop, b"").expect("stop file");
    for f in &mut frameworks {
        f.wait_line("TASK_FINISHED");
        let mut status = None;
        eventually_within("meso execute exits", GUARD, || {
            status = f.proc.0.try_wait().expect("wait on meso execute");
            status.is_some()
        });
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "{}: {:?}",
            f.name,
            f.seen
        );
        assert_eq!(task_pids(&f.pid_file).len(), 1, "{} restarted", f.name);
    }
}
