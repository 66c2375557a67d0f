//! The front doors of the operator API, `POST /api/v1` on the master and on the agent
//! (HTTP reference §3.1, §3.2).
//!
//! Order, as in Mesos: method (405), `Content-Type` (400/415), body (400/413), validation
//! (400: a known type, the payload of every call whose payload Mesos requires, e.g.
//! GET_METRICS, TEARDOWN, MARK_AGENT_GONE, and valid ids in the payloads meso reads),
//! `Accept` for every call (406), then calls meso does not serve yet get 501 with a body
//! naming the call and why. `UNKNOWN` is 501 as in Mesos.
//!
//! Served on the master: GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS,
//! GET_LOGGING_LEVEL, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS,
//! GET_ROLES, GET_MASTER, SUBSCRIBE, TEARDOWN, MARK_AGENT_GONE, GET_WEIGHTS,
//! UPDATE_WEIGHTS, GET_QUOTA, UPDATE_QUOTA, SET_QUOTA, REMOVE_QUOTA, the maintenance calls
//! (GET_MAINTENANCE_STATUS, GET_MAINTENANCE_SCHEDULE, UPDATE_MAINTENANCE_SCHEDULE,
//! START_MAINTENANCE, STOP_MAINTENANCE) and the draining calls (DRAIN_AGENT,
//! DEACTIVATE_AGENT, REACTIVATE_AGENT), RESERVE_RESOURCES, UNRESERVE_RESOURCES,
//! CREATE_VOLUMES, DESTROY_VOLUMES, GROW_VOLUME, SHRINK_VOLUME (payloads in
//! `reservations.rs`), GET_OPERATIONS. On the agent: GET_HEALTH, GET_FLAGS, GET_VERSION,
//! GET_METRICS, GET_STATE, GET_CONTAINERS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS,
//! GET_OPERATIONS. Both serve
//! UPDATE_AGENT, a meso extension (number 1000, outside Mesos's range) that changes a running
//! agent's resources and attributes ([`super::update_agent`]).
//!
//! [`operator_response`] builds the synchronous answer envelope
//! `{"type":"GET_X","get_x":{...}}`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::body::decode_call;
use super::error::HttpError;
use super::headers::RequestHeaders;
use super::negotiation::{negotiate_response, require_json_body, require_post, MediaType};
use crate::json::{opt_lenient, Limits};
use crate::v1::{AgentId, DurationInfo, FrameworkId};

/// Declares an operator call enum: proto names and numbers, `as_str`, `number`,
/// `from_name`, `Display`, serde as the name (an unknown name is an error naming it).
macro_rules! call_types {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($text:literal, $num:literal),)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// The proto name.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text,)* } }
            /// The proto number.
            pub fn number(self) -> i32 { match self { $($name::$variant => $num,)* } }
            /// The variant with this proto name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                $name::from_name(&name).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} '{}'", stringify!($name), name
                    ))
                })
            }
        }
    };
}

