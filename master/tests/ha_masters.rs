//! Highly available masters in this process: three libprocess nodes on loopback ports, each
//! with its Raft registry log (redb in a temp dir) and a `MasterHost`; a small agent that
//! finds the leader with the `MasterDetector`, and the real scheduler driver.
//!
//! Scenarios: only the leader runs the master and the others point at it (NotLeader, HTTP
//! 307/503); the leader cut off from the Raft frames of the others steps down and stops
//! serving writes, a new leader serves, and the agent and the framework re-register with
//! it; after a leader is killed, the new leader recovers the registry (a recovered agent
//! that does not come back is marked unreachable, a framework that does not come back is
//! removed after its stored failover timeout); a master restarted on its old work dir
//! catches up; role weights and quotas set on the leader are served by the next one.
//! Timeouts are hang guards only; every wait polls for an observable state.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use libprocess::{Context, Handlers, MessageMatch, Node, Process, Upid};
use meso_api::detector::{HintOutcome, MasterDetector};
use meso_api::v1::{AgentId, AgentInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use meso_api::wire;
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};
use meso_master::leadership::{LeaderInfo, MasterHost};
use meso_master::raftlog::{ProposeError, RaftFrame, RaftLog, RaftLogOptions};
use meso_master::MasterConfig;
use meso_registry::{Operation, Registry};
use meso_testkit::eventually::{eventually_async, next_where};
use meso_testkit::http::nonblocking::request;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::mpsc;

struct Member {
    node: Node,
    log: RaftLog<Registry>,
    host: MasterHost,
}

struct Masters {
    addrs: Vec<SocketAddr>,
    dirs: Vec<TempDir>,
    members: Vec<Option<Member>>,
    config: MasterConfig,
}

impl Masters {
    async fn start(config: MasterConfig) -> Masters {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            nodes.push(Node::builder().build().await.expect("node starts"));
        }
        let addrs: Vec<SocketAddr> = nodes.iter().map(Node::addr).collect();
        let mut masters = Masters {
            dirs: (0..3).map(|_| tempfile::tempdir().unwrap()).collect(),
            addrs,
            members: Vec::new(),
            config,
        };
        for (i, node) in nodes.into_iter().enumerate() {
            let member = masters.open(node, i).expect("log opens");
            masters.members.push(Some(member));
        }
        masters
    }

    fn open(&self, node: Node, i: usize) -> Result<Member, String> {
        let mut options = RaftLogOptions::new(i as u64 + 1, &self.addrs);
        options.tick = Duration::from_millis(20);
        let peers: BTreeMap<u64, SocketAddr> = options.peers.clone();
        let log = RaftLog::start(&node, options, self.dirs[i].path()).map_err(|e| e.to_string())?;
        let host = MasterHost::start(&node, log.clone(), peers, self.config.clone());
        Ok(Member { node, log, host })
    }

    fn member(&self, i: usize) -> &Member {
        self.members[i].as_ref().expect("member is running")
    }

    fn master_upid(&self, i: usize) -> Upid {
        Upid::new("master", self.addrs[i])
    }

    fn info(&self, i: usize) -> LeaderInfo {
        self.member(i).host.leader_info()
    }

    /// Waits until exactly one of `among` runs the master and the others name it.
    async fn leader_among(&self, among: &[usize]) -> usize {
        eventually_async("a leader is elected and known", || async {
            let elected: Vec<usize> = among
                .iter()
                .copied()
                .filter(|i| self.info(*i).elected)
                .collect();
            let [leader] = elected[..] else {
                return None;
            };
            let upid = self.master_upid(leader);
            among
                .iter()
                .all(|i| self.info(*i).leader.as_ref() == Some(&upid))
                .then_some(leader)
        })
        .await
    }

    async fn kill(&mut self, i: usize) {
        let member = self.members[i].take().expect("member is running");
        let _ = member.host.stop().await;
        member.log.stop();
        member.node.shutdown().await;
    }

    async fn restart(&mut self, i: usize) {
        let member = eventually_async("the old port and work dir open again", || async {
            let node = Node::builder().bind(self.addrs[i]).build().await.ok()?;
            match self.open(node.clone(), i) {
                Ok(member) => Some(member),
                Err(_) => {
                    node.shutdown().await;
                    None
                }
            }
        })
        .await;
        self.members[i] = Some(member);
    }

    async fn shutdown(mut self) {
        for i in 0..self.members.len() {
            if self.members[i].is_some() {
                self.kill(i).await;
            }
        }
    }
}

