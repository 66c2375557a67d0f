//! Applying offer operations to an agent's resources (Mesos's `Resources::apply`). Here,
//! beside the v1 `Operation` it reads, so that `crate::resources` never imports `v1`.
//!
//! RESERVE, UNRESERVE, CREATE and DESTROY convert resources from one shape to another
//! without changing the total quantity; LAUNCH and LAUNCH_GROUP leave the total unchanged.
//! Each conversion checks its preconditions first and refuses, naming the resource, when
//! the agent does not hold what the operation consumes: the result is all-or-nothing.

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

impl Resources {
    /// The resources after `operation`, or an error naming the resource that made it
    /// impossible. Conversions are checked against what is left after the earlier
    /// resources of the same operation.
    pub fn apply(&self, operation: &Operation) -> Result<Resources> {
        operation.validate()?;
        let kind = operation.kind;
        let mut result = self.clone();
        let mut convert = |consumed: &Resource, produced: &Resource| -> Result<()> {
            if !result.contains_resource(consumed) {
                return Err(refuse(kind, consumed, "not held by the agent"));
            }
            result.subtract_resource(consumed);
            result.add_resource(produced);
            Ok(())
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
                    convert(&source, r)?;
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
                    convert(r, &released)?;
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
                    convert(&without_persistence(volume), volume)?;
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
                    convert(volume, &without_persistence(volume))?;
                }
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
