//! What a framework asks to run: TaskInfo, CommandInfo, ExecutorInfo, ContainerInfo,
//! HealthCheck, CheckInfo and KillPolicy.

use serde::{Deserialize, Serialize};

use super::common::DurationInfo;
use super::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::json::{
    lenient, lenient_enum, lenient_or_bool, lenient_or_f64, lenient_or_u32, null_as_default,
    opt_lenient,
};
use crate::labels::Labels;
use crate::resources::Resources;

fn yes() -> bool {
    true
}

/// A file the agent fetches into the sandbox before starting the command.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CommandUri {
    /// The URI (required).
    pub value: String,
    /// Make the file executable.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub executable: Option<bool>,
    /// Extract archives (default true).
    #[serde(default = "yes", deserialize_with = "lenient_or_bool::<_, true>")]
    pub extract: bool,
    /// Use the fetcher cache.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache: Option<bool>,
    /// File name in the sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file: Option<String>,
}

mesos_enum!(
    /// Kind of environment variable.
    EnvironmentVariableType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// A plain value.
        Value = ("VALUE", 1),
        /// A secret reference.
        Secret = ("SECRET", 2),
    }
);

fn value_type() -> EnvironmentVariableType {
    EnvironmentVariableType::Value
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnvironmentVariable {
    /// Name (required).
    pub name: String,
    /// Kind (default VALUE).
    #[serde(rename = "type", default = "value_type")]
    pub kind: EnvironmentVariableType,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Environment of a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Environment {
    /// Variables.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variables: Vec<EnvironmentVariable>,
}

/// A command to run.
///
/// With `shell` (the default) `value` runs as `/bin/sh -c value`; without it `value` is the
/// executable and `arguments` is the whole argv, including argv\[0\].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CommandInfo {
    /// Files to fetch.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub uris: Vec<CommandUri>,
    /// Environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Run through the shell (default true).
    #[serde(default = "yes", deserialize_with = "lenient_or_bool::<_, true>")]
    pub shell: bool,
    /// The command line (shell) or executable path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// argv when not using the shell.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arguments: Vec<String>,
    /// User to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl CommandInfo {
    /// A shell command.
    pub fn shell(command: &str) -> Self {
        CommandInfo {
            uris: Vec::new(),
            environment: None,
            shell: true,
            value: Some(command.to_string()),
            arguments: Vec::new(),
            user: None,
        }
    }

    /// An executable with its argv (argv\[0\] included), run without a shell.
    pub fn exec(path: &str, argv: &[&str]) -> Self {
        CommandInfo {
            shell: false,
            arguments: argv.iter().map(|a| a.to_string()).collect(),
            ..CommandInfo::shell(path)
        }
    }
}

mesos_enum!(
    /// Kind of executor.
    ExecutorType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Mesos's default executor (task groups).
        Default = ("DEFAULT", 1),
        /// A framework-provided executor.
        Custom = ("CUSTOM", 2),
    }
);

mesos_enum!(
    /// Containerizer to use.
    ContainerType {
        /// Docker.
        Docker = ("DOCKER", 1),
        /// The Mesos containerizer.
        Mesos = ("MESOS", 2),
    }
);

mesos_enum!(
    /// Volume access mode.
    VolumeAccessMode {
        /// Read-write.
        Rw = ("RW", 1),
        /// Read-only.
        Ro = ("RO", 2),
    }
);

/// A volume mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerVolume {
    /// Path inside the container (required).
    pub container_path: String,
    /// Path on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// Mode (required).
    pub mode: VolumeAccessMode,
}

/// How to containerise a task or executor: its type, volumes, hostname, and the image that
/// names its root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// Containerizer (required).
    #[serde(rename = "type")]
    pub kind: ContainerType,
    /// Volumes.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<ContainerVolume>,
    /// Hostname inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The Mesos containerizer's part: an image naming the root filesystem (see
    /// [`ContainerInfo::rootfs_image`] for what meso reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesos: Option<super::image::MesosInfo>,
}

/// A custom executor, or the default one for task groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorInfo {
    /// DEFAULT or CUSTOM.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<ExecutorType>,
    /// Id (required).
    pub executor_id: ExecutorId,
    /// Owning framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// Command that starts the executor (required for CUSTOM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Resources of the executor itself.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Opaque data for the executor.
    #[serde(
        default,
        with = "crate::json::opt_base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Vec<u8>>,
    /// How long the executor has to shut down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_period: Option<DurationInfo>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

impl ExecutorInfo {
    /// A custom executor `id` started by `command`, with nothing else set.
    ///
    /// ```
    /// use meso_api::v1::{CommandInfo, ExecutorInfo};
    ///
    /// let executor = ExecutorInfo::custom("ex-1", CommandInfo::shell("./my-executor"));
    /// assert_eq!(executor.executor_id.as_str(), "ex-1");
    /// ```
    pub fn custom(id: &str, command: CommandInfo) -> Self {
        ExecutorInfo {
            kind: Some(ExecutorType::Custom),
            executor_id: ExecutorId::new(id),
            framework_id: None,
            command: Some(command),
            container: None,
            resources: Resources::default(),
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        }
    }
}