call_types!(
    /// `mesos.v1.master.Call.Type`.
    MasterCallType {
        Unknown = ("UNKNOWN", 0),
        GetHealth = ("GET_HEALTH", 1),
        GetFlags = ("GET_FLAGS", 2),
        GetVersion = ("GET_VERSION", 3),
        GetMetrics = ("GET_METRICS", 4),
        GetLoggingLevel = ("GET_LOGGING_LEVEL", 5),
        SetLoggingLevel = ("SET_LOGGING_LEVEL", 6),
        ListFiles = ("LIST_FILES", 7),
        ReadFile = ("READ_FILE", 8),
        GetState = ("GET_STATE", 9),
        GetAgents = ("GET_AGENTS", 10),
        GetFrameworks = ("GET_FRAMEWORKS", 11),
        GetExecutors = ("GET_EXECUTORS", 12),
        GetOperations = ("GET_OPERATIONS", 33),
        GetTasks = ("GET_TASKS", 13),
        GetRoles = ("GET_ROLES", 14),
        GetWeights = ("GET_WEIGHTS", 15),
        UpdateWeights = ("UPDATE_WEIGHTS", 16),
        GetMaster = ("GET_MASTER", 17),
        Subscribe = ("SUBSCRIBE", 18),
        ReserveResources = ("RESERVE_RESOURCES", 19),
        UnreserveResources = ("UNRESERVE_RESOURCES", 20),
        CreateVolumes = ("CREATE_VOLUMES", 21),
        DestroyVolumes = ("DESTROY_VOLUMES", 22),
        GrowVolume = ("GROW_VOLUME", 34),
        ShrinkVolume = ("SHRINK_VOLUME", 35),
        GetMaintenanceStatus = ("GET_MAINTENANCE_STATUS", 23),
        GetMaintenanceSchedule = ("GET_MAINTENANCE_SCHEDULE", 24),
        UpdateMaintenanceSchedule = ("UPDATE_MAINTENANCE_SCHEDULE", 25),
        StartMaintenance = ("START_MAINTENANCE", 26),
        StopMaintenance = ("STOP_MAINTENANCE", 27),
        DrainAgent = ("DRAIN_AGENT", 37),
        DeactivateAgent = ("DEACTIVATE_AGENT", 38),
        ReactivateAgent = ("REACTIVATE_AGENT", 39),
        GetQuota = ("GET_QUOTA", 28),
        UpdateQuota = ("UPDATE_QUOTA", 36),
        SetQuota = ("SET_QUOTA", 29),
        RemoveQuota = ("REMOVE_QUOTA", 30),
        Teardown = ("TEARDOWN", 31),
        MarkAgentGone = ("MARK_AGENT_GONE", 32),
        /// meso extension (not in Mesos; numbers from 1000 are meso's): change a running
        /// agent's total resources and attributes (`super::update_agent`).
        UpdateAgent = ("UPDATE_AGENT", 1000),
    }
);

call_types!(
    /// `mesos.v1.agent.Call.Type`.
    AgentCallType {
        Unknown = ("UNKNOWN", 0),
        GetHealth = ("GET_HEALTH", 1),
        GetFlags = ("GET_FLAGS", 2),
        GetVersion = ("GET_VERSION", 3),
        GetMetrics = ("GET_METRICS", 4),
        GetLoggingLevel = ("GET_LOGGING_LEVEL", 5),
        SetLoggingLevel = ("SET_LOGGING_LEVEL", 6),
        ListFiles = ("LIST_FILES", 7),
        ReadFile = ("READ_FILE", 8),
        GetState = ("GET_STATE", 9),
        GetContainers = ("GET_CONTAINERS", 10),
        GetFrameworks = ("GET_FRAMEWORKS", 11),
        GetExecutors = ("GET_EXECUTORS", 12),
        GetOperations = ("GET_OPERATIONS", 31),
        GetTasks = ("GET_TASKS", 13),
        GetAgent = ("GET_AGENT", 20),
        GetResourceProviders = ("GET_RESOURCE_PROVIDERS", 26),
        LaunchNestedContainer = ("LAUNCH_NESTED_CONTAINER", 14),
        WaitNestedContainer = ("WAIT_NESTED_CONTAINER", 15),
        KillNestedContainer = ("KILL_NESTED_CONTAINER", 16),
        RemoveNestedContainer = ("REMOVE_NESTED_CONTAINER", 21),
        LaunchNestedContainerSession = ("LAUNCH_NESTED_CONTAINER_SESSION", 17),
        AttachContainerInput = ("ATTACH_CONTAINER_INPUT", 18),
        AttachContainerOutput = ("ATTACH_CONTAINER_OUTPUT", 19),
        LaunchContainer = ("LAUNCH_CONTAINER", 22),
        WaitContainer = ("WAIT_CONTAINER", 23),
        KillContainer = ("KILL_CONTAINER", 24),
        RemoveContainer = ("REMOVE_CONTAINER", 25),
        AddResourceProviderConfig = ("ADD_RESOURCE_PROVIDER_CONFIG", 27),
        UpdateResourceProviderConfig = ("UPDATE_RESOURCE_PROVIDER_CONFIG", 28),
        RemoveResourceProviderConfig = ("REMOVE_RESOURCE_PROVIDER_CONFIG", 29),
        MarkResourceProviderGone = ("MARK_RESOURCE_PROVIDER_GONE", 32),
        PruneImages = ("PRUNE_IMAGES", 30),
        /// meso extension, as on the master: the agent changes its own total resources and
        /// attributes and tells the master (`super::update_agent`).
        UpdateAgent = ("UPDATE_AGENT", 1000),
    }
);

