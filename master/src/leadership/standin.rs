//! [`StandIn`]: the `master` process of a master that does not lead.
//!
//! Every message a client sends to a master (agent registration and re-registration, pongs,
//! status updates, framework registration, scheduler calls, ...) is answered with
//! [`wire::NotLeader`] naming the leader this master knows (if any), so the client goes there.
//! HTTP: `/health` is 200, `/version` the version, `/state` (also `/state.json`) a small
//! document with the leader, term and peers, `/redirect` Mesos's redirect to the leader;
//! every other path is a 307 to the same path on the leader, or 503 when no leader is known.

use libprocess::http_types::{HeaderName, HeaderValue, StatusCode};
use libprocess::{Context, Handlers, HttpReply, HttpRequest, HttpResponse, Process};
use meso_api::http::HttpError;
use meso_api::wire;

use super::SharedLeaderInfo;

/// What the stand-in handles: any client message (answered with a leader hint).
#[derive(Debug)]
pub struct StandInMessage;

macro_rules! client_messages {
    ($($ty:ident,)*) => {
        $(impl From<wire::$ty> for StandInMessage {
            fn from(_: wire::$ty) -> Self { StandInMessage }
        })*
        fn install_client_messages(h: &mut Handlers<StandIn>) {
            $(h.on::<wire::$ty>();)*
        }
    };
}

client_messages! {
    RegisterAgent,
    ReregisterAgent,
    UnregisterAgent,
    PongAgent,
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
}

/// The follower's `master` process (spawn it under the id `master`).
pub struct StandIn {
    leader: SharedLeaderInfo,
}

impl StandIn {
    /// A stand-in that reads who leads from `leader`.
    pub fn new(leader: SharedLeaderInfo) -> StandIn {
        StandIn { leader }
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
            response.headers.insert(name, value);
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

    fn handle(&mut self, ctx: &mut Context<Self>, _msg: StandInMessage) {
        if let Some(from) = ctx.from().cloned() {
            let _ = ctx.send(&from, self.hint());
        }
    }

    fn http(&mut self, _ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        let route = request.route.trim_end_matches('/');
        let route = route.strip_prefix("/master").unwrap_or(route);
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
            other => error_response(HttpError::not_leader(leader, other)),
        };
        reply.respond(response);
    }
}
