//! The services framework as it runs on the leading master: the `v2` process (Marathon's
//! `/v2` routes, `/v2/events`), its scheduler driver, and `ping` (`/ping`), started by the
//! [`ServicesCompanion`] when the master is elected and stopped when it is deposed.
//!
//! The `v2` process owns the [`Services`] core. On start it reads its records from the
//! registry (a lease read through the Raft log), then starts a scheduler driver that
//! registers with the master on the same node like any framework (re-registering with
//! the stored framework id after a failover) and forwards offers and status updates to it.
//! After registering it asks the master to reconcile every task it knows, so running tasks
//! are adopted, never relaunched. Every change's records are written to the registry
//! (`PutServices`, one proposal in flight, the next batch coalescing behind it). Readiness
//! checks are asked from here, over the node's HTTP client, at the agent's IP from the
//! offer's URL (`readiness.rs` says when and what an answer means).
//!
//! Until the records are read, `/v2` answers 503. Every `/v2` request first passes the
//! master's HTTP authentication (`access.rs`): reads in the read-only realm, writes in the
//! read-write realm; `/ping` is open.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;
use libprocess::http_types::{HeaderMap, HeaderValue, StatusCode};
use libprocess::slog::{info, warn};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse, HttpStream, Node, Process, Upid};
use meso_api::http::auth::HttpAuthenticator;
use meso_api::http::RequestHeaders;
use meso_api::v1::{
    AgentId, FrameworkCapability, FrameworkCapabilityType, FrameworkId, FrameworkInfo,
    InverseOffer, MasterInfo, Offer, OfferId, TaskId, TaskStatus,
};
use meso_frameworks::driver::{DriverActions, DriverHandle, Scheduler, SchedulerDriver};
use meso_master::leadership::Companion;
use meso_master::raftlog::RaftLog;
use meso_registry::Registry;
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::access;
use crate::ping::Ping;

mod log_writes;
use crate::api::{self, Env, Request};
use crate::ops::Stamp;
use crate::readiness::{HttpAnswer, Probe, BODY_LIMIT};
use crate::state::{Effect, Services};
use crate::timestamps::iso;

/// The framework's settings (from `meso master --services-role` and the master's HTTP
/// authentication flags).
#[derive(Debug, Clone)]
pub struct ServicesConfig {
    /// The framework's role.
    pub role: String,
    /// The OS user tasks run as by default.
    pub user: String,
    /// The master's HTTP authentication, applied to `/v2` too (`access.rs`).
    pub http_auth: HttpAuthenticator,
}

/// Requests to `/v2` refused for wrong credentials (not for absent ones), as the master's
/// `master/http_authentication_failures`.
pub const AUTHENTICATION_FAILURES_METRIC: &str = "services/http_authentication_failures";

/// How often the deployments are looked at without an event (backoff expiries).
const TICK: Duration = Duration::from_millis(500);
/// How long an offer the framework has no use for is declined.
const IDLE_REFUSE_SECONDS: f64 = 5.0;
/// How long offers are declined while instances wait (for another agent).
const WAITING_REFUSE_SECONDS: f64 = 1.0;
/// Failover timeout: the master keeps the framework's tasks this long without it.
const FAILOVER_TIMEOUT_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// Everything the `v2` process handles.
#[derive(Debug)]
pub enum ServicesMessage {
    /// The records read from the registry.
    Loaded(Result<BTreeMap<String, Vec<u8>>, String>),
    /// The driver registered (or re-registered) with this framework id.
    Registered(String),
    /// Offers.
    Offers(Vec<Offer>),
    /// A status update.
    Status(Box<TaskStatus>),
    /// A write to the registry finished.
    Persisted(Result<(), String>),
    /// Look at deployments again.
    Tick,
    /// A readiness ask about a task came back (`Err`: no answer, why).
    Readiness(String, Result<HttpAnswer, String>),
    /// The master asks for agents back (maintenance).
    InverseOffers(Vec<InverseOffer>),
    /// The master withdrew an inverse offer.
    InverseOfferRescinded(String),
    /// `DELETE /v2/leader`: the Raft log started handing leadership to this master node
    /// (or said why not); answer the caller.
    Abdicated(Result<u64, String>, HttpReply),
}

