//! [`RoleControls`]: the role weights and quotas the operator sets (UPDATE_WEIGHTS,
//! UPDATE_QUOTA and the legacy `/weights` and `/quota`), as the master holds them between
//! registry writes, with Mesos's validation of each request and the JSON it answers with.
//! Pure: the shell (`role_calls.rs`) gathers the cluster's capacity and each role's
//! consumption, writes the checked change to the registry, and only then applies it here and
//! to the allocator.
//!
//! Invariants: every weight is finite and positive, and 1.0 is the default, stored as absent
//! (as the registry stores it); every quota has a valid, non-nested role other than `*`,
//! non-negative amounts in thousandths, guarantees within limits, and at least one amount.
//!
//! Amounts are in thousandths of a unit by resource name (`cpus: 1500` is 1.5 CPUs).

use std::collections::{BTreeMap, BTreeSet};

use meso_api::http::role_controls::{QuotaConfig, QuotaRequest, UpdateQuota, WeightInfo};
use meso_api::http::HttpError;
use meso_api::resources::{Scalar, Value as ResourceValue};
use meso_api::Resources;
use meso_registry::QuotaRecord;
use serde_json::{json, Value};

/// Scalar amounts (thousandths) by resource name.
pub type Amounts = BTreeMap<String, i64>;

/// Largest `mem` or `disk` amount in a quota (1 exabyte in MB, Mesos's bound).
const MAX_MEM_UNITS: f64 = 1024.0 * 1024.0 * 1024.0 * 1024.0;
/// Largest amount of any other resource in a quota (one trillion, Mesos's bound).
const MAX_OTHER_UNITS: f64 = 1e12;

/// The non-revocable scalar amounts of `r`, by name.
pub fn amounts_of(r: &Resources) -> Amounts {
    let mut out = Amounts::new();
    for item in r.non_revocable().iter() {
        if let ResourceValue::Scalar(s) = &item.value {
            *out.entry(item.name.to_string()).or_default() += s.milli();
        }
    }
    out
}

/// Adds `b` into `a`.
pub fn add_into(a: &mut Amounts, b: &Amounts) {
    for (name, v) in b {
        *a.entry(name.clone()).or_default() += v;
    }
}

/// True if `a` holds at least `b` of every name (names absent from `a` hold 0).
pub fn covers(a: &Amounts, b: &Amounts) -> bool {
    b.iter().all(|(n, v)| *v <= a.get(n).copied().unwrap_or(0))
}

/// True if `limits` allow `consumed` (names absent from `limits` are unlimited).
pub fn within_limits(limits: &Amounts, consumed: &Amounts) -> bool {
    consumed
        .iter()
        .all(|(n, v)| limits.get(n).is_none_or(|l| v <= l))
}

