//! How the master reaches a framework: one place for every master -> framework send.
//!
//! A connected framework is reached either through its scheduler driver's PID (native
//! frameworks, libprocess messages) or through the chunked RecordIO stream of its HTTP
//! SUBSCRIBE (v1 scheduler API). [`FrameworkConnection`] names the two; the master's
//! handlers build a [`ToFramework`] (the wire message a driver would get) and hand it to
//! `Master::send_to_framework`, which sends the message to the PID or writes the matching
//! v1 event ([`event_of`]) to the stream.
//!
//! This file owns [`FrameworkLinks`], the open HTTP streams by framework id. Invariants:
//! a framework has at most one open stream; a framework with a stream has no PID in the
//! `FrameworkBook` (and the reverse); every stream has a watcher (a deferred future) that
//! reports [`LinkEvent::Closed`] with the stream's id when the client goes away or the
//! master drops the link, and events about a stream id that is no longer current are
//! ignored. Dropping an [`HttpLink`] ends its HTTP response once queued records are out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use libprocess::slog::{info, warn};
use libprocess::{Context, HttpStream, RemoteMessage, StreamError, Upid};
use meso_api::http::events;
use meso_api::v1::scheduler as sched;
use meso_api::v1::FrameworkId;
use meso_api::wire;
use tokio::sync::oneshot;

use super::{Master, MasterMessage};

/// Period of HEARTBEAT events on a scheduler stream (Mesos's fixed 15 s).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// Something the master tells a framework, as the wire message a native driver receives.
#[derive(Debug, Clone)]
pub enum ToFramework {
    /// New offers (OFFERS).
    Offers(wire::ResourceOffers),
    /// An offer withdrawn (RESCIND).
    Rescind(wire::RescindResourceOffer),
    /// A task status update (UPDATE).
    Update(Box<wire::StatusUpdateMessage>),
    /// Data from an executor (MESSAGE).
    Message(wire::ExecutorToFramework),
    /// An agent was removed (FAILURE with only `agent_id`).
    LostAgent(wire::LostAgent),
    /// An executor exited (FAILURE with agent, executor and status).
    ExitedExecutor(wire::ExitedExecutor),
    /// A fatal error (ERROR; the HTTP stream is closed after it).
    Error(wire::FrameworkError),
    /// Inverse offers (INVERSE_OFFERS).
    InverseOffers(wire::InverseOffers),
    /// An inverse offer withdrawn (RESCIND_INVERSE_OFFER).
    RescindInverseOffer(wire::RescindInverseOffer),
}

impl ToFramework {
    fn send_wire(self, ctx: &Context<Master>, pid: &Upid) {
        let name = self.name();
        let sent = match self {
            ToFramework::Offers(m) => ctx.send(pid, m),
            ToFramework::Rescind(m) => ctx.send(pid, m),
            ToFramework::Update(m) => ctx.send(pid, *m),
            ToFramework::Message(m) => ctx.send(pid, m),
            ToFramework::LostAgent(m) => ctx.send(pid, m),
            ToFramework::ExitedExecutor(m) => ctx.send(pid, m),
            ToFramework::Error(m) => ctx.send(pid, m),
            ToFramework::InverseOffers(m) => ctx.send(pid, m),
            ToFramework::RescindInverseOffer(m) => ctx.send(pid, m),
        };
        if let Err(e) = sent {
            super::sends::log_failed_framework_send(ctx, pid, name, &e);
        }
    }

    /// The wire name of the message (for logs).
    fn name(&self) -> &'static str {
        match self {
            ToFramework::Offers(_) => wire::ResourceOffers::NAME,
            ToFramework::Rescind(_) => wire::RescindResourceOffer::NAME,
            ToFramework::Update(_) => wire::StatusUpdateMessage::NAME,
            ToFramework::Message(_) => wire::ExecutorToFramework::NAME,
            ToFramework::LostAgent(_) => wire::LostAgent::NAME,
            ToFramework::ExitedExecutor(_) => wire::ExitedExecutor::NAME,
            ToFramework::Error(_) => wire::FrameworkError::NAME,
            ToFramework::InverseOffers(_) => wire::InverseOffers::NAME,
            ToFramework::RescindInverseOffer(_) => wire::RescindInverseOffer::NAME,
        }
    }
}

