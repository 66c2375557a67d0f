//! Internal messages between master, agents, framework drivers and executors, as serde
//! types for libprocess-rs frames (postcard).
//!
//! # Names
//! The runtime delivers a remote message to a process by name, so each message type has a
//! stable [`WireMessage::NAME`]. Names follow Mesos's internal protobuf names
//! (`mesos.internal.RegisterSlaveMessage`, ...) so that logs read like Mesos's; the Rust
//! types use today's vocabulary ("agent"). Messages Mesos does not have (e.g. [`NotLeader`])
//! live under `meso.`. Names never change once released: a renamed
//! message is a new message. [`ALL_NAMES`] lists every name (tested unique).
//!
//! With the `libprocess` feature (on by default) every message also implements
//! `libprocess::RemoteMessage` under the same name, so a process registers it with
//! `handlers.on::<RegisterAgent>()` and sends it with `ctx.send(&upid, message)`. The frame
//! body libprocess writes is the same postcard encoding as [`WireMessage::encode`].
//!
//! # Encoding
//! Frames are postcard, which is not self-describing. Ids, enums, `Resources`, numbers and
//! byte strings encode natively. The v1 types (`TaskInfo`, `FrameworkInfo`, `TaskStatus`,
//! `Offer`, ...) have JSON-only serde (omitted fields, lenient numbers), so fields holding
//! them use the [`as_json`] adapter: in a binary frame the value travels as its compact
//! JSON bytes and is decoded with [`crate::json::from_slice`] and its limits; in a
//! human-readable format (e.g. a JSON debug dump of a message) it is written inline.
//! This keeps a single source of truth for every v1 type's shape at the cost of some
//! bytes on messages that carry tasks or offers. A single `TaskInfo` (a task launch, a task
//! an agent reports when it re-registers) uses [`task_info`] instead: its ids and resources
//! travel natively and only its nested v1 values as JSON, because a failover decodes
//! 100,000 of them at once.

mod agent;
mod agent_config;
mod authentication;
mod executor;
mod framework;
mod master;
pub mod task_info;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use agent::*;
pub use agent_config::*;
pub use authentication::*;
pub use executor::*;
pub use framework::*;
pub use master::*;

use crate::error::{Error, Result};

/// A message that travels in a libprocess frame under a stable name.
pub trait WireMessage: Serialize + DeserializeOwned {
    /// The name the runtime routes on.
    const NAME: &'static str;

    /// Encodes the message body (postcard).
    fn encode(&self) -> Vec<u8> {
        // Serialising into a Vec cannot fail for these types: every sequence has a known
        // length and no Serialize impl in this crate returns an error.
        postcard::to_allocvec(self).expect("wire messages always serialise to postcard")
    }

    /// Decodes a message body; a malformed body is an [`Error::Wire`] naming the message.
    fn decode(bytes: &[u8]) -> Result<Self> {
        postcard::from_bytes(bytes).map_err(|e| Error::Wire {
            message_name: Self::NAME.to_string(),
            reason: e.to_string(),
        })
    }
}

macro_rules! wire_names {
    ($($ty:ident => $name:literal,)*) => {
        $(
            impl $crate::wire::WireMessage for $ty {
                const NAME: &'static str = $name;
            }

            #[cfg(feature = "libprocess")]
            impl libprocess::RemoteMessage for $ty {
                const NAME: &'static str = $name;
            }
        )*

        /// Every message name, for routing tables and the uniqueness test.
        pub const ALL_NAMES: &[&str] = &[$($name,)*];
    };
}

