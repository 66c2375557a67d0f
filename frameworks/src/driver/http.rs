//! The driver's v1 scheduler HTTP transport ([`SchedulerDriver::over_http`]), for masters
//! reached over HTTP only (a real Mesos master, too).
//!
//! SUBSCRIBE is POSTed to `/api/v1/scheduler` of the master in use; the chunked answer is
//! read off the actor, its RecordIO records decoded as JSON events, and each event comes
//! back to the driver as a message tagged with the stream's generation. The
//! `Mesos-Stream-Id` of the answer's head goes on every other call; calls are POSTed one at
//! a time in the order the scheduler made them (202, or 200 for UPDATE_FRAMEWORK). How a
//! stream ends tells the driver where to go next ([`StreamEnd`]): a 307 names the leader in
//! its `Location`; a 503 (no leader yet), a refused connection (a master that is down) or a
//! broken stream mean "try again, maybe elsewhere"; any other answer refuses the framework.
//! A stream with no event (not even a HEARTBEAT) for [`MISSED_HEARTBEATS`] heartbeat
//! intervals (the one SUBSCRIBED announced, else [`DEFAULT_HEARTBEAT`]) counts as broken.
//!
//! Invariant: only the current generation's stream is heard; an older one still open is
//! ignored until it ends.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use libprocess::http_client::{ClientRequest, ClientResponse};
use libprocess::{Context, Pid};
use meso_api::http::recordio::Decoder;
use meso_api::json::Limits;
use meso_api::v1::scheduler::{Call, CallType, Event};

use meso_api::v1::{FrameworkId, MasterInfo};
use meso_api::wire;

use super::{DriverMessage, SchedulerDriver};

/// Where the master serves the v1 scheduler API.
pub const PATH: &str = "/api/v1/scheduler";
/// Heartbeat intervals without any event after which a stream counts as broken.
pub const MISSED_HEARTBEATS: u32 = 3;
/// The heartbeat interval when SUBSCRIBED names none (Mesos's 15 s).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// Longest wait for an answer's head.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest event record accepted.
const MAX_EVENT_BYTES: usize = 64 << 20;
const STREAM_ID: &str = "mesos-stream-id";

/// What the HTTP transport tells the driver.
#[derive(Debug)]
pub enum HttpMessage {
    /// Stream `generation` was answered 200 with this `Mesos-Stream-Id`.
    Opened(u64, String),
    /// An event of stream `generation`.
    Event(u64, Box<Event>),
    /// Stream `generation` ended.
    Ended(u64, StreamEnd),
    /// A call was answered 2xx, or not (and why).
    Answered(CallType, Result<(), String>),
    /// Time to check stream `generation` for heartbeats (check chain `chain`); `seen`
    /// events had come by the previous check.
    HeartbeatCheck(u64, u64, u64),
}

/// How a SUBSCRIBE stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// 307: the leading master is at this address.
    Redirect(SocketAddr),
    /// No connection, a 503, a hang or a broken stream: try again, maybe elsewhere.
    Lost(String),
    /// Any other answer: the master refused the framework.
    Refused(String),
}

/// The transport's state in the driver.
#[derive(Debug, Default)]
pub struct HttpLink {
    /// The current stream's generation (each SUBSCRIBE opens a new one).
    pub generation: u64,
    /// The current stream's `Mesos-Stream-Id`, once answered.
    pub stream_id: Option<String>,
    /// Calls not POSTed yet (the scheduler's callbacks add to it through a shared borrow).
    pub outbox: RefCell<VecDeque<Call>>,
    /// A call is being POSTed (one at a time keeps them in order).
    pub in_flight: bool,
    /// Events heard on the current stream.
    pub events: u64,
    /// The heartbeat check chain in force: a new one starts when the stream opens and when
    /// SUBSCRIBED announces its interval, and older chains stop.
    pub checks: u64,
}