/// The v1 scheduler event for a message (reference §1.4). An update carries `uuid` and
/// `agent_id` in its status exactly when it is reliable (the agent will retry it until it
/// is acknowledged); master-made updates carry neither uuid nor need an acknowledgement.
pub fn event_of(msg: &ToFramework) -> sched::Event {
    match msg {
        ToFramework::Offers(m) => {
            let mut event = sched::Event::new(sched::EventType::Offers);
            event.offers = Some(sched::Offers {
                offers: m.offers.clone(),
            });
            event
        }
        ToFramework::Rescind(m) => {
            let mut event = sched::Event::new(sched::EventType::Rescind);
            event.rescind = Some(sched::Rescind {
                offer_id: m.offer_id.clone(),
            });
            event
        }
        ToFramework::Update(m) => {
            let update = &m.update;
            let mut status = update.status.clone();
            status.uuid = update.uuid.clone();
            if status.agent_id.is_none() {
                status.agent_id = update.agent_id.clone();
            }
            if status.executor_id.is_none() {
                status.executor_id = update.executor_id.clone();
            }
            let mut event = sched::Event::new(sched::EventType::Update);
            event.update = Some(sched::Update { status });
            event
        }
        ToFramework::Message(m) => {
            let mut event = sched::Event::new(sched::EventType::Message);
            event.message = Some(sched::Message {
                agent_id: m.agent_id.clone(),
                executor_id: m.executor_id.clone(),
                data: m.data.clone(),
            });
            event
        }
        ToFramework::LostAgent(m) => {
            let mut event = sched::Event::new(sched::EventType::Failure);
            event.failure = Some(sched::Failure {
                agent_id: Some(m.agent_id.clone()),
                executor_id: None,
                status: None,
            });
            event
        }
        ToFramework::ExitedExecutor(m) => {
            let mut event = sched::Event::new(sched::EventType::Failure);
            event.failure = Some(sched::Failure {
                agent_id: Some(m.agent_id.clone()),
                executor_id: Some(m.executor_id.clone()),
                status: Some(m.status),
            });
            event
        }
        ToFramework::Error(m) => {
            let mut event = sched::Event::new(sched::EventType::Error);
            event.error = Some(sched::ErrorEvent {
                message: m.message.clone(),
            });
            event
        }
        ToFramework::InverseOffers(m) => {
            let mut event = sched::Event::new(sched::EventType::InverseOffers);
            event.inverse_offers = Some(sched::InverseOffersEvent {
                inverse_offers: m.inverse_offers.clone(),
            });
            event
        }
        ToFramework::RescindInverseOffer(m) => {
            let mut event = sched::Event::new(sched::EventType::RescindInverseOffer);
            event.rescind_inverse_offer = Some(sched::RescindInverseOffer {
                inverse_offer_id: m.inverse_offer_id.clone(),
            });
            event
        }
    }
}

/// How a connected framework is reached.
#[derive(Debug, Clone)]
pub enum FrameworkConnection {
    /// A native scheduler driver at this PID.
    Pid(Upid),
    /// A v1 HTTP subscription: its stream (a cheap handle) and `Mesos-Stream-Id`.
    Http(HttpStream, String),
}

/// Timers and watcher reports about HTTP framework streams, delivered to the master.
#[derive(Debug)]
pub enum LinkEvent {
    /// Time to send a HEARTBEAT on this stream.
    Heartbeat(FrameworkId, String),
    /// The stream ended (client gone, or the master dropped the link).
    Closed(FrameworkId, String),
}

/// One open SUBSCRIBE stream.
#[derive(Debug)]
pub struct HttpLink {
    stream: HttpStream,
    stream_id: String,
    /// Dropping it stops the watcher, which releases its handle so the response can end.
    _stop_watcher: oneshot::Sender<()>,
}

/// Removed framework ids remembered so a re-SUBSCRIBE with one is refused.
pub const REMEMBERED_REMOVED_FRAMEWORKS: usize = 1000;

/// The open HTTP scheduler streams, by framework, and the ids of the most recently removed
/// frameworks (bounded by [`REMEMBERED_REMOVED_FRAMEWORKS`]).
#[derive(Debug, Default)]
pub struct FrameworkLinks {
    links: HashMap<FrameworkId, HttpLink>,
    removed: VecDeque<FrameworkId>,
    removed_set: HashSet<FrameworkId>,
}

impl FrameworkLinks {
    /// Whether `id` names a framework this master removed (torn down or timed out).
    pub fn was_removed(&self, id: &FrameworkId) -> bool {
        self.removed_set.contains(id)
    }

    fn remember_removed(&mut self, id: &FrameworkId) {
        if !self.removed_set.insert(id.clone()) {
            return;
        }
        self.removed.push_back(id.clone());
        if self.removed.len() > REMEMBERED_REMOVED_FRAMEWORKS {
            if let Some(oldest) = self.removed.pop_front() {
                self.removed_set.remove(&oldest);
            }
        }
    }

