//! Applying offer operations to an agent's resources (Mesos's `Resources::apply`). Here,
//! beside the v1 `Operation` it reads, so that `crate::resources` never imports `v1`.
//!
//! RESERVE, UNRESERVE, CREATE, DESTROY, GROW_VOLUME and SHRINK_VOLUME convert resources
//! from one shape to another without changing the total quantity; LAUNCH and LAUNCH_GROUP
//! leave the total unchanged. Each conversion checks its preconditions first and refuses,
//! naming the resource, when the agent does not hold what the operation consumes: the
//! result is all-or-nothing.
//!
//! Checkpointed resources (Mesos's `needCheckpointing`): the dynamically reserved
//! resources and persistent volumes of an agent. The agent keeps them on disk and reports
//! them when it (re)registers; [`Resources::apply_checkpointed`] rebuilds the agent's total
//! from its static `--resources` and them (Mesos's `applyCheckpointedResources`).

use super::{Operation, OperationType};
use crate::error::{Error, Result};
use crate::resources::{Resource, Resources};

fn refuse(kind: OperationType, resource: &Resource, reason: &str) -> Error {
    Error::Invalid {
        what: format!("{kind} of {resource}"),
        reason: reason.to_string(),
    }
}

/// A persistent volume without its persistence and volume (what CREATE consumes and
/// DESTROY gives back): disk info stays only when it names a source, and `shared` goes.
fn without_persistence(volume: &Resource) -> Resource {
    let mut plain = volume.clone();
    plain.shared = false;
    if let Some(disk) = plain.disk.as_mut() {
        disk.persistence = None;
        disk.volume = None;
    }
    if plain.disk.as_ref().is_some_and(|d| d.source.is_none()) {
        plain.disk = None;
    }
    plain
}

/// `resource` as the agent's flags made it: the dynamic reservations on top of its stack
/// popped, no persistence, no volume, not shared.
fn as_static(resource: &Resource) -> Resource {
    let mut plain = without_persistence(resource);
    while plain.is_dynamically_reserved() {
        plain.reservations.pop();
    }
    plain
}

/// Replaces `consumed` by `produced` in `result`, refusing when `consumed` is not held.
fn convert_one(
    result: &mut Resources,
    kind: OperationType,
    consumed: &Resource,
    produced: &Resource,
) -> Result<()> {
    if !result.contains_resource(consumed) {
        return Err(refuse(kind, consumed, "not held by the agent"));
    }
    result.subtract_resource(consumed);
    result.add_resource(produced);
    Ok(())
}

/// Refuses a GROW_VOLUME or SHRINK_VOLUME of something that is not a resizable volume: a
/// persistent volume on a PATH disk or the root disk, not shared (as Mesos).
fn check_resizable(kind: OperationType, volume: &Resource) -> Result<()> {
    if !volume.is_persistent_volume() {
        return Err(refuse(kind, volume, "not a persistent volume"));
    }
    if volume.shared {
        return Err(refuse(kind, volume, "a shared volume cannot be resized"));
    }
    if volume.is_atomic_disk() {
        return Err(refuse(
            kind,
            volume,
            "a MOUNT or BLOCK volume cannot be resized",
        ));
    }
    Ok(())
}

impl Resource {
    /// True for what an agent must checkpoint: a dynamic reservation anywhere in its stack,
    /// or a persistent volume.
    pub fn needs_checkpointing(&self) -> bool {
        self.is_persistent_volume()
            || self
                .reservations
                .iter()
                .any(|r| r.kind == crate::resources::ReservationType::Dynamic)
    }
}

impl Resources {
    /// The entries an agent checkpoints (see [`Resource::needs_checkpointing`]).
    pub fn checkpointed(&self) -> Resources {
        self.filter(Resource::needs_checkpointing)
    }

    /// The agent's total from its static resources (`self`) and its `checkpointed`
    /// dynamic reservations and volumes: each checkpointed resource replaces its static
    /// form. Refuses, naming the resource, when the static resources no longer hold one.
    pub fn apply_checkpointed(&self, checkpointed: &Resources) -> Result<Resources> {
        let mut total = self.clone();
        for r in checkpointed.iter() {
            if !r.needs_checkpointing() {
                return Err(Error::Invalid {
                    what: format!("checkpointed resource {r}"),
                    reason: "neither dynamically reserved nor a persistent volume".into(),
                });
            }
            let plain = as_static(r);
            if !total.contains_resource(&plain) {
                return Err(Error::Invalid {
                    what: format!("checkpointed resource {r}"),
                    reason: format!("the agent's resources do not hold {plain}"),
                });
            }
            total.subtract_resource(&plain);
            total.add_resource(r);
        }
        Ok(total)
    }

