//! The `meso executor` process (and the `meso-executor` test binary): decides, from its
//! environment, whether this process is the agent's executor zygote or one built-in command
//! executor, and runs it. It is the only module that knows both, so the executor
//! (`executor.rs`) and the zygote (`containerizer/zygote.rs`) never import each other: the
//! zygote is handed the executor's entry as a plain function.

use crate::executor_contract::ZYGOTE_ENV;

/// Runs this process as a zygote (when [`ZYGOTE_ENV`] is set) or as one command executor
/// until its task is done. Returns the process exit code.
pub fn run() -> i32 {
    if std::env::var_os(ZYGOTE_ENV).is_some() {
        return crate::containerizer::zygote::serve(crate::executor::run_executor);
    }
    crate::executor::run_executor()
}