impl MasterCallType {
    /// True if Mesos's validation requires the call's payload (`"<lower-case type>": {...}`).
    pub fn payload_required(self) -> bool {
        use MasterCallType::*;
        matches!(
            self,
            GetMetrics
                | SetLoggingLevel
                | ListFiles
                | ReadFile
                | UpdateWeights
                | ReserveResources
                | UnreserveResources
                | CreateVolumes
                | DestroyVolumes
                | GrowVolume
                | ShrinkVolume
                | UpdateMaintenanceSchedule
                | StartMaintenance
                | StopMaintenance
                | DrainAgent
                | DeactivateAgent
                | ReactivateAgent
                | UpdateQuota
                | SetQuota
                | RemoveQuota
                | Teardown
                | MarkAgentGone
                | UpdateAgent
        )
    }

    /// `None` if meso answers this call; otherwise why it answers 501.
    pub fn not_served_reason(self) -> Option<&'static str> {
        use MasterCallType::*;
        match self {
            GetHealth | GetFlags | GetVersion | GetMetrics | GetLoggingLevel | GetState
            | GetAgents | GetFrameworks | GetExecutors | GetTasks | GetRoles | GetMaster
            | Subscribe | Teardown | MarkAgentGone | GetWeights | UpdateWeights | GetQuota
            | UpdateQuota | SetQuota | RemoveQuota => None,
            UpdateAgent => None,
            ReserveResources | UnreserveResources | CreateVolumes | DestroyVolumes | GrowVolume
            | ShrinkVolume | GetOperations => None,
            GetMaintenanceStatus
            | GetMaintenanceSchedule
            | UpdateMaintenanceSchedule
            | StartMaintenance
            | StopMaintenance
            | DrainAgent
            | DeactivateAgent
            | ReactivateAgent => None,
            Unknown => Some("an 'UNKNOWN' call has nothing to do"),
            SetLoggingLevel => Some("the logging level cannot be changed at run time yet"),
            ListFiles | ReadFile => {
                Some("file access goes through /files/browse and /files/read for now")
            }
        }
    }
}

impl AgentCallType {
    /// True if Mesos's validation requires the call's payload (`"<lower-case type>": {...}`).
    pub fn payload_required(self) -> bool {
        use AgentCallType::*;
        !matches!(
            self,
            Unknown
                | GetHealth
                | GetFlags
                | GetVersion
                | GetLoggingLevel
                | GetState
                | GetContainers
                | GetFrameworks
                | GetExecutors
                | GetOperations
                | GetTasks
                | GetAgent
                | GetResourceProviders
                | PruneImages
        )
    }

    /// `None` if meso answers this call; otherwise why it answers 501.
    pub fn not_served_reason(self) -> Option<&'static str> {
        use AgentCallType::*;
        match self {
            GetHealth | GetFlags | GetVersion | GetMetrics | GetState | GetContainers
            | GetFrameworks | GetExecutors | GetTasks | GetOperations => None,
            UpdateAgent => None,
            Unknown => Some("an 'UNKNOWN' call has nothing to do"),
            GetLoggingLevel | SetLoggingLevel => Some("logging levels are not served yet"),
            ListFiles | ReadFile => {
                Some("file access goes through /files/browse and /files/read for now")
            }
            GetResourceProviders
            | AddResourceProviderConfig
            | UpdateResourceProviderConfig
            | RemoveResourceProviderConfig
            | MarkResourceProviderGone => {
                Some("resource providers and operations are not served yet")
            }
            GetAgent => Some("GET_AGENT is not served yet; GET_STATE has the agent's state"),
            LaunchNestedContainer
            | WaitNestedContainer
            | KillNestedContainer
            | RemoveNestedContainer
            | LaunchNestedContainerSession
            | AttachContainerInput
            | AttachContainerOutput
            | LaunchContainer
            | WaitContainer
            | KillContainer
            | RemoveContainer
            | PruneImages => Some("container management calls are not served yet"),
        }
    }
}

