//! `meso batch run` end to end against a real `meso master` and two `meso agent`s: node-a,
//! and node-b with attribute rack:r1. A two-stage job (maps preferring node-a or rack r1,
//! reduces after the maps preferring node-b) and a stage whose task always fails: the maps
//! and reduces run where they prefer, every reduce starts after every map ended (the
//! tasks log to a shared file), the failing task is retried once and then named in the
//! exit. `meso batch status` shows the job's tasks per stage, none of them killed by the
//! job's end. Waits are hang guards (the
//! locality wait is long so a loaded machine cannot make a task give up its preference).

use std::process::{Command, Stdio};

use meso_testkit::eventually::eventually;
use meso_testkit::http::blocking::try_get;
use meso_testkit::process::{free_port, meso_bin, spawn_agent, spawn_logged, wait_exit};

#[test]
fn a_two_stage_job_runs_in_order_where_it_prefers_and_reports_its_failed_task() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let _master = spawn_logged(
        &["master", "--port", &port.to_string()],
        &dir.path().join("master.log"),
    );
    eventually("master answers /health", || {
        try_get(port, "/master/health").is_some()
    });
    let master = format!("127.0.0.1:{port}");
    let res = "cpus:2;mem:512;disk:100";
    let _a = spawn_agent(&master, dir.path(), "a", res, &["--hostname", "node-a"]);
    let b_flags = ["--hostname", "node-b", "--attributes", "rack:r1"];
    let _b = spawn_agent(&master, dir.path(), "b", res, &b_flags);
    eventually("both agents registered", || {
        try_get(port, "/master/state").is_some_and(|s| s.text().contains("\"activated_slaves\":2"))
    });
    let events = dir.path().join("events");
    let log = |stage: &str| {
        format!(
            "echo start {stage} $MESO_BATCH_TASK_INDEX >> {0}; sleep 0.3; echo end {stage} $MESO_BATCH_TASK_INDEX >> {0}",
            events.display()
        )
    };
    let job = serde_json::json!({"name": "wc", "stages": [
        {"name": "map", "tasks": 4, "command": log("map"),
         "prefer": [{"hostname": "node-a", "tasks": [0, 1]}, {"attribute": "rack:r1", "tasks": [2, 3]}]},
        {"name": "reduce", "tasks": 2, "command": log("reduce"), "after": ["map"],
         "prefer": [{"hostname": "node-b"}]},
        {"name": "flaky", "tasks": 1, "command": "exit 3", "retries": 1},
    ]});
    let jobfile = dir.path().join("job.json");
    std::fs::write(&jobfile, job.to_string()).expect("job file");
    let mut child = Command::new(meso_bin())
        .args([
            "batch",
            "run",
            "--master",
            &master,
            "--locality-wait",
            "120secs",
        ])
        .args(["--retry-backoff", "100ms"])
        .arg(&jobfile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meso batch run starts");
    let status = wait_exit("meso batch run", &mut child);
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("1 tasks failed: flaky-0"), "{text}");
    assert_eq!(
        text.matches("flaky-0 failed (").count(),
        1,
        "one retry: {text}"
    );
    assert!(text.contains("flaky-0 failed for good"), "{text}");
    for (task, place) in [
        ("map-0", "node-a (host)"),
        ("map-1", "node-a (host)"),
        ("map-2", "node-b (attribute)"),
        ("map-3", "node-b (attribute)"),
        ("reduce-0", "node-b (host)"),
        ("reduce-1", "node-b (host)"),
    ] {
        assert!(
            text.contains(&format!("launching {task} on {place}")),
            "{task}: {text}"
        );
    }
    let events = std::fs::read_to_string(&events).expect("the tasks logged");
    let lines: Vec<&str> = events.lines().collect();
    let last_map_end = lines
        .iter()
        .rposition(|l| l.starts_with("end map"))
        .expect("maps ran");
    let first_reduce = lines
        .iter()
        .position(|l| l.starts_with("start reduce"))
        .expect("reduces ran");
    assert!(last_map_end < first_reduce, "reduces after maps:\n{events}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("end")).count(),
        6,
        "{events}"
    );

    let status = Command::new(meso_bin())
        .args(["batch", "status", "--master", &master, "wc"])
        .output()
        .expect("meso batch status runs");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(text.contains("job wc"), "{text}");
    let map = text
        .lines()
        .find(|l| l.contains("map") && l.contains("TASK_FINISHED"));
    assert!(map.is_some_and(|l| l.trim_end().ends_with(" 4")), "{text}");
    // The job's last task ended before the framework left: none shows as killed.
    assert!(!text.contains("TASK_KILLED"), "{text}");
}
