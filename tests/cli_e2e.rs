//! End-to-end: the operator commands of the real `meso` binary against a real master and
//! agent (and three masters for leader finding): tables and `--json`, the task filters,
//! `task inspect|logs [-f]|kill`, `sandbox ls|cat` through the master's agent proxy,
//! `framework teardown`, `agent drain`, `execute --attach`, the master from `--master`,
//! `MESO_MASTER` or the config file, credentials, and the errors and exit codes for a bad
//! address, an unknown task and a refused call.
//!
//! Timeouts are hang guards only.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually::{eventually, eventually_within};
use meso_testkit::masters::Masters;
use meso_testkit::process::{free_port, meso_bin, spawn_agent, spawn_logged, wait_exit, Proc};
use serde_json::Value;

/// What one `meso` run printed and how it exited.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    fn ok(self) -> Run {
        assert_eq!(
            self.code,
            Some(0),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A `meso` command with no master, credentials or config from the test's environment.
fn meso_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(meso_bin());
    cmd.args(args)
        .env_remove("MESO_MASTER")
        .env_remove("MESO_PRINCIPAL")
        .env_remove("MESO_SECRET_FILE")
        .env_remove("MESO_CONFIG")
        .env("HOME", "/nonexistent-home-for-meso-tests")
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::null());
    cmd
}

