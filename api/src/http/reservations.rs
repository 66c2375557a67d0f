//! Payloads of the master's reservation and volume calls (v1 operator API,
//! `master.proto`): RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES,
//! DESTROY_VOLUMES, GROW_VOLUME and SHRINK_VOLUME, each as the offer [`Operation`] it
//! applies to one agent; and the legacy form bodies of `POST /master/reserve`,
//! `/master/unreserve`, `/master/create-volumes` and `/master/destroy-volumes`
//! (`slaveId=<id>&resources=<JSON array>`, or `volumes=` for the volume endpoints),
//! decoded with Mesos's messages. The master checks the operation against the agent.

use serde::{Deserialize, Serialize};

use super::HttpError;
use crate::resources::Resource;
use crate::v1::{AgentId, Operation, ScalarValue};
use crate::Resources;

/// RESERVE_RESOURCES payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveResources {
    /// The agent (required).
    pub agent_id: AgentId,
    /// The resources before the reservation (optional; Mesos 1.10+).
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub source: Resources,
    /// The resources with the reservation on top of their stacks.
    #[serde(default)]
    pub resources: Resources,
}

/// UNRESERVE_RESOURCES payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreserveResources {
    /// The agent (required).
    pub agent_id: AgentId,
    /// The reserved resources to release (the top reservation is popped).
    #[serde(default)]
    pub resources: Resources,
}

/// CREATE_VOLUMES and DESTROY_VOLUMES payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentVolumes {
    /// The agent (required).
    pub agent_id: AgentId,
    /// The persistent volumes.
    #[serde(default)]
    pub volumes: Resources,
}

/// GROW_VOLUME payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowVolumeCall {
    /// The agent (required by meso: there are no resource providers).
    pub agent_id: Option<AgentId>,
    /// The volume.
    pub volume: Resource,
    /// Reserved disk added to it.
    pub addition: Resource,
}

/// SHRINK_VOLUME payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkVolumeCall {
    /// The agent (required by meso: there are no resource providers).
    pub agent_id: Option<AgentId>,
    /// The volume.
    pub volume: Resource,
    /// How much to take off it.
    pub subtract: ScalarValue,
}

/// One agent and the operation an operator call applies to it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOperation {
    /// The agent.
    pub agent_id: AgentId,
    /// The operation, as a framework would send it in ACCEPT.
    pub operation: Operation,
}

fn need_agent(agent_id: Option<AgentId>, kind: &str) -> Result<AgentId, HttpError> {
    agent_id.ok_or_else(|| {
        HttpError::bad_request(format!(
            "Failed to validate master::Call: '{kind}.agent_id' is required (meso has no \
             resource providers)"
        ))
    })
}

impl ReserveResources {
    /// The RESERVE operation on its agent.
    pub fn into_operation(self) -> AgentOperation {
        let mut operation = Operation::reserve(self.resources);
        if let Some(reserve) = operation.reserve.as_mut() {
            reserve.source = self.source;
        }
        AgentOperation {
            agent_id: self.agent_id,
            operation,
        }
    }
}

impl UnreserveResources {
    /// The UNRESERVE operation on its agent.
    pub fn into_operation(self) -> AgentOperation {
        AgentOperation {
            agent_id: self.agent_id,
            operation: Operation::unreserve(self.resources),
        }
    }
}

impl AgentVolumes {
    /// The CREATE operation on its agent.
    pub fn into_create(self) -> AgentOperation {
        AgentOperation {
            agent_id: self.agent_id,
            operation: Operation::create(self.volumes),
        }
    }

    /// The DESTROY operation on its agent.
    pub fn into_destroy(self) -> AgentOperation {
        AgentOperation {
            agent_id: self.agent_id,
            operation: Operation::destroy(self.volumes),
        }
    }
}

impl GrowVolumeCall {
    /// The GROW_VOLUME operation on its agent; the agent id is required.
    pub fn into_operation(self) -> Result<AgentOperation, HttpError> {
        Ok(AgentOperation {
            agent_id: need_agent(self.agent_id, "grow_volume")?,
            operation: Operation::grow_volume(self.volume, self.addition),
        })
    }
}

impl ShrinkVolumeCall {
    /// The SHRINK_VOLUME operation on its agent; the agent id is required.
    pub fn into_operation(self) -> Result<AgentOperation, HttpError> {
        Ok(AgentOperation {
            agent_id: need_agent(self.agent_id, "shrink_volume")?,
            operation: Operation::shrink_volume(self.volume, self.subtract.value),
        })
    }
}

/// Decodes `%XX` escapes and `+` (a space) of one form value.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad escape at byte {i}"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once decoded".to_string())
}

/// The value of `key` in a form-encoded body (the first one), decoded.
fn form_value(body: &str, key: &str) -> Result<Option<String>, HttpError> {
    for pair in body.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == key {
            return percent_decode(v).map(Some).map_err(|why| {
                HttpError::bad_request(format!("Unable to decode query string: '{key}' has {why}"))
            });
        }
    }
    Ok(None)
}

