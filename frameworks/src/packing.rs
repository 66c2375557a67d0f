//! Helpers every framework writes by hand: fitting tasks into an offer
//! ([`OfferPacker`]) and naming tasks ([`TaskIds`]).
//!
//! An offer's resources carry the role they are allocated to (`allocation_info.role`,
//! one role per offer even for a multi-role framework); a task's resources must carry the
//! same role or the master refuses the launch. The packer takes resources as the
//! framework writes them (`Resources::parse("cpus:1;mem:128", "*")`), allocates them to
//! the offer's role and subtracts them from what is left, so a framework never has to
//! think about allocation info.

use meso_api::v1::{Offer, TaskId};
use meso_api::Resources;

/// What is left of one offer while tasks are fitted into it.
///
/// ```
/// use meso_api::v1::Offer;
/// use meso_api::Resources;
/// use meso_frameworks::packing::OfferPacker;
///
/// let offer: Offer = serde_json::from_value(serde_json::json!({
///     "id": {"value": "o1"}, "framework_id": {"value": "f"}, "agent_id": {"value": "a"},
///     "hostname": "h", "allocation_info": {"role": "web"},
///     "resources": [
///         {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
///          "allocation_info": {"role": "web"}},
///         {"name": "mem", "type": "SCALAR", "scalar": {"value": 256.0},
///          "allocation_info": {"role": "web"}}
///     ]
/// }))
/// .unwrap();
/// let mut packer = OfferPacker::new(&offer);
/// let each = Resources::parse("cpus:0.4;mem:64", "*").unwrap();
/// let mut fitted = 0;
/// while let Some(resources) = packer.take(&each) {
///     assert_eq!(resources.allocated_to("web"), resources);
///     fitted += 1;
/// }
/// assert_eq!(fitted, 2); // cpus run out first
/// ```
#[derive(Debug, Clone)]
pub struct OfferPacker {
    role: String,
    left: Resources,
}

impl OfferPacker {
    /// Starts with all of `offer`'s resources.
    pub fn new(offer: &Offer) -> Self {
        let role = offer
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.clone())
            .or_else(|| {
                offer
                    .resources
                    .iter()
                    .find_map(|r| r.allocation_role.as_deref().map(str::to_string))
            })
            .unwrap_or_else(|| "*".to_string());
        OfferPacker {
            role,
            left: offer.resources.clone(),
        }
    }

    /// The role the offer is allocated to.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// `wanted`, allocated to the offer's role and taken from what is left; `None` (and
    /// nothing taken) when it does not fit.
    pub fn take(&mut self, wanted: &Resources) -> Option<Resources> {
        let allocated = wanted.allocate(&self.role);
        // `contains` first: `checked_sub`'s refusal formats both sides for its message,
        // which cost most of a batch job's offer handling when few tasks fit.
        if !self.left.contains(&allocated) {
            return None;
        }
        self.left = self.left.clone() - &allocated;
        Some(allocated)
    }

    /// Whether `wanted` would fit, without taking it.
    pub fn fits(&self, wanted: &Resources) -> bool {
        self.left.contains(&wanted.allocate(&self.role))
    }

    /// What is left of the offer.
    pub fn left(&self) -> &Resources {
        &self.left
    }
}

/// Task ids `<prefix>-0`, `<prefix>-1`, ...: unique within one framework as long as the
/// prefix is (give a framework that fails over a prefix of its own, e.g. its start time).
///
/// ```
/// use meso_frameworks::packing::TaskIds;
///
/// let mut ids = TaskIds::new("hello");
/// assert_eq!(ids.next_id().as_str(), "hello-0");
/// assert_eq!(ids.next_id().as_str(), "hello-1");
/// assert_eq!(ids.issued(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct TaskIds {
    prefix: String,
    next: u64,
}

impl TaskIds {
    /// Ids starting with `prefix`.
    pub fn new(prefix: &str) -> Self {
        TaskIds {
            prefix: prefix.to_string(),
            next: 0,
        }
    }

    /// The next id.
    pub fn next_id(&mut self) -> TaskId {
        let id = TaskId::new(format!("{}-{}", self.prefix, self.next));
        self.next += 1;
        id
    }

    /// How many ids were handed out.
    pub fn issued(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn offer(resources: &str, role: Option<&str>) -> Offer {
        let mut json = serde_json::json!({
            "id": {"value": "o"}, "framework_id": {"value": "f"},
            "agent_id": {"value": "a"}, "hostname": "h",
        });
        if let Some(role) = role {
            json["allocation_info"] = serde_json::json!({ "role": role });
        }
        let mut offer: Offer = serde_json::from_value(json).unwrap();
        offer.resources = Resources::parse(resources, "*")
            .unwrap()
            .allocate(role.unwrap_or("*"));
        offer
    }

    #[test]
    fn a_task_that_does_not_fit_takes_nothing() {
        let mut p = OfferPacker::new(&offer("cpus:1;mem:100", Some("r")));
        let big = Resources::parse("cpus:2", "*").unwrap();
        assert!(!p.fits(&big));
        assert!(p.take(&big).is_none());
        assert_eq!(p.left(), &offer("cpus:1;mem:100", Some("r")).resources);
        assert_eq!(p.role(), "r");
    }

    #[test]
    fn without_allocation_info_the_resources_name_the_role() {
        let mut o = offer("cpus:1", None);
        o.resources = o.resources.allocate("batch");
        assert_eq!(OfferPacker::new(&o).role(), "batch");
    }

    proptest! {
        /// What was taken plus what is left is the offer, and nothing taken exceeds it.
        #[test]
        fn taken_plus_left_is_the_offer(tasks in proptest::collection::vec((1u32..10, 1u32..300), 0..20)) {
            let o = offer("cpus:8;mem:1024", Some("r"));
            let mut p = OfferPacker::new(&o);
            let mut taken = Resources::default();
            for (cpus, mem) in tasks {
                let want = Resources::parse(&format!("cpus:{};mem:{}", cpus as f64 / 10.0, mem), "*").unwrap();
                if let Some(got) = p.take(&want) {
                    taken += got;
                }
            }
            prop_assert_eq!(taken + p.left().clone(), o.resources);
        }
    }
}
