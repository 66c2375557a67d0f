//! One resource: a named value plus where it belongs (reservations, allocation), what it is
//! (disk info, revocable, shared) and its provider.
//!
//! Reservations are kept in Mesos's "post-refinement" form: a stack whose last element is
//! the current reservation, each role a strict descendant of the one before. The legacy
//! single `role` (and `reservation`) of the JSON form is converted on input
//! (`role != "*"` becomes one STATIC reservation, or DYNAMIC when `reservation` is given).
//!
//! Names and roles are `Arc<str>` so that copies in the allocator share one allocation and
//! comparisons short-cut on pointer equality.

use std::fmt;
use std::sync::Arc;

use super::{Scalar, Value};
use crate::error::{Error, Result};
use crate::labels::Labels;
use crate::roles::{is_strict_subrole, validate_role, DEFAULT_ROLE};

/// Whether a reservation was made by the operator's agent flags or through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReservationType {
    /// From `--resources` (`cpus(role):4`).
    Static,
    /// From a RESERVE operation.
    Dynamic,
}

impl ReservationType {
    /// The Mesos name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationType::Static => "STATIC",
            ReservationType::Dynamic => "DYNAMIC",
        }
    }
}

/// One reservation in a resource's stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReservationInfo {
    /// STATIC or DYNAMIC.
    pub kind: ReservationType,
    /// The role the resource is reserved for.
    pub role: Arc<str>,
    /// Who made a dynamic reservation.
    pub principal: Option<String>,
    /// Operator-defined metadata.
    pub labels: Labels,
}

impl ReservationInfo {
    /// A static reservation for `role`.
    pub fn statically(role: &str) -> Self {
        ReservationInfo {
            kind: ReservationType::Static,
            role: Arc::from(role),
            principal: None,
            labels: Labels::default(),
        }
    }

    /// A dynamic reservation for `role`, made by `principal`.
    pub fn dynamically(role: &str, principal: Option<&str>) -> Self {
        ReservationInfo {
            kind: ReservationType::Dynamic,
            role: Arc::from(role),
            principal: principal.map(str::to_string),
            labels: Labels::default(),
        }
    }
}

/// Where a disk resource comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskSourceType {
    /// A directory on the agent's root or another filesystem (splittable).
    Path,
    /// A whole mounted filesystem (used atomically).
    Mount,
    /// A raw block device (used atomically).
    Block,
    /// Raw storage managed by a resource provider.
    Raw,
}

impl DiskSourceType {
    /// The Mesos name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskSourceType::Path => "PATH",
            DiskSourceType::Mount => "MOUNT",
            DiskSourceType::Block => "BLOCK",
            DiskSourceType::Raw => "RAW",
        }
    }
}

/// The source of a disk resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiskSource {
    /// Kind of source.
    pub kind: DiskSourceType,
    /// Root directory of a PATH or MOUNT source.
    pub root: Option<String>,
    /// Provider-specific id.
    pub id: Option<String>,
    /// Storage profile.
    pub profile: Option<String>,
}

/// Read/write mode of a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolumeMode {
    /// Read-write.
    Rw,
    /// Read-only.
    Ro,
}

impl VolumeMode {
    /// The Mesos name.
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeMode::Rw => "RW",
            VolumeMode::Ro => "RO",
        }
    }
}

/// Where a persistent volume appears inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Volume {
    /// Read/write mode.
    pub mode: VolumeMode,
    /// Path inside the container.
    pub container_path: String,
    /// Path on the host, if fixed.
    pub host_path: Option<String>,
}

/// A persistent volume's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Persistence {
    /// The volume id (unique per role on an agent).
    pub id: String,
    /// Who created it.
    pub principal: Option<String>,
}

/// Disk-specific information: persistence, volume and source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DiskInfo {
    /// Set for persistent volumes.
    pub persistence: Option<Persistence>,
    /// Mount point inside the container.
    pub volume: Option<Volume>,
    /// Where the disk comes from (absent means the agent's root disk).
    pub source: Option<DiskSource>,
}

/// One resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// Its name (`cpus`, `mem`, `disk`, `ports`, `gpus`, or anything).
    pub name: Arc<str>,
    /// Its value.
    pub value: Value,
    /// Reservation stack; empty means unreserved (role `*`).
    pub reservations: Vec<ReservationInfo>,
    /// The role this resource is allocated to (`AllocationInfo.role`), if allocated.
    pub allocation_role: Option<Arc<str>>,
    /// Disk information (only on `disk`). Boxed: most resources have none, and keeping
    /// it out of line makes `Resource` less than half as large to copy.
    pub disk: Option<Box<DiskInfo>>,
    /// Revocable (oversubscribed) resources can be taken back at any time.
    pub revocable: bool,
    /// Shared resources (persistent volumes) may be used by several tasks at once.
    pub shared: bool,
    /// Resource provider id, for provider-managed resources.
    pub provider_id: Option<String>,
}

