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

impl FrameworkId {
    /// The id a master gives its `n`-th framework: `<master id>-<n, 4 digits>`.
    pub fn nth(master_id: &str, n: u64) -> Self {
        FrameworkId::new(format!("{master_id}-{n:04}"))
    }
}

impl AgentId {
    /// The id a master gives its `n`-th agent: `<master id>-S<n>`.
    pub fn nth(master_id: &str, n: u64) -> Self {
        AgentId::new(format!("{master_id}-S{n}"))
    }
}

impl OfferId {
    /// The id of a master's `n`-th offer: `<master id>-O<n>`.
    pub fn nth(master_id: &str, n: u64) -> Self {
        OfferId::new(format!("{master_id}-O{n}"))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_generated_ids_have_mesos_formats_and_are_valid() {
        let master = "b5eac2c5-609b-4ca1-a352-61941702fc9e";
        let f = FrameworkId::nth(master, 7);
        assert_eq!(f.as_str(), "b5eac2c5-609b-4ca1-a352-61941702fc9e-0007");
        assert_eq!(
            FrameworkId::nth(master, 12345).as_str(),
            format!("{master}-12345")
        );
        assert_eq!(AgentId::nth(master, 0).as_str(), format!("{master}-S0"));
        assert_eq!(OfferId::nth(master, 42).as_str(), format!("{master}-O42"));
        f.validate().unwrap();
        AgentId::nth(master, u64::MAX).validate().unwrap();
        let err = TaskId::new("a/b").validate().unwrap_err().to_string();
        assert!(err.contains("task id 'a/b'"), "{err}");
    }
}
