//! `meso-executor`: the built-in command executor as its own small binary, for the agent
//! crate's tests. `meso executor` runs the same code ([`meso_agent::executor_main::run`]).

fn main() {
    std::process::exit(meso_agent::executor_main::run());
}
