//! The allocator's ledger: per-role accounts, cluster totals, free unreserved resources (for
//! headroom), and the set of sort keys waiting to be refreshed.
//!
//! Every change of what is allocated goes through [`Books::move_held`], which updates the
//! agent's free amounts, fingerprint and allocation record (and clears its idle note), the
//! role and framework vectors, the headroom pool and its generation, and marks the touched
//! sort keys dirty. The keys are refreshed in a batch
//! ([`Books::refresh_keys`]) so that one allocation round sorts incrementally.
//!
//! Invariant: after `move_held`, every vector reflects the agent's allocation records; keys
//! may be stale only while listed as dirty (or while `all_stale` is set).

use super::agent::{AgentState, Allocation};
use super::catalog::{fingerprint, Amount, Catalog};
use super::dirty::DirtyAgents;
use super::framework::FrameworkState;
use super::quota::{add_at, get_at, RoleAccount};
use super::roles::{RoleIdx, RoleTree, ROOT};
use super::sorter::dominant_share;

/// Direction of a [`Books::move_held`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Move {
    /// From the agent's free pool to the (framework, role).
    Allocate,
    /// From the (framework, role) back to the agent's free pool.
    Release,
}

/// One [`Books::move_held`]: `held` (aligned with the agent's slots) moves in `direction`
/// between the agent's free pool and the allocation of (framework `framework`, `role`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Transfer<'a> {
    pub(crate) direction: Move,
    /// The framework's index in the allocator's framework table.
    pub(crate) framework: u32,
    pub(crate) role: RoleIdx,
    pub(crate) held: &'a [Amount],
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Books {
    pub(crate) accounts: Vec<RoleAccount>,
    /// All scalars of all agents, by name id: the denominators of shares.
    pub(crate) totals: Vec<i64>,
    /// Free unreserved non-revocable scalars, by name id: the headroom pool.
    pub(crate) unreserved_free: Vec<i64>,
    /// Roles with a guarantee or limit.
    pub(crate) quota_roles: Vec<RoleIdx>,
    /// Sum of unmet guarantees, by name id (valid unless `required_stale`).
    pub(crate) required: Vec<i64>,
    pub(crate) required_stale: bool,
    dirty_roles: Vec<RoleIdx>,
    role_dirty: Vec<bool>,
    dirty_frameworks: Vec<(u32, RoleIdx)>,
    /// Every key is stale (totals changed).
    pub(crate) all_stale: bool,
    /// Bumped whenever headroom or limit room may have grown while quota is in force
    /// (agents come and go, resources are released); see `IdleNote`.
    pub(crate) headroom_gen: u64,
    /// Agents the next incremental round walks.
    pub(crate) dirty: DirtyAgents,
    /// Number of (role, name) pairs with an unmet guarantee (valid unless
    /// `required_stale`); kept current by `move_held` like `required`.
    pub(crate) unmet_pairs: usize,
}

impl Books {
    /// Grows the per-role vectors to `roles` entries.
    pub(crate) fn sync_roles(&mut self, roles: usize) {
        if self.accounts.len() < roles {
            self.accounts.resize_with(roles, RoleAccount::default);
            self.role_dirty.resize(roles, false);
        }
    }

    /// Marks the keys of `role` (and so its ancestors) for refresh.
    pub(crate) fn mark_role(&mut self, role: RoleIdx) {
        self.sync_roles(role as usize + 1);
        if !self.role_dirty[role as usize] {
            self.role_dirty[role as usize] = true;
            self.dirty_roles.push(role);
        }
    }

