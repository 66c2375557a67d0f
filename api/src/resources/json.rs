//! Serde for [`Resource`] and [`Resources`]: Mesos's JSON in human-readable formats, a
//! fixed-shape form in binary formats (postcard).
//!
//! The two forms are chosen with `Serializer::is_human_readable`, because Mesos's JSON needs
//! omitted fields, lenient numbers (`"5"` for `5`) and the legacy `role` field, none of which
//! a non-self-describing format like postcard can decode. Both directions validate: a
//! decoded resource always satisfies [`Resource::validate`] and the value invariants.
//!
//! JSON output uses the post-refinement form (`reservations` stack; `role` is never
//! written). JSON input accepts both forms: with no `reservations`, a `role` other than `*`
//! becomes one STATIC reservation (DYNAMIC with the principal and labels of `reservation`
//! when that is given); with neither, the caller's default role applies (`*` for plain
//! deserialization, `--default_role` for the agent flag).

use serde::de::{Error as _, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    DiskInfo, DiskSource, DiskSourceType, Persistence, Ranges, ReservationInfo, ReservationType,
    Resource, Resources, Scalar, Set, Value, ValueType, Volume, VolumeMode,
};
use crate::error::{Error, Result};
use crate::json::{lenient, null_as_default};
use crate::labels::Labels;
use crate::roles::DEFAULT_ROLE;

// ---------------------------------------------------------------- JSON input mirrors

#[derive(Deserialize)]
struct ResourceIn {
    name: String,
    #[serde(rename = "type")]
    kind: ValueType,
    scalar: Option<ScalarIn>,
    ranges: Option<RangesIn>,
    set: Option<SetIn>,
    role: Option<String>,
    allocation_info: Option<AllocationIn>,
    reservation: Option<ReservationIn>,
    #[serde(default, deserialize_with = "null_as_default")]
    reservations: Vec<ReservationIn>,
    disk: Option<DiskIn>,
    revocable: Option<IgnoredAny>,
    shared: Option<IgnoredAny>,
    provider_id: Option<IdIn>,
}

#[derive(Deserialize)]
struct ScalarIn {
    #[serde(deserialize_with = "lenient")]
    value: f64,
}

#[derive(Deserialize)]
struct RangesIn {
    #[serde(default, deserialize_with = "null_as_default")]
    range: Vec<RangeIn>,
}

#[derive(Deserialize)]
struct RangeIn {
    #[serde(deserialize_with = "lenient")]
    begin: u64,
    #[serde(deserialize_with = "lenient")]
    end: u64,
}

#[derive(Deserialize)]
struct SetIn {
    #[serde(default, deserialize_with = "null_as_default")]
    item: Vec<String>,
}

#[derive(Deserialize)]
struct AllocationIn {
    role: Option<String>,
}