    /// The current stream id of `id`, if it has an open stream.
    pub fn stream_id(&self, id: &FrameworkId) -> Option<&str> {
        self.links.get(id).map(|l| l.stream_id.as_str())
    }

    /// Number of open streams.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

impl Master {
    /// How the connected framework `id` is reached, if it is connected.
    pub(super) fn framework_connection(&self, id: &FrameworkId) -> Option<FrameworkConnection> {
        let record = self.frameworks.get(id).filter(|f| f.connected)?;
        if let Some(pid) = &record.pid {
            return Some(FrameworkConnection::Pid(pid.clone()));
        }
        self.framework_links
            .links
            .get(id)
            .map(|l| FrameworkConnection::Http(l.stream.clone(), l.stream_id.clone()))
    }

    /// Sends `msg` to the connected framework `id` (dropped when it is not connected, as
    /// Mesos drops events for a disconnected framework). An ERROR ends an HTTP stream.
    pub(super) fn send_to_framework(
        &mut self,
        ctx: &mut Context<Self>,
        id: &FrameworkId,
        msg: ToFramework,
    ) {
        match self.framework_connection(id) {
            Some(FrameworkConnection::Pid(pid)) => msg.send_wire(ctx, &pid),
            Some(FrameworkConnection::Http(stream, stream_id)) => {
                let closes = matches!(msg, ToFramework::Error(_));
                let record = events::record(&event_of(&msg));
                self.write_to_stream(ctx, id, &stream, &stream_id, record);
                if closes {
                    self.drop_http_link(id);
                }
            }
            None => {}
        }
    }

    /// Writes one record; a stream whose client reads too slowly is treated as closed.
    fn write_to_stream(
        &mut self,
        ctx: &mut Context<Self>,
        id: &FrameworkId,
        stream: &HttpStream,
        stream_id: &str,
        record: Vec<u8>,
    ) {
        match stream.send(record) {
            Ok(()) => {}
            // The watcher reports the closure.
            Err(StreamError::Closed) => {}
            Err(StreamError::Full) => {
                warn!(ctx.node().logger(), "scheduler stream full; disconnecting the framework";
                    "framework" => %id, "stream_id" => stream_id);
                // To this master's own mailbox: fails only once it is terminating, when no link matters.
                let _ = ctx
                    .pid()
                    .send(MasterMessage::FrameworkLink(LinkEvent::Closed(
                        id.clone(),
                        stream_id.to_string(),
                    )));
            }
        }
    }

    /// Opens the link of a freshly subscribed HTTP framework: SUBSCRIBED and the first
    /// HEARTBEAT are written, the heartbeat timer and the closure watcher started. Any
    /// previous stream of the framework must have been closed by the caller.
    pub(super) fn open_http_link(
        &mut self,
        ctx: &mut Context<Self>,
        id: &FrameworkId,
        stream: HttpStream,
        stream_id: String,
    ) {
        // The timer goes first: a client that reads the first HEARTBEAT and moves a test
        // clock on at once must find the next one already scheduled.
        ctx.delay(
            HEARTBEAT_INTERVAL,
            MasterMessage::FrameworkLink(LinkEvent::Heartbeat(id.clone(), stream_id.clone())),
        );
        let subscribed = events::scheduler_subscribed(id.clone(), Some(self.master_info()));
        let _ = stream.send(subscribed);
        let _ = stream.send(events::scheduler_heartbeat());
        let (stop, stopped) = oneshot::channel::<()>();
        let watched = stream.clone();
        let (fid, sid) = (id.clone(), stream_id.clone());
        ctx.defer(
            async move {
                tokio::select! {
                    // Deterministic: branches are polled in order (the simulator replays seeds).
                    biased;
                    () = watched.closed() => {}
                    _ = stopped => {}
                }
            },
            move |()| MasterMessage::FrameworkLink(LinkEvent::Closed(fid, sid)),
        );
        self.framework_links.links.insert(
            id.clone(),
            HttpLink {
                stream,
                stream_id,
                _stop_watcher: stop,
            },
        );
    }

    /// Ends the framework's HTTP stream, if any, after writing ERROR `message` to it
    /// (failover, removal). The framework's record is left to the caller.
    pub(super) fn close_http_link(&mut self, id: &FrameworkId, message: &str) {
        if let Some(link) = self.framework_links.links.remove(id) {
            let _ = link.stream.send(events::scheduler_error(message));
        }
    }

    fn drop_http_link(&mut self, id: &FrameworkId) {
        self.framework_links.links.remove(id);
    }