/// GET_METRICS payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetMetrics {
    /// How long the snapshot may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationInfo>,
}

/// SUBSCRIBE options (a meso extension; Mesos's SUBSCRIBE has no payload and a client
/// that sends none gets Mesos's stream).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Subscribe {
    /// Leave the state out of SUBSCRIBED (`get_state` is then an empty object): for a
    /// client such as the web UI that reads bounded summaries instead of the whole state
    /// and wants only the events.
    #[serde(default)]
    pub omit_state: bool,
}

/// TEARDOWN payload (master).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Teardown {
    /// The framework to remove (required).
    pub framework_id: FrameworkId,
}

/// MARK_AGENT_GONE payload (master).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkAgentGone {
    /// The agent (required).
    pub agent_id: AgentId,
}

/// GET_CONTAINERS payload (agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetContainers {
    /// Include nested containers.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub show_nested: Option<bool>,
    /// Include standalone containers.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub show_standalone: Option<bool>,
}

/// A master operator call, with the payloads of the calls meso serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterCall {
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: MasterCallType,
    /// GET_METRICS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetrics>,
    /// TEARDOWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown: Option<Teardown>,
    /// SUBSCRIBE options (meso's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// MARK_AGENT_GONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_agent_gone: Option<MarkAgentGone>,
    /// UPDATE_WEIGHTS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_weights: Option<super::role_controls::UpdateWeights>,
    /// UPDATE_QUOTA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_quota: Option<super::role_controls::UpdateQuota>,
    /// SET_QUOTA (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_quota: Option<super::role_controls::SetQuota>,
    /// REMOVE_QUOTA (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_quota: Option<super::role_controls::RemoveQuota>,
    /// UPDATE_MAINTENANCE_SCHEDULE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_maintenance_schedule: Option<super::maintenance::UpdateMaintenanceSchedule>,
    /// START_MAINTENANCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_maintenance: Option<super::maintenance::Machines>,
    /// STOP_MAINTENANCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_maintenance: Option<super::maintenance::Machines>,
    /// DRAIN_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_agent: Option<super::maintenance::DrainAgent>,
    /// DEACTIVATE_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivate_agent: Option<super::maintenance::AgentRef>,
    /// REACTIVATE_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactivate_agent: Option<super::maintenance::AgentRef>,
    /// RESERVE_RESOURCES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_resources: Option<super::reservations::ReserveResources>,
    /// UNRESERVE_RESOURCES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve_resources: Option<super::reservations::UnreserveResources>,
    /// CREATE_VOLUMES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_volumes: Option<super::reservations::AgentVolumes>,
    /// DESTROY_VOLUMES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_volumes: Option<super::reservations::AgentVolumes>,
    /// GROW_VOLUME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_volume: Option<super::reservations::GrowVolumeCall>,
    /// SHRINK_VOLUME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_volume: Option<super::reservations::ShrinkVolumeCall>,
    /// UPDATE_AGENT (meso extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_agent: Option<super::update_agent::UpdateAgent>,
}

/// An agent operator call, with the payloads of the calls meso serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCall {
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: AgentCallType,
    /// GET_METRICS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetrics>,
    /// GET_CONTAINERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_containers: Option<GetContainers>,
    /// UPDATE_AGENT (meso extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_agent: Option<super::update_agent::UpdateAgent>,
}