impl Resource {
    /// An unreserved, unallocated resource.
    pub fn new(name: &str, value: Value) -> Self {
        Resource {
            name: Arc::from(name),
            value,
            reservations: Vec::new(),
            allocation_role: None,
            disk: None,
            revocable: false,
            shared: false,
            provider_id: None,
        }
    }

    /// An unreserved scalar resource; refuses bad numbers.
    pub fn scalar(name: &str, value: f64) -> Result<Self> {
        Ok(Resource::new(name, Value::Scalar(Scalar::from_f64(value)?)))
    }

    /// The same resource with a reservation pushed on top of its stack.
    pub fn with_reservation(mut self, reservation: ReservationInfo) -> Self {
        self.reservations.push(reservation);
        self
    }

    /// The same resource statically reserved for `role` (`*` leaves it unreserved).
    pub fn with_static_role(self, role: &str) -> Self {
        if role == DEFAULT_ROLE {
            self
        } else {
            self.with_reservation(ReservationInfo::statically(role))
        }
    }

    /// The same resource allocated to `role`.
    pub fn allocated_to(mut self, role: &str) -> Self {
        self.allocation_role = Some(Arc::from(role));
        self
    }

    /// The same resource, marked revocable.
    pub fn into_revocable(mut self) -> Self {
        self.revocable = true;
        self
    }

    /// The same resource, marked shared.
    pub fn into_shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// The same resource with disk information.
    pub fn with_disk(mut self, disk: DiskInfo) -> Self {
        self.disk = Some(Box::new(disk));
        self
    }

    /// The role of the current (last) reservation, or `*` when unreserved.
    pub fn reservation_role(&self) -> &str {
        self.reservations
            .last()
            .map(|r| &*r.role)
            .unwrap_or(DEFAULT_ROLE)
    }

    /// True when reserved for any role.
    pub fn is_reserved(&self) -> bool {
        !self.reservations.is_empty()
    }

    /// True when reserved and the current reservation is for exactly `role`.
    pub fn is_reserved_to(&self, role: &str) -> bool {
        self.reservations.last().is_some_and(|r| &*r.role == role)
    }

    /// True when the current reservation is dynamic.
    pub fn is_dynamically_reserved(&self) -> bool {
        self.reservations
            .last()
            .is_some_and(|r| r.kind == ReservationType::Dynamic)
    }

    /// True when a framework in `role` may be offered this resource: it is unreserved,
    /// reserved to `role`, or reserved to an ancestor of `role`.
    pub fn is_allocatable_to(&self, role: &str) -> bool {
        match self.reservations.last() {
            None => true,
            Some(r) => &*r.role == role || is_strict_subrole(role, &r.role),
        }
    }

    /// True for a persistent volume.
    pub fn is_persistent_volume(&self) -> bool {
        self.disk.as_ref().is_some_and(|d| d.persistence.is_some())
    }

    /// True for a MOUNT or BLOCK disk, which is used whole and never split or merged.
    pub fn is_atomic_disk(&self) -> bool {
        self.disk
            .as_ref()
            .and_then(|d| d.source.as_ref())
            .is_some_and(|s| matches!(s.kind, DiskSourceType::Mount | DiskSourceType::Block))
    }

    /// True when this resource can merge with and split from others of the same shape;
    /// shared resources, persistent volumes and MOUNT/BLOCK disks cannot (they are counted
    /// as whole copies).
    pub fn is_divisible(&self) -> bool {
        !self.shared && !self.is_persistent_volume() && !self.is_atomic_disk()
    }

    /// True when everything but the value is equal (name, type, reservations, allocation,
    /// disk, revocable, shared, provider).
    pub fn same_shape(&self, other: &Resource) -> bool {
        self.name == other.name
            && self.value.value_type() == other.value.value_type()
            && self.revocable == other.revocable
            && self.shared == other.shared
            && self.allocation_role == other.allocation_role
            && self.reservations == other.reservations
            && self.disk == other.disk
            && self.provider_id == other.provider_id
    }

