//! The role tree: role names, their hierarchy (`eng/web` is a child of `eng`), weights, and
//! the DRF order at every level.
//!
//! Each role node keeps two [`Sorter`]s: one over its children plus an [`OWN`] entry that
//! stands for the role's own frameworks (Mesos's virtual leaf), and one over the frameworks
//! subscribed to the role. A walk ([`RoleTree::visit`]) goes depth-first through the
//! children in share order, so a role's turn comes at the place its subtree's share earns.
//!
//! Invariants: node 0 is the root (no name, no frameworks); every other node's parent exists
//! and holds exactly one entry for it; roles are never deleted (ids stay valid).
//! The node's sort keys are owned by the node (`key_in_parent`, `own_key`); the allocator
//! refreshes them through [`RoleTree::rekey_role`] after changing allocations.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::error::AllocatorError;
use super::sorter::{dominant_share, SortKey, Sorter};

/// Index of a role node.
pub(crate) type RoleIdx = u32;

/// The root's index.
pub(crate) const ROOT: RoleIdx = 0;

/// The member id standing for a role's own frameworks in its children sorter.
pub(crate) const OWN: u32 = u32::MAX;

/// Checks a role name against Mesos's rules (see `meso_api::roles::validate_role`).
pub fn validate_role_name(role: &str) -> Result<(), AllocatorError> {
    meso_api::roles::validate_role(role).map_err(|e| AllocatorError::InvalidRoleName {
        role: role.to_string(),
        reason: e.to_string(),
    })
}

/// Walk events of [`RoleTree::visit`].
pub(crate) enum Visit {
    /// About to visit a role's own frameworks; answer `Skip` to pass over them.
    Role(RoleIdx),
    /// A framework subscribed to a role, in DRF order.
    Framework(RoleIdx, u32),
}

/// What the walker wants next.
#[derive(PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on.
    Continue,
    /// Pass over this role's frameworks.
    Skip,
    /// End the walk.
    Stop,
}

/// One role.
#[derive(Debug)]
pub(crate) struct RoleNode {
    /// Full name (`eng/web`); empty for the root.
    pub(crate) name: Arc<str>,
    /// Parent node (the root's parent is itself).
    pub(crate) parent: RoleIdx,
    /// Weight (default 1).
    pub(crate) weight: f64,
    /// Children and [`OWN`], by weighted dominant share.
    pub(crate) children: Sorter,
    /// Subscribed frameworks, by dominant share within this role.
    pub(crate) frameworks: Sorter,
    /// This node's key in its parent's `children`.
    pub(crate) key_in_parent: SortKey,
    /// The [`OWN`] entry's key in `children`.
    pub(crate) own_key: SortKey,
}

/// All roles, by index and by name.
#[derive(Debug)]
pub(crate) struct RoleTree {
    pub(crate) nodes: Vec<RoleNode>,
    by_name: HashMap<String, RoleIdx>,
}

impl RoleTree {
    /// A tree holding only the root.
    pub(crate) fn new() -> RoleTree {
        RoleTree {
            nodes: vec![RoleNode {
                name: Arc::from(""),
                parent: ROOT,
                weight: 1.0,
                children: Sorter::default(),
                frameworks: Sorter::default(),
                key_in_parent: (0, ROOT),
                own_key: (0, OWN),
            }],
            by_name: HashMap::new(),
        }
    }

    /// The index of `name` if it exists.
    pub(crate) fn lookup(&self, name: &str) -> Option<RoleIdx> {
        self.by_name.get(name).copied()
    }

    /// The index of `name`, creating it and its ancestors (at share 0) if needed.
    pub(crate) fn ensure(&mut self, name: &str) -> Result<RoleIdx, AllocatorError> {
        if let Some(idx) = self.lookup(name) {
            return Ok(idx);
        }
        validate_role_name(name)?;
        let parent = match name.rsplit_once('/') {
            Some((parent, _)) => self.ensure(parent)?,
            None => ROOT,
        };
        let idx = RoleIdx::try_from(self.nodes.len())
            .ok()
            .filter(|&i| i != OWN)
            .expect("fewer than 2^32-1 roles: role ids fit in u32 below the OWN marker");
        let mut children = Sorter::default();
        let own_key = children.insert(OWN, 0.0);
        let key_in_parent = self.nodes[parent as usize].children.insert(idx, 0.0);
        self.nodes.push(RoleNode {
            name: Arc::from(name),
            parent,
            weight: 1.0,
            children,
            frameworks: Sorter::default(),
            key_in_parent,
            own_key,
        });
        self.by_name.insert(name.to_string(), idx);
        Ok(idx)
    }

