//! End-to-end, real processes and real cgroups: `meso master`, `meso agent
//! --resource-estimator load --qos-controller load` with `cgroups/cpu,cgroups/mem`, and
//! `meso execute` schedulers. An idle agent offers revocable cpus; a revocable `sleep` task
//! runs in a cgroup with the smallest CPU weight, under the lowest-weight revocable root; once
//! the agent's QoS controller reports no interference with it running (and nothing evicted),
//! two CPU hogs started outside meso (the machine's own work) get it evicted, TASK_KILLED with
//! REASON_CONTAINER_PREEMPTED and a message naming the `cpu` signal, at a time the agent
//! stamped after the kernel started the hogs; the revocable total falls to nothing; once the
//! hogs stop a new revocable task runs again; a non-revocable task on the same agent runs
//! through all of it. The agent logs the eviction with the task's id and when its signal
//! crossed, then the container gone with the latency, which its timer
//! `slave/qos_eviction_latency_ms` counts.
//!
//! The estimator measures the whole machine, so the test needs a machine that is not
//! already busy: `.config/nextest.toml` runs it alone. Timeouts are hang guards only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually::{eventually, eventually_within};
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::meso_bin;
use serde_json::Value;

/// The agent's cgroups root of this test, removed (when empty) at the end with its
/// revocable sibling.
struct CgroupsRoot(String);

impl Drop for CgroupsRoot {
    fn drop(&mut self) {
        for hierarchy in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(hierarchy.path().join(&self.0));
            let _ = std::fs::remove_dir(hierarchy.path().join(format!("{}_revocable", self.0)));
        }
    }
}

/// Child processes killed when the test ends, however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `meso execute` with `args`, its output to `log`.
fn execute(master_port: u16, log: &Path, args: &[&str]) -> Child {
    let out = std::fs::File::create(log).expect("execute log");
    let master = format!("127.0.0.1:{master_port}");
    Command::new(meso_bin())
        .args(["execute", "--master", &master, "--checkpoint=false"])
        .args(args)
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .spawn()
        .expect("meso execute starts")
}

/// A busy loop outside meso: the machine's own work.
fn hog() -> Child {
    Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .stdout(Stdio::null())
        .spawn()
        .expect("sh starts")
}

fn json(port: u16, path: &str) -> Option<Value> {
    let response = try_get(port, path)?;
    serde_json::from_str(&response.text()).ok()
}

fn metric(port: u16, name: &str) -> Option<f64> {
    json(port, "/metrics/snapshot")?.get(name)?.as_f64()
}