impl CommandUri {
    /// `uri` fetched into the sandbox as is (archives extracted), not executable.
    pub fn new(uri: &str) -> Self {
        CommandUri {
            value: uri.to_string(),
            executable: None,
            extract: true,
            cache: None,
            output_file: None,
        }
    }
}

mesos_enum!(
    /// Kind of health check.
    HealthCheckType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Run a command.
        Command = ("COMMAND", 1),
        /// HTTP GET.
        Http = ("HTTP", 2),
        /// TCP connect.
        Tcp = ("TCP", 3),
    }
);

/// An HTTP health check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HttpCheckInfo {
    /// `http` or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Port (required).
    #[serde(deserialize_with = "lenient")]
    pub port: u32,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A TCP health check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TcpCheckInfo {
    /// Port (required).
    #[serde(deserialize_with = "lenient")]
    pub port: u32,
}

fn fifteen() -> f64 {
    15.0
}
fn ten() -> f64 {
    10.0
}
fn twenty() -> f64 {
    20.0
}
fn three() -> u32 {
    3
}

/// A health check; the `*_seconds` fields and `consecutive_failures` have Mesos defaults
/// and are always written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// Seconds before the first check (default 15).
    #[serde(default = "fifteen", deserialize_with = "lenient_or_f64::<_, 15000>")]
    pub delay_seconds: f64,
    /// Seconds between checks (default 10).
    #[serde(default = "ten", deserialize_with = "lenient_or_f64::<_, 10000>")]
    pub interval_seconds: f64,
    /// Seconds before a check times out (default 20).
    #[serde(default = "twenty", deserialize_with = "lenient_or_f64::<_, 20000>")]
    pub timeout_seconds: f64,
    /// Failures in a row before the task is killed (default 3).
    #[serde(default = "three", deserialize_with = "lenient_or_u32::<_, 3>")]
    pub consecutive_failures: u32,
    /// Seconds after start during which failures are ignored (default 10).
    #[serde(default = "ten", deserialize_with = "lenient_or_f64::<_, 10000>")]
    pub grace_period_seconds: f64,
    /// Kind.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<HealthCheckType>,
    /// For COMMAND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// For HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheckInfo>,
    /// For TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheckInfo>,
}

impl HealthCheck {
    /// A command health check with Mesos's default timings.
    pub fn command(command: CommandInfo) -> Self {
        HealthCheck {
            delay_seconds: fifteen(),
            interval_seconds: ten(),
            timeout_seconds: twenty(),
            consecutive_failures: three(),
            grace_period_seconds: ten(),
            kind: Some(HealthCheckType::Command),
            command: Some(command),
            http: None,
            tcp: None,
        }
    }
}

mesos_enum!(
    /// Kind of general check.
    CheckType {
        /// Unknown (invalid in a task).
        Unknown = ("UNKNOWN", 0),
        /// Run a command; its exit code is the result.
        Command = ("COMMAND", 1),
        /// HTTP GET on 127.0.0.1; the status code is the result.
        Http = ("HTTP", 2),
        /// TCP connect to 127.0.0.1; whether it succeeded is the result.
        Tcp = ("TCP", 3),
    }
);

/// The command of a COMMAND check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckCommand {
    /// The command (required).
    pub command: CommandInfo,
}

/// The target of an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckHttp {
    /// Port on 127.0.0.1 (required).
    #[serde(deserialize_with = "lenient")]
    pub port: u32,
    /// Path (must start with `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The target of a TCP check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckTcp {
    /// Port on 127.0.0.1 (required).
    #[serde(deserialize_with = "lenient")]
    pub port: u32,
}

/// A general check (`TaskInfo.check`); timings default as in Mesos and are always written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInfo {
    /// Kind.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient_enum",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<CheckType>,
    /// For COMMAND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CheckCommand>,
    /// For HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<CheckHttp>,
    /// For TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<CheckTcp>,
    /// Seconds before the first check (default 15).
    #[serde(default = "fifteen", deserialize_with = "lenient_or_f64::<_, 15000>")]
    pub delay_seconds: f64,
    /// Seconds between checks (default 10).
    #[serde(default = "ten", deserialize_with = "lenient_or_f64::<_, 10000>")]
    pub interval_seconds: f64,
    /// Seconds before a check is abandoned (default 20).
    #[serde(default = "twenty", deserialize_with = "lenient_or_f64::<_, 20000>")]
    pub timeout_seconds: f64,
}

/// How to kill a task.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KillPolicy {
    /// Time between SIGTERM and SIGKILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<DurationInfo>,
}

