//! The crate's one error type. Every variant names what went wrong and the value involved,
//! so that the containerizer can pass the message to the operator or the framework unchanged.

use std::path::PathBuf;

/// What can go wrong while configuring, launching, isolating or cleaning up a container.
#[derive(Debug, thiserror::Error)]
pub enum IsolatorError {
    /// `--isolation` named an isolator this crate does not have.
    #[error("unknown isolator {name:?} in --isolation (known: {known})")]
    UnknownIsolator {
        /// The name as given.
        name: String,
        /// Comma list of the names this crate knows.
        known: String,
    },
    /// The isolator exists but cannot run on this machine (controller absent, not root, ...).
    #[error("isolator {name} is unavailable on this machine: {reason}")]
    Unavailable {
        /// The isolator's name.
        name: String,
        /// Why, in a sentence naming what is missing.
        reason: String,
    },
    /// A container id that cannot be used as a cgroup or directory name.
    #[error("invalid container id {id:?}: {reason}")]
    InvalidContainerId {
        /// The id as given.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A resource limit that is out of range (negative, NaN, zero where zero is meaningless).
    #[error("invalid {resource} limit {value}: {reason}")]
    InvalidLimit {
        /// `cpus`, `mem`, `disk` or `pids`.
        resource: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value that makes no sense (e.g. a zero watch interval).
    #[error("invalid isolation configuration {field} = {value}: {reason}")]
    InvalidConfig {
        /// The flag or field.
        field: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The container was not prepared by this isolator (or already cleaned up).
    #[error("container {id} is not known to isolator {isolator}")]
    UnknownContainer {
        /// The container id.
        id: String,
        /// The isolator asked.
        isolator: &'static str,
    },
    /// The container was prepared twice.
    #[error("container {id} is already prepared by isolator {isolator}")]
    AlreadyPrepared {
        /// The container id.
        id: String,
        /// The isolator asked.
        isolator: &'static str,
    },
    /// A container could not be taken back after an agent restart.
    #[error("cannot recover container {id} in isolator {isolator}: {reason}")]
    RecoveryFailed {
        /// The container id.
        id: String,
        /// The isolator that could not recover it.
        isolator: &'static str,
        /// What was missing.
        reason: String,
    },
    /// A rootfs source that is neither a directory nor a tarball we can unpack.
    #[error("invalid rootfs {path}: {reason}")]
    InvalidRootfs {
        /// The path as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file operation on cgroupfs, procfs or the sandbox failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing (`write`, `read`, `mkdir`, `rmdir`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A cgroup or procfs file held something we could not parse.
    #[error("cannot parse {path}: {reason} (content {content:?})")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was expected.
        reason: String,
        /// The offending content (shortened).
        content: String,
    },
    /// The launch failed before the command could run; `step` names the setup step in the child.
    #[error("launch of {program:?} failed in the child at step {step}: {errno}")]
    ChildSetup {
        /// The program we tried to start.
        program: String,
        /// The setup step that failed (e.g. `join cgroup`, `mount /proc`, `chroot`, `exec`).
        step: &'static str,
        /// The OS error of that step.
        errno: nix::errno::Errno,
    },
    /// A launch argument that cannot be passed to exec (a NUL byte inside, an empty program).
    #[error("invalid launch argument {what}: {value:?}")]
    InvalidLaunchArgument {
        /// Which argument (`program`, `arg`, `env`, `path`).
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// A container's user does not resolve on this machine.
    #[error("user '{user}' cannot run the container: {reason}")]
    UnknownUser {
        /// The user's name as given.
        user: String,
        /// Why it does not resolve.
        reason: String,
    },
    /// A system call in the parent failed (fork, pipe, waitpid, kill).
    #[error("{call} failed: {errno}")]
    Sys {
        /// The call.
        call: &'static str,
        /// The OS error.
        errno: nix::errno::Errno,
    },
    /// Processes were still alive in a cgroup after repeated kills; the cgroup was left behind.
    #[error("cgroup {path} still holds processes {pids:?} after killing them")]
    CgroupBusy {
        /// The cgroup directory.
        path: PathBuf,
        /// The pids still listed.
        pids: Vec<i32>,
    },
}

impl IsolatorError {
    /// Wraps an I/O error with the operation and the path it concerned.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IsolatorError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = IsolatorError> = std::result::Result<T, E>;
