//! End-to-end, as root: `meso execute --user USER` against a real `meso master` and
//! `meso agent` (whose `--switch-user` is on by default) runs the task as that user (its
//! `id -u`, streamed back by `--attach`, is the user's), and a user the agent does not
//! know fails the task with a message naming it.
//!
//! Timeouts are hang guards only.

use std::process::{Command, Stdio};

use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::process::meso_bin;

fn execute(master: &str, name: &str, user: &str, command: &str) -> (Option<i32>, String) {
    let out = Command::new(meso_bin())
        .args(["execute", "--master", master, "--name", name, "--attach"])
        .args(["--user", user, "--command", command])
        .env_remove("MESO_MASTER")
        .env_remove("MESO_PRINCIPAL")
        .env_remove("MESO_SECRET_FILE")
        .env("HOME", "/nonexistent-home-for-meso-tests")
        .stdin(Stdio::null())
        .output()
        .expect("meso execute runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn meso_execute_runs_the_task_as_the_user_it_names() {
    meso_testkit::skip_unless_root!("switching users needs root");
    let nobody = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("the nobody user exists");
    let cluster = Cluster::start();
    let master = format!("127.0.0.1:{}", cluster.master_port);

    let (code, out) = execute(&master, "as-nobody", "nobody", "id -u; id -g");
    assert_eq!(code, Some(0), "{out}\n{}", cluster.logs());
    assert!(
        out.contains(&format!(
            "{}\n{}\n",
            nobody.uid.as_raw(),
            nobody.gid.as_raw()
        )),
        "the task's uid and gid: {out}"
    );

    let (code, out) = execute(&master, "as-nobody-at-all", "no-such-user-meso", "true");
    assert_ne!(code, Some(0), "{out}");
    assert!(
        out.contains("TASK_FAILED") && out.contains("no-such-user-meso"),
        "{out}\n{}",
        cluster.logs()
    );
}
