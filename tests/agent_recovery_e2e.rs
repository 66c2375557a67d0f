//! Agent restarts with real processes (issue 15): a `meso master`, a `meso agent` on a fixed
//! port and work dir, and `meso execute` (a checkpointing framework by default).
//!
//! - `kill -9` of the agent mid-task and a restart with the same flags: the task keeps its
//!   process (its shell wrote its pid once), the agent re-registers under the same id, and
//!   the task ends with its real exit status, never reported LOST.
//! - A damaged checkpoint stops a restarted agent under `--strict` with a message naming
//!   the file; with `--strict=false` the agent starts and reports the damage.
//! - A restart with changed `--resources` is refused under `--reconfiguration-policy=equal`
//!   naming the flag, and accepted (same agent id) under `additive` when they only grew.
//! - A custom executor of a framework without `checkpoint` that outlives its `kill -9`ed
//!   agent is destroyed by the restarted one (an orphan), and its task ends terminal.
//! - The default executor (on the executor SDK) of a checkpointing framework subscribes to
//!   the restarted agent again, and its task group's task runs once, to TASK_FINISHED.
//!
//! Timeouts are hang guards only.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use meso_testkit::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::{free_port, meso_bin, spawn_logged, wait_exit, Lines, Proc};
use meso_testkit::python_clients;

/// The body of `GET path` on loopback `port`, if anything answered.
fn http_get(port: u16, path: &str) -> Option<String> {
    try_get(port, path).map(|r| r.text())
}

/// Polls `ok` until it holds (hang-guarded, never a timing assertion).
fn wait_until(what: &str, ok: impl FnMut() -> bool) {
    eventually(what, ok)
}

/// A master and the flags of one agent that can be killed and started again.
struct Site {
    dir: tempfile::TempDir,
    master_port: u16,
    agent_port: u16,
    master: Proc,
}

