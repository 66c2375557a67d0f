//! The HTTP protocol layer of Mesos's v1 APIs, as pure functions: no sockets, no clock.
//!
//! The master and agent actors hand each request's method, headers and body to a typed
//! front door ([`scheduler_request`], [`executor_request`], [`master_operator_request`],
//! [`agent_operator_request`]) and get back either a decoded, validated call or an
//! [`HttpError`] carrying the exact status code, body and headers to answer with (the
//! tables of the HTTP reference, §1.2, §2.1, §3). What needs the actor's state (is the
//! framework known, subscribed, on which stream) is a second, equally pure step
//! ([`SchedulerRequest::admit`], [`ExecutorRequest::admit`]) fed with a small view of it.
//!
//! | module | owns |
//! |---|---|
//! | [`auth`] | HTTP authentication: realms, Basic credentials, HS256 bearer tokens, the 401 answer |
//! | [`error`] | [`HttpError`] (status, body, headers) and the common answers (405, 307/503 for a non-leader, ...) |
//! | [`headers`] | [`RequestHeaders`]: case-insensitive request headers, independent of any HTTP crate |
//! | [`negotiation`] | method, `Content-Type` and `Accept` rules of §0.3 (we serve JSON only) |
//! | [`body`] | decoding a call body under [`crate::json::Limits`] with Mesos's error texts |
//! | [`recordio`] | RecordIO framing: encoder and incremental, bounded decoder |
//! | [`scheduler`] | `POST /api/v1/scheduler` |
//! | [`executor`] | `POST /api/v1/executor` |
//! | [`maintenance`] | payloads of the maintenance and draining calls (schedule, machines, drain) |
//! | [`operator`] | `POST /api/v1` on the master and the agent, with the calls answered 501 for now |
//! | [`routing`] | trailing slashes, delegation, longest-prefix routes, query strings, `?jsonp=` |
//! | [`tasks_query`] | the query of `/master/tasks` (limit, offset, order, task_id, framework_id) |
//! | [`events`] | event records for the scheduler, executor and operator streams |
//!
//! Invariants: every error answer has a body that says why (never empty); every event
//! record is compact JSON framed by RecordIO with nothing between records.
//!
//! ```
//! use meso_api::http::{scheduler_request, FrameworkStanding, RequestHeaders};
//! use meso_api::json::Limits;
//!
//! let headers = RequestHeaders::from_pairs([
//!     ("Content-Type", "application/json"),
//!     ("Mesos-Stream-Id", "0af5c887-8ad1-443e-82df-15784babb2c5"),
//! ]);
//! let body = br#"{"type":"TEARDOWN","framework_id":{"value":"M-0000"}}"#;
//! let request = scheduler_request("POST", &headers, body, &Limits::default())
//!     .map_err(|e| e.to_string())?;
//! // The master looks the framework up and hands its standing to the second step.
//! let standing = FrameworkStanding::Http { stream_id: "another-stream" };
//! let refusal = request.admit(standing).unwrap_err();
//! assert_eq!(refusal.status, 400);
//! assert!(refusal.body.starts_with("The stream ID '0af5c887"));
//! let standing = FrameworkStanding::Http { stream_id: "0af5c887-8ad1-443e-82df-15784babb2c5" };
//! assert!(request.admit(standing).is_ok());
//! assert_eq!(request.success_status(), 202);
//!
//! // A GET is refused before anything else is looked at.
//! let refusal = scheduler_request("GET", &headers, body, &Limits::default()).unwrap_err();
//! assert_eq!((refusal.status, refusal.header("Allow")), (405, Some("POST")));
//! # Ok::<(), String>(())
//! ```

pub mod auth;
pub mod body;
pub mod error;
pub mod events;
pub mod executor;
pub mod headers;
pub mod maintenance;
pub mod negotiation;
pub mod operator;
pub mod recordio;
pub mod reservations;
pub mod role_controls;
pub mod routing;
pub mod scheduler;
pub mod tasks_query;
pub mod update_agent;

pub use error::HttpError;
pub use executor::{executor_request, ExecutorRequest, ExecutorStanding};
pub use headers::RequestHeaders;
pub use negotiation::MediaType;
pub use operator::{
    agent_operator_request, master_operator_request, AgentCall, AgentCallType, MasterCall,
    MasterCallType,
};
pub use scheduler::{scheduler_request, FrameworkStanding, SchedulerRequest};
pub use tasks_query::{TaskOrder, TasksQuery};

/// The header carrying a scheduler's subscription stream id.
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

/// Seconds between HEARTBEAT events on scheduler and operator streams (Mesos's fixed
/// `DEFAULT_HEARTBEAT_INTERVAL`).
pub const HEARTBEAT_INTERVAL_SECS: f64 = 15.0;