#[derive(Deserialize)]
struct IdIn {
    value: String,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
enum ReservationTypeJson {
    #[serde(rename = "STATIC")]
    Static,
    #[serde(rename = "DYNAMIC")]
    Dynamic,
}

#[derive(Deserialize)]
struct ReservationIn {
    #[serde(rename = "type")]
    kind: Option<ReservationTypeJson>,
    role: Option<String>,
    principal: Option<String>,
    labels: Option<Labels>,
}

#[derive(Deserialize)]
struct DiskIn {
    persistence: Option<PersistenceIn>,
    volume: Option<VolumeIn>,
    source: Option<SourceIn>,
}

#[derive(Deserialize)]
struct PersistenceIn {
    id: String,
    principal: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
enum VolumeModeJson {
    #[serde(rename = "RW")]
    Rw,
    #[serde(rename = "RO")]
    Ro,
}

#[derive(Deserialize)]
struct VolumeIn {
    mode: VolumeModeJson,
    container_path: String,
    host_path: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
enum SourceTypeJson {
    #[serde(rename = "PATH")]
    Path,
    #[serde(rename = "MOUNT")]
    Mount,
    #[serde(rename = "BLOCK")]
    Block,
    #[serde(rename = "RAW")]
    Raw,
}

#[derive(Deserialize, Serialize)]
struct RootJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<String>,
}

#[derive(Deserialize)]
struct SourceIn {
    #[serde(rename = "type")]
    kind: SourceTypeJson,
    path: Option<RootJson>,
    mount: Option<RootJson>,
    id: Option<String>,
    profile: Option<String>,
}

fn bad(name: &str, reason: impl Into<String>) -> Error {
    Error::BadResource {
        token: name.to_string(),
        reason: reason.into(),
    }
}

fn reservation_from_json(name: &str, r: ReservationIn) -> Result<ReservationInfo> {
    let kind = r
        .kind
        .ok_or_else(|| bad(name, "a reservation needs 'type'"))?;
    let role = r
        .role
        .ok_or_else(|| bad(name, "a reservation needs 'role'"))?;
    Ok(ReservationInfo {
        kind: match kind {
            ReservationTypeJson::Static => ReservationType::Static,
            ReservationTypeJson::Dynamic => ReservationType::Dynamic,
        },
        role: role.as_str().into(),
        principal: r.principal,
        labels: r.labels.unwrap_or_default(),
    })
}

fn resource_from_json(input: ResourceIn, default_role: &str) -> Result<Resource> {
    let name = input.name.as_str();
    let missing = |field: &str| {
        bad(
            name,
            format!("type {} needs '{field}'", input.kind.as_str()),
        )
    };
    let value = match input.kind {
        ValueType::Scalar => Value::Scalar(Scalar::from_f64(
            input
                .scalar
                .as_ref()
                .ok_or_else(|| missing("scalar"))?
                .value,
        )?),
        ValueType::Ranges => Value::Ranges(Ranges::from_pairs(
            input
                .ranges
                .as_ref()
                .ok_or_else(|| missing("ranges"))?
                .range
                .iter()
                .map(|r| (r.begin, r.end)),
        )?),
        ValueType::Set => Value::Set(Set::from_items(
            &input.set.as_ref().ok_or_else(|| missing("set"))?.item,
        )?),
        ValueType::Text => return Err(bad(name, "TEXT is not a valid resource type")),
    };
    let mut resource = Resource::new(name, value);
    if !input.reservations.is_empty() {
        for r in input.reservations {
            resource.reservations.push(reservation_from_json(name, r)?);
        }
    } else {
        let role = input.role.as_deref().unwrap_or(default_role);
        crate::roles::validate_role(role)?;
        if role != DEFAULT_ROLE {
            resource.reservations.push(match input.reservation {
                None => ReservationInfo::statically(role),
                Some(r) => ReservationInfo {
                    kind: ReservationType::Dynamic,
                    role: role.into(),
                    principal: r.principal,
                    labels: r.labels.unwrap_or_default(),
                },
            });
        }
    }
    resource.allocation_role = input
        .allocation_info
        .and_then(|a| a.role)
        .map(|r| r.as_str().into());
    resource.disk = input.disk.map(|d| {
        Box::new(DiskInfo {
            persistence: d.persistence.map(|p| Persistence {
                id: p.id,
                principal: p.principal,
            }),
            volume: d.volume.map(|v| Volume {
                mode: match v.mode {
                    VolumeModeJson::Rw => VolumeMode::Rw,
                    VolumeModeJson::Ro => VolumeMode::Ro,
                },
                container_path: v.container_path,
                host_path: v.host_path,
            }),
            source: d.source.map(|s| DiskSource {
                kind: match s.kind {
                    SourceTypeJson::Path => DiskSourceType::Path,
                    SourceTypeJson::Mount => DiskSourceType::Mount,
                    SourceTypeJson::Block => DiskSourceType::Block,
                    SourceTypeJson::Raw => DiskSourceType::Raw,
                },
                root: s.path.or(s.mount).and_then(|r| r.root),
                id: s.id,
                profile: s.profile,
            }),
        })
    });
    resource.revocable = input.revocable.is_some();
    resource.shared = input.shared.is_some();
    resource.provider_id = input.provider_id.map(|p| p.value);
    resource.validate()?;
    Ok(resource)
}

/// Parses a JSON array of Resource objects, applying `default_role` to entries with neither
/// `role` nor `reservations`.
pub(super) fn resources_from_json_array(text: &str, default_role: &str) -> Result<Resources> {
    crate::roles::validate_role(default_role)?;
    let items: Vec<ResourceIn> = crate::json::from_str(text, &crate::json::Limits::default())?;
    let mut out = Resources::new();
    for item in items {
        out.push(resource_from_json(item, default_role)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------- JSON output mirrors

#[derive(Serialize)]
struct ResourceOut<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: ValueType,
    #[serde(skip_serializing_if = "Option::is_none")]
    scalar: Option<ScalarOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ranges: Option<RangesOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    set: Option<SetOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reservations: Vec<ReservationOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allocation_info: Option<RoleOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<DiskOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocable: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_id: Option<IdOut<'a>>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ScalarOut {
    value: f64,
}

#[derive(Serialize)]
struct RangesOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    range: Vec<RangeOut>,
}

#[derive(Serialize)]
struct RangeOut {
    begin: u64,
    end: u64,
}

#[derive(Serialize)]
struct SetOut<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    item: Vec<&'a str>,
}

#[derive(Serialize)]
struct RoleOut<'a> {
    role: &'a str,
}

#[derive(Serialize)]
struct IdOut<'a> {
    value: &'a str,
}