/// The scheduler the driver calls: forwards everything to the `v2` process.
struct Forward(libprocess::Pid<ServicesProcess>);

impl Scheduler for Forward {
    fn registered(&mut self, _d: &mut DriverActions<'_>, id: &FrameworkId, _m: &MasterInfo) {
        let _ = self.0.send(ServicesMessage::Registered(id.to_string()));
    }
    fn reregistered(&mut self, d: &mut DriverActions<'_>, _m: &MasterInfo) {
        if let Some(id) = d.framework_id() {
            let _ = self.0.send(ServicesMessage::Registered(id.to_string()));
        }
    }
    fn resource_offers(&mut self, _d: &mut DriverActions<'_>, offers: Vec<Offer>) {
        let _ = self.0.send(ServicesMessage::Offers(offers));
    }
    fn inverse_offers(&mut self, _d: &mut DriverActions<'_>, offers: Vec<InverseOffer>) {
        let _ = self.0.send(ServicesMessage::InverseOffers(offers));
    }
    fn inverse_offer_rescinded(&mut self, _d: &mut DriverActions<'_>, offer: &OfferId) {
        let _ = self
            .0
            .send(ServicesMessage::InverseOfferRescinded(offer.to_string()));
    }
    fn status_update(&mut self, _d: &mut DriverActions<'_>, status: &TaskStatus) {
        let _ = self
            .0
            .send(ServicesMessage::Status(Box::new(status.clone())));
    }
}

/// An `/v2/events` subscriber: its stream and the event types it asked for.
struct Subscriber {
    stream: HttpStream,
    types: Vec<String>,
}

/// The `v2` process (see the module docs).
pub struct ServicesProcess {
    config: ServicesConfig,
    log: RaftLog<Registry>,
    state: Option<Services>,
    driver: Option<DriverHandle>,
    /// The framework to register once there is an app to run (see [`Self::start_driver`]).
    framework: Option<FrameworkInfo>,
    persisting: bool,
    subscribers: Vec<Subscriber>,
    /// Answers to API writes whose records are not in a proposal yet: a write is answered
    /// only once the Raft log committed it, as Marathon answers once ZooKeeper has it, so
    /// an acknowledged change survives a leader kill.
    unstored: Vec<(HttpReply, HttpResponse)>,
    /// Answers to API writes whose records are in the proposal under way.
    storing: Vec<(HttpReply, HttpResponse)>,
}

impl ServicesProcess {
    /// A process storing its records through `log`.
    pub fn new(config: ServicesConfig, log: RaftLog<Registry>) -> ServicesProcess {
        ServicesProcess {
            config,
            log,
            state: None,
            driver: None,
            framework: None,
            persisting: false,
            subscribers: Vec::new(),
            unstored: Vec::new(),
            storing: Vec::new(),
        }
    }

