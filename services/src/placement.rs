//! Which offers take which new instances: resources (cpus, mem, disk, gpus and one host
//! port per port definition) from the roles the app accepts, and every constraint checked
//! against the app's placed instances, old versions included, and the ones placed in this
//! same round.
//!
//! Instances go to offers in turn (each placement moves on to the next offer), so a round
//! spreads over agents rather than filling the first.

use std::collections::BTreeMap;

use meso_api::attributes::Attributes;
use meso_api::resources::{Ranges, Value};
use meso_api::{Resource, Resources, Scalar};
use serde::{Deserialize, Serialize};

use crate::app::AppDefinition;
use crate::constraints::{attribute_text, Constraint};

/// What constraints look at about an agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentFacts {
    /// The agent's hostname.
    pub hostname: String,
    /// Its attributes in Mesos notation.
    pub attributes: BTreeMap<String, String>,
}

impl AgentFacts {
    /// The facts of an offer's agent.
    pub fn of(hostname: &str, attributes: &Attributes) -> AgentFacts {
        AgentFacts {
            hostname: hostname.to_string(),
            attributes: attributes
                .0
                .iter()
                .map(|a| (a.name.clone(), attribute_text(&a.value)))
                .collect(),
        }
    }

    /// The value of a constraint field (`hostname` or an attribute).
    pub fn value(&self, field: &str) -> Option<String> {
        if field == "hostname" {
            Some(self.hostname.clone())
        } else {
            self.attributes.get(field).cloned()
        }
    }
}

/// Whether one more instance may go to `candidate`, given where the app's instances are.
pub fn constraints_allow(
    constraints: &[Constraint],
    candidate: &AgentFacts,
    placed: &[AgentFacts],
) -> bool {
    constraints.iter().all(|c| {
        let values: Vec<Option<String>> = placed.iter().map(|p| p.value(&c.field)).collect();
        c.accepts(candidate.value(&c.field).as_deref(), &values)
    })
}

/// An offer as the planner sees it: its agent and what is still free in it.
#[derive(Debug, Clone)]
pub struct OfferSlot {
    /// The agent's facts.
    pub facts: AgentFacts,
    /// Resources not yet taken this round.
    pub remaining: Resources,
}

/// One instance's share of an offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Index of the offer in the slots given.
    pub offer: usize,
    /// The resources the task takes (allocation info as offered).
    pub resources: Resources,
    /// The host ports, one per port definition.
    pub ports: Vec<u64>,
}

/// Whether a resource piece may be used by `app` running under `role`.
fn usable(app: &AppDefinition, role: &str, r: &Resource) -> bool {
    let res_role = r.reservation_role();
    let role_ok = if app.accepted_resource_roles.is_empty() {
        res_role == "*" || res_role == role
    } else {
        app.accepted_resource_roles.iter().any(|a| a == res_role)
    };
    let revocable_ok = if matches!(&*r.name, "cpus" | "mem") {
        r.revocable == app.revocable
    } else {
        !r.revocable
    };
    role_ok && revocable_ok && r.disk.as_ref().is_none_or(|d| d.persistence.is_none())
}

/// Takes `amount` of scalar `name` from the usable pieces of `from`.
fn take_scalar(
    from: &Resources,
    name: &str,
    amount: f64,
    ok: &dyn Fn(&Resource) -> bool,
) -> Option<Vec<Resource>> {
    let mut need = Scalar::from_f64(amount).ok()?;
    let mut out = Vec::new();
    if need == Scalar::default() {
        return Some(out);
    }
    for r in from.iter().filter(|r| &*r.name == name && ok(r)) {
        let Value::Scalar(have) = &r.value else {
            continue;
        };
        let part = (*have).min(need);
        if part == Scalar::default() {
            continue;
        }
        let mut piece = r.clone();
        piece.value = Value::Scalar(part);
        out.push(piece);
        need = need.checked_sub(part)?;
        if need == Scalar::default() {
            return Some(out);
        }
    }
    None
}