/// The front door of the master's `POST /api/v1` (and `/api/v1/operator` and any other
/// path that longest-prefix matches it). Returns the call and the response encoding.
pub fn master_operator_request(
    method: &str,
    headers: &RequestHeaders,
    body: &[u8],
    limits: &Limits,
) -> Result<(MasterCall, MediaType), HttpError> {
    require_post(method)?;
    require_json_body(headers, false)?;
    let (call, has_payload): (MasterCall, bool) = decode_with_payload(body, limits)?;
    let invalid =
        |why: String| HttpError::bad_request(format!("Failed to validate master::Call: {why}"));
    if call.kind.payload_required() && !has_payload {
        return Err(invalid(format!(
            "Expecting '{}' to be present",
            call.kind.as_str().to_ascii_lowercase()
        )));
    }
    if let Some(t) = &call.teardown {
        t.framework_id
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
    }
    if let Some(m) = &call.mark_agent_gone {
        m.agent_id.validate().map_err(|e| invalid(e.to_string()))?;
    }
    let controlled = [
        call.drain_agent.as_ref().map(|d| &d.agent_id),
        call.deactivate_agent.as_ref().map(|d| &d.agent_id),
        call.reactivate_agent.as_ref().map(|d| &d.agent_id),
    ];
    for id in controlled.into_iter().flatten() {
        id.validate().map_err(|e| invalid(e.to_string()))?;
    }
    if let Some(u) = &call.update_agent {
        u.validate(true)?;
    }
    let accept = negotiate_response(headers)?;
    if let Some(reason) = call.kind.not_served_reason() {
        return Err(HttpError::not_implemented(format!(
            "{} is not implemented: {reason}",
            call.kind
        )));
    }
    Ok((call, accept))
}

/// The front door of the agent's `POST /api/v1`.
pub fn agent_operator_request(
    method: &str,
    headers: &RequestHeaders,
    body: &[u8],
    limits: &Limits,
) -> Result<(AgentCall, MediaType), HttpError> {
    require_post(method)?;
    require_json_body(headers, true)?;
    let (call, has_payload): (AgentCall, bool) = decode_with_payload(body, limits)?;
    if call.kind.payload_required() && !has_payload {
        return Err(HttpError::bad_request(format!(
            "Failed to validate agent::Call: Expecting '{}' to be present",
            call.kind.as_str().to_ascii_lowercase()
        )));
    }
    if let Some(u) = &call.update_agent {
        u.validate(false)?;
    }
    let accept = negotiate_response(headers)?;
    if let Some(reason) = call.kind.not_served_reason() {
        return Err(HttpError::not_implemented(format!(
            "{} is not implemented: {reason}",
            call.kind
        )));
    }
    Ok((call, accept))
}

/// Decodes an operator call and says whether its payload (the member named after its
/// type in lower case) is present and not `null`; the payloads of calls meso does not
/// serve are not modelled, so presence is read from the JSON object itself.
fn decode_with_payload<T: serde::de::DeserializeOwned>(
    body: &[u8],
    limits: &Limits,
) -> Result<(T, bool), HttpError> {
    let object: serde_json::Map<String, serde_json::Value> = decode_call(body, limits)?;
    let has_payload = object
        .get("type")
        .and_then(serde_json::Value::as_str)
        .and_then(|kind| object.get(&kind.to_ascii_lowercase()))
        .is_some_and(|payload| !payload.is_null());
    let call = serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| {
        HttpError::bad_request(format!("Failed to convert JSON into Call protobuf: {e}"))
    })?;
    Ok((call, has_payload))
}

