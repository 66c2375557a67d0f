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
use super::books::{Books, Move, Transfer};
use super::catalog::{fingerprint, Catalog, NameIdx};
use super::error::AllocatorError;
use super::filters::{Filter, Timestamp, DEFAULT_REFUSE, MAX_REFUSE};
use super::framework::FrameworkState;
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
    pub(crate) framework_ids: HashMap<String, u32>,
    pub(crate) agents: Vec<Option<AgentState>>,
    pub(crate) agent_ids: HashMap<String, u32>,
    pub(crate) vacant_agents: Vec<u32>,
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

    pub(crate) fn agent_index(&self, agent: &str) -> Result<u32, AllocatorError> {
        self.agent_ids
            .get(agent)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownAgent {
                agent: agent.to_string(),
            })
    }

    pub(crate) fn framework_index(&self, framework: &str) -> Result<u32, AllocatorError> {
        self.framework_ids
            .get(framework)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownFramework {
                framework: framework.to_string(),
            })
    }

    pub(crate) fn agent_ref(&self, index: u32) -> &AgentState {
        self.agents[index as usize]
            .as_ref()
            .expect("agent_ids only maps to live agents")
    }

    pub(crate) fn framework_ref(&self, index: u32) -> &FrameworkState {
        self.frameworks[index as usize]
            .as_ref()
            .expect("framework_ids only maps to live frameworks")
    }

    pub(crate) fn framework_mut(&mut self, index: u32) -> &mut FrameworkState {
        self.frameworks[index as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks")
    }

    /// Takes agent `index` out of its slot (to be put back, or dropped when it is removed).
    pub(crate) fn take_agent(&mut self, index: u32) -> AgentState {
        self.agents[index as usize]
            .take()
            .expect("agent_ids only maps to live agents")
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
        let mut state = self.take_agent(ag);
        let fw_state = self.frameworks[fw as usize]
            .as_mut()
            .expect("framework_ids only maps to live frameworks");
        self.books.move_held(
            Transfer {
                direction: Move::Release,
                framework: fw,
                role: role_idx,
                held: &held,
            },
            &mut state,
            fw_state,
            &self.catalog,
            &self.tree,
        );
        self.agents[ag as usize] = Some(state);
        Ok(())
    }

    /// Resolves ids and checks that (framework, role) holds `resources` on the agent.
    pub(crate) fn resolve_held(
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
        let filters = &mut self.agents[ag as usize]
            .as_mut()
            .expect("agent_ids only maps to live agents")
            .filters;
        let refused_print = fingerprint(&refused);
        let refused = filters.share(refused, refused_print);
        let filter = Filter {
            framework: fw,
            role: role_idx,
            epoch,
            expires: now.after(refuse),
            refused_print,
            refused,
        };
        filters.add(filter, now);
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

    pub(crate) fn framework_roles(
        &self,
        fw: u32,
        roles: &[String],
    ) -> Result<Vec<RoleIdx>, AllocatorError> {
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
        let state = self.framework_mut(fw);
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
        let state = self.framework_mut(fw);
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
        if role == "*" {
            return Err(AllocatorError::InvalidQuota {
                role: role.to_string(),
                reason: "the default role '*' cannot have quota".to_string(),
            });
        }
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

    /// An agent's total, as the allocator holds it.
    pub fn total_resources(&self, agent: &str) -> Result<Resources, AllocatorError> {
        let state = self.agent_ref(self.agent_index(agent)?);
        Ok(state.render(&state.total, &self.catalog, None))
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
