//! Id wrappers: `{"value": "..."}` in JSON, like Mesos's FrameworkID, AgentID, OfferID ...
//!
//! Each id is a newtype over `String` so that a task id cannot be passed where an agent id
//! is expected. `validate` applies the id rules of [`crate::ids::validate_id`].

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            /// The id text.
            pub value: String,
        }

        impl $name {
            /// Wraps a string.
            pub fn new(value: impl Into<String>) -> Self {
                $name { value: value.into() }
            }

            /// The id text.
            pub fn as_str(&self) -> &str {
                &self.value
            }

            /// Checks the id rules (non-empty, bounded, no `/`, `\` or control characters,
            /// not `.` or `..`); the error names the id.
            pub fn validate(&self) -> crate::Result<()> {
                crate::ids::validate_id($kind, &self.value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name::new(value)
            }
        }
    };
}

id_type!(
    /// A framework's id (`<master id>-<4-digit counter>`).
    FrameworkId,
    "framework id"
);
id_type!(
    /// An agent's id (`<master id>-S<n>`).
    AgentId,
    "agent id"
);
id_type!(
    /// An offer's id (`<master id>-O<n>`).
    OfferId,
    "offer id"
);
id_type!(
    /// A task's id, chosen by the framework.
    TaskId,
    "task id"
);
id_type!(
    /// An executor's id, chosen by the framework.
    ExecutorId,
    "executor id"
);
id_type!(
    /// An operation's id, chosen by the framework.
    OperationId,
    "operation id"
);
id_type!(
    /// A resource provider's id.
    ResourceProviderId,
    "resource provider id"
);

/// A container's id: a UUID, with an optional parent for nested containers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerId {
    /// The id text.
    pub value: String,
    /// The parent container, for nested containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Box<ContainerId>>,
}

impl ContainerId {
    /// A top-level container id.
    pub fn new(value: impl Into<String>) -> Self {
        ContainerId {
            value: value.into(),
            parent: None,
        }
    }
}
