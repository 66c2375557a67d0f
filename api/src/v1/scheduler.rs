//! The v1 scheduler API envelopes: `Call` (framework to master) and `Event` (master to
//! framework), `{"type": T, "<payload>": {...}}`.

use serde::{Deserialize, Serialize};

use super::framework::{FrameworkInfo, MasterInfo};
use super::ids::{AgentId, ExecutorId, FrameworkId, OfferId, OperationId, TaskId};
use super::offer::{Filters, InverseOffer, Offer, Operation, OperationStatus};
use super::status::TaskStatus;
use super::task::KillPolicy;
use crate::json::{null_as_default, opt_lenient};
use crate::resources::Resources;

mesos_enum!(
    /// Kind of scheduler call.
    CallType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Open the event stream.
        Subscribe = ("SUBSCRIBE", 1),
        /// Remove the framework.
        Teardown = ("TEARDOWN", 2),
        /// Accept offers with operations.
        Accept = ("ACCEPT", 3),
        /// Decline offers.
        Decline = ("DECLINE", 4),
        /// Accept inverse offers.
        AcceptInverseOffers = ("ACCEPT_INVERSE_OFFERS", 13),
        /// Decline inverse offers.
        DeclineInverseOffers = ("DECLINE_INVERSE_OFFERS", 14),
        /// Clear filters and resume offers.
        Revive = ("REVIVE", 5),
        /// Kill a task.
        Kill = ("KILL", 6),
        /// Shut an executor down.
        Shutdown = ("SHUTDOWN", 7),
        /// Acknowledge a status update.
        Acknowledge = ("ACKNOWLEDGE", 8),
        /// Acknowledge an operation status update.
        AcknowledgeOperationStatus = ("ACKNOWLEDGE_OPERATION_STATUS", 15),
        /// Ask for task states.
        Reconcile = ("RECONCILE", 9),
        /// Ask for operation states.
        ReconcileOperations = ("RECONCILE_OPERATIONS", 16),
        /// Send a message to an executor.
        Message = ("MESSAGE", 10),
        /// Request resources (unused by the allocator).
        Request = ("REQUEST", 11),
        /// Stop offers.
        Suppress = ("SUPPRESS", 12),
        /// Change FrameworkInfo.
        UpdateFramework = ("UPDATE_FRAMEWORK", 17),
    }
);

/// SUBSCRIBE (and UPDATE_FRAMEWORK) payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// The framework (required).
    pub framework_info: FrameworkInfo,
    /// Roles whose offers start suppressed.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub suppressed_roles: Vec<String>,
}

/// ACCEPT payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Accept {
    /// Offers to use.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offer_ids: Vec<OfferId>,
    /// Operations to apply, in order.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub operations: Vec<Operation>,
    /// Filters for what is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// DECLINE payload (also ACCEPT/DECLINE_INVERSE_OFFERS with inverse offer ids).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Decline {
    /// Offers to decline.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offer_ids: Vec<OfferId>,
    /// Filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// ACCEPT_INVERSE_OFFERS and DECLINE_INVERSE_OFFERS payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InverseOffers {
    /// Inverse offers.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offer_ids: Vec<OfferId>,
    /// Filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// REVIVE and SUPPRESS payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Roles {
    /// Roles (empty means all of the framework's roles).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
}

/// KILL payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    /// Task (required).
    pub task_id: TaskId,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Overrides the task's kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// SHUTDOWN payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shutdown {
    /// Executor (required).
    pub executor_id: ExecutorId,
    /// Agent (required).
    pub agent_id: AgentId,
}

/// ACKNOWLEDGE payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Task (required).
    pub task_id: TaskId,
    /// The status update's uuid, 16 bytes (required).
    #[serde(with = "crate::json::base64_bytes")]
    pub uuid: Vec<u8>,
}

/// ACKNOWLEDGE_OPERATION_STATUS payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeOperationStatus {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The update's uuid (required).
    #[serde(with = "crate::json::base64_bytes")]
    pub uuid: Vec<u8>,
    /// Operation (required).
    pub operation_id: OperationId,
}

