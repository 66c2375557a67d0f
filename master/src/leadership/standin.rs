//! [`StandIn`]: the `master` process of a master that does not lead.
//!
//! Every message a client sends to a master (agent registration and re-registration, pongs,
//! status updates, framework registration, scheduler calls, ...) is answered with
//! [`wire::NotLeader`] naming the leader this master knows (if any), so the client goes there.
//! While no leader is known (an election is under way) the sender is held instead of being
//! told "none" at once (which made 10,000 emulated agents ask again every 50-100 ms during
//! an election): the stand-in looks at the leader info every [`LEADER_LOOK`] and answers every
//! held client as soon as another master is known to lead, after [`HOLD_LIMIT`] at the
//! latest, and when it stops (replaced by the `Master` on election: then the hint names this
//! master, which from then on is the `Master`). While this master leads in Raft but its
//! `Master` is still recovering, clients are held too, and so they are while the leader
//! info still names a leader whose link broke in the current term (a follower names a dead
//! leader until its election timeout; the stand-in links to the leader it names).
//! Invariants: at most [`MAX_HELD`] distinct clients are held (others are answered at once);
//! a held client gets exactly one answer per hold.
//! HTTP: `/health` is 200, `/version` the version, `/state` (also `/state.json`) a small
//! document with the leader, term and peers, `/redirect` Mesos's redirect to the leader, `/leader` who leads (for the web UI, open to
//! any origin);
//! every other path is a 307 to the same path on the leader, or 503 when no leader is known.
//! `/state` asks for credentials as the leader's read-only endpoints do (the master's
//! `HttpAuthenticator`); redirected paths are authenticated by the leader.

use std::collections::BTreeSet;
use std::time::Duration;

use libprocess::http_types::{HeaderName, HeaderValue, StatusCode};
use libprocess::{Context, Handlers, HttpReply, HttpRequest, HttpResponse, Process, Unread, Upid};
use meso_api::http::auth::{master_realm, HttpAuthenticator};
use meso_api::http::{HttpError, RequestHeaders};
use meso_api::wire;

use super::SharedLeaderInfo;

/// How often the stand-in looks whether a leader became known while it holds clients.
pub const LEADER_LOOK: Duration = Duration::from_millis(20);
/// The longest a client is held waiting for a leader before it is told that none is known.
pub const HOLD_LIMIT: Duration = Duration::from_secs(1);
/// The most clients held at once (a cluster's agents and frameworks with room to spare).
pub const MAX_HELD: usize = 50_000;

/// What the stand-in handles.
#[derive(Debug)]
pub enum StandInMessage {
    /// Any client message (answered with a leader hint).
    Client,
    /// Timer: look whether a leader is known (for the hold started at `hold`).
    Look {
        /// The hold this timer belongs to.
        hold: u64,
        /// Looks left before the held clients are answered anyway.
        left: u32,
    },
}

// Client messages are accepted unread: the stand-in answers the sender and never looks at
// the payload, and decoding 10,000 agents' re-registrations (with their tasks) during a
// failover would cost a follower as much CPU as the leader spends handling them.
macro_rules! client_messages {
    ($($ty:ident,)*) => {
        $(impl From<Unread<wire::$ty>> for StandInMessage {
            fn from(_: Unread<wire::$ty>) -> Self { StandInMessage::Client }
        })*
        fn install_client_messages(h: &mut Handlers<StandIn>) {
            $(h.on_unread::<wire::$ty>();)*
        }
    };
}

client_messages! {
    RegisterAgent,
    ReregisterAgent,
    UnregisterAgent,
    PongAgent,
    UpdateOversubscribedResources,
    StatusUpdateMessage,
    ExitedExecutor,
    ExecutorToFramework,
    RegisterFramework,
    ReregisterFramework,
    UnregisterFramework,
    DeactivateFramework,
    LaunchTasks,
    ReviveOffers,
    ReconcileTasks,
    KillTask,
    StatusUpdateAcknowledgement,
    FrameworkToExecutor,
    SchedulerCall,
    Authenticate,
}

/// The follower's `master` process (spawn it under the id `master`).
pub struct StandIn {
    leader: SharedLeaderInfo,
    /// Clients waiting for a leader to be known.
    held: BTreeSet<Upid>,
    /// Counts holds (a hold starts when the first client is held).
    hold: u64,
    /// The leader this stand-in is linked to (to learn when it dies).
    watched: Option<Upid>,
    /// A named leader whose link broke, and the term then: while the leader info still names
    /// it in that term (followers name a dead leader until their election timeout), it is
    /// treated as no leader.
    dead: Option<(Upid, u64)>,
    /// The master's HTTP authentication: `/state` here is read-only like the leader's.
    http_auth: HttpAuthenticator,
}