    /// True when the value is empty (see [`Value::is_empty`]).
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Checks the rules Mesos's `Resources::validate` applies to one resource: a non-empty
    /// name, a non-negative value, valid roles, a reservation stack in which each role
    /// refines the one below, no reservation for `*`, disk info only on `disk`, a valid
    /// persistence id, only persistent volumes shared, whole `gpus`. The error names the
    /// resource.
    pub fn validate(&self) -> Result<()> {
        let fail = |reason: String| Error::BadResource {
            token: self.name.to_string(),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(fail("a resource name cannot be empty".into()));
        }
        if let Some(c) = self.name.chars().find(|c| !is_name_char(*c)) {
            return Err(fail(format!(
                "resource name '{}' contains {c:?}; names cannot hold whitespace, control characters or any of ( ) [ ] {{ }} : ; ,",
                self.name.escape_debug()
            )));
        }
        if let Value::Scalar(s) = &self.value {
            if s.milli() < 0 {
                return Err(fail(format!("negative scalar {s}")));
            }
        }
        let mut previous: Option<&str> = None;
        for r in &self.reservations {
            validate_role(&r.role)?;
            if &*r.role == DEFAULT_ROLE {
                return Err(fail("'*' cannot be reserved".into()));
            }
            if let Some(p) = previous {
                if !is_strict_subrole(&r.role, p) {
                    return Err(fail(format!(
                        "reservation for '{}' does not refine the reservation for '{p}'",
                        r.role
                    )));
                }
            }
            previous = Some(&r.role);
        }
        if let Some(role) = &self.allocation_role {
            validate_role(role)?;
        }
        if let Some(disk) = &self.disk {
            if &*self.name != "disk" {
                return Err(fail("disk info is only allowed on 'disk'".into()));
            }
            if let Some(p) = &disk.persistence {
                crate::ids::validate_id("persistence id", &p.id)?;
            }
        }
        if self.shared && !self.is_persistent_volume() {
            return Err(fail("only persistent volumes can be shared".into()));
        }
        if let (true, Value::Scalar(s)) = (&*self.name == "gpus", &self.value) {
            if s.milli() % crate::resources::MILLI_PER_UNIT != 0 {
                return Err(fail(format!("gpus must be a whole number, not {s}")));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Resource {
    /// `name(role):value` when the `--resources` grammar can express the resource (no
    /// allocation, at most one plain STATIC reservation, nothing else), so that the text
    /// parses back; otherwise Mesos's longer form, e.g.
    /// `disk(allocated: a)(reservations: [(DYNAMIC,a,ops)])[id:/path]{REV}<SHARED>:10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let simple_static = match self.reservations.as_slice() {
            [] => Some(None),
            [r] if r.kind == ReservationType::Static
                && r.principal.is_none()
                && r.labels.is_empty() =>
            {
                Some(Some(&r.role))
            }
            _ => None,
        };
        let plain = self.allocation_role.is_none()
            && self.disk.is_none()
            && !self.revocable
            && !self.shared
            && self.provider_id.is_none();
        match simple_static {
            Some(role) if plain => {
                if let Some(role) = role {
                    write!(f, "({role})")?;
                }
            }
            _ => {
                if let Some(role) = &self.allocation_role {
                    write!(f, "(allocated: {role})")?;
                }
                if !self.reservations.is_empty() {
                    f.write_str("(reservations: [")?;
                    for (i, r) in self.reservations.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        write!(f, "({},{}", r.kind.as_str(), r.role)?;
                        if let Some(p) = &r.principal {
                            write!(f, ",{p}")?;
                        }
                        if !r.labels.is_empty() {
                            write!(f, ",{}", r.labels)?;
                        }
                        f.write_str(")")?;
                    }
                    f.write_str("])")?;
                }
                if let Some(disk) = &self.disk {
                    f.write_str("[")?;
                    if let Some(source) = &disk.source {
                        f.write_str(source.kind.as_str())?;
                        if let Some(root) = &source.root {
                            write!(f, "({root})")?;
                        }
                        if disk.persistence.is_some() {
                            f.write_str(",")?;
                        }
                    }
                    if let Some(p) = &disk.persistence {
                        f.write_str(&p.id)?;
                        if let Some(v) = &disk.volume {
                            write!(f, ":{}", v.container_path)?;
                        }
                    }
                    f.write_str("]")?;
                }
                if let Some(p) = &self.provider_id {
                    write!(f, "(provider: {p})")?;
                }
                if self.revocable {
                    f.write_str("{REV}")?;
                }
                if self.shared {
                    f.write_str("<SHARED>")?;
                }
            }
        }
        write!(f, ":{}", self.value)
    }
}

/// Whether `c` may appear in a resource name: anything the text form (`name(role):value`,
/// `;`-separated) can carry back unchanged, so that every valid resource prints and parses
/// back to itself, whichever form it arrived in.
pub(crate) fn is_name_char(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | ':' | ';' | ','))
}
