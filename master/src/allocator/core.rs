//! The allocator core: a plain struct that owns agents, frameworks, roles, quota, weights and
//! filters, and answers [`Allocator::allocate`] with offers. It does no I/O and never reads a
//! clock; time comes in as a [`Timestamp`].
//!
//! Every method validates its whole input before changing anything, so a call that returns
//! an error leaves the allocator as it was (apart from interning new names and roles, which
//! has no effect on offers).
//!
//! Agents under maintenance (unavailability windows, inverse offers) are not modelled yet;
//! they belong here as another per-agent state consulted by the allocation walk.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use meso_api::resources::Resource;
use meso_api::Resources;

use super::agent::AgentState;
use super::books::{Books, Move};
use super::catalog::{fingerprint, Catalog, NameIdx};
use super::error::AllocatorError;
use super::filters::{AgentFilters, Filter, Timestamp, DEFAULT_REFUSE, MAX_REFUSE};
use super::framework::{FrameworkSpec, FrameworkState};
use super::quantities::Quantities;
use super::quota::Quota;
use super::roles::{RoleIdx, RoleTree};

/// Settings of an allocator.
#[derive(Clone, Debug, PartialEq)]
pub struct AllocatorConfig {
    /// Alternatives: an offer must hold at least one of these quantity sets in full
    /// (Mesos's `--min_allocatable_resources`, default `cpus:0.01|mem:32`).
    pub min_allocatable: Vec<Quantities>,
    /// Seed of the per-round agent shuffle (rounds are deterministic for a given seed).
    pub shuffle_seed: u64,
}

impl AllocatorConfig {
    /// Parses `cpus:0.01|mem:32` into alternatives.
    pub fn parse_min_allocatable(text: &str) -> Result<Vec<Quantities>, AllocatorError> {
        text.split('|').map(Quantities::parse).collect()
    }
}

impl Default for AllocatorConfig {
    fn default() -> AllocatorConfig {
        AllocatorConfig {
            min_allocatable: AllocatorConfig::parse_min_allocatable("cpus:0.01|mem:32")
                .expect("the default minimum allocatable resources parse"),
            shuffle_seed: 0,
        }
    }
}

/// Resources offered to (or held by) a framework on an agent, for one role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    /// Framework id.
    pub framework: Arc<str>,
    /// Agent id.
    pub agent: Arc<str>,
    /// The role the resources are allocated to.
    pub role: Arc<str>,
    /// What is offered, each resource allocated to `role`.
    pub resources: Resources,
}

/// The allocator core. See the module docs.
#[derive(Debug)]
pub struct Allocator {
    pub(crate) catalog: Catalog,
    pub(crate) tree: RoleTree,
    pub(crate) books: Books,
    pub(crate) frameworks: Vec<Option<FrameworkState>>,
    framework_ids: HashMap<String, u32>,
    pub(crate) agents: Vec<Option<AgentState>>,
    agent_ids: HashMap<String, u32>,
    vacant_agents: Vec<u32>,
    /// Indices of live agents, in no particular order.
    pub(crate) live_agents: Vec<u32>,
    /// Minimum allocatable alternatives as (name id, thousandths) lists.
    pub(crate) min_allocatable: Vec<Vec<(NameIdx, i64)>>,
    pub(crate) shuffle_seed: u64,
    pub(crate) rounds: u64,
    /// Bumped by every call that may make a (framework, role) eligible where it was not
    /// (new or re-subscribed or activated frameworks, revive, quota changes); agents noted
    /// idle under an older generation are walked again.
    pub(crate) eligibility_gen: u64,
}

impl Allocator {
    /// An empty allocator.
    pub fn new(config: AllocatorConfig) -> Result<Allocator, AllocatorError> {
        let mut catalog = Catalog::default();
        let mut min_allocatable = Vec::new();
        for alternative in &config.min_allocatable {
            let mut list = Vec::new();
            for (name, q) in &alternative.0 {
                list.push((catalog.intern_scalar_name(name)?, q.milli()));
            }
            min_allocatable.push(list);
        }
        Ok(Allocator {
            catalog,
            tree: RoleTree::new(),
            books: Books::default(),
            frameworks: Vec::new(),
            framework_ids: HashMap::new(),
            agents: Vec::new(),
            agent_ids: HashMap::new(),
            vacant_agents: Vec::new(),
            live_agents: Vec::new(),
            min_allocatable,
            shuffle_seed: config.shuffle_seed,
            rounds: 0,
            eligibility_gen: 0,
        })
    }

