//! The Mesos v1 types, with JSON exactly as Mesos writes and reads it.
//!
//! # JSON mapping (stout's, see the HTTP reference §0.2)
//! * keys are the proto field names (snake_case); enums are their names (`"TASK_RUNNING"`);
//!   `bytes` are standard Base64; 64-bit integers are JSON numbers;
//! * on input, numbers and bools may also be strings (`"5"`, `"Infinity"`), `null` means
//!   unset, unknown keys are ignored, a missing required field is an error naming it
//!   (serde's "missing field `user`"), an unknown name in a required enum field is an error
//!   naming it, and an unknown name in an optional enum field is dropped;
//! * on output, unset optional fields and empty repeated fields are omitted, and fields with
//!   a Mesos `[default = ...]` are always written (`shell: true`, `failover_timeout: 0.0`,
//!   `refuse_seconds: 5.0`, `port: 5051`, `extract: true`, ...). Output is compact.
//!
//! # These serde impls are JSON-only
//! They rely on omitted fields, `deserialize_any` (lenient numbers) and Base64 strings,
//! which a non-self-describing binary format such as postcard cannot decode. Wire messages
//! (`crate::wire`) therefore carry v1 values through the [`crate::wire::as_json`] adapter,
//! which embeds their JSON bytes in the postcard frame; `Resources` and `Resource` are the
//! exception and encode natively in both formats (they choose by
//! `Serializer::is_human_readable`). Decode untrusted JSON with [`crate::json::from_slice`].

/// Declares a Mesos enum: variants with their proto names and numbers, `as_str`, `number`,
/// `from_name`, `Display`, and serde as the name (unknown names are an error naming them).
macro_rules! mesos_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($text:literal, $num:literal), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The proto name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The proto number.
            pub fn number(self) -> i32 {
                match self { $($name::$variant => $num,)* }
            }

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

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_name(&name).ok_or_else(|| {
                    <D::Error as serde::de::Error>::custom(format!(
                        "unknown {} '{}'", stringify!($name), name
                    ))
                })
            }
        }
    };
}

pub mod checks;
pub mod common;
pub mod executor;
pub mod framework;
pub mod ids;
pub mod image;
pub mod offer;
pub mod operation_book;
mod operations;
mod rootfs;
pub mod scheduler;
pub mod status;
pub mod task;

pub use checks::{CheckStatusCommand, CheckStatusHttp, CheckStatusInfo, CheckStatusTcp};
pub use common::{Address, DurationInfo, TimeInfo, Unavailability, Url};
pub use framework::{
    AgentCapability, AgentCapabilityType, AgentInfo, FrameworkCapability, FrameworkCapabilityType,
    FrameworkInfo, MasterCapability, MasterCapabilityType, MasterInfo,
};
pub use ids::{
    AgentId, ContainerId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
pub use image::{Image, ImageType, MesosInfo, RootfsImage};
pub use offer::{
    Filters, GrowVolume, InverseOffer, Offer, Operation, OperationState, OperationStatus,
    OperationType, ScalarValue, ShrinkVolume,
};
pub use status::{TaskState, TaskStatus, TaskStatusReason, TaskStatusSource};
pub use task::{
    CheckCommand, CheckHttp, CheckInfo, CheckTcp, CheckType, CommandInfo, CommandUri,
    ContainerInfo, ContainerType, EnvironmentVariable, ExecutorInfo, ExecutorType, HealthCheck,
    HealthCheckType, KillPolicy, TaskGroupInfo, TaskInfo,
};

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod round_trips;
#[cfg(test)]
mod tests;