impl HttpLink {
    /// A new stream starts: forget the old one's id and unsent calls.
    pub fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.stream_id = None;
        self.events = 0;
        self.outbox.get_mut().clear();
        self.generation
    }

    /// Every call made so far is answered.
    pub fn idle(&self) -> bool {
        !self.in_flight && self.outbox.borrow().is_empty()
    }
}

fn request(call: &Call, stream_id: Option<&str>, auth: Option<&str>) -> ClientRequest {
    let body = serde_json::to_vec(call).expect("invariant: a Call always serializes");
    let mut request = ClientRequest::post(PATH, "application/json", Bytes::from(body));
    request.headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    if let Some(value) = stream_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        request.headers.insert(STREAM_ID, value);
    }
    if let Some(value) = auth.and_then(|a| HeaderValue::from_str(a).ok()) {
        request.headers.insert(http::header::AUTHORIZATION, value);
    }
    request
}

/// POSTs SUBSCRIBE `call` to `addr` as stream `generation` (with `auth` as its
/// `Authorization`, if any); its events and end come back as messages.
pub fn subscribe(
    ctx: &Context<SchedulerDriver>,
    addr: SocketAddr,
    call: &Call,
    generation: u64,
    auth: Option<&str>,
) {
    let exchange = ctx
        .node()
        .http_send(addr, request(call, None, auth), CALL_TIMEOUT);
    let pid = ctx.pid().clone();
    ctx.defer(
        async move {
            let response = exchange.await.map_err(|e| e.to_string());
            read_events(response, pid, generation).await
        },
        move |end| DriverMessage::Http(HttpMessage::Ended(generation, end)),
    );
}

/// POSTs `call` on stream `stream_id` to `addr` (with `auth` as its `Authorization`, if
/// any); the answer comes back as a message.
pub fn post(
    ctx: &Context<SchedulerDriver>,
    addr: SocketAddr,
    stream_id: &str,
    call: &Call,
    auth: Option<&str>,
) {
    let kind = call.kind;
    let exchange = ctx
        .node()
        .http_send(addr, request(call, Some(stream_id), auth), CALL_TIMEOUT);
    ctx.defer(
        async move {
            let response = exchange.await.map_err(|e| e.to_string())?;
            let status = response.status;
            if status.is_success() {
                return Ok(());
            }
            let body = response.bytes(4096).await.unwrap_or_default();
            Err(format!(
                "the master answered {kind} with {status}: {}",
                String::from_utf8_lossy(&body)
            ))
        },
        move |r| DriverMessage::Http(HttpMessage::Answered(kind, r)),
    );
}

/// The `host:port` of a `Location` such as `//10.0.0.1:5050/master/api/v1/scheduler`.
pub fn location_authority(location: &str) -> Option<&str> {
    let rest = location.split_once("//").map_or(location, |(_, r)| r);
    let authority = rest.split('/').next()?;
    authority.rsplit_once(':')?.1.parse::<u16>().ok()?;
    Some(authority)
}

async fn redirect(response: &ClientResponse) -> StreamEnd {
    let location = response
        .headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(authority) = location_authority(location) else {
        return StreamEnd::Lost(format!("a 307 with an unusable Location {location:?}"));
    };
    match tokio::net::lookup_host(authority)
        .await
        .map(|mut a| a.next())
    {
        Ok(Some(addr)) => StreamEnd::Redirect(addr),
        _ => StreamEnd::Lost(format!("the leader {authority} named by a 307 is unknown")),
    }
}