    fn now_ms(ctx: &Context<Self>) -> u64 {
        ctx.wall_time()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn loaded(&mut self, ctx: &mut Context<Self>, records: BTreeMap<String, Vec<u8>>) {
        let (state, bad) = Services::restore(&self.config.role, &records);
        for b in bad {
            warn!(ctx.node().logger(), "services: a stored record does not decode and is skipped"; "record" => b);
        }
        info!(ctx.node().logger(), "services framework recovered";
            "apps" => state.apps.len(), "instances" => state.instances.len(),
            "deployments" => state.deployments.len(), "framework_id" => ?state.framework_id);
        let mut framework = FrameworkInfo::new(&self.config.user, "meso-services");
        framework.id = state.framework_id.as_deref().map(FrameworkId::new);
        framework.role = Some(self.config.role.clone());
        framework.checkpoint = true;
        framework.failover_timeout = FAILOVER_TIMEOUT_SECONDS;
        framework.capabilities = vec![FrameworkCapability {
            kind: Some(FrameworkCapabilityType::RevocableResources),
        }];
        // A cluster that never ran a service has no services framework in its state and no
        // one declining its offers: the framework registers with the first app (or at once
        // when it registered before, to adopt its tasks).
        let start = state.framework_id.is_some() || !state.apps.is_empty();
        self.state = Some(state);
        self.framework = Some(framework);
        if start {
            self.start_driver(ctx);
        }
        ctx.delay(TICK, ServicesMessage::Tick);
    }

    /// Registers the framework with the master (once).
    fn start_driver(&mut self, ctx: &mut Context<Self>) {
        let Some(framework) = self.framework.take() else {
            return;
        };
        let master = Upid::new("master", ctx.node().addr());
        let driver = SchedulerDriver::new(master, framework, Box::new(Forward(ctx.pid().clone())))
            .with_retry_interval(Duration::from_millis(500));
        match ctx.spawn(driver) {
            Ok(pid) => self.driver = Some(DriverHandle::new(pid)),
            Err(e) => {
                warn!(ctx.node().logger(), "services: cannot start the scheduler driver"; "error" => %e)
            }
        }
    }

    /// Reconciles the deployments, then carries out what the core asked for.
    fn settle(&mut self, ctx: &mut Context<Self>) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let mut new_id = || ctx.uuid_v4().to_string();
        state.reconcile(&mut new_id);
        let effects = state.take_effects();
        let probes = state.readiness_probes(Self::now_ms(ctx));
        for probe in probes {
            Self::ask_readiness(ctx, probe);
        }
        if self.driver.is_none() && !state.apps.is_empty() {
            self.start_driver(ctx);
        }
        let mut kills = Vec::new();
        let mut revive = false;
        for e in effects {
            match e {
                Effect::Kill { task_id, agent_id } => kills.push((task_id, agent_id)),
                Effect::Revive => revive = true,
                Effect::Event(event) => self.publish(&event),
            }
        }
        if let Some(driver) = &self.driver {
            if !kills.is_empty() || revive {
                let _ = driver.run(move |a| {
                    for (task, _agent) in kills {
                        let _ = a.kill_task(TaskId::new(task));
                    }
                    if revive {
                        let _ = a.revive_offers();
                    }
                });
            }
        }
        self.persist(ctx);
    }

    /// Asks a task whether it is ready (`GET http://agent:port/path` over the node's HTTP
    /// client); the answer comes back as [`ServicesMessage::Readiness`].
    fn ask_readiness(ctx: &Context<Self>, probe: Probe) {
        let Probe {
            task_id,
            host,
            port,
            path,
            timeout_ms,
            keep_body,
        } = probe;
        let Ok(ip) = host.parse::<std::net::IpAddr>() else {
            let why = format!("the agent's address {host} is not an IP address");
            let _ = ctx
                .pid()
                .send(ServicesMessage::Readiness(task_id, Err(why)));
            return;
        };
        let timeout = Duration::from_millis(timeout_ms);
        let exchange = ctx.node().http_send(
            std::net::SocketAddr::new(ip, port),
            libprocess::http_client::ClientRequest::get(path),
            timeout,
        );
        let clock = ctx.node().clock();
        ctx.defer(
            async move {
                let response = exchange.await.map_err(|e| e.to_string())?;
                let content_type = response
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let status = response.status.as_u16();
                let body = if keep_body {
                    // The head came within the timeout; the body gets as long again.
                    let read = response.bytes(BODY_LIMIT);
                    let deadline = clock.sleep_until(clock.now() + timeout);
                    futures::pin_mut!(read);
                    match futures::future::select(read, deadline).await {
                        futures::future::Either::Left((Ok(b), _)) => {
                            String::from_utf8_lossy(&b).into_owned()
                        }
                        futures::future::Either::Left((Err(e), _)) => e.to_string(),
                        futures::future::Either::Right(_) => "the body took too long".into(),
                    }
                } else {
                    String::new()
                };
                Ok(HttpAnswer {
                    status,
                    content_type,
                    body,
                })
            },
            move |answer| ServicesMessage::Readiness(task_id, answer),
        );
    }

