//! The agent emulator (`meso agent-emulator`): one OS process running thousands of emulated
//! agents, each its own libprocess process (`slave(N)`) on one node, registering with the
//! leading master over real connections, answering pings, and re-registering with their
//! (pretend) running tasks after a master failover. It is the load generator of the failover
//! benchmark (`scripts/bench/failover.sh`) and of the master's scale tests, in the shape of
//! Mesos's master benchmarks.
//!
//! [`launched`] (pure) books the tasks frameworks launch on an agent; [`plan`] (pure) says what agent `i` is and how long it backs off; [`tracker`] (pure) says
//! which master it talks to; [`process`] is the agent process; [`run`] the program.

pub mod launched;
pub mod plan;
pub mod process;
pub mod run;
pub mod tracker;
