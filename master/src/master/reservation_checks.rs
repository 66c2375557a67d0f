//! The checks Mesos's master makes on RESERVE, UNRESERVE, CREATE, DESTROY, GROW_VOLUME and
//! SHRINK_VOLUME before applying one, whether an operator asked (RESERVE_RESOURCES ...,
//! `/master/reserve` ...) or a framework put it in an ACCEPT; pure functions over the
//! operation, who asks, and what is in use. What the operation consumes must also be
//! there: free on the agent for an operator (the allocator answers that), offered to the
//! framework for an ACCEPT (`Resources::apply` on the offers answers that).
//!
//! Who asks ([`Asker`]): an operator's principal is the authenticated caller (none when
//! HTTP authentication is off); a framework's is its `FrameworkInfo.principal` and its
//! roles bound which roles it may reserve for. A reservation or volume that names a
//! principal must name the asker's when the asker has one (Mesos's check; without
//! authentication there is nothing to check a named principal against, so it is kept as
//! given).
//!
//! Persistent volumes are mounted inside sandboxes: their `container_path` must be a
//! relative path without `..`, RW, and without `host_path`.

use meso_api::resources::{ReservationType, Resource};
use meso_api::v1::{Operation, OperationType};
use meso_api::Resources;

/// Who asks for an operation.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// The principal (authenticated operator, or the framework's).
    pub principal: Option<&'a str>,
    /// The framework's roles; `None` for an operator (any role).
    pub roles: Option<&'a [String]>,
}

/// The resources an operation names, whichever its kind.
fn named(op: &Operation) -> Resources {
    let mut out = Resources::new();
    if let Some(r) = &op.reserve {
        out += &r.resources;
    }
    if let Some(u) = &op.unreserve {
        out += &u.resources;
    }
    if let Some(c) = &op.create {
        out += &c.volumes;
    }
    if let Some(d) = &op.destroy {
        out += &d.volumes;
    }
    if let Some(g) = &op.grow_volume {
        out.push(g.volume.clone());
        out.push(g.addition.clone());
    }
    if let Some(s) = &op.shrink_volume {
        out.push(s.volume.clone());
    }
    out
}

fn check_principal(kind: &str, asker: &Asker<'_>, named: Option<&str>) -> Result<(), String> {
    match (asker.principal, named) {
        (Some(mine), Some(theirs)) if mine != theirs => Err(format!(
            "{kind} was attempted by principal '{mine}', which does not match the principal \
             '{theirs}' in the request"
        )),
        _ => Ok(()),
    }
}

fn check_role(asker: &Asker<'_>, role: &str) -> Result<(), String> {
    match asker.roles {
        Some(roles) if !roles.iter().any(|r| r == role) => Err(format!(
            "role '{role}' is not one the framework is subscribed to ({})",
            roles.join(", ")
        )),
        _ => Ok(()),
    }
}

fn check_volume(v: &Resource) -> Result<(), String> {
    let disk = v.disk.as_ref();
    let Some(persistence) = disk.and_then(|d| d.persistence.as_ref()) else {
        return Err(format!(
            "{v} is not a persistent volume (no 'disk.persistence')"
        ));
    };
    let Some(volume) = disk.and_then(|d| d.volume.as_ref()) else {
        return Err(format!(
            "persistent volume '{}' needs 'disk.volume' with a 'container_path'",
            persistence.id
        ));
    };
    let path = std::path::Path::new(&volume.container_path);
    let bad_path = volume.container_path.is_empty()
        || path.is_absolute()
        || path
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
    if bad_path {
        return Err(format!(
            "persistent volume '{}': 'container_path' '{}' must be a relative path inside \
             the sandbox, without '..'",
            persistence.id, volume.container_path
        ));
    }
    if volume.host_path.is_some() {
        return Err(format!(
            "persistent volume '{}': 'host_path' cannot be set",
            persistence.id
        ));
    }
    if volume.mode != meso_api::resources::VolumeMode::Rw {
        return Err(format!(
            "persistent volume '{}': read-only persistent volumes are not supported",
            persistence.id
        ));
    }
    if !v.is_reserved() {
        return Err(format!(
            "persistent volume '{}' must be on reserved disk",
            persistence.id
        ));
    }
    Ok(())
}

