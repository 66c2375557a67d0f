//! Membership: agents and frameworks joining, changing and leaving the allocator, and
//! frameworks' and agents' activity (nothing is offered to an inactive framework nor from an
//! inactive agent). Each call validates everything before it changes anything; what an
//! agent or framework held goes back through `Books` so the ledger stays exact.
//!
//! An agent's tasks can only name frameworks the allocator knows: as in Mesos, the master
//! adds a framework it learns of from an agent's report (e.g. after a failover) before the
//! agent, deactivated until the framework itself comes back.

use std::sync::Arc;

use meso_api::resources::Resource;
use meso_api::Resources;

use super::agent::AgentState;
use super::books::{Move, Transfer};
use super::catalog::{fingerprint, Amount};
use super::core::Allocator;
use super::error::AllocatorError;
use super::filters::AgentFilters;
use super::framework::{FrameworkSpec, FrameworkState};
use super::roles::RoleIdx;

/// One allocation's resources replaced during [`Allocator::relayout_agent`].
pub(crate) struct HeldChange<'a> {
    /// The framework's index.
    pub(crate) framework: u32,
    /// The allocation role.
    pub(crate) role: RoleIdx,
    /// What it held that the operation consumed.
    pub(crate) before: &'a Resources,
    /// What the operation produced, held instead.
    pub(crate) after: &'a Resources,
}

