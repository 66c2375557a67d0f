//! Offer operations known to a master or an agent, as the operator call GET_OPERATIONS
//! shows them (Mesos's `mesos.v1.Operation`: the framework, the agent, the operation as
//! sent, its latest status, every status, an internal uuid).
//!
//! meso applies RESERVE, UNRESERVE, CREATE, DESTROY, GROW_VOLUME and SHRINK_VOLUME
//! speculatively, as Mesos does for an agent's own resources: the master's books change
//! and the agent gets its checkpoint at once, so an operation enters the book already
//! `OPERATION_FINISHED`, with the resources it produced as `converted_resources`. Mesos
//! forgets a finished operation that asked for no feedback; meso keeps the latest
//! [`OperationBook::CAPACITY`] of them (oldest dropped first) so an operator can see what
//! was applied. The book lives in memory: after a failover the new master starts empty.
//!
//! Invariant: the book never holds more than its capacity, and its order is the order in
//! which operations were recorded.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::offer::{Operation, OperationState, OperationStatus, Uuid};
use super::{AgentId, FrameworkId};
use crate::Resources;

/// One operation (`mesos.v1.Operation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRecord {
    /// The framework whose ACCEPT carried it; none for an operator's call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// The agent it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The operation as sent.
    pub info: Operation,
    /// The newest of `statuses`.
    pub latest_status: OperationStatus,
    /// Every status, oldest first.
    pub statuses: Vec<OperationStatus>,
    /// The internal id (independent of the framework's optional operation id).
    pub uuid: Uuid,
}

impl OperationRecord {
    /// An operation applied at once: one `OPERATION_FINISHED` status naming what it
    /// produced. `uuid` is 16 random bytes from the caller's seam.
    pub fn finished(
        framework_id: Option<FrameworkId>,
        agent_id: AgentId,
        info: Operation,
        converted: Resources,
        uuid: [u8; 16],
    ) -> Self {
        let status = OperationStatus {
            operation_id: info.id.clone(),
            state: OperationState::Finished,
            message: None,
            converted_resources: converted,
            uuid: Some(Uuid {
                value: uuid.to_vec(),
            }),
            agent_id: Some(agent_id.clone()),
        };
        OperationRecord {
            framework_id,
            agent_id: Some(agent_id),
            info,
            latest_status: status.clone(),
            statuses: vec![status],
            uuid: Uuid {
                value: uuid.to_vec(),
            },
        }
    }
}

/// The bounded record of operations (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct OperationBook {
    records: VecDeque<OperationRecord>,
}

impl OperationBook {
    /// How many operations are kept.
    pub const CAPACITY: usize = 1000;

    /// Records `record`, dropping the oldest when full.
    pub fn record(&mut self, record: OperationRecord) {
        if self.records.len() == Self::CAPACITY {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// Every operation, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &OperationRecord> {
        self.records.iter()
    }

    /// How many are kept.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Forgets the operations of `agent` (it was removed).
    pub fn forget_agent(&mut self, agent: &AgentId) {
        self.records
            .retain(|r| r.agent_id.as_ref().is_none_or(|a| a != agent));
    }
}

/// The GET_OPERATIONS payload, `{"operations": [...]}`, for `records` (compact JSON).
pub fn get_operations_json<'a>(records: impl Iterator<Item = &'a OperationRecord>) -> String {
    #[derive(Serialize)]
    struct GetOperations<'a> {
        operations: Vec<&'a OperationRecord>,
    }
    serde_json::to_string(&GetOperations {
        operations: records.collect(),
    })
    .expect("operation records always serialise to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::ReservationInfo;

    fn reserve(id: Option<&str>) -> Operation {
        let mut json = serde_json::json!({
            "type": "RESERVE",
            "reserve": {"resources": []}
        });
        if let Some(id) = id {
            json["id"] = serde_json::json!({"value": id});
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_finished_record_has_mesos_shape() {
        let produced = Resources::parse("cpus:1", "*")
            .unwrap()
            .push_reservation(&ReservationInfo::dynamically("ops", None));
        let r = OperationRecord::finished(
            Some(FrameworkId::new("fw")),
            AgentId::new("a1"),
            reserve(Some("op-1")),
            produced,
            [7; 16],
        );
        let json: serde_json::Value =
            serde_json::from_str(&get_operations_json(std::iter::once(&r))).unwrap();
        let op = &json["operations"][0];
        assert_eq!(op["framework_id"]["value"], "fw");
        assert_eq!(op["agent_id"]["value"], "a1");
        assert_eq!(op["info"]["type"], "RESERVE");
        assert_eq!(op["latest_status"]["state"], "OPERATION_FINISHED");
        assert_eq!(op["latest_status"]["operation_id"]["value"], "op-1");
        assert_eq!(op["latest_status"]["agent_id"]["value"], "a1");
        assert_eq!(
            op["latest_status"]["converted_resources"][0]["name"],
            "cpus"
        );
        assert_eq!(op["statuses"].as_array().unwrap().len(), 1);
        // UUID messages carry their bytes in Base64.
        assert_eq!(op["uuid"]["value"], "BwcHBwcHBwcHBwcHBwcHBw==");
        let back: OperationRecord = serde_json::from_value(op.clone()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn the_book_keeps_the_newest_and_forgets_removed_agents() {
        let mut book = OperationBook::default();
        for i in 0..OperationBook::CAPACITY + 5 {
            let agent = if i % 2 == 0 { "even" } else { "odd" };
            let mut uuid = [0; 16];
            uuid[..8].copy_from_slice(&(i as u64).to_le_bytes());
            book.record(OperationRecord::finished(
                None,
                AgentId::new(agent),
                reserve(None),
                Resources::new(),
                uuid,
            ));
        }
        assert_eq!(book.len(), OperationBook::CAPACITY);
        let first = &book.iter().next().unwrap().uuid.value;
        assert_eq!(
            first[..8],
            5u64.to_le_bytes(),
            "the five oldest were dropped"
        );
        book.forget_agent(&AgentId::new("odd"));
        assert!(book
            .iter()
            .all(|r| r.agent_id == Some(AgentId::new("even"))));
        assert_eq!(book.len(), OperationBook::CAPACITY / 2);
    }
}
