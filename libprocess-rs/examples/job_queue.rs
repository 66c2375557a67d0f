//! job_queue: a small job-queue service embedding libprocess, with nothing of Mesos in it.
//!
//! A `queue` process takes jobs over HTTP (`POST /queue/jobs`, body = a line of text) and
//! lists them (`GET /queue/jobs`). Worker processes on a second node pull jobs with `ask`,
//! do the work off-actor (`defer`), and report back; the queue links to each worker and puts
//! a job back if its worker dies. By default the example submits a few jobs over real HTTP,
//! kills one worker mid-job, waits until every job is done, prints the results and exits 0.
//! With `--serve` it only starts the service and keeps running.

use clap::Parser;
use libprocess::http_types::StatusCode;
use libprocess::{
    Context, Handlers, HttpReply, HttpRequest, HttpResponse, Node, Process, RemoteMessage, Upid,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Parser)]
#[command(about = "A job queue service embedding libprocess")]
struct Args {
    /// Address of the queue's node (HTTP and actor frames).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Keep serving instead of running the demonstration.
    #[arg(long)]
    serve: bool,
    /// Workers to start.
    #[arg(long, default_value_t = 3)]
    workers: usize,
}

/// A worker asks for work.
#[derive(Serialize, Deserialize)]
struct TakeJob;
impl RemoteMessage for TakeJob {
    const NAME: &'static str = "jobs.TakeJob";
}

/// The answer to `TakeJob`.
#[derive(Serialize, Deserialize)]
struct Assigned(Option<(u64, String)>);
impl RemoteMessage for Assigned {
    const NAME: &'static str = "jobs.Assigned";
}

/// A worker reports a finished job.
#[derive(Serialize, Deserialize)]
struct JobDone {
    id: u64,
    result: String,
}
impl RemoteMessage for JobDone {
    const NAME: &'static str = "jobs.JobDone";
}

#[derive(Debug, Clone, Serialize)]
enum JobState {
    Queued,
    Running { worker: String },
    Done { result: String },
}

enum QueueMsg {
    Take,
    Done(JobDone),
}
impl From<TakeJob> for QueueMsg {
    fn from(_: TakeJob) -> Self {
        QueueMsg::Take
    }
}
impl From<JobDone> for QueueMsg {
    fn from(d: JobDone) -> Self {
        QueueMsg::Done(d)
    }
}

#[derive(Default)]
struct Queue {
    next_id: u64,
    jobs: BTreeMap<u64, (String, JobState)>,
    waiting: VecDeque<u64>,
    running: HashMap<Upid, u64>,
}

impl Process for Queue {
    type Message = QueueMsg;
    fn install(h: &mut Handlers<Self>) {
        h.on::<TakeJob>().on::<JobDone>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, msg: QueueMsg) {
        let Some(worker) = ctx.from().cloned() else {
            return;
        };
        match msg {
            QueueMsg::Take => {
                let job = self.waiting.pop_front().map(|id| {
                    let (text, state) = self.jobs.get_mut(&id).expect("waiting ids are jobs");
                    *state = JobState::Running {
                        worker: worker.to_string(),
                    };
                    self.running.insert(worker.clone(), id);
                    ctx.link(&worker);
                    (id, text.clone())
                });
                let _ = ctx.reply(Assigned(job));
            }
            QueueMsg::Done(JobDone { id, result }) => {
                self.running.remove(&worker);
                if let Some((_, state)) = self.jobs.get_mut(&id) {
                    *state = JobState::Done { result };
                }
            }
        }
    }
    fn exited(&mut self, _ctx: &mut Context<Self>, worker: Upid) {
        // A worker died holding a job: queue it again at the front.
        if let Some(id) = self.running.remove(&worker) {
            if let Some((_, state)) = self.jobs.get_mut(&id) {
                *state = JobState::Queued;
                self.waiting.push_front(id);
            }
        }
    }
    fn http(&mut self, _ctx: &mut Context<Self>, req: HttpRequest, reply: HttpReply) {
        match (req.method.as_str(), req.route.as_str()) {
            ("POST", "/jobs") => {
                let Ok(text) = String::from_utf8(req.body.to_vec()) else {
                    return reply.respond(HttpResponse::text(
                        StatusCode::BAD_REQUEST,
                        "job text must be utf-8",
                    ));
                };
                self.next_id += 1;
                let id = self.next_id;
                self.jobs
                    .insert(id, (text.trim().to_string(), JobState::Queued));
                self.waiting.push_back(id);
                reply.respond(HttpResponse::json(&serde_json::json!({ "id": id })));
            }
            ("GET", "/jobs") => {
                let list: Vec<_> = self
                    .jobs
                    .iter()
                    .map(|(id, (text, state))| serde_json::json!({"id": id, "text": text, "state": state}))
                    .collect();
                reply.respond(HttpResponse::json(&serde_json::Value::Array(list)));
            }
            (method, route) => reply.respond(HttpResponse::not_found(format!(
                "no {method} {route}; try POST /queue/jobs or GET /queue/jobs"
            ))),
        }
    }
}

