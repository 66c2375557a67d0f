//! An agent's total resources: what `--resources` names, plus what the machine has for the
//! standard names it leaves out (Mesos's `Containerizer::resources`).
//!
//! Pure: the agent measures the machine (CPU count, memory, size of the work directory's
//! filesystem) and passes the figures in, so the rules are testable without a machine.
//!
//! Rules, each applied only when the flag does not name the resource (a resource named
//! with value 0, e.g. `cpus:0`, counts as named and stays 0):
//! * `cpus`: the online CPU count, or 1 if unknown;
//! * `mem` (MB): total RAM minus 1 GiB when there are at least 2 GiB, otherwise half;
//!   1 GiB if unknown;
//! * `disk` (MB): the filesystem size minus 5 GiB when it has at least 10 GiB, otherwise
//!   half; 10 GiB if unknown;
//! * `ports`: `[31000-32000]`.
//!
//! Detected resources get the default role, like flag entries without a role.

use super::{Ranges, Resource, Resources, Scalar, Value};
use crate::error::Result;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// What the agent measured; `None` means the measurement failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Machine {
    /// Online CPUs.
    pub cpus: Option<u64>,
    /// Total RAM in bytes.
    pub mem_bytes: Option<u64>,
    /// Size in bytes of the filesystem holding the work directory.
    pub disk_bytes: Option<u64>,
}

/// Whole megabytes in `bytes`, truncated, as a scalar.
fn megabytes(bytes: u64) -> Scalar {
    Scalar::from_units(i64::try_from(bytes / MIB).unwrap_or(i64::MAX))
}

/// The memory offered for `total` bytes of RAM.
fn mem_for(total: u64) -> Scalar {
    megabytes(if total >= 2 * GIB {
        total - GIB
    } else {
        total / 2
    })
}

/// The disk offered for a filesystem of `total` bytes.
fn disk_for(total: u64) -> Scalar {
    megabytes(if total >= 10 * GIB {
        total - 5 * GIB
    } else {
        total / 2
    })
}

/// The agent's total: `flag` (the `--resources` entries as written, see
/// [`super::parse_resource_list`]) plus detected `cpus`, `mem`, `disk` and `ports` for the
/// names `flag` leaves out.
pub fn agent_total(flag: &[Resource], machine: &Machine, default_role: &str) -> Result<Resources> {
    crate::roles::validate_role(default_role)?;
    let named = |name: &str| flag.iter().any(|r| &*r.name == name);
    let mut total: Resources = flag.iter().cloned().collect();
    let mut detect = |name: &str, value: Value| {
        if !named(name) {
            total.push(Resource::new(name, value).with_static_role(default_role));
        }
    };
    let cpus = machine.cpus.unwrap_or(1);
    detect(
        "cpus",
        Value::Scalar(Scalar::from_units(i64::try_from(cpus).unwrap_or(i64::MAX))),
    );
    let mem = machine.mem_bytes.map_or(megabytes(GIB), mem_for);
    detect("mem", Value::Scalar(mem));
    let disk = machine.disk_bytes.map_or(megabytes(10 * GIB), disk_for);
    detect("disk", Value::Scalar(disk));
    detect(
        "ports",
        Value::Ranges(Ranges::single(31000, 32000).expect("31000 <= 32000")),
    );
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse_resource_list;

    fn total(flag: &str, machine: Machine) -> Resources {
        let entries = parse_resource_list(flag, "*").expect("test flag is well formed");
        agent_total(&entries, &machine, "*").expect("default role is valid")
    }

    fn mb(n: i64) -> Option<Scalar> {
        Some(Scalar::from_units(n))
    }

    #[test]
    fn fills_in_what_the_flag_leaves_out() {
        let machine = Machine {
            cpus: Some(8),
            mem_bytes: Some(16 * GIB),
            disk_bytes: Some(100 * GIB),
        };
        let r = total("gpus:1", machine);
        assert_eq!(r.cpus(), mb(8));
        assert_eq!(r.mem(), mb(15 * 1024));
        assert_eq!(r.disk(), mb(95 * 1024));
        assert_eq!(r.ports(), Some(Ranges::single(31000, 32000).unwrap()));
        assert_eq!(r.gpus(), mb(1));
    }

    #[test]
    fn small_machines_get_half() {
        let machine = Machine {
            cpus: Some(1),
            mem_bytes: Some(GIB + 3 * MIB),
            disk_bytes: Some(9 * GIB),
        };
        let r = total("", machine);
        assert_eq!(r.mem(), mb(513), "half of 1027 MB, truncated");
        assert_eq!(r.disk(), mb(9 * 512));
    }

    #[test]
    fn named_resources_are_kept_even_at_zero() {
        let machine = Machine {
            cpus: Some(64),
            mem_bytes: Some(64 * GIB),
            disk_bytes: Some(GIB),
        };
        let r = total("cpus:0;mem(ops):100;ports:[1-2]", machine);
        assert_eq!(r.cpus(), None, "cpus:0 is named, so nothing is detected");
        assert_eq!(r.mem(), mb(100));
        assert_eq!(r.reserved("ops").mem(), mb(100));
        assert_eq!(r.ports(), Some(Ranges::single(1, 2).unwrap()));
        assert_eq!(r.disk(), mb(512));
    }

    #[test]
    fn failed_measurements_use_mesos_fallbacks_and_the_default_role() {
        let entries = parse_resource_list("", "*").unwrap();
        let r = agent_total(&entries, &Machine::default(), "dev").unwrap();
        assert_eq!(r.reserved("dev").cpus(), mb(1));
        assert_eq!(r.reserved("dev").mem(), mb(1024));
        assert_eq!(r.reserved("dev").disk(), mb(10 * 1024));
        assert!(agent_total(&entries, &Machine::default(), "a//b").is_err());
    }
}
