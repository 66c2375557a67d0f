//! One agent as the allocator sees it: its resources as one [`Amount`] per slot (total and
//! free), what each (framework, role) holds on it, and its offer filters.
//!
//! Invariants: `slots`, `total` and `free` (and every allocation's `held`, and every filter's
//! `refused`) have the same length and order; for each slot, `free` plus everything held
//! equals `total`.

use std::sync::Arc;

use meso_api::resources::Resource;
use meso_api::Resources;

use super::catalog::{Amount, Catalog, SlotIdx, MAX_SCALAR_MILLI};
use super::error::AllocatorError;
use super::filters::{AgentFilters, Timestamp};
use super::roles::{RoleIdx, RoleTree};

/// What one (framework, role) holds on an agent.
#[derive(Clone, Debug)]
pub(crate) struct Allocation {
    pub(crate) framework: u32,
    pub(crate) role: RoleIdx,
    /// Aligned with the agent's slots.
    pub(crate) held: Vec<Amount>,
}

/// A note that the last walk over an agent offered nothing, and under which conditions the
/// next walk would offer nothing again: the same eligibility generation (see
/// `Allocator::eligibility_gen`), the same headroom generation (`Books::headroom_gen`) if a
/// quota cap held a claim back, unchanged free resources (any change clears the note), and
/// no blocking filter expired (`until`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdleNote {
    pub(crate) eligibility_gen: u64,
    /// `None` when no quota cap held a claim back: more headroom changes nothing here.
    pub(crate) headroom_gen: Option<u64>,
    pub(crate) until: Timestamp,
}

/// One agent.
#[derive(Clone, Debug)]
pub(crate) struct AgentState {
    pub(crate) id: Arc<str>,
    pub(crate) slots: Vec<SlotIdx>,
    pub(crate) total: Vec<Amount>,
    pub(crate) free: Vec<Amount>,
    /// `fingerprint(&free)`, kept current by every change of `free`.
    pub(crate) free_print: u64,
    pub(crate) allocations: Vec<Allocation>,
    pub(crate) filters: AgentFilters,
    /// Set when a walk offered nothing here; lets later rounds skip the agent.
    pub(crate) idle: Option<IdleNote>,
    /// False while the agent is deactivated (its link to the master broke): nothing on it
    /// is offered, what it holds stays held.
    pub(crate) active: bool,
    /// Its index in the allocator's agent table.
    pub(crate) index: u32,
    /// Marked for the next incremental round (see `dirty`).
    pub(crate) queued: bool,
    /// When its idle note expires, if it is in the wake set (see `dirty`).
    pub(crate) wake_at: Option<Timestamp>,
    /// In the list of agents whose idle note depends on headroom (see `dirty`).
    pub(crate) headroom_listed: bool,
}

impl AgentState {
    /// The slot layout and amounts of `total`, interning new names, roles and slots.
    pub(crate) fn layout(
        total: &Resources,
        catalog: &mut Catalog,
        tree: &mut RoleTree,
    ) -> Result<(Vec<SlotIdx>, Vec<Amount>), AllocatorError> {
        let mut slots: Vec<SlotIdx> = Vec::new();
        let mut amounts: Vec<Amount> = Vec::new();
        for resource in total.iter() {
            let slot = catalog.intern(resource, tree)?;
            let amount = Amount::from_value(&resource.value);
            if amount.scalar() > MAX_SCALAR_MILLI {
                return Err(AllocatorError::ScalarTooLarge {
                    resource: resource.to_string(),
                    max_milli: MAX_SCALAR_MILLI,
                });
            }
            match slots.iter().position(|&s| s == slot) {
                Some(i) => amounts[i].add(&amount),
                None => {
                    slots.push(slot);
                    amounts.push(amount);
                }
            }
        }
        Ok((slots, amounts))
    }

    /// Nothing, in this agent's layout.
    pub(crate) fn empty_amounts(&self) -> Vec<Amount> {
        self.total.iter().map(Amount::empty_like).collect()
    }

    /// `list` in this agent's layout; a resource the agent has no slot for is reported
    /// through `missing`.
    pub(crate) fn align(
        &self,
        list: &Resources,
        catalog: &Catalog,
        missing: impl Fn(&Resource) -> AllocatorError,
    ) -> Result<Vec<Amount>, AllocatorError> {
        let mut out = self.empty_amounts();
        for resource in list.iter() {
            let i = self
                .slots
                .iter()
                .position(|&slot| catalog.is_slot_of(slot, resource))
                .ok_or_else(|| missing(resource))?;
            let amount = Amount::from_value(&resource.value);
            if std::mem::discriminant(&amount) != std::mem::discriminant(&out[i]) {
                return Err(missing(resource));
            }
            out[i].add(&amount);
        }
        Ok(out)
    }

    /// The boundary form of amounts in this agent's layout (empty entries left out),
    /// allocated to `role` if given.
    pub(crate) fn render(
        &self,
        amounts: &[Amount],
        catalog: &Catalog,
        role: Option<&Arc<str>>,
    ) -> Resources {
        self.slots
            .iter()
            .zip(amounts)
            .filter(|(_, a)| !a.is_empty())
            .map(|(&slot, a)| catalog.to_resource(slot, a, role))
            .collect()
    }

    /// Position of the allocation of (framework, role), if any.
    pub(crate) fn allocation_index(&self, framework: u32, role: RoleIdx) -> Option<usize> {
        self.allocations
            .iter()
            .position(|a| a.framework == framework && a.role == role)
    }

    /// The first slot whose `wanted` amount does not fit in `have`, rendered for an error.
    pub(crate) fn first_shortfall(
        &self,
        have: &[Amount],
        wanted: &[Amount],
        catalog: &Catalog,
    ) -> Option<String> {
        self.slots
            .iter()
            .zip(have.iter().zip(wanted))
            .find(|(_, (h, w))| !h.contains(w))
            .map(|(&slot, (_, w))| catalog.to_resource(slot, w, None).to_string())
    }
}