/// Reads a SUBSCRIBE answer's events into the driver; returns how the stream ended.
async fn read_events(
    response: Result<ClientResponse, String>,
    pid: Pid<SchedulerDriver>,
    generation: u64,
) -> StreamEnd {
    let mut response = match response {
        Ok(r) => r,
        Err(e) => return StreamEnd::Lost(format!("SUBSCRIBE failed: {e}")),
    };
    match response.status {
        StatusCode::OK => {}
        StatusCode::TEMPORARY_REDIRECT => return redirect(&response).await,
        status => {
            let body = response.bytes(4096).await.unwrap_or_default();
            let why = format!(
                "the master answered SUBSCRIBE with {status}: {}",
                String::from_utf8_lossy(&body)
            );
            return if status == StatusCode::SERVICE_UNAVAILABLE {
                StreamEnd::Lost(why)
            } else {
                StreamEnd::Refused(why)
            };
        }
    }
    let stream_id = response
        .headers
        .get(STREAM_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let opened = HttpMessage::Opened(generation, stream_id);
    if pid.send(DriverMessage::Http(opened)).is_err() {
        return StreamEnd::Lost("the driver stopped".into());
    }
    let mut decoder = Decoder::new(MAX_EVENT_BYTES);
    let limits = Limits::default();
    while let Some(chunk) = response.chunk().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return StreamEnd::Lost(format!("the event stream broke: {e}")),
        };
        let records = match decoder.feed(&chunk) {
            Ok(r) => r,
            Err(e) => return StreamEnd::Lost(format!("the event stream is malformed: {e}")),
        };
        for record in records {
            let event: Event = match meso_api::json::from_slice(&record, &limits) {
                Ok(e) => e,
                Err(e) => return StreamEnd::Lost(format!("an event is malformed: {e}")),
            };
            let msg = HttpMessage::Event(generation, Box::new(event));
            if pid.send(DriverMessage::Http(msg)).is_err() {
                return StreamEnd::Lost("the driver stopped".into());
            }
        }
    }
    StreamEnd::Lost("the master closed the event stream".into())
}

/// The message a native driver would get for `event` (the inverse of the master's
/// mapping), or `None` for events without a callback (HEARTBEAT, operation updates).
/// SUBSCRIBED is a re-registration when the SUBSCRIBE carried a framework id
/// (`resubscribing`). An UPDATE with a uuid came from an agent and is to be acknowledged;
/// its message gets a (placeholder) sender pid, as the agent's would be. Framework ids
/// inside the messages are left empty (the driver uses its own).
pub fn wire_of(event: Event, resubscribing: bool) -> Option<DriverMessage> {
    let framework = FrameworkId::new("");
    use meso_api::v1::scheduler::EventType as T;
    Some(match event.kind {
        T::Subscribed => {
            let s = event.subscribed?;
            let master_info = s.master_info.unwrap_or_else(|| MasterInfo {
                id: String::new(),
                ip: 0,
                port: 0,
                pid: None,
                hostname: None,
                version: None,
                address: None,
                capabilities: Vec::new(),
            });
            let framework_id = s.framework_id;
            if resubscribing {
                DriverMessage::Reregistered(wire::FrameworkReregistered {
                    framework_id,
                    master_info,
                })
            } else {
                DriverMessage::Registered(wire::FrameworkRegistered {
                    framework_id,
                    master_info,
                })
            }
        }
        T::Offers => DriverMessage::Offers(wire::ResourceOffers {
            offers: event.offers?.offers,
            pids: Vec::new(),
        }),
        T::Rescind => DriverMessage::Rescind(wire::RescindResourceOffer {
            offer_id: event.rescind?.offer_id,
        }),
        T::InverseOffers => DriverMessage::InverseOffers(wire::InverseOffers {
            inverse_offers: event.inverse_offers?.inverse_offers,
        }),
        T::RescindInverseOffer => DriverMessage::RescindInverseOffer(wire::RescindInverseOffer {
            inverse_offer_id: event.rescind_inverse_offer?.inverse_offer_id,
        }),
        T::Update => {
            let status = event.update?.status;
            let update = wire::StatusUpdate {
                framework_id: framework.clone(),
                executor_id: status.executor_id.clone(),
                agent_id: status.agent_id.clone(),
                timestamp: status.timestamp.unwrap_or_default(),
                uuid: status.uuid.clone(),
                latest_state: None,
                status,
            };
            let pid = update.uuid.as_ref().map(|_| "agent".to_string());
            DriverMessage::Update(Box::new(wire::StatusUpdateMessage { update, pid }))
        }
        T::Message => {
            let m = event.message?;
            DriverMessage::ExecutorMessage(wire::ExecutorToFramework {
                agent_id: m.agent_id,
                framework_id: framework.clone(),
                executor_id: m.executor_id,
                data: m.data,
            })
        }
        T::Failure => {
            let f = event.failure?;
            let agent_id = f.agent_id?;
            match f.executor_id {
                Some(executor_id) => DriverMessage::ExitedExecutor(wire::ExitedExecutor {
                    agent_id,
                    framework_id: framework.clone(),
                    executor_id,
                    status: f.status.unwrap_or_default(),
                }),
                None => DriverMessage::LostAgent(wire::LostAgent { agent_id }),
            }
        }
        T::Error => DriverMessage::Error(wire::FrameworkError {
            message: event.error?.message,
        }),
        _ => return None,
    })
}

