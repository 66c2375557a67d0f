//! The command executor's command in a root filesystem: when the agent hands the executor a
//! prepared root (`MESO_COMMAND_ROOTFS`, see the agent's `containerizer/command_rootfs.rs`),
//! the command is started with the isolators' [`Launcher`]: its own session (so the
//! executor's group kill reaches it), a private mount namespace, the root entered with
//! `pivot_root`, the sandbox bound at `/mnt/mesos/sandbox` (its `MESOS_SANDBOX` and working
//! directory), the task's persistent volumes (`MESO_COMMAND_VOLUMES`) bound at their
//! `container_path` in that sandbox (read-only for `RO` volumes), stdout/stderr appended to
//! the sandbox's files. The executor itself stays on the host's filesystem.
//!
//! Invariant: every mount is in the command's own mount namespace and goes with it.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

use meso_api::v1::{CommandInfo, TaskInfo};
use meso_isolators::{ContainerId, LaunchPrep, LaunchSpec, Launcher, CONTAINER_SANDBOX_PATH};

use super::CommandExecutor;
use crate::executor_contract::{COMMAND_ROOTFS_ENV, COMMAND_VOLUMES_ENV, DEFAULT_PATH};

/// Blocks until the command ends; `None` when its status could not be read.
pub type WaitCommand = Box<dyn FnOnce() -> Option<ExitStatus> + Send>;

/// What the launcher runs for `command` (pure): program, arguments and the environment
/// (the executor's own minus the root's variable, `MESOS_SANDBOX` as the command sees it,
/// then the command's variables, later entries winning). A non-shell command's
/// `arguments[0]` is not kept as argv\[0\] (the launcher passes the program).
pub fn command_launch_spec(
    command: &CommandInfo,
    inherited: impl Iterator<Item = (String, String)>,
    sandbox: &Path,
) -> Result<LaunchSpec, String> {
    let (program, args) = if command.shell {
        let line = command
            .value
            .clone()
            .ok_or("shell command without a value")?;
        ("/bin/sh".to_string(), vec!["-c".to_string(), line])
    } else {
        let program = command.value.clone().ok_or("command without a value")?;
        (program, command.arguments.iter().skip(1).cloned().collect())
    };
    let mut env: Vec<(String, String)> = inherited
        .filter(|(name, _)| {
            name != COMMAND_ROOTFS_ENV && name != COMMAND_VOLUMES_ENV && name != "MESOS_SANDBOX"
        })
        .collect();
    if !env.iter().any(|(name, _)| name == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    env.push(("MESOS_SANDBOX".into(), CONTAINER_SANDBOX_PATH.into()));
    if let Some(environment) = &command.environment {
        for var in &environment.variables {
            env.retain(|(name, _)| name != &var.name);
            env.push((var.name.clone(), var.value.clone().unwrap_or_default()));
        }
    }
    Ok(LaunchSpec {
        program,
        args,
        env,
        cwd: None,
        stdout: Some(sandbox.join("stdout")),
        stderr: Some(sandbox.join("stderr")),
    })
}

/// The volumes the agent handed over in [`COMMAND_VOLUMES_ENV`] (none when unset); bad
/// JSON is an error naming the variable.
pub fn handed_volumes(value: Option<&str>) -> Result<Vec<meso_isolators::VolumeMount>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| format!("{COMMAND_VOLUMES_ENV} is not a list of volume mounts: {e}")),
    }
}