fn meso(args: &[&str]) -> Run {
    let out = meso_cmd(args).output().expect("meso runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `meso execute` in the background (its stdout piped).
fn execute_in_background(master: &str, name: &str, command: &str) -> Proc {
    let child: Child = meso_cmd(&[
        "execute",
        "--master",
        master,
        "--name",
        name,
        "--command",
        command,
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("meso execute starts");
    Proc(child)
}

fn task_state(master: &str, id: &str) -> Option<String> {
    let run = meso(&["tasks", "--master", master, "--json"]);
    run.json()
        .as_array()?
        .iter()
        .find(|t| t["id"] == id)
        .and_then(|t| t["state"].as_str().map(str::to_string))
}

#[test]
fn operator_commands_list_inspect_read_and_kill_a_running_task() {
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let m = master.as_str();
    let mut execute = execute_in_background(m, "sleeper", "echo hello-from-task; sleep 120");
    eventually("the task runs", || {
        task_state(m, "sleeper").as_deref() == Some("TASK_RUNNING")
    });

    // Agents: a table and the master's own objects.
    let agents = meso(&["agents", "--master", m, "--json"]).ok().json();
    let agent = agents[0]["id"].as_str().expect("agent id").to_string();
    let hostname = agents[0]["hostname"]
        .as_str()
        .expect("hostname")
        .to_string();
    let table = meso(&["agents", "--master", m]).ok().stdout;
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.contains(&agent) && table.contains("active") && table.contains("0.1/2"),
        "{table}"
    );

    // Frameworks: the execute framework, registered as this OS user and host.
    let frameworks = meso(&["frameworks", "--master", m, "--json"]).ok().json();
    let framework = frameworks
        .as_array()
        .expect("an array")
        .iter()
        .find(|f| f["name"] == "sleeper")
        .expect("the sleeper framework")
        .clone();
    assert_eq!(framework["user"], whoami().as_str(), "{framework}");
    assert!(
        !framework["hostname"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{framework}"
    );
    let table = meso(&["frameworks", "--master", m]).ok().stdout;
    assert!(
        table.contains("sleeper") && table.contains("active"),
        "{table}"
    );

    // Tasks, with each filter kept and refused.
    let table = meso(&["tasks", "--master", m]).ok().stdout;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("sleeper") && l.contains("RUNNING")),
        "{table}"
    );
    for (filter, value, kept) in [
        ("--state", "running", true),
        ("--state", "TASK_FINISHED", false),
        ("--name", "sleep", true),
        ("--name", "nothing-like-it", false),
        ("--agent", hostname.as_str(), true),
        ("--agent", agent.as_str(), true),
        ("--agent", "other-host", false),
        ("--framework", "sleeper", true),
        ("--framework", framework["id"].as_str().expect("id"), true),
        ("--framework", "other", false),
    ] {
        let listed = meso(&["tasks", "--master", m, "--json", filter, value])
            .ok()
            .json();
        let ids: Vec<&str> = listed
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert_eq!(ids.contains(&"sleeper"), kept, "{filter} {value}: {ids:?}");
    }

    let roles = meso(&["roles", "--master", m]).ok().stdout;
    assert!(
        roles.starts_with("ROLE") && roles.lines().any(|l| l.starts_with("* ")),
        "{roles}"
    );
    let offers = meso(&["offers", "--master", m, "--json"]).ok().json();
    assert!(offers.is_array(), "{offers}");
    assert!(meso(&["offers", "--master", m])
        .ok()
        .stdout
        .starts_with("ID"));

    // Maintenance shows the master's schedule (empty here) as a table.
    let maintenance = meso(&["maintenance", "--master", m]);
    assert_eq!(maintenance.code, Some(0), "{}", maintenance.stderr);
    assert!(
        maintenance.stdout.starts_with("HOSTNAME"),
        "{}",
        maintenance.stdout
    );

    // Inspect: the master's task, with the container status the agent added.
    let task = meso(&["task", "inspect", "sleeper", "--master", m])
        .ok()
        .json();
    assert_eq!(task["state"], "TASK_RUNNING");
    let container = &task["statuses"][0]["container_status"];
    assert!(
        container["container_id"]["value"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{task}"
    );
    assert_eq!(
        container["network_infos"][0]["ip_addresses"][0]["ip_address"], "127.0.0.1",
        "{task}"
    );

    // The sandbox through the master.
    let logs = meso(&["task", "logs", "sleeper", "--master", m])
        .ok()
        .stdout;
    assert_eq!(logs, "hello-from-task\n");
    assert_eq!(
        meso(&["task", "logs", "sleeper", "--stderr", "--master", m])
            .ok()
            .stdout,
        ""
    );
    let listing = meso(&["sandbox", "ls", "sleeper", "--master", m])
        .ok()
        .stdout;
    assert!(
        listing.lines().any(|l| l.ends_with(" stdout"))
            && listing.lines().any(|l| l.ends_with(" stderr")),
        "{listing}"
    );
    let listing = meso(&["sandbox", "ls", "sleeper", "--json", "--master", m])
        .ok()
        .json();
    assert!(
        listing.as_array().is_some_and(|l| l.len() >= 2),
        "{listing}"
    );
    assert_eq!(
        meso(&["sandbox", "cat", "sleeper", "stdout", "--master", m])
            .ok()
            .stdout,
        "hello-from-task\n"
    );

    // Unknown objects: exit 6 naming them; a refused call: exit 1 naming the master.
    let unknown = meso(&["task", "inspect", "no-such-task", "--master", m]);
    assert_eq!(unknown.code, Some(6), "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("'no-such-task'") && unknown.stderr.contains(m),
        "{}",
        unknown.stderr
    );
    let teardown = meso(&["framework", "teardown", "no-such-framework", "--master", m]);
    assert_eq!(teardown.code, Some(1), "{}", teardown.stderr);
    assert!(
        teardown.stderr.contains("no-such-framework") && teardown.stderr.contains(m),
        "{}",
        teardown.stderr
    );

    // Kill: the task ends TASK_KILLED and its framework hears of it.
    meso(&["task", "kill", "sleeper", "--master", m]).ok();
    let status = wait_exit("meso execute", &mut execute.0);
    assert_eq!(status.code(), Some(1));
    eventually("the task is killed", || {
        task_state(m, "sleeper").as_deref() == Some("TASK_KILLED")
    });
    // A second kill is refused: "already ended" (exit 1) while the master still holds the
    // ended task, "unknown" (exit 6) once its framework is gone; either names the task.
    let again = meso(&["task", "kill", "sleeper", "--master", m]);
    match again.code {
        Some(1) => assert!(again.stderr.contains("already ended"), "{}", again.stderr),
        Some(6) => {}
        other => panic!("a second kill exited {other:?}: {}", again.stderr),
    }
    assert!(again.stderr.contains("sleeper"), "{}", again.stderr);

    // Drain: the master takes it (DRAIN_AGENT is served) and the agent shows as draining.
    let drain = meso(&["agent", "drain", &agent, "--master", m]);
    assert_eq!(drain.code, Some(0), "{}", drain.stderr);
    assert!(drain.stdout.contains("draining"), "{}", drain.stdout);
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn task_logs_follow_prints_what_the_task_writes_until_it_ends() {
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let m = master.as_str();
    let mut execute = execute_in_background(
        m,
        "writer",
        "echo first; sleep 2; echo second; sleep 2; echo third >&2; echo last",
    );
    // Followed from as early as the master knows the task: its sandbox may not exist yet.
    eventually("the master knows the task", || {
        task_state(m, "writer").is_some()
    });
    let follow = meso_cmd(&["task", "logs", "-f", "writer", "--master", m])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meso task logs -f starts");
    let out = follow.wait_with_output().expect("meso task logs -f ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "first\nsecond\nlast\n");
    assert_eq!(wait_exit("meso execute", &mut execute.0).code(), Some(0));
}

#[test]
fn execute_attach_streams_the_tasks_stdout_and_stderr() {
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let out = meso_cmd(&[
        "execute",
        "--master",
        &master,
        "--name",
        "attached",
        "--attach",
        "--command",
        "echo out-1; echo err-1 >&2; sleep 1; echo out-2",
    ])
    .output()
    .expect("meso execute runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("out-1\n") && stdout.contains("out-2\n"),
        "{stdout}"
    );
    assert!(
        stdout.find("out-1").unwrap() < stdout.find("out-2").unwrap(),
        "{stdout}"
    );
    assert!(stderr.contains("err-1\n"), "{stderr}");
    // Not a terminal: plain lines, no spinner.
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("task 'attached' is TASK_FINISHED"),
        "{stdout}"
    );
}

#[test]
fn the_master_comes_from_the_flag_the_environment_or_the_config_file_and_errors_name_it() {
    let cluster = Cluster::start();
    let good = format!("127.0.0.1:{}", cluster.master_port);
    let dead = format!("127.0.0.1:{}", free_port());

    let none = meso(&["agents"]);
    assert_eq!(none.code, Some(2), "{}", none.stderr);
    assert!(
        none.stderr.contains("--master") && none.stderr.contains("MESO_MASTER"),
        "{}",
        none.stderr
    );

    let refused = meso(&["agents", "--master", &dead]);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&dead) && refused.stderr.contains("cannot connect"),
        "{}",
        refused.stderr
    );

    // The dead one is skipped, the next answers.
    meso(&["agents", "--master", &format!("{dead},{good}")]).ok();

    let env = meso_cmd(&["agents", "--json"])
        .env("MESO_MASTER", &good)
        .output()
        .expect("runs");
    assert_eq!(env.status.code(), Some(0));

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[master]\naddress = [\"{dead}\", \"{good}\"]\n"),
    )
    .expect("config");
    meso(&["agents", "--config", config.to_str().expect("utf-8")]).ok();
    // The default place, under $HOME.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".config/meso")).expect("config dir");
    std::fs::write(
        home.join(".config/meso/config.toml"),
        format!("[master]\naddress = \"{good}\"\n"),
    )
    .expect("config");
    let from_home = meso_cmd(&["frameworks"])
        .env("HOME", &home)
        .output()
        .expect("runs");
    assert_eq!(
        from_home.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&from_home.stderr)
    );

    std::fs::write(&config, "[master]\naddress = 5050\n").expect("config");
    let bad = meso(&["agents", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("master.address"), "{}", bad.stderr);
}

#[test]
fn several_masters_lead_the_cli_to_the_leader() {
    let dir = tempfile::tempdir().expect("temp dir");
    let masters = Masters::start(&meso_bin(), dir.path(), 3, &[]);
    let leader = masters.wait_leader(Duration::from_secs(60));
    let _agent = spawn_agent(
        &masters.addresses(),
        dir.path(),
        "agent",
        "cpus:1;mem:256",
        &[],
    );
    // Only a follower is named: its 307 leads to the leader.
    let follower = (leader + 1) % 3;
    let order = format!("127.0.0.1:{}", masters.ports[follower]);
    let agents = eventually_within(
        "the agent is listed through a follower",
        Duration::from_secs(60),
        || {
            let run = meso(&["agents", "--json", "--master", &order]);
            (run.code == Some(0) && run.json().as_array().is_some_and(|a| a.len() == 1))
                .then_some(run)
        },
    );
    assert!(agents.stdout.contains("\"hostname\""), "{}", agents.stdout);
}

#[test]
fn credentials_come_from_principal_and_secret_file_and_a_refusal_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.json");
    std::fs::write(
        &credentials,
        r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#,
    )
    .expect("credentials");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("secret");
    let port = free_port();
    let _master = spawn_logged(
        &[
            "master",
            "--port",
            &port.to_string(),
            "--authenticate-http-readonly",
            "--credentials",
            credentials.to_str().expect("utf-8"),
        ],
        &dir.path().join("master.log"),
    );
    let m = format!("127.0.0.1:{port}");
    eventually("the master answers", || {
        meso_testkit::http::blocking::try_get(port, "/master/health")
            .is_some_and(|r| r.status == 200)
    });
    let anonymous = meso(&["agents", "--master", &m]);
    assert_eq!(anonymous.code, Some(4), "{}", anonymous.stderr);
    assert!(
        anonymous.stderr.contains("401") && anonymous.stderr.contains(&m),
        "{}",
        anonymous.stderr
    );
    let secret = secret.to_str().expect("utf-8");
    meso(&[
        "agents",
        "--master",
        &m,
        "--principal",
        "ops",
        "--secret-file",
        secret,
    ])
    .ok();
    let env = meso_cmd(&["agents", "--master", &m])
        .env("MESO_PRINCIPAL", "ops")
        .env("MESO_SECRET_FILE", secret)
        .output()
        .expect("runs");
    assert_eq!(env.status.code(), Some(0));
    let half = meso(&["agents", "--master", &m, "--principal", "ops"]);
    assert_eq!(half.code, Some(2));
    assert!(half.stderr.contains("--secret-file"), "{}", half.stderr);
}