/// The state of the task named `name` in `/master/state`.
fn task_state(port: u16, name: &str) -> Option<String> {
    let state = json(port, "/master/state")?;
    // A `meso execute` exits once its task ends, so its framework may be completed already.
    state["frameworks"]
        .as_array()?
        .iter()
        .chain(
            state["completed_frameworks"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .flat_map(|f| {
            f["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(f["completed_tasks"].as_array().into_iter().flatten())
        })
        .find(|t| t["name"] == name)
        .and_then(|t| t["state"].as_str().map(str::to_string))
}

/// The agent's HTTP port, from its pid in `/master/state`.
fn agent_port(master_port: u16) -> Option<u16> {
    let state = json(master_port, "/master/state")?;
    let pid = state["slaves"][0]["pid"].as_str()?.to_string();
    pid.rsplit(':').next()?.parse().ok()
}

/// `cpu.shares` (cgroups v1) or `cpu.weight` (v2) of the cgroup `root` itself and of every
/// container cgroup under it.
fn cpu_weights(root: &str) -> (Option<u64>, Vec<u64>) {
    let mut own = None;
    let mut out = Vec::new();
    let weight = |dir: &Path, file: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    for (dir, file) in [
        (PathBuf::from("/sys/fs/cgroup/cpu").join(root), "cpu.shares"),
        (PathBuf::from("/sys/fs/cgroup").join(root), "cpu.weight"),
    ] {
        own = own.or(weight(&dir, file));
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            out.extend(weight(&entry.path(), file));
        }
    }
    (own, out)
}

/// When the kernel started process `pid`, in seconds since the epoch (`/proc/PID/stat`'s
/// start time in clock ticks after boot, `/proc/stat`'s boot time; Linux's USER_HZ is 100).
fn started_at(pid: u32) -> f64 {
    let stat = read(&PathBuf::from(format!("/proc/{pid}/stat")));
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    // Fields after the name start at field 3; the start time is field 22.
    let ticks: f64 = after_name
        .split_whitespace()
        .nth(19)
        .and_then(|t| t.parse().ok())
        .expect("a start time in /proc/PID/stat");
    let boot: f64 = read(Path::new("/proc/stat"))
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|b| b.trim().parse().ok())
        .expect("btime in /proc/stat");
    boot + ticks / 100.0
}

/// The agent's timestamp on the status of task `name` in state `state` (`/master/state`).
fn status_time(port: u16, name: &str, state: &str) -> Option<f64> {
    let body = json(port, "/master/state")?;
    let frameworks = body["frameworks"].as_array().into_iter().flatten().chain(
        body["completed_frameworks"]
            .as_array()
            .into_iter()
            .flatten(),
    );
    let tasks = frameworks.flat_map(|f| {
        f["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(f["completed_tasks"].as_array().into_iter().flatten())
    });
    let task = tasks.into_iter().find(|t| t["name"] == name)?;
    task["statuses"]
        .as_array()?
        .iter()
        .find(|s| s["state"] == state)?["timestamp"]
        .as_f64()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn revocable_tasks_use_idle_cpus_and_are_evicted_when_the_machine_needs_them() {
    meso_testkit::skip_unless_root!("cgroups need root");
    let cgroups_root = CgroupsRoot(format!("meso-e2e-oversub-{}", std::process::id()));
    let cluster = Cluster::start_with_agent_flags(&[
        "--isolation",
        "cgroups/cpu,cgroups/mem",
        "--cgroups-root",
        &cgroups_root.0,
        "--resource-estimator",
        "load",
        "--qos-controller",
        "load",
        "--oversubscribed-resources-interval",
        "1secs",
        "--qos-correction-interval-min",
        "250ms",
        "--qos-cpu-threshold",
        "0.9",
        "--oversubscription-headroom",
        "cpus:0.1;mem:64",
    ]);
    let port = cluster.master_port;
    let dir = cluster.dir.path().to_path_buf();
    let mut children = Children(Vec::new());

    // An idle agent offers revocable cpus.
    eventually_within(
        "the master counts revocable cpus (none while the machine has no idle CPU: is it busy?)",
        Duration::from_secs(60),
        || metric(port, "master/cpus_revocable_total").is_some_and(|c| c > 0.0),
    );

    // The machine owner's task: non-revocable, through everything below.
    let owner_log = dir.join("owner.log");
    children.0.push(execute(
        port,
        &owner_log,
        &[
            "--name",
            "owner",
            "--command",
            "sleep 1000",
            "--resources",
            "cpus:0.5;mem:32",
        ],
    ));
    eventually("the owner's task runs", || {
        task_state(port, "owner").is_some_and(|s| s == "TASK_RUNNING")
    });

    // A revocable task runs, at the lowest CPU weight.
    let batch_log = dir.join("batch.log");
    let batch = execute(
        port,
        &batch_log,
        &[
            "--revocable",
            "--name",
            "batch",
            "--command",
            "sleep 1000",
            "--resources",
            "cpus:0.1;mem:32",
        ],
    );
    children.0.push(batch);
    eventually("the revocable task runs", || {
        task_state(port, "batch").is_some_and(|s| s == "TASK_RUNNING")
    });
    assert!(
        metric(port, "master/cpus_revocable_used").is_some_and(|u| u >= 0.1),
        "revocable use counted\n{}",
        cluster.logs()
    );
    let summary = json(port, "/master/state").expect("/master/state")["revocable"].clone();
    assert!(
        summary["used"]["cpus"].as_f64() >= Some(0.1)
            && summary["total"]["cpus"].as_f64() >= summary["used"]["cpus"].as_f64(),
        "/master/state shows revocable cpus used of the total: {summary}"
    );
    // Weights count among siblings only: the revocable container sits under a sibling of
    // the cgroups root that itself has the lowest weight against the host's processes (a
    // parent made idle with `cpu.idle` reads back as the idle weight, 3).
    let revocable = cpu_weights(&format!("{}_revocable", cgroups_root.0));
    assert!(
        matches!(revocable, (Some(1..=3), ref w) if w.len() == 1 && (1..=2).contains(&w[0])),
        "the revocable container and its parent have the lowest CPU weight: {revocable:?}"
    );
    let (_, owners) = cpu_weights(&cgroups_root.0);
    assert!(
        owners.iter().any(|w| *w >= 512) && !owners.iter().any(|w| *w <= 2),
        "the owner's container keeps its weight under the root: {owners:?}"
    );

    // Before the hogs: the controller, with the revocable task running, sees no
    // interference and has evicted nothing (so what follows is the hogs' doing, not the
    // start-up of this test's own processes).
    let agent = agent_port(port).expect("the agent's port");
    eventually("the QoS controller reports no interference", || {
        metric(agent, "slave/qos_interference") == Some(0.0)
    });
    assert_eq!(
        (
            metric(agent, "slave/executors_preempted"),
            task_state(port, "batch").as_deref()
        ),
        (Some(0.0), Some("TASK_RUNNING")),
        "nothing evicted before the hogs start\n{}",
        cluster.logs()
    );

    // The machine's own work needs both cores: the revocable task goes.
    let hogs = Children(vec![hog(), hog()]);
    let hogs_started = hogs
        .0
        .iter()
        .map(|h| started_at(h.id()))
        .fold(f64::MAX, f64::min);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while task_state(port, "batch").is_none_or(|s| s != "TASK_KILLED") {
        assert!(
            std::time::Instant::now() < deadline,
            "hang guard (120s): the revocable task is not evicted\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let batch = &mut children.0[1];
    eventually("the revocable task's scheduler exits", || {
        batch.try_wait().ok().flatten().is_some()
    });
    let said = read(&batch_log);
    assert!(
        said.contains("TASK_KILLED (REASON_CONTAINER_PREEMPTED)") && said.contains("signal 'cpu'"),
        "the eviction names its reason and signal:\n{said}"
    );
    let killed_at = status_time(port, "batch", "TASK_KILLED").expect("the kill's timestamp");
    // USER_HZ resolution of the hogs' start: 10 ms.
    assert!(
        killed_at >= hogs_started - 0.01,
        "the agent evicted at {killed_at}, after the hogs started at {hogs_started}"
    );
    assert_eq!(
        metric(
            port,
            "master/task_killed/source_slave/reason_container_preempted"
        ),
        Some(1.0)
    );
    assert_eq!(metric(agent, "slave/executors_preempted"), Some(1.0));
    // The eviction's latency, as the agent logs and counts it.
    eventually("the agent counts the eviction's latency", || {
        metric(agent, "slave/qos_eviction_latency_ms/count") == Some(1.0)
    });
    let agent_log = read(&dir.join("agent.log"));
    let evicting = agent_log
        .lines()
        .find(|l| l.contains("evicting a revocable container"))
        .expect("the agent logs the eviction");
    // `meso execute` uses the task's name as its id.
    let batch_task = "batch";
    let value = |line: &str, key: &str| -> Option<String> {
        let rest = line.split(&format!(" {key}=")).nth(1)?;
        Some(
            rest.split_whitespace()
                .next()?
                .trim_matches('"')
                .to_string(),
        )
    };
    assert!(
        value(evicting, "task_ids").is_some_and(|t| t.split(',').any(|t| t == batch_task))
            && value(evicting, "signal_at").is_some_and(|t| t.parse::<f64>().is_ok()),
        "the eviction names the task {batch_task} and when its signal crossed: {evicting}"
    );
    let container = value(evicting, "container_id").expect("a container id");
    assert!(
        agent_log
            .lines()
            .any(|l| l.contains("evicted container gone")
                && value(l, "container_id").as_deref() == Some(&container)
                && value(l, "latency_ms").is_some_and(|t| t.parse::<f64>().is_ok())),
        "the agent logs the evicted container gone with its latency\n{agent_log}"
    );
    assert_eq!(
        json(port, "/master/state").expect("/master/state")["revocable"]["evicted_tasks"],
        1,
        "/master/state counts the eviction"
    );
    eventually("the revocable total falls", || {
        metric(port, "master/cpus_revocable_total").is_some_and(|c| c < 0.1)
    });

    // The work stops: revocable offers come back, and a revocable task runs again.
    drop(hogs);
    eventually("revocable cpus are counted again", || {
        metric(port, "master/cpus_revocable_total").is_some_and(|c| c >= 0.1)
    });
    let again_log = dir.join("again.log");
    children.0.push(execute(
        port,
        &again_log,
        &[
            "--revocable",
            "--name",
            "again",
            "--command",
            "sleep 1000",
            "--resources",
            "cpus:0.1;mem:32",
        ],
    ));
    eventually("a new revocable task runs", || {
        task_state(port, "again").is_some_and(|s| s == "TASK_RUNNING")
    });

    assert_eq!(
        task_state(port, "owner").as_deref(),
        Some("TASK_RUNNING"),
        "the owner's task ran through it all\n{}",
        read(&owner_log)
    );
    drop(children);
    drop(cluster);
}