/// GET `path` on `addr`: (status, Location header, body).
async fn http_get(addr: SocketAddr, path: &str) -> (u16, Option<String>, String) {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let response = request(addr, raw.as_bytes())
        .await
        .expect("an HTTP response");
    let location = response.header("location").map(str::to_string);
    (response.status, location, response.text())
}

async fn state(addr: SocketAddr) -> Value {
    let (status, _, body) = http_get(addr, "/master/state").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("state is JSON")
}

// ---- a small agent that finds the leader ----

#[derive(Debug, Clone, PartialEq)]
enum AgentEvent {
    Registered(AgentId, Upid),
    Reregistered(AgentId, Upid),
    Hinted(Upid),
    NoLeaderKnown(u64),
}

#[derive(Debug)]
enum ProbeMessage {
    Registered(wire::AgentRegistered),
    Reregistered(wire::AgentReregistered),
    Ping,
    NotLeader(wire::NotLeader),
    Retry,
}

impl From<wire::AgentRegistered> for ProbeMessage {
    fn from(m: wire::AgentRegistered) -> Self {
        ProbeMessage::Registered(m)
    }
}
impl From<wire::AgentReregistered> for ProbeMessage {
    fn from(m: wire::AgentReregistered) -> Self {
        ProbeMessage::Reregistered(m)
    }
}
impl From<wire::PingAgent> for ProbeMessage {
    fn from(_: wire::PingAgent) -> Self {
        ProbeMessage::Ping
    }
}
impl From<wire::NotLeader> for ProbeMessage {
    fn from(m: wire::NotLeader) -> Self {
        ProbeMessage::NotLeader(m)
    }
}

/// Registers (then re-registers) with whichever master leads.
struct ProbeAgent {
    detector: MasterDetector,
    id: Option<AgentId>,
    registered: bool,
    events: mpsc::UnboundedSender<AgentEvent>,
}

impl ProbeAgent {
    fn send_registration(&mut self, ctx: &mut Context<Self>) {
        let master = self.detector.current().clone();
        ctx.link(&master);
        let mut agent = AgentInfo::new("probe");
        agent.resources = meso_api::Resources::parse("cpus:2;mem:1024", "*").unwrap();
        match &self.id {
            None => {
                // Probe: the test waits for the answer (or a NotLeader), not on this send.
                let _ = ctx.send(
                    &master,
                    wire::RegisterAgent {
                        agent,
                        checkpointed_resources: Default::default(),
                        version: "test".into(),
                        capabilities: Vec::new(),
                    },
                );
            }
            Some(id) => {
                agent.id = Some(id.clone());
                // Probe: the test waits for the answer (or a NotLeader), not on this send.
                let _ = ctx.send(
                    &master,
                    wire::ReregisterAgent {
                        agent,
                        checkpointed_resources: Default::default(),
                        executor_infos: Vec::new(),
                        tasks: Vec::new(),
                        frameworks: Vec::new(),
                        version: "test".into(),
                        capabilities: Vec::new(),
                    },
                );
            }
        }
    }
}

impl Process for ProbeAgent {
    type Message = ProbeMessage;

