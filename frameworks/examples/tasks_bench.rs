//! Task throughput and launch latency through a running master and agent (used by
//! `scripts/bench/tasks.sh`). Prints `name: value unit` lines.
//!
//! `tasks_bench --master HOST:PORT [--tasks 2000] [--in-flight 32] [--latency-samples 100] [--command true] [--checkpoint true]`
//!
//! `--checkpoint true` registers a checkpointing framework, so the agent writes (and fsyncs)
//! every task and status update under its `meta/` (the cost of surviving agent restarts).
//!
//! Throughput: `--tasks` command tasks, at most `--in-flight` at once, launched as offers
//! come; `tasks_per_s` = tasks / time from the first ACCEPT to the last TASK_FINISHED.
//! Latency: then one task at a time; ACCEPT sent to TASK_RUNNING received, p50 and p99.

use std::time::{Duration, Instant};

use libprocess::{Node, Upid};
use meso_api::v1::{
    Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskInfo, TaskState, TaskStatus,
};
use meso_api::Resources;
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};
use tokio::sync::oneshot;

struct Bench {
    command: String,
    per_task: Resources,
    total: usize,
    in_flight_max: usize,
    samples: usize,
    launched: usize,
    finished: usize,
    in_flight: usize,
    started: Option<Instant>,
    throughput_done: Option<Duration>,
    // Latency phase.
    latency_launched_at: Option<Instant>,
    latencies: Vec<Duration>,
    failures: usize,
    done: Option<oneshot::Sender<(Duration, Vec<Duration>, usize)>>,
}

impl Bench {
    fn phase_throughput(&self) -> bool {
        self.throughput_done.is_none()
    }

    fn task(&self, id: String, offer: &Offer) -> TaskInfo {
        let role = offer
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.clone())
            .unwrap_or_else(|| "*".into());
        TaskInfo::command(&id, offer.agent_id.clone(), &self.command)
            .with_resources(self.per_task.allocate(&role))
    }
}

impl Scheduler for Bench {
    fn registered(&mut self, _d: &mut DriverActions<'_>, _id: &FrameworkId, _m: &MasterInfo) {}

    fn resource_offers(&mut self, d: &mut DriverActions<'_>, offers: Vec<Offer>) {
        for offer in offers {
            let mut tasks = Vec::new();
            let mut left = offer.resources.clone();
            if self.phase_throughput() {
                while self.launched < self.total && self.in_flight < self.in_flight_max {
                    let t = self.task(format!("t{}", self.launched), &offer);
                    let Ok(rest) = left.checked_sub(&t.resources) else {
                        break;
                    };
                    left = rest;
                    self.launched += 1;
                    self.in_flight += 1;
                    tasks.push(t);
                }
                if self.started.is_none() && !tasks.is_empty() {
                    self.started = Some(Instant::now());
                }
            } else if self.latency_launched_at.is_none() && self.latencies.len() < self.samples {
                let t = self.task(format!("l{}", self.latencies.len()), &offer);
                if left.contains(&t.resources) {
                    tasks.push(t);
                    self.latency_launched_at = Some(Instant::now());
                }
            }
            let refuse = if tasks.is_empty() { 1.0 } else { 0.0 };
            if tasks.is_empty() {
                let _ = d.decline_offer(
                    offer.id,
                    Filters {
                        refuse_seconds: refuse,
                    },
                );
            } else {
                let _ = d.launch_tasks(
                    vec![offer.id],
                    tasks,
                    Filters {
                        refuse_seconds: refuse,
                    },
                );
            }
        }
    }

    fn status_update(&mut self, d: &mut DriverActions<'_>, status: &TaskStatus) {
        let latency_task = status.task_id.as_str().starts_with('l');
        if latency_task && status.state == TaskState::Running {
            if let Some(at) = self.latency_launched_at {
                self.latencies.push(at.elapsed());
            }
        }
        if !status.state.is_terminal() {
            return;
        }
        if status.state != TaskState::Finished {
            self.failures += 1;
        }
        if latency_task {
            self.latency_launched_at = None;
            if self.latencies.len() >= self.samples {
                if let (Some(tx), Some(t)) = (self.done.take(), self.throughput_done) {
                    let _ = tx.send((t, std::mem::take(&mut self.latencies), self.failures));
                }
                return;
            }
        } else {
            self.finished += 1;
            self.in_flight -= 1;
            if self.finished == self.total {
                self.throughput_done = self.started.map(|s| s.elapsed());
            }
        }
        // Freed resources come back as an offer; make sure filters do not hold them.
        let _ = d.revive_offers();
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let master = arg(&args, "--master").ok_or("--master HOST:PORT is required")?;
    let total: usize = arg(&args, "--tasks").unwrap_or("2000".into()).parse()?;
    let in_flight_max: usize = arg(&args, "--in-flight").unwrap_or("32".into()).parse()?;
    let samples: usize = arg(&args, "--latency-samples")
        .unwrap_or("100".into())
        .parse()?;
    let command = arg(&args, "--command").unwrap_or("true".into());
    let checkpoint = arg(&args, "--checkpoint").as_deref() == Some("true");
    let master: Upid = format!("master@{master}").parse()?;
    let node = Node::builder().build().await?;
    let (tx, rx) = oneshot::channel();
    let bench = Bench {
        command,
        per_task: Resources::parse("cpus:0.01;mem:1", "*")?,
        total,
        in_flight_max,
        samples,
        launched: 0,
        finished: 0,
        in_flight: 0,
        started: None,
        throughput_done: None,
        latency_launched_at: None,
        latencies: Vec::new(),
        failures: 0,
        done: Some(tx),
    };
    let mut framework = FrameworkInfo::new(
        // The agent runs tasks as this user (`--switch-user`): this process's own.
        &std::env::var("USER").unwrap_or_else(|_| "root".into()),
        "tasks_bench",
    );
    framework.checkpoint = checkpoint;
    let driver = node.spawn(SchedulerDriver::new(master, framework, Box::new(bench)))?;
    let (elapsed, mut latencies, failures) =
        tokio::time::timeout(Duration::from_secs(1800), rx).await??;
    latencies.sort();
    println!("tasks: {total} count");
    println!(
        "tasks_per_s: {:.1} tasks/s",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "launch_latency_ms_p50: {:.2} ms",
        percentile(&latencies, 0.50)
    );
    println!(
        "launch_latency_ms_p99: {:.2} ms",
        percentile(&latencies, 0.99)
    );
    println!("tasks_not_finished: {failures} count");
    node.terminate(driver.upid());
    node.shutdown().await;
    Ok(())
}
