//! UPDATE_AGENT, a meso extension of the v1 operator API (Mesos has no such call): change a
//! running agent's total resources and its attributes without restarting it and without
//! touching a task. The same payload is served by the master's `POST /api/v1` (where
//! `agent_id` names the agent) and by the agent's own (where `agent_id`, if given, must be
//! the agent's):
//!
//! ```json
//! {"type": "UPDATE_AGENT",
//!  "update_agent": {"agent_id": {"value": "..."},
//!                   "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 8}}],
//!                   "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r2"}}],
//!                   "force": false}}
//! ```
//!
//! Either list may be left out (that part stays as it is). The pure decisions shared by
//! master and agent live here too: whether a new total still holds what the agent's tasks
//! use ([`shortfall`]), and the total the allocator works with while a forced shrink waits
//! for tasks to end ([`effective_total`]).
//!
//! Invariants: a request whose resources fail `Resources::validate`, carry an allocation, are
//! revocable or dynamically reserved (those belong to the reservation calls and to
//! oversubscription), or name no change at all is refused with a 400 naming the field.

use serde::{Deserialize, Serialize};

use super::error::HttpError;
use crate::attributes::Attributes;
use crate::json::opt_lenient;
use crate::v1::AgentId;
use crate::Resources;

/// The UPDATE_AGENT payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateAgent {
    /// The agent (required on the master; optional on the agent, where it must be its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The agent's new total resources (as `--resources` would give them); absent: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// The agent's new attributes (all of them); absent: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    /// Accept a total below what running tasks use: nothing is killed, and the agent offers
    /// nothing more until its usage falls below the new total.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub force: Option<bool>,
}

impl UpdateAgent {
    /// Checks the payload's own shape (not against any agent): 400 naming what is wrong.
    pub fn validate(&self, agent_id_required: bool) -> Result<(), HttpError> {
        let bad =
            |why: String| HttpError::bad_request(format!("Failed to validate UPDATE_AGENT: {why}"));
        match &self.agent_id {
            Some(id) => id.validate().map_err(|e| bad(format!("'agent_id': {e}")))?,
            None if agent_id_required => {
                return Err(bad("Expecting 'update_agent.agent_id' to be present".into()))
            }
            None => {}
        }
        if self.resources.is_none() && self.attributes.is_none() {
            return Err(bad(
                "Expecting 'update_agent.resources' or 'update_agent.attributes' (nothing to change)"
                    .into(),
            ));
        }
        if let Some(r) = &self.resources {
            r.validate()
                .map_err(|e| bad(format!("'update_agent.resources': {e}")))?;
            for res in r.iter() {
                let why = if res.allocation_role.is_some() {
                    Some("carries an 'allocation_info'")
                } else if res.revocable {
                    Some("is revocable")
                } else if res.is_dynamically_reserved() {
                    Some("is dynamically reserved (use RESERVE_RESOURCES)")
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(bad(format!(
                        "'update_agent.resources': resource '{res}' {why}; an agent's total \
                         holds only unreserved and statically reserved resources"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether the caller asked to accept a total below what tasks use.
    pub fn force(&self) -> bool {
        self.force.unwrap_or(false)
    }
}

/// What of `used` (the resources of the agent's tasks and executors, allocated or not)
/// `new_total` does not hold: empty when the new total is enough.
pub fn shortfall(new_total: &Resources, used: &Resources) -> Resources {
    used.unallocate() - new_total
}

/// The total the allocator is given for an agent whose requested total is `target` while
/// `held` (unallocated shapes) is in use or offered: `target` plus whatever of `held` it does
/// not cover, so that nothing beyond `target` is free to offer until `held` shrinks.
pub fn effective_total(target: &Resources, held: &Resources) -> Resources {
    let mut total = target.clone();
    total += &(held.unallocate() - target);
    total
}

/// The refusal of a shrink below what tasks use (409), naming the shortfall.
pub fn shortfall_error(agent: &str, new_total: &Resources, short: &Resources) -> HttpError {
    HttpError::new(
        409,
        format!(
            "UPDATE_AGENT refused: the new total '{new_total}' of agent {agent} is short of \
             '{short}' that its running tasks and executors use; wait for them to end, or \
             set 'force' to accept it (nothing is killed; no offers until usage falls)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    fn decode(json: &str) -> UpdateAgent {
        serde_json::from_str(json).expect("payload decodes")
    }

    #[test]
    fn the_payload_takes_v1_lists_and_either_may_be_absent() {
        let u = decode(
            r#"{"agent_id":{"value":"a-S0"},
                "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":8}}],
                "attributes":[{"name":"rack","type":"TEXT","text":{"value":"r2"}}],
                "force":"true"}"#,
        );
        assert_eq!(u.resources, Some(r("cpus:8")));
        assert_eq!(
            u.attributes.as_ref().map(|a| a.to_string()),
            Some("rack:r2".into())
        );
        assert!(u.force());
        assert_eq!(u.validate(true), Ok(()));
        let only_attributes = decode(r#"{"agent_id":{"value":"a"},"attributes":[]}"#);
        assert_eq!(only_attributes.validate(true), Ok(()));
        assert!(!only_attributes.force());
    }

    #[test]
    fn bad_payloads_are_refused_naming_the_field() {
        let e = decode(r#"{"resources":[]}"#).validate(true).unwrap_err();
        assert!(e.body.contains("agent_id"), "{}", e.body);
        assert_eq!(decode(r#"{"resources":[]}"#).validate(false), Ok(()));
        let e = decode(r#"{"agent_id":{"value":"a"}}"#)
            .validate(true)
            .unwrap_err();
        assert!(e.body.contains("nothing to change"), "{}", e.body);
        let e = decode(
            r#"{"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR",
                "scalar":{"value":1},"revocable":{}}]}"#,
        )
        .validate(true)
        .unwrap_err();
        assert!(e.body.contains("revocable"), "{}", e.body);
        assert_eq!(e.status, 400);
    }

    #[test]
    fn the_shortfall_is_what_tasks_use_beyond_the_new_total() {
        let used = r("cpus:3;mem:512").allocate("web");
        assert!(shortfall(&r("cpus:4;mem:1024"), &used).is_empty());
        assert_eq!(shortfall(&r("cpus:2;mem:1024"), &used), r("cpus:1"));
        assert_eq!(shortfall(&r("cpus:2"), &used), r("cpus:1;mem:512"));
        let e = shortfall_error("a", &r("cpus:2"), &r("cpus:1;mem:512"));
        assert_eq!(e.status, 409);
        assert!(e.body.contains("short of 'cpus:1; mem:512'"), "{}", e.body);
    }

    #[test]
    fn a_forced_total_covers_what_is_held_and_falls_to_the_target() {
        let target = r("cpus:2;mem:1024");
        assert_eq!(
            effective_total(&target, &r("cpus:3;mem:512")),
            r("cpus:3;mem:1024")
        );
        assert_eq!(effective_total(&target, &r("cpus:1")), target);
        assert_eq!(effective_total(&target, &Resources::new()), target);
    }
}