impl Allocator {
    /// Checks that `held` may be allocated to `role` (reservations) and returns the first
    /// offending resource otherwise.
    fn check_reservations(
        &self,
        agent: &AgentState,
        held: &[Amount],
        role: RoleIdx,
    ) -> Result<(), AllocatorError> {
        for (i, amount) in held.iter().enumerate() {
            if amount.is_empty() {
                continue;
            }
            let slot = agent.slots[i];
            if let Some(res) = self.catalog.slots[slot as usize].reservation {
                if !self.tree.is_within(role, res) {
                    return Err(AllocatorError::ReservationMismatch {
                        resource: self.catalog.to_resource(slot, amount, None).to_string(),
                        reservation: self.tree.name(res).to_string(),
                        role: self.tree.name(role).to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds an agent with its total resources and what known frameworks already use on it
    /// (framework id, allocation role, resources), e.g. after a master failover.
    pub fn add_agent(
        &mut self,
        agent: &str,
        total: &Resources,
        used: &[(String, String, Resources)],
    ) -> Result<(), AllocatorError> {
        if self.agent_ids.contains_key(agent) {
            return Err(AllocatorError::DuplicateAgent {
                agent: agent.to_string(),
            });
        }
        total.validate()?;
        for (_, _, resources) in used {
            resources.validate()?;
        }
        let (slots, amounts) = AgentState::layout(total, &mut self.catalog, &mut self.tree)?;
        let index = match self.vacant_agents.last() {
            Some(&i) => i,
            None => u32::try_from(self.agents.len()).expect("fewer than 2^32 agents"),
        };
        let mut state = AgentState {
            id: Arc::from(agent),
            slots,
            free_print: fingerprint(&amounts),
            free: amounts.clone(),
            total: amounts,
            allocations: Vec::new(),
            filters: AgentFilters::default(),
            idle: None,
            active: true,
            index,
            queued: false,
            wake_at: None,
            headroom_listed: false,
        };
        // Validate every use before changing anything.
        let mut uses = Vec::with_capacity(used.len());
        let mut remaining = state.free.clone();
        for (framework, role, resources) in used {
            let fw = self.framework_index(framework)?;
            let role = self.tree.ensure(role)?;
            let held = state.align(resources, &self.catalog, |r: &Resource| {
                AllocatorError::NotAvailable {
                    agent: agent.to_string(),
                    resource: r.to_string(),
                }
            })?;
            self.check_reservations(&state, &held, role)?;
            if let Some(resource) = state.first_shortfall(&remaining, &held, &self.catalog) {
                return Err(AllocatorError::NotAvailable {
                    agent: agent.to_string(),
                    resource,
                });
            }
            for (r, h) in remaining.iter_mut().zip(&held) {
                r.subtract(h);
            }
            uses.push((fw, role, held));
        }
        self.books.count_agent(&state, 1, &self.catalog, &self.tree);
        for (fw, role, held) in uses {
            let framework = self.frameworks[fw as usize]
                .as_mut()
                .expect("framework_index only returns live frameworks");
            self.books.move_held(
                Transfer {
                    direction: Move::Allocate,
                    framework: fw,
                    role,
                    held: &held,
                },
                &mut state,
                framework,
                &self.catalog,
                &self.tree,
            );
        }
        self.books.dirty.mark(&mut state);
        match self.vacant_agents.pop() {
            Some(i) => self.agents[i as usize] = Some(state),
            None => self.agents.push(Some(state)),
        }
        self.agent_ids.insert(agent.to_string(), index);
        self.live_agents.push(index);
        Ok(())
    }

    /// Removes an agent; whatever it held is dropped with it.
    pub fn remove_agent(&mut self, agent: &str) -> Result<(), AllocatorError> {
        let index = self.agent_index(agent)?;
        let mut state = self.take_agent(index);
        self.books.dirty.forget(&mut state);
        self.release_all(&mut state);
        self.books
            .count_agent(&state, -1, &self.catalog, &self.tree);
        self.agent_ids.remove(agent);
        self.vacant_agents.push(index);
        self.live_agents.retain(|&i| i != index);
        Ok(())
    }

    /// Gives back everything allocated on `state`, to keep role and framework vectors right.
    fn release_all(&mut self, state: &mut AgentState) {
        while let Some(allocation) = state.allocations.last().cloned() {
            let framework = self.frameworks[allocation.framework as usize]
                .as_mut()
                .expect("allocations only name live frameworks");
            self.books.move_held(
                Transfer {
                    direction: Move::Release,
                    framework: allocation.framework,
                    role: allocation.role,
                    held: &allocation.held,
                },
                state,
                framework,
                &self.catalog,
                &self.tree,
            );
        }
    }

    /// Replaces an agent's total (e.g. new oversubscribed revocable resources). What is
    /// allocated must still fit. Filters on the agent are dropped when its slot layout changes.
    pub fn update_agent(&mut self, agent: &str, total: &Resources) -> Result<(), AllocatorError> {
        self.relayout_agent(agent, total, None)
    }

    /// Replaces an agent's total, with one allocation's resources replaced on the way
    /// (`change`: an offer operation applied to what a framework holds); what is allocated
    /// must fit the new total. Changes nothing on error.
    pub(crate) fn relayout_agent(
        &mut self,
        agent: &str,
        total: &Resources,
        change: Option<&HeldChange<'_>>,
    ) -> Result<(), AllocatorError> {
        let index = self.agent_index(agent)?;
        total.validate()?;
        let (slots, amounts) = AgentState::layout(total, &mut self.catalog, &mut self.tree)?;
        let old = self.agent_ref(index).clone();
        let mut fresh = AgentState {
            id: old.id.clone(),
            slots,
            free_print: fingerprint(&amounts),
            free: amounts.clone(),
            total: amounts,
            allocations: Vec::new(),
            filters: AgentFilters::default(),
            idle: None,
            active: old.active,
            index,
            queued: false,
            wake_at: None,
            headroom_listed: false,
        };
        // Re-express every allocation in the new layout and check it fits.
        let mut moved = Vec::with_capacity(old.allocations.len());
        let mut remaining = fresh.free.clone();
        for allocation in &old.allocations {
            let mut list = old.render(&allocation.held, &self.catalog, None);
            if let Some(c) =
                change.filter(|c| (c.framework, c.role) == (allocation.framework, allocation.role))
            {
                list = list.checked_sub(&c.before.unallocate())? + &c.after.unallocate();
            }
            let held = fresh.align(&list, &self.catalog, |r: &Resource| {
                AllocatorError::TotalBelowAllocated {
                    agent: agent.to_string(),
                    resource: r.to_string(),
                }
            })?;
            if let Some(resource) = fresh.first_shortfall(&remaining, &held, &self.catalog) {
                return Err(AllocatorError::TotalBelowAllocated {
                    agent: agent.to_string(),
                    resource,
                });
            }
            for (r, h) in remaining.iter_mut().zip(&held) {
                r.subtract(h);
            }
            moved.push((allocation.framework, allocation.role, held));
        }
        let mut old = self.take_agent(index);
        self.books.dirty.forget(&mut old);
        self.books.dirty.mark(&mut fresh);
        if old.slots == fresh.slots {
            fresh.filters = std::mem::take(&mut old.filters);
        }
        self.release_all(&mut old);
        self.books.count_agent(&old, -1, &self.catalog, &self.tree);
        self.books.count_agent(&fresh, 1, &self.catalog, &self.tree);
        for (fw, role, held) in moved {
            let framework = self.frameworks[fw as usize]
                .as_mut()
                .expect("allocations only name live frameworks");
            self.books.move_held(
                Transfer {
                    direction: Move::Allocate,
                    framework: fw,
                    role,
                    held: &held,
                },
                &mut fresh,
                framework,
                &self.catalog,
                &self.tree,
            );
        }
        self.agents[index as usize] = Some(fresh);
        Ok(())
    }

    /// Adds an active framework subscribed to `spec.roles`.
    pub fn add_framework(
        &mut self,
        framework: &str,
        spec: &FrameworkSpec,
    ) -> Result<(), AllocatorError> {
        if self.framework_ids.contains_key(framework) {
            return Err(AllocatorError::DuplicateFramework {
                framework: framework.to_string(),
            });
        }
        let index = u32::try_from(self.frameworks.len()).expect("fewer than 2^32 frameworks");
        let roles = self.resolve_roles(&spec.roles)?;
        let suppressed = self.resolve_roles(&spec.suppressed_roles)?;
        self.frameworks.push(Some(FrameworkState {
            id: Arc::from(framework),
            active: true,
            revocable: spec.revocable,
            roles: Vec::new(),
        }));
        self.framework_ids.insert(framework.to_string(), index);
        self.subscribe(index, &roles, &suppressed);
        self.eligibility_gen += 1;
        Ok(())
    }

    fn resolve_roles(&mut self, roles: &[String]) -> Result<Vec<RoleIdx>, AllocatorError> {
        for role in roles {
            super::roles::validate_role_name(role)?;
        }
        let out = roles
            .iter()
            .map(|r| self.tree.ensure(r))
            .collect::<Result<Vec<_>, _>>()?;
        self.books.sync_roles(self.tree.nodes.len());
        Ok(out)
    }

    /// Makes the framework's subscriptions exactly `roles`.
    fn subscribe(&mut self, index: u32, roles: &[RoleIdx], suppressed: &[RoleIdx]) {
        let fw = self.frameworks[index as usize]
            .as_mut()
            .expect("subscribe is called on live frameworks");
        for entry in &mut fw.roles {
            if entry.subscribed && !roles.contains(&entry.role) {
                entry.subscribed = false;
                if let Some(key) = entry.key.take() {
                    self.tree.nodes[entry.role as usize].frameworks.remove(key);
                }
            }
        }
        for &role in roles {
            let entry = fw.role_mut(role);
            entry.suppressed = suppressed.contains(&role);
            if !entry.subscribed {
                entry.subscribed = true;
                entry.key = Some(self.tree.nodes[role as usize].frameworks.insert(index, 0.0));
                self.books.mark_framework(fw, index, role);
            }
        }
        fw.roles
            .retain(|e| e.subscribed || e.alloc.iter().any(|&v| v != 0));
    }

    /// Changes a framework's roles, revocable capability and suppressed roles.
    pub fn update_framework(
        &mut self,
        framework: &str,
        spec: &FrameworkSpec,
    ) -> Result<(), AllocatorError> {
        let index = self.framework_index(framework)?;
        let roles = self.resolve_roles(&spec.roles)?;
        let suppressed = self.resolve_roles(&spec.suppressed_roles)?;
        self.framework_mut(index).revocable = spec.revocable;
        self.subscribe(index, &roles, &suppressed);
        self.eligibility_gen += 1;
        Ok(())
    }

    /// Removes a framework; everything it held becomes free and its filters go.
    pub fn remove_framework(&mut self, framework: &str) -> Result<(), AllocatorError> {
        let index = self.framework_index(framework)?;
        for slot in 0..self.agents.len() {
            let Some(mut agent) = self.agents[slot].take() else {
                continue;
            };
            while let Some(pos) = agent.allocations.iter().position(|a| a.framework == index) {
                let allocation = agent.allocations[pos].clone();
                let fw = self.frameworks[index as usize]
                    .as_mut()
                    .expect("framework_ids only maps to live frameworks");
                self.books.move_held(
                    Transfer {
                        direction: Move::Release,
                        framework: index,
                        role: allocation.role,
                        held: &allocation.held,
                    },
                    &mut agent,
                    fw,
                    &self.catalog,
                    &self.tree,
                );
            }
            agent.filters.remove_framework(index);
            self.agents[slot] = Some(agent);
        }
        let fw = self.frameworks[index as usize]
            .take()
            .expect("framework_ids only maps to live frameworks");
        for entry in fw.roles {
            if let Some(key) = entry.key {
                self.tree.nodes[entry.role as usize].frameworks.remove(key);
            }
        }
        self.framework_ids.remove(framework);
        Ok(())
    }

    /// Resumes offers to a framework.
    pub fn activate_framework(&mut self, framework: &str) -> Result<(), AllocatorError> {
        let index = self.framework_index(framework)?;
        self.framework_mut(index).active = true;
        self.eligibility_gen += 1;
        Ok(())
    }

    /// Stops offers to a framework (it keeps what it holds, and its filters).
    pub fn deactivate_framework(&mut self, framework: &str) -> Result<(), AllocatorError> {
        let index = self.framework_index(framework)?;
        self.framework_mut(index).active = false;
        Ok(())
    }

    /// Stops offers of an agent's resources (its link to the master broke). What it holds
    /// stays held, its filters stay; [`Allocator::activate_agent`] undoes it.
    pub fn deactivate_agent(&mut self, agent: &str) -> Result<(), AllocatorError> {
        let index = self.agent_index(agent)?;
        self.agents[index as usize]
            .as_mut()
            .expect("agent_ids only maps to live agents")
            .active = false;
        Ok(())
    }

    /// Resumes offers of an agent's resources (it re-registered).
    pub fn activate_agent(&mut self, agent: &str) -> Result<(), AllocatorError> {
        let index = self.agent_index(agent)?;
        let state = self.agents[index as usize]
            .as_mut()
            .expect("agent_ids only maps to live agents");
        state.active = true;
        state.idle = None;
        self.books.dirty.mark(state);
        Ok(())
    }

    /// Whether offers are made from `agent` (false while deactivated).
    pub fn is_agent_active(&self, agent: &str) -> Result<bool, AllocatorError> {
        let index = self.agent_index(agent)?;
        Ok(self.agent_ref(index).active)
    }
}
