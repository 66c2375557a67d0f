//! Outstanding offers: what the master has offered to which framework, on which agent and
//! for which role, until the offer is used, declined, rescinded or times out.
//!
//! Invariant: every outstanding offer's resources are held by its framework in the
//! allocator; removing an offer from the book is the caller's cue to either recover those
//! resources or turn them into tasks.

use std::collections::{BTreeMap, BTreeSet};

use meso_api::attributes::Attributes;
use meso_api::v1::offer::AllocationInfo;
use meso_api::v1::{AgentId, FrameworkId, Offer, OfferId};
use meso_api::Resources;

/// One outstanding offer.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    /// The offer as sent to the framework.
    pub offer: Offer,
    /// The role its resources are allocated to.
    pub role: String,
}

/// The outstanding offers, indexed by id, agent and framework.
#[derive(Debug, Default)]
pub struct OfferBook {
    master_id: String,
    next: u64,
    offers: BTreeMap<OfferId, OfferRecord>,
    by_agent: BTreeMap<AgentId, BTreeSet<OfferId>>,
    by_framework: BTreeMap<FrameworkId, BTreeSet<OfferId>>,
}

impl OfferBook {
    /// An empty book whose offer ids are `<master_id>-O<n>`.
    pub fn new(master_id: &str) -> OfferBook {
        OfferBook {
            master_id: master_id.to_string(),
            ..OfferBook::default()
        }
    }

    /// Records a new offer and returns it.
    pub fn create(
        &mut self,
        framework: &FrameworkId,
        agent: &AgentId,
        hostname: &str,
        attributes: &Attributes,
        role: &str,
        resources: Resources,
    ) -> Offer {
        let id = OfferId::new(format!("{}-O{}", self.master_id, self.next));
        self.next += 1;
        let offer = Offer {
            id: id.clone(),
            framework_id: framework.clone(),
            agent_id: agent.clone(),
            hostname: hostname.to_string(),
            url: None,
            resources,
            attributes: attributes.clone(),
            executor_ids: Vec::new(),
            unavailability: None,
            allocation_info: Some(AllocationInfo {
                role: Some(role.to_string()),
            }),
        };
        self.by_agent
            .entry(agent.clone())
            .or_default()
            .insert(id.clone());
        self.by_framework
            .entry(framework.clone())
            .or_default()
            .insert(id.clone());
        self.offers.insert(
            id,
            OfferRecord {
                offer: offer.clone(),
                role: role.to_string(),
            },
        );
        offer
    }

    /// The outstanding offer `id`.
    pub fn get(&self, id: &OfferId) -> Option<&OfferRecord> {
        self.offers.get(id)
    }

    /// Removes offer `id` (used, declined, rescinded, timed out).
    pub fn remove(&mut self, id: &OfferId) -> Option<OfferRecord> {
        let record = self.offers.remove(id)?;
        if let Some(set) = self.by_agent.get_mut(&record.offer.agent_id) {
            set.remove(id);
            if set.is_empty() {
                self.by_agent.remove(&record.offer.agent_id);
            }
        }
        if let Some(set) = self.by_framework.get_mut(&record.offer.framework_id) {
            set.remove(id);
            if set.is_empty() {
                self.by_framework.remove(&record.offer.framework_id);
            }
        }
        Some(record)
    }

    /// Ids of the offers on `agent`.
    pub fn on_agent(&self, agent: &AgentId) -> Vec<OfferId> {
        self.by_agent
            .get(agent)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Ids of the offers to `framework`.
    pub fn of_framework(&self, framework: &FrameworkId) -> Vec<OfferId> {
        self.by_framework
            .get(framework)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Number of outstanding offers.
    pub fn len(&self) -> usize {
        self.offers.len()
    }

    /// Whether no offer is outstanding.
    pub fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }

    /// All outstanding offers.
    pub fn iter(&self) -> impl Iterator<Item = &OfferRecord> {
        self.offers.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    #[test]
    fn offers_are_indexed_by_agent_and_framework_until_removed() {
        let mut book = OfferBook::new("m");
        let f = FrameworkId::new("f");
        let a = AgentId::new("a");
        let o1 = book.create(&f, &a, "h", &Attributes::default(), "*", res("cpus:1"));
        let o2 = book.create(&f, &a, "h", &Attributes::default(), "*", res("mem:10"));
        assert_ne!(o1.id, o2.id);
        assert_eq!(book.on_agent(&a).len(), 2);
        assert_eq!(book.of_framework(&f).len(), 2);
        assert!(book.remove(&o1.id).is_some());
        assert!(book.remove(&o1.id).is_none(), "an offer is removed once");
        assert_eq!(book.on_agent(&a), vec![o2.id.clone()]);
        book.remove(&o2.id);
        assert!(book.is_empty());
        assert!(book.on_agent(&a).is_empty());
        assert!(book.of_framework(&f).is_empty());
    }
}
