//! What the agent and its built-in command executor (`meso executor`) agree on, so that
//! neither side reads the other's code: the environment variables the agent's
//! containerizer sets for the executor process beyond Mesos's `MESOS_*` executor
//! environment, and the `PATH` a command gets when its task sets none.
//!
//! Owned here: the names and the default value only. The containerizer
//! (`containerizer/zygote.rs`, `containerizer/command_rootfs.rs`,
//! `containerizer/isolating.rs`) writes them; the executor (`executor.rs`,
//! `executor/rootfs_command.rs`) and the process entry (`executor_main.rs`) read them.
//! Invariant: every variable the agent sets for its own executor and that is not part of
//! Mesos's executor environment is named here, and nowhere else as a literal.

/// Set (to `1`) in the environment of `<binary> executor` to make the process the agent's
/// executor zygote instead of a command executor.
pub const ZYGOTE_ENV: &str = "MESO_EXECUTOR_ZYGOTE";

/// Names, on the host, the root filesystem the command executor's command runs in (the
/// executor itself stays on the host's filesystem).
pub const COMMAND_ROOTFS_ENV: &str = "MESO_COMMAND_ROOTFS";

/// The persistent volumes the command executor's command gets bind-mounted in its root
/// filesystem: a JSON array of `meso_isolators::VolumeMount` (set only with
/// [`COMMAND_ROOTFS_ENV`]).
pub const COMMAND_VOLUMES_ENV: &str = "MESO_COMMAND_VOLUMES";

/// The `PATH` an executor or a command gets when its task sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