/// The synchronous answer `{"type":"<KIND>","<kind>":<payload>}` as compact JSON, or
/// `{"type":"<KIND>"}` without a payload. `payload` must be compact JSON already.
pub fn operator_response(kind: &str, payload: Option<&str>) -> String {
    match payload {
        Some(p) => format!(r#"{{"type":"{kind}","{}":{p}}}"#, kind.to_ascii_lowercase()),
        None => format!(r#"{{"type":"{kind}"}}"#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> RequestHeaders {
        RequestHeaders::new().with("Content-Type", "application/json")
    }

    fn master(body: &str) -> Result<(MasterCall, MediaType), HttpError> {
        master_operator_request("POST", &headers(), body.as_bytes(), &Limits::default())
    }

    fn agent(body: &str) -> Result<(AgentCall, MediaType), HttpError> {
        agent_operator_request("POST", &headers(), body.as_bytes(), &Limits::default())
    }

    #[test]
    fn names_and_numbers_round_trip() {
        for kind in MasterCallType::ALL {
            assert_eq!(MasterCallType::from_name(kind.as_str()), Some(*kind));
        }
        for kind in AgentCallType::ALL {
            assert_eq!(AgentCallType::from_name(kind.as_str()), Some(*kind));
        }
        assert_eq!(MasterCallType::MarkAgentGone.number(), 32);
        assert_eq!(AgentCallType::GetContainers.number(), 10);
    }

    /// A body for `kind`: its payload (empty, or the one meso reads) when Mesos needs one.
    fn master_body(kind: MasterCallType) -> String {
        let lower = kind.as_str().to_ascii_lowercase();
        match kind {
            MasterCallType::Teardown => {
                r#"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"f"}}}"#.to_string()
            }
            MasterCallType::MarkAgentGone => {
                r#"{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"a"}}}"#
                    .to_string()
            }
            MasterCallType::SetQuota => {
                r#"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"r"}}}"#.to_string()
            }
            MasterCallType::RemoveQuota => {
                r#"{"type":"REMOVE_QUOTA","remove_quota":{"role":"r"}}"#.to_string()
            }
            MasterCallType::UpdateMaintenanceSchedule => {
                r#"{"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{}}}"#
                    .to_string()
            }
            MasterCallType::DrainAgent
            | MasterCallType::DeactivateAgent
            | MasterCallType::ReactivateAgent => {
                format!(r#"{{"type":"{kind}","{lower}":{{"agent_id":{{"value":"a"}}}}}}"#)
            }
            MasterCallType::ReserveResources | MasterCallType::UnreserveResources => format!(
                r#"{{"type":"{kind}","{lower}":{{"agent_id":{{"value":"a"}},"resources":[]}}}}"#
            ),
            MasterCallType::CreateVolumes | MasterCallType::DestroyVolumes => format!(
                r#"{{"type":"{kind}","{lower}":{{"agent_id":{{"value":"a"}},"volumes":[]}}}}"#
            ),
            MasterCallType::GrowVolume => {
                format!(r#"{{"type":"{kind}","{lower}":{{"volume":{DISK},"addition":{DISK}}}}}"#)
            }
            MasterCallType::ShrinkVolume => format!(
                r#"{{"type":"{kind}","{lower}":{{"volume":{DISK},"subtract":{{"value":1}}}}}}"#
            ),
            MasterCallType::UpdateAgent => {
                r#"{"type":"UPDATE_AGENT","update_agent":{"agent_id":{"value":"a"},"attributes":[]}}"#
                    .to_string()
            }
            k if k.payload_required() => format!(r#"{{"type":"{k}","{lower}":{{}}}}"#),
            k => format!(r#"{{"type":"{k}"}}"#),
        }
    }

    const DISK: &str = r#"{"name":"disk","type":"SCALAR","scalar":{"value":1}}"#;

    #[test]
    fn every_master_call_is_served_or_501() {
        for kind in MasterCallType::ALL {
            match (master(&master_body(*kind)), kind.not_served_reason()) {
                (Ok((call, MediaType::Json)), None) => assert_eq!(call.kind, *kind),
                (Err(e), Some(_)) => {
                    assert_eq!(e.status, 501, "{kind}");
                    assert!(e.body.starts_with(kind.as_str()), "{}", e.body);
                }
                (other, reason) => panic!("{kind}: {other:?} with reason {reason:?}"),
            }
        }
    }

    #[test]
    fn missing_or_null_payloads_are_400_before_501() {
        for kind in MasterCallType::ALL.iter().filter(|k| k.payload_required()) {
            let lower = kind.as_str().to_ascii_lowercase();
            let bare = master(&format!(r#"{{"type":"{kind}"}}"#)).unwrap_err();
            assert_eq!(
                (bare.status, bare.body),
                (
                    400,
                    format!("Failed to validate master::Call: Expecting '{lower}' to be present")
                )
            );
            let null = master(&format!(r#"{{"type":"{kind}","{lower}":null}}"#)).unwrap_err();
            assert_eq!(null.status, 400, "{kind} with a null payload");
        }
        for kind in AgentCallType::ALL.iter().filter(|k| k.payload_required()) {
            let e = agent(&format!(r#"{{"type":"{kind}"}}"#)).unwrap_err();
            assert_eq!(e.status, 400, "{kind}");
            assert!(
                e.body.starts_with("Failed to validate agent::Call"),
                "{}",
                e.body
            );
        }
        assert_eq!(master("[1]").unwrap_err().status, 400);
    }

    #[test]
    fn every_agent_call_is_served_or_501() {
        for kind in AgentCallType::ALL {
            let lower = kind.as_str().to_ascii_lowercase();
            let payload = match kind {
                AgentCallType::UpdateAgent => r#"{"attributes":[]}"#,
                _ => "{}",
            };
            let result = agent(&format!(r#"{{"type":"{kind}","{lower}":{payload}}}"#));
            match kind.not_served_reason() {
                None => assert_eq!(result.unwrap().0.kind, *kind),
                Some(_) => assert_eq!(result.unwrap_err().status, 501, "{kind}"),
            }
        }
    }

    #[test]
    fn master_rows() {
        let e = master_operator_request("GET", &headers(), b"{}", &Limits::default()).unwrap_err();
        assert_eq!((e.status, e.header("Allow")), (405, Some("POST")));
        let e = master_operator_request(
            "POST",
            &RequestHeaders::new(),
            br#"{"type":"GET_HEALTH"}"#,
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        let proto = RequestHeaders::new().with("Content-Type", "application/x-protobuf");
        let e = master_operator_request(
            "POST",
            &proto,
            br#"{"type":"GET_HEALTH"}"#,
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.status, 415);
        let no_json = headers().with("Accept", "application/x-protobuf");
        let e = master_operator_request(
            "POST",
            &no_json,
            br#"{"type":"GET_HEALTH"}"#,
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.status, 406);
        let e = master(r#"{"type":"GET_NOTHING"}"#).unwrap_err();
        assert!(e.status == 400 && e.body.contains("GET_NOTHING"), "{e}");
        let e = master(r#"{"type":"TEARDOWN"}"#).unwrap_err();
        assert_eq!(
            (e.status, e.body.as_str()),
            (
                400,
                "Failed to validate master::Call: Expecting 'teardown' to be present"
            )
        );
        let e = master(r#"{"type":"MARK_AGENT_GONE"}"#).unwrap_err();
        assert!(e.status == 400 && e.body.contains("mark_agent_gone"));
        let e = master(r#"{"type":"TEARDOWN","teardown":{}}"#).unwrap_err();
        assert!(e.status == 400 && e.body.contains("framework_id"), "{e}");
        let (call, _) = master(
            r#"{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":5000000000}}}"#,
        )
        .unwrap();
        assert_eq!(
            call.get_metrics
                .and_then(|m| m.timeout)
                .map(|t| t.nanoseconds),
            Some(5_000_000_000)
        );
    }

    #[test]
    fn agent_rows() {
        let recordio = RequestHeaders::new().with("Content-Type", "application/recordio");
        let e = agent_operator_request("POST", &recordio, b"", &Limits::default()).unwrap_err();
        assert_eq!(e.status, 415);
        let (call, _) =
            agent(r#"{"type":"GET_CONTAINERS","get_containers":{"show_nested":true}}"#).unwrap();
        assert_eq!(call.get_containers.and_then(|c| c.show_nested), Some(true));
    }

    #[test]
    fn response_envelope() {
        assert_eq!(
            operator_response("GET_HEALTH", Some(r#"{"healthy":true}"#)),
            r#"{"type":"GET_HEALTH","get_health":{"healthy":true}}"#
        );
        assert_eq!(
            operator_response("GET_HEALTH", None),
            r#"{"type":"GET_HEALTH"}"#
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_bodies_get_an_answer_not_a_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            if let Err(e) = master_operator_request("POST", &headers(), &body, &Limits::default()) {
                proptest::prop_assert!(matches!(e.status, 400 | 413 | 501), "status {}", e.status);
            }
            if let Err(e) = agent_operator_request("POST", &headers(), &body, &Limits::default()) {
                proptest::prop_assert!(matches!(e.status, 400 | 413 | 501), "status {}", e.status);
            }
        }
    }
}