    fn publish(&mut self, event: &Value) {
        let kind = event["eventType"].as_str().unwrap_or_default().to_string();
        let mut event = event.clone();
        if event.get("timestamp").is_none() {
            event["timestamp"] = json!(iso(0));
        }
        let chunk = Bytes::from(format!("event: {kind}\ndata: {event}\n\n"));
        self.subscribers.retain(|s| {
            if !s.types.is_empty() && !s.types.contains(&kind) {
                return !s.stream.is_closed();
            }
            // A consumer that falls behind is dropped and must reconnect (Marathon 1.8+).
            s.stream.send(chunk.clone()).is_ok()
        });
    }

    fn subscribe(&mut self, ctx: &Context<Self>, request: &HttpRequest, reply: HttpReply) {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert("cache-control", HeaderValue::from_static("no-cache"));
        let stream = reply.stream(StatusCode::OK, headers);
        let types: Vec<String> = request
            .query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.strip_prefix("event_type="))
            .map(str::to_string)
            .collect();
        let attached = json!({
            "eventType": "event_stream_attached",
            "timestamp": iso(Self::now_ms(ctx)),
            "remoteAddress": request.peer.ip().to_string(),
        });
        let _ = stream.send(Bytes::from(format!(
            "event: event_stream_attached\ndata: {attached}\n\n"
        )));
        self.subscribers.push(Subscriber { stream, types });
    }

    /// The 401 for a request the master's HTTP authentication refuses (`access.rs`).
    fn refused(&self, ctx: &Context<Self>, request: &HttpRequest) -> Option<HttpResponse> {
        let headers = RequestHeaders::from_pairs(
            request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes())),
        );
        let now = ctx
            .wall_time()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let refused = access::check(
            &self.config.http_auth,
            request.method.as_str(),
            &headers,
            now,
        )?;
        if refused.attempted {
            ctx.node()
                .metrics()
                .counter(AUTHENTICATION_FAILURES_METRIC)
                .inc();
            info!(ctx.node().logger(), "services: HTTP authentication failed";
                "path" => &request.path, "peer" => ?request.peer, "reason" => %refused.body["message"]);
        }
        let mut response = json_response(401, &refused.body, &[]);
        for (name, value) in refused.headers {
            if let (Ok(n), Ok(v)) = (
                libprocess::http_types::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers.append(n, v);
            }
        }
        Some(response)
    }

    fn serve(&mut self, ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        if let Some(refusal) = self.refused(ctx, &request) {
            return reply.respond(refusal);
        }
        let route = request.route.clone();
        if route.trim_end_matches('/') == "/events" && request.method == "GET" {
            return self.subscribe(ctx, &request, reply);
        }
        if route.trim_end_matches('/') == "/leader" && request.method == "DELETE" {
            return self.abdicate(ctx, reply);
        }
        let now_ms = Self::now_ms(ctx);
        let Some(state) = self.state.as_mut() else {
            return reply.respond(json_response(
                503,
                &json!({"message": "the services framework is starting; try again shortly"}),
                &[],
            ));
        };
        let leader = ctx.node().addr().to_string();
        let env = Env {
            leader: &leader,
            http_port: ctx.node().addr().port(),
        };
        let query = request.query.clone().unwrap_or_default();
        let req = Request {
            method: request.method.as_str(),
            path: &route,
            query: &query,
            body: &request.body,
        };
        let mut new_id = || ctx.uuid_v4().to_string();
        let mut stamp = Stamp {
            now_ms,
            new_id: &mut new_id,
        };
        let answer = api::handle(state, &req, &env, &mut stamp);
        if request.method != "GET" && answer.status < 300 {
            let created = answer
                .headers
                .iter()
                .find(|(k, _)| *k == "Location")
                .map(|(_, v)| v.as_str());
            state.emit_api_event(
                request.method.as_str(),
                &request.path,
                created,
                request.peer.ip().to_string(),
                now_ms,
            );
        }
        let read_only = matches!(request.method.as_str(), "GET" | "HEAD");
        let stored_first = !read_only && answer.status < 300;
        let response = match answer.raw {
            Some(text) => {
                let mut r = HttpResponse::text(StatusCode::OK, text);
                r.headers
                    .insert("content-type", HeaderValue::from_static("application/json"));
                r
            }
            None => {
                let body = answer.body.unwrap_or(Value::Null);
                json_response(answer.status, &body, &answer.headers)
            }
        };
        if stored_first {
            // Answered by `persist`/`Persisted` once the change is committed.
            self.unstored.push((reply, response));
        } else {
            reply.respond(response);
        }
        // A read changed nothing: no reconciling of every app behind each GET (the tick and
        // the next change do it).
        if !read_only {
            self.settle(ctx);
        }
    }

    fn offers(&mut self, ctx: &mut Context<Self>, offers: Vec<Offer>) {
        let now_ms = Self::now_ms(ctx);
        let (Some(state), Some(driver)) = (self.state.as_mut(), self.driver.as_ref()) else {
            return;
        };
        let round = state.offers(offers, now_ms);
        let idle = state.apps.is_empty();
        let refuse = if round.waiting {
            WAITING_REFUSE_SECONDS
        } else {
            IDLE_REFUSE_SECONDS
        };
        let _ = driver.run(move |a| {
            for (offer, tasks) in round.launches {
                let _ = a.launch_tasks(
                    vec![offer],
                    tasks,
                    meso_api::v1::Filters {
                        refuse_seconds: WAITING_REFUSE_SECONDS,
                    },
                );
            }
            for offer in round.declines {
                let _ = a.decline_offer(
                    offer,
                    meso_api::v1::Filters {
                        refuse_seconds: refuse,
                    },
                );
            }
            // With no app there is nothing to launch until one is created (which revives).
            if idle {
                let _ = a.suppress_offers();
            }
        });
        self.settle(ctx);
    }

    fn registered(&mut self, ctx: &mut Context<Self>, id: String) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        info!(ctx.node().logger(), "services framework registered"; "framework_id" => &id);
        state.set_framework_id(&id);
        let known: Vec<(TaskId, Option<AgentId>)> = state
            .known_tasks()
            .into_iter()
            .map(|(t, a)| (TaskId::new(t), Some(AgentId::new(a))))
            .collect();
        if let Some(driver) = &self.driver {
            let _ = driver.run(move |a| {
                // Explicit reconciliation: the master answers for each task it knows, and
                // TASK_LOST/GONE for those it knows are gone.
                if !known.is_empty() {
                    let _ = a.reconcile_tasks(known);
                }
                let _ = a.revive_offers();
            });
        }
        self.settle(ctx);
    }
}