impl SchedulerDriver {
    /// Handles the HTTP transport's news.
    pub(super) fn http_message(&mut self, ctx: &mut Context<Self>, msg: HttpMessage) {
        let Some(link) = self.http.as_mut() else {
            return;
        };
        let current = link.generation;
        match msg {
            HttpMessage::Opened(generation, id) if generation == current => {
                link.stream_id = Some(id);
                link.checks += 1;
                let check = HttpMessage::HeartbeatCheck(generation, link.checks, 0);
                ctx.delay(
                    self.heartbeat * MISSED_HEARTBEATS,
                    DriverMessage::Http(check),
                );
            }
            HttpMessage::Event(generation, event) if generation == current => {
                link.events += 1;
                if let Some(s) = event.subscribed.as_ref() {
                    let secs = s.heartbeat_interval_seconds.unwrap_or(0.0);
                    if secs.is_finite() && secs > 0.0 {
                        self.heartbeat = Duration::from_secs_f64(secs.min(3600.0));
                        // Check by the announced interval from now on, not the one the
                        // stream opened with.
                        link.checks += 1;
                        let check =
                            HttpMessage::HeartbeatCheck(generation, link.checks, link.events);
                        ctx.delay(
                            self.heartbeat * MISSED_HEARTBEATS,
                            DriverMessage::Http(check),
                        );
                    }
                }
                if let Some(m) = wire_of(*event, self.resubscribing) {
                    self.dispatch(ctx, m, true);
                }
                self.pump(ctx);
            }
            HttpMessage::HeartbeatCheck(generation, chain, seen)
                if generation == current && chain == link.checks =>
            {
                if link.events == seen {
                    // Silent too long: drop this stream (its late events are ignored).
                    link.next_generation();
                    let why = format!("no event for {MISSED_HEARTBEATS} heartbeat intervals");
                    self.stream_ended(ctx, StreamEnd::Lost(why));
                } else {
                    let next = HttpMessage::HeartbeatCheck(generation, chain, link.events);
                    ctx.delay(
                        self.heartbeat * MISSED_HEARTBEATS,
                        DriverMessage::Http(next),
                    );
                }
            }
            HttpMessage::Ended(generation, end) if generation == current => {
                link.stream_id = None;
                self.stream_ended(ctx, end);
            }
            HttpMessage::Answered(kind, result) => {
                link.in_flight = false;
                if let (Err(why), CallType::UpdateFramework) = (result, kind) {
                    // As the native master's FrameworkError for an invalid change.
                    self.with_actions(ctx, |s, a| {
                        s.error(a, &why);
                        a.stop();
                    });
                }
                // Other refusals are dropped as the native protocol drops them: a call
                // made just before a failover, or one the master checks later anyway.
                self.pump(ctx);
                self.maybe_finish(ctx);
            }
            _ => {}
        }
    }