    /// Marks the key of (framework, role) for refresh.
    pub(crate) fn mark_framework(&mut self, fw: &mut FrameworkState, index: u32, role: RoleIdx) {
        let entry = fw.role_mut(role);
        if !entry.dirty {
            entry.dirty = true;
            self.dirty_frameworks.push((index, role));
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) an agent's total and reservations.
    pub(crate) fn count_agent(
        &mut self,
        agent: &AgentState,
        sign: i64,
        catalog: &Catalog,
        tree: &RoleTree,
    ) {
        self.sync_roles(tree.nodes.len());
        for (i, &slot) in agent.slots.iter().enumerate() {
            let info = catalog.slots[slot as usize];
            if !info.scalar {
                continue;
            }
            let name = info.name as usize;
            add_at(&mut self.totals, name, sign * agent.total[i].scalar());
            if info.revocable {
                continue;
            }
            match info.reservation {
                None => add_at(
                    &mut self.unreserved_free,
                    name,
                    sign * agent.free[i].scalar(),
                ),
                Some(res) => {
                    for r in tree.chain(res) {
                        add_at(
                            &mut self.accounts[r as usize].reserved,
                            name,
                            sign * agent.total[i].scalar(),
                        );
                    }
                }
            }
        }
        self.all_stale = true;
        self.required_stale = true;
        self.headroom_gen += 1;
    }

    /// Carries out `transfer` on `agent` and `fw` (the framework it names). The caller has
    /// checked that it fits.
    pub(crate) fn move_held(
        &mut self,
        transfer: Transfer<'_>,
        agent: &mut AgentState,
        fw: &mut FrameworkState,
        catalog: &Catalog,
        tree: &RoleTree,
    ) {
        let Transfer {
            direction,
            framework: fw_index,
            role,
            held,
        } = transfer;
        self.sync_roles(tree.nodes.len());
        agent.idle = None;
        self.dirty.mark(agent);
        // Only a release of unreserved, non-revocable resources can widen what quota lets
        // others take elsewhere (more free for headroom, less consumed toward limits); an
        // allocation only narrows it (see `round`).
        let mut widens = false;
        let sign = match direction {
            Move::Allocate => 1,
            Move::Release => -1,
        };
        let record = match agent.allocation_index(fw_index, role) {
            Some(i) => i,
            None => {
                let empty = agent.empty_amounts();
                agent.allocations.push(Allocation {
                    framework: fw_index,
                    role,
                    held: empty,
                });
                agent.allocations.len() - 1
            }
        };
        for (i, amount) in held.iter().enumerate() {
            if amount.is_empty() {
                continue;
            }
            match direction {
                Move::Allocate => {
                    agent.free[i].subtract(amount);
                    agent.allocations[record].held[i].add(amount);
                }
                Move::Release => {
                    agent.allocations[record].held[i].subtract(amount);
                    agent.free[i].add(amount);
                }
            }
            let info = catalog.slots[agent.slots[i] as usize];
            if !info.scalar {
                continue;
            }
            let name = info.name as usize;
            let delta = sign * amount.scalar();
            let counts_for_quota = info.reservation.is_none() && !info.revocable;
            add_at(&mut self.accounts[role as usize].own_alloc, name, delta);
            for r in tree.chain(role) {
                let account = &mut self.accounts[r as usize];
                add_at(&mut account.subtree_alloc, name, delta);
                if counts_for_quota {
                    let before = account.unmet(name);
                    add_at(&mut account.unreserved_alloc, name, delta);
                    let after = account.unmet(name);
                    if before != after && !self.required_stale {
                        // Keep the sums of unmet guarantees current without a recount.
                        if account.outer {
                            add_at(&mut self.required, name, after - before);
                        }
                        self.unmet_pairs =
                            self.unmet_pairs + usize::from(after > 0) - usize::from(before > 0);
                    }
                }
            }
            add_at(&mut fw.role_mut(role).alloc, name, delta);
            if counts_for_quota {
                add_at(&mut self.unreserved_free, name, -delta);
                widens |= direction == Move::Release;
            }
        }
        if widens && !self.quota_roles.is_empty() {
            self.headroom_gen += 1;
        }
        agent.free_print = fingerprint(&agent.free);
        if agent.allocations[record].held.iter().all(Amount::is_empty) {
            agent.allocations.swap_remove(record);
        }
        self.mark_role(role);
        self.mark_framework(fw, fw_index, role);
    }

    /// Recomputes the sum of unmet guarantees if stale. A role below another role with a
    /// guarantee is left out: its consumption counts toward the ancestor's (subtree)
    /// consumption, so the ancestor's unmet guarantee already holds room for it.
    pub(crate) fn refresh_required(&mut self, tree: &RoleTree) {
        if !self.required_stale {
            return;
        }
        self.required.clear();
        self.unmet_pairs = 0;
        for account in &mut self.accounts {
            account.outer = false;
        }
        for q in 0..self.quota_roles.len() {
            let r = self.quota_roles[q];
            let nested = tree
                .chain(r)
                .skip(1)
                .any(|a| self.accounts[a as usize].guarantee.iter().any(|&g| g > 0));
            let account = &mut self.accounts[r as usize];
            account.outer = !nested && account.guarantee.iter().any(|&g| g > 0);
            for n in 0..account.guarantee.len() {
                let unmet = account.unmet(n);
                self.unmet_pairs += usize::from(unmet > 0);
                if account.outer {
                    add_at(&mut self.required, n, unmet);
                }
            }
        }
        self.required_stale = false;
    }

    /// Unreserved free `name` beyond what unmet guarantees hold back.
    pub(crate) fn surplus(&self, name: usize) -> i64 {
        (get_at(&self.unreserved_free, name) - get_at(&self.required, name)).max(0)
    }

    /// Refreshes every stale sort key.
    pub(crate) fn refresh_keys(
        &mut self,
        tree: &mut RoleTree,
        frameworks: &mut [Option<FrameworkState>],
    ) {
        self.sync_roles(tree.nodes.len());
        if self.all_stale {
            for r in 1..tree.nodes.len() as RoleIdx {
                let account = &self.accounts[r as usize];
                tree.rekey_role(r, &account.own_alloc, &account.subtree_alloc, &self.totals);
            }
            for fw in frameworks.iter_mut().flatten() {
                for entry in &mut fw.roles {
                    if let Some(key) = entry.key {
                        let share = dominant_share(&entry.alloc, &self.totals, 1.0);
                        entry.key = Some(
                            tree.nodes[entry.role as usize]
                                .frameworks
                                .update(key, share),
                        );
                    }
                    entry.dirty = false;
                }
            }
            for r in self.dirty_roles.drain(..) {
                self.role_dirty[r as usize] = false;
            }
            self.dirty_frameworks.clear();
            self.all_stale = false;
            return;
        }
        for (index, role) in self.dirty_frameworks.drain(..) {
            let Some(fw) = frameworks.get_mut(index as usize).and_then(Option::as_mut) else {
                continue;
            };
            let entry = fw.role_mut(role);
            entry.dirty = false;
            if let Some(key) = entry.key {
                let share = dominant_share(&entry.alloc, &self.totals, 1.0);
                entry.key = Some(tree.nodes[role as usize].frameworks.update(key, share));
            }
        }
        for i in 0..self.dirty_roles.len() {
            let r = self.dirty_roles[i];
            self.role_dirty[r as usize] = false;
            let mut c = r;
            while c != ROOT {
                let account = &self.accounts[c as usize];
                tree.rekey_role(c, &account.own_alloc, &account.subtree_alloc, &self.totals);
                c = tree.nodes[c as usize].parent;
            }
        }
        self.dirty_roles.clear();
    }
}