/// Starts `command` inside `root`; returns its process group and a blocking wait.
pub fn spawn_in_rootfs(
    root: &Path,
    sandbox: Option<&Path>,
    command: &CommandInfo,
) -> Result<(i32, WaitCommand), String> {
    let sandbox = sandbox.ok_or("no sandbox (MESOS_SANDBOX) to bind into the root filesystem")?;
    let spec = command_launch_spec(command, std::env::vars(), sandbox)?;
    let volumes = handed_volumes(std::env::var(COMMAND_VOLUMES_ENV).ok().as_deref())?;
    let prep = LaunchPrep {
        mount_namespace: true,
        rootfs: Some(root.to_path_buf()),
        volumes,
        ..Default::default()
    };
    let id = ContainerId::new("command").map_err(|e| e.to_string())?;
    let mut process = Launcher::default()
        .launch(&id, &spec, &prep, sandbox)
        .map_err(|e| format!("failed to start the command in {}: {e}", root.display()))?;
    let pgid = process.pid().as_raw();
    let wait: WaitCommand = Box::new(move || {
        let status = process.wait().ok()?;
        Some(match status {
            meso_isolators::ExitStatus::Code(code) => ExitStatus::from_raw((code & 0xff) << 8),
            meso_isolators::ExitStatus::Signal(sig) => ExitStatus::from_raw(sig & 0x7f),
            meso_isolators::ExitStatus::Unknown => return None,
        })
    });
    Ok((pgid, wait))
}

impl CommandExecutor {
    /// Launches the task's command in the root filesystem the agent handed over.
    pub(super) fn launch_in_rootfs(
        &mut self,
        task: TaskInfo,
        command: &CommandInfo,
        root: &Path,
    ) -> Option<i32> {
        let (pgid, wait) = match spawn_in_rootfs(root, self.env.sandbox.as_deref(), command) {
            Ok(started) => started,
            Err(e) => return self.fail_launch(&task.task_id, e),
        };
        self.watch_command(task, pgid, wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::task::{Environment, EnvironmentVariableType};
    use meso_api::v1::EnvironmentVariable;

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn the_command_sees_the_container_sandbox_and_its_own_variables() {
        let mut command = CommandInfo::shell("echo hi");
        command.environment = Some(Environment {
            variables: vec![EnvironmentVariable {
                name: "A".into(),
                kind: EnvironmentVariableType::Value,
                value: Some("task".into()),
            }],
        });
        let inherited = vec![
            kv("A", "executor"),
            kv("MESOS_SANDBOX", "/work/sb"),
            kv(COMMAND_ROOTFS_ENV, "/srv/root"),
            kv(COMMAND_VOLUMES_ENV, "[]"),
            kv("PATH", "/bin"),
        ];
        let spec =
            command_launch_spec(&command, inherited.into_iter(), Path::new("/work/sb")).unwrap();
        assert_eq!(spec.program, "/bin/sh");
        assert_eq!(spec.args, vec!["-c", "echo hi"]);
        assert_eq!(
            spec.env,
            vec![
                kv("PATH", "/bin"),
                kv("MESOS_SANDBOX", CONTAINER_SANDBOX_PATH),
                kv("A", "task")
            ]
        );
        assert_eq!(spec.stdout.as_deref(), Some(Path::new("/work/sb/stdout")));
    }

    #[test]
    fn an_argv_command_keeps_its_arguments_and_gets_a_path() {
        let command = CommandInfo::exec("ls", &["ls", "-l", "/"]);
        let spec = command_launch_spec(&command, std::iter::empty(), Path::new("/sb")).unwrap();
        assert_eq!(spec.program, "ls");
        assert_eq!(spec.args, vec!["-l", "/"]);
        assert!(spec.env.contains(&kv("PATH", DEFAULT_PATH)));
        let mut empty = CommandInfo::shell("x");
        empty.value = None;
        assert!(command_launch_spec(&empty, std::iter::empty(), Path::new("/sb")).is_err());
    }

    #[test]
    fn handed_volumes_are_read_and_bad_ones_named() {
        assert_eq!(handed_volumes(None), Ok(vec![]));
        let json = r#"[{"source":"/v/1","target":"data","read_only":true}]"#;
        let volumes = handed_volumes(Some(json)).unwrap();
        assert_eq!(volumes[0].target, Path::new("data"));
        assert!(volumes[0].read_only);
        let err = handed_volumes(Some("{")).unwrap_err();
        assert!(err.contains(COMMAND_VOLUMES_ENV), "{err}");
    }
}