/// Amounts as Mesos prints `ResourceQuantities`: `cpus:1.5; mem:512`.
pub fn show(a: &Amounts) -> String {
    if a.is_empty() {
        return "{}".to_string();
    }
    a.iter()
        .map(|(n, v)| format!("{n}:{}", Scalar::from_milli(*v)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn as_units(milli: i64) -> f64 {
    Scalar::from_milli(milli).as_f64()
}

/// The allocator's form of a quota.
pub fn allocator_quota(q: &QuotaRecord) -> meso_allocator::Quota {
    let scalars = |a: &Amounts| {
        meso_allocator::Quantities(
            a.iter()
                .map(|(n, v)| (n.clone(), Scalar::from_milli(*v)))
                .collect(),
        )
    };
    meso_allocator::Quota {
        guarantees: scalars(&q.guarantees),
        limits: scalars(&q.limits),
    }
}

/// A valid role name that may hold quota: not nested (Mesos 1.11 refuses quota on nested
/// roles) and not `*` (meso's allocator keeps no quota for the default role).
fn check_quota_role(role: &str, what: &str) -> Result<(), HttpError> {
    meso_api::roles::validate_role(role)
        .map_err(|e| HttpError::bad_request(format!("{what}: Invalid role '{role}': {e}")))?;
    if role.contains('/') {
        return Err(HttpError::bad_request(format!(
            "{what}: Updating quota on nested role '{role}' is not supported yet"
        )));
    }
    if role == "*" {
        return Err(HttpError::bad_request(format!(
            "{what}: the default role '*' cannot have quota"
        )));
    }
    Ok(())
}

/// One amount of a quota, checked (finite, non-negative, within Mesos's bounds, a scalar
/// resource) and turned into thousandths.
fn check_amount(
    name: &str,
    value: f64,
    field: &str,
    non_scalar: &BTreeSet<String>,
) -> Result<i64, HttpError> {
    let bad = |why: String| {
        Err(HttpError::bad_request(format!(
            "Invalid QuotaConfig: Invalid '{field}' {{'{name}': {value}}}: {why}"
        )))
    };
    if name.is_empty() {
        return bad("the resource name is empty".to_string());
    }
    if name == "ports" || non_scalar.contains(name) {
        return bad("quota applies to scalar resources only".to_string());
    }
    let max = if name == "mem" || name == "disk" {
        MAX_MEM_UNITS
    } else {
        MAX_OTHER_UNITS
    };
    if value > max {
        return bad(format!("values greater than {max} are not supported"));
    }
    match Scalar::from_f64(value) {
        Ok(s) => Ok(s.milli()),
        Err(e) => bad(e.to_string()),
    }
}

/// What a role's quota looks like to the operator, and its amounts checked.
fn check_config(
    config: &QuotaConfig,
    non_scalar: &BTreeSet<String>,
) -> Result<QuotaRecord, HttpError> {
    if config.role.is_empty() {
        return Err(HttpError::bad_request(
            "Invalid QuotaConfig: 'QuotaConfig.role' must be set",
        ));
    }
    check_quota_role(&config.role, "Invalid QuotaConfig")?;
    let mut record = QuotaRecord::default();
    for (name, v) in &config.guarantees {
        let milli = check_amount(name, v.value, "QuotaConfig.guarantees", non_scalar)?;
        record.guarantees.insert(name.clone(), milli);
    }
    for (name, v) in &config.limits {
        let milli = check_amount(name, v.value, "QuotaConfig.limits", non_scalar)?;
        record.limits.insert(name.clone(), milli);
    }
    if !within_limits(&record.limits, &record.guarantees) {
        return Err(HttpError::bad_request(format!(
            "Invalid QuotaConfig: role '{}': 'QuotaConfig.guarantees' {} is not contained \
             within the 'QuotaConfig.limits' {}",
            config.role,
            show(&record.guarantees),
            show(&record.limits)
        )));
    }
    Ok(record)
}

/// True if `offer_role` is `role` or below it (`eng/web` is below `eng`).
fn in_subtree(offer_role: &str, role: &str) -> bool {
    offer_role == role
        || offer_role
            .strip_prefix(role)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Which outstanding offers to rescind after `role`'s quota became `quota`, as Mesos does
/// it: first the role's own offers while what it consumes plus what it is offered exceeds
/// its limits, then other roles' offers until what was rescinded plus what the role
/// consumes and is offered covers its guarantees. `offers` are (key, role, amounts) in the
/// order to consider them; keys in `taken` are skipped and the chosen ones added to it.
pub fn offers_to_rescind<K: Clone + Ord>(
    role: &str,
    quota: &QuotaRecord,
    consumed: &Amounts,
    offers: &[(K, String, Amounts)],
    taken: &mut BTreeSet<K>,
) -> Vec<K> {
    let mut out = Vec::new();
    let mut held = consumed.clone();
    for (_, r, a) in offers {
        if in_subtree(r, role) {
            add_into(&mut held, a);
        }
    }
    for (key, r, a) in offers {
        if within_limits(&quota.limits, &held) {
            break;
        }
        if !in_subtree(r, role) || taken.contains(key) {
            continue;
        }
        for (n, v) in a {
            *held.entry(n.clone()).or_default() -= v;
        }
        taken.insert(key.clone());
        out.push(key.clone());
    }
    let mut rescinded = held;
    for (key, r, a) in offers {
        if covers(&rescinded, &quota.guarantees) {
            break;
        }
        if in_subtree(r, role) || taken.contains(key) {
            continue;
        }
        add_into(&mut rescinded, a);
        taken.insert(key.clone());
        out.push(key.clone());
    }
    out
}

/// Parses the deprecated `--weights` master flag, `role=weight,role=weight` (Mesos's form):
/// every role valid, every weight finite and positive; the error names the bad pair.
pub fn parse_weights_flag(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((role, weight)) = pair.split_once('=') else {
            return Err(format!("'{pair}' is not of the form role=weight"));
        };
        let role = role.trim();
        meso_api::roles::validate_role(role)
            .map_err(|e| format!("'{pair}': invalid role '{role}': {e}"))?;
        let weight: f64 = weight
            .trim()
            .parse()
            .map_err(|_| format!("'{pair}': weight '{}' is not a number", weight.trim()))?;
        if !weight.is_finite() || weight <= 0.0 {
            return Err(format!("'{pair}': weights must be positive"));
        }
        out.insert(role.to_string(), weight);
    }
    Ok(out)
}

/// The operator's weights and quotas. See the module docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleControls {
    /// Weights other than 1.0, by role.
    pub weights: BTreeMap<String, f64>,
    /// Quotas, by role.
    pub quotas: BTreeMap<String, QuotaRecord>,
}

impl RoleControls {
    /// A role's weight (1.0 unless set).
    pub fn weight(&self, role: &str) -> f64 {
        self.weights.get(role).copied().unwrap_or(1.0)
    }

    /// Checks UPDATE_WEIGHTS's (or `PUT /weights`'s) weight infos as Mesos does (each role
    /// a valid name once trimmed, each weight positive and finite) and returns the weights
    /// to write; the whole request is refused on the first bad entry.
    pub fn check_weights(infos: &[WeightInfo]) -> Result<BTreeMap<String, f64>, HttpError> {
        let mut out = BTreeMap::new();
        for info in infos {
            let role = info.role.trim();
            meso_api::roles::validate_role(role).map_err(|e| {
                HttpError::bad_request(format!(
                    "Failed to validate update weights request JSON: Invalid role '{role}': {e}"
                ))
            })?;
            if !info.weight.is_finite() || info.weight <= 0.0 {
                return Err(HttpError::bad_request(format!(
                    "Failed to validate update weights request JSON for role '{role}': \
                     Invalid weight '{}': Weights must be positive",
                    info.weight
                )));
            }
            out.insert(role.to_string(), info.weight);
        }
        Ok(out)
    }

    /// Applies written weights (1.0 goes back to the default).
    pub fn apply_weights(&mut self, weights: &BTreeMap<String, f64>) {
        for (role, w) in weights {
            if *w == 1.0 {
                self.weights.remove(role);
            } else {
                self.weights.insert(role.clone(), *w);
            }
        }
    }

    /// Applies written quotas (an empty one removes the role's).
    pub fn apply_quotas(&mut self, quotas: &BTreeMap<String, QuotaRecord>) {
        for (role, q) in quotas {
            if q.guarantees.is_empty() && q.limits.is_empty() {
                self.quotas.remove(role);
            } else {
                self.quotas.insert(role.clone(), q.clone());
            }
        }
    }

    /// The sum of the guarantees with `changes` applied.
    fn total_guarantees(&self, changes: &BTreeMap<String, QuotaRecord>) -> Amounts {
        let mut total = Amounts::new();
        for (role, q) in &self.quotas {
            if !changes.contains_key(role) {
                add_into(&mut total, &q.guarantees);
            }
        }
        for q in changes.values() {
            add_into(&mut total, &q.guarantees);
        }
        total
    }

    /// Checks UPDATE_QUOTA as Mesos 1.9+ does: every config valid (else 400); unless
    /// `force`, no role's new limits below what it already consumes, and the sum of all
    /// guarantees within the cluster's `capacity` (each refusal a 400 naming the role or
    /// the totals). `consumed` gives a role's quota consumption (reservations plus
    /// unreserved allocations); `non_scalar` names resources that are not scalars on any
    /// agent. Returns the quotas to write, all or nothing.
    pub fn check_update_quota(
        &self,
        update: &UpdateQuota,
        consumed: impl Fn(&str) -> Amounts,
        capacity: &Amounts,
        non_scalar: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, QuotaRecord>, HttpError> {
        let force = update.force.unwrap_or(false);
        let mut changes = BTreeMap::new();
        for config in &update.quota_configs {
            let record = check_config(config, non_scalar)?;
            if changes.insert(config.role.clone(), record).is_some() {
                return Err(HttpError::bad_request(format!(
                    "Invalid QuotaConfig: role '{}' appears more than once",
                    config.role
                )));
            }
        }
        if force {
            return Ok(changes);
        }
        for (role, q) in &changes {
            let used = consumed(role);
            if !within_limits(&q.limits, &used) {
                return Err(HttpError::bad_request(format!(
                    "Invalid QuotaConfig: Role '{role}' is already consuming '{}'; this is \
                     more than the requested limits '{}' (use 'force' flag to bypass this check)",
                    show(&used),
                    show(&q.limits)
                )));
            }
        }
        let total = self.total_guarantees(&changes);
        if !covers(capacity, &total) {
            return Err(HttpError::bad_request(format!(
                "Invalid QuotaConfig: total quota guarantees '{}' exceed cluster capacity '{}' \
                 (use 'force' flag to bypass this check)",
                show(&total),
                show(capacity)
            )));
        }
        Ok(changes)
    }

    /// Checks the deprecated SET_QUOTA / `POST /quota`: a valid role without quota (400),
    /// a non-empty guarantee of unreserved, non-revocable scalars given once each (400);
    /// unless `force`, the guarantees fit `capacity` (409, Mesos's capacity heuristic).
    /// The guarantee also becomes the limit, as Mesos 1.9+ does. Returns the role and quota.
    pub fn check_set_quota(
        &self,
        request: &QuotaRequest,
        capacity: &Amounts,
    ) -> Result<(String, QuotaRecord), HttpError> {
        let bad = |why: String| {
            Err(HttpError::bad_request(format!(
                "Failed to validate set quota request: {why}"
            )))
        };
        let role = request.role.as_str();
        if role.is_empty() {
            return bad("QuotaInfo must specify a role".to_string());
        }
        check_quota_role(role, "Failed to validate set quota request")?;
        if request.guarantee.is_empty() {
            return bad("QuotaInfo with empty 'guarantee'".to_string());
        }
        let mut amounts = Amounts::new();
        for r in request.guarantee.iter() {
            if !r.reservations.is_empty() {
                return bad("QuotaInfo must not contain any ReservationInfo".to_string());
            }
            if r.disk.is_some() {
                return bad("QuotaInfo must not contain DiskInfo".to_string());
            }
            if r.revocable {
                return bad("QuotaInfo must not contain RevocableInfo".to_string());
            }
            let ResourceValue::Scalar(s) = &r.value else {
                return bad("QuotaInfo must not include non-scalar resources".to_string());
            };
            if amounts.insert(r.name.to_string(), s.milli()).is_some() {
                return bad(format!(
                    "QuotaInfo contains duplicate resource name '{}'",
                    r.name
                ));
            }
        }
        if self.quotas.contains_key(role) {
            return bad(format!(
                "Cannot set quota for role '{role}' which already has quota"
            ));
        }
        let record = QuotaRecord {
            guarantees: amounts.clone(),
            limits: amounts,
        };
        if !request.force.unwrap_or(false) {
            let total =
                self.total_guarantees(&BTreeMap::from([(role.to_string(), record.clone())]));
            if !covers(capacity, &total) {
                return Err(HttpError::new(
                    409,
                    format!(
                        "Quota guarantees overcommit the cluster (use 'force' to bypass this \
                         check): Total quota guarantees '{}' exceed cluster capacity '{}'",
                        show(&total),
                        show(capacity)
                    ),
                ));
            }
        }
        Ok((role.to_string(), record))
    }

    /// Checks the deprecated REMOVE_QUOTA / `DELETE /quota/<role>`: the role must be valid
    /// and have quota (400).
    pub fn check_remove_quota(&self, role: &str) -> Result<(), HttpError> {
        meso_api::roles::validate_role(role).map_err(|e| {
            HttpError::bad_request(format!(
                "Failed to validate remove quota request: Unknown role '{role}': {e}"
            ))
        })?;
        if !self.quotas.contains_key(role) {
            return Err(HttpError::bad_request(format!(
                "Failed to remove quota: Role '{role}' has no quota set"
            )));
        }
        Ok(())
    }

    /// The weights as `[{"role": .., "weight": ..}]` (GET_WEIGHTS's `weight_infos` and the
    /// legacy `GET /weights` body).
    pub fn weight_infos(&self) -> Value {
        self.weights
            .iter()
            .map(|(role, weight)| json!({"role": role, "weight": weight}))
            .collect()
    }

    /// `quota.QuotaStatus` (GET_QUOTA's `status` and the legacy `GET /quota` body): the
    /// deprecated `infos` (role and guarantees as resources) and the `configs`.
    pub fn quota_status(&self) -> Value {
        let scalars = |a: &Amounts| -> Value {
            a.iter()
                .map(|(n, v)| (n.clone(), json!({"value": as_units(*v)})))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let infos: Vec<Value> = self
            .quotas
            .iter()
            .map(|(role, q)| {
                json!({
                    "role": role,
                    "guarantee": q.guarantees.iter().map(|(n, v)| json!({
                        "name": n, "type": "SCALAR", "scalar": {"value": as_units(*v)},
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let configs: Vec<Value> = self
            .quotas
            .iter()
            .map(|(role, q)| {
                let mut c = json!({"role": role});
                if !q.guarantees.is_empty() {
                    c["guarantees"] = scalars(&q.guarantees);
                }
                if !q.limits.is_empty() {
                    c["limits"] = scalars(&q.limits);
                }
                c
            })
            .collect();
        let mut status = json!({});
        if !infos.is_empty() {
            status["infos"] = infos.into();
            status["configs"] = configs.into();
        }
        status
    }

    /// A role's quota as `/master/roles` shows it: `{"role", "guarantee", "limit",
    /// "consumed"}` with amounts in units by name.
    pub fn roles_quota(&self, role: &str, consumed: &Amounts) -> Value {
        let units = |a: &Amounts| -> Value {
            a.iter()
                .map(|(n, v)| (n.clone(), json!(as_units(*v))))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let empty = QuotaRecord::default();
        let q = self.quotas.get(role).unwrap_or(&empty);
        json!({
            "role": role,
            "guarantee": units(&q.guarantees),
            "limit": units(&q.limits),
            "consumed": units(consumed),
        })
    }

    /// The quota gauges by Mesos name:
    /// `allocator/mesos/quota/roles/<role>/resources/<name>/guarantee` and `/limit`.
    pub fn quota_metrics(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (role, q) in &self.quotas {
            let prefix = format!("allocator/mesos/quota/roles/{role}/resources");
            for (name, v) in &q.guarantees {
                out.insert(format!("{prefix}/{name}/guarantee"), as_units(*v));
            }
            for (name, v) in &q.limits {
                out.insert(format!("{prefix}/{name}/limit"), as_units(*v));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