    /// The current stream ended: go where its end says.
    fn stream_ended(&mut self, ctx: &mut Context<Self>, end: StreamEnd) {
        let was = self.registered;
        self.lose_master(ctx);
        if self.maybe_finish(ctx) {
            return;
        }
        match end {
            StreamEnd::Redirect(leader) => {
                let hint = wire::NotLeader {
                    leader: Some(format!("master@{leader}")),
                    term: 0,
                };
                let from = self.master.clone();
                match self.detector.not_leader(&from, &hint) {
                    super::HintOutcome::Leader(leader) => {
                        self.use_master(ctx, leader);
                        self.register(ctx);
                    }
                    super::HintOutcome::NextMaster(next) => {
                        self.use_master(ctx, next);
                        self.arm_retry(ctx);
                    }
                    super::HintOutcome::Ignored => self.arm_retry(ctx),
                }
            }
            StreamEnd::Lost(_) if was => {
                // The leader went away: on to the next master at once, as the native
                // transport does when its link breaks.
                let next = self.detector.advance().clone();
                self.use_master(ctx, next);
                self.register(ctx);
            }
            StreamEnd::Lost(_) => self.arm_retry(ctx),
            StreamEnd::Refused(why) => self.with_actions(ctx, |s, a| {
                s.error(a, &why);
                a.stop();
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Event {
        serde_json::from_value(json).expect("an event")
    }

    #[test]
    fn events_become_the_messages_a_native_driver_gets() {
        let subscribed = serde_json::json!({"type": "SUBSCRIBED",
            "subscribed": {"framework_id": {"value": "f1"}, "heartbeat_interval_seconds": 15}});
        assert!(matches!(
            wire_of(event(subscribed.clone()), false),
            Some(DriverMessage::Registered(m)) if m.framework_id.value == "f1"
        ));
        assert!(matches!(
            wire_of(event(subscribed), true),
            Some(DriverMessage::Reregistered(_))
        ));
        // An update with a uuid came from an agent (acknowledged); one without did not.
        let update = |uuid: Option<&str>| {
            let mut status = serde_json::json!({"task_id": {"value": "t"},
                "state": "TASK_FINISHED", "agent_id": {"value": "a"}});
            if let Some(u) = uuid {
                status["uuid"] = u.into();
            }
            event(serde_json::json!({"type": "UPDATE", "update": {"status": status}}))
        };
        let Some(DriverMessage::Update(m)) = wire_of(update(Some("AAEC")), false) else {
            panic!("an update");
        };
        assert_eq!(m.update.uuid.as_deref(), Some(&[0u8, 1, 2][..]));
        assert!(m.pid.is_some());
        assert_eq!(
            m.update.agent_id.as_ref().map(|a| a.value.as_str()),
            Some("a")
        );
        let Some(DriverMessage::Update(m)) = wire_of(update(None), false) else {
            panic!("an update");
        };
        assert!(m.pid.is_none() && m.update.uuid.is_none());
        let failure = |executor: bool| {
            let mut f = serde_json::json!({"agent_id": {"value": "a"}});
            if executor {
                f["executor_id"] = serde_json::json!({"value": "e"});
                f["status"] = 9.into();
            }
            event(serde_json::json!({"type": "FAILURE", "failure": f}))
        };
        assert!(matches!(
            wire_of(failure(true), false),
            Some(DriverMessage::ExitedExecutor(m)) if m.status == 9
        ));
        assert!(matches!(
            wire_of(failure(false), false),
            Some(DriverMessage::LostAgent(_))
        ));
        let heartbeat = event(serde_json::json!({"type": "HEARTBEAT"}));
        assert!(wire_of(heartbeat, false).is_none());
        // A payload missing from its event is no message (not a panic).
        assert!(wire_of(event(serde_json::json!({"type": "OFFERS"})), false).is_none());
    }

    #[test]
    fn locations_name_the_leader() {
        assert_eq!(
            location_authority("//127.0.0.1:5050/master/api/v1/scheduler"),
            Some("127.0.0.1:5050")
        );
        assert_eq!(location_authority("http://m2:7/x"), Some("m2:7"));
        assert_eq!(location_authority("/master/api/v1/scheduler"), None);
        assert_eq!(location_authority("//m2/x"), None);
    }
}
