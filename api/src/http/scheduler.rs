//! The front door of `POST /api/v1/scheduler` (HTTP reference §1.1-§1.3).
//!
//! Two pure steps, in Mesos's order:
//! 1. [`scheduler_request`] (no master state): method, `Content-Type`, body decoding under
//!    limits, `Call::validate`, `Accept` for SUBSCRIBE and RECONCILE_OPERATIONS, and no
//!    `Mesos-Stream-Id` on SUBSCRIBE.
//! 2. [`SchedulerRequest::admit`] (for every call but SUBSCRIBE), given what the master
//!    knows of the framework ([`FrameworkStanding`]): unknown framework 400, not subscribed
//!    403, subscribed through the driver 403, stream id missing or wrong 400, `UNKNOWN` 501.
//!
//! The non-leader (307/503) and recovering (503) answers come first in Mesos and need the
//! master's state; they are [`HttpError::not_leader`] and [`HttpError::master_recovering`].

use super::body::decode_call;
use super::error::HttpError;
use super::headers::RequestHeaders;
use super::negotiation::{negotiate_response, require_json_body, require_post, MediaType};
use super::STREAM_ID_HEADER;
use crate::json::Limits;
use crate::v1::scheduler::{Call, CallType};

/// A decoded, validated scheduler call.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerRequest {
    /// The call.
    pub call: Call,
    /// The `Mesos-Stream-Id` header, if sent (never on an accepted SUBSCRIBE).
    pub stream_id: Option<String>,
    /// The response encoding, for the calls that answer with a body (SUBSCRIBE,
    /// RECONCILE_OPERATIONS; UPDATE_FRAMEWORK answers with an empty 200).
    pub accept: Option<MediaType>,
}

/// What the master knows of the framework a non-SUBSCRIBE call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameworkStanding<'a> {
    /// No such framework.
    Unknown,
    /// Known, but no subscription is open (disconnected, failing over).
    Disconnected,
    /// Subscribed through the libprocess driver, not HTTP.
    Driver,
    /// Subscribed over HTTP with this stream id.
    Http {
        /// The stream id of the framework's current subscription.
        stream_id: &'a str,
    },
}

/// Step 1 for `POST /api/v1/scheduler`; see the module docs for the rules and their order.
pub fn scheduler_request(
    method: &str,
    headers: &RequestHeaders,
    body: &[u8],
    limits: &Limits,
) -> Result<SchedulerRequest, HttpError> {
    require_post(method)?;
    require_json_body(headers, false)?;
    let call: Call = decode_call(body, limits)?;
    validate(&call)?;
    let accept = match call.kind {
        CallType::Subscribe | CallType::ReconcileOperations => Some(negotiate_response(headers)?),
        _ => None,
    };
    let stream_id = headers.get_text(STREAM_ID_HEADER);
    if call.kind == CallType::Subscribe && stream_id.is_some() {
        return Err(HttpError::bad_request(
            "Subscribe calls should not include the 'Mesos-Stream-Id' header",
        ));
    }
    Ok(SchedulerRequest {
        call,
        stream_id,
        accept,
    })
}

/// `Call::validate` with Mesos's handling of `UNKNOWN`: validation lets it through (it
/// still needs a framework id) and the handler answers 501 once the framework checks pass.
fn validate(call: &Call) -> Result<(), HttpError> {
    let result = if call.kind == CallType::Unknown {
        match &call.framework_id {
            None => Err(crate::Error::Invalid {
                what: "scheduler call UNKNOWN".into(),
                reason: "expecting 'framework_id' to be present".into(),
            }),
            Some(id) => id.validate(),
        }
    } else {
        call.validate()
            .and_then(|()| match &call.acknowledge_operation_status {
                // §0.5: like ACKNOWLEDGE's, this uuid must be exactly 16 bytes (`Call::validate`
                // checks only ACKNOWLEDGE's).
                Some(ack) if ack.uuid.len() != 16 => Err(crate::Error::Invalid {
                    what: format!("scheduler call {}", call.kind),
                    reason: format!("uuid must be 16 bytes, got {}", ack.uuid.len()),
                }),
                _ => Ok(()),
            })
    };
    result.map_err(|e| HttpError::bad_request(format!("Failed to validate scheduler::Call: {e}")))
}