enum WorkerMsg {
    Poll,
    Got(Result<Assigned, libprocess::AskError>),
    Finished { id: u64, result: String },
}

/// Pulls a job, works on it outside the actor, reports, repeats; polls again when idle.
struct Worker {
    queue: Upid,
    work_time: Duration,
}

impl Process for Worker {
    type Message = WorkerMsg;
    fn base_name(&self) -> &str {
        "worker"
    }
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx.pid().send(WorkerMsg::Poll);
    }
    fn handle(&mut self, ctx: &mut Context<Self>, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Poll => {
                let ask =
                    ctx.ask::<TakeJob, Assigned>(&self.queue, TakeJob, Duration::from_secs(5));
                ctx.defer(ask, WorkerMsg::Got);
            }
            WorkerMsg::Got(Ok(Assigned(Some((id, text))))) => {
                let work_time = self.work_time;
                // The "work": count words, slowly, off the actor.
                ctx.defer(
                    async move {
                        tokio::time::sleep(work_time).await;
                        format!("{} words", text.split_whitespace().count())
                    },
                    move |result| WorkerMsg::Finished { id, result },
                );
            }
            WorkerMsg::Got(_) => {
                ctx.delay(Duration::from_millis(20), WorkerMsg::Poll);
            }
            WorkerMsg::Finished { id, result } => {
                // Example: a lost result leaves the job running, which the example's deadline reports.
                let _ = ctx.send(&self.queue, JobDone { id, result });
                let _ = ctx.pid().send(WorkerMsg::Poll);
            }
        }
    }
}

/// One HTTP/1.1 request over a fresh connection; returns the body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut out = String::new();
    s.read_to_string(&mut out).await?;
    let (head, body) = out
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no http response: {out:?}"))?;
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "{method} {path}: {head}");
    Ok(body.to_string())
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let service = Node::builder()
        .bind(args.listen)
        .delegate("queue")
        .build()
        .await?;
    let queue = service.spawn_named("queue", Queue::default())?;
    println!(
        "job_queue: queue at {}, HTTP on http://{}/queue/jobs",
        queue.upid(),
        service.addr()
    );
    if args.serve {
        std::future::pending::<()>().await;
    }
    let texts = [
        "the quick brown fox",
        "jumps over",
        "the lazy dog",
        "libprocess embeds in any service",
        "one",
        "two words",
    ];
    for text in texts {
        http(service.addr(), "POST", "/queue/jobs", text).await?;
    }
    // Workers live on another node, as they would on other machines.
    let farm = Node::builder().build().await?;
    let mut workers = Vec::new();
    for _ in 0..args.workers.max(1) {
        workers.push(farm.spawn(Worker {
            queue: queue.upid().clone(),
            work_time: Duration::from_millis(50),
        })?);
    }
    // Kill one worker while it (probably) holds a job: the queue hands the job out again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    workers[0].terminate();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        // `/jobs` without a process id reaches the queue as the node's delegate.
        let body = http(service.addr(), "GET", "/queue/jobs", "").await?;
        let jobs: serde_json::Value = serde_json::from_str(&body)?;
        let list = jobs.as_array().cloned().unwrap_or_default();
        if list.iter().all(|j| j["state"].get("Done").is_some()) {
            for j in &list {
                println!(
                    "job {} {:?}: {}",
                    j["id"],
                    j["text"].as_str().unwrap_or(""),
                    j["state"]["Done"]["result"]
                );
            }
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "jobs did not finish: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delegated = http(service.addr(), "GET", "/jobs", "").await?;
    anyhow::ensure!(delegated.contains("\"id\":1"), "delegate route works");
    println!(
        "job_queue: {} jobs done by {} workers (one killed mid-run)",
        texts.len(),
        args.workers
    );
    farm.shutdown().await;
    service.shutdown().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(demo(args))
}