impl Site {
    fn start() -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        let master_port = free_port();
        let master = spawn_logged(
            &["master", "--port", &master_port.to_string()],
            &dir.path().join("master.log"),
        );
        wait_until("master answers /health", || {
            http_get(master_port, "/master/health").is_some()
        });
        Site {
            dir,
            master_port,
            agent_port: free_port(),
            master,
        }
    }

    fn work_dir(&self) -> PathBuf {
        self.dir.path().join("agent")
    }

    fn agent_args(&self, resources: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "agent".into(),
            "--master".into(),
            format!("127.0.0.1:{}", self.master_port),
            "--port".into(),
            self.agent_port.to_string(),
            "--work-dir".into(),
            self.work_dir().display().to_string(),
            "--resources".into(),
            resources.into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Starts the agent (log `agent-<n>.log`).
    fn agent(&self, n: usize, resources: &str, extra: &[&str]) -> Proc {
        let args = self.agent_args(resources, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn_logged(&args, &self.log(n))
    }

    fn log(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("agent-{n}.log"))
    }

    fn state(&self) -> serde_json::Value {
        http_get(self.master_port, "/master/state")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    /// The id of the one agent the master has active.
    fn wait_agent_active(&self) -> String {
        let mut id = String::new();
        wait_until("the agent is active on the master", || {
            let state = self.state();
            let found = state["slaves"].as_array().and_then(|agents| {
                agents
                    .iter()
                    .find(|a| a["active"] == serde_json::Value::Bool(true))
                    .and_then(|a| a["id"].as_str().map(String::from))
            });
            match found {
                Some(found) => {
                    id = found;
                    true
                }
                None => false,
            }
        });
        id
    }

    fn execute(&self, name: &str, command: &str) -> (Proc, Lines) {
        self.execute_with(name, command, &[])
    }

    fn execute_with(&self, name: &str, command: &str, extra: &[&str]) -> (Proc, Lines) {
        let mut child = Command::new(meso_bin())
            .args([
                "execute",
                "--master",
                &format!("127.0.0.1:{}", self.master_port),
                "--name",
                name,
                "--command",
                command,
                "--resources",
                "cpus:0.1;mem:32",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("meso execute starts");
        let lines = Lines::of(&mut child);
        (Proc(child), lines)
    }
}

impl Drop for Site {
    /// Checkpointed executors outlive their agent by design: end every session an executor
    /// of this site's agent leads (its tasks included), so no test leaves processes behind.
    fn drop(&mut self) {
        let mut pids = Vec::new();
        collect_forked_pids(&self.work_dir().join("meta"), &mut pids);
        for sid in pids {
            for pid in session_members(sid) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

fn collect_forked_pids(dir: &Path, out: &mut Vec<u32>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            collect_forked_pids(&path, out);
        } else if path.file_name().is_some_and(|n| n == "forked.pid") {
            // One frame: 8 header bytes, then the pid in decimal.
            if let Ok(bytes) = std::fs::read(&path) {
                if let Some(pid) = bytes
                    .get(8..)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|t| t.trim().parse().ok())
                {
                    out.push(pid);
                }
            }
        }
    }
}

/// Processes whose session id is `sid`.
fn session_members(sid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let rest = stat.rsplit(')').next().unwrap_or("");
        if rest.split_whitespace().nth(3).and_then(|s| s.parse().ok()) == Some(sid) {
            out.push(pid);
        }
    }
    out
}

/// Waits until the agent has checkpointed its id (it writes it once registered).
fn wait_agent_checkpointed(site: &Site) {
    wait_until("the agent checkpointed its id", || {
        site.work_dir()
            .join("meta/slaves/latest/slave.info")
            .exists()
    });
}

fn kill9(agent: &mut Proc) {
    agent.0.kill().expect("SIGKILL the agent");
    let _ = agent.0.wait();
}

/// The pid the gated task's shell recorded (it may report RUNNING before it writes it).
fn task_pid(dir: &Path) -> u32 {
    let mut pid = 0;
    wait_until(
        "the task recorded its pid",
        || match std::fs::read_to_string(dir.join("pids"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        {
            Some(p) => {
                pid = p;
                true
            }
            None => false,
        },
    );
    pid
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {sig} {pid}");
}

/// A shell command that records its pid in `dir/pids`, waits for `dir/go`, then exits 7.
fn gated_command(dir: &Path) -> String {
    let d = dir.display();
    format!("echo $$ >> {d}/pids; while [ ! -e {d}/go ]; do sleep 0.05; done; exit 7")
}

#[test]
fn a_checkpointed_task_outlives_a_kill9_of_its_agent_and_ends_with_its_own_status() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    let agent_id = site.wait_agent_active();
    let (mut execute, mut lines) = site.execute("survivor", &gated_command(site.dir.path()));
    lines.wait_for("TASK_RUNNING");

    kill9(&mut agent);
    let _agent = site.agent(2, "cpus:2;mem:512;disk:100", &[]);
    wait_until("the executor re-subscribed to the restarted agent", || {
        std::fs::read_to_string(site.log(2)).is_ok_and(|l| l.contains("executor subscribed"))
    });
    assert_eq!(site.wait_agent_active(), agent_id, "the agent kept its id");

    std::fs::write(site.dir.path().join("go"), b"").unwrap();
    lines.wait_for("TASK_FAILED");
    let status = wait_exit("meso execute exits", &mut execute.0);
    assert_ne!(status.code(), Some(0));
    let seen = lines.seen.join("\n");
    assert!(seen.contains("status 7"), "the real exit status: {seen}");
    assert!(!seen.contains("TASK_LOST"), "{seen}");
    let pids = std::fs::read_to_string(site.dir.path().join("pids")).unwrap();
    assert_eq!(pids.lines().count(), 1, "the task never restarted: {pids}");
}

/// The first `task.info` under the agent's checkpoint.
fn find_task_info(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            if let Some(found) = find_task_info(&path) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == "task.info") {
            return Some(path);
        }
    }
    None
}

#[test]
fn a_damaged_checkpoint_stops_a_strict_agent_and_is_reported_by_a_lenient_one() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    site.wait_agent_active();
    let (_execute, mut lines) = site.execute("victim", &gated_command(site.dir.path()));
    lines.wait_for("TASK_RUNNING");
    kill9(&mut agent);

    let task_info = find_task_info(&site.work_dir().join("meta")).expect("a checkpointed task");
    let mut bytes = std::fs::read(&task_info).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    std::fs::write(&task_info, bytes).unwrap();

    let mut strict = site.agent(2, "cpus:2;mem:512;disk:100", &[]);
    let status = wait_exit("the strict agent stops", &mut strict.0);
    assert!(!status.success());
    let log = std::fs::read_to_string(site.log(2)).unwrap();
    assert!(
        log.contains(&task_info.display().to_string()) && log.contains("checksum"),
        "{log}"
    );

    let _lenient = site.agent(3, "cpus:2;mem:512;disk:100", &["--strict=false"]);
    wait_until("the lenient agent re-registered", || {
        std::fs::read_to_string(site.log(3)).is_ok_and(|l| l.contains("re-registered"))
    });
    let log = std::fs::read_to_string(site.log(3)).unwrap();
    assert!(
        log.contains("damaged checkpoint skipped")
            && log.contains(&task_info.display().to_string()),
        "{log}"
    );
    std::fs::write(site.dir.path().join("go"), b"").unwrap();
}