    fn agent_index(&self, agent: &str) -> Result<u32, AllocatorError> {
        self.agent_ids
            .get(agent)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownAgent {
                agent: agent.to_string(),
            })
    }

    fn framework_index(&self, framework: &str) -> Result<u32, AllocatorError> {
        self.framework_ids
            .get(framework)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownFramework {
                framework: framework.to_string(),
            })
    }

    fn agent_ref(&self, index: u32) -> &AgentState {
        self.agents[index as usize]
            .as_ref()
            .expect("agent_ids only maps to live agents")
    }

    fn framework_ref(&self, index: u32) -> &FrameworkState {
        self.frameworks[index as usize]
            .as_ref()
            .expect("framework_ids only maps to live frameworks")
    }

    /// Checks that `held` may be allocated to `role` (reservations) and returns the first
    /// offending resource otherwise.
    fn check_reservations(
        &self,
        agent: &AgentState,
        held: &[super::catalog::Amount],
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
        let mut state = AgentState {
            id: Arc::from(agent),
            slots,
            free_print: fingerprint(&amounts),
            free: amounts.clone(),
            total: amounts,
            allocations: Vec::new(),
            filters: AgentFilters::default(),
            idle: None,
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
                Move::Allocate,
                &mut state,
                framework,
                fw,
                role,
                &held,
                &self.catalog,
                &self.tree,
            );
        }
        let index = match self.vacant_agents.pop() {
            Some(i) => {
                self.agents[i as usize] = Some(state);
                i
            }
            None => {
                self.agents.push(Some(state));
                u32::try_from(self.agents.len() - 1).expect("fewer than 2^32 agents")
            }
        };
        self.agent_ids.insert(agent.to_string(), index);
        self.live_agents.push(index);
        Ok(())
    }

    /// Removes an agent; whatever it held is dropped with it.
    pub fn remove_agent(&mut self, agent: &str) -> Result<(), AllocatorError> {
        let index = self.agent_index(agent)?;
        let mut state = self.agents[index as usize]
            .take()
            .expect("agent_ids only maps to live agents");
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
                Move::Release,
                state,
                framework,
                allocation.framework,
                allocation.role,
                &allocation.held,
                &self.catalog,
                &self.tree,
            );
        }
    }

    /// Replaces an agent's total (e.g. new oversubscribed revocable resources). What is
    /// allocated must still fit. Filters on the agent are dropped when its slot layout changes.
    pub fn update_agent(&mut self, agent: &str, total: &Resources) -> Result<(), AllocatorError> {
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
        };
        // Re-express every allocation in the new layout and check it fits.
        let mut moved = Vec::with_capacity(old.allocations.len());
        let mut remaining = fresh.free.clone();
        for allocation in &old.allocations {
            let list = old.render(&allocation.held, &self.catalog, None);
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
        let mut old = self.agents[index as usize]
            .take()
            .expect("agent_ids only maps to live agents");
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
                Move::Allocate,
                &mut fresh,
                framework,
                fw,
                role,
                &held,
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
        self.frameworks[index as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks")
            .revocable = spec.revocable;
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
                    Move::Release,
                    &mut agent,
                    fw,
                    index,
                    allocation.role,
                    &allocation.held,
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
        self.frameworks[index as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks")
            .active = true;
        self.eligibility_gen += 1;
        Ok(())
    }

    /// Stops offers to a framework (it keeps what it holds, and its filters).
    pub fn deactivate_framework(&mut self, framework: &str) -> Result<(), AllocatorError> {
        let index = self.framework_index(framework)?;
        self.frameworks[index as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks")
            .active = false;
        Ok(())
    }

    /// Gives back resources (from an offer that was declined or rescinded, or from finished
    /// tasks) that `framework` held on `agent` in `role`.
    pub fn recover_resources(
        &mut self,
        framework: &str,
        agent: &str,
        role: &str,
        resources: &Resources,
    ) -> Result<(), AllocatorError> {
        let (fw, ag, role_idx, held) = self.resolve_held(framework, agent, role, resources)?;
        let mut state = self.agents[ag as usize]
            .take()
            .expect("agent_ids only maps to live agents");
        let fw_state = self.frameworks[fw as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks");
        self.books.move_held(
            Move::Release,
            &mut state,
            fw_state,
            fw,
            role_idx,
            &held,
            &self.catalog,
            &self.tree,
        );
        self.agents[ag as usize] = Some(state);
        Ok(())
    }

    /// Resolves ids and checks that (framework, role) holds `resources` on the agent.
    fn resolve_held(
        &self,
        framework: &str,
        agent: &str,
        role: &str,
        resources: &Resources,
    ) -> Result<(u32, u32, RoleIdx, Vec<super::catalog::Amount>), AllocatorError> {
        let fw = self.framework_index(framework)?;
        let ag = self.agent_index(agent)?;
        let not_held = |resource: String| AllocatorError::NotAllocated {
            framework: framework.to_string(),
            agent: agent.to_string(),
            role: role.to_string(),
            resource,
        };
        let state = self.agent_ref(ag);
        if let Some(r) = resources
            .iter()
            .find(|r| r.allocation_role.as_deref().is_some_and(|a| a != role))
        {
            return Err(not_held(r.to_string()));
        }
        let held = state.align(resources, &self.catalog, |r: &Resource| {
            not_held(r.to_string())
        })?;
        let role_idx = self
            .tree
            .lookup(role)
            .ok_or_else(|| not_held(resources.to_string()))?;
        let holding = state
            .allocation_index(fw, role_idx)
            .map(|i| &state.allocations[i].held);
        let shortfall = match holding {
            Some(have) => state.first_shortfall(have, &held, &self.catalog),
            None if held.iter().all(super::catalog::Amount::is_empty) => None,
            None => Some(resources.to_string()),
        };
        if let Some(resource) = shortfall {
            return Err(not_held(resource));
        }
        Ok((fw, ag, role_idx, held))
    }

    /// Filters `resources` on `agent` for (framework, role) for `refuse_seconds` (default 5,
    /// capped at 365 days; 0 adds no filter).
    pub fn add_filter(
        &mut self,
        framework: &str,
        agent: &str,
        role: &str,
        resources: &Resources,
        refuse_seconds: Option<f64>,
        now: Timestamp,
    ) -> Result<(), AllocatorError> {
        let refuse = refuse_duration(refuse_seconds)?;
        let fw = self.framework_index(framework)?;
        let ag = self.agent_index(agent)?;
        let role_idx = self.tree.ensure(role)?;
        self.books.sync_roles(self.tree.nodes.len());
        let state = self.agent_ref(ag);
        let refused = state.align(resources, &self.catalog, |r: &Resource| {
            AllocatorError::NotAvailable {
                agent: agent.to_string(),
                resource: r.to_string(),
            }
        })?;
        if refuse.is_zero() {
            return Ok(());
        }
        let epoch = self
            .framework_ref(fw)
            .role(role_idx)
            .map(|e| e.epoch)
            .unwrap_or(0);
        let filter = Filter {
            framework: fw,
            role: role_idx,
            epoch,
            expires: now.after(refuse),
            refused_print: fingerprint(&refused),
            refused,
        };
        self.agents[ag as usize]
            .as_mut()
            .expect("agent_ids only maps to live agents")
            .filters
            .add(filter, now);
        Ok(())
    }

    /// Declines an offer: recovers its resources and filters them for `refuse_seconds`.
    pub fn decline(
        &mut self,
        offer: &Offer,
        refuse_seconds: Option<f64>,
        now: Timestamp,
    ) -> Result<(), AllocatorError> {
        refuse_duration(refuse_seconds)?;
        self.resolve_held(
            &offer.framework,
            &offer.agent,
            &offer.role,
            &offer.resources,
        )?;
        self.recover_resources(
            &offer.framework,
            &offer.agent,
            &offer.role,
            &offer.resources,
        )?;
        self.add_filter(
            &offer.framework,
            &offer.agent,
            &offer.role,
            &offer.resources,
            refuse_seconds,
            now,
        )
    }

    fn framework_roles(&self, fw: u32, roles: &[String]) -> Result<Vec<RoleIdx>, AllocatorError> {
        if roles.is_empty() {
            return Ok(self
                .framework_ref(fw)
                .roles
                .iter()
                .filter(|e| e.subscribed)
                .map(|e| e.role)
                .collect());
        }
        roles
            .iter()
            .map(|r| {
                super::roles::validate_role_name(r)?;
                Ok(self.tree.lookup(r))
            })
            .filter_map(Result::transpose)
            .collect()
    }

    /// Stops offers to `framework` in `roles` (all its roles if empty) until revived.
    pub fn suppress(&mut self, framework: &str, roles: &[String]) -> Result<(), AllocatorError> {
        let fw = self.framework_index(framework)?;
        let roles = self.framework_roles(fw, roles)?;
        let state = self.frameworks[fw as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks");
        for role in roles {
            state.role_mut(role).suppressed = true;
        }
        Ok(())
    }

    /// Resumes offers to `framework` in `roles` (all its roles if empty) and voids its
    /// filters there.
    pub fn revive(&mut self, framework: &str, roles: &[String]) -> Result<(), AllocatorError> {
        let fw = self.framework_index(framework)?;
        let roles = self.framework_roles(fw, roles)?;
        let state = self.frameworks[fw as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks");
        for role in roles {
            let entry = state.role_mut(role);
            entry.suppressed = false;
            entry.epoch = entry.epoch.wrapping_add(1);
        }
        self.eligibility_gen += 1;
        Ok(())
    }

    /// Sets role weights (default 1); all are validated before any is applied.
    pub fn update_weights(&mut self, weights: &[(String, f64)]) -> Result<(), AllocatorError> {
        for (role, weight) in weights {
            super::roles::validate_role_name(role)?;
            if !weight.is_finite() || *weight <= 0.0 {
                return Err(AllocatorError::InvalidWeight {
                    role: role.clone(),
                    weight: *weight,
                });
            }
        }
        for (role, weight) in weights {
            let idx = self.tree.ensure(role)?;
            self.tree.nodes[idx as usize].weight = *weight;
            self.books.mark_role(idx);
        }
        Ok(())
    }

    /// Sets a role's quota (an empty quota removes it).
    pub fn update_quota(&mut self, role: &str, quota: &Quota) -> Result<(), AllocatorError> {
        super::roles::validate_role_name(role)?;
        quota.validate(role)?;
        let idx = self.tree.ensure(role)?;
        self.books.sync_roles(self.tree.nodes.len());
        let mut guarantee = Vec::new();
        for (name, q) in &quota.guarantees.0 {
            guarantee.push((self.catalog.intern_scalar_name(name)? as usize, q.milli()));
        }
        let mut limit = Vec::new();
        for (name, q) in &quota.limits.0 {
            limit.push((self.catalog.intern_scalar_name(name)? as usize, q.milli()));
        }
        let account = &mut self.books.accounts[idx as usize];
        account.set_quota(guarantee, limit);
        let has_quota = account.has_quota;
        self.books.quota_roles.retain(|&r| r != idx);
        if has_quota {
            self.books.quota_roles.push(idx);
        }
        self.books.required_stale = true;
        self.eligibility_gen += 1;
        Ok(())
    }

    /// What is free on an agent.
    pub fn free_resources(&self, agent: &str) -> Result<Resources, AllocatorError> {
        let state = self.agent_ref(self.agent_index(agent)?);
        Ok(state.render(&state.free, &self.catalog, None))
    }

    /// Everything currently allocated (offered or in use), one entry per
    /// (framework, agent, role), in no particular order.
    pub fn allocations(&self) -> Vec<Offer> {
        let mut out = Vec::new();
        for state in self.agents.iter().flatten() {
            for allocation in &state.allocations {
                out.push(Offer {
                    framework: self.framework_ref(allocation.framework).id.clone(),
                    agent: state.id.clone(),
                    role: self.tree.shared_name(allocation.role),
                    resources: state.render(
                        &allocation.held,
                        &self.catalog,
                        Some(&self.tree.nodes[allocation.role as usize].name),
                    ),
                });
            }
        }
        out
    }

    /// Number of agents.
    pub fn agent_count(&self) -> usize {
        self.agent_ids.len()
    }

    /// Number of frameworks.
    pub fn framework_count(&self) -> usize {
        self.framework_ids.len()
    }

    /// Drops expired filters everywhere (filters also stop applying by themselves when they
    /// expire; this only reclaims their memory).
    pub fn expire_filters(&mut self, now: Timestamp) {
        for state in self.agents.iter_mut().flatten() {
            state.filters.expire(now);
        }
    }
}

/// The filter duration for a `refuse_seconds` value.
pub(crate) fn refuse_duration(refuse_seconds: Option<f64>) -> Result<Duration, AllocatorError> {
    match refuse_seconds {
        None => Ok(DEFAULT_REFUSE),
        Some(s) if s.is_nan() || s < 0.0 => Err(AllocatorError::InvalidRefuseSeconds { value: s }),
        Some(s) if s >= MAX_REFUSE.as_secs_f64() => Ok(MAX_REFUSE),
        Some(s) => Ok(Duration::from_secs_f64(s)),
    }
}