/// One task to reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileTask {
    /// Task (required).
    pub task_id: TaskId,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}

/// RECONCILE payload; no tasks means implicit reconciliation of all.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reconcile {
    /// Tasks.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<ReconcileTask>,
}

/// One operation to reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileOperation {
    /// Operation (required).
    pub operation_id: OperationId,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}

/// RECONCILE_OPERATIONS payload; no operations means all.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReconcileOperations {
    /// Operations.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub operations: Vec<ReconcileOperation>,
}

/// One resource request (ignored by the allocator, as in Mesos).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceRequest {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Resources wanted.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
}

/// REQUEST payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Requests {
    /// Requests.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub requests: Vec<ResourceRequest>,
}

/// MESSAGE payload (call and event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Executor (required).
    pub executor_id: ExecutorId,
    /// Data (required).
    #[serde(with = "crate::json::base64_bytes")]
    pub data: Vec<u8>,
}

/// A scheduler call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Framework (required except on a first SUBSCRIBE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: CallType,
    /// SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// ACCEPT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Accept>,
    /// DECLINE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline: Option<Decline>,
    /// ACCEPT_INVERSE_OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_inverse_offers: Option<InverseOffers>,
    /// DECLINE_INVERSE_OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_inverse_offers: Option<InverseOffers>,
    /// REVIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revive: Option<Roles>,
    /// KILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    /// SHUTDOWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    /// ACKNOWLEDGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Acknowledge>,
    /// ACKNOWLEDGE_OPERATION_STATUS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_operation_status: Option<AcknowledgeOperationStatus>,
    /// RECONCILE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<Reconcile>,
    /// RECONCILE_OPERATIONS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_operations: Option<ReconcileOperations>,
    /// REQUEST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Requests>,
    /// MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// SUPPRESS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress: Option<Roles>,
    /// UPDATE_FRAMEWORK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_framework: Option<Subscribe>,
}

impl Call {
    /// A call of `kind` with no payload.
    pub fn new(kind: CallType, framework_id: Option<FrameworkId>) -> Self {
        Call {
            framework_id,
            kind,
            subscribe: None,
            accept: None,
            decline: None,
            accept_inverse_offers: None,
            decline_inverse_offers: None,
            revive: None,
            kill: None,
            shutdown: None,
            acknowledge: None,
            acknowledge_operation_status: None,
            reconcile: None,
            reconcile_operations: None,
            request: None,
            message: None,
            suppress: None,
            update_framework: None,
        }
    }

    /// Mesos's `scheduler::call::validate`: a known type; SUBSCRIBE carries `subscribe`
    /// whose framework id (if any) equals `framework_id`; every other call carries
    /// `framework_id` and its own payload; ACKNOWLEDGE's uuid is 16 bytes. The error names
    /// the call type and the rule.
    pub fn validate(&self) -> crate::Result<()> {
        let fail = |reason: &str| crate::Error::Invalid {
            what: format!("scheduler call {}", self.kind),
            reason: reason.to_string(),
        };
        if self.kind == CallType::Unknown {
            return Err(fail("unknown call type"));
        }
        if self.kind == CallType::Subscribe {
            let subscribe = self
                .subscribe
                .as_ref()
                .ok_or_else(|| fail("expecting 'subscribe' to be present"))?;
            if subscribe.framework_info.id != self.framework_id {
                return Err(fail(
                    "'framework_id' differs from 'subscribe.framework_info.id'",
                ));
            }
            return subscribe.framework_info.validate();
        }
        let framework_id = self
            .framework_id
            .as_ref()
            .ok_or_else(|| fail("expecting 'framework_id' to be present"))?;
        framework_id.validate()?;
        let has_payload = match self.kind {
            CallType::Teardown => true,
            CallType::Request => self.request.is_some(),
            CallType::Revive | CallType::Suppress => true,
            CallType::Reconcile => self.reconcile.is_some(),
            CallType::Accept => self.accept.is_some(),
            CallType::Decline => self.decline.is_some(),
            CallType::AcceptInverseOffers => self.accept_inverse_offers.is_some(),
            CallType::DeclineInverseOffers => self.decline_inverse_offers.is_some(),
            CallType::Kill => self.kill.is_some(),
            CallType::Shutdown => self.shutdown.is_some(),
            CallType::Acknowledge => self.acknowledge.is_some(),
            CallType::AcknowledgeOperationStatus => self
                .acknowledge_operation_status
                .as_ref()
                .is_some_and(|a| a.agent_id.is_some()),
            CallType::Message => self.message.is_some(),
            CallType::UpdateFramework => self.update_framework.is_some(),
            CallType::ReconcileOperations => self.reconcile_operations.is_some(),
            CallType::Subscribe | CallType::Unknown => true,
        };
        if !has_payload {
            return Err(fail("missing the payload for its type"));
        }
        if let Some(ack) = &self.acknowledge {
            if ack.uuid.len() != 16 {
                return Err(fail(&format!(
                    "uuid must be 16 bytes, got {}",
                    ack.uuid.len()
                )));
            }
        }
        Ok(())
    }
}

