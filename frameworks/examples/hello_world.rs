//! Hello world on meso, scheduler and custom executor in one program (seed 000's framework).
//!
//! `hello_world --master HOST:PORT [--tasks 3] [--http]` registers a framework (over the v1
//! scheduler HTTP API with `--http`, libprocess messages otherwise) and launches each task
//! on its own custom executor: this very binary, fetched by the agent from a `file://` URI
//! into the task's sandbox and started there. The executor reports TASK_RUNNING, sends a
//! framework message back and reports TASK_FINISHED. The scheduler prints every update and
//! message, and exits 0 once every task finished and sent its message (1 if one failed).
//! The program knows it runs as the executor from `MESOS_EXECUTOR_ID`, which the agent sets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libprocess::{Node, Upid};
use meso_api::v1::{
    AgentId, CommandInfo, CommandUri, ExecutorId, ExecutorInfo, Filters, FrameworkId,
    FrameworkInfo, MasterInfo, Offer, TaskInfo, TaskState, TaskStatus,
};
use meso_api::Resources;
use meso_frameworks::executor::{self, Executor, ExecutorActions};
use meso_frameworks::packing::{OfferPacker, TaskIds};
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};

/// The executor side: one task, three calls.
struct HelloExecutor;

impl Executor for HelloExecutor {
    fn launch_task(&mut self, driver: &mut ExecutorActions<'_, Self>, task: TaskInfo) {
        let id = task.task_id;
        let _ = driver.send_status_update(TaskStatus::new(id.clone(), TaskState::Running));
        driver.send_framework_message(format!("hello from {id}").into_bytes());
        let _ = driver.send_status_update(TaskStatus::new(id, TaskState::Finished));
        driver.stop(); // once the agent has acknowledged both updates
    }
}

/// The scheduler side.
struct HelloScheduler {
    tasks: usize,
    launched: usize,
    finished: usize,
    messages: usize,
    executor_uri: String,
    per_task: Resources,
    ids: TaskIds,
    ok: Arc<AtomicBool>,
}

impl HelloScheduler {
    fn task(&mut self, offer: &Offer, resources: Resources) -> TaskInfo {
        self.launched += 1;
        let id = self.ids.next_id().to_string();
        let mut uri = CommandUri::new(&self.executor_uri);
        uri.executable = Some(true);
        let mut command = CommandInfo::shell("./hello_world");
        command.uris = vec![uri];
        TaskInfo::command(&id, offer.agent_id.clone(), "")
            .with_resources(resources)
            .with_executor(ExecutorInfo::custom(&id, command))
    }

    fn check_done(&self, driver: &mut DriverActions<'_>) {
        if self.finished == self.tasks && self.messages == self.tasks {
            println!("all {} tasks finished", self.tasks);
            let _ = driver.teardown();
        }
    }
}

impl Scheduler for HelloScheduler {
    fn registered(&mut self, _: &mut DriverActions<'_>, id: &FrameworkId, _: &MasterInfo) {
        println!("registered as {id}");
    }

    fn resource_offers(&mut self, driver: &mut DriverActions<'_>, offers: Vec<Offer>) {
        for offer in offers {
            let mut tasks = Vec::new();
            let mut packer = OfferPacker::new(&offer);
            while self.launched < self.tasks {
                let Some(resources) = packer.take(&self.per_task) else {
                    break;
                };
                tasks.push(self.task(&offer, resources));
            }
            let _ = driver.launch_tasks(vec![offer.id], tasks, Filters::default());
        }
    }

    fn status_update(&mut self, driver: &mut DriverActions<'_>, status: &TaskStatus) {
        println!("task {} is {}", status.task_id, status.state);
        match status.state {
            TaskState::Finished => self.finished += 1,
            s if s.is_terminal() => {
                eprintln!("task {} failed: {:?}", status.task_id, status.message);
                self.ok.store(false, Ordering::SeqCst);
                let _ = driver.teardown();
                return;
            }
            _ => {}
        }
        self.check_done(driver);
    }

    fn framework_message(
        &mut self,
        d: &mut DriverActions<'_>,
        _: &AgentId,
        _: &ExecutorId,
        data: &[u8],
    ) {
        println!("message: {}", String::from_utf8_lossy(data));
        self.messages += 1;
        self.check_done(d);
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("MESOS_EXECUTOR_ID").is_some() {
        std::process::exit(executor::run(HelloExecutor));
    }
    let master: Upid =
        format!("master@{}", arg("--master").ok_or("--master HOST:PORT")?).parse()?;
    let tasks = arg("--tasks").unwrap_or_else(|| "3".into()).parse()?;
    let executor_uri = format!("file://{}", std::env::current_exe()?.display());
    let ok = Arc::new(AtomicBool::new(true));
    let scheduler = HelloScheduler {
        tasks,
        launched: 0,
        finished: 0,
        messages: 0,
        executor_uri,
        per_task: Resources::parse("cpus:0.1;mem:32", "*")?,
        ids: TaskIds::new("hello"),
        ok: ok.clone(),
    };
    tokio::runtime::Runtime::new()?.block_on(async {
        let node = Node::builder().build().await?;
        let framework = FrameworkInfo::new("", "hello_world");
        let mut driver = SchedulerDriver::new(master, framework, Box::new(scheduler));
        if std::env::args().any(|a| a == "--http") {
            driver = driver.over_http();
        }
        let driver = node.spawn(driver)?;
        node.wait(driver.upid()).await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    std::process::exit(if ok.load(Ordering::SeqCst) { 0 } else { 1 })
}