wire_names! {
    RegisterAgent => "mesos.internal.RegisterSlaveMessage",
    ReregisterAgent => "mesos.internal.ReregisterSlaveMessage",
    AgentRegistered => "mesos.internal.SlaveRegisteredMessage",
    AgentReregistered => "mesos.internal.SlaveReregisteredMessage",
    UnregisterAgent => "mesos.internal.UnregisterSlaveMessage",
    PingAgent => "mesos.internal.PingSlaveMessage",
    PongAgent => "mesos.internal.PongSlaveMessage",
    UpdateOversubscribedResources => "mesos.internal.UpdateSlaveMessage",
    RunTask => "mesos.internal.RunTaskMessage",
    RunTaskGroup => "mesos.internal.RunTaskGroupMessage",
    KillTask => "mesos.internal.KillTaskMessage",
    StatusUpdateMessage => "mesos.internal.StatusUpdateMessage",
    StatusUpdateAcknowledgement => "mesos.internal.StatusUpdateAcknowledgementMessage",
    ShutdownExecutor => "mesos.internal.ShutdownExecutorMessage",
    ShutdownFramework => "mesos.internal.ShutdownFrameworkMessage",
    ExitedExecutor => "mesos.internal.ExitedExecutorMessage",
    CheckpointResources => "mesos.internal.CheckpointResourcesMessage",
    ShutdownAgent => "mesos.internal.ShutdownMessage",
    RegisterFramework => "mesos.internal.RegisterFrameworkMessage",
    ReregisterFramework => "mesos.internal.ReregisterFrameworkMessage",
    FrameworkRegistered => "mesos.internal.FrameworkRegisteredMessage",
    FrameworkReregistered => "mesos.internal.FrameworkReregisteredMessage",
    FrameworkError => "mesos.internal.FrameworkErrorMessage",
    UnregisterFramework => "mesos.internal.UnregisterFrameworkMessage",
    DeactivateFramework => "mesos.internal.DeactivateFrameworkMessage",
    ResourceOffers => "mesos.internal.ResourceOffersMessage",
    RescindResourceOffer => "mesos.internal.RescindResourceOfferMessage",
    LaunchTasks => "mesos.internal.LaunchTasksMessage",
    ReviveOffers => "mesos.internal.ReviveOffersMessage",
    ReconcileTasks => "mesos.internal.ReconcileTasksMessage",
    LostAgent => "mesos.internal.LostSlaveMessage",
    FrameworkToExecutor => "mesos.internal.FrameworkToExecutorMessage",
    ExecutorToFramework => "mesos.internal.ExecutorToFrameworkMessage",
    SchedulerCall => "mesos.scheduler.Call",
    RegisterExecutor => "mesos.internal.RegisterExecutorMessage",
    ExecutorRegistered => "mesos.internal.ExecutorRegisteredMessage",
    NotLeader => "meso.master.NotLeader",
    InverseOffers => "meso.internal.InverseOffersMessage",
    RescindInverseOffer => "mesos.internal.RescindInverseOfferMessage",
    DrainAgent => "mesos.internal.DrainSlaveMessage",
    UpdateAgentConfig => "meso.internal.UpdateAgentConfigMessage",
    AgentConfigUpdated => "meso.internal.AgentConfigUpdatedMessage",
    OperationApplied => "meso.internal.OperationAppliedMessage",
    Authenticate => "mesos.internal.AuthenticateMessage",
    AuthenticationMechanisms => "mesos.internal.AuthenticationMechanismsMessage",
    AuthenticationStart => "mesos.internal.AuthenticationStartMessage",
    AuthenticationStep => "mesos.internal.AuthenticationStepMessage",
    AuthenticationCompleted => "mesos.internal.AuthenticationCompletedMessage",
    AuthenticationFailed => "mesos.internal.AuthenticationFailedMessage",
    AuthenticationError => "mesos.internal.AuthenticationErrorMessage",
}

/// Serde adapter (`#[serde(with = "crate::wire::as_json")]`) for JSON-only v1 values inside
/// binary frames: compact JSON bytes when the format is binary, the value inline when it
/// is human-readable.
pub mod as_json {
    use serde::de::{DeserializeOwned, Visitor};
    use serde::{Deserializer, Serialize, Serializer};

    /// Writes the value.
    pub fn serialize<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            value.serialize(s)
        } else {
            s.serialize_bytes(&crate::json::to_vec(value))
        }
    }

    /// Parses the JSON bytes where the format hands them over (borrowed from the frame when
    /// it can), without copying them first.
    struct JsonBytes<T>(std::marker::PhantomData<fn() -> T>);

    impl<'de, T: DeserializeOwned> Visitor<'de> for JsonBytes<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<T, E> {
            crate::json::from_slice(v, &crate::json::Limits::default()).map_err(E::custom)
        }
    }

    /// Reads the value, applying the default JSON input limits in binary formats.
    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        if d.is_human_readable() {
            T::deserialize(d)
        } else {
            d.deserialize_bytes(JsonBytes(std::marker::PhantomData))
        }
    }
}

#[cfg(test)]
mod tests;