#[test]
fn changed_resources_are_refused_under_equal_and_growth_accepted_under_additive() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    let agent_id = site.wait_agent_active();
    wait_agent_checkpointed(&site);
    kill9(&mut agent);

    let mut grown = site.agent(2, "cpus:4;mem:512;disk:100", &[]);
    let status = wait_exit("the agent refuses the change", &mut grown.0);
    assert!(!status.success());
    let log = std::fs::read_to_string(site.log(2)).unwrap();
    assert!(
        log.contains("--resources") && log.contains("equal") && log.contains("cpus:4"),
        "{log}"
    );

    let _additive = site.agent(
        3,
        "cpus:4;mem:512;disk:100",
        &["--reconfiguration-policy", "additive"],
    );
    // The master learns the agent's new resources from its re-registration (master side);
    // here: the same agent id is back, and the agent itself runs with the grown ones.
    wait_until("the grown agent re-registered under its id", || {
        std::fs::read_to_string(site.log(3)).is_ok_and(|l| l.contains("re-registered"))
    });
    assert_eq!(site.wait_agent_active(), agent_id);
    let agent_state: serde_json::Value = http_get(site.agent_port, "/state")
        .and_then(|s| serde_json::from_str(&s).ok())
        .expect("the agent's /state");
    assert_eq!(
        agent_state["resources"]["cpus"].as_f64(),
        Some(4.0),
        "{agent_state}"
    );
}

#[test]
fn a_planned_stop_sigterm_leaves_checkpointed_tasks_running() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    site.wait_agent_active();
    let (mut execute, mut lines) = site.execute("upgraded", &gated_command(site.dir.path()));
    lines.wait_for("TASK_RUNNING");

    signal(agent.0.id(), "-TERM");
    let stopped = wait_exit("the agent stops on SIGTERM", &mut agent.0);
    assert!(stopped.success(), "{stopped:?}");
    let _agent = site.agent(2, "cpus:2;mem:512;disk:100", &[]);
    wait_until("the executor re-subscribed to the restarted agent", || {
        std::fs::read_to_string(site.log(2)).is_ok_and(|l| l.contains("executor subscribed"))
    });
    std::fs::write(site.dir.path().join("go"), b"").unwrap();
    lines.wait_for("TASK_FAILED");
    wait_exit("meso execute exits", &mut execute.0);
    let seen = lines.seen.join("\n");
    assert!(
        seen.contains("status 7") && !seen.contains("TASK_LOST"),
        "{seen}"
    );
    let pids = std::fs::read_to_string(site.dir.path().join("pids")).unwrap();
    assert_eq!(pids.lines().count(), 1, "the task never restarted: {pids}");
}

#[test]
fn an_update_taken_but_not_acknowledged_when_the_agent_dies_is_delivered_after_restart() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    site.wait_agent_active();
    let (mut execute, mut lines) = site.execute("inflight", &gated_command(site.dir.path()));
    lines.wait_for("TASK_RUNNING");

    // The master cannot answer: the task's terminal update is taken (and checkpointed)
    // by the agent but never acknowledged.
    signal(site.master.0.id(), "-STOP");
    std::fs::write(site.dir.path().join("go"), b"").unwrap();
    wait_until("the agent took the terminal update", || {
        std::fs::read_to_string(site.log(1)).is_ok_and(|l| l.contains("TASK_FAILED"))
            || find_updates_with(&site.work_dir().join("meta"), b"TASK_FAILED")
    });
    kill9(&mut agent);
    signal(site.master.0.id(), "-CONT");

    let _agent = site.agent(2, "cpus:2;mem:512;disk:100", &[]);
    lines.wait_for("TASK_FAILED");
    wait_exit("meso execute exits", &mut execute.0);
    let seen = lines.seen.join("\n");
    assert!(
        seen.contains("status 7") && !seen.contains("TASK_LOST"),
        "{seen}"
    );
}