    fn install(h: &mut Handlers<Self>) {
        h.on::<wire::AgentRegistered>()
            .on::<wire::AgentReregistered>()
            .on::<wire::PingAgent>()
            .on::<wire::NotLeader>();
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.send_registration(ctx);
        ctx.delay(Duration::from_millis(300), ProbeMessage::Retry);
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: ProbeMessage) {
        let from = ctx.from().cloned();
        match msg {
            ProbeMessage::Registered(m) => {
                self.registered = true;
                self.id = Some(m.agent_id.clone());
                let _ = self
                    .events
                    .send(AgentEvent::Registered(m.agent_id, from.expect("remote")));
            }
            ProbeMessage::Reregistered(m) => {
                self.registered = true;
                let _ = self
                    .events
                    .send(AgentEvent::Reregistered(m.agent_id, from.expect("remote")));
            }
            ProbeMessage::Ping => {
                if let Some(from) = from {
                    // Probe: a lost pong shows as a missed ping, which the test would see.
                    let _ = ctx.send(&from, wire::PongAgent {});
                }
            }
            ProbeMessage::NotLeader(hint) => {
                let Some(from) = from else { return };
                match self.detector.not_leader(&from, &hint) {
                    HintOutcome::Leader(leader) => {
                        let _ = self.events.send(AgentEvent::Hinted(leader));
                        self.registered = false;
                        self.send_registration(ctx);
                    }
                    HintOutcome::NextMaster(_) => {
                        let _ = self.events.send(AgentEvent::NoLeaderKnown(hint.term));
                    }
                    HintOutcome::Ignored => {}
                }
            }
            ProbeMessage::Retry => {
                if !self.registered {
                    self.detector.advance();
                    self.send_registration(ctx);
                }
                ctx.delay(Duration::from_millis(300), ProbeMessage::Retry);
            }
        }
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: Upid) {
        if &pid == self.detector.current() && self.registered {
            self.registered = false;
            self.detector.advance();
            self.send_registration(ctx);
        }
    }
}

fn start_agent(node: &Node, masters: Vec<Upid>) -> mpsc::UnboundedReceiver<AgentEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    node.spawn(ProbeAgent {
        detector: MasterDetector::new(masters).unwrap(),
        id: None,
        registered: false,
        events: tx,
    })
    .expect("agent spawns");
    rx
}

// ---- a framework on the real driver ----

#[derive(Debug, Clone, PartialEq)]
enum FrameworkEvent {
    Registered(FrameworkId),
    Reregistered(String),
    Disconnected,
}

struct Recorder(mpsc::UnboundedSender<FrameworkEvent>);