mesos_enum!(
    /// Kind of scheduler event.
    EventType {
        /// Unknown.
        Unknown = ("UNKNOWN", 0),
        /// Subscription accepted.
        Subscribed = ("SUBSCRIBED", 1),
        /// New offers.
        Offers = ("OFFERS", 2),
        /// New inverse offers.
        InverseOffers = ("INVERSE_OFFERS", 9),
        /// An offer is withdrawn.
        Rescind = ("RESCIND", 3),
        /// An inverse offer is withdrawn.
        RescindInverseOffer = ("RESCIND_INVERSE_OFFER", 10),
        /// A task status update.
        Update = ("UPDATE", 4),
        /// An operation status update.
        UpdateOperationStatus = ("UPDATE_OPERATION_STATUS", 11),
        /// A message from an executor.
        Message = ("MESSAGE", 5),
        /// An agent or executor failed.
        Failure = ("FAILURE", 6),
        /// An error; the stream closes.
        Error = ("ERROR", 7),
        /// Keep-alive.
        Heartbeat = ("HEARTBEAT", 8),
    }
);

/// SUBSCRIBED payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// The framework's id (required).
    pub framework_id: FrameworkId,
    /// Seconds between heartbeats.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub heartbeat_interval_seconds: Option<f64>,
    /// The leading master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
}

/// OFFERS payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Offers {
    /// Offers.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offers: Vec<Offer>,
}

/// INVERSE_OFFERS payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InverseOffersEvent {
    /// Inverse offers.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offers: Vec<InverseOffer>,
}

/// RESCIND payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescind {
    /// The offer (required).
    pub offer_id: OfferId,
}

/// RESCIND_INVERSE_OFFER payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescindInverseOffer {
    /// The inverse offer (required).
    pub inverse_offer_id: OfferId,
}

/// UPDATE payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The status (required).
    pub status: TaskStatus,
}

/// UPDATE_OPERATION_STATUS payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOperationStatus {
    /// The status (required).
    pub status: OperationStatus,
}

/// FAILURE payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Executor (set when an executor exited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Exit status (wait status) of the executor.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i32>,
}

/// ERROR payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// What went wrong (required).
    pub message: String,
}

/// A scheduler event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Kind (required).
    #[serde(rename = "type")]
    pub kind: EventType,
    /// SUBSCRIBED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    /// OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Offers>,
    /// INVERSE_OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse_offers: Option<InverseOffersEvent>,
    /// RESCIND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind: Option<Rescind>,
    /// RESCIND_INVERSE_OFFER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind_inverse_offer: Option<RescindInverseOffer>,
    /// UPDATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    /// UPDATE_OPERATION_STATUS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_operation_status: Option<UpdateOperationStatus>,
    /// MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// FAILURE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorEvent>,
}

impl Event {
    /// An event of `kind` with no payload (e.g. HEARTBEAT).
    pub fn new(kind: EventType) -> Self {
        Event {
            kind,
            subscribed: None,
            offers: None,
            inverse_offers: None,
            rescind: None,
            rescind_inverse_offer: None,
            update: None,
            update_operation_status: None,
            message: None,
            failure: None,
            error: None,
        }
    }
}
