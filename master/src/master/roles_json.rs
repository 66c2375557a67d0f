//! `/master/roles` (HTTP reference §4.3) and the roles of `GET_ROLES`: every role that a
//! framework is subscribed to, that holds a reservation on an agent, that has tasks or
//! offers, or that the operator gave a weight or quota, with its weight, its quota
//! (guarantee, limit and consumption: reservations plus unreserved allocations), and its
//! allocated, offered and reserved resources. Pure.
//!
//! Invariant: roles are listed by name; `resources` is allocated plus offered, as Mesos's
//! legacy field.

use std::collections::BTreeMap;

use meso_api::Resources;
use serde::Serialize;

use super::role_controls::{add_into, amounts_of, RoleControls};
use super::state_json::{framework_id, ResourcesObject, StateView};

/// One role's books.
#[derive(Default)]
pub struct RoleBooks<'a> {
    /// Resources of active tasks.
    pub allocated: Resources,
    /// Resources in outstanding offers.
    pub offered: Resources,
    /// Resources reserved to it on agents.
    pub reserved: Resources,
    /// Frameworks subscribed to it.
    pub frameworks: Vec<&'a str>,
}

/// Every known role and its books, by name.
pub fn role_books<'a>(view: &StateView<'a>) -> BTreeMap<String, RoleBooks<'a>> {
    let mut roles: BTreeMap<String, RoleBooks<'a>> = BTreeMap::new();
    for f in view.frameworks.iter() {
        for role in f.info.effective_roles() {
            roles
                .entry(role.to_string())
                .or_default()
                .frameworks
                .push(framework_id(f).as_str());
        }
    }
    for a in view.agents.iter() {
        for (role, r) in a.info.resources.reservations() {
            roles.entry(role.to_string()).or_default().reserved += &r;
        }
    }
    for t in view.tasks.active() {
        roles.entry(t.role.clone()).or_default().allocated += &t.info.resources;
    }
    for o in view.offers.iter() {
        roles.entry(o.role.clone()).or_default().offered += &o.offer.resources;
    }
    roles
}

/// [`role_books`] plus the roles that only have a weight or a quota.
pub fn role_books_with<'a>(
    view: &StateView<'a>,
    controls: &RoleControls,
) -> BTreeMap<String, RoleBooks<'a>> {
    let mut roles = role_books(view);
    for role in controls.weights.keys().chain(controls.quotas.keys()) {
        roles.entry(role.clone()).or_default();
    }
    roles
}

/// The `/master/roles` body.
pub fn roles(view: &StateView<'_>, controls: &RoleControls) -> Vec<u8> {
    #[derive(Serialize)]
    struct Role<'a> {
        name: &'a str,
        weight: f64,
        quota: serde_json::Value,
        resources: ResourcesObject<'a>,
        allocated: ResourcesObject<'a>,
        offered: ResourcesObject<'a>,
        reserved: ResourcesObject<'a>,
        frameworks: &'a [&'a str],
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        roles: Vec<Role<'a>>,
    }
    let books = role_books_with(view, controls);
    let sums: Vec<Resources> = books
        .values()
        .map(|b| {
            let mut r = b.allocated.clone();
            r += &b.offered;
            r
        })
        .collect();
    let doc = Doc {
        roles: books
            .iter()
            .zip(&sums)
            .map(|((name, b), sum)| Role {
                name,
                weight: controls.weight(name),
                quota: {
                    let mut consumed = amounts_of(&b.reserved);
                    add_into(&mut consumed, &amounts_of(&b.allocated.unreserved()));
                    controls.roles_quota(name, &consumed)
                },
                resources: ResourcesObject(sum),
                allocated: ResourcesObject(&b.allocated),
                offered: ResourcesObject(&b.offered),
                reserved: ResourcesObject(&b.reserved),
                frameworks: &b.frameworks,
            })
            .collect(),
    };
    serde_json::to_vec(&doc).expect("roles serialise")
}