#[derive(Serialize)]
struct ReservationOut<'a> {
    #[serde(rename = "type")]
    kind: ReservationTypeJson,
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a Labels>,
}

#[derive(Serialize)]
struct DiskOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    persistence: Option<PersistenceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume: Option<VolumeOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<SourceOut<'a>>,
}

#[derive(Serialize)]
struct PersistenceOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a str>,
}

#[derive(Serialize)]
struct VolumeOut<'a> {
    mode: VolumeModeJson,
    container_path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_path: Option<&'a str>,
}

#[derive(Serialize)]
struct SourceOut<'a> {
    #[serde(rename = "type")]
    kind: SourceTypeJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<RootJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mount: Option<RootJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a str>,
}

fn resource_to_json(r: &Resource) -> ResourceOut<'_> {
    let (scalar, ranges, set) = match &r.value {
        Value::Scalar(s) => (Some(ScalarOut { value: s.as_f64() }), None, None),
        Value::Ranges(x) => (
            None,
            Some(RangesOut {
                range: x
                    .as_slice()
                    .iter()
                    .map(|r| RangeOut {
                        begin: r.begin,
                        end: r.end,
                    })
                    .collect(),
            }),
            None,
        ),
        Value::Set(x) => (
            None,
            None,
            Some(SetOut {
                item: x.items().iter().map(|i| &**i).collect(),
            }),
        ),
    };
    ResourceOut {
        name: &r.name,
        kind: r.value.value_type(),
        scalar,
        ranges,
        set,
        reservations: r
            .reservations
            .iter()
            .map(|x| ReservationOut {
                kind: match x.kind {
                    ReservationType::Static => ReservationTypeJson::Static,
                    ReservationType::Dynamic => ReservationTypeJson::Dynamic,
                },
                role: &x.role,
                principal: x.principal.as_deref(),
                labels: (!x.labels.is_empty()).then_some(&x.labels),
            })
            .collect(),
        allocation_info: r.allocation_role.as_deref().map(|role| RoleOut { role }),
        disk: r.disk.as_ref().map(|d| DiskOut {
            persistence: d.persistence.as_ref().map(|p| PersistenceOut {
                id: &p.id,
                principal: p.principal.as_deref(),
            }),
            volume: d.volume.as_ref().map(|v| VolumeOut {
                mode: match v.mode {
                    VolumeMode::Rw => VolumeModeJson::Rw,
                    VolumeMode::Ro => VolumeModeJson::Ro,
                },
                container_path: &v.container_path,
                host_path: v.host_path.as_deref(),
            }),
            source: d.source.as_ref().map(|s| {
                let root = || {
                    Some(RootJson {
                        root: s.root.clone(),
                    })
                };
                SourceOut {
                    kind: match s.kind {
                        DiskSourceType::Path => SourceTypeJson::Path,
                        DiskSourceType::Mount => SourceTypeJson::Mount,
                        DiskSourceType::Block => SourceTypeJson::Block,
                        DiskSourceType::Raw => SourceTypeJson::Raw,
                    },
                    path: (s.kind == DiskSourceType::Path).then(root).flatten(),
                    mount: (s.kind == DiskSourceType::Mount).then(root).flatten(),
                    id: s.id.as_deref(),
                    profile: s.profile.as_deref(),
                }
            }),
        }),
        revocable: r.revocable.then_some(Empty {}),
        shared: r.shared.then_some(Empty {}),
        provider_id: r.provider_id.as_deref().map(|value| IdOut { value }),
    }
}