impl StandIn {
    /// A stand-in that reads who leads from `leader`.
    pub fn new(leader: SharedLeaderInfo) -> StandIn {
        StandIn {
            leader,
            held: BTreeSet::new(),
            hold: 0,
            watched: None,
            dead: None,
            http_auth: HttpAuthenticator::open(),
        }
    }

    /// The same stand-in, authenticating HTTP requests as the master would.
    pub fn with_http_auth(mut self, http_auth: HttpAuthenticator) -> StandIn {
        self.http_auth = http_auth;
        self
    }

    /// The leader clients should go to now: another master, named by the leader info and
    /// not known dead in the current term. Links to it to learn when it dies.
    fn usable_leader(&mut self, ctx: &mut Context<Self>) -> Option<Upid> {
        let (leader, term) = {
            let info = self.leader.lock();
            (info.leader.clone(), info.term)
        };
        let leader = leader.filter(|l| l != ctx.self_upid())?;
        if self
            .dead
            .as_ref()
            .is_some_and(|(gone, at)| gone == &leader && *at == term)
        {
            return None;
        }
        if self.watched.as_ref() != Some(&leader) {
            if let Some(old) = self.watched.take() {
                ctx.unlink(&old);
            }
            ctx.link(&leader);
            self.watched = Some(leader.clone());
        }
        Some(leader)
    }

    /// Answers every held client with the hint of now.
    fn answer_held(&mut self, ctx: &mut Context<Self>) {
        if self.held.is_empty() {
            return;
        }
        let hint = self.hint();
        for client in std::mem::take(&mut self.held) {
            // Best effort: a client whose hint is lost asks again after its own timeout.
            let _ = ctx.send(&client, hint.clone());
        }
    }

    /// The leader hint this master sends now.
    pub fn hint(&self) -> wire::NotLeader {
        let info = self.leader.lock();
        wire::NotLeader {
            leader: info.leader.as_ref().map(|u| u.to_string()),
            term: info.term,
        }
    }
}

fn error_response(e: HttpError) -> HttpResponse {
    let mut response = HttpResponse::text(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        e.body,
    );
    for (name, value) in e.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            // Appended: a 401 carries one `WWW-Authenticate` challenge per scheme.
            response.headers.append(name, value);
        }
    }
    response
}

impl Process for StandIn {
    type Message = StandInMessage;

    fn base_name(&self) -> &str {
        "master"
    }

    fn install(handlers: &mut Handlers<Self>) {
        install_client_messages(handlers);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: StandInMessage) {
        match msg {
            StandInMessage::Client => {
                let Some(from) = ctx.from().cloned() else {
                    return;
                };
                // No usable leader: none known, a dead one still named, or this master
                // itself while its `Master` is not running yet (recovering the registry,
                // answered when the `Master` replaces this process): hold the client.
                if self.usable_leader(ctx).is_some() || self.held.len() >= MAX_HELD {
                    // Best effort: a client whose hint is lost asks again after its own timeout.
                    let _ = ctx.send(&from, self.hint());
                    return;
                }
                if self.held.is_empty() {
                    self.hold += 1;
                    let left = (HOLD_LIMIT.as_millis() / LEADER_LOOK.as_millis()).max(1) as u32;
                    ctx.delay(
                        LEADER_LOOK,
                        StandInMessage::Look {
                            hold: self.hold,
                            left,
                        },
                    );
                }
                self.held.insert(from);
            }
            StandInMessage::Look { hold, left } => {
                if hold != self.hold || self.held.is_empty() {
                    return;
                }
                if self.usable_leader(ctx).is_some() || left <= 1 {
                    self.answer_held(ctx);
                } else {
                    ctx.delay(
                        LEADER_LOOK,
                        StandInMessage::Look {
                            hold,
                            left: left - 1,
                        },
                    );
                }
            }
        }
    }

    fn exited(&mut self, _ctx: &mut Context<Self>, pid: Upid) {
        if self.watched.as_ref() == Some(&pid) {
            self.watched = None;
            let term = self.leader.lock().term;
            self.dead = Some((pid, term));
        }
    }

    fn finalize(&mut self, ctx: &mut Context<Self>) {
        // Replaced by the master on election (the hint names this master) or stopping.
        self.answer_held(ctx);
    }