/// Whether some `task.updates` under `dir` holds `needle`.
fn find_updates_with(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            find_updates_with(&path, needle)
        } else {
            path.file_name().is_some_and(|n| n == "task.updates")
                && std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

#[test]
fn a_task_of_a_framework_without_checkpoint_dies_with_its_agent_and_is_reported_lost() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    site.wait_agent_active();
    let (_execute, mut lines) = site.execute_with(
        "ephemeral",
        &gated_command(site.dir.path()),
        &["--checkpoint=false"],
    );
    lines.wait_for("TASK_RUNNING");
    assert!(
        !site
            .work_dir()
            .join("meta/slaves/latest/frameworks")
            .exists(),
        "nothing of a framework without checkpoint is written"
    );
    let pid = task_pid(site.dir.path());
    kill9(&mut agent);
    wait_until("the task's process ends with its agent", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    let _agent = site.agent(2, "cpus:2;mem:512;disk:100", &[]);
    wait_until("the agent re-registered", || {
        std::fs::read_to_string(site.log(2)).is_ok_and(|l| l.contains("re-registered"))
    });
    let log = std::fs::read_to_string(site.log(2)).unwrap();
    assert!(!log.contains("re-attached"), "{log}");
    // The master reports it (its link to the agent broke; the framework does not
    // checkpoint).
    lines.wait_for("TASK_LOST");
}

/// scheduler.py (a checkpointing framework) running one task of the custom executor
/// executor.py, or a task group of it, across a `kill -9` and restart of the agent.
fn custom_executor_survives_agent_restart(group: bool) {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    site.wait_agent_active();
    let executor = format!(
        "HTTP_EXECUTOR_TASK_SECONDS=3 {}",
        python_clients::executor_py_command()
    );
    let master = format!("127.0.0.1:{}", site.master_port);
    let mut args = vec![
        python_clients::clients_dir()
            .join("scheduler.py")
            .display()
            .to_string(),
        "--master".into(),
        master,
        "--timeout".into(),
        "90".into(),
        "--checkpoint".into(),
        "--executor-command".into(),
        executor,
        "--want".into(),
        "TASK_FINISHED".into(),
    ];
    if group {
        args.extend(["--task-group".into(), "--tasks".into(), "2".into()]);
    }
    let mut scheduler = Proc(
        Command::new(python_clients::python3())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(site.dir.path().join("scheduler.log")).unwrap())
            .spawn()
            .expect("python3 starts"),
    );
    wait_until("the custom executor subscribed", || {
        std::fs::read_to_string(site.log(1)).is_ok_and(|l| l.contains("executor subscribed"))
    });
    kill9(&mut agent);
    // executor.py retries at random intervals up to MESOS_SUBSCRIPTION_BACKOFF_MAX (2secs),
    // as Mesos's library does: on a loaded machine that can exceed the default 2secs the
    // agent waits, which is what --executor-reregistration-timeout is for.
    let _agent = site.agent(
        2,
        "cpus:2;mem:512;disk:100",
        &["--executor-reregistration-timeout", "15secs"],
    );
    let status = wait_exit("scheduler.py exits", &mut scheduler.0);
    let log = std::fs::read_to_string(site.log(2)).unwrap();
    let scheduler_log = std::fs::read_to_string(site.dir.path().join("scheduler.log")).unwrap();
    assert_eq!(status.code(), Some(0), "{scheduler_log}\n{log}");
    assert!(log.contains("re-attached"), "{log}");
    assert!(!scheduler_log.contains("TASK_LOST"), "{scheduler_log}");
}

#[test]
fn a_custom_executor_re_subscribes_to_its_restarted_agent() {
    custom_executor_survives_agent_restart(false);
}

#[test]
fn a_task_group_survives_an_agent_restart() {
    custom_executor_survives_agent_restart(true);
}

#[test]
fn recover_cleanup_kills_and_reports_the_previous_run_s_tasks() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    let agent_id = site.wait_agent_active();
    let (mut execute, mut lines) = site.execute("cleaned", &gated_command(site.dir.path()));
    lines.wait_for("TASK_RUNNING");
    let pid = task_pid(site.dir.path());
    kill9(&mut agent);
    let _agent = site.agent(2, "cpus:2;mem:512;disk:100", &["--recover", "cleanup"]);
    lines.wait_for("TASK_FAILED");
    wait_exit("meso execute exits", &mut execute.0);
    let seen = lines.seen.join("\n");
    assert!(seen.contains("--recover=cleanup"), "{seen}");
    wait_until("the task's process is gone", || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    assert_eq!(site.wait_agent_active(), agent_id);
}

/// Whether `pid` runs (gone or a zombie: not).
fn running(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next();
    !matches!(state, None | Some("Z") | Some("X"))
}

/// Kills a process a failed test would leave behind.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if running(self.0) {
            let _ = Command::new("kill")
                .args(["-9", &self.0.to_string()])
                .status();
        }
    }
}