impl SchedulerRequest {
    /// True for SUBSCRIBE, which opens a stream instead of going through [`Self::admit`].
    pub fn is_subscribe(&self) -> bool {
        self.call.kind == CallType::Subscribe
    }

    /// The framework id a non-SUBSCRIBE call names (validation made it present); for a
    /// SUBSCRIBE, the id being re-subscribed, if any.
    pub fn framework_id(&self) -> Option<&crate::v1::FrameworkId> {
        self.call.framework_id.as_ref()
    }

    /// Step 2 for every call but SUBSCRIBE: checks the call against the framework's
    /// standing. On success the master carries the call out and answers
    /// [`Self::success_status`].
    pub fn admit(&self, standing: FrameworkStanding<'_>) -> Result<(), HttpError> {
        let id = self
            .call
            .framework_id
            .as_ref()
            .map(|f| f.value.as_str())
            .unwrap_or_default();
        match standing {
            FrameworkStanding::Unknown => {
                return Err(HttpError::bad_request("Framework cannot be found"))
            }
            FrameworkStanding::Disconnected => {
                return Err(HttpError::forbidden("Framework is not subscribed"))
            }
            FrameworkStanding::Driver => {
                return Err(HttpError::forbidden("Framework is not connected via HTTP"))
            }
            FrameworkStanding::Http { stream_id } => match self.stream_id.as_deref() {
                None => {
                    return Err(HttpError::bad_request(
                        "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
                    ))
                }
                Some(sent) if sent != stream_id => {
                    return Err(HttpError::bad_request(format!(
                        "The stream ID '{sent}' included in this request didn't match the \
                         stream ID currently associated with framework ID {id}"
                    )))
                }
                Some(_) => {}
            },
        }
        if self.call.kind == CallType::Unknown {
            return Err(HttpError::not_implemented(
                "Received an 'UNKNOWN' scheduler call",
            ));
        }
        Ok(())
    }

    /// Headers of the 200 answer to an accepted SUBSCRIBE: `Content-Type` (the negotiated
    /// encoding) and `Mesos-Stream-Id` (a fresh UUID the master generated for this
    /// subscription). The body is chunked and has no `Content-Length`.
    pub fn subscribe_headers(&self, stream_id: &str) -> Vec<(String, String)> {
        let media = self.accept.unwrap_or(MediaType::Json);
        vec![
            ("Content-Type".to_string(), media.as_str().to_string()),
            (STREAM_ID_HEADER.to_string(), stream_id.to_string()),
        ]
    }

    /// The principal rule of §1.2, checked by the master after the framework lookup when
    /// HTTP authentication is on: a principal with claims but no value is 403; an
    /// authenticated principal other than the framework's `FrameworkInfo.principal` is 400.
    /// `authenticated` is `Some(None)` for a principal without a value.
    pub fn check_principal(
        authenticated: Option<Option<&str>>,
        framework_principal: Option<&str>,
    ) -> Result<(), HttpError> {
        match authenticated {
            None => Ok(()),
            Some(None) => Err(HttpError::forbidden(
                "The request's authenticated principal contains claims, but no value string. \
                 The master currently requires that principals have a value",
            )),
            Some(Some(name)) if Some(name) == framework_principal => Ok(()),
            Some(Some(name)) => Err(HttpError::bad_request(format!(
                "Authenticated principal '{name}' does not match principal '{}' set in \
                 `FrameworkInfo`",
                framework_principal.unwrap_or_default()
            ))),
        }
    }

    /// The status of a successful answer: 200 (streaming) for SUBSCRIBE, 200 for
    /// UPDATE_FRAMEWORK, 202 with an empty body for every other call.
    pub fn success_status(&self) -> u16 {
        match self.call.kind {
            CallType::Subscribe | CallType::UpdateFramework => 200,
            _ => 202,
        }
    }
}

#[cfg(test)]
mod tests;