impl Scheduler for Recorder {
    fn registered(&mut self, _: &mut DriverActions<'_>, id: &FrameworkId, _: &MasterInfo) {
        let _ = self.0.send(FrameworkEvent::Registered(id.clone()));
    }
    fn reregistered(&mut self, _: &mut DriverActions<'_>, master: &MasterInfo) {
        let _ = self.0.send(FrameworkEvent::Reregistered(
            master.pid.clone().unwrap_or_default(),
        ));
    }
    fn disconnected(&mut self, _: &mut DriverActions<'_>) {
        let _ = self.0.send(FrameworkEvent::Disconnected);
    }
    fn resource_offers(&mut self, _: &mut DriverActions<'_>, _: Vec<Offer>) {}
    fn status_update(&mut self, _: &mut DriverActions<'_>, _: &TaskStatus) {}
}

fn start_framework(
    node: &Node,
    masters: Vec<Upid>,
    failover_timeout: f64,
) -> (
    libprocess::Pid<SchedulerDriver>,
    mpsc::UnboundedReceiver<FrameworkEvent>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut info = FrameworkInfo::new("tester", "ha");
    info.failover_timeout = failover_timeout;
    let driver = SchedulerDriver::with_detector(
        MasterDetector::new(masters).unwrap(),
        info,
        Box::new(Recorder(tx)),
    )
    .with_retry_interval(Duration::from_millis(300));
    (node.spawn(driver).expect("driver spawns"), rx)
}

fn config() -> MasterConfig {
    let mut config = MasterConfig::new("ha", "localhost");
    config.allocation_interval = Duration::from_millis(100);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_off_leader_steps_down_and_clients_follow_the_new_leader() {
    let masters = Masters::start(config()).await;
    let old = masters.leader_among(&[0, 1, 2]).await;
    let rest: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let follower = rest[0];

    // Followers point at the leader: HTTP 307 to the same path, state with leader info.
    let (status, location, _) = http_get(masters.addrs[follower], "/master/api/v1/scheduler").await;
    assert_eq!(status, 307);
    assert_eq!(
        location.as_deref(),
        Some(format!("//{}/master/api/v1/scheduler", masters.addrs[old]).as_str())
    );
    let doc = state(masters.addrs[follower]).await;
    assert_eq!(doc["elected"], false);
    assert_eq!(doc["leader"], masters.master_upid(old).to_string());
    assert_eq!(doc["peers"].as_array().map(Vec::len), Some(3));
    let doc = state(masters.addrs[old]).await;
    assert_eq!(doc["elected"], true);
    let metrics = masters.member(old).node.metrics().snapshot();
    assert_eq!(metrics.get(meso_master::leadership::ELECTED), Some(&1.0));
    assert_eq!(
        metrics.get(meso_master::leadership::LEADER_RAFT_ID),
        Some(&(old as f64 + 1.0))
    );
    let metrics = masters.member(follower).node.metrics().snapshot();
    assert_eq!(metrics.get(meso_master::leadership::ELECTED), Some(&0.0));

    // Clients that start at a follower are sent to the leader.
    let clients = Node::builder().build().await.unwrap();
    let order: Vec<Upid> = [follower, old, rest[1]]
        .iter()
        .map(|i| masters.master_upid(*i))
        .collect();
    let mut agent = start_agent(&clients, order.clone());
    let hinted = next_where(&mut agent, "agent hinted", |_| true).await;
    assert_eq!(hinted, AgentEvent::Hinted(masters.master_upid(old)));
    let AgentEvent::Registered(agent_id, by) = next_where(&mut agent, "agent registered", |e| {
        matches!(e, AgentEvent::Registered(..))
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(by, masters.master_upid(old));
    let (_driver, mut framework) = start_framework(&clients, order, 3600.0);
    let FrameworkEvent::Registered(framework_id) =
        next_where(&mut framework, "framework registered", |e| {
            matches!(e, FrameworkEvent::Registered(_))
        })
        .await
    else {
        unreachable!()
    };

    // Cut the leader off from the Raft frames of the others, both ways.
    let old_peer = masters.member(old).log.upid().clone();
    let mut rules = Vec::new();
    for &i in &rest {
        let peer = masters.member(i).log.upid().clone();
        rules.push(
            masters
                .member(i)
                .node
                .filters()
                .drop_matching(MessageMatch::of::<RaftFrame>().from(&old_peer)),
        );
        rules.push(
            masters
                .member(old)
                .node
                .filters()
                .drop_matching(MessageMatch::of::<RaftFrame>().from(&peer)),
        );
    }
    let new = masters.leader_among(&rest).await;
    eventually_async("the old leader stops running the master", || async {
        !masters.info(old).elected
    })
    .await;
    // The old leader no longer serves writes.
    assert!(matches!(
        masters
            .member(old)
            .log
            .propose(Operation::RemoveAgent(agent_id.clone()))
            .await,
        Err(ProposeError::NotLeader { .. })
    ));

    // The agent and the framework re-register with the new leader, under their ids.
    let event = next_where(&mut agent, "agent re-registered", |e| {
        matches!(e, AgentEvent::Reregistered(..))
    })
    .await;
    assert_eq!(
        event,
        AgentEvent::Reregistered(agent_id.clone(), masters.master_upid(new))
    );
    let event = next_where(&mut framework, "framework re-registered", |e| {
        matches!(e, FrameworkEvent::Reregistered(_))
    })
    .await;
    assert_eq!(
        event,
        FrameworkEvent::Reregistered(masters.master_upid(new).to_string())
    );
    let doc = state(masters.addrs[new]).await;
    assert_eq!(doc["elected"], true);
    assert_eq!(doc["slaves"][0]["id"], agent_id.value);
    assert_eq!(doc["frameworks"][0]["id"], framework_id.value);
    assert_eq!(doc["frameworks"][0]["connected"], true);

    // Healed, the old leader follows the new one and points at it.
    drop(rules);
    eventually_async("the old leader names the new one", || async {
        masters.info(old).leader == Some(masters.master_upid(new)) && !masters.info(old).elected
    })
    .await;
    clients.shutdown().await;
    masters.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_leader_recovers_the_registry_and_a_restarted_master_catches_up() {
    let mut config = config();
    config.agent_reregister_timeout = Duration::from_millis(500);
    let mut masters = Masters::start(config).await;
    let old = masters.leader_among(&[0, 1, 2]).await;
    let all: Vec<Upid> = (0..3).map(|i| masters.master_upid(i)).collect();

    // One agent and one framework (failover timeout 1 s) register, then go away for good.
    let clients = Node::builder().build().await.unwrap();
    let mut agent = start_agent(&clients, all.clone());
    let AgentEvent::Registered(agent_id, _) = next_where(&mut agent, "agent registered", |e| {
        matches!(e, AgentEvent::Registered(..))
    })
    .await
    else {
        unreachable!()
    };
    let (_driver, mut framework) = start_framework(&clients, all, 1.0);
    let FrameworkEvent::Registered(framework_id) =
        next_where(&mut framework, "framework registered", |e| {
            matches!(e, FrameworkEvent::Registered(_))
        })
        .await
    else {
        unreachable!()
    };
    // Both are in the replicated registry before the clients go.
    eventually_async("the registry holds the agent and the framework", || async {
        let id = framework_id.clone();
        masters
            .member(old)
            .log
            .inspect(move |r, _| r.admitted().count() == 1 && r.frameworks().contains_key(&id))
            .await
            .unwrap_or(false)
    })
    .await;
    clients.shutdown().await;

    // The leader dies; the new one recovers the agent (until its re-registration timeout,
    // then unreachable) and the framework (removed after its stored failover timeout).
    masters.kill(old).await;
    let rest: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let new = masters.leader_among(&rest).await;
    let addr = masters.addrs[new];
    eventually_async("the recovered agent is marked unreachable", || async {
        let doc = state(addr).await;
        doc["unreachable_slaves"] == 1
            && doc["slaves"]
                .as_array()
                .is_some_and(|a| a.iter().all(|s| s["id"] != agent_id.value.as_str()))
    })
    .await;
    eventually_async(
        "the framework is removed after its failover timeout",
        || async {
            let id = framework_id.clone();
            masters
                .member(new)
                .log
                .inspect(move |r, _| !r.frameworks().contains_key(&id))
                .await
                .unwrap_or(false)
        },
    )
    .await;
    assert!(state(addr).await["frameworks"]
        .as_array()
        .is_some_and(|f| f.is_empty()));

    // The old leader comes back on its work dir and catches up as a follower.
    masters.restart(old).await;
    let id = agent_id.clone();
    eventually_async("the restarted master catches up", || {
        let id = id.clone();
        let log = masters.member(old).log.clone();
        async move {
            log.inspect(move |r, _| r.unreachable().contains_key(&id) && r.frameworks().is_empty())
                .await
                .unwrap_or(false)
        }
    })
    .await;
    assert_eq!(masters.leader_among(&[0, 1, 2]).await, new);
    masters.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_without_a_quorum_knows_no_leader_and_says_so() {
    // One master of three whose peers never start: no election can succeed.
    let node = Node::builder().build().await.unwrap();
    let silent: Vec<SocketAddr> = (0..2)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
        })
        .collect();
    let addrs = vec![node.addr(), silent[0], silent[1]];
    let dir = tempfile::tempdir().unwrap();
    let mut options = RaftLogOptions::new(1, &addrs);
    options.tick = Duration::from_millis(20);
    let peers = options.peers.clone();
    let log = RaftLog::<Registry>::start(&node, options, dir.path()).unwrap();
    let host = MasterHost::start(&node, log.clone(), peers, config());

    eventually_async("the stand-in serves", || async {
        tokio::net::TcpStream::connect(node.addr()).await.is_ok()
            && http_get(node.addr(), "/master/health").await.0 == 200
    })
    .await;
    let (status, location, body) = http_get(node.addr(), "/master/api/v1/scheduler").await;
    assert_eq!(
        (status, location, body.as_str()),
        (503, None, "No leader elected")
    );
    let doc = state(node.addr()).await;
    assert_eq!(doc["elected"], false);
    assert_eq!(doc["leader"], Value::Null);
    let metrics = node.metrics().snapshot();
    assert_eq!(metrics.get(meso_master::leadership::ELECTED), Some(&0.0));
    assert_eq!(metrics.get(meso_master::leadership::RAFT_PEERS), Some(&3.0));
    assert_eq!(
        metrics.get(meso_master::leadership::LEADER_RAFT_ID),
        Some(&0.0)
    );

    let clients = Node::builder().build().await.unwrap();
    let mut agent = start_agent(&clients, vec![Upid::new("master", node.addr())]);
    let event = next_where(&mut agent, "a hint without a leader", |_| true).await;
    assert!(matches!(event, AgentEvent::NoLeaderKnown(_)), "{event:?}");
    assert!(!host.leader_info().elected);
    clients.shutdown().await;
    host.stop().await.expect("the host stops cleanly");
    log.stop();
    node.shutdown().await;
}

/// Sends `method path` with a JSON `body` to `addr`: (status, body).
async fn http_send(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.expect("writes");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("reads");
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_and_quota_survive_a_leader_failover() {
    let mut masters = Masters::start(config()).await;
    let old = masters.leader_among(&[0, 1, 2]).await;
    let addr = masters.addrs[old];
    let (status, body) = http_send(
        addr,
        "PUT",
        "/master/weights",
        r#"[{"role":"eng","weight":2},{"role":"ops","weight":0.5}]"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // No agent yet: a guarantee needs `force` to pass the capacity check.
    let update = r#"{"type":"UPDATE_QUOTA","update_quota":{"force":true,"quota_configs":[
        {"role":"eng","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":4}}}]}}"#;
    let (status, body) = http_send(addr, "POST", "/master/api/v1", update).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = http_send(
        addr,
        "POST",
        "/master/quota",
        r#"{"role":"ops","force":true,"guarantee":[{"name":"mem","type":"SCALAR","scalar":{"value":256}}]}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Answered only once durable: the leader's log already holds them.
    let held = masters
        .member(old)
        .log
        .inspect(|r, _| (r.weights().clone(), r.quotas().clone()))
        .await
        .expect("log readable");
    assert_eq!(held.0.get("eng"), Some(&2.0));
    assert_eq!(held.1["eng"].limits.get("cpus"), Some(&4000));
    assert_eq!(held.1["ops"].guarantees.get("mem"), Some(&256_000));

    masters.kill(old).await;
    let rest: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let new = masters.leader_among(&rest).await;
    let addr = masters.addrs[new];
    let (status, _, body) = http_get(addr, "/master/weights").await;
    assert_eq!(status, 200, "{body}");
    let weights: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        weights,
        serde_json::json!([{"role":"eng","weight":2.0},{"role":"ops","weight":0.5}])
    );
    let (status, body) = http_send(addr, "POST", "/master/api/v1", r#"{"type":"GET_QUOTA"}"#).await;
    assert_eq!(status, 200, "{body}");
    let quota: Value = serde_json::from_str(&body).expect("JSON");
    let configs = &quota["get_quota"]["status"]["configs"];
    assert_eq!(configs[0]["role"], "eng", "{quota}");
    assert_eq!(configs[0]["guarantees"]["cpus"]["value"], 2.0);
    assert_eq!(configs[0]["limits"]["cpus"]["value"], 4.0);
    assert_eq!(configs[1]["role"], "ops");
    assert_eq!(configs[1]["limits"]["mem"]["value"], 256.0);
    let (_, _, roles) = http_get(addr, "/master/roles").await;
    let roles: Value = serde_json::from_str(&roles).expect("JSON");
    let eng = roles["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "eng"))
        .expect("eng is listed")
        .clone();
    assert_eq!(eng["weight"], 2.0);
    assert_eq!(eng["quota"]["guarantee"]["cpus"], 2.0);
    // The new leader keeps serving changes.
    let (status, body) = http_send(addr, "DELETE", "/master/quota/ops", "").await;
    assert_eq!(status, 200, "{body}");
    masters.shutdown().await;
}