/// Checks `op` for `asker` (see the module docs); `in_use` is what unfinished tasks and
/// executors on the agent hold (unallocated), for DESTROY and SHRINK. The error says what
/// is wrong, naming the resource or field.
pub fn check_operation(
    op: &Operation,
    asker: &Asker<'_>,
    in_use: &Resources,
) -> Result<(), String> {
    op.validate().map_err(|e| e.to_string())?;
    let kind = op.kind;
    let resources = named(op).unallocate();
    resources.validate().map_err(|e| e.to_string())?;
    if resources.is_empty() && !matches!(kind, OperationType::Destroy | OperationType::Unreserve) {
        return Err(format!("{kind} names no resources"));
    }
    match kind {
        OperationType::Reserve => {
            for r in resources.iter() {
                let top = r
                    .reservations
                    .last()
                    .filter(|t| t.kind == ReservationType::Dynamic)
                    .ok_or_else(|| {
                        format!("{r} must have a DYNAMIC reservation on top of 'reservations'")
                    })?;
                check_role(asker, &top.role)?;
                check_principal("RESERVE", asker, top.principal.as_deref())?;
            }
        }
        OperationType::Unreserve => {
            for r in resources.iter() {
                if !r.is_dynamically_reserved() {
                    return Err(format!("{r} is not dynamically reserved"));
                }
                check_role(asker, r.reservation_role())?;
            }
        }
        OperationType::Create => {
            for v in resources.iter() {
                check_volume(v)?;
                check_role(asker, v.reservation_role())?;
                let principal = v
                    .disk
                    .as_ref()
                    .and_then(|d| d.persistence.as_ref())
                    .and_then(|p| p.principal.as_deref());
                check_principal("CREATE", asker, principal)?;
            }
        }
        OperationType::Destroy | OperationType::ShrinkVolume | OperationType::GrowVolume => {
            for v in resources.iter().filter(|r| r.is_persistent_volume()) {
                check_role(asker, v.reservation_role())?;
                if kind != OperationType::GrowVolume && in_use.contains_resource(v) {
                    let id = v
                        .disk
                        .as_ref()
                        .and_then(|d| d.persistence.as_ref())
                        .map(|p| p.id.as_str())
                        .unwrap_or_default();
                    return Err(format!(
                        "persistent volume '{id}' is in use by a task or executor"
                    ));
                }
            }
        }
        other => return Err(format!("{other} is not a reservation or volume operation")),
    }
    Ok(())
}

/// `op` with every resource it names allocated to `role` where no allocation is set (as
/// Mesos injects `allocation_info` into a framework's operations).
pub fn allocated(op: &Operation, role: &str) -> Operation {
    map_resources(op, |r| super::validation::allocate_unset(r, role))
}

/// `op` with every resource it names unallocated (how it applies to an agent's total).
pub fn unallocated(op: &Operation) -> Operation {
    map_resources(op, Resources::unallocate)
}

fn map_resources(op: &Operation, f: impl Fn(&Resources) -> Resources) -> Operation {
    let one = |r: &Resource| {
        f(&Resources::from(r.clone()))
            .into_iter()
            .next()
            .unwrap_or_else(|| r.clone())
    };
    let mut out = op.clone();
    if let Some(r) = out.reserve.as_mut() {
        r.resources = f(&r.resources);
        r.source = f(&r.source);
    }
    if let Some(u) = out.unreserve.as_mut() {
        u.resources = f(&u.resources);
    }
    if let Some(c) = out.create.as_mut() {
        c.volumes = f(&c.volumes);
    }
    if let Some(d) = out.destroy.as_mut() {
        d.volumes = f(&d.volumes);
    }
    if let Some(g) = out.grow_volume.as_mut() {
        g.volume = one(&g.volume);
        g.addition = one(&g.addition);
    }
    if let Some(s) = out.shrink_volume.as_mut() {
        s.volume = one(&s.volume);
    }
    out
}