#[test]
fn an_orphaned_executor_of_a_framework_without_checkpoint_is_destroyed_on_restart() {
    let site = Site::start();
    let mut agent = site.agent(1, "cpus:2;mem:512;disk:100", &[]);
    site.wait_agent_active();
    // A custom executor that ignores its agent going away (it never even subscribes).
    let pid_file = site.dir.path().join("executor.pid");
    let executor = format!("echo $$ > {}; exec sleep 600", pid_file.display());
    let mut scheduler = Proc(
        Command::new(python_clients::python3())
            .args([
                python_clients::clients_dir()
                    .join("scheduler.py")
                    .display()
                    .to_string(),
                "--master".into(),
                format!("127.0.0.1:{}", site.master_port),
                "--timeout".into(),
                "90".into(),
                "--executor-command".into(),
                executor,
                "--want".into(),
                "TASK_LOST,TASK_FAILED,TASK_KILLED,TASK_DROPPED,TASK_GONE".into(),
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(site.dir.path().join("scheduler.log")).unwrap())
            .spawn()
            .expect("python3 starts"),
    );
    let mut pid = 0;
    wait_until(
        "the executor recorded its pid",
        || match std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            Some(p) => {
                pid = p;
                true
            }
            None => false,
        },
    );
    let _guard = KillOnDrop(pid);
    // The executor can write its pid before the agent's thread gets to record the
    // container (a loaded machine): the kill below is meant to come after the record.
    wait_until("the agent recorded the container", || {
        meso_agent::checkpoint::runtime::live(&site.work_dir()).is_ok_and(|live| !live.is_empty())
    });
    assert!(
        !site
            .work_dir()
            .join("meta/slaves/latest/frameworks")
            .exists(),
        "nothing of a framework without checkpoint is checkpointed"
    );
    kill9(&mut agent);
    assert!(running(pid), "the executor outlived its agent");

    let _agent = site.agent(2, "cpus:2;mem:512;disk:100", &[]);
    wait_until(
        "the restarted agent destroyed the orphaned executor",
        || !running(pid),
    );
    let status = wait_exit("scheduler.py exits", &mut scheduler.0);
    let scheduler_log = std::fs::read_to_string(site.dir.path().join("scheduler.log")).unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "terminal for the framework: {scheduler_log}"
    );
    let log = std::fs::read_to_string(site.log(2)).unwrap();
    assert!(
        log.contains("orphan container destroyed") && log.contains(&pid.to_string()),
        "{log}"
    );
    let records = std::fs::read_to_string(site.work_dir().join("runtime/containers.log"))
        .expect("the agent keeps its runtime records in runtime/containers.log");
    assert!(
        meso_agent::checkpoint::runtime::live(&site.work_dir())
            .unwrap()
            .is_empty(),
        "the orphan's runtime record is gone: {records}"
    );
}

/// The executor SDK's re-subscription (frameworks/src/executor/driver.rs) with real
/// processes: a checkpointing framework (`tests/http_clients/scheduler.py`) runs a task
/// group on the default executor (`meso executor default`, built on the SDK); the agent is
/// `kill -9`ed mid-task and started again. The executor subscribes again with its
/// unacknowledged task, the task keeps its process (its shell wrote its pid once) and ends
/// TASK_FINISHED through the restarted agent.
#[test]
fn the_default_executor_resubscribes_after_its_agent_restarts() {
    let site = Site::start();
    let resources = "cpus:2;mem:512;disk:100";
    let mut agent = site.agent(0, resources, &[]);
    site.wait_agent_active();
    let pids = site.dir.path().join("group-pids");
    let command = format!("echo $$ >> {}; sleep 6", pids.display());
    let master = format!("127.0.0.1:{}", site.master_port);
    let mut scheduler = Command::new(python_clients::python3())
        .arg(python_clients::clients_dir().join("scheduler.py"))
        .args(["--master", &master, "--task-group", "--checkpoint"])
        .args(["--group-executor-type", "DEFAULT", "--timeout", "120"])
        .args(["--command", &command])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scheduler.py starts");
    let started = || {
        std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .lines()
            .count()
    };
    wait_until("the group's task started", || started() == 1);
    agent.kill9();
    let _agent = site.agent(1, resources, &[]);
    let status = wait_exit("scheduler.py", &mut scheduler);
    let out = scheduler.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = meso_testkit::process::logs_in(
        site.dir.path(),
        &["master.log", "agent-0.log", "agent-1.log"],
    );
    assert_eq!(status.code(), Some(0), "{text}\n{logs}");
    assert!(text.contains("TASK_FINISHED"), "{text}");
    // The restarted agent launched no executor: one that subscribes to it came back.
    let restarted = std::fs::read_to_string(site.log(1)).expect("the agent's log");
    assert!(
        restarted.contains("executor subscribed") && !restarted.contains("launched executor"),
        "the executor did not subscribe again: {logs}"
    );
    assert_eq!(started(), 1, "the task ran once");
}