/// A task to launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Name (required).
    pub name: String,
    /// Id (required).
    pub task_id: TaskId,
    /// Agent (required).
    pub agent_id: AgentId,
    /// Resources the task uses.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// Custom executor (exclusive with `command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorInfo>,
    /// Command (exclusive with `executor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
    /// General check (reported in `check_status`, never kills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckInfo>,
    /// Opaque data for the executor.
    #[serde(
        default,
        with = "crate::json::opt_base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Vec<u8>>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Deadline after which the task is killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_time: Option<DurationInfo>,
}

impl TaskInfo {
    /// A plain command task: `command` run through the shell on agent `agent_id`, with
    /// `id` as both its name and its task id, and nothing else set (no resources, executor,
    /// container, health check, kill policy, data, labels or deadline), as tests, examples
    /// and the agent emulator build them; add resources with [`TaskInfo::with_resources`], swap the command for an
    /// executor with [`TaskInfo::with_executor`], or set fields directly.
    ///
    /// ```
    /// use meso_api::v1::{AgentId, TaskInfo};
    /// use meso_api::Resources;
    ///
    /// let resources = Resources::parse("cpus:1;mem:128", "*").unwrap();
    /// let task = TaskInfo::command("t1", AgentId::new("a1"), "echo hi").with_resources(resources);
    /// assert_eq!(task.name, "t1");
    /// assert_eq!(task.task_id.as_str(), "t1");
    /// assert_eq!(task.command.as_ref().and_then(|c| c.value.as_deref()), Some("echo hi"));
    /// assert!(task.validate().is_ok());
    /// ```
    pub fn command(id: &str, agent_id: AgentId, command: &str) -> Self {
        TaskInfo {
            name: id.to_string(),
            task_id: TaskId::new(id),
            agent_id,
            resources: Resources::new(),
            executor: None,
            command: Some(CommandInfo::shell(command)),
            container: None,
            health_check: None,
            kill_policy: None,
            check: None,
            data: None,
            labels: None,
            max_completion_time: None,
        }
    }

    /// This task using `resources` (replacing any it had).
    pub fn with_resources(mut self, resources: Resources) -> Self {
        self.resources = resources;
        self
    }

    /// This task with the environment variable `name=value` set for its command (nothing
    /// for a task without a command).
    ///
    /// ```
    /// use meso_api::v1::{AgentId, TaskInfo};
    /// let task = TaskInfo::command("t1", AgentId::new("a1"), "echo $N").with_env("N", "7");
    /// let env = task.command.and_then(|c| c.environment).unwrap();
    /// assert_eq!((env.variables[0].name.as_str(), env.variables[0].value.as_deref()), ("N", Some("7")));
    /// ```
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        if let Some(command) = self.command.as_mut() {
            let env = command.environment.get_or_insert_with(Default::default);
            env.variables.push(EnvironmentVariable {
                name: name.to_string(),
                kind: EnvironmentVariableType::Value,
                value: Some(value.to_string()),
            });
        }
        self
    }

    /// This task run by `executor` in place of its command (a task has exactly one of the
    /// two, see [`TaskInfo::validate`]).
    pub fn with_executor(mut self, executor: ExecutorInfo) -> Self {
        self.command = None;
        self.executor = Some(executor);
        self
    }
}

impl TaskInfo {
    /// Checks what can be checked on the task alone: a valid task id, exactly one of
    /// `command` and `executor`, a CUSTOM executor having a command, non-negative grace
    /// period and completion time, container images meso can read (see
    /// [`TaskInfo::validate_rootfs_images`]). Errors name the task.
    pub fn validate(&self) -> crate::Result<()> {
        self.task_id.validate()?;
        let fail = |reason: &str| crate::Error::Invalid {
            what: format!("task '{}'", self.task_id),
            reason: reason.to_string(),
        };
        match (&self.command, &self.executor) {
            (Some(_), Some(_)) => return Err(fail("both 'command' and 'executor' are set")),
            (None, None) => return Err(fail("one of 'command' or 'executor' must be set")),
            (None, Some(e)) => {
                e.executor_id.validate()?;
                if e.command.is_none() {
                    return Err(fail("a task's executor needs a 'command'"));
                }
            }
            (Some(_), None) => {}
        }
        if self
            .kill_policy
            .as_ref()
            .and_then(|k| k.grace_period)
            .is_some_and(|d| d.nanoseconds < 0)
        {
            return Err(fail("kill_policy.grace_period is negative"));
        }
        self.validate_checks()?;
        if self.max_completion_time.is_some_and(|d| d.nanoseconds < 0) {
            return Err(fail("max_completion_time is negative"));
        }
        self.validate_rootfs_images()?;
        self.resources.validate()
    }
}

/// Tasks launched together under the default executor.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskGroupInfo {
    /// The tasks.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<TaskInfo>,
}
