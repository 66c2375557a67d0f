//! The `meso executor` process (and the `meso-executor` test binary): decides, from its
//! environment and arguments, whether this process is the agent's executor zygote, the
//! default executor for task groups or one built-in command executor, and runs it. It is the only module that knows both, so the executor
//! (`executor.rs`) and the zygote (`containerizer/zygote.rs`) never import each other: the
//! zygote is handed the executor's entry as a plain function.

use crate::executor_contract::ZYGOTE_ENV;

/// Runs this process as a zygote (when [`ZYGOTE_ENV`] is set), as the default executor
/// (`meso executor default`), or as one command executor until its task is done. Returns
/// the process exit code.
pub fn run() -> i32 {
    if std::env::args_os().nth(2).is_some_and(|a| a == "default") {
        return crate::default_executor::run_default_executor();
    }
    if std::env::var_os(ZYGOTE_ENV).is_some() {
        // What every executor would otherwise set up for itself, once for all of them.
        crate::executor::prepare_process();
        return crate::containerizer::zygote::serve(crate::executor::run_forked_executor);
    }
    crate::executor::run_executor()
}