/// Takes `count` host ports (the given ones when `fixed`) from the usable pieces.
fn take_ports(
    from: &Resources,
    wanted: &[u64],
    fixed: bool,
    ok: &dyn Fn(&Resource) -> bool,
) -> Option<(Vec<Resource>, Vec<u64>)> {
    let mut out = Vec::new();
    let mut ports = Vec::new();
    let mut left = wanted.len();
    if left == 0 {
        return Some((out, ports));
    }
    for r in from.iter().filter(|r| &*r.name == "ports" && ok(r)) {
        let Value::Ranges(have) = &r.value else {
            continue;
        };
        let mut chosen = Vec::new();
        if fixed {
            for p in wanted {
                if have.contains_value(*p) && !ports.contains(p) {
                    chosen.push(*p);
                }
            }
        } else {
            'ranges: for range in have.as_slice() {
                for p in range.begin..=range.end {
                    if chosen.len() == left {
                        break 'ranges;
                    }
                    chosen.push(p);
                }
            }
        }
        if chosen.is_empty() {
            continue;
        }
        left -= chosen.len().min(left);
        let mut piece = r.clone();
        piece.value = Value::Ranges(Ranges::coalesced(chosen.iter().map(|p| (*p, *p))).ok()?);
        out.push(piece);
        ports.extend(chosen);
        if left == 0 {
            break;
        }
    }
    (left == 0).then_some((out, ports))
}

/// The resources and host ports of one instance of `app` from `offer`, if they fit.
pub fn fit(app: &AppDefinition, role: &str, offer: &Resources) -> Option<(Resources, Vec<u64>)> {
    let ok = |r: &Resource| usable(app, role, r);
    let mut pieces = Vec::new();
    for (name, amount) in [
        ("cpus", app.cpus),
        ("mem", app.mem),
        ("disk", app.disk),
        ("gpus", app.gpus as f64),
    ] {
        pieces.extend(take_scalar(offer, name, amount, &ok)?);
    }
    let wanted: Vec<u64> = app.port_definitions.iter().map(|p| p.port).collect();
    let (port_pieces, ports) = take_ports(offer, &wanted, app.require_ports, &ok)?;
    pieces.extend(port_pieces);
    let mut resources = Resources::new();
    for p in pieces {
        resources.add_resource(&p);
    }
    Some((resources, ports))
}

/// Places up to `count` instances of `app` (under `role`) on `offers`, taking what each
/// uses out of the offer's `remaining`; `placed` are the agents of the app's instances
/// that exist (every version). Returns the placements made, in order.
pub fn place(
    app: &AppDefinition,
    role: &str,
    constraints: &[Constraint],
    offers: &mut [OfferSlot],
    placed: &[AgentFacts],
    count: usize,
) -> Vec<Placement> {
    let mut placed = placed.to_vec();
    let mut out = Vec::new();
    let mut start = 0;
    while out.len() < count && !offers.is_empty() {
        let mut done = false;
        for k in 0..offers.len() {
            let i = (start + k) % offers.len();
            let slot = &mut offers[i];
            if !constraints_allow(constraints, &slot.facts, &placed) {
                continue;
            }
            let Some((resources, ports)) = fit(app, role, &slot.remaining) else {
                continue;
            };
            for r in resources.iter() {
                slot.remaining.subtract_resource(r);
            }
            placed.push(slot.facts.clone());
            out.push(Placement {
                offer: i,
                resources,
                ports,
            });
            start = i + 1;
            done = true;
            break;
        }
        if !done {
            break;
        }
    }
    out
}

/// A port range resource (for tests and emulated offers).
pub fn ports_resource(begin: u64, end: u64) -> Resource {
    Resource::new(
        "ports",
        Value::Ranges(Ranges::from_pairs([(begin, end)]).expect("begin <= end")),
    )
}

#[cfg(test)]
mod tests;