    /// The role's name.
    pub(crate) fn name(&self, role: RoleIdx) -> &str {
        &self.nodes[role as usize].name
    }

    /// The role's name, shared.
    pub(crate) fn shared_name(&self, role: RoleIdx) -> Arc<str> {
        self.nodes[role as usize].name.clone()
    }

    /// True if `role` is `ancestor` or lies below it.
    pub(crate) fn is_within(&self, mut role: RoleIdx, ancestor: RoleIdx) -> bool {
        loop {
            if role == ancestor {
                return true;
            }
            if role == ROOT {
                return false;
            }
            role = self.nodes[role as usize].parent;
        }
    }

    /// `role` and its ancestors up to (not including) the root.
    pub(crate) fn chain(&self, role: RoleIdx) -> impl Iterator<Item = RoleIdx> + '_ {
        let mut next = Some(role);
        std::iter::from_fn(move || {
            let cur = next?;
            if cur == ROOT {
                return None;
            }
            next = Some(self.nodes[cur as usize].parent);
            Some(cur)
        })
    }

    /// Recomputes the keys of `role` (own entry and its place in its parent) from
    /// `own_alloc` and `subtree_alloc` (by resource-name id) against `total`.
    pub(crate) fn rekey_role(
        &mut self,
        role: RoleIdx,
        own_alloc: &[i64],
        subtree_alloc: &[i64],
        total: &[i64],
    ) {
        if role == ROOT {
            return;
        }
        let node = &mut self.nodes[role as usize];
        let weight = node.weight;
        node.own_key = node
            .children
            .update(node.own_key, dominant_share(own_alloc, total, weight));
        let parent = node.parent;
        let old = node.key_in_parent;
        let new = self.nodes[parent as usize]
            .children
            .update(old, dominant_share(subtree_alloc, total, weight));
        self.nodes[role as usize].key_in_parent = new;
    }

    /// Depth-first walk in DRF order: at each node its children and its own frameworks by
    /// share; `f` sees each role before its frameworks and may skip them or stop the walk.
    pub(crate) fn visit<F>(&self, node: RoleIdx, f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Visit) -> Step,
    {
        for member in self.nodes[node as usize].children.iter() {
            if member == OWN {
                match f(Visit::Role(node)) {
                    Step::Stop => return ControlFlow::Break(()),
                    Step::Skip => continue,
                    Step::Continue => {}
                }
                for fw in self.nodes[node as usize].frameworks.iter() {
                    if f(Visit::Framework(node, fw)) == Step::Stop {
                        return ControlFlow::Break(());
                    }
                }
            } else {
                self.visit(member, f)?;
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_the_rules() {
        for good in ["*", "eng", "eng/web", "a.b", "x-y/z_1"] {
            assert!(validate_role_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "/eng", "eng/", "eng//web", ".", "eng/..", "-x", "a b", "*/x",
        ] {
            assert!(validate_role_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ensure_creates_ancestors_once() {
        let mut tree = RoleTree::new();
        let web = tree.ensure("eng/web").unwrap();
        let eng = tree.lookup("eng").unwrap();
        assert_eq!(tree.nodes[web as usize].parent, eng);
        assert_eq!(tree.ensure("eng/web").unwrap(), web);
        assert!(tree.is_within(web, eng));
        assert!(!tree.is_within(eng, web));
        assert_eq!(tree.chain(web).collect::<Vec<_>>(), vec![web, eng]);
        assert!(tree.ensure("bad//name").is_err());
    }

    #[test]
    fn walk_visits_the_lower_share_subtree_first() {
        let mut tree = RoleTree::new();
        let a = tree.ensure("a").unwrap();
        let b = tree.ensure("b").unwrap();
        let total = [100];
        tree.rekey_role(a, &[50], &[50], &total);
        let mut seen = Vec::new();
        let _ = tree.visit(ROOT, &mut |v| {
            if let Visit::Role(r) = v {
                seen.push(r);
            }
            Step::Continue
        });
        assert_eq!(seen, vec![b, a]);
    }
}
