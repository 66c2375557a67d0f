//! The allocator's error type: every rejected input names what was wrong and the value.

use thiserror::Error;

/// Why the allocator refused a call. The allocator's state is unchanged when a call fails.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AllocatorError {
    /// Resources (or their text) were rejected by `meso_api`.
    #[error("invalid resources: {0}")]
    InvalidResources(#[from] meso_api::Error),
    /// An agent reported a scalar too large to account for safely.
    #[error("resource {resource} is too large: at most {max_milli} thousandths per resource")]
    ScalarTooLarge {
        /// The resource, rendered.
        resource: String,
        /// The largest accepted amount, in thousandths.
        max_milli: i64,
    },
    /// A quantity list held something other than unreserved scalars.
    #[error("{input:?} is not a list of quantities: {resource} is not an unreserved scalar")]
    NotAQuantity {
        /// The text given.
        input: String,
        /// The offending resource.
        resource: String,
    },
    /// A role name broke the naming rules.
    #[error("invalid role name {role:?}: {reason}")]
    InvalidRoleName {
        /// The name given.
        role: String,
        /// Which rule it broke.
        reason: String,
    },
    /// A resource name was used with two different kinds (scalar, ranges, set).
    #[error("resource {name:?} is a {expected} elsewhere but was given as a {found}")]
    KindMismatch {
        /// Resource name.
        name: String,
        /// Kind first seen.
        expected: &'static str,
        /// Kind given now.
        found: &'static str,
    },
    /// The agent id is not known.
    #[error("unknown agent {agent:?}")]
    UnknownAgent {
        /// Agent id.
        agent: String,
    },
    /// The agent id is already known.
    #[error("agent {agent:?} was already added")]
    DuplicateAgent {
        /// Agent id.
        agent: String,
    },
    /// The framework id is not known.
    #[error("unknown framework {framework:?}")]
    UnknownFramework {
        /// Framework id.
        framework: String,
    },
    /// The framework id is already known.
    #[error("framework {framework:?} was already added")]
    DuplicateFramework {
        /// Framework id.
        framework: String,
    },
    /// A weight was zero, negative or not finite.
    #[error("invalid weight {weight} for role {role:?}: must be finite and positive")]
    InvalidWeight {
        /// Role name.
        role: String,
        /// The weight given.
        weight: f64,
    },
    /// A refuse duration was negative or not finite.
    #[error("invalid refuse_seconds {value}: must be a non-negative number")]
    InvalidRefuseSeconds {
        /// The value given.
        value: f64,
    },
    /// A quota was inconsistent.
    #[error("invalid quota for role {role:?}: {reason}")]
    InvalidQuota {
        /// Role name.
        role: String,
        /// What was inconsistent.
        reason: String,
    },
    /// Resources given back (or used) exceed what is allocated on that agent.
    #[error(
        "framework {framework:?} role {role:?} on agent {agent:?} does not hold {resource}: \
         it cannot be recovered"
    )]
    NotAllocated {
        /// Framework id.
        framework: String,
        /// Agent id.
        agent: String,
        /// Allocation role.
        role: String,
        /// The resource that does not fit, rendered.
        resource: String,
    },
    /// Resources said to be in use do not fit in the agent's free resources.
    #[error("agent {agent:?} has no free {resource} to account as used")]
    NotAvailable {
        /// Agent id.
        agent: String,
        /// The resource that does not fit, rendered.
        resource: String,
    },
    /// An operation on an agent's unallocated resources names resources that are not
    /// free there.
    #[error(
        "agent {agent:?} has no unallocated {resource}: it is offered, in use, or not on the agent"
    )]
    NotFree {
        /// Agent id.
        agent: String,
        /// The first resource that is not free, rendered.
        resource: String,
    },
    /// A reserved resource was allocated to a role outside its reservation's subtree.
    #[error("resource {resource} is reserved for role {reservation:?} and cannot be allocated to role {role:?}")]
    ReservationMismatch {
        /// The resource, rendered.
        resource: String,
        /// The reservation's role.
        reservation: String,
        /// The allocation role given.
        role: String,
    },
    /// A new agent total is smaller than what is already allocated on it.
    #[error("agent {agent:?}: new total lacks {resource} that is allocated")]
    TotalBelowAllocated {
        /// Agent id.
        agent: String,
        /// The resource that no longer fits, rendered.
        resource: String,
    },
}