    /// The resources after `operation`, or an error naming the resource that made it
    /// impossible. Conversions are checked against what is left after the earlier
    /// resources of the same operation.
    pub fn apply(&self, operation: &Operation) -> Result<Resources> {
        operation.validate()?;
        let kind = operation.kind;
        let mut result = self.clone();
        let convert = |result: &mut Resources, consumed: &Resource, produced: &Resource| {
            convert_one(result, kind, consumed, produced)
        };
        match kind {
            OperationType::Launch | OperationType::LaunchGroup => {}
            OperationType::Reserve => {
                let reserve = operation
                    .reserve
                    .as_ref()
                    .expect("validate() checked the RESERVE payload");
                for r in reserve.resources.iter() {
                    if !r.is_dynamically_reserved() {
                        return Err(refuse(kind, r, "needs a dynamic reservation on top"));
                    }
                    let mut source = r.clone();
                    source.reservations.pop();
                    convert(&mut result, &source, r)?;
                }
            }
            OperationType::Unreserve => {
                let unreserve = operation
                    .unreserve
                    .as_ref()
                    .expect("validate() checked the UNRESERVE payload");
                for r in unreserve.resources.iter() {
                    if !r.is_dynamically_reserved() {
                        return Err(refuse(kind, r, "only dynamic reservations can be released"));
                    }
                    if r.is_persistent_volume() {
                        return Err(refuse(kind, r, "destroy the persistent volume first"));
                    }
                    let mut released = r.clone();
                    released.reservations.pop();
                    convert(&mut result, r, &released)?;
                }
            }
            OperationType::Create => {
                let create = operation
                    .create
                    .as_ref()
                    .expect("validate() checked the CREATE payload");
                for volume in create.volumes.iter() {
                    if !volume.is_persistent_volume() {
                        return Err(refuse(kind, volume, "not a persistent volume"));
                    }
                    if !volume.is_reserved() {
                        return Err(refuse(kind, volume, "volumes need reserved disk"));
                    }
                    convert(&mut result, &without_persistence(volume), volume)?;
                }
            }
            OperationType::Destroy => {
                let destroy = operation
                    .destroy
                    .as_ref()
                    .expect("validate() checked the DESTROY payload");
                for volume in destroy.volumes.iter() {
                    if !volume.is_persistent_volume() {
                        return Err(refuse(kind, volume, "not a persistent volume"));
                    }
                    convert(&mut result, volume, &without_persistence(volume))?;
                }
            }
            OperationType::GrowVolume => {
                let grow = operation
                    .grow_volume
                    .as_ref()
                    .expect("validate() checked the GROW_VOLUME payload");
                let (volume, addition) = (&grow.volume, &grow.addition);
                check_resizable(kind, volume)?;
                if !addition.same_shape(&without_persistence(volume)) {
                    return Err(refuse(
                        kind,
                        addition,
                        "the addition must be disk of the volume's reservation, without persistence",
                    ));
                }
                if !matches!(addition.value, crate::resources::Value::Scalar(s) if s.milli() > 0) {
                    return Err(refuse(kind, addition, "the addition must be positive"));
                }
                let mut grown = volume.clone();
                grown.value.add_assign(&addition.value);
                if !result.contains_resource(addition) {
                    return Err(refuse(kind, addition, "not held by the agent"));
                }
                convert(&mut result, volume, &grown)?;
                result.subtract_resource(addition);
            }
            OperationType::ShrinkVolume => {
                let shrink = operation
                    .shrink_volume
                    .as_ref()
                    .expect("validate() checked the SHRINK_VOLUME payload");
                let volume = &shrink.volume;
                check_resizable(kind, volume)?;
                let subtract = crate::resources::Scalar::from_f64(shrink.subtract.value)?;
                let crate::resources::Value::Scalar(size) = volume.value else {
                    return Err(refuse(kind, volume, "a volume's size is a scalar"));
                };
                if subtract.milli() <= 0 || subtract.milli() >= size.milli() {
                    return Err(refuse(
                        kind,
                        volume,
                        &format!("'subtract' ({subtract}) must be positive and less than the volume's size"),
                    ));
                }
                let mut shrunk = volume.clone();
                shrunk.value = crate::resources::Value::Scalar(size - subtract);
                let mut freed = without_persistence(volume);
                freed.value = crate::resources::Value::Scalar(subtract);
                convert(&mut result, volume, &shrunk)?;
                result.add_resource(&freed);
            }
            other => {
                return Err(Error::Invalid {
                    what: format!("{other} operation"),
                    reason: "not supported".into(),
                })
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DiskInfo, Persistence, ReservationInfo, Volume, VolumeMode};
    use proptest::prelude::*;

    fn parse(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources are well formed")
    }

    fn volume(id: &str, size: f64, role: &str) -> Resource {
        Resource::scalar("disk", size)
            .expect("valid size")
            .with_reservation(ReservationInfo::dynamically(role, Some("p")))
            .with_disk(DiskInfo {
                persistence: Some(Persistence {
                    id: id.into(),
                    principal: Some("p".into()),
                }),
                volume: Some(Volume {
                    mode: VolumeMode::Rw,
                    container_path: "data".into(),
                    host_path: None,
                }),
                source: None,
            })
    }

    #[test]
    fn reserve_then_unreserve_gives_back_the_agent() {
        let agent = parse("cpus:8;mem:1024;disk:100");
        let reserved = parse("cpus:2;disk:50")
            .push_reservation(&ReservationInfo::dynamically("ops", Some("alice")));
        let after = agent.apply(&Operation::reserve(reserved.clone())).unwrap();
        assert_eq!(after.reserved("ops"), reserved);
        assert_eq!(after.unreserved(), parse("cpus:6;mem:1024;disk:50"));
        assert_eq!(after.flatten(), agent);
        let back = after.apply(&Operation::unreserve(reserved)).unwrap();
        assert_eq!(back, agent);
    }

    #[test]
    fn create_then_destroy_a_volume() {
        let reserve =
            parse("disk:100").push_reservation(&ReservationInfo::dynamically("ops", Some("p")));
        let agent = parse("cpus:1") + &reserve;
        let v = volume("v1", 40.0, "ops");
        let after = agent
            .apply(&Operation::create(Resources::from(v.clone())))
            .unwrap();
        assert_eq!(after.persistent_volumes(), Resources::from(v.clone()));
        assert_eq!(after.disk(), agent.disk());
        // Reserved disk outside volumes: 60 left.
        assert_eq!(
            after
                .reserved("ops")
                .filter(|r| !r.is_persistent_volume())
                .disk(),
            Some(crate::Scalar::from_units(60))
        );
        // The volume cannot be unreserved while it exists.
        let err = after
            .apply(&Operation::unreserve(Resources::from(v.clone())))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("destroy the persistent volume first"),
            "{err}"
        );
        let back = after
            .apply(&Operation::destroy(Resources::from(v)))
            .unwrap();
        assert_eq!(back, agent);
    }

    #[test]
    fn operations_on_what_the_agent_lacks_are_refused_and_change_nothing() {
        let agent = parse("cpus:1");
        let too_much = parse("cpus:2").push_reservation(&ReservationInfo::dynamically("ops", None));
        let err = agent.apply(&Operation::reserve(too_much)).unwrap_err();
        assert!(err.to_string().contains("not held by the agent"), "{err}");
        let static_only = parse("cpus(ops):1");
        let err = agent
            .apply(&Operation::reserve(static_only.clone()))
            .unwrap_err();
        assert!(err.to_string().contains("dynamic reservation"), "{err}");
        let err = static_only
            .apply(&Operation::unreserve(static_only.clone()))
            .unwrap_err();
        assert!(err.to_string().contains("only dynamic"), "{err}");
        let err = agent
            .apply(&Operation::create(Resources::from(volume("v", 1.0, "ops"))))
            .unwrap_err();
        assert!(err.to_string().contains("not held"), "{err}");
        let err = agent
            .apply(&Operation::destroy(Resources::from(volume(
                "v", 1.0, "ops",
            ))))
            .unwrap_err();
        assert!(err.to_string().contains("not held"), "{err}");
        assert_eq!(agent.apply(&Operation::launch(vec![])).unwrap(), agent);
    }

    #[test]
    fn grow_and_shrink_move_reserved_disk_in_and_out_of_a_volume() {
        let reserved =
            parse("disk:100").push_reservation(&ReservationInfo::dynamically("ops", Some("p")));
        let v = volume("v1", 40.0, "ops");
        let agent = reserved
            .apply(&Operation::create(Resources::from(v.clone())))
            .unwrap();
        let addition = without_persistence(&volume("v1", 10.0, "ops"));
        let grown = agent
            .apply(&Operation::grow_volume(v.clone(), addition.clone()))
            .unwrap();
        assert_eq!(
            grown.persistent_volumes().disk(),
            Some(crate::Scalar::from_units(50))
        );
        assert_eq!(grown.disk(), agent.disk());
        let big = volume("v1", 50.0, "ops");
        let shrunk = grown
            .apply(&Operation::shrink_volume(big.clone(), 30.0))
            .unwrap();
        assert_eq!(
            shrunk.persistent_volumes().disk(),
            Some(crate::Scalar::from_units(20))
        );
        assert_eq!(shrunk.disk(), agent.disk());
        let err = grown
            .apply(&Operation::shrink_volume(big.clone(), 50.0))
            .unwrap_err();
        assert!(
            err.to_string().contains("less than the volume's size"),
            "{err}"
        );
        let too_much = without_persistence(&volume("v1", 60.0, "ops"));
        let err = grown
            .apply(&Operation::grow_volume(big, too_much))
            .unwrap_err();
        assert!(err.to_string().contains("not held"), "{err}");
        let unreserved = parse("disk:5").iter().next().unwrap().clone();
        let err = agent
            .apply(&Operation::grow_volume(v, unreserved))
            .unwrap_err();
        assert!(err.to_string().contains("volume's reservation"), "{err}");
    }

    #[test]
    fn the_total_is_rebuilt_from_static_and_checkpointed_resources() {
        let flags = parse("cpus:8;mem:1024;disk:100;cpus(eng):2");
        let total = flags
            .apply(&Operation::reserve(
                parse("cpus:2;disk:60")
                    .push_reservation(&ReservationInfo::dynamically("ops", Some("p"))),
            ))
            .unwrap()
            .apply(&Operation::reserve(parse("cpus(eng):1").push_reservation(
                &ReservationInfo::dynamically("eng/a", None),
            )))
            .unwrap()
            .apply(&Operation::create(Resources::from(volume(
                "v", 40.0, "ops",
            ))))
            .unwrap();
        let checkpointed = total.checkpointed();
        // The static reservation is not checkpointed; the refinement on top of it is.
        assert_eq!(checkpointed.len(), 4, "{checkpointed}");
        assert_eq!(flags.apply_checkpointed(&checkpointed).unwrap(), total);
        assert_eq!(flags.apply_checkpointed(&Resources::new()).unwrap(), flags);
        let err = parse("cpus:1;disk:100")
            .apply_checkpointed(&checkpointed)
            .unwrap_err();
        assert!(err.to_string().contains("do not hold"), "{err}");
        let err = flags.apply_checkpointed(&parse("cpus(eng):1")).unwrap_err();
        assert!(
            err.to_string().contains("neither dynamically reserved"),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn reserving_any_part_and_releasing_it_is_the_identity(
            cpus in 0i64..10_000, mem in 0i64..10_000, take_cpus in 0i64..10_000, take_mem in 0i64..10_000,
        ) {
            let scalar = |name: &str, milli: i64| {
                Resource::new(name, crate::resources::Value::Scalar(crate::Scalar::from_milli(milli)))
            };
            let agent: Resources = [scalar("cpus", cpus), scalar("mem", mem)].into_iter().collect();
            let part: Resources = [scalar("cpus", take_cpus), scalar("mem", take_mem)]
                .into_iter()
                .collect::<Resources>()
                .push_reservation(&ReservationInfo::dynamically("ops", Some("p")));
            match agent.apply(&Operation::reserve(part.clone())) {
                Ok(after) => {
                    prop_assert!(agent.contains(&part.to_unreserved()));
                    prop_assert_eq!(after.flatten(), agent.clone());
                    prop_assert_eq!(after.apply(&Operation::unreserve(part)).unwrap(), agent);
                }
                Err(_) => prop_assert!(!agent.contains(&part.to_unreserved())),
            }
        }
    }
}