    /// The framework `id` was removed: its stream (if any) ends without an event, and a
    /// later SUBSCRIBE with its id is answered ERROR "Framework has been removed".
    pub(super) fn http_framework_removed(&mut self, id: &FrameworkId) {
        self.drop_http_link(id);
        self.framework_links.remember_removed(id);
    }

    /// Timers and closure reports of HTTP streams.
    pub(super) fn framework_link_event(&mut self, ctx: &mut Context<Self>, event: LinkEvent) {
        match event {
            LinkEvent::Heartbeat(id, stream_id) => {
                let Some(link) = self.framework_links.links.get(&id) else {
                    return;
                };
                if link.stream_id != stream_id {
                    return;
                }
                let stream = link.stream.clone();
                ctx.delay(
                    HEARTBEAT_INTERVAL,
                    MasterMessage::FrameworkLink(LinkEvent::Heartbeat(
                        id.clone(),
                        stream_id.clone(),
                    )),
                );
                self.write_to_stream(ctx, &id, &stream, &stream_id, events::scheduler_heartbeat());
            }
            LinkEvent::Closed(id, stream_id) => {
                if self.framework_links.stream_id(&id) != Some(stream_id.as_str()) {
                    return;
                }
                self.framework_links.links.remove(&id);
                info!(ctx.node().logger(), "scheduler stream closed"; "framework" => %id, "stream_id" => &stream_id);
                self.framework_disconnected(ctx, &id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, ExecutorId, OfferId, TaskId, TaskState, TaskStatus};

    fn update(uuid: Option<Vec<u8>>) -> ToFramework {
        let status = TaskStatus::new(TaskId::new("t1"), TaskState::Running);
        ToFramework::Update(Box::new(wire::StatusUpdateMessage {
            update: wire::StatusUpdate {
                framework_id: FrameworkId::new("f"),
                executor_id: Some(ExecutorId::new("e")),
                agent_id: Some(AgentId::new("m-S0")),
                status,
                timestamp: 1.0,
                uuid,
                latest_state: None,
            },
            pid: None,
        }))
    }

    fn json(msg: &ToFramework) -> serde_json::Value {
        serde_json::to_value(event_of(msg)).expect("events serialise")
    }

    #[test]
    fn a_reliable_update_carries_its_uuid_and_agent() {
        let value = json(&update(Some(vec![7; 16])));
        assert_eq!(value["type"], "UPDATE");
        let status = &value["update"]["status"];
        assert_eq!(status["uuid"], "BwcHBwcHBwcHBwcHBwcHBw==");
        assert_eq!(status["agent_id"]["value"], "m-S0");
        assert_eq!(status["executor_id"]["value"], "e");
        assert_eq!(status["state"], "TASK_RUNNING");
    }

    #[test]
    fn a_master_made_update_has_no_uuid() {
        let value = json(&update(None));
        assert!(value["update"]["status"].get("uuid").is_none());
    }

    #[test]
    fn lost_agents_and_exited_executors_are_failures() {
        let lost = json(&ToFramework::LostAgent(wire::LostAgent {
            agent_id: AgentId::new("a"),
        }));
        assert_eq!(
            lost,
            serde_json::json!({"type":"FAILURE","failure":{"agent_id":{"value":"a"}}})
        );
        let exited = json(&ToFramework::ExitedExecutor(wire::ExitedExecutor {
            agent_id: AgentId::new("a"),
            framework_id: FrameworkId::new("f"),
            executor_id: ExecutorId::new("e"),
            status: 3,
        }));
        assert_eq!(exited["failure"]["executor_id"]["value"], "e");
        assert_eq!(exited["failure"]["status"], 3);
    }

    #[test]
    fn rescind_error_and_message_use_their_payload_keys() {
        let rescind = json(&ToFramework::Rescind(wire::RescindResourceOffer {
            offer_id: OfferId::new("m-O1"),
        }));
        assert_eq!(
            rescind,
            serde_json::json!({"type":"RESCIND","rescind":{"offer_id":{"value":"m-O1"}}})
        );
        let error = json(&ToFramework::Error(wire::FrameworkError {
            message: "Framework failed over".into(),
        }));
        assert_eq!(
            error,
            serde_json::json!({"type":"ERROR","error":{"message":"Framework failed over"}})
        );
        let message = json(&ToFramework::Message(wire::ExecutorToFramework {
            agent_id: AgentId::new("a"),
            framework_id: FrameworkId::new("f"),
            executor_id: ExecutorId::new("e"),
            data: b"hi".to_vec(),
        }));
        assert_eq!(message["message"]["data"], "aGk=");
    }
}
