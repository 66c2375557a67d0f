//! Offer operations (RESERVE, UNRESERVE, CREATE, DESTROY, GROW/SHRINK_VOLUME) applied to an
//! agent in the allocator, as Mesos's `updateAllocation` and `updateAvailable`: each
//! replaces the resources an operation consumes by those it produces, in the agent's total
//! and either in what one framework holds (a framework's ACCEPT of its offer) or in the
//! agent's free resources (an operator's call). Both check first and change nothing on
//! error, and both return the agent's new total so that the caller can check it keeps the
//! same books.

use meso_api::Resources;

use super::core::Allocator;
use super::error::AllocatorError;
use super::membership::HeldChange;

impl Allocator {
    /// The agent's total, rendered.
    pub fn agent_total(&self, agent: &str) -> Result<Resources, AllocatorError> {
        let index = self.agent_index(agent)?;
        let state = self.agent_ref(index);
        Ok(state.render(&state.total, &self.catalog, None))
    }

    /// Converts `consumed` into `produced` in what `framework` holds in `role` on `agent`
    /// (an operation of its ACCEPT); `consumed` must be held. Returns the new total.
    pub fn update_allocation(
        &mut self,
        framework: &str,
        agent: &str,
        role: &str,
        consumed: &Resources,
        produced: &Resources,
    ) -> Result<Resources, AllocatorError> {
        let (fw, _, role_idx, _) = self.resolve_held(framework, agent, role, consumed)?;
        let total = self
            .agent_total(agent)?
            .checked_sub(&consumed.unallocate())?
            + &produced.unallocate();
        let change = HeldChange {
            framework: fw,
            role: role_idx,
            before: consumed,
            after: produced,
        };
        self.relayout_agent(agent, &total, Some(&change))?;
        Ok(total)
    }

    /// Converts `consumed` into `produced` among `agent`'s free resources (an operator's
    /// call); `consumed` must be free, neither offered nor in use. Returns the new total.
    pub fn update_available(
        &mut self,
        agent: &str,
        consumed: &Resources,
        produced: &Resources,
    ) -> Result<Resources, AllocatorError> {
        let index = self.agent_index(agent)?;
        let state = self.agent_ref(index);
        let not_free = |resource: String| AllocatorError::NotFree {
            agent: agent.to_string(),
            resource,
        };
        let wanted = state.align(&consumed.unallocate(), &self.catalog, |r| {
            not_free(r.to_string())
        })?;
        if let Some(resource) = state.first_shortfall(&state.free, &wanted, &self.catalog) {
            return Err(not_free(resource));
        }
        let total = self
            .agent_total(agent)?
            .checked_sub(&consumed.unallocate())?
            + &produced.unallocate();
        self.update_agent(agent, &total)?;
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AllocatorConfig, FrameworkSpec, Timestamp};
    use meso_api::resources::ReservationInfo;

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    fn dynamic(text: &str, role: &str) -> Resources {
        res(text).push_reservation(&ReservationInfo::dynamically(role, Some("p")))
    }

    fn spec(role: &str) -> FrameworkSpec {
        FrameworkSpec {
            roles: vec![role.into()],
            ..FrameworkSpec::default()
        }
    }

    fn allocator() -> Allocator {
        let mut a = Allocator::new(AllocatorConfig::default()).unwrap();
        a.add_agent("a1", &res("cpus:4;mem:1024"), &[]).unwrap();
        a.add_framework("f1", &spec("ops")).unwrap();
        a
    }

    #[test]
    fn an_operator_reserves_free_resources_and_they_go_to_the_role_only() {
        let mut a = allocator();
        a.add_framework("f2", &spec("dev")).unwrap();
        let total = a
            .update_available("a1", &res("cpus:2"), &dynamic("cpus:2", "ops"))
            .unwrap();
        assert_eq!(total, res("cpus:2;mem:1024") + &dynamic("cpus:2", "ops"));
        assert_eq!(a.agent_total("a1").unwrap(), total);
        for offer in a.allocate(Timestamp::default()) {
            if &*offer.framework == "f2" {
                assert!(offer.resources.reserved_any().is_empty(), "{:?}", offer);
            }
        }
        let held: Resources = a
            .allocations()
            .iter()
            .filter(|o| &*o.framework == "f1")
            .map(|o| o.resources.clone())
            .fold(Resources::new(), |acc, r| acc + &r);
        assert!(
            held.unallocate().contains(&dynamic("cpus:2", "ops")),
            "{held}"
        );
    }

    #[test]
    fn an_operator_cannot_convert_what_is_offered_or_absent() {
        let mut a = allocator();
        let offers = a.allocate(Timestamp::default());
        assert_eq!(offers.len(), 1);
        let before = a.agent_total("a1").unwrap();
        let err = a
            .update_available("a1", &res("cpus:1"), &dynamic("cpus:1", "ops"))
            .unwrap_err();
        assert!(matches!(err, AllocatorError::NotFree { .. }), "{err}");
        a.recover_resources("f1", "a1", "ops", &offers[0].resources)
            .unwrap();
        let err = a
            .update_available("a1", &res("cpus:5"), &dynamic("cpus:5", "ops"))
            .unwrap_err();
        assert!(err.to_string().contains("cpus"), "{err}");
        assert_eq!(a.agent_total("a1").unwrap(), before);
    }

    #[test]
    fn a_framework_reserves_what_it_holds_and_keeps_holding_it() {
        let mut a = allocator();
        let offer = a.allocate(Timestamp::default()).pop().unwrap();
        let consumed = res("cpus:1").allocate("ops");
        let produced = dynamic("cpus:1", "ops").allocate("ops");
        let total = a
            .update_allocation("f1", "a1", "ops", &consumed, &produced)
            .unwrap();
        assert_eq!(total, res("cpus:3;mem:1024") + &dynamic("cpus:1", "ops"));
        let held = (offer.resources.clone() - &consumed) + &produced;
        // Exactly the converted offer is held: giving it back empties the framework.
        a.recover_resources("f1", "a1", "ops", &held).unwrap();
        assert!(a.allocations().is_empty(), "{:?}", a.allocations());
        let err = a
            .update_allocation("f1", "a1", "ops", &consumed, &produced)
            .unwrap_err();
        assert!(matches!(err, AllocatorError::NotAllocated { .. }), "{err}");
    }
}