/// What applying an operation to `before` consumed and produced (`before - after`,
/// `after - before`): the conversion the allocator makes.
pub fn conversion(before: &Resources, after: &Resources) -> (Resources, Resources) {
    (before.clone() - after, after.clone() - before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::resources::{DiskInfo, Persistence, ReservationInfo, Volume, VolumeMode};

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    fn dynamic(text: &str, role: &str, principal: Option<&str>) -> Resources {
        res(text).push_reservation(&ReservationInfo::dynamically(role, principal))
    }

    fn volume(id: &str, path: &str, principal: Option<&str>) -> Resource {
        dynamic("disk:10", "ops", principal)
            .into_iter()
            .next()
            .unwrap()
            .with_disk(DiskInfo {
                persistence: Some(Persistence {
                    id: id.into(),
                    principal: principal.map(str::to_string),
                }),
                volume: Some(Volume {
                    mode: VolumeMode::Rw,
                    container_path: path.into(),
                    host_path: None,
                }),
                source: None,
            })
    }

    const OPERATOR: Asker<'static> = Asker {
        principal: None,
        roles: None,
    };

    #[test]
    fn a_reservation_needs_a_dynamic_top_a_subscribed_role_and_the_askers_principal() {
        let ok = Operation::reserve(dynamic("cpus:1", "ops", Some("alice")));
        check_operation(&ok, &OPERATOR, &Resources::new()).unwrap();
        let alice = Asker {
            principal: Some("alice"),
            roles: None,
        };
        check_operation(&ok, &alice, &Resources::new()).unwrap();
        let bob = Asker {
            principal: Some("bob"),
            roles: None,
        };
        let err = check_operation(&ok, &bob, &Resources::new()).unwrap_err();
        assert!(err.contains("'bob'") && err.contains("'alice'"), "{err}");
        let roles = ["dev".to_string()];
        let framework = Asker {
            principal: None,
            roles: Some(&roles),
        };
        let err = check_operation(&ok, &framework, &Resources::new()).unwrap_err();
        assert!(err.contains("role 'ops' is not one the framework"), "{err}");
        let err = check_operation(
            &Operation::reserve(res("cpus(ops):1")),
            &OPERATOR,
            &Resources::new(),
        )
        .unwrap_err();
        assert!(err.contains("DYNAMIC reservation"), "{err}");
        let err = check_operation(
            &Operation::reserve(Resources::new()),
            &OPERATOR,
            &Resources::new(),
        )
        .unwrap_err();
        assert!(err.contains("names no resources"), "{err}");
        let err = check_operation(
            &Operation::unreserve(res("cpus(ops):1")),
            &OPERATOR,
            &Resources::new(),
        )
        .unwrap_err();
        assert!(err.contains("not dynamically reserved"), "{err}");
    }

    #[test]
    fn volumes_need_a_safe_path_and_destroy_refuses_one_in_use() {
        let good = volume("v1", "data", None);
        check_operation(
            &Operation::create(good.clone().into()),
            &OPERATOR,
            &Resources::new(),
        )
        .unwrap();
        for (path, why) in [
            ("/abs", "relative"),
            ("../up", "without '..'"),
            ("", "relative"),
        ] {
            let err = check_operation(
                &Operation::create(volume("v1", path, None).into()),
                &OPERATOR,
                &Resources::new(),
            )
            .unwrap_err();
            assert!(err.contains(why), "{path}: {err}");
        }
        let err = check_operation(
            &Operation::create(res("disk:1").into_iter().collect()),
            &OPERATOR,
            &Resources::new(),
        )
        .unwrap_err();
        assert!(err.contains("not a persistent volume"), "{err}");
        let in_use: Resources = good.clone().into();
        let err = check_operation(&Operation::destroy(good.clone().into()), &OPERATOR, &in_use)
            .unwrap_err();
        assert!(err.contains("'v1' is in use"), "{err}");
        check_operation(
            &Operation::destroy(good.into()),
            &OPERATOR,
            &Resources::new(),
        )
        .unwrap();
    }

    #[test]
    fn a_conversion_is_what_the_operation_took_and_gave() {
        let before = res("cpus:4;mem:10");
        let reserved = dynamic("cpus:1", "ops", None);
        let after = before.apply(&Operation::reserve(reserved.clone())).unwrap();
        let (consumed, produced) = conversion(&before, &after);
        assert_eq!(consumed, res("cpus:1"));
        assert_eq!(produced, reserved);
        let op = allocated(&Operation::reserve(reserved.clone()), "ops");
        assert!(op
            .reserve
            .as_ref()
            .unwrap()
            .resources
            .iter()
            .all(|r| r.allocation_role.as_deref() == Some("ops")));
        assert_eq!(unallocated(&op).reserve.unwrap().resources, reserved);
    }
}
