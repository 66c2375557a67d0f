//! The executor side of the SDK: implement [`Executor`] and hand it to [`run`] in the
//! program the agent starts as a custom executor (`ExecutorInfo.command`).
//!
//! * [`env`]: what the agent tells the executor in `MESOS_*` variables.
//! * [`session`]: the v1 executor API's protocol state, pure (unacknowledged updates and
//!   tasks, what each event means).
//! * [`driver`]: the libprocess process that speaks the API over HTTP and calls the
//!   executor's callbacks.
//!
//! ```no_run
//! use meso_api::v1::{TaskInfo, TaskState, TaskStatus};
//! use meso_frameworks::executor::{run, Executor, ExecutorActions};
//!
//! struct Hello;
//!
//! impl Executor for Hello {
//!     fn launch_task(&mut self, driver: &mut ExecutorActions<'_, Self>, task: TaskInfo) {
//!         let id = task.task_id;
//!         let _ = driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running));
//!         driver.send_framework_message(b"hello".to_vec());
//!         let _ = driver.send_status_update(TaskStatus::new(id, TaskState::Finished));
//!         driver.stop();
//!     }
//! }
//!
//! std::process::exit(run(Hello));
//! ```

pub mod driver;
pub mod env;
pub mod session;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

pub use driver::{Executor, ExecutorActions, ExecutorDriver, ExecutorHandle};
pub use env::ExecutorEnvironment;

/// Runs `executor` against the agent named by the process environment until the driver
/// stops; returns the exit code for the process (0 after a normal stop, 1 when the agent
/// was lost for good, 2 when the environment is not an executor's).
pub fn run<E: Executor>(executor: E) -> i32 {
    let env = match ExecutorEnvironment::from_process() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("executor: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("executor: cannot start a runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(run_with(env, executor))
}

/// [`run`] inside an existing tokio runtime, with the environment given.
pub async fn run_with<E: Executor>(env: ExecutorEnvironment, executor: E) -> i32 {
    let bind = std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);
    let node = match libprocess::Node::builder().bind(bind).build().await {
        Ok(node) => node,
        Err(e) => {
            eprintln!("executor: cannot start a libprocess node: {e}");
            return 1;
        }
    };
    let code = Arc::new(AtomicI32::new(0));
    let pid = match node.spawn(ExecutorDriver::new(env, executor, code.clone())) {
        Ok(pid) => pid,
        Err(e) => {
            eprintln!("executor: cannot spawn the driver: {e}");
            return 1;
        }
    };
    node.wait(pid.upid()).await;
    node.shutdown().await;
    code.load(Ordering::SeqCst)
}