// ---------------------------------------------------------------- other JSON formats

/// Which JSON shape to write resources in (Mesos's `ResourceFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceFormat {
    /// `reservations` stack only: for frameworks and agents with RESERVATION_REFINEMENT.
    /// This is what `Serialize` writes.
    PostRefinement,
    /// Legacy `role` (`"*"` when unreserved) and, for a dynamic reservation,
    /// `reservation {principal, labels}`; no `reservations`. For frameworks without
    /// RESERVATION_REFINEMENT. A refined (stacked) reservation cannot be expressed.
    PreRefinement,
    /// Both forms, for operator endpoints: `reservations` always, plus `role` and
    /// `reservation` when the resource has at most one reservation.
    Endpoint,
}

/// Writes resources as a JSON array in `format`; refuses (naming the resource) a refined
/// reservation in [`ResourceFormat::PreRefinement`].
pub(super) fn to_json_value(
    resources: &Resources,
    format: ResourceFormat,
) -> Result<serde_json::Value> {
    let mut out = Vec::with_capacity(resources.len());
    for r in resources.iter() {
        let mut value = serde_json::to_value(resource_to_json(r)).map_err(|e| Error::Json {
            message: e.to_string(),
        })?;
        let object = value
            .as_object_mut()
            .expect("a resource always serialises to a JSON object");
        if format != ResourceFormat::PostRefinement {
            match r.reservations.as_slice() {
                [] => {
                    object.insert("role".into(), DEFAULT_ROLE.into());
                }
                [only] => {
                    object.insert("role".into(), (*only.role).into());
                    if only.kind == ReservationType::Dynamic {
                        let mut reservation = serde_json::Map::new();
                        if let Some(p) = &only.principal {
                            reservation.insert("principal".into(), p.as_str().into());
                        }
                        if !only.labels.is_empty() {
                            reservation.insert(
                                "labels".into(),
                                serde_json::to_value(&only.labels).map_err(|e| Error::Json {
                                    message: e.to_string(),
                                })?,
                            );
                        }
                        object.insert("reservation".into(), reservation.into());
                    }
                }
                _ if format == ResourceFormat::PreRefinement => {
                    return Err(Error::Invalid {
                        what: format!("resource {r}"),
                        reason:
                            "refined reservations cannot be written in the pre-refinement format"
                                .into(),
                    })
                }
                _ => {}
            }
            if format == ResourceFormat::PreRefinement {
                object.remove("reservations");
            }
        }
        out.push(value);
    }
    Ok(serde_json::Value::Array(out))
}

// ---------------------------------------------------------------- binary mirror