fn json_response(status: u16, body: &Value, headers: &[(&'static str, String)]) -> HttpResponse {
    let mut r = if body.is_null() {
        HttpResponse::text(StatusCode::OK, "")
    } else {
        HttpResponse::json(body)
    };
    r.status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            r.headers.insert(*k, v);
        }
    }
    r
}

impl Process for ServicesProcess {
    type Message = ServicesMessage;

    fn base_name(&self) -> &str {
        "v2"
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        let log = self.log.clone();
        ctx.defer(
            async move {
                log.read(|r: &Registry| r.services().clone())
                    .await
                    .map_err(|e| e.to_string())
            },
            ServicesMessage::Loaded,
        );
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: ServicesMessage) {
        match msg {
            ServicesMessage::Loaded(Ok(records)) => self.loaded(ctx, records),
            ServicesMessage::Loaded(Err(e)) => {
                warn!(ctx.node().logger(), "services: cannot read the stored records; retrying"; "error" => e);
                let log = self.log.clone();
                let clock = ctx.node().clock();
                ctx.defer(
                    async move {
                        clock.sleep_until(clock.now() + TICK).await;
                        log.read(|r: &Registry| r.services().clone())
                            .await
                            .map_err(|e| e.to_string())
                    },
                    ServicesMessage::Loaded,
                );
            }
            ServicesMessage::Registered(id) => self.registered(ctx, id),
            ServicesMessage::Offers(offers) => self.offers(ctx, offers),
            ServicesMessage::Status(status) => {
                let now_ms = Self::now_ms(ctx);
                if let Some(state) = self.state.as_mut() {
                    state.status(&status, now_ms);
                }
                self.settle(ctx);
            }
            ServicesMessage::Persisted(result) => {
                self.persisting = false;
                let stored = std::mem::take(&mut self.storing);
                match result {
                    Ok(()) => {
                        for (reply, answer) in stored {
                            reply.respond(answer);
                        }
                    }
                    Err(e) => {
                        warn!(ctx.node().logger(), "services: writing records to the registry failed"; "error" => &e);
                        let refusal = log_writes::not_stored(&e);
                        for (reply, _) in stored {
                            reply.respond(refusal.clone());
                        }
                    }
                }
                self.persist(ctx);
            }
            ServicesMessage::Readiness(task_id, answer) => {
                let now_ms = Self::now_ms(ctx);
                if let Some(state) = self.state.as_mut() {
                    state.readiness_answer(&task_id, answer, now_ms);
                }
                self.settle(ctx);
            }
            ServicesMessage::Tick => {
                self.settle(ctx);
                ctx.delay(TICK, ServicesMessage::Tick);
            }
            ServicesMessage::Abdicated(result, reply) => self.abdicated(ctx, result, reply),
            ServicesMessage::InverseOffers(offers) => {
                let Some(state) = self.state.as_mut() else {
                    return;
                };
                let accepted = state.agents_leaving(&offers);
                if !accepted.is_empty() {
                    info!(ctx.node().logger(), "services: agents asked back for maintenance; replacing their instances first";
                        "agents" => ?offers.iter().filter_map(|o| o.agent_id.as_ref().map(|a| a.to_string())).collect::<Vec<_>>());
                }
                if let Some(driver) = &self.driver {
                    let ids: Vec<OfferId> = accepted.into_iter().map(OfferId::new).collect();
                    let _ = driver.run(move |a| {
                        let _ = a.answer_inverse_offers(ids, true, None);
                    });
                }
                self.settle(ctx);
            }
            ServicesMessage::InverseOfferRescinded(id) => {
                if let Some(state) = self.state.as_mut() {
                    state.inverse_offer_rescinded(&id);
                }
                self.settle(ctx);
            }
        }
    }

