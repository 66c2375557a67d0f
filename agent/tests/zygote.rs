//! The built-in executor started through the executor zygote (forked, no `exec`) and
//! through `exec` behaves the same from outside: a child of the agent, leading its own
//! session and process group, in its sandbox with its logs there, its exit status reaped
//! by the agent, killed by `destroy`.

use std::path::Path;
use std::time::Duration;

use meso_agent::containerizer::{
    Containerizer, ExecutorCommand, IsolatingContainerizer, LaunchSpec,
};
use meso_api::v1::ContainerId;
use meso_isolators::{IsolationConfig, Limits};
use meso_testkit::eventually::eventually_async_within;

fn executor_spec(id: &ContainerId, dir: &Path, env: Vec<(String, String)>) -> LaunchSpec {
    LaunchSpec {
        container_id: id.clone(),
        directory: dir.to_path_buf(),
        command: ExecutorCommand::Argv(vec![
            env!("CARGO_BIN_EXE_meso-executor").into(),
            "executor".into(),
        ]),
        env,
        executor_starts_session: true,
        limits: Limits::default(),
        rootfs: None,
        volumes: Vec::new(),
        user: None,
    }
}

fn containerizer(zygote: bool) -> IsolatingContainerizer {
    let c = IsolatingContainerizer::new(&IsolationConfig::default()).unwrap();
    if zygote {
        c
    } else {
        c.without_executor_zygote()
    }
}

/// `(ppid, pgid, sid)` of a live process.
fn ids_of(pid: u32) -> (u32, u32, u32) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    let f: Vec<u32> = rest
        .split_whitespace()
        .skip(1)
        .take(3)
        .map(|x| x.parse().unwrap())
        .collect();
    (f[0], f[1], f[2])
}

/// The variables the executor needs, pointing at `endpoint` as its agent.
fn executor_env(endpoint: &str, dir: &Path) -> Vec<(String, String)> {
    [
        ("MESOS_AGENT_ENDPOINT", endpoint),
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_EXECUTOR_ID", "ex"),
        ("MESOS_SANDBOX", dir.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn a_live_executor_leads_its_session_in_its_sandbox_and_destroy_kills_it() {
    // An "agent" that accepts the connection and never answers: the executor waits for
    // its SUBSCRIBE response, alive.
    let silent_agent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = silent_agent.local_addr().unwrap().to_string();
    for zygote in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = containerizer(zygote);
        let id = ContainerId::new(format!("zygote-live-{zygote}-{}", std::process::id()));
        let pid = c
            .launch(executor_spec(
                &id,
                dir.path(),
                executor_env(&endpoint, dir.path()),
            ))
            .unwrap();
        let wait = c.wait(&id).unwrap();
        // setsid is the executor's first act (exec path) or done before it runs (zygote):
        // wait until it is visible.
        eventually_async_within("a session of its own", Duration::from_secs(60), || async {
            ids_of(pid).2 == pid
        })
        .await;
        let (ppid, pgid, sid) = ids_of(pid);
        assert_eq!(
            (ppid, pgid, sid),
            (std::process::id(), pid, pid),
            "zygote {zygote}"
        );
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
            dir.path().canonicalize().unwrap()
        );
        let first_env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        let forked = first_env
            .split(|b| *b == 0)
            .any(|v| v == b"MESO_EXECUTOR_ZYGOTE=1");
        assert_eq!(
            forked, zygote,
            "forked from the zygote exactly when it is on"
        );
        c.destroy(&id).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .expect("hang guard: destroy ends the executor");
        assert_eq!(ended.signal, Some(9), "zygote {zygote}: {ended}");
        c.forget(&id);
    }
}

#[tokio::test]
async fn an_executor_missing_its_environment_exits_with_the_reason_in_its_stderr() {
    for zygote in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = containerizer(zygote);
        // Several launches through one zygote, each with its own environment and sandbox.
        for n in 0..3 {
            let sandbox = dir.path().join(format!("run{n}"));
            std::fs::create_dir(&sandbox).unwrap();
            let id = ContainerId::new(format!("zygote-env-{zygote}-{n}-{}", std::process::id()));
            let env = vec![(
                "MESOS_AGENT_ENDPOINT".to_string(),
                "127.0.0.1:1".to_string(),
            )];
            c.launch(executor_spec(&id, &sandbox, env)).unwrap();
            let ended = tokio::time::timeout(Duration::from_secs(60), c.wait(&id).unwrap())
                .await
                .expect("hang guard: the executor exits at once");
            assert_eq!(ended.exit_code, Some(2), "zygote {zygote}: {ended}");
            let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap();
            assert!(
                stderr.contains("MESOS_FRAMEWORK_ID"),
                "zygote {zygote}: {stderr}"
            );
            assert_eq!(std::fs::read_to_string(sandbox.join("stdout")).unwrap(), "");
            c.destroy(&id).unwrap();
            c.forget(&id);
        }
    }
}

#[tokio::test]
async fn a_sandbox_the_zygote_cannot_use_fails_the_launch_like_exec_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = containerizer(true);
    let id = ContainerId::new(format!("zygote-missing-{}", std::process::id()));
    let err = c
        .launch(executor_spec(&id, &dir.path().join("missing"), vec![]))
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    // The zygote is still usable afterwards.
    let env = vec![(
        "MESOS_AGENT_ENDPOINT".to_string(),
        "127.0.0.1:1".to_string(),
    )];
    c.launch(executor_spec(&id, dir.path(), env)).unwrap();
    let ended = c.wait(&id).unwrap().await;
    assert_eq!(ended.exit_code, Some(2), "{ended}");
    c.forget(&id);
}