    fn http(&mut self, ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        let route = request.route.trim_end_matches('/');
        let route = route.strip_prefix("/master").unwrap_or(route);
        // What the stand-in answers itself is authenticated here; everything else is a
        // redirect to the leader, which authenticates it there.
        if matches!(
            route,
            "/state" | "/state.json" | "/metrics/snapshot" | "/metrics"
        ) {
            let headers = RequestHeaders::from_pairs(
                request
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_bytes())),
            );
            let now = libprocess::unix_secs(ctx.wall_time());
            if let Err(refusal) = self
                .http_auth
                .authenticate(master_realm(route), &headers, now)
            {
                if refusal.attempted {
                    ctx.node()
                        .metrics()
                        .counter(crate::master::AUTHENTICATION_FAILURES_METRIC)
                        .inc();
                }
                return reply.respond(error_response(refusal.error));
            }
        }
        let info = self.leader.lock().clone();
        let leader = info.leader_host_port();
        let leader = leader.as_ref().map(|(h, p)| (h.as_str(), *p));
        let response = match route {
            "/health" => HttpResponse::text(StatusCode::OK, ""),
            "/version" => HttpResponse::json(&serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
            })),
            "/state" | "/state.json" => {
                let mut doc = info.to_json();
                doc["version"] = env!("CARGO_PKG_VERSION").into();
                HttpResponse::json(&doc)
            }
            "/redirect" => error_response(meso_api::http::routing::master_redirect(leader, route)),
            "/leader" => crate::master::webui::leader_response(info.to_json()),
            // A master that does not lead still reports its own node (Raft, libprocess,
            // `master/elected` 0), as a Mesos master does, rather than the leader's.
            "/metrics/snapshot" => {
                let mut r =
                    HttpResponse::text(StatusCode::OK, ctx.node().metrics().snapshot_json());
                r.headers.insert(
                    libprocess::http_types::header::CONTENT_TYPE,
                    libprocess::http_types::HeaderValue::from_static("application/json"),
                );
                r
            }
            "/metrics" => HttpResponse::text(
                StatusCode::OK,
                meso_api::prometheus::render(&ctx.node().metrics().snapshot()),
            ),
            other => error_response(HttpError::not_leader(leader, other)),
        };
        reply.respond(response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    use libprocess::Node;
    use meso_api::v1::AgentInfo;
    use meso_api::Resources;
    use parking_lot::Mutex;
    use tokio::sync::mpsc;

    use crate::leadership::LeaderInfo;

    const GUARD: Duration = Duration::from_secs(60);

    /// A client that registers with `master` once and reports every hint it gets.
    struct Client {
        master: Upid,
        hints: mpsc::UnboundedSender<wire::NotLeader>,
    }

    impl From<wire::NotLeader> for ClientMessage {
        fn from(m: wire::NotLeader) -> Self {
            ClientMessage(m)
        }
    }

    #[derive(Debug)]
    struct ClientMessage(wire::NotLeader);

    impl Process for Client {
        type Message = ClientMessage;

        fn install(h: &mut Handlers<Self>) {
            h.on::<wire::NotLeader>();
        }

        fn initialize(&mut self, ctx: &mut Context<Self>) {
            let register = wire::RegisterAgent {
                agent: AgentInfo::new("held"),
                checkpointed_resources: Resources::new(),
                version: "test".into(),
                capabilities: Vec::new(),
            };
            ctx.send(&self.master, register)
                .expect("a local send to a live stand-in is queued");
        }

        fn handle(&mut self, _ctx: &mut Context<Self>, msg: ClientMessage) {
            let _ = self.hints.send(msg.0);
        }
    }

    fn info(leader: Option<Upid>, term: u64) -> LeaderInfo {
        LeaderInfo {
            leader,
            term,
            peers: Vec::new(),
            elected: false,
        }
    }

    #[tokio::test]
    async fn a_client_asking_during_an_election_is_answered_once_with_the_new_leader() {
        let node = Node::builder().build().await.expect("a loopback node");
        let shared: SharedLeaderInfo = Arc::new(Mutex::new(info(None, 3)));
        let stand_in = node
            .spawn_named("master", StandIn::new(shared.clone()))
            .expect("a fresh id");
        let mut hints = client(&node, stand_in.upid());
        // Let the stand-in take the registration while no leader is known (ordering help,
        // not an assertion: if it came later it would be answered at once, as below).
        tokio::time::sleep(Duration::from_millis(200)).await;
        let leader = Upid::new("master", ([127, 0, 0, 9], 5050).into());
        *shared.lock() = info(Some(leader.clone()), 4);
        let hint = next_hint(&mut hints).await;
        assert_eq!(hint.leader, Some(leader.to_string()));
        assert_eq!(hint.term, 4);
        node.shutdown().await;
        assert!(hints.try_recv().is_err(), "one answer per hold");
    }

    /// `GET path` over raw HTTP with an optional `Authorization` value: `(status, head)`.
    async fn raw_get(addr: std::net::SocketAddr, path: &str, auth: Option<&str>) -> (u16, String) {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{auth}\r\n");
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).expect("connect");
            s.set_read_timeout(Some(GUARD)).expect("read guard");
            s.write_all(request.as_bytes()).expect("send");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            let head = out.split("\r\n\r\n").next().unwrap_or_default().to_string();
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status code");
            (status, head)
        })
        .await
        .expect("http client thread")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stand_in_asks_for_credentials_where_the_master_would() {
        use meso_api::http::auth::{Credentials, NodeKind, Realm};
        let node = Node::builder().build().await.expect("a loopback node");
        node.set_delegate(Some("master"));
        let shared: SharedLeaderInfo = Arc::new(Mutex::new(info(None, 3)));
        let credentials =
            Credentials::parse(r#"{"credentials":[{"principal":"ops","secret":"pw"}]}"#)
                .expect("credentials");
        let auth = HttpAuthenticator::new(
            NodeKind::Master,
            &[Realm::Readonly],
            Some(credentials),
            None,
        )
        .expect("authenticator");
        node.spawn_named("master", StandIn::new(shared).with_http_auth(auth))
            .expect("a fresh id");
        let addr = node.addr();
        let (status, head) = raw_get(addr, "/master/state", None).await;
        assert_eq!(status, 401, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("www-authenticate: basic realm=\"mesos-master-readonly\""),
            "{head}"
        );
        // "ops:pw" in base64.
        let (status, head) = raw_get(addr, "/master/state", Some("Basic b3BzOnB3")).await;
        assert_eq!(status, 200, "{head}");
        let (status, head) = raw_get(addr, "/master/health", None).await;
        assert_eq!(status, 200, "{head}");
        node.shutdown().await;
    }

    /// A process that only exists (a leader's `master` to link to).
    struct Idle;

    impl Process for Idle {
        type Message = ClientMessage;

        fn install(_h: &mut Handlers<Self>) {}

        fn handle(&mut self, _ctx: &mut Context<Self>, _msg: ClientMessage) {}
    }

    /// The client's next answer (hang guard [`GUARD`]).
    async fn next_hint(rx: &mut mpsc::UnboundedReceiver<wire::NotLeader>) -> wire::NotLeader {
        tokio::time::timeout(GUARD, rx.recv())
            .await
            .expect("an answer within the hang guard")
            .expect("the client is alive")
    }

    /// Spawns a client of `master`; its answers arrive on the returned channel.
    fn client(node: &Node, master: &Upid) -> mpsc::UnboundedReceiver<wire::NotLeader> {
        let (tx, rx) = mpsc::unbounded_channel();
        node.spawn(Client {
            master: master.clone(),
            hints: tx,
        })
        .expect("a fresh id");
        rx
    }

    #[tokio::test]
    async fn a_dead_leader_still_named_is_not_handed_out_until_a_new_one_is_known() {
        let node = Node::builder().build().await.expect("a loopback node");
        let old = Node::builder().build().await.expect("a loopback node");
        let old_leader = old.spawn_named("master", Idle).expect("a fresh id");
        let old_leader = old_leader.upid().clone();
        let shared: SharedLeaderInfo = Arc::new(Mutex::new(info(Some(old_leader.clone()), 4)));
        let stand_in = node
            .spawn_named("master", StandIn::new(shared.clone()))
            .expect("a fresh id");
        let master = stand_in.upid().clone();
        let mut first = client(&node, &master);
        let hint = next_hint(&mut first).await;
        assert_eq!(hint.leader, Some(old_leader.to_string()));
        old.shutdown().await;
        // Until the stand-in has seen the link break, clients still get the old leader;
        // after it, a client is held (no answer while the info names the dead leader).
        let deadline = tokio::time::Instant::now() + GUARD;
        let mut held = loop {
            assert!(tokio::time::Instant::now() < deadline, "never held");
            let mut rx = client(&node, &master);
            match tokio::time::timeout(Duration::from_millis(400), rx.recv()).await {
                Ok(Some(hint)) => assert_eq!(hint.leader, Some(old_leader.to_string())),
                Ok(None) => panic!("the client stopped"),
                Err(_) => break rx,
            }
        };
        let new_leader = Upid::new("master", ([127, 0, 0, 9], 5050).into());
        *shared.lock() = info(Some(new_leader.clone()), 5);
        let hint = next_hint(&mut held).await;
        assert_eq!(hint.leader, Some(new_leader.to_string()));
        node.shutdown().await;
    }

    #[tokio::test]
    async fn a_held_client_is_told_no_leader_is_known_after_the_hold_limit() {
        let node = Node::builder().build().await.expect("a loopback node");
        let shared: SharedLeaderInfo = Arc::new(Mutex::new(info(None, 3)));
        let stand_in = node
            .spawn_named("master", StandIn::new(shared))
            .expect("a fresh id");
        let mut hints = client(&node, stand_in.upid());
        let hint = next_hint(&mut hints).await;
        assert_eq!(hint.leader, None);
        node.shutdown().await;
    }
}
