//! Keeps `--tasks` long-running command tasks of a checkpointing framework on a cluster (used
//! by `scripts/bench/agent_restart.sh`). Prints `running: N` whenever the count of tasks
//! last seen TASK_RUNNING changes, and `terminal: <task> <state>` for every task that ends
//! (a lost task shows up there), until killed.
//!
//! `long_tasks --master HOST:PORT [--tasks 200] [--command 'sleep 3600'] [--checkpoint true]`
//!
//! Each task's command runs with `MESO_TASK_ID` naming it, so a command can record its pid
//! per task.

use std::collections::BTreeMap;

use libprocess::{Node, Upid};
use meso_api::v1::{
    Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskId, TaskInfo, TaskState, TaskStatus,
};
use meso_api::Resources;
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};

struct LongTasks {
    command: String,
    per_task: Resources,
    total: usize,
    launched: usize,
    states: BTreeMap<TaskId, TaskState>,
    running_reported: usize,
}

impl LongTasks {
    fn task(&self, id: String, offer: &Offer) -> TaskInfo {
        let role = offer
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.clone())
            .unwrap_or_else(|| "*".into());
        let command = format!("MESO_TASK_ID={id}; export MESO_TASK_ID; {}", self.command);
        TaskInfo::command(&id, offer.agent_id.clone(), &command)
            .with_resources(self.per_task.allocate(&role))
    }
}

impl Scheduler for LongTasks {
    fn registered(&mut self, _d: &mut DriverActions<'_>, _id: &FrameworkId, _m: &MasterInfo) {}

    fn resource_offers(&mut self, d: &mut DriverActions<'_>, offers: Vec<Offer>) {
        for offer in offers {
            let mut tasks = Vec::new();
            let mut left = offer.resources.clone();
            while self.launched < self.total {
                let t = self.task(format!("t{}", self.launched), &offer);
                let Ok(rest) = left.checked_sub(&t.resources) else {
                    break;
                };
                left = rest;
                self.launched += 1;
                tasks.push(t);
            }
            let filters = Filters {
                refuse_seconds: 3600.0,
            };
            if tasks.is_empty() {
                let _ = d.decline_offer(offer.id, filters);
            } else {
                let _ = d.launch_tasks(vec![offer.id], tasks, filters);
            }
        }
    }

    fn status_update(&mut self, _d: &mut DriverActions<'_>, status: &TaskStatus) {
        self.states.insert(status.task_id.clone(), status.state);
        if status.state.is_terminal() {
            println!("terminal: {} {}", status.task_id, status.state);
        }
        let running = self
            .states
            .values()
            .filter(|s| **s == TaskState::Running)
            .count();
        if running != self.running_reported {
            self.running_reported = running;
            println!("running: {running}");
        }
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let master = arg(&args, "--master").ok_or("--master HOST:PORT is required")?;
    let total: usize = arg(&args, "--tasks").unwrap_or("200".into()).parse()?;
    let command = arg(&args, "--command").unwrap_or("sleep 3600".into());
    let checkpoint = arg(&args, "--checkpoint").as_deref() != Some("false");
    let master: Upid = format!("master@{master}").parse()?;
    let node = Node::builder().build().await?;
    let mut framework = FrameworkInfo::new(
        // The agent runs tasks as this user (`--switch-user`): this process's own.
        &std::env::var("USER").unwrap_or_else(|_| "root".into()),
        "long_tasks",
    );
    framework.checkpoint = checkpoint;
    framework.failover_timeout = 3600.0;
    let scheduler = LongTasks {
        command,
        per_task: Resources::parse("cpus:0.01;mem:1", "*")?,
        total,
        launched: 0,
        states: BTreeMap::new(),
        running_reported: 0,
    };
    let _driver = node.spawn(SchedulerDriver::new(master, framework, Box::new(scheduler)))?;
    std::future::pending::<()>().await;
    Ok(())
}