/// Which legacy endpoint a form body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyOperation {
    /// `POST /master/reserve`.
    Reserve,
    /// `POST /master/unreserve`.
    Unreserve,
    /// `POST /master/create-volumes`.
    CreateVolumes,
    /// `POST /master/destroy-volumes`.
    DestroyVolumes,
}

impl LegacyOperation {
    /// The endpoint of `route` (after `/master`), if it is one of these.
    pub fn of_route(route: &str) -> Option<LegacyOperation> {
        match route {
            "/reserve" => Some(LegacyOperation::Reserve),
            "/unreserve" => Some(LegacyOperation::Unreserve),
            "/create-volumes" => Some(LegacyOperation::CreateVolumes),
            "/destroy-volumes" => Some(LegacyOperation::DestroyVolumes),
            _ => None,
        }
    }

    fn resources_key(self) -> &'static str {
        match self {
            LegacyOperation::Reserve | LegacyOperation::Unreserve => "resources",
            LegacyOperation::CreateVolumes | LegacyOperation::DestroyVolumes => "volumes",
        }
    }

    /// Decodes the form body: `slaveId` and `resources` (or `volumes`), a JSON array of
    /// Resource objects, both required, with Mesos's 400 messages.
    pub fn decode(self, body: &[u8]) -> Result<AgentOperation, HttpError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| HttpError::bad_request("The request body is not UTF-8"))?;
        let missing = |key: &str| {
            HttpError::bad_request(format!(
                "Missing '{key}' query parameter in the request body"
            ))
        };
        let agent = form_value(body, "slaveId")?.ok_or_else(|| missing("slaveId"))?;
        let agent_id = AgentId::new(agent);
        agent_id.validate().map_err(|e| {
            HttpError::bad_request(format!("Invalid 'slaveId' query parameter: {e}"))
        })?;
        let key = self.resources_key();
        let text = form_value(body, key)?.ok_or_else(|| missing(key))?;
        let resources: Resources =
            crate::json::from_slice(text.as_bytes(), &crate::json::Limits::default()).map_err(
                |e| {
                    HttpError::bad_request(format!(
                        "Error in parsing '{key}' query parameter in the request body: {e}"
                    ))
                },
            )?;
        let operation = match self {
            LegacyOperation::Reserve => Operation::reserve(resources),
            LegacyOperation::Unreserve => Operation::unreserve(resources),
            LegacyOperation::CreateVolumes => Operation::create(resources),
            LegacyOperation::DestroyVolumes => Operation::destroy(resources),
        };
        Ok(AgentOperation {
            agent_id,
            operation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::OperationType;

    #[test]
    fn a_form_body_gives_the_agent_and_the_operation() {
        let body = "slaveId=a-S0&resources=%5B%7B%22name%22%3A%22cpus%22%2C%22type%22%3A%22SCALAR%22%2C%22scalar%22%3A%7B%22value%22%3A1%7D%2C%22reservations%22%3A%5B%7B%22type%22%3A%22DYNAMIC%22%2C%22role%22%3A%22ops%22%7D%5D%7D%5D";
        let op = LegacyOperation::Reserve.decode(body.as_bytes()).unwrap();
        assert_eq!(op.agent_id, AgentId::new("a-S0"));
        assert_eq!(op.operation.kind, OperationType::Reserve);
        let reserved = &op.operation.reserve.unwrap().resources;
        assert!(
            reserved.iter().all(|r| r.is_reserved_to("ops")),
            "{reserved}"
        );
        let raw = r#"slaveId=a-S0&volumes=[]"#;
        let op = LegacyOperation::DestroyVolumes
            .decode(raw.as_bytes())
            .unwrap();
        assert_eq!(op.operation.kind, OperationType::Destroy);
    }

    #[test]
    fn bad_form_bodies_are_refused_naming_the_field() {
        let cases = [
            ("resources=[]", "Missing 'slaveId'"),
            ("slaveId=a", "Missing 'resources'"),
            ("slaveId=a&resources=%ZZ", "Unable to decode"),
            ("slaveId=a&resources=nope", "Error in parsing 'resources'"),
            ("slaveId=..&resources=[]", "Invalid 'slaveId'"),
        ];
        for (body, expected) in cases {
            let err = LegacyOperation::Unreserve
                .decode(body.as_bytes())
                .unwrap_err();
            assert_eq!(err.status, 400, "{body}");
            assert!(err.body.contains(expected), "{body}: {}", err.body);
        }
        assert!(LegacyOperation::of_route("/create-volumes").is_some());
        assert!(LegacyOperation::of_route("/state").is_none());
    }

    #[test]
    fn grow_and_shrink_need_an_agent_id() {
        let volume: Resource =
            serde_json::from_str(r#"{"name":"disk","type":"SCALAR","scalar":{"value":1}}"#)
                .unwrap();
        let call = ShrinkVolumeCall {
            agent_id: None,
            volume,
            subtract: ScalarValue { value: 1.0 },
        };
        let err = call.into_operation().unwrap_err();
        assert!(err.body.contains("shrink_volume.agent_id"), "{}", err.body);
    }
}