/// Fixed-shape form for postcard: every field always present, no lenient parsing.
#[derive(Serialize, Deserialize)]
struct ResourceBin {
    name: String,
    value: ValueBin,
    reservations: Vec<ReservationBin>,
    allocation_role: Option<String>,
    disk: Option<DiskBin>,
    revocable: bool,
    shared: bool,
    provider_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
enum ValueBin {
    Scalar(i64),
    Ranges(Vec<(u64, u64)>),
    Set(Vec<String>),
}

#[derive(Serialize, Deserialize)]
struct ReservationBin {
    kind: ReservationTypeJson,
    role: String,
    principal: Option<String>,
    labels: Vec<(String, Option<String>)>,
}

/// Disk source: type, root, id, profile.
type SourceBin = (
    SourceTypeJson,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[derive(Serialize, Deserialize)]
struct DiskBin {
    persistence: Option<(String, Option<String>)>,
    volume: Option<(VolumeModeJson, String, Option<String>)>,
    source: Option<SourceBin>,
}

fn resource_to_bin(r: &Resource) -> ResourceBin {
    let json = resource_to_json(r);
    ResourceBin {
        name: r.name.to_string(),
        value: match &r.value {
            Value::Scalar(s) => ValueBin::Scalar(s.milli()),
            Value::Ranges(x) => {
                ValueBin::Ranges(x.as_slice().iter().map(|r| (r.begin, r.end)).collect())
            }
            Value::Set(x) => ValueBin::Set(x.items().iter().map(|i| i.to_string()).collect()),
        },
        reservations: json
            .reservations
            .iter()
            .zip(&r.reservations)
            .map(|(out, full)| ReservationBin {
                kind: out.kind,
                role: full.role.to_string(),
                principal: full.principal.clone(),
                labels: full.labels.to_pairs(),
            })
            .collect(),
        allocation_role: r.allocation_role.as_deref().map(str::to_string),
        disk: json.disk.map(|d| DiskBin {
            persistence: d
                .persistence
                .map(|p| (p.id.to_string(), p.principal.map(str::to_string))),
            volume: d.volume.map(|v| {
                (
                    v.mode,
                    v.container_path.to_string(),
                    v.host_path.map(str::to_string),
                )
            }),
            source: d.source.map(|s| {
                (
                    s.kind,
                    s.path.or(s.mount).and_then(|r| r.root),
                    s.id.map(str::to_string),
                    s.profile.map(str::to_string),
                )
            }),
        }),
        revocable: r.revocable,
        shared: r.shared,
        provider_id: r.provider_id.clone(),
    }
}

fn resource_from_bin(b: ResourceBin) -> Result<Resource> {
    let value = match b.value {
        ValueBin::Scalar(milli) => Value::Scalar(Scalar::from_milli(milli)),
        ValueBin::Ranges(pairs) => Value::Ranges(Ranges::from_pairs(pairs)?),
        ValueBin::Set(items) => Value::Set(Set::from_items(items)?),
    };
    let mut r = Resource::new(&b.name, value);
    r.reservations = b
        .reservations
        .into_iter()
        .map(|x| ReservationInfo {
            kind: match x.kind {
                ReservationTypeJson::Static => ReservationType::Static,
                ReservationTypeJson::Dynamic => ReservationType::Dynamic,
            },
            role: x.role.as_str().into(),
            principal: x.principal,
            labels: Labels::from_pairs(x.labels),
        })
        .collect();
    r.allocation_role = b.allocation_role.map(|s| s.as_str().into());
    r.disk = b.disk.map(|d| {
        Box::new(DiskInfo {
            persistence: d
                .persistence
                .map(|(id, principal)| Persistence { id, principal }),
            volume: d.volume.map(|(mode, container_path, host_path)| Volume {
                mode: match mode {
                    VolumeModeJson::Rw => VolumeMode::Rw,
                    VolumeModeJson::Ro => VolumeMode::Ro,
                },
                container_path,
                host_path,
            }),
            source: d.source.map(|(kind, root, id, profile)| DiskSource {
                kind: match kind {
                    SourceTypeJson::Path => DiskSourceType::Path,
                    SourceTypeJson::Mount => DiskSourceType::Mount,
                    SourceTypeJson::Block => DiskSourceType::Block,
                    SourceTypeJson::Raw => DiskSourceType::Raw,
                },
                root,
                id,
                profile,
            }),
        })
    });
    r.revocable = b.revocable;
    r.shared = b.shared;
    r.provider_id = b.provider_id;
    r.validate()?;
    Ok(r)
}

// ---------------------------------------------------------------- serde impls

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            resource_to_json(self).serialize(serializer)
        } else {
            resource_to_bin(self).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            resource_from_json(ResourceIn::deserialize(deserializer)?, DEFAULT_ROLE)
                .map_err(D::Error::custom)
        } else {
            resource_from_bin(ResourceBin::deserialize(deserializer)?).map_err(D::Error::custom)
        }
    }
}

impl Serialize for Resources {
    /// A sequence of resources (a JSON array in JSON).
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Resources {
    /// A sequence of resources, merged into canonical form; JSON `null` is empty.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let items: Option<Vec<Resource>> = Option::deserialize(deserializer)?;
            Ok(items.unwrap_or_default().into_iter().collect())
        } else {
            let items: Vec<Resource> = Vec::deserialize(deserializer)?;
            Ok(items.into_iter().collect())
        }
    }
}