    fn http(&mut self, ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        self.serve(ctx, request, reply);
    }

    fn finalize(&mut self, ctx: &mut Context<Self>) {
        let waiting = self.storing.drain(..).chain(self.unstored.drain(..));
        for (reply, _) in waiting {
            reply.respond(log_writes::not_stored("this master stopped leading"));
        }
        if let Some(driver) = self.driver.take() {
            ctx.node().terminate(driver.upid());
        }
    }
}

/// Starts the framework when the master is elected (see the module docs).
pub struct ServicesCompanion {
    config: ServicesConfig,
    running: Mutex<Vec<Upid>>,
}

impl ServicesCompanion {
    /// A companion running the framework with `config`.
    pub fn new(config: ServicesConfig) -> Arc<ServicesCompanion> {
        Arc::new(ServicesCompanion {
            config,
            running: Mutex::new(Vec::new()),
        })
    }
}

impl Companion for ServicesCompanion {
    fn elected(&self, node: &Node, log: &RaftLog<Registry>) {
        let mut running = self.running.lock();
        match node.spawn_named("v2", ServicesProcess::new(self.config.clone(), log.clone())) {
            Ok(pid) => running.push(pid.upid().clone()),
            Err(e) => warn!(node.logger(), "services: cannot start the v2 process"; "error" => %e),
        }
        match node.spawn_named("ping", Ping) {
            Ok(pid) => running.push(pid.upid().clone()),
            Err(e) => {
                warn!(node.logger(), "services: cannot start the ping process"; "error" => %e)
            }
        }
    }

    fn deposed(&self, node: &Node) -> BoxFuture<'static, ()> {
        let upids: Vec<Upid> = std::mem::take(&mut *self.running.lock());
        let node = node.clone();
        Box::pin(async move {
            for upid in upids {
                let exited = node.wait(&upid);
                node.terminate(&upid);
                exited.await;
            }
        })
    }
}
